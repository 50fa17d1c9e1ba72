/*
 * OAuth 2.0 with Contentstack's developer hub, as its SDK does it: the authorization
 * code and the refresh token exchanged at /token (form-encoded), the app's authorization
 * revoked through /manifests. Part of the HTTP module; the request path is cma.c's.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cma_impl.h"
#include "cstoken/cma.h"
#include "cstoken/util.h"

#define FORM "application/x-www-form-urlencoded"
#define QUOTE_MAX 168

void cma_oauth_grant_release(struct cma_oauth_grant *g)
{
	if (!g)
		return;
	free_secret(g->access_token);
	free_secret(g->refresh_token);
	free(g->organization_uid);
	free(g->user_uid);
	memset(g, 0, sizeof(*g));
}

/* Appends "&key=value" (no '&' first), value percent-encoded; the copy is wiped. */
static void form_add(struct strbuf *sb, const char *key, const char *value)
{
	char *esc = cma_escape(value);

	strbuf_addf(sb, "%s%s=%s", sb->len ? "&" : "", key, esc);
	free_secret(esc);
}

/* The token endpoint's own refusal: {"error":"invalid_grant","error_description":...}. */
static int grant_refused(const struct cma_client *c, long status, const cJSON *answer,
			 const void *what, struct cst_error *e)
{
	const char *err = cma_json_str(answer, "error");
	const char *desc = cma_json_str(answer, "error_description");
	char q[QUOTE_MAX], d[QUOTE_MAX];

	if (!err || status >= 500)
		return 0;
	cma_quote(q, sizeof(q), err);
	cma_quote(d, sizeof(d), desc ? desc : "");
	return cst_error_set(e, CST_ERR_AUTH, "'%s' refused the %s (%s%s%s)", c->host,
			     (const char *)what, q, d[0] ? ": " : "", d);
}

static int take_grant(const struct cma_client *c, const cJSON *j, struct cma_oauth_grant *out,
		      struct cst_error *e)
{
	const char *access = cma_json_str(j, "access_token");
	const char *refresh = cma_json_str(j, "refresh_token");
	const char *org = cma_json_str(j, "organization_uid");
	const char *user = cma_json_str(j, "user_uid");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");

	/* all of these go into headers and the store: plain words or nothing is kept */
	if (!cst_plain_token(access) || (refresh && !cst_plain_token(refresh)) ||
	    !cst_plain_uid(org) || !cst_plain_uid(user) || !cJSON_IsNumber(exp) ||
	    exp->valuedouble < 1 || exp->valuedouble > 366.0 * 86400)
		return cst_error_set(e, CST_ERR_HTTP,
				     "'%s' answered the token request without a usable access "
				     "token, organization_uid, user_uid and expires_in; check "
				     "developer_hub_host in the profile",
				     c->host);
	out->access_token = xstrdup(access);
	out->refresh_token = refresh ? xstrdup(refresh) : NULL;
	out->organization_uid = xstrdup(org);
	out->user_uid = xstrdup(user);
	out->expires_in = (int64_t)exp->valuedouble;
	return 0;
}

int cma_parse_grant(const struct cma_client *c, const struct cma_request *rq, long status,
		    const char *body, size_t len, int attempts, const char *what,
		    struct cma_oauth_grant *out, struct cst_error *e)
{
	cJSON *j = NULL;
	int ret;

	ret = cma_parse_refused(c, rq, status, body, len, attempts, grant_refused, what, &j, e);
	if (!ret)
		ret = take_grant(c, j, out, e);
	cJSON_Delete(j);
	return ret;
}

static int token_call(struct cma_client *c, const char *form, const char *what,
		      struct cma_oauth_grant *out, struct cst_error *e)
{
	struct cma_request rq = {.method = "POST",
				 .path = "/token",
				 .body = form,
				 .content_type = FORM,
				 .cred = CRED_PASSWORD};
	struct strbuf answer = STRBUF_INIT;
	long status;
	int attempts, ret;

	ret = cma_exchange(c, &rq, &status, &answer, &attempts, e);
	if (!ret)
		ret =
		    cma_parse_grant(c, &rq, status, answer.buf, answer.len, attempts, what, out, e);
	strbuf_release(&answer);
	return ret;
}

/* The form of a grant: its n fields in the SDK's order. */
static int grant(struct cma_client *c, const char *const (*kv)[2], size_t n, const char *what,
		 struct cma_oauth_grant *out, struct cst_error *e)
{
	struct strbuf form = STRBUF_INIT;
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		form_add(&form, kv[i][0], kv[i][1]);
	ret = token_call(c, form.buf, what, out, e);
	strbuf_release(&form);
	return ret;
}

int cma_oauth_exchange(struct cma_client *c, const struct cma_oauth_app *app, const char *code,
		       const char *verifier, struct cma_oauth_grant *out, struct cst_error *e)
{
	const char *const kv[][2] = {{"grant_type", "authorization_code"},
				     {"code", code},
				     {"redirect_uri", app->redirect_uri},
				     {"client_id", app->client_id},
				     {"code_verifier", verifier}};

	return grant(c, kv, sizeof(kv) / sizeof(kv[0]), "authorization code", out, e);
}

int cma_oauth_refresh(struct cma_client *c, const struct cma_oauth_app *app,
		      const char *refresh_token, struct cma_oauth_grant *out, struct cst_error *e)
{
	const char *const kv[][2] = {{"grant_type", "refresh_token"},
				     {"refresh_token", refresh_token},
				     {"client_id", app->client_id},
				     {"redirect_uri", app->redirect_uri}};

	return grant(c, kv, sizeof(kv) / sizeof(kv[0]), "refresh token", out, e);
}

char *cma_authorization_of(const cJSON *j, const char *user_uid)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data"), *it;

	if (!cJSON_IsArray(data))
		data = NULL;
	cJSON_ArrayForEach(it, data)
	{
		const char *who = cma_json_str(cJSON_GetObjectItemCaseSensitive(it, "user"), "uid");
		const char *uid = cma_json_str(it, "authorization_uid");

		if (str_equal(who, user_uid) && cst_plain_uid(uid))
			return xstrdup(uid);
	}
	return NULL;
}

int cma_oauth_revoke(struct cma_client *c, const struct cma_oauth_app *app, const char *cred,
		     const char *user_uid, struct cst_error *e)
{
	struct cma_request rq = {.method = "GET", .authtoken = cred, .cred = CRED_AUTHTOKEN};
	char *app_esc = NULL, *path = NULL, *authz = NULL;
	cJSON *j = NULL;
	int ret;

	if (!cst_plain_uid(app->app_id) || !cst_plain_uid(user_uid))
		return cst_error_set(e, CST_ERR_INVALID, "no usable app id or user uid to revoke");
	app_esc = cma_escape(app->app_id);
	path = xasprintf("/manifests/%s/authorizations", app_esc);
	rq.path = path;
	ret = cma_get_json(c, &rq, &j, e);
	if (ret)
		goto out;
	authz = cma_authorization_of(j, user_uid);
	if (!authz) {
		ret = cst_error_set(e, CST_ERR_NOT_FOUND,
				    "'%s' lists no authorization of app '%s' for this user",
				    c->host, app->app_id);
		goto out;
	}
	free(path);
	path = xasprintf("/manifests/%s/authorizations/%s", app_esc, authz);
	cJSON_Delete(j);
	j = NULL;
	rq.method = "DELETE";
	rq.path = path;
	ret = cma_get_json(c, &rq, &j, e);
out:
	cJSON_Delete(j);
	free(app_esc);
	free(path);
	free(authz);
	return ret;
}

int cma_user_email(struct cma_client *c, const char *authtoken, char **email, struct cst_error *e)
{
	struct cma_request rq = {
	    .method = "GET", .path = "/v3/user", .authtoken = authtoken, .cred = CRED_AUTHTOKEN};
	const char *v;
	cJSON *j = NULL;
	int ret;

	*email = NULL;
	ret = cma_get_json(c, &rq, &j, e);
	if (ret)
		goto out;
	v = cma_json_str(cJSON_GetObjectItemCaseSensitive(j, "user"), "email");
	/* it becomes an attribute and a line on the terminal */
	if (!v || !*v || strlen(v) > 254 || !strchr(v, '@') || strpbrk(v, " \t") ||
	    cst_has_control(v)) {
		ret = cst_error_set(e, CST_ERR_HTTP,
				    "'%s' described the user without a usable e-mail; check the "
				    "profile's host",
				    c->host);
		goto out;
	}
	*email = xstrdup(v);
out:
	cJSON_Delete(j);
	return ret;
}
