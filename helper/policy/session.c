/*
 * The Contentstack session a profile works under: its stored authtoken, or its stored
 * OAuth session, whose access token is refreshed here before it runs out.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"
#include "lock.h"

void cst_oauth_session_release(struct cst_oauth_session *s)
{
	if (!s)
		return;
	free_secret(s->access_token);
	free_secret(s->refresh_token);
	free(s->organization_uid);
	free(s->user_uid);
	memset(s, 0, sizeof(*s));
}

/* One line of JSON; every value is a plain word, so nothing needs escaping. */
char *cst_oauth_session_encode(const struct cst_oauth_session *s)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb,
		    "{\"access_token\":\"%s\",\"refresh_token\":\"%s\",\"expires\":%lld,"
		    "\"organization_uid\":\"%s\",\"user_uid\":\"%s\"}",
		    s->access_token, s->refresh_token, (long long)s->expires, s->organization_uid,
		    s->user_uid);
	return strbuf_detach(&sb, NULL);
}

static char *member(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

int cst_oauth_session_decode(const char *secret, struct cst_oauth_session *s)
{
	cJSON *j;
	const cJSON *exp;

	memset(s, 0, sizeof(*s));
	cst_json_wipe_on_free();
	j = secret ? cJSON_Parse(secret) : NULL;
	exp = cJSON_GetObjectItemCaseSensitive(j, "expires");
	s->access_token = member(j, "access_token");
	s->refresh_token = member(j, "refresh_token");
	s->organization_uid = member(j, "organization_uid");
	s->user_uid = member(j, "user_uid");
	s->expires = cJSON_IsNumber(exp) && exp->valuedouble > 0 && exp->valuedouble < 1e12
			 ? (int64_t)exp->valuedouble
			 : 0;
	cJSON_Delete(j);
	/* planted in the store, a value would become headers of its own: never send it */
	if (!cst_plain_token(s->access_token) || !cst_plain_token(s->refresh_token) ||
	    !cst_plain_uid(s->organization_uid) || !cst_plain_uid(s->user_uid) || !s->expires) {
		cst_oauth_session_release(s);
		return CST_ERR_INVALID;
	}
	return 0;
}

char *cst_oauth_credential(const struct cst_oauth_session *s)
{
	return xasprintf(CMA_BEARER "%s %s", s->access_token, s->organization_uid);
}

void cst_profile_oauth_app(const struct cst_profile *p, struct cma_oauth_app *app)
{
	app->app_id = p->oauth_app_id ? p->oauth_app_id : CST_OAUTH_APP_ID;
	app->client_id = p->oauth_client_id ? p->oauth_client_id : CST_OAUTH_CLIENT_ID;
	app->redirect_uri = p->oauth_redirect ? p->oauth_redirect : CST_OAUTH_REDIRECT;
}

int cst_oauth_session_store(struct cst_store *st, const struct cst_profile *p, const char *email,
			    const struct cst_oauth_session *s, struct cst_error *e)
{
	struct cst_item item = CST_ITEM_INIT;
	int ret;

	item.kind = CST_ITEM_OAUTH;
	item.host = xstrdup(p->host);
	item.email = xstrdup(email);
	item.expiry = s->expires;
	item.secret = cst_oauth_session_encode(s);
	ret = cst_store_put(st, &item, NULL, e);
	cst_item_release(&item);
	return ret;
}

static int find_session(const struct cst_profile *p, struct cst_store *st, enum cst_item_kind kind,
			struct cst_item *it, struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT;
	int ret;

	pattern.kind = kind;
	pattern.host = p->host;
	/* with no email configured, the newest session for the host is the one */
	pattern.email = p->email;
	ret = cst_store_get(st, &pattern, it, e);
	if (!ret && (!it->secret || !*it->secret)) {
		cst_item_release(it);
		ret = CST_ERR_NOT_FOUND;
	}
	return ret;
}

static int relogin(const struct cst_profile *p, const char *email, const char *why,
		   struct cst_error *e)
{
	return cst_error_set(e, CST_ERR_RELOGIN,
			     "the OAuth session of '%s' on '%s' %s; run 'cstoken login --oauth "
			     "-p %s'",
			     email ? email : "", p->host, why, p->name);
}

static bool fresh(const struct cst_oauth_session *s, int64_t now)
{
	return s->expires - now > CST_OAUTH_REFRESH_BEFORE;
}

/* The lock of one (host, email) session: a name no profile file name can take. */
static char *refresh_lock_name(const struct cst_profile *p, const char *email)
{
	return xasprintf("oauth session %s %s", p->host, email ? email : "");
}

/*
 * Refreshes the session of item it (host, email) under its lock: a process that waited
 * finds the session another one refreshed and uses that. *s is the session to use.
 */
static int refresh(const struct cst_config *cfg, const struct cst_profile *p, struct cst_store *st,
		   struct cst_item *it, struct cst_oauth_session *s, struct cst_error *e)
{
	struct cst_item again = CST_ITEM_INIT, pattern = CST_ITEM_INIT;
	struct cst_oauth_session newer = {0};
	struct cma_oauth_grant g = {0};
	struct cma_oauth_app app;
	struct cma_client hub;
	char *lockdir = cst_lock_dir(cfg), *name = refresh_lock_name(p, it->email), *host = NULL;
	int timeout = cfg && cfg->timeout > 0 ? cfg->timeout : 10;
	bool client = false;
	int fd = -1, ret;

	ret = cst_lock_acquire(lockdir, name, 2 * CMA_MAX_ATTEMPTS * timeout + 30, &fd, e);
	if (ret)
		goto out;
	pattern.kind = CST_ITEM_OAUTH;
	pattern.host = it->host;
	pattern.email = it->email;
	ret = cst_store_get(st, &pattern, &again, e);
	if (ret == CST_ERR_NOT_FOUND) {
		ret = cst_error_set(e, CST_ERR_NOT_LOGGED_IN,
				    "not logged in to '%s'; run 'cstoken login --oauth -p %s'",
				    p->host, p->name);
		goto out;
	}
	if (ret)
		goto out;
	if (!cst_oauth_session_decode(again.secret, &newer) && fresh(&newer, (int64_t)time(NULL))) {
		cst_debug("another process refreshed the OAuth session of '%s'", it->email);
		cst_oauth_session_release(s);
		*s = newer;
		memset(&newer, 0, sizeof(newer));
		goto out;
	}
	cst_oauth_session_release(&newer);
	cst_debug("refreshing the OAuth session of '%s' on '%s'", it->email, p->host);
	cst_profile_oauth_app(p, &app);
	host = cst_profile_developer_hub_host(p);
	cma_client_init(&hub, host, p->ca_file, timeout);
	client = true;
	ret = cma_oauth_refresh(&hub, &app, s->refresh_token, &g, e);
	if (ret == CST_ERR_AUTH) {
		ret = relogin(p, it->email, "was refused when renewed", e);
		goto out;
	}
	if (ret)
		goto out;
	set_secret(&s->access_token, g.access_token);
	/* as the SDK: an answer without a refresh token keeps the old one */
	if (g.refresh_token)
		set_secret(&s->refresh_token, g.refresh_token);
	set_str(&s->organization_uid, g.organization_uid);
	s->expires = (int64_t)time(NULL) + g.expires_in;
	ret = cst_oauth_session_store(st, p, it->email, s, e);
out:
	if (client)
		cma_client_release(&hub);
	cma_oauth_grant_release(&g);
	cst_item_release(&again);
	cst_lock_release(fd);
	free(lockdir);
	free(name);
	free(host);
	return ret;
}

static int oauth_credential(const struct cst_config *cfg, const struct cst_profile *p,
			    struct cst_store *st, struct cst_item *it, char **cred,
			    struct cst_error *e)
{
	struct cst_oauth_session s = {0};
	int ret;

	if (cst_oauth_session_decode(it->secret, &s))
		return relogin(p, it->email, "is stored malformed, so cstoken will not send it", e);
	ret = fresh(&s, (int64_t)time(NULL)) ? 0 : refresh(cfg, p, st, it, &s, e);
	if (!ret)
		*cred = cst_oauth_credential(&s);
	cst_oauth_session_release(&s);
	return ret;
}

int cst_authtoken_get(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, char **authtoken, char **email, struct cst_error *e)
{
	enum cst_item_kind order[2] = {CST_ITEM_AUTHTOKEN, CST_ITEM_OAUTH};
	struct cst_item it = CST_ITEM_INIT;
	size_t i;
	int ret = CST_ERR_NOT_FOUND;

	*authtoken = NULL;
	if (email)
		*email = NULL;
	if (!p->host || !*p->host)
		return cst_error_set(e, CST_ERR_CONFIG,
				     "profile '%s' has no host: set region or host", p->name);
	if (p->oauth) {
		order[0] = CST_ITEM_OAUTH;
		order[1] = CST_ITEM_AUTHTOKEN;
	}
	for (i = 0; i < 2 && ret == CST_ERR_NOT_FOUND; i++)
		ret = find_session(p, st, order[i], &it, e);
	if (ret == CST_ERR_NOT_FOUND) {
		ret = cst_error_set(e, CST_ERR_NOT_LOGGED_IN,
				    "not logged in to '%s'%s%s%s: run 'cstoken login%s -p %s'",
				    p->host, p->email ? " as '" : "", p->email ? p->email : "",
				    p->email ? "'" : "", p->oauth ? " --oauth" : "", p->name);
		goto out;
	}
	if (ret)
		goto out;
	if (it.kind == CST_ITEM_OAUTH) {
		ret = oauth_credential(cfg, p, st, &it, authtoken, e);
		if (ret)
			goto out;
	} else if (!cst_plain_token(it.secret)) {
		ret =
		    cst_error_set(e, CST_ERR_AUTH,
				  "the stored authtoken for '%s' is malformed, so cstoken will not "
				  "send it; run 'cstoken login -p %s' again",
				  p->host, p->name);
		goto out;
	} else {
		*authtoken = it.secret;
		it.secret = NULL;
	}
	if (email) {
		*email = it.email;
		it.email = NULL;
	}
out:
	cst_item_release(&it);
	return ret;
}

int cst_session_for(const struct cst_config *cfg, const struct cst_profile *p, struct cst_store *st,
		    const char *doing, char **authtoken, struct cst_error *e)
{
	int ret = cst_authtoken_get(cfg, p, st, authtoken, NULL, e);

	if (ret == CST_ERR_NOT_LOGGED_IN)
		return cst_error_set(e, ret,
				     "%s needs a Contentstack session: not logged in to '%s'; run "
				     "'cstoken login -p %s' first",
				     doing, p->host, p->name);
	return ret;
}
