/* Minting policy: when the stored token will do, and how a new one is made safely. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "digest.h"
#include "lock.h"
#include "present.h"

/*
 * The API reference says 10 tokens per stack (newer docs say 30) and that one
 * more silently expires the oldest: count against the profile's stack_token_limit,
 * 10 unless set.
 */
#define DEFAULT_STACK_TOKEN_LIMIT 10
#define DAY_SECONDS 86400
/* Evictions remembered per profile for `status`, and the longest line of that record. */
#define MAX_EVICTIONS 5
#define MAX_EVICTION_LINE 512
#define MAX_EVICTION_FILE (16 * 1024)
/* How many of cstoken's own tokens a stack-full message names. */
#define MAX_NAMED_TOKENS 3
#define MAX_NAME_SHOWN 60
/* Replaced tokens remembered per profile until they are deleted. */
#define MAX_SUPERSEDED 32
/* The scope fingerprint's version: an older one is recognised, not taken for a new scope. */
#define SCOPE_FP_V2 "v2:"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The names sorted and comma-separated, then sep: the order in the config carries no
 * meaning.
 */
static void add_sorted_list(struct strbuf *sb, const char *key, char **v, size_t n, char sep)
{
	const char **sorted = xcalloc(n, sizeof(*sorted));
	size_t i;

	for (i = 0; i < n; i++)
		sorted[i] = v[i];
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	strbuf_addf(sb, "%s=", key);
	for (i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? "," : "", sorted[i]);
	strbuf_addch(sb, sep);
	free(sorted);
}

/*
 * What the token can reach: where, which stack, which branches, read or write; each field
 * ended by sep. The config allows none of ',', ';' or a newline in a host, an API key or
 * a branch or alias name (config.c), so the text is unambiguous.
 */
static void add_scope_text(struct strbuf *sb, const struct cst_profile *p, char sep)
{
	const char *h;

	strbuf_addstr(sb, "host=");
	for (h = p->host ? p->host : ""; *h; h++)
		strbuf_addch(sb, (char)(*h >= 'A' && *h <= 'Z' ? *h - 'A' + 'a' : *h));
	strbuf_addf(sb, "%capi_key=%s%c", sep, p->api_key ? p->api_key : "", sep);
	add_sorted_list(sb, "branches", p->branches, p->nbranches, sep);
	add_sorted_list(sb, "aliases", p->aliases, p->naliases, sep);
	strbuf_addf(sb, "acl=%s%c", p->write ? "read,write" : "read", sep);
}

/*
 * The fingerprint is the scope text itself, one line: only equality matters and nothing
 * in it is secret, so no digest (and no libcrypto) is needed to make or compare it.
 */
char *cst_scope_fingerprint(const struct cst_profile *p)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, SCOPE_FP_V2);
	add_scope_text(&sb, p, ';');
	sb.buf[--sb.len] = '\0'; /* the last ';' */
	return strbuf_detach(&sb, NULL);
}

/* The form cstoken stored before: 64 lower-case hex digits of a SHA-256. */
static bool scope_fp_v1(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= 2 * CST_SHA256_LEN ||
		    !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 2 * CST_SHA256_LEN;
}

/* Does the v1 fingerprint stored match p? It costs the digest module, so only for such a token. */
static bool scope_v1_matches(const struct cst_profile *p, const char *stored)
{
	struct strbuf sb = STRBUF_INIT, hex = STRBUF_INIT;
	unsigned char md[CST_SHA256_LEN];
	bool match = false;
	size_t i;

	strbuf_addstr(&sb, "cstoken-scope-v1\n");
	add_scope_text(&sb, p, '\n');
	if (!cst_sha256(sb.buf, sb.len, md, NULL)) {
		for (i = 0; i < CST_SHA256_LEN; i++)
			strbuf_addf(&hex, "%02x", md[i]);
		match = str_equal(hex.buf, stored);
	}
	strbuf_release(&sb);
	strbuf_release(&hex);
	return match;
}

bool cst_scope_matches(const struct cst_profile *p, const char *fp, const char *stored)
{
	/* an empty fingerprint never matches: the token is re-minted */
	if (!fp || !*fp || !stored || !*stored)
		return false;
	if (str_equal(stored, fp))
		return true;
	return scope_fp_v1(stored) && scope_v1_matches(p, stored);
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

/*
 * Is tname a name cstoken gives p's tokens: base (the expanded template) alone or
 * followed by the time of the mint, so that "... default" never claims "... default2".
 */
static bool name_is_ours(const char *tname, const char *base)
{
	size_t len = base ? strlen(base) : 0;

	if (!tname || !len || strncmp(tname, base, len))
		return false;
	return !tname[len] || (tname[len] == ' ' && tname[len + 1] >= '0' && tname[len + 1] <= '9');
}

/* The name a token minted now gets: the template's, then the UTC time of the mint. */
static char *token_name_at(const char *base, int64_t now)
{
	time_t tt = (time_t)now;
	struct tm tm;
	char when[32];

	if (!gmtime_r(&tt, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		return xstrdup(base);
	return xasprintf("%s %s", base, when);
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

/* Does the token live more than margin seconds past now (a token without expiry does)? */
static bool lives_past(const struct cst_item *it, int64_t now, int64_t margin)
{
	return it->expiry == 0 || it->expiry - now > margin;
}

/*
 * Does the token fit the profile's scope and live more than margin seconds past now?
 * expiry is 00:00 UTC of the token's expires_on, when the server stops taking it.
 */
static bool token_usable(const struct cst_profile *p, const struct cst_item *it, const char *fp,
			 int64_t now, int64_t margin)
{
	if (!it->secret || !*it->secret || !cst_scope_matches(p, fp, it->scope_fp))
		return false;
	return lives_past(it, now, margin);
}

/*
 * The life a stored token must have left to be handed out: what the caller's job needs
 * (min_ttl) and, when cstoken may mint a replacement, the profile's renew_before.
 */
static int64_t needed_life(const struct cst_profile *p, bool may_mint, int64_t min_ttl)
{
	int64_t margin = may_mint ? p->renew_before : 0;

	return margin > min_ttl ? margin : min_ttl;
}

void cst_token_state(const struct cst_profile *p, const struct cst_item *it, int64_t now,
		     struct cst_token_state *out)
{
	char *fp = cst_scope_fingerprint(p);

	out->minted = it->scope_fp && *it->scope_fp;
	out->scope_matches = cst_scope_matches(p, fp, it->scope_fp);
	out->expired = !lives_past(it, now, 0);
	out->renew = !out->expired && !lives_past(it, now, p->renew_before);
	out->usable = token_usable(p, it, fp, now, needed_life(p, true, 0));
	out->left = it->expiry && !out->expired ? it->expiry - now : 0;
	out->other_host = cst_token_other_host(p, it);
	free(fp);
}

/* The refusal of a token that is valid but would die before min_ttl is over. */
static int too_short(const struct cst_profile *p, const char *which, const struct cst_item *it,
		     const char *why, struct cst_error *e)
{
	char day[11];

	format_date(it->expiry, day);
	return cst_error_set(e, CST_ERR_NOT_FOUND,
			     "the %s token of profile '%s' expires at %s 00:00 UTC, sooner than "
			     "the time asked for (--min-ttl), and %s",
			     which, p->name, day, why);
}

int cst_token_stored(struct cst_store *st, const struct cst_profile *p, struct cst_item *out,
		     struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT;

	pattern.kind = CST_ITEM_TOKEN;
	pattern.profile = p->name;
	return cst_store_get(st, &pattern, out, e);
}

bool cst_token_other_host(const struct cst_profile *p, const struct cst_item *it)
{
	return it->host && p->host && !cst_host_equal(it->host, p->host);
}

const char *cst_token_api_key(const struct cst_profile *p, const struct cst_item *it)
{
	return it->api_key && *it->api_key ? it->api_key : p->api_key ? p->api_key : "";
}

int cst_token_check(const struct cst_profile *p, const struct cst_item *it, struct cst_error *e)
{
	if (cst_plain_token(it->secret) && cst_plain_api_key(cst_token_api_key(p, it)) &&
	    (!it->uid || !*it->uid || cst_plain_uid(it->uid)))
		return 0;
	return cst_error_set(e, CST_ERR_INVALID,
			     "the stored token of profile '%s' has a malformed value, api_key or "
			     "uid; replace it with 'cstoken rotate -p %s'",
			     p->name, p->name);
}

bool cst_token_holds(struct cst_store *st, const struct cst_profile *p, const char *secret)
{
	struct cst_item item = CST_ITEM_INIT;
	bool same = false;

	if (cst_token_stored(st, p, &item, NULL) == 0)
		same = secret_equal(item.secret, secret);
	cst_item_release(&item);
	return same;
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

	if (name_is_ours(t->name, name))
		return true;
	for (i = 0; i < nmine; i++)
		if (t->uid && str_equal(mine[i].uid, t->uid))
			return true;
	return false;
}

bool cst_token_is_ours(const struct cma_token *t, const char *name, const struct cst_item *mine,
		       size_t nmine)
{
	return token_is_ours(t, name, mine, nmine);
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
	bool plain;
	int pass, ret;

	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < n && named < MAX_NAMED_TOKENS; i++) {
			bool expired = toks[i].expiry && toks[i].expiry <= now;
			bool in_use = token_in_use(&toks[i], mine, nmine);
			int rank = expired ? 0 : in_use ? 2 : 1;

			if (rank != pass || !toks[i].uid ||
			    !token_is_ours(&toks[i], name, mine, nmine))
				continue;
			plain = cst_plain_uid(toks[i].uid);
			strbuf_addstr(&sb, named ? ", " : "");
			strbuf_addch(&sb, '\'');
			add_shown(&sb, toks[i].name);
			strbuf_addf(&sb, "' (%s%s", plain ? "uid " : "unprintable uid",
				    plain ? toks[i].uid : "");
			if (expired)
				strbuf_addstr(&sb, ", expired");
			else if (in_use)
				strbuf_addstr(&sb, ", still stored");
			strbuf_addch(&sb, ')');
			/* the server's uid goes into a shell command: only a plain one */
			if (!first.len && plain)
				strbuf_addstr(&first, toks[i].uid);
			named++;
		}
	}
	if (!first.len && named)
		ret = cst_error_set(e, CST_ERR_STACK_FULL,
				    "stack '%s' has no free management token slot (%zu in use) and "
				    "cstoken will not evict another token; delete one in the "
				    "Contentstack web UI; cstoken's own: %s",
				    p->api_key, n, sb.buf);
	else if (first.len)
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

static size_t stack_token_limit(const struct cst_profile *p)
{
	return p->stack_token_limit > 0 ? (size_t)p->stack_token_limit : DEFAULT_STACK_TOKEN_LIMIT;
}

void cst_evictions_free(struct cst_eviction *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].uid);
		free(v[i].name);
	}
	free(v);
}

/* A record beside the minting lock (evicted-, superseded-), when it is a regular file of
 * ours of sane size; NULL otherwise. */
static FILE *open_record(const char *path)
{
	struct stat sb;
	FILE *fp;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    sb.st_size > MAX_EVICTION_FILE || !(fp = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	return fp;
}

/* One "SECONDS<TAB>UID<TAB>NAME" line into v[*n]; false for anything else. */
static bool parse_eviction(char *line, struct cst_eviction *v)
{
	char *uid = strchr(line, '\t'), *name = uid ? strchr(uid + 1, '\t') : NULL;
	int64_t when;

	if (!name)
		return false;
	*uid++ = '\0';
	*name++ = '\0';
	if (parse_int64(line, 0, INT64_MAX, &when))
		return false;
	v->when = when;
	v->uid = xstrdup(uid);
	v->name = xstrdup(name);
	return true;
}

int cst_evictions_read(const struct cst_config *cfg, const char *profile, struct cst_eviction **out,
		       size_t *n)
{
	struct strbuf line = STRBUF_INIT;
	struct cst_eviction *v = xcalloc(MAX_EVICTIONS + 1, sizeof(*v));
	char *path = cst_lock_dir_file(cfg, "evicted", profile);
	FILE *fp = open_record(path);
	size_t count = 0;
	int r;

	while (fp && (r = strbuf_getline(&line, fp, MAX_EVICTION_LINE)) != 0) {
		if (r < 0 || strlen(line.buf) != line.len || !parse_eviction(line.buf, &v[count]))
			continue;
		if (++count > MAX_EVICTIONS) {
			free(v[0].uid);
			free(v[0].name);
			memmove(v, v + 1, MAX_EVICTIONS * sizeof(*v));
			memset(&v[MAX_EVICTIONS], 0, sizeof(*v));
			count = MAX_EVICTIONS;
		}
	}
	if (fp)
		fclose(fp);
	strbuf_release(&line);
	free(path);
	*out = v;
	*n = count;
	return 0;
}

/* Replaces the record at path (beside the minting lock, held by the caller) with sb. */
static void write_record(const char *path, const struct strbuf *sb)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd, ok;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	ok = fd >= 0 && !cst_write_all(fd, sb->buf, sb->len);
	if (fd >= 0 && close(fd))
		ok = 0;
	if (!ok || rename(tmp, path)) {
		cst_debug("cannot write the record '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
}

/*
 * Adds an eviction to the profile's record beside the minting lock (held by the caller),
 * keeping the last MAX_EVICTIONS. uid and name are already safe for a terminal.
 */
static void record_eviction(const struct cst_config *cfg, const struct cst_profile *p,
			    const char *uid, const char *name, int64_t now)
{
	struct cst_eviction *v = NULL;
	struct strbuf sb = STRBUF_INIT;
	char *path = cst_lock_dir_file(cfg, "evicted", p->name);
	size_t n = 0, i;

	cst_evictions_read(cfg, p->name, &v, &n);
	for (i = n >= MAX_EVICTIONS ? n - MAX_EVICTIONS + 1 : 0; i < n; i++)
		strbuf_addf(&sb, "%" PRId64 "\t%s\t%s\n", v[i].when, v[i].uid, v[i].name);
	strbuf_addf(&sb, "%" PRId64 "\t%s\t%s\n", now, uid, name);
	write_record(path, &sb);
	cst_evictions_free(v, n);
	strbuf_release(&sb);
	free(path);
}

/*
 * The reference says that creating a token past the limit silently expires the oldest:
 * list again and name every token of the first list that is gone (cstoken deleted none in
 * between), as a warning and in the record `status` shows.
 */
static void report_evicted(const struct cst_config *cfg, struct cma_client *client,
			   const struct cst_profile *p, const char *authtoken,
			   const struct cma_token *before, size_t nbefore, int64_t now)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cma_token *after = NULL;
	struct strbuf name = STRBUF_INIT, uid = STRBUF_INIT;
	size_t nafter = 0, i, j, suggest = nbefore < 1 ? 1 : nbefore > 30 ? 30 : nbefore;
	int r;

	r = cma_tokens_list(client, p->api_key, authtoken, &after, &nafter, &err);
	if (r) {
		cst_debug("cannot list the stack's tokens again to look for evictions: %s",
			  cst_error_msg(&err, r));
		return;
	}
	for (i = 0; i < nbefore; i++) {
		for (j = 0; j < nafter && !str_equal(before[i].uid, after[j].uid); j++)
			;
		if (j < nafter || !before[i].uid)
			continue;
		strbuf_reset(&name);
		strbuf_reset(&uid);
		add_shown(&name, before[i].name ? before[i].name : "");
		if (cst_plain_uid(before[i].uid))
			strbuf_addstr(&uid, before[i].uid);
		else
			add_shown(&uid, before[i].uid);
		cst_warn("stack '%s' was full, so Contentstack silently expired token '%s' (uid "
			 "%s) to make room for the new one; set stack_token_limit = %zu in "
			 "[profile %s] so that cstoken refuses instead",
			 p->api_key, name.buf, uid.buf, suggest, p->name);
		record_eviction(cfg, p, uid.buf, name.buf, now);
	}
	strbuf_release(&name);
	strbuf_release(&uid);
	cma_token_array_free(after, nafter);
}

/* Long enough for another process to list and create with all its retries. */
static int lock_wait_seconds(const struct cst_config *cfg)
{
	int timeout = cfg && cfg->timeout > 0 ? cfg->timeout : CST_DEFAULT_TIMEOUT;

	return 2 * CMA_MAX_ATTEMPTS * timeout + 30;
}

/* A step's answer when the stored token it read is the one to hand out. */
#define USE_STORED 1

/*
 * Takes the minting lock into *lockfd, at once when it is free. When another process
 * holds it (it is minting), waits for it in a shared lock instead: every waiter wakes
 * when it releases and they read the store side by side. The token found there goes to
 * *cur and, when it has more than margin seconds left, USE_STORED is returned
 * with *lockfd -1; when there is none (that
 * process failed), the lock is taken exclusively after all, to mint.
 */
static int await_minter(const struct cst_config *cfg, const char *lockdir,
			const struct cst_profile *p, struct cst_store *st, const char *fp,
			int64_t margin, bool force, int *lockfd, struct cst_item *cur,
			bool *have_cur, struct cst_error *e)
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
	ret = cst_token_stored(st, p, cur, e);
	cst_lock_release(*lockfd);
	*lockfd = -1;
	if (ret && ret != CST_ERR_NOT_FOUND)
		return ret;
	*have_cur = !ret;
	if (*have_cur && token_usable(p, cur, fp, (int64_t)time(NULL), margin)) {
		cst_debug("another process minted the token of profile '%s'", p->name);
		return USE_STORED;
	}
	wait -= (int)((int64_t)time(NULL) - start);
	return cst_lock_acquire(lockdir, p->name, wait > 0 ? wait : 0, lockfd, e);
}

/*
 * A token cstoken replaced, kept on the stack until it is due for deletion: at once for
 * a changed scope or an expired token, at its own expiry after a renewal, since a process
 * started earlier (exec, a PAM session) may still hold it until then.
 */
struct superseded {
	int64_t due; /* Unix seconds */
	char *uid;
	char *api_key;
};

static void superseded_free(struct superseded *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].uid);
		free(v[i].api_key);
	}
	free(v);
}

/* One "DUE<TAB>UID<TAB>API_KEY" line; false for anything else. */
static bool parse_superseded(char *line, struct superseded *v)
{
	char *uid = strchr(line, '\t'), *key = uid ? strchr(uid + 1, '\t') : NULL;
	int64_t due;

	if (!key)
		return false;
	*uid++ = '\0';
	*key++ = '\0';
	if (parse_int64(line, 0, INT64_MAX, &due) || !cst_plain_uid(uid) || !cst_plain_uid(key))
		return false;
	v->due = due;
	v->uid = xstrdup(uid);
	v->api_key = xstrdup(key);
	return true;
}

/* The profile's replaced tokens still to delete, beside the minting lock. */
static size_t superseded_read(const struct cst_config *cfg, const char *profile,
			      struct superseded **out)
{
	struct strbuf line = STRBUF_INIT;
	struct superseded *v = xcalloc(MAX_SUPERSEDED + 1, sizeof(*v));
	char *path = cst_lock_dir_file(cfg, "superseded", profile);
	FILE *fp = open_record(path);
	size_t n = 0;
	int r;

	while (fp && n < MAX_SUPERSEDED && (r = strbuf_getline(&line, fp, MAX_EVICTION_LINE)) != 0)
		if (r > 0 && strlen(line.buf) == line.len && parse_superseded(line.buf, &v[n]))
			n++;
	if (fp)
		fclose(fp);
	strbuf_release(&line);
	free(path);
	*out = v;
	return n;
}

/* Writes v back, without the entries whose uid is NULL; the caller holds the lock. */
static void superseded_write(const struct cst_config *cfg, const char *profile,
			     const struct superseded *v, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = cst_lock_dir_file(cfg, "superseded", profile);
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].uid)
			strbuf_addf(&sb, "%" PRId64 "\t%s\t%s\n", v[i].due, v[i].uid, v[i].api_key);
	if (sb.len)
		write_record(path, &sb);
	else if (unlink(path) && errno != ENOENT)
		cst_debug("cannot remove '%s': %s", path, strerror(errno));
	strbuf_release(&sb);
	free(path);
}

/* Is uid one of the profile's replaced tokens still waiting for deletion? */
static bool superseded_has(const struct cst_config *cfg, const char *profile, const char *uid)
{
	struct superseded *v = NULL;
	size_t n = superseded_read(cfg, profile, &v), i;
	bool found = false;

	for (i = 0; uid && i < n; i++)
		found = found || str_equal(v[i].uid, uid);
	superseded_free(v, n);
	return found;
}

/* Does some profile store token uid as its current one? */
static bool uid_stored(struct cst_store *st, const char *uid)
{
	struct cst_item pattern = CST_ITEM_INIT, *mine = NULL;
	struct cst_error ignored = CST_ERROR_INIT;
	size_t nmine = 0, i;
	bool found = false;

	pattern.kind = CST_ITEM_TOKEN;
	if (uid && !cst_store_list(st, &pattern, &mine, &nmine, &ignored))
		for (i = 0; i < nmine && !found; i++)
			found = str_equal(mine[i].uid, uid);
	cst_item_array_free(mine, nmine);
	return found;
}

bool cst_token_ours(const struct cst_config *cfg, const struct cst_profile *p, struct cst_store *st,
		    const char *uid, const char *name)
{
	char *base = cst_token_name(p);
	bool ours =
	    name_is_ours(name, base) || superseded_has(cfg, p->name, uid) || uid_stored(st, uid);

	free(base);
	return ours;
}

/*
 * Records the token the fresh one replaced, for retire_superseded to delete when due.
 * Only a token cstoken minted (it has a fingerprint) is cstoken's to delete.
 */
static void supersede(const struct cst_config *cfg, const struct cst_profile *p,
		      const struct cst_item *old, const struct cst_item *fresh, const char *fp,
		      int64_t now)
{
	struct superseded *v = NULL;
	size_t n, i;
	int64_t due;

	if (!old->uid || !*old->uid || !old->scope_fp || !*old->scope_fp ||
	    str_equal(old->uid, fresh->uid))
		return;
	if (!cst_plain_uid(old->uid)) {
		cst_warn("the replaced token has a malformed uid, so cstoken cannot revoke it; "
			 "delete it in the Contentstack web UI");
		return;
	}
	if (!cst_host_equal(old->host, p->host)) {
		struct strbuf host = STRBUF_INIT;

		/* the stored host is the store's text: shown, never raw */
		if (old->host && *old->host)
			add_shown(&host, old->host);
		else
			strbuf_addstr(&host, "another host");
		cst_warn("the replaced token (uid %s) lives on '%s'; revoke it there, e.g. in the "
			 "Contentstack web UI",
			 old->uid, host.buf);
		strbuf_release(&host);
		return;
	}
	due = !cst_scope_matches(p, fp, old->scope_fp) || (old->expiry && old->expiry <= now)
		  ? now
		  : old->expiry;
	/* a never-expiring token is replaced only by rotate, which deletes it itself */
	if (!due)
		return;
	n = superseded_read(cfg, p->name, &v);
	for (i = 0; i < n && !str_equal(v[i].uid, old->uid); i++)
		;
	if (i == n && n == MAX_SUPERSEDED) {
		free(v[0].uid);
		free(v[0].api_key);
		memmove(v, v + 1, --n * sizeof(*v));
		i = n;
	}
	if (i == n) {
		v[n].uid = xstrdup(old->uid);
		v[n++].api_key = xstrdup(old->api_key && *old->api_key ? old->api_key : p->api_key);
	}
	v[i].due = due;
	superseded_write(cfg, p->name, v, n);
	superseded_free(v, n);
}

/* Deletes the replaced tokens that are due; one that cannot be deleted stays recorded. */
static void retire_superseded(const struct cst_config *cfg, struct cma_client *client,
			      const struct cst_profile *p, struct cst_store *st,
			      const char *authtoken, int64_t now)
{
	struct cst_error err = CST_ERROR_INIT;
	struct superseded *v = NULL;
	size_t n = superseded_read(cfg, p->name, &v), i;
	bool changed = false;
	int r;

	for (i = 0; i < n; i++) {
		if (v[i].due > now)
			continue;
		/* stored again as some profile's current token: not cstoken's to delete */
		r = uid_stored(st, v[i].uid)
			? 0
			: cma_token_delete(client, v[i].api_key, authtoken, v[i].uid, &err);
		if (r && r != CST_ERR_NOT_FOUND) {
			cst_warn("cannot revoke the replaced token (uid %s): %s; cstoken tries "
				 "again on its next call for profile '%s', or run 'cstoken revoke "
				 "-p %s --uid %s'",
				 v[i].uid, cst_error_msg(&err, r), p->name, p->name, v[i].uid);
			continue;
		}
		cst_debug("done with the replaced token uid %s", v[i].uid);
		free(v[i].uid);
		v[i].uid = NULL;
		changed = true;
	}
	if (changed)
		superseded_write(cfg, p->name, v, n);
	superseded_free(v, n);
}

/*
 * Deletes cstoken's own expired tokens (by name, never one a profile still stores, never
 * a uid unfit for a URL) and drops them from toks, so that the count and the eviction
 * check see only the rest.
 */
static void sweep_expired(struct cma_client *client, const struct cst_profile *p,
			  const char *authtoken, const char *name, struct cma_token *toks,
			  size_t *n, const struct cst_item *mine, size_t nmine, int64_t now)
{
	struct cst_error err = CST_ERROR_INIT;
	size_t i = 0;
	int r;

	while (i < *n) {
		struct cma_token *t = &toks[i];

		if (t->expiry && t->expiry <= now && name_is_ours(t->name, name) &&
		    !token_in_use(t, mine, nmine) && cst_plain_uid(t->uid)) {
			r = cma_token_delete(client, p->api_key, authtoken, t->uid, &err);
			if (!r || r == CST_ERR_NOT_FOUND) {
				cst_debug("deleted cstoken's expired token uid %s", t->uid);
				cma_token_release(t);
				memmove(t, t + 1, (*n - i - 1) * sizeof(*t));
				(*n)--;
				continue;
			}
			cst_debug("cannot delete cstoken's expired token uid %s: %s", t->uid,
				  cst_error_msg(&err, r));
		}
		i++;
	}
}

void cst_tokens_tidy(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st)
{
	struct cst_error err = CST_ERROR_INIT;
	struct cst_item pattern = CST_ITEM_INIT, *mine = NULL;
	struct cma_token *toks = NULL;
	struct cma_client client;
	char *authtoken = NULL, *lockdir, *name;
	size_t nmine = 0, ntoks = 0;
	int lockfd = -1, r;

	if (!p->api_key || !*p->api_key)
		return;
	if (cst_authtoken_get(cfg, p, st, &authtoken, NULL, &err) || !authtoken || !*authtoken) {
		cst_debug("no session to delete cstoken's dead tokens of profile '%s' with",
			  p->name);
		free_secret(authtoken);
		return;
	}
	lockdir = cst_lock_dir(cfg);
	r = cst_lock_acquire(lockdir, p->name, lock_wait_seconds(cfg), &lockfd, &err);
	free(lockdir);
	if (r) {
		free_secret(authtoken);
		return;
	}
	cma_client_init(&client, p->host, p->ca_file, cfg ? cfg->timeout : 0);
	retire_superseded(cfg, &client, p, st, authtoken, (int64_t)time(NULL));
	pattern.kind = CST_ITEM_TOKEN;
	if (!cma_tokens_list(&client, p->api_key, authtoken, &toks, &ntoks, &err) &&
	    !cst_store_list(st, &pattern, &mine, &nmine, &err)) {
		name = cst_token_name(p);
		sweep_expired(&client, p, authtoken, name, toks, &ntoks, mine, nmine,
			      (int64_t)time(NULL));
		free(name);
	}
	cma_token_array_free(toks, ntoks);
	cst_item_array_free(mine, nmine);
	cma_client_release(&client);
	cst_lock_release(lockfd);
	free_secret(authtoken);
}

/*
 * A call that hands out the stored token talks to the API only when a replaced token is
 * due: then it tidies the stack.
 */
static void retire_due(const struct cst_config *cfg, const struct cst_profile *p,
		       struct cst_store *st)
{
	struct superseded *v = NULL;
	size_t n = superseded_read(cfg, p->name, &v), i;
	int64_t now = (int64_t)time(NULL);
	bool due = false;

	for (i = 0; i < n; i++)
		due = due || v[i].due <= now;
	superseded_free(v, n);
	if (due)
		cst_tokens_tidy(cfg, p, st);
}

/* The signals that end cstoken, held back while a token is created and stored. */
static const int held_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NHELD (sizeof(held_signals) / sizeof(held_signals[0]))

struct held {
	sigset_t mask;
	struct sigaction old[NHELD];
};
static volatile sig_atomic_t held_caught;

static void note_signal(int sig)
{
	held_caught = sig;
}

/*
 * From here until release_signals a Ctrl-C or SIGTERM waits: the token the server creates
 * is stored (or deleted) first. Blocked in this thread, noted by a handler in any other;
 * an ignored signal stays ignored.
 */
static void hold_signals(struct held *h)
{
	struct sigaction sa;
	sigset_t set;
	size_t i;

	held_caught = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigemptyset(&set);
	for (i = 0; i < NHELD; i++) {
		sigaddset(&set, held_signals[i]);
		sigaction(held_signals[i], NULL, &h->old[i]);
		if (h->old[i].sa_handler != SIG_IGN)
			sigaction(held_signals[i], &sa, NULL);
	}
	pthread_sigmask(SIG_BLOCK, &set, &h->mask);
}

/* Lets a held signal take its course: the default action ends cstoken with it. */
static void release_signals(struct held *h)
{
	sigset_t pending;
	size_t i;
	int caught;

	sigpending(&pending);
	for (i = 0; i < NHELD; i++)
		sigaction(held_signals[i], &h->old[i], NULL);
	caught = held_caught;
	/* noted by another thread, so not pending here: raised again once unblocked */
	if (caught && sigismember(&pending, caught) == 1)
		caught = 0;
	pthread_sigmask(SIG_SETMASK, &h->mask, NULL);
	if (caught)
		raise(caught);
}

/* Creates the token on the server and stores it; a token that cannot be stored is deleted. */
static int create_and_store(struct cma_client *client, const struct cst_profile *p,
			    struct cst_store *st, const char *authtoken, const char *fp,
			    const char *base, int64_t now, const char *expires_on, int64_t expiry,
			    struct cst_item *fresh, struct cst_error *e)
{
	char *description = expand_template(p, p->description ? p->description : "");
	char *name = token_name_at(base, now);
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
	/* the value goes to terminals, headers and curl configs: one opaque word or nothing */
	if (!cst_plain_uid(created.uid) || !cst_plain_token(created.secret)) {
		/* whatever the server made of it, cstoken does not leave it behind */
		r = created.uid && *created.uid
			? cma_token_delete(client, p->api_key, authtoken, created.uid, &err)
			: CST_ERR_NOT_FOUND;
		ret =
		    cst_error_set(e, CST_ERR_HTTP,
				  "the server's answer to creating a token for profile '%s' lacks "
				  "a usable uid or value%s; check the stack's tokens with 'cstoken "
				  "list --remote -p %s'",
				  p->name, r ? "" : " (cstoken deleted that token again)", p->name);
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
	free(name);
	return ret;
}

int cst_token_obtain(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, unsigned flags, struct cst_item *out, bool *minted,
		     struct cst_error *e)
{
	return cst_token_obtain_for(cfg, p, st, flags, 0, out, minted, e);
}

/* One cst_token_obtain_for call: what it was asked, and what it has found so far. */
struct obtain {
	const struct cst_config *cfg;
	const struct cst_profile *p;
	struct cst_store *st;
	bool force, may_mint, minted;
	int64_t min_ttl, now;
	char *fp;	     /* the profile's scope fingerprint */
	struct cst_item cur; /* the stored token, when have_cur */
	bool have_cur;
	char expires_on[11]; /* what a new token asks for ("" for never) */
	int64_t expiry;	     /* and the expiry it is stored with */
	char *lockdir;
	int lockfd; /* the minting lock, -1 when not held */
};

static void obtain_init(struct obtain *o, const struct cst_config *cfg, const struct cst_profile *p,
			struct cst_store *st, unsigned flags, int64_t min_ttl)
{
	memset(o, 0, sizeof(*o));
	o->cfg = cfg;
	o->p = p;
	o->st = st;
	o->force = flags & CST_TOKEN_FORCE;
	o->may_mint = o->force || ((flags & CST_TOKEN_MINT) && p->mint);
	o->min_ttl = min_ttl;
	o->now = (int64_t)time(NULL);
	o->fp = cst_scope_fingerprint(p);
	cst_item_init(&o->cur);
	o->lockfd = -1;
}

static void obtain_release(struct obtain *o)
{
	cst_lock_release(o->lockfd);
	cst_item_release(&o->cur);
	free(o->fp);
	free(o->lockdir);
}

/*
 * The stored token, when it will do (USE_STORED); 0 when a new one is to be minted; the
 * refusal when it will not do and minting is not allowed.
 */
static int use_stored(struct obtain *o, struct cst_error *e)
{
	const struct cst_profile *p = o->p;
	int ret = cst_token_stored(o->st, p, &o->cur, e);

	if (ret && ret != CST_ERR_NOT_FOUND)
		return ret;
	o->have_cur = !ret;
	if (o->have_cur && !o->force &&
	    token_usable(p, &o->cur, o->fp, o->now, needed_life(p, o->may_mint, o->min_ttl))) {
		cst_debug("using the stored token of profile '%s'", p->name);
		return USE_STORED;
	}
	if (o->may_mint)
		return 0;
	if (o->have_cur && o->min_ttl > 0 && token_usable(p, &o->cur, o->fp, o->now, 0))
		return too_short(p, "stored", &o->cur,
				 p->mint
				     ? "this call may not mint; drop --no-mint or ask for less"
				     : "minting is off (mint = no); set mint = yes or ask for less",
				 e);
	return cst_error_set(e, CST_ERR_NOT_FOUND,
			     "no usable token stored for profile '%s'%s; run 'cstoken token -p "
			     "%s'%s",
			     p->name, p->mint ? "" : " and minting is off (mint = no)", p->name,
			     p->mint ? " to mint one" : " after setting mint = yes");
}

/* Can a token be minted for the profile, and would it live long enough? Plans its expiry. */
static int plan_mint(struct obtain *o, struct cst_error *e)
{
	const struct cst_profile *p = o->p;
	int ret;

	if (!p->api_key || !*p->api_key)
		return cst_error_set(e, CST_ERR_CONFIG,
				     "profile '%s' has no api_key, so cstoken cannot mint for it; "
				     "set api_key in '%s'",
				     p->name,
				     o->cfg && o->cfg->path ? o->cfg->path : "the configuration");
	ret = plan_expiry(p, o->now, o->expires_on, &o->expiry, e);
	if (ret)
		return ret;
	if (o->expiry && o->expiry - o->now <= o->min_ttl) {
		format_date(o->expiry, o->expires_on);
		return cst_error_set(
		    e, CST_ERR_INVALID,
		    "a token minted now for profile '%s' would expire at %s 00:00 "
		    "UTC, sooner than the time asked for (--min-ttl); ask for less "
		    "or raise the profile's lifetime",
		    p->name, o->expires_on);
	}
	return 0;
}

/*
 * Single flight: whoever holds the lock mints, the others find its token stored. Takes
 * the minting lock (0), or finds the token another process minted meanwhile (USE_STORED).
 */
static int lock_for_mint(struct obtain *o, struct cst_error *e)
{
	const struct cst_profile *p = o->p;
	int ret;

	o->lockdir = cst_lock_dir(o->cfg);
	ret = await_minter(o->cfg, o->lockdir, p, o->st, o->fp, needed_life(p, true, o->min_ttl),
			   o->force, &o->lockfd, &o->cur, &o->have_cur, e);
	if (ret) /* an error, or USE_STORED */
		return ret;
	o->now = (int64_t)time(NULL);
	if (o->force)
		return 0;
	cst_item_release(&o->cur);
	ret = cst_token_stored(o->st, p, &o->cur, e);
	if (ret && ret != CST_ERR_NOT_FOUND)
		return ret;
	o->have_cur = !ret;
	if (o->have_cur &&
	    token_usable(p, &o->cur, o->fp, o->now, needed_life(p, true, o->min_ttl))) {
		cst_debug("another process minted the token of profile '%s'", p->name);
		return USE_STORED;
	}
	return 0;
}

/*
 * The session to mint with, read only now: a process that waited for another's token
 * never needs it. *authtoken freed by free_secret.
 */
static int mint_login(const struct obtain *o, char **authtoken, struct cst_error *e)
{
	int ret = cst_authtoken_get(o->cfg, o->p, o->st, authtoken, NULL, e);

	if (ret == CST_ERR_NOT_LOGGED_IN || (!ret && (!*authtoken || !**authtoken)))
		return cst_error_set(e, CST_ERR_NOT_LOGGED_IN,
				     "not logged in to '%s'; run 'cstoken login%s -p %s'",
				     o->p->host, o->p->oauth ? " --oauth" : "", o->p->name);
	return ret;
}

/*
 * Lists the stack into *toks (as it was before the mint, for report_evicted), after
 * deleting what is due and cstoken's expired tokens; the refusal when no slot is free.
 */
static int make_room(const struct obtain *o, struct cma_client *client, const char *authtoken,
		     const char *name, struct cma_token **toks, size_t *ntoks, struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT, *mine = NULL;
	struct cst_error ignored = CST_ERROR_INIT;
	size_t nmine = 0;
	int ret;

	retire_superseded(o->cfg, client, o->p, o->st, authtoken, o->now);
	ret = cma_tokens_list(client, o->p->api_key, authtoken, toks, ntoks, e);
	if (ret)
		return ret;
	pattern.kind = CST_ITEM_TOKEN;
	if (cst_store_list(o->st, &pattern, &mine, &nmine, &ignored)) {
		mine = NULL;
		nmine = 0;
	}
	sweep_expired(client, o->p, authtoken, name, *toks, ntoks, mine, nmine, o->now);
	if (*ntoks >= stack_token_limit(o->p))
		ret = stack_full(o->p, name, *toks, *ntoks, mine, nmine, o->now, e);
	cst_item_array_free(mine, nmine);
	return ret;
}

/* Mints, stores and hands out in *fresh a new token; the one it replaces is superseded. */
static int mint(struct obtain *o, struct cst_item *fresh, struct cst_error *e)
{
	const struct cst_profile *p = o->p;
	struct cma_token *toks = NULL;
	struct cma_client client;
	struct held held;
	char *authtoken = NULL, *name = NULL;
	size_t ntoks = 0;
	int ret;

	ret = mint_login(o, &authtoken, e);
	if (ret) {
		free_secret(authtoken);
		return ret;
	}
	cma_client_init(&client, p->host, p->ca_file, o->cfg ? o->cfg->timeout : 0);
	name = cst_token_name(p);
	ret = make_room(o, &client, authtoken, name, &toks, &ntoks, e);
	if (ret)
		goto out;
	hold_signals(&held);
	ret = create_and_store(&client, p, o->st, authtoken, o->fp, name, o->now, o->expires_on,
			       o->expiry, fresh, e);
	if (!ret && o->have_cur)
		supersede(o->cfg, p, &o->cur, fresh, o->fp, o->now);
	release_signals(&held);
	if (ret)
		goto out;
	o->minted = true;
	report_evicted(o->cfg, &client, p, authtoken, toks, ntoks, o->now);
	retire_superseded(o->cfg, &client, p, o->st, authtoken, o->now);
	/* the server may have set an earlier expiry than asked for */
	if (!token_usable(p, fresh, o->fp, o->now, o->min_ttl)) {
		ret = too_short(p, "new", fresh, "the server chose that date; ask for less", e);
		cst_item_release(fresh);
	}
out:
	cma_token_array_free(toks, ntoks);
	cma_client_release(&client);
	free_secret(authtoken);
	free(name);
	return ret;
}

/* Hands out the stored token; a call that does talks to the API only when a replaced
 * token is due. */
static void hand_out_stored(struct obtain *o, struct cst_item *out)
{
	*out = o->cur;
	cst_item_init(&o->cur);
	cst_lock_release(o->lockfd);
	o->lockfd = -1;
	retire_due(o->cfg, o->p, o->st);
}

/*
 * A failed renewal must not take away a token that still works: the stored one goes to
 * *out with a warning when it lives past min_ttl. Returns ret, or 0 when it does.
 */
static int keep_working(struct obtain *o, int ret, struct cst_item *out, struct cst_error *e)
{
	char day[11];

	if (o->force || !o->have_cur ||
	    !token_usable(o->p, &o->cur, o->fp, (int64_t)time(NULL), o->min_ttl))
		return ret;
	format_date(o->cur.expiry, day);
	cst_warn("cannot renew the token of profile '%s': %s; using the stored one until %s",
		 o->p->name, cst_error_msg(e, ret), o->cur.expiry ? day : "it is revoked");
	*out = o->cur;
	cst_item_init(&o->cur);
	return 0;
}

int cst_token_obtain_for(const struct cst_config *cfg, const struct cst_profile *p,
			 struct cst_store *st, unsigned flags, int64_t min_ttl,
			 struct cst_item *out, bool *minted, struct cst_error *e)
{
	struct obtain o;
	int ret;

	if (p->shared.kind != CST_SHARED_NONE && !(flags & CST_TOKEN_LOCAL))
		return cst_shared_obtain(cfg, p, st, flags, min_ttl, out, minted, e);
	cst_item_init(out);
	obtain_init(&o, cfg, p, st, flags, min_ttl);
	ret = use_stored(&o, e);
	if (!ret)
		ret = plan_mint(&o, e);
	if (!ret)
		ret = lock_for_mint(&o, e);
	if (!ret)
		ret = mint(&o, out, e);
	if (ret == USE_STORED) {
		hand_out_stored(&o, out);
		ret = 0;
	} else if (ret) {
		ret = keep_working(&o, ret, out, e);
	}
	if (minted)
		*minted = o.minted;
	obtain_release(&o);
	return ret;
}
