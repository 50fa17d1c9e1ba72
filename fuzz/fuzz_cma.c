/*
 * The API client's answer handling (cma_parse_*, what the client runs every answer
 * through): the first bytes pick the call, the HTTP status and the attempt count, the
 * rest is the body. Whatever comes, a result is complete or the error is one line of
 * printable ASCII that quotes no secret the body carried.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* Values of "key":"..." in the raw body, as the secrets a message must never quote. */
static void check_not_quoted(const char *msg, const char *body, const char *key)
{
	const char *p = body, *v, *end;
	size_t klen = strlen(key);
	char *secret;

	while ((p = strstr(p, key))) {
		p += klen;
		v = p;
		while (*v == ' ' || *v == ':')
			v++;
		if (*v++ != '"')
			continue;
		end = strchr(v, '"');
		if (!end || end - v < 8)
			continue;
		secret = xstrndup(v, (size_t)(end - v));
		check(!strstr(msg, secret));
		free(secret);
	}
}

static void check_error(const struct cst_error *e, int ret, long status, const char *body)
{
	const unsigned char *m = (const unsigned char *)e->msg;

	check(ret < 0 && e->code == ret && *m);
	for (; *m; m++)
		check(*m >= 0x20 && *m < 0x7f);
	/* a 2xx body that looks like JSON may carry the secret the call was for */
	if (body && status >= 200 && status < 300 && body[strspn(body, " \t\r\n")] == '{') {
		check_not_quoted(e->msg, body, "\"token\"");
		check_not_quoted(e->msg, body, "\"authtoken\"");
		check_not_quoted(e->msg, body, "\"password\"");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cma_request rq = {.method = "GET", .path = "/v3/user", .cred = CRED_AUTHTOKEN};
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;
	struct cma_token *tokens = NULL, tok;
	char *body = NULL, *authtoken = NULL;
	size_t len, n = 0, i;
	long status;
	int ret, attempts;

	if (size < 3)
		return 0;
	status = data[1] < 0xf0 ? statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))]
				: (long)data[2] * 4;
	attempts = 1 + (data[0] >> 4) % CMA_MAX_ATTEMPTS;
	len = size - 3;
	if (len) {
		body = xmalloc(len + 1);
		memcpy(body, data + 3, len);
		body[len] = '\0';
	}
	cma_client_init(&c, "api.example.test", NULL, 10);

	switch (data[0] % 6) {
	case 0:
		rq = (struct cma_request){
		    .method = "POST", .path = "/v3/user-session", .cred = CRED_PASSWORD};
		ret = cma_parse_login(&c, &rq, status, body, len, attempts, &authtoken, &e);
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
		ret = cma_parse_tokens_list(&c, &rq, status, body, len, attempts, &tokens, &n, &e);
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
		ret = cma_parse_token_create(&c, &rq, status, body, len, attempts, &tok, &e);
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
		ret = cma_parse_reply(&c, &rq, status, body, len, attempts, &e);
		break;
	case 4:
		rq = (struct cma_request){.method = "DELETE",
					  .path = "/v3/stacks/management_tokens/bltuid",
					  .api_key = "blt0123456789abcdef",
					  .cred = CRED_AUTHTOKEN};
		ret = cma_parse_reply(&c, &rq, status, body, len, attempts, &e);
		break;
	default:
		ret = cma_parse_reply(&c, &rq, status, body, len, attempts, &e);
		break;
	}
	if (ret)
		check_error(&e, ret, status, body);
	else
		check(status >= 200 && status < 300);
	cma_client_release(&c);
	free(body);
	return 0;
}
