/* RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits) for Contentstack's two-factor login. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "cstoken/cma.h"
#include "cstoken/util.h"

#define TOTP_STEP 30
/* A TOTP secret is 10 to 64 bytes; anything far longer is not one. */
#define TOTP_MAX_SECRET 1024

static int base32_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a';
	if (ch >= '2' && ch <= '7')
		return ch - '2' + 26;
	return -1;
}

/*
 * RFC 4648 Base32, case-insensitive; spaces, dashes and '=' padding are skipped.
 * key must hold strlen(s) * 5 / 8 + 1 bytes. CST_ERR_INVALID on any other character
 * or when nothing decodes.
 */
static int base32_decode(const char *s, unsigned char *key, size_t *keylen)
{
	unsigned int acc = 0;
	size_t n = 0;
	int bits = 0, v;
	bool padding = false;

	*keylen = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == '-' || *s == '\t')
			continue;
		if (*s == '=') {
			padding = true;
			continue;
		}
		v = base32_value(*s);
		if (v < 0 || padding) {
			acc = 0;
			return CST_ERR_INVALID;
		}
		acc = (acc << 5) | (unsigned int)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			key[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	acc = 0;
	if (!n)
		return CST_ERR_INVALID;
	*keylen = n;
	return 0;
}

int totp_code(const char *base32_secret, int64_t t, char out[7])
{
	unsigned char *key = NULL, counter[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, off;
	size_t keylen = 0, keymax = 0, len;
	uint64_t steps;
	uint32_t bin;
	int ret = CST_ERR_INVALID, i;

	out[0] = '\0';
	if (!base32_secret || t < 0)
		goto out;
	len = strnlen(base32_secret, TOTP_MAX_SECRET + 1);
	if (len > TOTP_MAX_SECRET)
		goto out;
	keymax = len * 5 / 8 + 1;
	key = xmalloc(keymax);
	if (base32_decode(base32_secret, key, &keylen))
		goto out;
	steps = (uint64_t)t / TOTP_STEP;
	for (i = 7; i >= 0; i--) {
		counter[i] = (unsigned char)(steps & 0xff);
		steps >>= 8;
	}
	if (!HMAC(EVP_sha1(), key, (int)keylen, counter, sizeof(counter), mac, &maclen) ||
	    maclen < 20) {
		ret = CST_ERR_SYSTEM;
		goto out;
	}
	/* RFC 4226 dynamic truncation */
	off = mac[maclen - 1] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	snprintf(out, 7, "%06u", (unsigned int)(bin % 1000000u));
	bin = 0;
	ret = 0;
out:
	freezero(key, keymax);
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(counter, sizeof(counter));
	return ret;
}
