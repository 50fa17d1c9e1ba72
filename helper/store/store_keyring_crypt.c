/*
 * The encrypted session's crypto (store_keyring_crypt.h) on libgcrypt: its multi-precision
 * arithmetic for the exchange, its HMAC-SHA256 for HKDF's two steps, its AES. libgcrypt
 * is what libsecret itself uses here; Debian's libdbus-1 already maps it (through
 * libsystemd), so a keyring hit loads no further library. Every intermediate (private
 * exponent, shared secret, derived keys, plaintext) is wiped.
 */
#include <errno.h>
#include <gcrypt.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "cstoken/util.h"
#include "store_keyring_crypt.h"

#define GROUP_BYTES 128 /* the 1024-bit prime */
#define PRIV_BYTES 32	/* the private exponent */
#define SHA256_LEN 32
#define AES_BLOCK 16

/* RFC 2409, 6.2: the Second Oakley Group's prime; the generator is 2. */
static const char group_prime[] = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
				  "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
				  "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
				  "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
				  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381"
				  "FFFFFFFFFFFFFFFF";

struct cst_ss_dh {
	gcry_mpi_t p; /* the group's prime */
	gcry_mpi_t priv;
};

static int gcry_failed(struct cst_error *e, const char *what, gcry_error_t err)
{
	return cst_error_set(e, CST_ERR_SYSTEM, "libgcrypt: %s failed: %s", what,
			     gcry_strerror(err));
}

/*
 * libgcrypt wants one initialisation per process. Its secure memory is not used: the
 * process keeps secrets out of core dumps and swap-visible places by its own means
 * (secure_process) and wipes them; libgcrypt wipes the limbs of every number it frees.
 */
static int gcrypt_init(struct cst_error *e)
{
	if (!gcry_check_version(GCRYPT_VERSION))
		return cst_error_set(e, CST_ERR_SYSTEM, "libgcrypt %s or later is needed, not %s",
				     GCRYPT_VERSION, gcry_check_version(NULL));
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
	return 0;
}

static int group(gcry_mpi_t *p, struct cst_error *e)
{
	gcry_error_t err = gcry_mpi_scan(p, GCRYMPI_FMT_HEX, group_prime, 0, NULL);

	return err ? gcry_failed(e, "reading the group", err) : 0;
}

/* n random bytes from the kernel. */
static int random_bytes(unsigned char *buf, size_t n, struct cst_error *e)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cst_error_errno(e, CST_ERR_SYSTEM, "getrandom");
		got += (size_t)r;
	}
	return 0;
}

void cst_ss_dh_free(struct cst_ss_dh *dh)
{
	if (!dh)
		return;
	gcry_mpi_release(dh->p);
	gcry_mpi_release(dh->priv);
	free(dh);
}

int cst_ss_dh_new(struct cst_ss_dh **out, unsigned char **pub, size_t *pub_len, struct cst_error *e)
{
	struct cst_ss_dh *dh = NULL;
	gcry_mpi_t g = NULL, y = NULL;
	unsigned char bytes[PRIV_BYTES], *buf = NULL;
	gcry_error_t err;
	int ret;

	*out = NULL;
	*pub = NULL;
	*pub_len = 0;
	ret = gcrypt_init(e);
	if (ret)
		return ret;
	dh = xcalloc(1, sizeof(*dh));
	ret = group(&dh->p, e);
	if (ret)
		goto out;
	/*
	 * An exponent of 256 random bits, never 0 or 1: far beyond twice the group's strength
	 * (about 80 bits), the short exponent RFC 7919 (5.2) allows in a safe-prime group, as
	 * OpenSSL uses for its own; a full-length one would cost each of the two modular
	 * exponentiations four times as much, which is most of a keyring hit.
	 */
	do {
		gcry_mpi_release(dh->priv);
		dh->priv = NULL;
		ret = random_bytes(bytes, sizeof(bytes), e);
		if (ret)
			goto out;
		err = gcry_mpi_scan(&dh->priv, GCRYMPI_FMT_USG, bytes, sizeof(bytes), NULL);
		if (err) {
			ret = gcry_failed(e, "drawing a private key", err);
			goto out;
		}
	} while (gcry_mpi_cmp_ui(dh->priv, 1) <= 0);
	g = gcry_mpi_set_ui(NULL, 2);
	y = gcry_mpi_new(GROUP_BYTES * 8);
	gcry_mpi_powm(y, g, dh->priv, dh->p);
	err = gcry_mpi_aprint(GCRYMPI_FMT_USG, &buf, pub_len, y);
	if (err) {
		ret = gcry_failed(e, "writing the public key", err);
		goto out;
	}
	/* the caller frees with free(), libgcrypt's buffer wants gcry_free() */
	*pub = xmalloc(*pub_len ? *pub_len : 1);
	memcpy(*pub, buf, *pub_len);
	gcry_free(buf);
	*out = dh;
	dh = NULL;
out:
	explicit_bzero(bytes, sizeof(bytes));
	cst_ss_dh_free(dh);
	gcry_mpi_release(g);
	gcry_mpi_release(y);
	return ret;
}

/* HMAC-SHA256 of data under key into out. */
static int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		       unsigned char out[SHA256_LEN], struct cst_error *e)
{
	gcry_mac_hd_t h = NULL;
	size_t n = SHA256_LEN;
	gcry_error_t err;

	err = gcry_mac_open(&h, GCRY_MAC_HMAC_SHA256, 0, NULL);
	if (!err)
		err = gcry_mac_setkey(h, key, key_len);
	if (!err)
		err = gcry_mac_write(h, data, len);
	if (!err)
		err = gcry_mac_read(h, out, &n);
	gcry_mac_close(h); /* wipes its state */
	return err || n != SHA256_LEN ? gcry_failed(e, "HMAC-SHA256", err) : 0;
}

/*
 * HKDF-SHA256 (RFC 5869) of ikm with no salt (a hash-length of zeros) and no info, the
 * first CST_SS_KEY_LEN bytes: one block of the expansion is enough.
 */
static int hkdf(const unsigned char *ikm, size_t len, unsigned char key[CST_SS_KEY_LEN],
		struct cst_error *e)
{
	static const unsigned char salt[SHA256_LEN], first = 0x01;
	unsigned char prk[SHA256_LEN], okm[SHA256_LEN];
	int ret;

	ret = hmac_sha256(salt, sizeof(salt), ikm, len, prk, e);
	if (!ret)
		ret = hmac_sha256(prk, sizeof(prk), &first, 1, okm, e);
	if (!ret)
		memcpy(key, okm, CST_SS_KEY_LEN);
	explicit_bzero(prk, sizeof(prk));
	explicit_bzero(okm, sizeof(okm));
	return ret;
}

int cst_ss_dh_derive(struct cst_ss_dh *dh, const unsigned char *peer, size_t peer_len,
		     unsigned char key[CST_SS_KEY_LEN], struct cst_error *e)
{
	gcry_mpi_t pm1 = NULL, y = NULL, k = NULL;
	unsigned char shared[GROUP_BYTES];
	size_t n = 0;
	gcry_error_t err;
	int ret;

	pm1 = gcry_mpi_new(GROUP_BYTES * 8);
	gcry_mpi_sub_ui(pm1, dh->p, 1);
	/* leading zeros say nothing (a signed encoding has one) */
	while (peer_len > 1 && !*peer) {
		peer++;
		peer_len--;
	}
	/* the service's key must lie in 2 .. p - 2, or the shared secret is guessable */
	if (!peer_len || peer_len > GROUP_BYTES ||
	    gcry_mpi_scan(&y, GCRYMPI_FMT_USG, peer, peer_len, NULL) ||
	    gcry_mpi_cmp_ui(y, 1) <= 0 || gcry_mpi_cmp(y, pm1) >= 0) {
		ret = cst_error_set(e, CST_ERR_STORE,
				    "the Secret Service sent an invalid session key");
		goto out;
	}
	k = gcry_mpi_snew(GROUP_BYTES * 8);
	gcry_mpi_powm(k, y, dh->priv, dh->p);
	/* big-endian, padded on the left to the prime's length */
	err = gcry_mpi_print(GCRYMPI_FMT_USG, shared, sizeof(shared), &n, k);
	if (err) {
		ret = gcry_failed(e, "writing the shared secret", err);
		goto out;
	}
	memmove(shared + sizeof(shared) - n, shared, n);
	memset(shared, 0, sizeof(shared) - n);
	ret = hkdf(shared, sizeof(shared), key, e);
out:
	explicit_bzero(shared, sizeof(shared));
	gcry_mpi_release(k);
	gcry_mpi_release(y);
	gcry_mpi_release(pm1);
	return ret;
}

int cst_ss_decrypt(const unsigned char key[CST_SS_KEY_LEN], const unsigned char *iv, size_t iv_len,
		   const unsigned char *data, size_t len, char **out, size_t *out_len,
		   struct cst_error *e)
{
	gcry_cipher_hd_t h = NULL;
	unsigned char *buf = NULL, pad, bad = 0;
	gcry_error_t err;
	size_t i;
	int ret = 0;

	*out = NULL;
	*out_len = 0;
	/* whole blocks, at least one (the padding) */
	if (iv_len != CST_SS_IV_LEN || !len || len % AES_BLOCK || len > SIZE_MAX / 2)
		return cst_error_set(e, CST_ERR_STORE,
				     "the Secret Service sent a secret that does not decrypt");
	ret = gcrypt_init(e);
	if (ret)
		return ret;
	buf = xmalloc(len + 1);
	err = gcry_cipher_open(&h, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CBC, 0);
	if (!err)
		err = gcry_cipher_setkey(h, key, CST_SS_KEY_LEN);
	if (!err)
		err = gcry_cipher_setiv(h, iv, iv_len);
	if (!err)
		err = gcry_cipher_decrypt(h, buf, len, data, len);
	gcry_cipher_close(h); /* wipes the key schedule */
	if (err) {
		ret = gcry_failed(e, "AES-128-CBC", err);
		goto out;
	}
	/* PKCS#7: 1 to 16 bytes, each holding their count */
	pad = buf[len - 1];
	if (pad < 1 || pad > AES_BLOCK)
		bad = 1;
	for (i = 0; !bad && i < pad; i++)
		bad |= buf[len - 1 - i] ^ pad;
	if (bad) {
		ret = cst_error_set(e, CST_ERR_STORE,
				    "the Secret Service sent a secret that does not decrypt");
		goto out;
	}
	*out_len = len - pad;
	explicit_bzero(buf + *out_len, pad);
	buf[*out_len] = '\0';
	*out = (char *)buf;
	buf = NULL;
out:
	freezero(buf, len + 1);
	return ret;
}
