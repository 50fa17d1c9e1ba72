/* git's credential protocol (git-credential(1)): reading and writing key=value blocks. */
#ifndef CSTOKEN_CREDENTIAL_H
#define CSTOKEN_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cstoken/error.h"

/* Longest line accepted on stdin; git's own limit for a credential line is far lower. */
#define CREDENTIAL_MAX_LINE (64 * 1024)
/* Most wwwauth[]/capability[] values kept per request. */
#define CREDENTIAL_MAX_MULTI 64

struct credential {
	char *protocol;
	char *host; /* host[:port], IPv6 as "[::1]:port", exactly as git sends it */
	char *path;
	char *username;
	char *password;		     /* secret */
	char *oauth_refresh_token;   /* secret */
	int64_t password_expiry_utc; /* 0 when absent */
	char **wwwauth;
	size_t nwwwauth;
	char **capability;
	size_t ncapability;
};
#define CREDENTIAL_INIT                                                                            \
	{                                                                                          \
		0                                                                                  \
	}

void credential_init(struct credential *c);
/* Frees all fields, wiping the secrets; c is then as after credential_init. */
void credential_release(struct credential *c);

/*
 * Reads key=value lines from fp up to a blank line or EOF. Unknown keys are ignored,
 * "url=" is split into protocol, host, username, password and path. A value holding
 * CR or NUL, a line without '=', or a line over CREDENTIAL_MAX_LINE is refused with
 * CST_ERR_INVALID / CST_ERR_TOO_LARGE and e naming the key (never the value).
 * The line buffer is wiped. On error c is released.
 */
int credential_read(struct credential *c, FILE *fp, struct cst_error *e);

/*
 * Percent-decodes s[0..n) like git's url_decode_mem into *out (caller frees with
 * free_secret): "%XY" becomes the byte, anything else is kept. A decoded LF, CR or NUL is
 * refused (CST_ERR_INVALID, e naming what).
 */
int credential_url_decode(const char *s, size_t n, const char *what, char **out,
			  struct cst_error *e);

/* Splits url ("proto://user:pass@host:port/path") into c. CST_ERR_INVALID if malformed. */
int credential_from_url(struct credential *c, const char *url, struct cst_error *e);

/*
 * Writes the set fields of c as key=value lines (no blank line). A field containing LF
 * is never written: CST_ERR_INVALID is returned before anything is written.
 */
int credential_write(const struct credential *c, FILE *fp, struct cst_error *e);

#endif
