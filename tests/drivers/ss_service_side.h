/*
 * The service's side of the Secret Service's encrypted session, done with OpenSSL: an
 * implementation independent of cstoken's (libgcrypt), for test_store_keyring_crypt and the fake
 * provider. Header-only, so each test binary compiles its own copy.
 */
#ifndef CSTOKEN_TEST_SS_SERVICE_SIDE_H
#define CSTOKEN_TEST_SS_SERVICE_SIDE_H

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * From the client's public key: the service's public key (pub, 128 bytes of room; its
 * length in *pub_len) and the session's 16-byte AES key. False if OpenSSL failed.
 */
static inline bool ss_service_side(const unsigned char *client, size_t client_len,
				   unsigned char pub[128], size_t *pub_len, unsigned char key[16])
{
	BIGNUM *p = BN_get_rfc2409_prime_1024(NULL), *g = BN_new(), *b = BN_new(), *B = BN_new();
	BIGNUM *A = BN_bin2bn(client, (int)client_len, NULL), *k = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	EVP_PKEY_CTX *kdf = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	unsigned char shared[128];
	size_t klen = 16;
	bool ok;

	/* the shared secret, padded to the prime's length, through HKDF-SHA256 */
	ok = p && g && b && B && A && k && ctx && kdf && BN_set_word(g, 2) && BN_rand_range(b, p) &&
	     BN_mod_exp(B, g, b, p, ctx) && BN_mod_exp(k, A, b, p, ctx) &&
	     BN_bn2binpad(k, shared, sizeof(shared)) == (int)sizeof(shared) &&
	     EVP_PKEY_derive_init(kdf) == 1 && EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_key(kdf, shared, sizeof(shared)) == 1 &&
	     EVP_PKEY_derive(kdf, key, &klen) == 1 && klen == 16;
	if (ok)
		*pub_len = (size_t)BN_bn2bin(B, pub);
	EVP_PKEY_CTX_free(kdf);
	BN_CTX_free(ctx);
	BN_free(p);
	BN_free(g);
	BN_free(b);
	BN_free(B);
	BN_free(A);
	BN_free(k);
	return ok;
}

#endif
