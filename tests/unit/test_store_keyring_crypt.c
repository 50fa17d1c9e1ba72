/*
 * The Secret Service session's crypto (helper/store/store_keyring_crypt.c, on libgcrypt) against an
 * independent implementation of the same algorithm: OpenSSL's RFC 2409 prime, bignums,
 * HKDF and AES play the service's side. Interoperability with a real service is proven by
 * the keyring tests (credential.t0303_keyring, store_secret.keyring), which read every
 * secret this way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cstoken/util.h"
#include "ss_service_side.h"
#include "store_keyring_crypt.h"

static void test_exchange_agrees_with_openssl(void **state)
{
	struct cst_error err = CST_ERROR_INIT;
	int round;

	(void)state;
	for (round = 0; round < 8; round++) {
		struct cst_ss_dh *dh = NULL;
		unsigned char *pub = NULL, spub[128];
		unsigned char key[CST_SS_KEY_LEN], skey[CST_SS_KEY_LEN];
		size_t len = 0, slen = 0;

		assert_int_equal(cst_ss_dh_new(&dh, &pub, &len, &err), 0);
		assert_true(len > 0 && len <= 128);
		assert_true(ss_service_side(pub, len, spub, &slen, skey));
		assert_int_equal(cst_ss_dh_derive(dh, spub, slen, key, &err), 0);
		assert_memory_equal(key, skey, sizeof(key));
		cst_ss_dh_free(dh);
		free(pub);
	}
}

static void test_rejects_invalid_service_keys(void **state)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cst_ss_dh *dh = NULL;
	BIGNUM *p = BN_get_rfc2409_prime_1024(NULL), *v = BN_new();
	unsigned char *pub = NULL, buf[129], key[CST_SS_KEY_LEN], key2[CST_SS_KEY_LEN];
	size_t len = 0;
	const unsigned char zero = 0, one = 1;

	(void)state;
	assert_int_equal(cst_ss_dh_new(&dh, &pub, &len, &err), 0);
	assert_int_equal(cst_ss_dh_derive(dh, &zero, 1, key, &err), CST_ERR_STORE);
	assert_int_equal(cst_ss_dh_derive(dh, &one, 1, key, &err), CST_ERR_STORE);
	assert_int_equal(cst_ss_dh_derive(dh, &one, 0, key, &err), CST_ERR_STORE);
	/* p - 1, p and p + 1 */
	assert_non_null(BN_copy(v, p));
	assert_int_equal(BN_sub_word(v, 1), 1);
	BN_bn2binpad(v, buf, 128);
	assert_int_equal(cst_ss_dh_derive(dh, buf, 128, key, &err), CST_ERR_STORE);
	BN_bn2binpad(p, buf, 128);
	assert_int_equal(cst_ss_dh_derive(dh, buf, 128, key, &err), CST_ERR_STORE);
	assert_int_equal(BN_add_word(v, 2), 1);
	BN_bn2binpad(v, buf, 128);
	assert_int_equal(cst_ss_dh_derive(dh, buf, 128, key, &err), CST_ERR_STORE);
	/* longer than the group */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(cst_ss_dh_derive(dh, buf, sizeof(buf), key, &err), CST_ERR_STORE);
	/* 2 is a valid key, leading zeros or not */
	memset(buf, 0, sizeof(buf));
	buf[128] = 2;
	assert_int_equal(cst_ss_dh_derive(dh, &buf[128], 1, key, &err), 0);
	assert_int_equal(cst_ss_dh_derive(dh, buf, sizeof(buf), key2, &err), 0);
	assert_memory_equal(key, key2, sizeof(key));
	/* and 0 is not, leading zeros or not */
	assert_int_equal(cst_ss_dh_derive(dh, buf, 128, key, &err), CST_ERR_STORE);
	cst_ss_dh_free(dh);
	free(pub);
	BN_free(p);
	BN_free(v);
}

/* data encrypted under key and iv; PKCS#7 padding unless raw (then len is whole blocks). */
static size_t encrypt(const unsigned char *key, const unsigned char *iv, const void *data,
		      size_t len, bool raw, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;

	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv), 1);
	EVP_CIPHER_CTX_set_padding(ctx, !raw);
	assert_int_equal(EVP_EncryptUpdate(ctx, out, &n1, data, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, out + n1, &n2), 1);
	EVP_CIPHER_CTX_free(ctx);
	return (size_t)(n1 + n2);
}

static void test_decrypts_what_openssl_encrypts(void **state)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 100};
	struct cst_error err = CST_ERROR_INIT;
	unsigned char key[CST_SS_KEY_LEN], iv[CST_SS_IV_LEN], plain[100], ct[160];
	size_t i, n, out_len;
	char *out;

	(void)state;
	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	assert_int_equal(RAND_bytes(iv, sizeof(iv)), 1);
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (unsigned char)('a' + i % 26);
	plain[7] = 0xc3; /* not ASCII */
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = encrypt(key, iv, plain, lens[i], false, ct);
		out = NULL;
		assert_int_equal(cst_ss_decrypt(key, iv, sizeof(iv), ct, n, &out, &out_len, &err),
				 0);
		assert_int_equal(out_len, lens[i]);
		assert_memory_equal(out, plain, lens[i]);
		assert_int_equal(out[out_len], '\0');
		freezero(out, out_len + 1);
	}
}

static void test_refuses_what_does_not_decrypt(void **state)
{
	struct cst_error err = CST_ERROR_INIT;
	unsigned char key[CST_SS_KEY_LEN] = {1}, iv[CST_SS_IV_LEN] = {2}, block[32], ct[48];
	size_t n, out_len = 99;
	char *out = NULL;

	(void)state;
	n = encrypt(key, iv, "secret", 6, false, ct);
	/* the IV's length, partial blocks, nothing at all */
	assert_int_equal(cst_ss_decrypt(key, iv, 8, ct, n, &out, &out_len, &err), CST_ERR_STORE);
	assert_int_equal(cst_ss_decrypt(key, iv, sizeof(iv), ct, n - 1, &out, &out_len, &err),
			 CST_ERR_STORE);
	assert_int_equal(cst_ss_decrypt(key, iv, sizeof(iv), ct, 0, &out, &out_len, &err),
			 CST_ERR_STORE);
	/* padding bytes of 0, of 17, and of unequal values */
	memset(block, 'x', sizeof(block));
	block[15] = 0;
	n = encrypt(key, iv, block, 16, true, ct);
	assert_int_equal(cst_ss_decrypt(key, iv, sizeof(iv), ct, n, &out, &out_len, &err),
			 CST_ERR_STORE);
	block[15] = 17;
	n = encrypt(key, iv, block, 16, true, ct);
	assert_int_equal(cst_ss_decrypt(key, iv, sizeof(iv), ct, n, &out, &out_len, &err),
			 CST_ERR_STORE);
	block[31] = 3;
	block[30] = 3;
	block[29] = 2;
	n = encrypt(key, iv, block, 32, true, ct);
	assert_int_equal(cst_ss_decrypt(key, iv, sizeof(iv), ct, n, &out, &out_len, &err),
			 CST_ERR_STORE);
	assert_null(out);
	assert_int_equal(out_len, 0);
	/* a whole block of padding is fine */
	memset(block + 16, 16, 16);
	n = encrypt(key, iv, block, 32, true, ct);
	assert_int_equal(cst_ss_decrypt(key, iv, sizeof(iv), ct, n, &out, &out_len, &err), 0);
	assert_int_equal(out_len, 16);
	freezero(out, out_len + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exchange_agrees_with_openssl),
	    cmocka_unit_test(test_rejects_invalid_service_keys),
	    cmocka_unit_test(test_decrypts_what_openssl_encrypts),
	    cmocka_unit_test(test_refuses_what_does_not_decrypt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
