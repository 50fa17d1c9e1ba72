/* Contentstack's Content Management API over libcurl: the calls cstoken makes. */
#ifndef CSTOKEN_CMA_H
#define CSTOKEN_CMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cstoken/error.h"

/* Responses larger than this are refused (CST_ERR_TOO_LARGE). */
#define CMA_MAX_RESPONSE (4 * 1024 * 1024)
/* Attempts per request on 429 / 5xx / reset, including the first. */
#define CMA_MAX_ATTEMPTS 4

struct cma_client {
	char *host;    /* host[:port]; requests go to https://host/v3/... */
	char *ca_file; /* extra trust (NULL: system store only) */
	int timeout;   /* seconds per attempt (total; <= 0: CST_DEFAULT_TIMEOUT); connect timeout is
			  min(timeout, 10) */
	int max_attempts; /* 0: CMA_MAX_ATTEMPTS */
	void *curl;	  /* CURL *, created lazily on the first request */
	int64_t spent_ms; /* wall time of the last request, its retries included */
};

/*
 * Every call taking an `authtoken` takes the profile's session credential: an authtoken,
 * sent as "authtoken", or for an OAuth session CMA_BEARER "ACCESS_TOKEN ORGANIZATION_UID",
 * sent as "authorization: Bearer ACCESS_TOKEN" plus "organization_uid" on the
 * management-token calls (cst_authtoken_get builds it). Both are secrets.
 */
#define CMA_BEARER "Bearer "

/* No allocation, no libcurl initialisation (a stored hit must not pay for TLS). */
void cma_client_init(struct cma_client *c, const char *host, const char *ca_file, int timeout);
void cma_client_release(struct cma_client *c);

/*
 * Logs in. On success *authtoken is set (caller frees with free_secret).
 * tfa may be NULL. CST_ERR_TFA_REQUIRED when the account wants a 2FA code,
 * CST_ERR_AUTH for wrong credentials; e carries the server's message.
 */
int cma_login(struct cma_client *c, const char *email, const char *password, const char *tfa,
	      char **authtoken, struct cst_error *e);

/*
 * POST /v3/user/request_token_sms: the account's two-factor code goes out by SMS, to be
 * given as cma_login's tfa. CST_ERR_AUTH for wrong credentials.
 */
int cma_request_sms(struct cma_client *c, const char *email, const char *password,
		    struct cst_error *e);

/* GET /v3/user: 0 when the authtoken works, CST_ERR_AUTH when refused. */
int cma_check_authtoken(struct cma_client *c, const char *authtoken, struct cst_error *e);

/*
 * GET /v3/stacks for api_key: 0 when the stack exists and the session's user belongs to it,
 * CST_ERR_NOT_FOUND when the server says neither (error 109: Contentstack does not tell
 * the two apart). Sends nothing when api_key is not a plain uid.
 */
int cma_stack_check(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cst_error *e);

/* DELETE /v3/user-session. */
int cma_logout(struct cma_client *c, const char *authtoken, struct cst_error *e);

struct cma_token {
	char *uid;
	char *name;
	char *description;
	char *expires_on; /* as sent by the server; NULL for never */
	int64_t expiry;	  /* expires_on parsed: 00:00 UTC of that day; 0 for never */
	char *created_at;
	char *scope;  /* summary, e.g. "read,write branches=main,dev"; NULL when absent */
	char *secret; /* only from cma_token_create; wiped on release */
};
void cma_token_release(struct cma_token *t);
void cma_token_array_free(struct cma_token *t, size_t n);

struct cma_token_spec {
	const char *name;
	const char *description;
	const char *const *branches; /* exactly one of branches / aliases non-empty */
	size_t nbranches;
	const char *const *aliases;
	size_t naliases;
	bool write;
	const char *expires_on; /* YYYY-MM-DD, NULL for never */
	bool notify;
};

/*
 * GET /v3/stacks/management_tokens: every token of the stack (no secrets). Only a stack's
 * owner and admins may view (and create) its management tokens: CST_ERR_FORBIDDEN (HTTP
 * 403) says the session's user is neither.
 */
int cma_tokens_list(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cma_token **tokens, size_t *n, struct cst_error *e);

/* POST /v3/stacks/management_tokens: out->secret holds the new token value. */
int cma_token_create(struct cma_client *c, const char *api_key, const char *authtoken,
		     const struct cma_token_spec *spec, struct cma_token *out, struct cst_error *e);

/*
 * DELETE /v3/stacks/management_tokens/{uid}. CST_ERR_NOT_FOUND when already gone: the
 * server answered error 141, HTTP 404, or a 422 saying the token was not found or does
 * not exist; any other error means the token may still be live.
 */
int cma_token_delete(struct cma_client *c, const char *api_key, const char *authtoken,
		     const char *uid, struct cst_error *e);

/* GET /v3/environments?limit=1 with the management token: 0 valid, CST_ERR_AUTH not. */
int cma_check_token(struct cma_client *c, const char *api_key, const char *token,
		    struct cst_error *e);

/* A stack the session's user can see, from GET /v3/stacks. */
struct cma_stack {
	char *api_key; /* a plain uid (cst_plain_uid) */
	char *name;    /* server text, NULL when absent: show with cst_add_shown */
	bool owner;    /* owner_uid is the user's uid */
	bool admin;    /* the user's collaborator entry holds a role named Admin */
};
void cma_stack_array_free(struct cma_stack *s, size_t n);

/*
 * GET /v3/user for the user's uid, then GET /v3/stacks?include_collaborators=true without
 * an api_key: every stack the user owns or shares, owner and admin judged for that user.
 * Stacks whose api_key is not a plain uid are left out. Caller frees *stacks.
 */
int cma_stacks_list(struct cma_client *c, const char *authtoken, struct cma_stack **stacks,
		    size_t *n, struct cst_error *e);

/* A branch (target NULL) or a branch alias (target: the branch it points to). */
struct cma_branch {
	char *uid;
	char *target;
};
void cma_branch_array_free(struct cma_branch *b, size_t n);

/*
 * GET /v3/stacks/branches, or with aliases GET /v3/stacks/branch_aliases: the stack's
 * branches or aliases (names that are not plain uids are left out). Caller frees *out.
 */
int cma_branches_list(struct cma_client *c, const char *api_key, const char *authtoken,
		      bool aliases, struct cma_branch **out, size_t *n, struct cst_error *e);

/* ---- OAuth 2.0 (cma_oauth.c): c is a client for the developer hub's host ---- */

/* The OAuth app a profile logs in with (strings of the profile). */
struct cma_oauth_app {
	const char *app_id;
	const char *client_id;
	const char *redirect_uri;
};

/* An answer of the token endpoint. */
struct cma_oauth_grant {
	char *access_token;	/* secret, a plain token */
	char *refresh_token;	/* secret; NULL when the answer carried none (keep the old) */
	int64_t expires_in;	/* seconds */
	char *organization_uid; /* plain uids */
	char *user_uid;
};
void cma_oauth_grant_release(struct cma_oauth_grant *g);

/*
 * POST /token, form-encoded: grant_type=authorization_code with code and the PKCE
 * verifier. CST_ERR_AUTH when the developer hub refuses the code (wrong, used, expired,
 * or a verifier that does not match): e says so, never quoting a secret.
 */
int cma_oauth_exchange(struct cma_client *c, const struct cma_oauth_app *app, const char *code,
		       const char *verifier, struct cma_oauth_grant *out, struct cst_error *e);
/* POST /token with grant_type=refresh_token. CST_ERR_AUTH when refused. */
int cma_oauth_refresh(struct cma_client *c, const struct cma_oauth_app *app,
		      const char *refresh_token, struct cma_oauth_grant *out, struct cst_error *e);
/*
 * Revokes the session's authorization of the app as Contentstack's SDK does: GET
 * /manifests/APP_ID/authorizations, the entry whose user.uid is user_uid, DELETE
 * .../authorizations/UID. cred is the session credential. CST_ERR_NOT_FOUND when the
 * list holds none of this user.
 */
int cma_oauth_revoke(struct cma_client *c, const struct cma_oauth_app *app, const char *cred,
		     const char *user_uid, struct cst_error *e);

/* GET /v3/user: the e-mail of the session's user (caller frees). */
int cma_user_email(struct cma_client *c, const char *authtoken, char **email, struct cst_error *e);

/* RFC 6238 TOTP (30 s, 6 digits, HMAC-SHA1) from a Base32 secret at time t. */
int totp_code(const char *base32_secret, int64_t t, char out[7]);

#endif
