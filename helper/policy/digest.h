/* Message digests: the older scope fingerprint, a SHA-256 (never for secrets' protection). */
#ifndef CSTOKEN_DIGEST_H
#define CSTOKEN_DIGEST_H

#include <stddef.h>

#include "cstoken/error.h"
#include "module.h"

#define CST_SHA256_LEN 32

/* SHA-256 of data into out; 0, or CST_ERR_SYSTEM with e set. */
int cst_sha256(const void *data, size_t len, unsigned char out[CST_SHA256_LEN],
	       struct cst_error *e);

/* The digest as module cstoken-digest exports it (cst_digest_module); lazy.c reaches it. */
struct cst_digest_module {
	struct cst_module_head head;
	int (*sha256)(const void *data, size_t len, unsigned char out[CST_SHA256_LEN],
		      struct cst_error *e);
};

#endif
