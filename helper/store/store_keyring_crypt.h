/*
 * The read path's encrypted session with the Secret Service (store_keyring_dbus.c),
 * "dh-ietf1024-sha256-aes128-cbc-pkcs7" (the freedesktop.org Secret Service API, "Transfer
 * of Secrets"): a Diffie-Hellman exchange in
 * the 1024-bit MODP group of RFC 2409, the shared secret through HKDF-SHA256 (RFC 5869; no
 * salt, no info) into an AES-128 key, and each secret sent AES-128-CBC with PKCS#7 padding
 * under an IV of its own. The arithmetic, HMAC and AES are libgcrypt's, the library
 * libsecret uses for the same session.
 */
#ifndef CSTOKEN_STORE_KEYRING_CRYPT_H
#define CSTOKEN_STORE_KEYRING_CRYPT_H

#include <stddef.h>

#include "cstoken/error.h"

#define CST_SS_ALGORITHM "dh-ietf1024-sha256-aes128-cbc-pkcs7"
#define CST_SS_KEY_LEN 16
#define CST_SS_IV_LEN 16

#pragma GCC visibility push(hidden)

struct cst_ss_dh;

/*
 * A fresh key pair. *pub (big-endian, *pub_len bytes; freed by the caller) is what
 * OpenSession takes; the private half stays in *out until cst_ss_dh_free wipes it.
 */
int cst_ss_dh_new(struct cst_ss_dh **out, unsigned char **pub, size_t *pub_len,
		  struct cst_error *e);

/*
 * The session key from the service's public key (OpenSession's output). CST_ERR_STORE
 * when that key is not a valid group element.
 */
int cst_ss_dh_derive(struct cst_ss_dh *dh, const unsigned char *peer, size_t peer_len,
		     unsigned char key[CST_SS_KEY_LEN], struct cst_error *e);

void cst_ss_dh_free(struct cst_ss_dh *dh);

/*
 * Decrypts one secret sent under key: *out (NUL-terminated, *out_len bytes before the NUL)
 * is the caller's to wipe and free (freezero(*out, *out_len + 1)). CST_ERR_STORE when it
 * does not decrypt.
 */
int cst_ss_decrypt(const unsigned char key[CST_SS_KEY_LEN], const unsigned char *iv, size_t iv_len,
		   const unsigned char *data, size_t len, char **out, size_t *out_len,
		   struct cst_error *e);

#pragma GCC visibility pop

#endif
