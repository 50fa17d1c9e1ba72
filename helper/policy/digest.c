/* SHA-256 through libcrypto; in the program it lives in module cstoken-digest (module.h). */
#include <openssl/evp.h>

#include "digest.h"

int cst_sha256(const void *data, size_t len, unsigned char out[CST_SHA256_LEN], struct cst_error *e)
{
	unsigned int n = 0;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != CST_SHA256_LEN)
		return cst_error_set(e, CST_ERR_SYSTEM, "cannot compute a SHA-256 digest");
	return 0;
}

const struct cst_digest_module cst_digest_module = {
    .head = CST_MODULE_HEAD(struct cst_digest_module, cst_module_adopt),
    .sha256 = cst_sha256,
};
