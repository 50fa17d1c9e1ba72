/* Stub: replaced by RFC 6238 TOTP. */
#include "cstoken/cma.h"

int totp_code(const char *base32_secret, int64_t t, char out[7])
{
	(void)base32_secret;
	(void)t;
	out[0] = '\0';
	return CST_ERR_INVALID;
}
