/*
 * cma.c's view of one request and of the answers it gets: not part of the public API.
 * The cma_parse_* functions are how the client judges every answer it receives, split
 * from the network so that the fuzz targets (fuzz/fuzz_cma.c) can feed them any bytes.
 */
#ifndef CSTOKEN_CMA_IMPL_H
#define CSTOKEN_CMA_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "cstoken/cma.h"
#include "cstoken/error.h"
#include "module.h"

/*
 * The HTTP client as module cstoken-http exports it (cst_http_module): the functions of
 * cma.h, each with the contract written there. The program reaches them through lazy.c.
 */
struct cst_http_module {
	struct cst_module_head head;
	void (*client_init)(struct cma_client *c, const char *host, const char *ca_file,
			    int timeout);
	void (*client_release)(struct cma_client *c);
	int (*login)(struct cma_client *c, const char *email, const char *password, const char *tfa,
		     char **authtoken, struct cst_error *e);
	int (*request_sms)(struct cma_client *c, const char *email, const char *password,
			   struct cst_error *e);
	int (*check_authtoken)(struct cma_client *c, const char *authtoken, struct cst_error *e);
	int (*stack_check)(struct cma_client *c, const char *api_key, const char *authtoken,
			   struct cst_error *e);
	int (*logout)(struct cma_client *c, const char *authtoken, struct cst_error *e);
	void (*token_release)(struct cma_token *t);
	void (*token_array_free)(struct cma_token *t, size_t n);
	int (*tokens_list)(struct cma_client *c, const char *api_key, const char *authtoken,
			   struct cma_token **tokens, size_t *n, struct cst_error *e);
	int (*token_create)(struct cma_client *c, const char *api_key, const char *authtoken,
			    const struct cma_token_spec *spec, struct cma_token *out,
			    struct cst_error *e);
	int (*token_delete)(struct cma_client *c, const char *api_key, const char *authtoken,
			    const char *uid, struct cst_error *e);
	int (*check_token)(struct cma_client *c, const char *api_key, const char *token,
			   struct cst_error *e);
	void (*stack_array_free)(struct cma_stack *s, size_t n);
	int (*stacks_list)(struct cma_client *c, const char *authtoken, struct cma_stack **stacks,
			   size_t *n, struct cst_error *e);
	void (*branch_array_free)(struct cma_branch *b, size_t n);
	int (*branches_list)(struct cma_client *c, const char *api_key, const char *authtoken,
			     bool aliases, struct cma_branch **out, size_t *n, struct cst_error *e);
	int (*totp_code)(const char *base32_secret, int64_t t, char out[7]);
	void (*oauth_grant_release)(struct cma_oauth_grant *g);
	int (*oauth_exchange)(struct cma_client *c, const struct cma_oauth_app *app,
			      const char *code, const char *verifier, struct cma_oauth_grant *out,
			      struct cst_error *e);
	int (*oauth_refresh)(struct cma_client *c, const struct cma_oauth_app *app,
			     const char *refresh_token, struct cma_oauth_grant *out,
			     struct cst_error *e);
	int (*oauth_revoke)(struct cma_client *c, const struct cma_oauth_app *app, const char *cred,
			    const char *user_uid, struct cst_error *e);
	int (*user_email)(struct cma_client *c, const char *authtoken, char **email,
			  struct cst_error *e);
};

/* Which credential a request carries: decides what a 401 means to the user. */
enum cma_cred {
	CRED_PASSWORD,
	CRED_AUTHTOKEN,
	CRED_TOKEN,
};

struct cma_request {
	const char *method;	   /* GET, POST, PUT, DELETE */
	const char *path;	   /* "/v3/...", query included; never holds a secret */
	const char *api_key;	   /* NULL: no api_key header */
	const char *authtoken;	   /* the session credential (cma.h), secret; NULL: none */
	const char *authorization; /* secret; NULL: no header */
	const char *body;	   /* JSON, may hold a secret; NULL: none */
	const char *content_type;  /* of body; NULL: application/json */
	enum cma_cred cred;
	/* A repeat could act twice (token creation): only 429 and refused connects retry. */
	bool unsafe;
};

/*
 * The answer to rq that came after attempts tries: HTTP status and the body as received,
 * len bytes with a NUL after them (NULL when len is 0). A non-2xx status becomes the
 * error it means (Contentstack's error body read, never a secret quoted); a 2xx body
 * must be the call's JSON. Each returns 0 with its result set, or a negative enum
 * cst_err with e set and nothing to free.
 */
/* Answers that carry nothing to keep: GET /v3/user, DELETE /v3/user-session, delete. */
int cma_parse_reply(const struct cma_client *c, const struct cma_request *rq, long status,
		    const char *body, size_t len, int attempts, struct cst_error *e);
/* POST /v3/user-session: *authtoken (caller frees with free_secret). */
int cma_parse_login(const struct cma_client *c, const struct cma_request *rq, long status,
		    const char *body, size_t len, int attempts, char **authtoken,
		    struct cst_error *e);
/* GET /v3/stacks/management_tokens: caller frees with cma_token_array_free. */
int cma_parse_tokens_list(const struct cma_client *c, const struct cma_request *rq, long status,
			  const char *body, size_t len, int attempts, struct cma_token **tokens,
			  size_t *n, struct cst_error *e);
/* POST /v3/stacks/management_tokens: out (with its secret; caller releases). */
int cma_parse_token_create(const struct cma_client *c, const struct cma_request *rq, long status,
			   const char *body, size_t len, int attempts, struct cma_token *out,
			   struct cst_error *e);

/*
 * The request path every call takes (retries, redirects refused, transport errors), for
 * the files of the HTTP module: the status and body of the answer (caller wipes body
 * with strbuf_release) for one of the parsers to judge.
 */
struct strbuf;
int cma_exchange(struct cma_client *c, const struct cma_request *rq, long *status,
		 struct strbuf *body, int *attempts, struct cst_error *e);
struct cJSON;
/*
 * The token endpoint's answer to rq (the grant named what, for messages): its refusal,
 * else the grant in out, every field checked (caller releases); out untouched on error.
 */
int cma_parse_grant(const struct cma_client *c, const struct cma_request *rq, long status,
		    const char *body, size_t len, int attempts, const char *what,
		    struct cma_oauth_grant *out, struct cst_error *e);
/* The authorization_uid the list j (GET /manifests/ID/authorizations) has for user_uid. */
char *cma_authorization_of(const struct cJSON *j, const char *user_uid);
/* Whether cred is a well-formed session credential (cma.h) of either kind. */
bool cma_session_valid(const char *cred);
/* A call whose JSON answer the caller reads: *json (cJSON_Delete) when 0 comes back. */
int cma_get_json(struct cma_client *c, const struct cma_request *rq, struct cJSON **json,
		 struct cst_error *e);
/*
 * A call's own reading of an error answer (status 400 and over; answer its JSON, NULL
 * when it is none): the error it sets, or 0 to leave the answer to the common judgement.
 */
typedef int cma_refusal_fn(const struct cma_client *c, long status, const struct cJSON *answer,
			   const void *arg, struct cst_error *e);
/* cma_get_json, with refused reading an error answer first. */
int cma_get_json_refused(struct cma_client *c, const struct cma_request *rq,
			 cma_refusal_fn *refused, const void *arg, struct cJSON **json,
			 struct cst_error *e);
/* What cma_get_json_refused makes of an answer (status, body) to rq; no network. */
int cma_parse_refused(const struct cma_client *c, const struct cma_request *rq, long status,
		      const char *body, size_t len, int attempts, cma_refusal_fn *refused,
		      const void *arg, struct cJSON **json, struct cst_error *e);
/* The string member key of obj, or NULL. */
const char *cma_json_str(const struct cJSON *obj, const char *key);
/* Server text made safe for a message: printable ASCII only, capped. */
void cma_quote(char *out, size_t outsz, const char *in);
/* Percent-encodes everything but RFC 3986 unreserved characters (caller frees). */
char *cma_escape(const char *s);

#endif
