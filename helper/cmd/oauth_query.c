/*
 * The query of the address the authorize page redirects to, as the loopback listener
 * receives it or as it is pasted on the terminal (oauth_query.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cstoken/credential.h"
#include "cstoken/util.h"
#include "oauth_query.h"

/*
 * The value of parameter key in q[0..len) ("a=1&code=X&location=NA"), percent-decoded,
 * or NULL (caller frees with free_secret).
 */
static char *query_param(const char *q, size_t len, const char *key)
{
	size_t klen = strlen(key), i = 0, start, end;
	char *out = NULL;

	while (i < len) {
		start = i;
		while (i < len && q[i] != '&')
			i++;
		end = i++;
		if (end - start > klen && !memcmp(q + start, key, klen) && q[start + klen] == '=')
			return credential_url_decode(q + start + klen + 1, end - start - klen - 1,
						     key, &out, NULL)
				   ? NULL
				   : out;
	}
	return NULL;
}

/* The query of a URL or request target: after '?', up to '#', white space or the end. */
static const char *query_of(const char *s, size_t *len)
{
	const char *q = strchr(s, '?');

	if (!q)
		return NULL;
	q++;
	*len = strcspn(q, "# \t\r\n");
	return q;
}

/* A code as it may go into a form: a plain word of bounded length. */
static bool code_plain(const char *code)
{
	return code && cst_plain_token(code) && strlen(code) <= 1024;
}

enum oauth_request oauth_request_code(const char *req, size_t len, char **code)
{
	const char *q, *line_end;
	char *err;
	size_t qlen;

	*code = NULL;
	line_end = req ? strstr(req, "\r\n") : NULL;
	/* "GET / HTTP/1.1" at the least, before anything is compared from the end */
	if (!line_end || line_end - req < 14 || strncmp(req, "GET /", 5) ||
	    (strncmp(line_end - 9, " HTTP/1.1", 9) && strncmp(line_end - 9, " HTTP/1.0", 9)) ||
	    !strstr(req, "\r\n\r\n") || memchr(req, '\0', len))
		return OAUTH_REQUEST_BAD;
	q = query_of(req, &qlen);
	if (q && q > line_end)
		q = NULL;
	if (q && (err = query_param(q, qlen, "error"))) {
		free(err);
		return OAUTH_REQUEST_ERROR;
	}
	*code = q ? query_param(q, qlen, "code") : NULL;
	if (!code_plain(*code)) {
		free_secret(*code);
		*code = NULL;
		return OAUTH_REQUEST_NO_CODE;
	}
	return OAUTH_REQUEST_CODE;
}

char *oauth_pasted_code(const char *line)
{
	const char *q;
	size_t qlen;
	char *code = NULL;

	line += strspn(line, " \t");
	q = query_of(line, &qlen);
	if (!q && !strncmp(line, "code=", 5)) {
		q = line;
		qlen = strcspn(line, "# \t\r\n");
	}
	if (q)
		code = query_param(q, qlen, "code");
	if (!code_plain(code)) {
		free_secret(code);
		return NULL;
	}
	return code;
}
