/*
 * What `cstoken login --oauth` reads from outside (oauth_query.c): the loopback
 * listener's request and the redirected address pasted on the terminal. Not part of the
 * public API; apart from oauth_login.c so that fuzz/fuzz_oauth.c can feed them any bytes.
 */
#ifndef CSTOKEN_OAUTH_QUERY_H
#define CSTOKEN_OAUTH_QUERY_H

#include <stddef.h>

enum oauth_request {
	OAUTH_REQUEST_BAD,     /* not "GET /... HTTP/1.x" with its headers */
	OAUTH_REQUEST_ERROR,   /* the page sent error=... */
	OAUTH_REQUEST_NO_CODE, /* no code, or one that is not a plain word */
	OAUTH_REQUEST_CODE,    /* *code set (caller frees with free_secret) */
};

/* The request req[0..len) (NULL when nothing came) judged; *code NULL but for _CODE. */
enum oauth_request oauth_request_code(const char *req, size_t len, char **code);

/*
 * A pasted line: the redirected address, or its query ("code=...&location=..."). NULL
 * when it carries no code (caller frees with free_secret).
 */
char *oauth_pasted_code(const char *line);

#endif
