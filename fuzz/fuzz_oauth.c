/*
 * What the OAuth login reads from outside: the token endpoint's answer (cma_parse_grant),
 * the developer hub's authorizations list (cma_authorization_of), the session stored in
 * the keyring (cst_oauth_session_decode), the loopback listener's request
 * (oauth_request_code) and the pasted redirected address (oauth_pasted_code). The first
 * byte picks the parser (and, for the token answer, the status and the attempt count),
 * the rest is the input. Whatever comes, what a parser accepts passes the syntax check of
 * where it goes (headers, the store, the token form), and an error is one line of
 * printable ASCII that quotes neither the access token nor the refresh token the answer
 * carried.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cma_impl.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"
#include "fuzz_check.h"
#include "oauth_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {200, 201, 204, 301, 400, 401, 403, 404, 422, 429, 500, 502};

/* A code as it may go into the token form (oauth_query.c's code_plain). */
static bool code_ok(const char *code)
{
	return code && cst_plain_token(code) && strlen(code) <= 1024;
}

static int grant_run(long status, int attempts, const char *body, size_t len,
		     struct cma_oauth_grant *g, struct cst_error *e)
{
	struct cma_request rq = {.method = "POST",
				 .path = "/token",
				 .content_type = "application/x-www-form-urlencoded",
				 .cred = CRED_PASSWORD};
	struct cma_client c;
	int ret;

	memset(g, 0, sizeof(*g));
	cma_client_init(&c, "developerhub-api.example.test", NULL, 10);
	ret = cma_parse_grant(&c, &rq, status, body, len, attempts, "authorization code", g, e);
	cma_client_release(&c);
	return ret;
}

/* The first access_token or refresh_token value (8 bytes or more) at or under j in msg. */
static const char *quoted_secret(const cJSON *j, const char *msg)
{
	const cJSON *c;
	const char *s;

	for (c = j ? j->child : NULL; c; c = c->next) {
		if (c->string &&
		    (!strcmp(c->string, "access_token") || !strcmp(c->string, "refresh_token")) &&
		    cJSON_IsString(c) && strlen(c->valuestring) >= 8 && strstr(msg, c->valuestring))
			return c->valuestring;
		if ((s = quoted_secret(c, msg)))
			return s;
	}
	return NULL;
}

static void replace_secret(cJSON *j, const char *secret, const char *filler)
{
	cJSON *c;

	for (c = j ? j->child : NULL; c; c = c->next) {
		if (c->string &&
		    (!strcmp(c->string, "access_token") || !strcmp(c->string, "refresh_token")) &&
		    cJSON_IsString(c) && !strcmp(c->valuestring, secret))
			check(cJSON_SetValuestring(c, filler) != NULL);
		replace_secret(c, secret, filler);
	}
}

/*
 * A message holding a secret value of the body quotes it only when it stops doing so once
 * that value is replaced (the same text in "error_description" is no leak).
 */
static void check_not_quoted(long status, int attempts, const char *msg, const char *body,
			     size_t len)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const char *found = quoted_secret(j, msg);
	struct cma_oauth_grant g;
	struct cst_error e = CST_ERROR_INIT;
	char *secret, *filler, *text;
	const char *f;

	if (!found) {
		cJSON_Delete(j);
		return;
	}
	secret = xstrdup(found);
	filler = xstrdup(secret);
	for (f = "xyz#"; f[1] && strchr(secret, *f); f++)
		;
	memset(filler, *f, strlen(filler));
	replace_secret(j, secret, filler);
	text = cJSON_PrintUnformatted(j);
	check(text != NULL);
	if (grant_run(status, attempts, text, strlen(text), &g, &e))
		check(strstr(e.msg, secret) != NULL);
	cma_oauth_grant_release(&g);
	free(text);
	free(secret);
	free(filler);
	cJSON_Delete(j);
}

static void fuzz_grant(const uint8_t *data, size_t size)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cma_oauth_grant g;
	long status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	int attempts = 1 + (data[0] >> 4) % CMA_MAX_ATTEMPTS;
	size_t len = size - 2;
	char *body = NULL;
	int ret;

	if (len)
		body = fuzz_text(data + 2, len);
	ret = grant_run(status, attempts, body, len, &g, &e);
	if (ret) {
		check(ret < 0 && e.code == ret && e.msg[0] && fuzz_printable(e.msg, false));
		check(!g.access_token && !g.refresh_token && !g.organization_uid && !g.user_uid);
		if (body && body[strspn(body, " \t\r\n")] == '{')
			check_not_quoted(status, attempts, e.msg, body, len);
	} else {
		/* all of it goes into headers and the store */
		check(status >= 200 && status < 300);
		check(cst_plain_token(g.access_token));
		check(!g.refresh_token || cst_plain_token(g.refresh_token));
		check(cst_plain_uid(g.organization_uid) && cst_plain_uid(g.user_uid));
		check(g.expires_in >= 1 && g.expires_in <= 366 * 86400);
	}
	cma_oauth_grant_release(&g);
	free(body);
}

static void fuzz_authorizations(const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	char *uid = cma_authorization_of(j, "blt5d4sample2633b");

	/* it goes into the DELETE's path */
	check(!uid || cst_plain_uid(uid));
	free(uid);
	cJSON_Delete(j);
}

static void fuzz_session(const char *text)
{
	struct cst_oauth_session s, again;
	char *enc;

	if (cst_oauth_session_decode(text, &s)) {
		check(!s.access_token && !s.refresh_token && !s.organization_uid && !s.user_uid);
		return;
	}
	/* the credential it becomes is a header value */
	check(cst_plain_token(s.access_token) && cst_plain_token(s.refresh_token));
	check(cst_plain_uid(s.organization_uid) && cst_plain_uid(s.user_uid) && s.expires > 0);
	enc = cst_oauth_session_encode(&s);
	check(cst_oauth_session_decode(enc, &again) == 0);
	check(!strcmp(s.access_token, again.access_token) &&
	      !strcmp(s.refresh_token, again.refresh_token) &&
	      !strcmp(s.organization_uid, again.organization_uid) &&
	      !strcmp(s.user_uid, again.user_uid) && s.expires == again.expires);
	free_secret(enc);
	cst_oauth_session_release(&again);
	cst_oauth_session_release(&s);
}

static void fuzz_pasted(const char *line)
{
	char *code = oauth_pasted_code(line);

	check(!code || code_ok(code));
	free_secret(code);
}

static void fuzz_request(const char *req, size_t len)
{
	char *code = (char *)1;
	enum oauth_request kind = oauth_request_code(len ? req : NULL, len, &code);

	check(kind >= OAUTH_REQUEST_BAD && kind <= OAUTH_REQUEST_CODE);
	check((kind == OAUTH_REQUEST_CODE) == (code != NULL));
	check(!code || code_ok(code));
	if (kind != OAUTH_REQUEST_BAD)
		check(len >= 14 && !strncmp(req, "GET /", 5) && !memchr(req, '\0', len));
	free_secret(code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	size_t len;

	if (size < 2)
		return 0;
	if (data[0] % 5 == 0) {
		fuzz_grant(data, size);
		return 0;
	}
	len = size - 1;
	text = fuzz_text(data + 1, len);
	switch (data[0] % 5) {
	case 1:
		fuzz_authorizations(text, len);
		break;
	case 2:
		fuzz_session(text);
		break;
	case 3:
		fuzz_pasted(text);
		break;
	default:
		fuzz_request(text, len);
		break;
	}
	free(text);
	return 0;
}
