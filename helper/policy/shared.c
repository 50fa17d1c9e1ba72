/*
 * The shared store's policy (shared.h): which token a member of the team gets, who
 * mints it, and when the one it replaced may go. The backend is reached through its
 * table only; a local copy fetched within shared_cache costs what a stored hit costs.
 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "digest.h"
#include "present.h"
#include "lock.h"
#include "shared_impl.h"

#define MAX_RECORD 256
/* What the shared value says about who minted it, shown as is. */
#define MAX_WHO 128

static void shared_token_release(struct shared_token *t)
{
	size_t i;

	free_secret(t->token);
	free(t->uid);
	free(t->name);
	free(t->scope);
	free(t->minted_by);
	for (i = 0; i < t->nretired; i++)
		free(t->retired[i].uid);
	memset(t, 0, sizeof(*t));
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15
		   ? (int64_t)v->valuedouble
		   : -1;
}

/* Text fit for a message: printable, no control characters. */
static char *shown(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	cst_add_shown(&sb, s ? s : "", MAX_WHO);
	return strbuf_detach(&sb, NULL);
}

/* The shared value parsed and checked: any member may have written it. */
static int parse_token(const char *text, struct shared_token *t)
{
	cJSON *j = text && strlen(text) < MAX_VALUE ? cJSON_Parse(text) : NULL, *r;
	const char *tok = jstr(j, "token"), *uid = jstr(j, "uid");
	int64_t expiry = jnum(j, "expiry");

	memset(t, 0, sizeof(*t));
	if (!j || !cst_plain_token(tok) || !cst_plain_uid(uid) || expiry < 0 || !jstr(j, "scope")) {
		cJSON_Delete(j);
		return CST_ERR_INVALID;
	}
	t->token = xstrdup(tok);
	t->uid = xstrdup(uid);
	t->name = shown(jstr(j, "name"));
	t->expiry = expiry;
	t->scope = xstrdup(jstr(j, "scope"));
	t->minted_by = shown(jstr(j, "minted_by"));
	t->minted_at = jnum(j, "minted_at") > 0 ? jnum(j, "minted_at") : 0;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "retired"))
	{
		const char *ru = jstr(r, "uid");

		if (t->nretired < MAX_RETIRED && cst_plain_uid(ru) && jnum(r, "since") >= 0) {
			t->retired[t->nretired].uid = xstrdup(ru);
			t->retired[t->nretired++].since = jnum(r, "since");
		}
	}
	cJSON_Delete(j);
	return 0;
}

static void jadd_str(cJSON *o, const char *k, const char *v)
{
	if (!cJSON_AddStringToObject(o, k, v ? v : ""))
		cst_oom();
}

static void jadd_num(cJSON *o, const char *k, int64_t v)
{
	if (!cJSON_AddNumberToObject(o, k, (double)v))
		cst_oom();
}

/* The JSON of t (caller frees with free_secret: it holds the token). */
static char *print_token(const struct shared_token *t)
{
	cJSON *j = cJSON_CreateObject(), *arr, *r;
	char *s;
	size_t i;

	if (!j)
		cst_oom();
	jadd_str(j, "token", t->token);
	jadd_str(j, "uid", t->uid);
	jadd_str(j, "name", t->name);
	jadd_num(j, "expiry", t->expiry);
	jadd_str(j, "scope", t->scope);
	jadd_str(j, "minted_by", t->minted_by);
	jadd_num(j, "minted_at", t->minted_at);
	arr = cJSON_AddArrayToObject(j, "retired");
	if (!arr)
		cst_oom();
	for (i = 0; i < t->nretired; i++) {
		r = cJSON_CreateObject();
		if (!r || !cJSON_AddItemToArray(arr, r))
			cst_oom();
		jadd_str(r, "uid", t->retired[i].uid);
		jadd_num(r, "since", t->retired[i].since);
	}
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		cst_oom();
	return s;
}

void cst_shared_value_release(struct shared_token *t)
{
	shared_token_release(t);
}

int cst_shared_value_parse(const char *text, struct shared_token *t)
{
	return parse_token(text, t);
}

char *cst_shared_value_print(const struct shared_token *t)
{
	return print_token(t);
}

/* "user@host", as the token name template says it. */
static char *who_am_i(void)
{
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) || !host[0])
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	return xasprintf("%s@%s", pw && pw->pw_name ? pw->pw_name : "unknown", host);
}

/* PREFIX<cma host>/<api_key>/<hex SHA-256 of the scope fingerprint>: no secret in it. */
static int shared_key(const struct cst_profile *p, const char *fp, char **out, struct cst_error *e)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[CST_SHA256_LEN];
	const char *h;
	size_t i;
	int ret;

	*out = NULL;
	ret = cst_sha256(fp, strlen(fp), md, e);
	if (ret)
		return ret;
	strbuf_addstr(&sb, p->shared.prefix ? p->shared.prefix : "/cstoken/");
	for (h = p->host ? p->host : ""; *h; h++)
		strbuf_addch(&sb, (char)(*h >= 'A' && *h <= 'Z' ? *h - 'A' + 'a' : *h));
	strbuf_addf(&sb, "/%s/", p->api_key ? p->api_key : "");
	for (i = 0; i < CST_SHA256_LEN; i++)
		strbuf_addf(&sb, "%02x", md[i]);
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- the local copy and when it was fetched ---- */

/* When the local copy uid was last fetched from the shared store; 0 when unknown. */
static int64_t fetched_at(const struct cst_config *cfg, const struct cst_profile *p,
			  const char *uid)
{
	char *path = cst_lock_dir_file(cfg, "shared", p->name);
	char buf[MAX_RECORD], *tab;
	int64_t when = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;

	free(path);
	if (!fp) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (fgets(buf, sizeof(buf), fp) && (tab = strchr(buf, '\t'))) {
		*tab++ = '\0';
		tab[strcspn(tab, "\n")] = '\0';
		if (!str_equal(tab, uid) || parse_int64(buf, 0, INT64_MAX, &when))
			when = 0;
	}
	fclose(fp);
	return when;
}

static void note_fetched(const struct cst_config *cfg, const struct cst_profile *p, const char *uid,
			 int64_t now)
{
	char *path = cst_lock_dir_file(cfg, "shared", p->name);
	char *tmp = xasprintf("%s.%ld", path, (long)getpid());
	char *line = xasprintf("%" PRId64 "\t%s\n", now, uid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	bool ok = fd >= 0 && !cst_write_all(fd, line, strlen(line));

	if (fd >= 0 && close(fd))
		ok = false;
	if (!ok || rename(tmp, path)) {
		cst_debug("cannot note when the shared token was fetched in '%s'", path);
		unlink(tmp);
	}
	free(line);
	free(tmp);
	free(path);
}

/* The item the local store keeps for t. */
static void item_of(const struct cst_profile *p, const struct shared_token *t, const char *fp,
		    struct cst_item *it)
{
	cst_item_init(it);
	it->kind = CST_ITEM_TOKEN;
	it->profile = xstrdup(p->name);
	it->host = xstrdup(p->host);
	it->api_key = xstrdup(p->api_key);
	it->uid = xstrdup(t->uid);
	it->name = xstrdup(t->name);
	it->scope_fp = xstrdup(fp);
	it->expiry = t->expiry;
	it->secret = xstrdup(t->token);
}

static bool life_left(int64_t expiry, int64_t now, int64_t margin)
{
	return expiry == 0 || expiry - now > margin;
}

void cst_shared_password_pattern(const struct cst_profile *p, struct cst_item *pattern)
{
	const char *ep = p->shared.nendpoints ? p->shared.endpoints[0] : "";
	const char *h = strstr(ep, "://");

	cst_item_init(pattern);
	pattern->kind = CST_ITEM_CREDENTIAL;
	pattern->protocol = xstrdup("etcd");
	pattern->host = xstrdup(h ? h + 3 : ep);
	pattern->username = xstrdup(p->shared.user ? p->shared.user : "");
}

/* ---- one conversation with the shared store ---- */

struct shared {
	const struct cst_config *cfg;
	const struct cst_profile *p;
	struct cst_store *st;
	const struct cst_shared_ops *ops;
	struct cst_shared_conn *conn;
	char *key;
	char *fp;
};

/* The etcd user's password from the local store, when etcd_user is set. */
static int etcd_password(const struct cst_profile *p, struct cst_store *st, char **out,
			 struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT, it = CST_ITEM_INIT;
	int ret;

	*out = NULL;
	if (!p->shared.user)
		return 0;
	cst_shared_password_pattern(p, &pattern);
	ret = cst_store_get(st, &pattern, &it, e);
	cst_item_release(&pattern);
	if (ret == CST_ERR_NOT_FOUND)
		return 0; /* the backend says what to run */
	if (ret)
		return ret;
	*out = it.secret;
	it.secret = NULL;
	cst_item_release(&it);
	return 0;
}

static int shared_open(struct shared *s, const struct cst_config *cfg, const struct cst_profile *p,
		       struct cst_store *st, struct cst_error *e)
{
	char *password = NULL;
	int ret;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->p = p;
	s->st = st;
	s->fp = cst_scope_fingerprint(p);
	ret = shared_key(p, s->fp, &s->key, e);
	if (!ret)
		s->ops = cst_shared_etcd_ops(e);
	if (!ret && !s->ops)
		ret = CST_ERR_SYSTEM;
	if (!ret)
		ret = etcd_password(p, st, &password, e);
	if (!ret)
		ret = s->ops->open(&p->shared, password, cfg ? cfg->timeout : 0, &s->conn, e);
	free_secret(password);
	return ret;
}

static void shared_close(struct shared *s)
{
	if (s->ops && s->conn)
		s->ops->close(s->conn);
	free(s->key);
	free(s->fp);
	memset(s, 0, sizeof(*s));
}

/* The stack's tokens as the minting session sees them; *client initialised on success. */
static int session_open(const struct shared *s, struct cma_client *client, char **authtoken,
			struct cst_error *e)
{
	int ret = cst_authtoken_get(s->cfg, s->p, s->st, authtoken, NULL, e);

	if (!ret && (!*authtoken || !**authtoken))
		ret = CST_ERR_NOT_LOGGED_IN;
	if (ret) {
		free_secret(*authtoken);
		*authtoken = NULL;
		return ret;
	}
	cma_client_init(client, s->p->host, s->p->ca_file, s->cfg ? s->cfg->timeout : 0);
	return 0;
}

/*
 * Deletes the retired tokens whose time has come (no cache can still hold them) and
 * publishes the value without them. Only a member with a session does this; a failure
 * leaves them for the next one.
 */
static void retire_due(struct shared *s, struct shared_token *t, int64_t version, int64_t now)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cma_client client;
	char *authtoken = NULL, *text;
	size_t i, kept = 0;
	bool changed = false;
	int r;

	for (i = 0; i < t->nretired && t->retired[i].since + s->p->shared.cache_seconds > now; i++)
		;
	if (i == t->nretired || session_open(s, &client, &authtoken, &err))
		return;
	for (i = 0; i < t->nretired; i++) {
		struct retired *rt = &t->retired[i];

		if (rt->since + s->p->shared.cache_seconds <= now) {
			r = cma_token_delete(&client, s->p->api_key, authtoken, rt->uid, &err);
			if (!r || r == CST_ERR_NOT_FOUND) {
				cst_debug("revoked the retired shared token uid %s", rt->uid);
				free(rt->uid);
				changed = true;
				continue;
			}
			cst_warn("cannot revoke the replaced shared token (uid "
				 "%s): %s; the next call tries again",
				 rt->uid, cst_error_msg(&err, r));
		}
		t->retired[kept++] = *rt;
	}
	t->nretired = kept;
	if (changed) {
		text = print_token(t);
		r = s->ops->publish(s->conn, s->key, text, 0, version, &err);
		if (r)
			cst_debug("the shared value changed meanwhile: %s", cst_error_msg(&err, r));
		free_secret(text);
	}
	cma_client_release(&client);
	free_secret(authtoken);
}

/*
 * A member that died holding the claim left its intent: a token it minted may be on the
 * stack without being published. Found by its name (the dead member's template and a
 * mint time not before its claim) and revoked, else reported.
 */
static void orphans_revoke(struct shared *s, const char *intent, const struct shared_token *cur)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cma_client client;
	struct cma_token *toks = NULL;
	cJSON *j = cJSON_Parse(intent);
	const char *base = jstr(j, "name");
	char *authtoken = NULL, *who = shown(jstr(j, "holder"));
	int64_t since = jnum(j, "since");
	size_t n = 0, i, k;
	int r;

	if (!base || since < 0 || session_open(s, &client, &authtoken, &err)) {
		cJSON_Delete(j);
		free(who);
		return;
	}
	r = cma_tokens_list(&client, s->p->api_key, authtoken, &toks, &n, &err);
	for (i = 0; !r && i < n; i++) {
		struct tm tm;
		const char *when;
		bool known = cur && str_equal(cur->uid, toks[i].uid);

		for (k = 0; cur && k < cur->nretired; k++)
			known = known || str_equal(cur->retired[k].uid, toks[i].uid);
		if (known || !cst_plain_uid(toks[i].uid) || !toks[i].name ||
		    !cst_token_is_ours(&toks[i], base, NULL, 0) || !toks[i].name[strlen(base)])
			continue;
		memset(&tm, 0, sizeof(tm));
		when = strptime(toks[i].name + strlen(base) + 1, "%Y-%m-%d %H:%M:%S UTC", &tm);
		if (!when || *when || (int64_t)timegm(&tm) < since)
			continue;
		r = cma_token_delete(&client, s->p->api_key, authtoken, toks[i].uid, &err);
		if (!r || r == CST_ERR_NOT_FOUND)
			cst_warn("%s died while minting for profile '%s'; its "
				 "unpublished token (uid %s) was revoked",
				 who, s->p->name, toks[i].uid);
		else
			cst_warn(
			    "%s died while minting for profile '%s' and left token uid %s, "
			    "which cannot be revoked now (%s); run 'cstoken revoke -p %s --uid "
			    "%s'",
			    who, s->p->name, toks[i].uid, cst_error_msg(&err, r), s->p->name,
			    toks[i].uid);
		r = 0;
	}
	cma_token_array_free(toks, n);
	cma_client_release(&client);
	free_secret(authtoken);
	cJSON_Delete(j);
	free(who);
}

/* Takes t as this machine's copy: stored, and noted as fetched now. */
static int keep_copy(struct shared *s, const struct shared_token *t, struct cst_item *out,
		     struct cst_error *e)
{
	int ret;

	item_of(s->p, t, s->fp, out);
	ret = cst_store_put(s->st, out, NULL, e);
	if (ret) {
		cst_item_release(out);
		return ret;
	}
	note_fetched(s->cfg, s->p, t->uid, (int64_t)time(NULL));
	return 0;
}

/* Who may mint, for the line a member that cannot gets. */
static int cannot_mint(const struct shared *s, const char *why, struct cst_error *e)
{
	return cst_error_set(
	    e, CST_ERR_NOT_FOUND,
	    "no shared token of profile '%s' is published in etcd (%s), and this machine cannot "
	    "mint one (%s); a stack owner or admin of '%s' publishes it for everyone with "
	    "'cstoken login -p %s' and 'cstoken token -p %s'",
	    s->p->name, s->ops->endpoints(s->conn), why, s->p->api_key ? s->p->api_key : "?",
	    s->p->name, s->p->name);
}

/*
 * Mints under the claim and publishes for everyone; the new token is revoked again when
 * it cannot be published (the claim lost, the cluster gone). old is the value replaced.
 */
static int mint_publish(struct shared *s, int64_t lease, const struct shared_token *old,
			int64_t min_ttl, struct cst_item *fresh, struct cst_error *e)
{
	struct cst_error err = CST_ERROR_INIT;
	struct shared_token t = {0};
	struct cma_client client;
	char *text, *authtoken = NULL;
	int64_t now;
	size_t i;
	int ret, r;

	ret = cst_token_obtain_for(s->cfg, s->p, s->st, CST_TOKEN_FORCE | CST_TOKEN_LOCAL, min_ttl,
				   fresh, NULL, e);
	if (ret)
		return ret;
	now = (int64_t)time(NULL);
	t.token = xstrdup(fresh->secret);
	t.uid = xstrdup(fresh->uid);
	t.name = xstrdup(fresh->name ? fresh->name : "");
	t.expiry = fresh->expiry;
	t.scope = xstrdup(s->fp);
	t.minted_by = who_am_i();
	t.minted_at = now;
	/* the one replaced goes once every cache has moved on, with those still waiting */
	for (i = 0; old && i < old->nretired && t.nretired < MAX_RETIRED - 1; i++) {
		t.retired[t.nretired].uid = xstrdup(old->retired[i].uid);
		t.retired[t.nretired++].since = old->retired[i].since;
	}
	if (old && !str_equal(old->uid, t.uid)) {
		t.retired[t.nretired].uid = xstrdup(old->uid);
		t.retired[t.nretired++].since = now;
	}
	text = print_token(&t);
	ret = s->ops->publish(s->conn, s->key, text, lease, 0, e);
	free_secret(text);
	if (ret) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s",
			 ret == CST_ERR_INVALID ? "another member took the claim over"
						: cst_error_msg(e, ret));
		r = session_open(s, &client, &authtoken, &err);
		if (!r) {
			r = cma_token_delete(&client, s->p->api_key, authtoken, t.uid, &err);
			cma_client_release(&client);
			free_secret(authtoken);
		}
		cst_store_erase(s->st, fresh, NULL, NULL);
		cst_item_release(fresh);
		ret = cst_error_set(
		    e, ret == CST_ERR_INVALID ? CST_ERR_NETWORK : ret,
		    "cannot publish the new token of profile '%s' in the shared store (%s)%s",
		    s->p->name, why,
		    !r || r == CST_ERR_NOT_FOUND ? ", so it was revoked again"
						 : "; revoke it with 'cstoken revoke --uid'");
	} else {
		note_fetched(s->cfg, s->p, t.uid, now);
	}
	shared_token_release(&t);
	return ret;
}

static char *intent_text(const struct cst_profile *p)
{
	cJSON *j = cJSON_CreateObject();
	char *who = who_am_i(), *name = cst_token_name(p), *holder, *s;

	if (!j)
		cst_oom();
	holder = xasprintf("%s pid %ld", who, (long)getpid());
	jadd_str(j, "holder", holder);
	jadd_str(j, "name", name);
	jadd_num(j, "since", (int64_t)time(NULL));
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		cst_oom();
	free(who);
	free(name);
	free(holder);
	return s;
}

/* The local copy of the shared token, when it is one for p's scope. */
static int local_copy(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, const char *fp, struct cst_item *cur,
		      struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT;
	int ret;

	(void)cfg;
	pattern.kind = CST_ITEM_TOKEN;
	pattern.profile = p->name;
	ret = cst_store_get(st, &pattern, cur, e);
	if (!ret && (!cur->secret || !cst_scope_matches(p, fp, cur->scope_fp))) {
		cst_item_release(cur);
		ret = CST_ERR_NOT_FOUND;
	}
	return ret;
}

#define WAITED 1

/* How long a member waits for the one minting: its calls and the claim's lease. */
static int lock_wait(const struct cst_config *cfg, const struct cst_profile *p)
{
	int timeout = cfg && cfg->timeout > 0 ? cfg->timeout : CST_DEFAULT_TIMEOUT;

	return 2 * timeout + (int)p->shared.claim_ttl;
}

/*
 * This machine's turn to ask the cluster, under a lock beside the minting lock (its own:
 * the mint takes that one): exclusive at once when it is free (0). When another process
 * of this machine holds it, the lock is taken shared once that one is done (WAITED), so
 * that every waiter finds its copy side by side; with excl, only exclusive, in turn.
 */
static int machine_turn(const struct cst_config *cfg, const struct cst_profile *p, bool excl,
			int *lockfd, struct cst_error *e)
{
	char *dir = cst_lock_dir(cfg), *name = xasprintf("shared+%s", p->name);
	int ret = cst_lock_acquire(dir, name, 0, lockfd, e);

	if (ret == CST_ERR_TIMEOUT && !excl) {
		ret = cst_lock_acquire_shared(dir, name, lock_wait(cfg, p), lockfd, e);
		if (!ret)
			ret = WAITED;
	} else if (ret == CST_ERR_TIMEOUT) {
		ret = cst_lock_acquire(dir, name, lock_wait(cfg, p), lockfd, e);
	}
	free(dir);
	free(name);
	return ret;
}

int cst_shared_obtain(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, unsigned flags, int64_t min_ttl, struct cst_item *out,
		      bool *minted, struct cst_error *e)
{
	struct cst_item cur = CST_ITEM_INIT;
	struct cst_shared_snap snap = {0};
	struct shared_token val = {0};
	struct shared s = {0};
	struct cst_error err = CST_ERROR_INIT;
	char *authtoken = NULL, *fp = cst_scope_fingerprint(p), *intent = NULL, *prev = NULL;
	const char *why_not = NULL;
	bool force = flags & CST_TOKEN_FORCE, have_cur, have_val = false, can_mint;
	int64_t now = (int64_t)time(NULL), deadline, lease = 0, margin;
	int ret, lockfd = -1;

	cst_item_init(out);
	if (minted)
		*minted = false;
	can_mint = force || ((flags & CST_TOKEN_MINT) && p->mint);
	margin = can_mint && p->renew_before > min_ttl ? p->renew_before : min_ttl;

	/* the local copy: no network while it was fetched within shared_cache */
	ret = local_copy(cfg, p, st, fp, &cur, e);
	if (ret && ret != CST_ERR_NOT_FOUND)
		goto out;
	have_cur = !ret;
	if (have_cur && !force && life_left(cur.expiry, now, margin) &&
	    now - fetched_at(cfg, p, cur.uid) < p->shared.cache_seconds) {
		cst_debug("using the local copy of the shared token of profile '%s'", p->name);
		goto use_cur;
	}

	/* one process per machine asks the cluster; the others take what it fetched */
	ret = machine_turn(cfg, p, force, &lockfd, e);
	if (ret == WAITED) {
		cst_item_release(&cur);
		ret = local_copy(cfg, p, st, fp, &cur, e);
		if (ret && ret != CST_ERR_NOT_FOUND)
			goto out;
		have_cur = !ret;
		if (have_cur && life_left(cur.expiry, (int64_t)time(NULL), margin) &&
		    fetched_at(cfg, p, cur.uid) >= now) {
			cst_debug("another process fetched the shared token of profile '%s'",
				  p->name);
			goto use_cur;
		}
		/* it found nothing for this call: ask the cluster in turn */
		cst_lock_release(lockfd);
		lockfd = -1;
		ret = machine_turn(cfg, p, true, &lockfd, e);
	}
	if (ret)
		goto out;

	ret = shared_open(&s, cfg, p, st, e);
	if (ret)
		goto fallback;
	if (can_mint) {
		ret = cst_authtoken_get(cfg, p, st, &authtoken, NULL, &err);
		if (ret || !authtoken || !*authtoken) {
			can_mint = false;
			why_not = p->mint || force ? "not logged in to Contentstack"
						   : "minting is off (mint = no)";
		}
		free_secret(authtoken);
		authtoken = NULL;
	} else {
		why_not = p->mint ? "this call may not mint" : "minting is off (mint = no)";
	}
	margin = can_mint && p->renew_before > min_ttl ? p->renew_before : min_ttl;
	deadline = cst_monotonic_ms() +
		   1000 * ((cfg && cfg->timeout > 0 ? cfg->timeout : CST_DEFAULT_TIMEOUT) +
			   p->shared.claim_ttl);
	for (;;) {
		cst_shared_snap_release(&snap);
		shared_token_release(&val);
		have_val = false;
		ret = s.ops->read(s.conn, s.key, &snap, e);
		if (ret)
			goto fallback;
		have_val = snap.token.value && !parse_token(snap.token.value, &val) &&
			   cst_scope_matches(p, fp, val.scope);
		now = (int64_t)time(NULL);
		if (have_val && !force && life_left(val.expiry, now, margin)) {
			if (can_mint)
				retire_due(&s, &val, snap.token.version, now);
			ret = keep_copy(&s, &val, out, e);
			goto out;
		}
		/* somebody else renews it, or this member cannot: it still serves */
		if (have_val && !force && (snap.claim.value || !can_mint) &&
		    life_left(val.expiry, now, min_ttl)) {
			ret = keep_copy(&s, &val, out, e);
			goto out;
		}
		/* somebody is minting: wait for the token */
		if (snap.claim.value) {
			ret = s.ops->watch(s.conn, s.key, snap.revision, deadline, e);
			if (ret == CST_ERR_TIMEOUT)
				ret =
				    cst_error_set(e, CST_ERR_TIMEOUT,
						  "timed out waiting for another member to publish "
						  "the token of profile '%s' in etcd (%s)",
						  p->name, s.ops->endpoints(s.conn));
			if (ret)
				goto fallback;
			continue;
		}
		if (!can_mint) {
			ret = cannot_mint(&s, why_not, e);
			goto fallback;
		}
		if (cst_monotonic_ms() > deadline) {
			ret = cst_error_set(e, CST_ERR_TIMEOUT,
					    "timed out taking the claim to mint the token of "
					    "profile '%s' in etcd (%s)",
					    p->name, s.ops->endpoints(s.conn));
			goto fallback;
		}
		free(intent);
		intent = intent_text(p);
		ret = s.ops->claim(s.conn, s.key, intent, intent, p->shared.claim_ttl, &lease,
				   &prev, e);
		if (ret == CST_ERR_INVALID)
			continue; /* another member was quicker: wait for it */
		if (ret == CST_ERR_FORBIDDEN) {
			char why[sizeof(e->msg)];

			snprintf(why, sizeof(why), "%s", cst_error_msg(e, ret));
			ret = cst_error_set(e, CST_ERR_FORBIDDEN,
					    "%s; this member may read the shared token of profile "
					    "'%s' but not publish one, so nothing was minted",
					    why, p->name);
			goto fallback;
		}
		if (ret)
			goto fallback;
		/* a new read under the claim: the member before may have published */
		cst_shared_snap_release(&snap);
		shared_token_release(&val);
		have_val = false;
		ret = s.ops->read(s.conn, s.key, &snap, e);
		have_val = !ret && snap.token.value && !parse_token(snap.token.value, &val) &&
			   cst_scope_matches(p, fp, val.scope);
		if (!ret && have_val && !force &&
		    life_left(val.expiry, (int64_t)time(NULL), margin)) {
			s.ops->release(s.conn, s.key, lease, NULL);
			free(prev);
			prev = NULL;
			ret = keep_copy(&s, &val, out, e);
			goto out;
		}
		if (ret) {
			s.ops->release(s.conn, s.key, lease, NULL);
			goto fallback;
		}
		if (prev)
			orphans_revoke(&s, prev, have_val ? &val : NULL);
		free(prev);
		prev = NULL;
		ret = mint_publish(&s, lease, have_val ? &val : NULL, min_ttl, out, e);
		if (ret) /* a publish releases the claim itself */
			s.ops->release(s.conn, s.key, lease, NULL);
		if (ret == CST_ERR_AUTH || ret == CST_ERR_FORBIDDEN ||
		    ret == CST_ERR_NOT_LOGGED_IN) {
			/* this member may not mint after all: it reads, like the others */
			cst_debug("cannot mint: %s", cst_error_msg(e, ret));
			can_mint = false;
			why_not = ret == CST_ERR_NOT_LOGGED_IN ? "not logged in to Contentstack"
							       : "Contentstack refused to create a "
								 "token for this user";
			force = false;
			margin = min_ttl;
			continue;
		}
		if (ret)
			goto fallback;
		if (minted)
			*minted = true;
		goto out;
	}

fallback:
	/* a failed renewal must not take away the shared token while it still works */
	if (ret && !force && have_val && life_left(val.expiry, (int64_t)time(NULL), min_ttl)) {
		cst_warn("cannot renew the shared token of profile '%s': %s; using it as it is",
			 p->name, cst_error_msg(e, ret));
		ret = keep_copy(&s, &val, out, e);
		goto out;
	}
	/* the cluster cannot be asked: a copy still valid is better than nothing */
	if (ret && ret != CST_ERR_FORBIDDEN && ret != CST_ERR_CONFIG && !force && have_cur &&
	    life_left(cur.expiry, (int64_t)time(NULL), min_ttl) && ret != CST_ERR_NOT_FOUND) {
		cst_warn("%s; using this machine's copy of the shared token of "
			 "profile '%s'",
			 cst_error_msg(e, ret), p->name);
		goto use_cur;
	}
	goto out;
use_cur:
	*out = cur;
	cst_item_init(&cur);
	ret = 0;
out:
	cst_lock_release(lockfd);
	cst_shared_snap_release(&snap);
	shared_token_release(&val);
	shared_close(&s);
	cst_item_release(&cur);
	free(intent);
	free(prev);
	free(fp);
	return ret;
}

int cst_shared_rotate(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, struct cst_rotated *out, struct cst_error *e)
{
	struct cst_item old = CST_ITEM_INIT;
	char *fp = cst_scope_fingerprint(p);
	int ret;

	memset(out, 0, sizeof(*out));
	cst_item_init(&out->fresh);
	/* this machine's copy: the shared token it replaces, as far as it knows */
	if (!local_copy(cfg, p, st, fp, &old, NULL) && old.uid)
		out->old_uid = cst_shown(old.uid);
	cst_item_release(&old);
	free(fp);
	ret = cst_shared_obtain(cfg, p, st, CST_TOKEN_MINT | CST_TOKEN_FORCE, 0, &out->fresh, NULL,
				e);
	if (ret) {
		cst_rotated_release(out);
		return ret;
	}
	if (out->old_uid && str_equal(out->old_uid, out->fresh.uid)) {
		free(out->old_uid);
		out->old_uid = NULL;
	}
	out->old_due = (int64_t)time(NULL) + p->shared.cache_seconds;
	return 0;
}

/* Forgets this machine's copy of the shared token: the items removed. */
static size_t drop_copy(const struct cst_config *cfg, const struct cst_profile *p,
			struct cst_store *st)
{
	struct cst_item pattern = CST_ITEM_INIT;
	char *path = cst_lock_dir_file(cfg, "shared", p->name);
	size_t removed = 0;

	pattern.kind = CST_ITEM_TOKEN;
	pattern.profile = p->name;
	cst_store_erase(st, &pattern, &removed, NULL);
	unlink(path);
	free(path);
	return removed;
}

int cst_shared_revoke(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, struct cst_revoked *out, struct cst_error *e)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cst_shared_snap snap = {0};
	struct shared_token val = {0};
	struct cma_client client;
	struct shared s;
	char *authtoken = NULL;
	bool session = false;
	size_t i;
	int ret, r;

	memset(out, 0, sizeof(*out));
	ret = shared_open(&s, cfg, p, st, e);
	if (!ret)
		ret = s.ops->read(s.conn, s.key, &snap, e);
	if (ret)
		goto out;
	if (!snap.token.value || parse_token(snap.token.value, &val)) {
		drop_copy(cfg, p, st);
		ret = cst_error_set(e, CST_ERR_NOT_FOUND,
				    "no shared token of profile '%s' is published in etcd (%s); "
				    "this machine's copy, if any, was forgotten",
				    p->name, s.ops->endpoints(s.conn));
		goto out;
	}
	ret = session_open(&s, &client, &authtoken, e);
	if (ret) {
		ret =
		    cst_error_set(e, CST_ERR_NOT_LOGGED_IN,
				  "revoking the shared token of profile '%s' for everyone needs a "
				  "Contentstack login of a stack owner or admin; run 'cstoken "
				  "login -p %s'",
				  p->name, p->name);
		goto out;
	}
	session = true;
	ret = cma_token_delete(&client, p->api_key, authtoken, val.uid, e);
	if (ret && ret != CST_ERR_NOT_FOUND)
		goto out;
	for (i = 0; i < val.nretired; i++) {
		r = cma_token_delete(&client, p->api_key, authtoken, val.retired[i].uid, &err);
		if (r && r != CST_ERR_NOT_FOUND)
			cst_warn("cannot revoke the replaced shared token uid %s: "
				 "%s; run 'cstoken revoke -p %s --uid %s'",
				 val.retired[i].uid, cst_error_msg(&err, r), p->name,
				 val.retired[i].uid);
	}
	ret = s.ops->remove(s.conn, s.key, snap.token.version, e);
	if (ret == CST_ERR_INVALID)
		ret = cst_error_set(e, CST_ERR_INVALID,
				    "token uid %s is revoked, but another member published a new "
				    "shared token of profile '%s' meanwhile; it stays",
				    val.uid, p->name);
	else if (ret) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", cst_error_msg(e, ret));
		ret = cst_error_set(e, ret,
				    "token uid %s is revoked, but the shared store still holds it "
				    "(%s); run 'cstoken revoke -p %s' again",
				    val.uid, why, p->name);
	}
	out->removed = drop_copy(cfg, p, st);
	if (!ret) {
		out->uid = cst_shown(val.uid);
		out->name = val.name && *val.name ? xstrdup(val.name) : NULL;
		out->shared = true;
	}
out:
	if (ret)
		cst_revoked_release(out);
	if (session)
		cma_client_release(&client);
	free_secret(authtoken);
	shared_token_release(&val);
	cst_shared_snap_release(&snap);
	shared_close(&s);
	return ret;
}

static void add_time(struct strbuf *sb, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (t && gmtime_r(&tt, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		strbuf_addstr(sb, buf);
	else
		strbuf_addstr(sb, t ? "?" : "never");
}

int cst_shared_status(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, struct strbuf *out, struct cst_error *e)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cst_shared_snap snap = {0};
	struct shared_token val = {0};
	struct shared s;
	size_t i;
	int ret;

	ret = shared_open(&s, cfg, p, st, &err);
	if (ret) {
		strbuf_addstr(out, "shared   etcd: cannot be asked\n");
		*e = err;
		shared_close(&s);
		return ret;
	}
	strbuf_addf(out, "shared   etcd %s (prefix %s%s%s), cache %" PRId64 "s\n",
		    s.ops->endpoints(s.conn), p->shared.prefix, p->shared.user ? ", user " : "",
		    p->shared.user ? p->shared.user : "", p->shared.cache_seconds);
	s.ops->health(s.conn, out);
	ret = s.ops->read(s.conn, s.key, &snap, &err);
	if (ret) {
		strbuf_addstr(out, "         cannot read the shared token\n");
		*e = err;
		goto out;
	}
	if (!snap.token.value) {
		strbuf_addstr(out, "         no shared token published yet\n");
	} else if (parse_token(snap.token.value, &val)) {
		strbuf_addstr(out, "         the shared value is not one cstoken wrote\n");
	} else {
		strbuf_addf(out, "         shared token uid %s, minted by %s at ", val.uid,
			    val.minted_by);
		add_time(out, val.minted_at);
		strbuf_addstr(out, ", expires ");
		add_time(out, val.expiry);
		strbuf_addch(out, '\n');
		for (i = 0; i < val.nretired; i++) {
			strbuf_addf(out, "         replaced token uid %s, revoked after ",
				    val.retired[i].uid);
			add_time(out, val.retired[i].since + p->shared.cache_seconds);
			strbuf_addch(out, '\n');
		}
	}
	if (snap.claim.value) {
		char *who = NULL;
		cJSON *j = cJSON_Parse(snap.claim.value);

		who = shown(jstr(j, "holder"));
		strbuf_addf(out, "         %s is minting now\n", who);
		free(who);
		cJSON_Delete(j);
	} else if (snap.intent.value) {
		cJSON *j = cJSON_Parse(snap.intent.value);
		char *who = shown(jstr(j, "holder"));

		strbuf_addf(out, "         %s died while minting (since ", who);
		add_time(out, jnum(j, "since") > 0 ? jnum(j, "since") : 0);
		strbuf_addstr(out, "); the next mint revokes a token it left on the stack\n");
		free(who);
		cJSON_Delete(j);
	}
out:
	shared_token_release(&val);
	cst_shared_snap_release(&snap);
	shared_close(&s);
	return ret;
}

int cst_shared_uids(const struct cst_config *cfg, const struct cst_profile *p, struct cst_store *st,
		    char ***uids, size_t *n, struct cst_error *e)
{
	struct cst_shared_snap snap = {0};
	struct shared_token val = {0};
	struct shared s;
	size_t i;
	int ret;

	*uids = NULL;
	*n = 0;
	ret = shared_open(&s, cfg, p, st, e);
	if (!ret)
		ret = s.ops->read(s.conn, s.key, &snap, e);
	if (!ret && snap.token.value && !parse_token(snap.token.value, &val)) {
		*uids = xcalloc(val.nretired + 1, sizeof(char *));
		(*uids)[(*n)++] = xstrdup(val.uid);
		for (i = 0; i < val.nretired; i++)
			(*uids)[(*n)++] = xstrdup(val.retired[i].uid);
	}
	shared_token_release(&val);
	cst_shared_snap_release(&snap);
	shared_close(&s);
	return ret;
}

int cst_shared_login(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, const char *password, struct cst_error *e)
{
	struct cst_shared_snap snap = {0};
	struct cst_item it;
	struct shared s = {0};
	int ret;

	s.fp = cst_scope_fingerprint(p);
	ret = shared_key(p, s.fp, &s.key, e);
	if (!ret && !(s.ops = cst_shared_etcd_ops(e)))
		ret = CST_ERR_SYSTEM;
	if (!ret)
		ret = s.ops->open(&p->shared, password, cfg ? cfg->timeout : 0, &s.conn, e);
	/* a read of the profile's key proves the password (and a role that reads) */
	if (!ret)
		ret = s.ops->read(s.conn, s.key, &snap, e);
	cst_shared_snap_release(&snap);
	if (!ret) {
		cst_shared_password_pattern(p, &it);
		it.secret = xstrdup(password);
		ret = cst_store_put(st, &it, NULL, e);
		cst_item_release(&it);
	}
	shared_close(&s);
	return ret;
}
