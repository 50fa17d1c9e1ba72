/*
 * The program's side of its HTTP client, digest and etcd modules: the functions of cma.h,
 * digest.h and shared.h's cst_shared_etcd_ops, each calling its module's table (module.h),
 * loaded on the first call. The program links these instead of cma.c, totp.c, digest.c and
 * shared_etcd.c, which only the modules and the unit tests link; a function added to cma.h
 * needs its table entry and its call here.
 * (The Secret Service store's modules are composed by store_keyring.c.)
 */
#include <string.h>

#include "cma_impl.h"
#include "cstoken/cma.h"
#include "cstoken/util.h"
#include "digest.h"
#include "module.h"
#include "shared_etcd.h"

#define HTTP "cstoken-http"
#define DIGEST "cstoken-digest"
#define ETCD "cstoken-etcd"

static const struct cst_http_module *http(struct cst_error *e)
{
	return cst_module_table(HTTP, "cst_http_module", sizeof(struct cst_http_module), e);
}

/* Nothing the HTTP module allocates exists before it is loaded: no need to load it to free. */
static const struct cst_http_module *http_loaded(void)
{
	return cst_module_loaded(HTTP) ? http(NULL) : NULL;
}

void cma_client_init(struct cma_client *c, const char *host, const char *ca_file, int timeout)
{
	const struct cst_http_module *m = http(NULL);

	if (m)
		m->client_init(c, host, ca_file, timeout);
	else /* the first request reports the failure with its detail */
		memset(c, 0, sizeof(*c));
}

void cma_client_release(struct cma_client *c)
{
	const struct cst_http_module *m = http_loaded();

	if (m)
		m->client_release(c);
}

int cma_login(struct cma_client *c, const char *email, const char *password, const char *tfa,
	      char **authtoken, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	*authtoken = NULL;
	return m ? m->login(c, email, password, tfa, authtoken, e) : CST_ERR_SYSTEM;
}

int cma_request_sms(struct cma_client *c, const char *email, const char *password,
		    struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->request_sms(c, email, password, e) : CST_ERR_SYSTEM;
}

int cma_check_authtoken(struct cma_client *c, const char *authtoken, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->check_authtoken(c, authtoken, e) : CST_ERR_SYSTEM;
}

int cma_stack_check(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->stack_check(c, api_key, authtoken, e) : CST_ERR_SYSTEM;
}

int cma_logout(struct cma_client *c, const char *authtoken, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->logout(c, authtoken, e) : CST_ERR_SYSTEM;
}

void cma_token_release(struct cma_token *t)
{
	const struct cst_http_module *m = http_loaded();

	if (m)
		m->token_release(t);
}

void cma_token_array_free(struct cma_token *t, size_t n)
{
	const struct cst_http_module *m = http_loaded();

	if (m)
		m->token_array_free(t, n);
}

int cma_tokens_list(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cma_token **tokens, size_t *n, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	*tokens = NULL;
	*n = 0;
	return m ? m->tokens_list(c, api_key, authtoken, tokens, n, e) : CST_ERR_SYSTEM;
}

int cma_token_create(struct cma_client *c, const char *api_key, const char *authtoken,
		     const struct cma_token_spec *spec, struct cma_token *out, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->token_create(c, api_key, authtoken, spec, out, e) : CST_ERR_SYSTEM;
}

int cma_token_delete(struct cma_client *c, const char *api_key, const char *authtoken,
		     const char *uid, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->token_delete(c, api_key, authtoken, uid, e) : CST_ERR_SYSTEM;
}

int cma_check_token(struct cma_client *c, const char *api_key, const char *token,
		    struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->check_token(c, api_key, token, e) : CST_ERR_SYSTEM;
}

void cma_stack_array_free(struct cma_stack *s, size_t n)
{
	const struct cst_http_module *m = http_loaded();

	if (m)
		m->stack_array_free(s, n);
}

int cma_stacks_list(struct cma_client *c, const char *authtoken, struct cma_stack **stacks,
		    size_t *n, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	*stacks = NULL;
	*n = 0;
	return m ? m->stacks_list(c, authtoken, stacks, n, e) : CST_ERR_SYSTEM;
}

void cma_branch_array_free(struct cma_branch *b, size_t n)
{
	const struct cst_http_module *m = http_loaded();

	if (m)
		m->branch_array_free(b, n);
}

int cma_branches_list(struct cma_client *c, const char *api_key, const char *authtoken,
		      bool aliases, struct cma_branch **out, size_t *n, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	*out = NULL;
	*n = 0;
	return m ? m->branches_list(c, api_key, authtoken, aliases, out, n, e) : CST_ERR_SYSTEM;
}

void cma_oauth_grant_release(struct cma_oauth_grant *g)
{
	const struct cst_http_module *m = http_loaded();

	if (m)
		m->oauth_grant_release(g);
}

int cma_oauth_exchange(struct cma_client *c, const struct cma_oauth_app *app, const char *code,
		       const char *verifier, struct cma_oauth_grant *out, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	memset(out, 0, sizeof(*out));
	return m ? m->oauth_exchange(c, app, code, verifier, out, e) : CST_ERR_SYSTEM;
}

int cma_oauth_refresh(struct cma_client *c, const struct cma_oauth_app *app,
		      const char *refresh_token, struct cma_oauth_grant *out, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	memset(out, 0, sizeof(*out));
	return m ? m->oauth_refresh(c, app, refresh_token, out, e) : CST_ERR_SYSTEM;
}

int cma_oauth_revoke(struct cma_client *c, const struct cma_oauth_app *app, const char *cred,
		     const char *user_uid, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	return m ? m->oauth_revoke(c, app, cred, user_uid, e) : CST_ERR_SYSTEM;
}

int cma_user_email(struct cma_client *c, const char *authtoken, char **email, struct cst_error *e)
{
	const struct cst_http_module *m = http(e);

	*email = NULL;
	return m ? m->user_email(c, authtoken, email, e) : CST_ERR_SYSTEM;
}

int totp_code(const char *base32_secret, int64_t t, char out[7])
{
	const struct cst_http_module *m = http(NULL);

	out[0] = '\0';
	return m ? m->totp_code(base32_secret, t, out) : CST_ERR_SYSTEM;
}

int cst_sha256(const void *data, size_t len, unsigned char out[CST_SHA256_LEN], struct cst_error *e)
{
	const struct cst_digest_module *m =
	    cst_module_table(DIGEST, "cst_digest_module", sizeof(*m), e);

	return m ? m->sha256(data, len, out, e) : CST_ERR_SYSTEM;
}

const struct cst_shared_ops *cst_shared_etcd_ops(struct cst_error *e)
{
	const struct cst_shared_etcd_module *m =
	    cst_module_table(ETCD, "cst_shared_etcd_module", sizeof(*m), e);

	return m ? m->ops : NULL;
}
