/*
 * The API client's answer handling (cma_parse_*, what the client runs every answer
 * through): the first bytes pick the call, the HTTP status and the attempt count, the
 * rest is the body. Whatever comes, a result is complete or the error is one line of
 * printable ASCII that quotes no secret value the body carried (the value of a "token",
 * "authtoken", "password", ... key, found by parsing the body, never the key's name).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cma_impl.h"
#include "cstoken/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {200, 201, 204, 301, 302, 400, 401, 403, 404, 409, 412, 415,
				422, 429, 500, 502, 503, 504, 100, 199, 299, 300, 399, 599};

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* The keys whose string values are secrets wherever they stand in an answer. */
static const char *const secret_keys[] = {"token", "authtoken", "password", "access_token",
					  "refresh_token"};

static int run(int call, long status, int attempts, const char *body, size_t len,
	       struct cst_error *e);

static bool is_secret_key(const char *k)
{
	size_t i;

	for (i = 0; k && i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++)
		if (!strcmp(k, secret_keys[i]))
			return true;
	return false;
}

/* The first secret value (8 bytes or more) at or under j that msg contains, or NULL. */
static const char *quoted_secret(const cJSON *j, const char *msg)
{
	const cJSON *c;
	const char *s;

	for (c = j ? j->child : NULL; c; c = c->next) {
		if (is_secret_key(c->string) && cJSON_IsString(c) && strlen(c->valuestring) >= 8 &&
		    strstr(msg, c->valuestring))
			return c->valuestring;
		if ((s = quoted_secret(c, msg)))
			return s;
	}
	return NULL;
}

/* A character secret does not consist of, to overwrite it with. */
static char filler_char(const char *secret)
{
	const char *c;

	for (c = "xyz#"; c[1] && strchr(secret, *c); c++)
		;
	return *c;
}

/* Every secret value equal to secret under j replaced by filler. */
static void replace_secret(cJSON *j, const char *secret, const char *filler)
{
	cJSON *c;

	for (c = j ? j->child : NULL; c; c = c->next) {
		if (is_secret_key(c->string) && cJSON_IsString(c) &&
		    !strcmp(c->valuestring, secret))
			check(cJSON_SetValuestring(c, filler) != NULL);
		replace_secret(c, secret, filler);
	}
}

/* The message the call gives for the document j, printed. */
static void message_for(int call, long status, int attempts, const cJSON *j, char *msg, size_t size)
{
	struct cst_error e = CST_ERROR_INIT;
	char *text = cJSON_PrintUnformatted(j);

	check(text != NULL);
	if (run(call, status, attempts, text, strlen(text), &e))
		snprintf(msg, size, "%s", e.msg);
	else
		msg[0] = '\0';
	free(text);
}

/*
 * A message that contains a secret value of the body quotes it only when it stops doing so
 * once that value is replaced: cstoken's own words ("sent no authtoken") or a non-secret
 * field with the same text are not a leak. The key names themselves are never secrets.
 */
static void check_not_quoted(int call, long status, int attempts, const char *msg, const char *body,
			     size_t len)
{
	char before[sizeof(((struct cst_error *)0)->msg)], after[sizeof(before)];
	cJSON *j = cJSON_ParseWithLength(body, len);
	const char *found = quoted_secret(j, msg);
	char *secret, *filler;

	if (!found) {
		cJSON_Delete(j);
		return;
	}
	secret = xstrdup(found);
	filler = xstrdup(secret);
	memset(filler, filler_char(secret), strlen(filler));
	/* the same document printed again must give the same message, or nothing can be told */
	message_for(call, status, attempts, j, before, sizeof(before));
	if (strstr(before, secret)) {
		replace_secret(j, secret, filler);
		message_for(call, status, attempts, j, after, sizeof(after));
		check(strstr(after, secret) != NULL);
	}
	free(secret);
	free(filler);
	cJSON_Delete(j);
}

static void check_error(const struct cst_error *e, int ret, int call, long status, int attempts,
			const char *body, size_t len)
{
	const unsigned char *m = (const unsigned char *)e->msg;

	check(ret < 0 && e->code == ret && *m);
	for (; *m; m++)
		check(*m >= 0x20 && *m < 0x7f);
	/* a 2xx body that looks like JSON may carry the secret the call was for */
	if (body && status >= 200 && status < 300 && body[strspn(body, " \t\r\n")] == '{')
		check_not_quoted(call, status, attempts, e->msg, body, len);
}

/* Runs the parser picked by call on one answer, checking what it hands back. */
static int run(int call, long status, int attempts, const char *body, size_t len,
	       struct cst_error *e)
{
	struct cma_request rq = {.method = "GET", .path = "/v3/user", .cred = CRED_AUTHTOKEN};
	struct cma_client c;
	struct cma_token *tokens = NULL, tok;
	char *authtoken = NULL;
	size_t n = 0, i;
	int ret;

	cma_client_init(&c, "api.example.test", NULL, 10);
	switch (call) {
	case 0:
		rq = (struct cma_request){
		    .method = "POST", .path = "/v3/user-session", .cred = CRED_PASSWORD};
		ret = cma_parse_login(&c, &rq, status, body, len, attempts, &authtoken, e);
		if (ret)
			check(!authtoken);
		else
			check(authtoken && *authtoken);
		free_secret(authtoken);
		break;
	case 1:
		rq = (struct cma_request){.method = "GET",
					  .path = "/v3/stacks/management_tokens",
					  .api_key = "blt0123456789abcdef",
					  .cred = CRED_AUTHTOKEN};
		ret = cma_parse_tokens_list(&c, &rq, status, body, len, attempts, &tokens, &n, e);
		if (ret)
			check(!tokens && !n);
		for (i = 0; i < n; i++)
			check(tokens[i].uid && *tokens[i].uid && !tokens[i].secret);
		cma_token_array_free(tokens, n);
		break;
	case 2:
		rq = (struct cma_request){.method = "POST",
					  .path = "/v3/stacks/management_tokens",
					  .api_key = "blt0123456789abcdef",
					  .cred = CRED_AUTHTOKEN,
					  .unsafe = true};
		ret = cma_parse_token_create(&c, &rq, status, body, len, attempts, &tok, e);
		if (ret)
			check(!tok.uid && !tok.secret);
		else
			check(tok.uid && *tok.uid && tok.secret && *tok.secret);
		cma_token_release(&tok);
		break;
	case 3:
		rq = (struct cma_request){.method = "GET",
					  .path = "/v3/environments?limit=1",
					  .api_key = "blt0123456789abcdef",
					  .cred = CRED_TOKEN};
		ret = cma_parse_reply(&c, &rq, status, body, len, attempts, e);
		break;
	case 4:
		rq = (struct cma_request){.method = "DELETE",
					  .path = "/v3/stacks/management_tokens/bltuid",
					  .api_key = "blt0123456789abcdef",
					  .cred = CRED_AUTHTOKEN};
		ret = cma_parse_reply(&c, &rq, status, body, len, attempts, e);
		break;
	default:
		ret = cma_parse_reply(&c, &rq, status, body, len, attempts, e);
		break;
	}
	cma_client_release(&c);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cst_error e = CST_ERROR_INIT;
	char *body = NULL;
	size_t len;
	long status;
	int ret, attempts, call;

	if (size < 3)
		return 0;
	status = data[1] < 0xf0 ? statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))]
				: (long)data[2] * 4;
	attempts = 1 + (data[0] >> 4) % CMA_MAX_ATTEMPTS;
	call = data[0] % 6;
	len = size - 3;
	if (len) {
		body = xmalloc(len + 1);
		memcpy(body, data + 3, len);
		body[len] = '\0';
	}
	ret = run(call, status, attempts, body, len, &e);
	if (ret)
		check_error(&e, ret, call, status, attempts, body, len);
	else
		check(status >= 200 && status < 300);
	free(body);
	return 0;
}
