/* Minting policy: when the stored token will do, and how a new one is made safely. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"
#include "digest.h"
#include "lock.h"

/*
 * The API reference says 10 tokens per stack (newer docs say 30) and that one
 * more silently expires the oldest: count against the conservative figure.
 */
#define STACK_TOKEN_LIMIT 10
#define DAY_SECONDS 86400
/* How many of cstoken's own tokens a stack-full message names. */
#define MAX_NAMED_TOKENS 3
#define MAX_NAME_SHOWN 60

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names sorted and comma-separated: the order in the config carries no meaning. */
static void add_sorted_list(struct strbuf *sb, const char *key, char **v, size_t n)
{
	const char **sorted = xcalloc(n, sizeof(*sorted));
	size_t i;

	for (i = 0; i < n; i++)
		sorted[i] = v[i];
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	strbuf_addf(sb, "%s=", key);
	for (i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? "," : "", sorted[i]);
	strbuf_addch(sb, '\n');
	free(sorted);
}

char *cst_scope_fingerprint(const struct cst_profile *p)
{
	struct strbuf sb = STRBUF_INIT, hex = STRBUF_INIT;
	unsigned char md[CST_SHA256_LEN];
	size_t i;
	const char *h;

	/* what the token can reach: where, which stack, which branches, read or write
	 */
	strbuf_addstr(&sb, "cstoken-scope-v1\nhost=");
	for (h = p->host ? p->host : ""; *h; h++)
		strbuf_addch(&sb, (char)(*h >= 'A' && *h <= 'Z' ? *h - 'A' + 'a' : *h));
	strbuf_addf(&sb, "\napi_key=%s\n", p->api_key ? p->api_key : "");
	add_sorted_list(&sb, "branches", p->branches, p->nbranches);
	add_sorted_list(&sb, "aliases", p->aliases, p->naliases);
	strbuf_addf(&sb, "acl=%s\n", p->write ? "read,write" : "read");
	/* an empty fingerprint never matches: the token is re-minted */
	if (!cst_sha256(sb.buf, sb.len, md, NULL))
		for (i = 0; i < CST_SHA256_LEN; i++)
			strbuf_addf(&hex, "%02x", md[i]);
	strbuf_release(&sb);
	return strbuf_detach(&hex, NULL);
}

/* {user}, {hostname} and {profile} in t replaced; anything else kept as written. */
static char *expand_template(const struct cst_profile *p, const char *t)
{
	struct strbuf sb = STRBUF_INIT;
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw && pw->pw_name ? pw->pw_name : getenv_nonempty("USER");
	char host[256] = "";
	char *dot;

	if (gethostname(host, sizeof(host) - 1) || !host[0])
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	/* the short name, as a shell prompt shows it */
	dot = strchr(host, '.');
	if (dot && dot != host)
		*dot = '\0';
	while (*t) {
		if (!strncmp(t, "{user}", 6)) {
			strbuf_addstr(&sb, user ? user : "unknown");
			t += 6;
		} else if (!strncmp(t, "{hostname}", 10)) {
			strbuf_addstr(&sb, host);
			t += 10;
		} else if (!strncmp(t, "{profile}", 9)) {
			strbuf_addstr(&sb, p->name);
			t += 9;
		} else {
			strbuf_addch(&sb, *t++);
		}
	}
	return strbuf_detach(&sb, NULL);
}

char *cst_token_name(const struct cst_profile *p)
{
	return expand_template(p, p->name_template ? p->name_template
						   : "cstoken {user}@{hostname} {profile}");
}

static void format_date(int64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 11, "%Y-%m-%d", &tm))
		strcpy(out, "?");
}

static int parse_date(const char *s, int64_t *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return CST_ERR_INVALID;
	*t = (int64_t)timegm(&tm);
	return 0;
}

/*
 * The expires_on to ask for and the expiry to store: 00:00 UTC of that day,
 * since a token is treated as dead from the start of its last day. expires_on
 * is "" for never.
 */
static int plan_expiry(const struct cst_profile *p, int64_t now, char expires_on[11],
		       int64_t *expiry, struct cst_error *e)
{
	int64_t t;

	expires_on[0] = '\0';
	*expiry = 0;
	switch (p->lifetime) {
	case CST_LIFETIME_NEVER:
		return 0;
	case CST_LIFETIME_DURATION:
		t = now + p->lifetime_seconds;
		t = (t + DAY_SECONDS - 1) / DAY_SECONDS * DAY_SECONDS;
		break;
	case CST_LIFETIME_DATE:
	default:
		if (parse_date(p->lifetime_date, &t))
			return cst_error_set(e, CST_ERR_CONFIG,
					     "profile '%s': lifetime '%s' is not a date "
					     "(YYYY-MM-DD); fix it in the configuration",
					     p->name, p->lifetime_date);
		if (t - now <= p->renew_before)
			return cst_error_set(
			    e, CST_ERR_CONFIG,
			    "profile '%s': lifetime '%s' is past or within "
			    "renew_before; set a later date or a duration such as 30d",
			    p->name, p->lifetime_date);
		break;
	}
	*expiry = t;
	format_date(t, expires_on);
	return 0;
}

static bool token_usable(const struct cst_item *it, const char *fp, int64_t now, int64_t margin)
{
	if (!it->secret || !*it->secret || !fp || !*fp || !str_equal(it->scope_fp, fp))
		return false;
	return it->expiry == 0 || it->expiry - now > margin;
}

static int stored_token(struct cst_store *st, const struct cst_profile *p, struct cst_item *out,
			struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT;

	pattern.kind = CST_ITEM_TOKEN;
	pattern.profile = p->name;
	return cst_store_get(st, &pattern, out, e);
}

/* Length of the UTF-8 sequence at s that is valid and no C1 control, else 0. */
static size_t printable_utf8(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* overlong forms, surrogates, past U+10FFFF, and U+0080..U+009F (C1: CSI is one) */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return n;
}

void cst_add_shown(struct strbuf *sb, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (u && u[i] && i < max) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			strbuf_addch(sb, (char)u[i++]);
		} else if (u[i] >= 0x80 && (n = printable_utf8(u + i))) {
			strbuf_add(sb, u + i, n);
			i += n;
		} else if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) {
			strbuf_addch(sb, '?'); /* one C1 control, one mark */
			i += 2;
		} else {
			strbuf_addch(sb, '?');
			i++;
		}
	}
	if (u && u[i])
		strbuf_addstr(sb, "...");
}

/* Server-supplied text in a message: no control characters, bounded length. */
static void add_shown(struct strbuf *sb, const char *s)
{
	cst_add_shown(sb, s, MAX_NAME_SHOWN);
}

static bool token_is_ours(const struct cma_token *t, const char *name, const struct cst_item *mine,
			  size_t nmine)
{
	size_t i;

	if (t->name && name && *name && !strncmp(t->name, name, strlen(name)))
		return true;
	for (i = 0; i < nmine; i++)
		if (t->uid && str_equal(mine[i].uid, t->uid))
			return true;
	return false;
}

/* Is t the token the store holds as some profile's current one (still in use)? */
static bool token_in_use(const struct cma_token *t, const struct cst_item *mine, size_t nmine)
{
	size_t i;

	for (i = 0; t->uid && i < nmine; i++)
		if (str_equal(mine[i].uid, t->uid))
			return true;
	return false;
}

/*
 * The refusal at the limit, naming cstoken's own tokens: expired ones first, then ones
 * no profile stores any more (replaced, or left by a lost answer), then stored ones.
 * The revoke command suggested never names a token a profile still uses, unless
 * nothing else of cstoken's is there.
 */
static int stack_full(const struct cst_profile *p, const char *name, const struct cma_token *toks,
		      size_t n, const struct cst_item *mine, size_t nmine, int64_t now,
		      struct cst_error *e)
{
	struct strbuf sb = STRBUF_INIT, first = STRBUF_INIT;
	size_t i, named = 0;
	int pass, ret;

	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < n && named < MAX_NAMED_TOKENS; i++) {
			bool expired = toks[i].expiry && toks[i].expiry <= now;
			bool in_use = token_in_use(&toks[i], mine, nmine);
			int rank = expired ? 0 : in_use ? 2 : 1;

			if (rank != pass || !toks[i].uid ||
			    !token_is_ours(&toks[i], name, mine, nmine))
				continue;
			strbuf_addstr(&sb, named ? ", " : "");
			strbuf_addch(&sb, '\'');
			add_shown(&sb, toks[i].name);
			strbuf_addstr(&sb, "' (uid ");
			add_shown(&sb, toks[i].uid);
			if (expired)
				strbuf_addstr(&sb, ", expired");
			else if (in_use)
				strbuf_addstr(&sb, ", still stored");
			strbuf_addch(&sb, ')');
			/* the server's uid goes into a command line: shown, never raw */
			if (!first.len)
				add_shown(&first, toks[i].uid);
			named++;
		}
	}
	if (first.len)
		ret = cst_error_set(e, CST_ERR_STACK_FULL,
				    "stack '%s' has no free management token slot (%zu in use) and "
				    "cstoken will not evict another token; free one with 'cstoken "
				    "revoke -p %s --uid %s'; cstoken's own: %s",
				    p->api_key, n, p->name, first.buf, sb.buf);
	else
		ret =
		    cst_error_set(e, CST_ERR_STACK_FULL,
				  "stack '%s' has no free management token slot (%zu in use), "
				  "none of them minted by cstoken; ask a stack owner or admin to "
				  "delete one that is no longer needed (cstoken will not evict it)",
				  p->api_key, n);
	strbuf_release(&sb);
	strbuf_release(&first);
	return ret;
}

/* Long enough for another process to list and create with all its retries. */
static int lock_wait_seconds(const struct cst_config *cfg)
{
	int timeout = cfg && cfg->timeout > 0 ? cfg->timeout : 10;

	return 2 * CMA_MAX_ATTEMPTS * timeout + 30;
}

/* await_minter's answer when the process it waited for stored a usable token */
#define CST_MINTED_ELSEWHERE 1

/*
 * Takes the minting lock into *lockfd, at once when it is free. When another process
 * holds it (it is minting), waits for it in a shared lock instead: every waiter wakes
 * when it releases and they read the store side by side. The token found there goes to
 * *cur and CST_MINTED_ELSEWHERE is returned, *lockfd -1; when there is none (that
 * process failed), the lock is taken exclusively after all, to mint.
 */
static int await_minter(const struct cst_config *cfg, const char *lockdir,
			const struct cst_profile *p, struct cst_store *st, const char *fp,
			bool force, int *lockfd, struct cst_item *cur, bool *have_cur,
			struct cst_error *e)
{
	int wait = lock_wait_seconds(cfg), ret;
	int64_t start = (int64_t)time(NULL);

	ret = cst_lock_acquire(lockdir, p->name, 0, lockfd, e);
	if (ret != CST_ERR_TIMEOUT)
		return ret;
	if (force) /* a new token in any case: after the other one */
		return cst_lock_acquire(lockdir, p->name, wait, lockfd, e);
	ret = cst_lock_acquire_shared(lockdir, p->name, wait, lockfd, e);
	if (ret)
		return ret;
	cst_item_release(cur);
	ret = stored_token(st, p, cur, e);
	cst_lock_release(*lockfd);
	*lockfd = -1;
	if (ret && ret != CST_ERR_NOT_FOUND)
		return ret;
	*have_cur = !ret;
	if (*have_cur && token_usable(cur, fp, (int64_t)time(NULL), p->renew_before)) {
		cst_debug("another process minted the token of profile '%s'", p->name);
		return CST_MINTED_ELSEWHERE;
	}
	wait -= (int)((int64_t)time(NULL) - start);
	return cst_lock_acquire(lockdir, p->name, wait > 0 ? wait : 0, lockfd, e);
}

static bool host_equal(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

/* Revokes the token a changed scope replaced; a failure only leaves it to expire. */
static void revoke_replaced(struct cma_client *client, const struct cst_profile *p,
			    const char *authtoken, const struct cst_item *old)
{
	struct cst_error err = CST_ERROR_INIT;
	int r;

	if (!old->uid || !*old->uid)
		return;
	if (!cst_plain_uid(old->uid)) {
		fputs("cstoken: warning: the replaced token has a malformed uid, so cstoken cannot "
		      "revoke it; delete it in the Contentstack web UI\n",
		      stderr);
		return;
	}
	if (!host_equal(old->host, p->host)) {
		fprintf(stderr,
			"cstoken: warning: the replaced token (uid %s) lives on '%s'; "
			"revoke it "
			"there, e.g. in the Contentstack web UI\n",
			old->uid, old->host ? old->host : "another host");
		return;
	}
	r = cma_token_delete(client, old->api_key ? old->api_key : p->api_key, authtoken, old->uid,
			     &err);
	if (!r || r == CST_ERR_NOT_FOUND) {
		cst_debug("revoked the replaced token uid %s", old->uid);
		return;
	}
	fprintf(stderr,
		"cstoken: warning: cannot revoke the replaced token (uid %s): %s; "
		"run 'cstoken "
		"revoke -p %s --uid %s'\n",
		old->uid, cst_error_msg(&err, r), p->name, old->uid);
}

/* Creates the token on the server and stores it; a token that cannot be stored is deleted. */
static int create_and_store(struct cma_client *client, const struct cst_profile *p,
			    struct cst_store *st, const char *authtoken, const char *fp,
			    const char *name, const char *expires_on, int64_t expiry,
			    struct cst_item *fresh, struct cst_error *e)
{
	char *description = expand_template(p, p->description ? p->description : "");
	struct cma_token_spec spec = {0};
	struct cma_token created = {0};
	struct cst_error err = CST_ERROR_INIT;
	char why[sizeof(e->msg)];
	int ret, r;

	spec.name = name;
	spec.description = description;
	spec.branches = (const char *const *)p->branches;
	spec.nbranches = p->nbranches;
	spec.aliases = (const char *const *)p->aliases;
	spec.naliases = p->naliases;
	spec.write = p->write;
	spec.expires_on = *expires_on ? expires_on : NULL;
	spec.notify = p->notify;
	cst_debug("creating token '%s' on stack '%s' (expires_on %s)", name, p->api_key,
		  *expires_on ? expires_on : "never");
	ret = cma_token_create(client, p->api_key, authtoken, &spec, &created, e);
	if (ret)
		goto out;
	if (!cst_plain_uid(created.uid) || !created.secret || !*created.secret ||
	    strpbrk(created.secret, "\r\n")) {
		ret =
		    cst_error_set(e, CST_ERR_HTTP,
				  "the server's answer to creating a token for profile '%s' lacks "
				  "a usable uid or value; check the stack's tokens with 'cstoken "
				  "list --remote -p %s'",
				  p->name, p->name);
		if (created.uid && *created.uid)
			cma_token_delete(client, p->api_key, authtoken, created.uid, &err);
		goto out;
	}
	cst_item_init(fresh);
	fresh->kind = CST_ITEM_TOKEN;
	fresh->profile = xstrdup(p->name);
	fresh->host = xstrdup(p->host);
	fresh->api_key = xstrdup(p->api_key);
	fresh->uid = xstrdup(created.uid);
	fresh->name = xstrdup(created.name && *created.name ? created.name : name);
	fresh->scope_fp = xstrdup(fp);
	/* never later than the server says */
	fresh->expiry = expiry;
	if (created.expiry > 0 && (expiry == 0 || created.expiry < expiry))
		fresh->expiry = created.expiry;
	fresh->secret = xstrdup(created.secret);
	ret = cst_store_put(st, fresh, NULL, e);
	if (ret) {
		snprintf(why, sizeof(why), "%s", cst_error_msg(e, ret));
		r = cma_token_delete(client, p->api_key, authtoken, created.uid, &err);
		if (!r || r == CST_ERR_NOT_FOUND)
			cst_error_set(e, ret,
				      "cannot store the new token of profile '%s', so it was "
				      "revoked again: %s",
				      p->name, why);
		else
			cst_error_set(e, ret,
				      "cannot store the new token of profile '%s' (%s) and cannot "
				      "revoke it; run 'cstoken revoke -p %s --uid %s'",
				      p->name, why, p->name, created.uid);
		cst_item_release(fresh);
		goto out;
	}
	ret = 0;
out:
	cma_token_release(&created);
	free(description);
	return ret;
}

int cst_token_obtain(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, unsigned flags, struct cst_item *out, bool *minted,
		     struct cst_error *e)
{
	struct cst_item cur = CST_ITEM_INIT, fresh = CST_ITEM_INIT, pattern = CST_ITEM_INIT;
	struct cst_item *mine = NULL;
	struct cma_token *toks = NULL;
	struct cma_client client;
	struct cst_error ignored = CST_ERROR_INIT;
	char *fp = NULL, *authtoken = NULL, *email = NULL, *name = NULL, *lockdir = NULL;
	char expires_on[11] = "";
	size_t nmine = 0, ntoks = 0;
	bool have_cur = false, client_ready = false, force = flags & CST_TOKEN_FORCE, may_mint;
	int64_t now = (int64_t)time(NULL), expiry = 0;
	int lockfd = -1, ret = CST_ERR_NOT_FOUND;

	cst_item_init(out);
	if (minted)
		*minted = false;
	may_mint = force || ((flags & CST_TOKEN_MINT) && p->mint);
	fp = cst_scope_fingerprint(p);

	ret = stored_token(st, p, &cur, e);
	if (ret && ret != CST_ERR_NOT_FOUND)
		goto out;
	have_cur = !ret;
	if (have_cur && !force && token_usable(&cur, fp, now, may_mint ? p->renew_before : 0)) {
		cst_debug("using the stored token of profile '%s'", p->name);
		goto use_cur;
	}
	if (!may_mint) {
		ret =
		    cst_error_set(e, CST_ERR_NOT_FOUND,
				  "no usable token stored for profile '%s'%s; run 'cstoken token "
				  "-p %s'%s",
				  p->name, p->mint ? "" : " and minting is off (mint = no)",
				  p->name, p->mint ? " to mint one" : " after setting mint = yes");
		goto out;
	}
	if (!p->api_key || !*p->api_key) {
		ret =
		    cst_error_set(e, CST_ERR_CONFIG,
				  "profile '%s' has no api_key, so cstoken cannot mint for it; set "
				  "api_key in '%s'",
				  p->name, cfg && cfg->path ? cfg->path : "the configuration");
		goto out;
	}
	ret = plan_expiry(p, now, expires_on, &expiry, e);
	if (ret)
		goto out;

	/* single flight: whoever holds the lock mints, the others find its token
	 * stored */
	lockdir = cst_lock_dir(cfg);
	ret = await_minter(cfg, lockdir, p, st, fp, force, &lockfd, &cur, &have_cur, e);
	if (ret == CST_MINTED_ELSEWHERE)
		goto use_cur;
	if (ret)
		goto out;
	now = (int64_t)time(NULL);
	if (!force) {
		cst_item_release(&cur);
		ret = stored_token(st, p, &cur, e);
		if (ret && ret != CST_ERR_NOT_FOUND)
			goto out;
		have_cur = !ret;
		if (have_cur && token_usable(&cur, fp, now, p->renew_before)) {
			cst_debug("another process minted the token of profile '%s'", p->name);
			goto use_cur;
		}
	}

	/* read only now: a process that waited for another's token never needs it */
	ret = cst_authtoken_get(p, st, &authtoken, &email, e);
	if (ret == CST_ERR_NOT_LOGGED_IN || (!ret && (!authtoken || !*authtoken))) {
		ret = cst_error_set(e, CST_ERR_NOT_LOGGED_IN,
				    "not logged in to '%s'; run 'cstoken login -p %s'", p->host,
				    p->name);
		goto out;
	}
	if (ret)
		goto out;

	cma_client_init(&client, p->host, p->ca_file, cfg && cfg->timeout > 0 ? cfg->timeout : 10);
	client_ready = true;
	ret = cma_tokens_list(&client, p->api_key, authtoken, &toks, &ntoks, e);
	if (ret)
		goto out;
	name = cst_token_name(p);
	if (ntoks >= STACK_TOKEN_LIMIT) {
		pattern.kind = CST_ITEM_TOKEN;
		if (cst_store_list(st, &pattern, &mine, &nmine, &ignored)) {
			mine = NULL;
			nmine = 0;
		}
		ret = stack_full(p, name, toks, ntoks, mine, nmine, now, e);
		goto out;
	}
	ret = create_and_store(&client, p, st, authtoken, fp, name, expires_on, expiry, &fresh, e);
	if (ret)
		goto out;
	if (minted)
		*minted = true;
	/* the token is published: the waiters may read it now */
	cst_lock_release(lockfd);
	lockfd = -1;
	/* only a token cstoken minted (it has a fingerprint) is cstoken's to revoke */
	if (have_cur && cur.scope_fp && *cur.scope_fp && !str_equal(cur.scope_fp, fp))
		revoke_replaced(&client, p, authtoken, &cur);
	*out = fresh;
	cst_item_init(&fresh);
	ret = 0;
	goto out;

use_cur:
	*out = cur;
	cst_item_init(&cur);
	ret = 0;
out:
	/* a failed renewal must not take away a token that still works */
	if (ret && !force && have_cur && token_usable(&cur, fp, (int64_t)time(NULL), 0)) {
		char day[11];

		format_date(cur.expiry, day);
		fprintf(stderr,
			"cstoken: warning: cannot renew the token of profile '%s': %s; "
			"using the "
			"stored one until %s\n",
			p->name, cst_error_msg(e, ret), cur.expiry ? day : "it is revoked");
		*out = cur;
		cst_item_init(&cur);
		ret = 0;
	}
	cst_lock_release(lockfd);
	if (client_ready)
		cma_client_release(&client);
	cma_token_array_free(toks, ntoks);
	cst_item_array_free(mine, nmine);
	cst_item_release(&cur);
	cst_item_release(&fresh);
	free_secret(authtoken);
	free(email);
	free(fp);
	free(name);
	free(lockdir);
	return ret;
}
