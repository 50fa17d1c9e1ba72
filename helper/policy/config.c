/*
 * cstoken.conf(5): the INI file read through inih, every key validated on load.
 *
 * inih hands us keys but neither line numbers nor section headers, so the lines
 * go through our own reader: it counts them, parses [section] headers itself
 * and strips leading blanks (inih would otherwise take an indented line as a
 * continuation of the previous value). The first problem stops the parse and
 * names file, line and key.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "cstoken/config.h"
#include "config_shared.h"
#include "cstoken/util.h"

#define MINUTE 60
#define HOUR (60 * MINUTE)
#define DAY ((int64_t)24 * HOUR)
#define WEEK (7 * DAY)
#define MAX_DURATION (36500 * DAY) /* a hundred years keeps every date computable */

#define DEFAULT_PROFILE "default"
#define MAX_TIMEOUT 300
#define DEFAULT_BRANCH "main"
#define DEFAULT_LIFETIME (30 * DAY)
#define DEFAULT_RENEW_BEFORE (2 * DAY)
#define DEFAULT_NAME_TEMPLATE "cstoken {user}@{hostname} {profile}"
#define DEFAULT_DESCRIPTION "minted by cstoken"
/* The API reference's limit per stack; newer docs say 30. */
#define DEFAULT_STACK_TOKEN_LIMIT 10
#define MAX_STACK_TOKEN_LIMIT 30

#define MAX_NAME 64 /* profile, branch and alias names */
#define MAX_EMAIL 254
#define MAX_FILE_SIZE (1 << 20)

static const struct region {
	const char *id;
	const char *host;
	const char *aliases[3];
} regions[] = {
    {"na", "api.contentstack.io", {"us", "aws-na", NULL}},
    {"eu", "eu-api.contentstack.com", {"aws-eu", NULL}},
    {"au", "au-api.contentstack.com", {"aws-au", NULL}},
    {"azure-na", "azure-na-api.contentstack.com", {NULL}},
    {"azure-eu", "azure-eu-api.contentstack.com", {NULL}},
    {"gcp-na", "gcp-na-api.contentstack.com", {NULL}},
    {"gcp-eu", "gcp-eu-api.contentstack.com", {NULL}},
};
#define REGION_LIST "na, eu, au, azure-na, azure-eu, gcp-na or gcp-eu"

enum section { SEC_NONE, SEC_CSTOKEN, SEC_PROFILE };

struct parser;
typedef int (*key_setter)(struct parser *ps, struct cst_profile *p, const char *value);

struct key {
	const char *name;
	key_setter set;
};

enum { CK_STORE, CK_STORE_FILE, CK_DEFAULT_PROFILE, CK_TIMEOUT, CK_COUNT };
enum {
	PK_REGION,
	PK_HOST,
	PK_CA_FILE,
	PK_API_KEY,
	PK_EMAIL,
	PK_BRANCHES,
	PK_ALIASES,
	PK_PERMISSIONS,
	PK_LIFETIME,
	PK_RENEW_BEFORE,
	PK_NOTIFY,
	PK_NAME,
	PK_DESCRIPTION,
	PK_MINT,
	PK_STACK_TOKEN_LIMIT,
	PK_SHARED,
	PK_ETCD_ENDPOINTS,
	PK_ETCD_PREFIX,
	PK_ETCD_CA_FILE,
	PK_ETCD_CERT_FILE,
	PK_ETCD_KEY_FILE,
	PK_ETCD_USER,
	PK_SHARED_CACHE,
	PK_ETCD_CLAIM_TTL,
	PK_AUTH,
	PK_OAUTH_APP_ID,
	PK_OAUTH_CLIENT_ID,
	PK_OAUTH_REDIRECT,
	PK_APP_HOST,
	PK_DEVELOPER_HUB_HOST,
	PK_COUNT
};

/* Line on which each key of a section was set, 0 when it was not. */
struct seen {
	int line[PK_COUNT];
};

struct parser {
	struct cst_config *cfg;
	struct cst_error *e;
	FILE *fp;
	struct strbuf line;
	int lineno;
	int err; /* first error, 0 while there is none */
	int errline;
	enum section section;
	size_t profile; /* index into cfg->profiles while in a [profile] */
	int cstoken_line;
	struct seen cstoken_seen;
	struct seen *profile_seen; /* parallel to cfg->profiles */
	const char *key;	   /* the key being set, as written, for messages */
};

/* Records the first error only: everything after it may be a consequence. */
static int fail(struct parser *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct parser *ps, int line, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	if (ps->err)
		return ps->err;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ps->err = CST_ERR_CONFIG;
	ps->errline = line;
	return cst_error_set(ps->e, CST_ERR_CONFIG, "%s:%d: %s", ps->cfg->path, line, why);
}

/* A bad value for the key being set on the current line. */
static int bad(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct parser *ps, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return fail(ps, ps->lineno, "key '%s': %s", ps->key, why);
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static bool valid_profile_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > MAX_NAME)
		return false;
	for (; *s; s++)
		if (!is_name_char(*s) && *s != '.')
			return false;
	return true;
}

static bool valid_scope_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > MAX_NAME)
		return false;
	for (; *s; s++)
		if (!is_name_char(*s))
			return false;
	return true;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')
		s++;
	return s;
}

/* A copy of s[0..n) without surrounding blanks. */
static char *trimmed_copy(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static void free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* old (n elements of size) copied into room for n + 1; old is freed. Lists here
 * are short. */
static void *grow(void *old, size_t n, size_t size)
{
	void *p = xcalloc(n + 1, size);

	if (n)
		memcpy(p, old, n * size);
	free(old);
	return p;
}

static char *format_duration(char *buf, size_t size, int64_t s)
{
	if (s && s % DAY == 0)
		snprintf(buf, size, "%lldd", (long long)(s / DAY));
	else if (s && s % HOUR == 0)
		snprintf(buf, size, "%lldh", (long long)(s / HOUR));
	else if (s && s % MINUTE == 0)
		snprintf(buf, size, "%lldm", (long long)(s / MINUTE));
	else
		snprintf(buf, size, "%llds", (long long)s);
	return buf;
}

int cst_parse_duration(const char *s, int64_t *seconds)
{
	int64_t unit = 1;
	long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return CST_ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return CST_ERR_INVALID;
	if (*end) {
		if (end[1])
			return CST_ERR_INVALID;
		switch (tolower((unsigned char)*end)) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = MINUTE;
			break;
		case 'h':
			unit = HOUR;
			break;
		case 'd':
			unit = DAY;
			break;
		case 'w':
			unit = WEEK;
			break;
		default:
			return CST_ERR_INVALID;
		}
	}
	if (v > MAX_DURATION / unit)
		return CST_ERR_INVALID;
	*seconds = (int64_t)v * unit;
	return 0;
}

int cst_region_lookup(const char *region, const char **id, const char **host)
{
	char norm[32];
	size_t i, j, n;

	if (!region || (n = strlen(region)) == 0 || n >= sizeof(norm))
		return CST_ERR_INVALID;
	for (i = 0; i <= n; i++)
		norm[i] = region[i] == '_' ? '-' : (char)tolower((unsigned char)region[i]);
	for (i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		bool hit = !strcmp(norm, regions[i].id);

		for (j = 0; !hit && regions[i].aliases[j]; j++)
			hit = !strcmp(norm, regions[i].aliases[j]);
		if (hit) {
			if (id)
				*id = regions[i].id;
			if (host)
				*host = regions[i].host;
			return 0;
		}
	}
	return CST_ERR_INVALID;
}

size_t cst_region_count(void)
{
	return sizeof(regions) / sizeof(regions[0]);
}

void cst_region_at(size_t i, const char **id, const char **host)
{
	*id = regions[i].id;
	*host = regions[i].host;
}

const char *cst_profile_region(const struct cst_profile *p)
{
	size_t i;

	for (i = 0; p->host_set && p->host && i < sizeof(regions) / sizeof(regions[0]); i++)
		if (!strcasecmp(p->host, regions[i].host))
			return regions[i].id;
	return p->region_set || !p->host_set ? p->region : NULL;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return CST_ERR_INVALID;
}

static bool valid_date(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, i, max;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12)
		return false;
	max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d >= 1 && d <= max;
}

static bool valid_port(const char *s)
{
	int64_t port;

	if (!isdigit((unsigned char)*s))
		return false;
	return parse_int64(s, 1, 65535, &port) == 0;
}

static bool valid_hostname(const char *h, size_t n)
{
	size_t label = 0, i;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)h[i]) && h[i] != '-')
			return false;
		if (h[i] == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && h[n - 1] != '-';
}

/* Why h is not a host[:port] or [IPv6][:port], or NULL when it is one. */
static const char *host_problem(const char *h)
{
	struct in6_addr addr;
	const char *port = NULL, *end, *colon;
	char *ip;
	int ok;

	if (strstr(h, "://"))
		return "write the host without a scheme, for example "
		       "'eu-api.contentstack.com'";
	if (strchr(h, '/'))
		return "write the host without a path";
	if (h[0] == '[') {
		end = strchr(h, ']');
		if (!end)
			return "an IPv6 address needs its closing ']'";
		ip = xstrndup(h + 1, (size_t)(end - h - 1));
		ok = inet_pton(AF_INET6, ip, &addr) == 1;
		free(ip);
		if (!ok)
			return "not a valid IPv6 address";
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return "only ':PORT' may follow ']'";
	} else {
		colon = strchr(h, ':');
		if (colon && strchr(colon + 1, ':'))
			return "an IPv6 address needs brackets, for example '[::1]:8443'";
		if (!valid_hostname(h, colon ? (size_t)(colon - h) : strlen(h)))
			return "not a valid host name";
		if (colon)
			port = colon + 1;
	}
	if (port && !valid_port(port))
		return "the port must be a number from 1 to 65535";
	return NULL;
}

bool cst_profile_name_valid(const char *s)
{
	return valid_profile_name(s);
}

const char *cst_host_problem(const char *h)
{
	return host_problem(h);
}

#define CST_UNTRUSTED_MAX 400

/*
 * Whether a file that decides where secrets go (the config file, a ca_file) could be
 * changed by somebody else, as OpenSSH judges ~/.ssh/config: it must belong to the user
 * or root and be writable by nobody else. Only the file is checked, not the directories
 * above it: a file put in its place through a writable directory belongs to whoever put
 * it there, which the owner check refuses. When it could be changed, why holds the
 * one-line reason with the fixing command.
 */
static bool untrusted_file(const struct stat *st, const char *path, char *why, size_t n)
{
	unsigned mode = (unsigned)st->st_mode & 07777;
	/* the path goes into a suggested command only where single quotes keep it one word */
	const char *word = strchr(path, '\'') || cst_has_control(path) ? "FILE" : path;

	if (st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(why, n,
			 "'%s' belongs to uid %u, not to you or root, so that user decides where "
			 "cstoken sends secrets; make it yours ('chown %u '%s'' as root) and run "
			 "'chmod go-w '%s''",
			 path, (unsigned)st->st_uid, (unsigned)geteuid(), word, word);
		return true;
	}
	if (mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, n,
			 "'%s' is writable by %s (mode %04o), who could then decide where cstoken "
			 "sends secrets; run 'chmod go-w '%s''",
			 path, mode & S_IWOTH ? "anyone" : "its group", mode, word);
		return true;
	}
	return false;
}

/* An absolute path, or ~/... expanded; NULL when s is relative. */
static char *config_path_value(const char *s)
{
	if (s[0] == '/' || (s[0] == '~' && (s[1] == '/' || s[1] == '\0')))
		return expand_home(s);
	return NULL;
}

/* Comma-separated scope names; an empty value gives an empty list. */
static int parse_list(struct parser *ps, const char *value, char ***listp, size_t *np)
{
	char **list = NULL;
	size_t n = 0, i;
	const char *s = value, *comma;
	char *item = NULL;
	int ret = CST_ERR_CONFIG;

	if (!*skip_space(value))
		goto done;
	for (;;) {
		comma = strchr(s, ',');
		item = trimmed_copy(s, comma ? (size_t)(comma - s) : strlen(s));
		if (!*item) {
			bad(ps, "empty name in '%s'", value);
			goto out;
		}
		if (!valid_scope_name(item)) {
			bad(ps, "'%s' is not a valid name (up to %d letters, digits, '_' or '-')",
			    item, MAX_NAME);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(list[i], item)) {
				bad(ps, "'%s' is listed twice", item);
				goto out;
			}
		list = grow(list, n, sizeof(*list));
		list[n++] = item;
		item = NULL;
		if (!comma)
			break;
		s = comma + 1;
	}
done:
	free_list(*listp, *np);
	*listp = list;
	*np = n;
	list = NULL;
	n = 0;
	ret = 0;
out:
	free(item);
	free_list(list, n);
	return ret;
}

static int set_store(struct parser *ps, struct cst_profile *p, const char *v)
{
	(void)p;
	if (cst_store_kind_parse(v, &ps->cfg->store))
		return bad(ps, "'%s' is not a store; use auto, secret-service or file", v);
	return 0;
}

static int set_store_file(struct parser *ps, struct cst_profile *p, const char *v)
{
	char *path;

	(void)p;
	if (!*v) {
		set_str(&ps->cfg->store_file, NULL);
		return 0;
	}
	path = config_path_value(v);
	if (!path)
		return bad(ps, "'%s' must be an absolute path or start with '~/'", v);
	free(ps->cfg->store_file);
	ps->cfg->store_file = path;
	return 0;
}

static int set_default_profile(struct parser *ps, struct cst_profile *p, const char *v)
{
	(void)p;
	if (!valid_profile_name(v))
		return bad(ps,
			   "'%s' is not a profile name (up to %d letters, digits, '.', '_' "
			   "or '-')",
			   v, MAX_NAME);
	set_str(&ps->cfg->default_profile, v);
	return 0;
}

static int set_timeout(struct parser *ps, struct cst_profile *p, const char *v)
{
	int64_t t;

	(void)p;
	if (!isdigit((unsigned char)*v) || parse_int64(v, 1, MAX_TIMEOUT, &t))
		return bad(ps, "'%s' is not a number of seconds from 1 to %d", v, MAX_TIMEOUT);
	ps->cfg->timeout = (int)t;
	return 0;
}

static int set_region(struct parser *ps, struct cst_profile *p, const char *v)
{
	const char *id, *host;

	if (cst_region_lookup(v, &id, &host))
		return bad(ps, "unknown region '%s'; use " REGION_LIST, v);
	set_str(&p->region, id);
	p->region_set = true;
	if (!p->host_set)
		set_str(&p->host, host);
	return 0;
}

static int set_host(struct parser *ps, struct cst_profile *p, const char *v)
{
	const char *why, *host = NULL;

	if (!*v) {
		cst_region_lookup(p->region, NULL, &host);
		set_str(&p->host, host);
		p->host_set = false;
		return 0;
	}
	why = host_problem(v);
	if (why)
		return bad(ps, "'%s': %s", v, why);
	set_str(&p->host, v);
	p->host_set = true;
	return 0;
}

char *cst_ca_file_path(const char *v, char *why, size_t n)
{
	struct stat st;
	char *path = config_path_value(v);

	if (!path) {
		snprintf(why, n, "'%s' must be an absolute path or start with '~/'", v);
		return NULL;
	}
	if (stat(path, &st) || access(path, R_OK))
		snprintf(why, n, "cannot read '%s': %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(why, n, "'%s' is not a file of PEM certificates", path);
	/* whoever can write the CA file can read the password of the next login */
	else if (!untrusted_file(&st, path, why, n))
		return path;
	free(path);
	return NULL;
}

static int set_ca_file(struct parser *ps, struct cst_profile *p, const char *v)
{
	char why[CST_UNTRUSTED_MAX];
	char *path;

	if (!*v) {
		set_str(&p->ca_file, NULL);
		return 0;
	}
	path = cst_ca_file_path(v, why, sizeof(why));
	if (!path)
		return bad(ps, "%s", why);
	free(p->ca_file);
	p->ca_file = path;
	return 0;
}

static int set_api_key(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (*v && !cst_plain_api_key(v))
		return bad(ps, "'%s' is not a stack API key (letters, digits, '_' or '-')", v);
	set_str(&p->api_key, *v ? v : NULL);
	return 0;
}

bool cst_valid_email(const char *v)
{
	const char *at = strchr(v, '@'), *s;

	for (s = v; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			break;
	return !*s && at && at != v && at[1] && !strchr(at + 1, '@') && strlen(v) <= MAX_EMAIL;
}

static int set_email(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (!*v) {
		set_str(&p->email, NULL);
		return 0;
	}
	if (!cst_valid_email(v))
		return bad(ps, "'%s' is not an e-mail address", v);
	set_str(&p->email, v);
	return 0;
}

static int set_branches(struct parser *ps, struct cst_profile *p, const char *v)
{
	return parse_list(ps, v, &p->branches, &p->nbranches);
}

static int set_aliases(struct parser *ps, struct cst_profile *p, const char *v)
{
	return parse_list(ps, v, &p->aliases, &p->naliases);
}

static int set_permissions(struct parser *ps, struct cst_profile *p, const char *v)
{
	char norm[16];
	size_t n = 0;
	const char *s;

	for (s = v; *s && n < sizeof(norm) - 1; s++)
		if (!isspace((unsigned char)*s))
			norm[n++] = (char)tolower((unsigned char)*s);
	norm[n] = '\0';
	if (*s)
		goto invalid;
	if (!strcmp(norm, "read"))
		p->write = false;
	else if (!strcmp(norm, "read,write") || !strcmp(norm, "write,read"))
		p->write = true;
	else
		goto invalid;
	return 0;
invalid:
	return bad(ps, "'%s' is not a permission; use read or read,write", v);
}

static int set_lifetime(struct parser *ps, struct cst_profile *p, const char *v)
{
	int64_t secs;
	size_t n = strlen(v);

	if (!strcasecmp(v, "never")) {
		p->lifetime = CST_LIFETIME_NEVER;
		return 0;
	}
	if (n == 10 && v[4] == '-') {
		if (!valid_date(v))
			return bad(ps, "'%s' is not a calendar date (YYYY-MM-DD)", v);
		p->lifetime = CST_LIFETIME_DATE;
		memcpy(p->lifetime_date, v, sizeof(p->lifetime_date));
		return 0;
	}
	if (n < 2 ||
	    (tolower((unsigned char)v[n - 1]) != 'd' && tolower((unsigned char)v[n - 1]) != 'w') ||
	    cst_parse_duration(v, &secs) || secs == 0)
		return bad(ps, "'%s' is not a lifetime; use Nd, Nw, YYYY-MM-DD or never", v);
	p->lifetime = CST_LIFETIME_DURATION;
	p->lifetime_seconds = secs;
	return 0;
}

static int set_renew_before(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (cst_parse_duration(v, &p->renew_before))
		return bad(ps, "'%s' is not a duration; use Nd, Nw, Nh, Nm, Ns or seconds", v);
	return 0;
}

static int set_notify(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (parse_bool(v, &p->notify))
		return bad(ps, "'%s' is not yes or no", v);
	return 0;
}

static int set_mint(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (parse_bool(v, &p->mint))
		return bad(ps, "'%s' is not yes or no", v);
	return 0;
}

static int set_stack_token_limit(struct parser *ps, struct cst_profile *p, const char *v)
{
	int64_t n;

	if (!isdigit((unsigned char)*v) || parse_int64(v, 1, MAX_STACK_TOKEN_LIMIT, &n))
		return bad(ps, "'%s' is not a number of tokens from 1 to %d", v,
			   MAX_STACK_TOKEN_LIMIT);
	p->stack_token_limit = (int)n;
	return 0;
}

static int set_name(struct parser *ps, struct cst_profile *p, const char *v)
{
	static const char *const known[] = {"{user}", "{hostname}", "{profile}"};
	const char *s, *close;
	size_t i;

	if (!*v)
		return bad(ps, "the token name must not be empty");
	for (s = strchr(v, '{'); s; s = strchr(close, '{')) {
		close = strchr(s, '}');
		if (!close)
			return bad(ps, "'{' without '}' in '%s'", v);
		close++;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if ((size_t)(close - s) == strlen(known[i]) &&
			    !memcmp(s, known[i], strlen(known[i])))
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return bad(
			    ps, "unknown placeholder '%.*s'; use {user}, {hostname} or {profile}",
			    (int)(close - s), s);
	}
	set_str(&p->name_template, v);
	return 0;
}

static int set_description(struct parser *ps, struct cst_profile *p, const char *v)
{
	(void)ps;
	set_str(&p->description, v);
	return 0;
}

/* The shared store's keys (config_shared.c), told apart by the key's name. */
static int set_shared(struct parser *ps, struct cst_profile *p, const char *v)
{
	char why[CST_UNTRUSTED_MAX];

	if (cst_shared_conf_set(&p->shared, ps->key, v, why, sizeof(why)))
		return bad(ps, "%s", why);
	return 0;
}

static int set_auth(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (!strcasecmp(v, "password"))
		p->oauth = false;
	else if (!strcasecmp(v, "oauth"))
		p->oauth = true;
	else
		return bad(ps, "'%s' is not password or oauth", v);
	return 0;
}

static int set_oauth_app_id(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (!cst_plain_uid(v))
		return bad(ps, "'%s' is not an app uid (letters, digits, '.', '_' or '-')", v);
	set_str(&p->oauth_app_id, v);
	return 0;
}

static int set_oauth_client_id(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (!cst_plain_token(v))
		return bad(ps, "'%s' is not a client id (letters, digits and '._~+/=-')", v);
	set_str(&p->oauth_client_id, v);
	return 0;
}

bool cst_oauth_redirect_valid(const char *v)
{
	const char *rest;

	if (!strncmp(v, "http://", 7))
		rest = v + 7;
	else if (!strncmp(v, "https://", 8))
		rest = v + 8;
	else
		return false;
	/* it goes into a form body and is compared by the server: one plain word */
	return *rest && *rest != '/' && strlen(v) <= 1024 && !v[strcspn(v, " \t\"'<>\\^`{|}#")] &&
	       !cst_has_control(v);
}

static int set_oauth_redirect(struct parser *ps, struct cst_profile *p, const char *v)
{
	if (!cst_oauth_redirect_valid(v))
		return bad(ps, "'%s' is not an http:// or https:// URL without a fragment", v);
	set_str(&p->oauth_redirect, v);
	return 0;
}

/* A host key of its own: host[:port], or empty for the derived default. */
static int set_other_host(struct parser *ps, char **dst, const char *v)
{
	const char *why = *v ? host_problem(v) : NULL;

	if (why)
		return bad(ps, "'%s': %s", v, why);
	set_str(dst, *v ? v : NULL);
	return 0;
}

static int set_app_host(struct parser *ps, struct cst_profile *p, const char *v)
{
	return set_other_host(ps, &p->app_host, v);
}

static int set_developer_hub_host(struct parser *ps, struct cst_profile *p, const char *v)
{
	return set_other_host(ps, &p->developer_hub_host, v);
}

/*
 * Contentstack's SDK derives its other hosts from the CMA host: the first "api" becomes
 * "app" or "developerhub-api", ".io" becomes ".com" (api.contentstack.io ->
 * app.contentstack.com, eu-api.contentstack.com -> eu-developerhub-api.contentstack.com).
 */
static char *derived_host(const char *cma, const char *set, const char *api)
{
	struct strbuf sb = STRBUF_INIT;
	const char *at, *io;

	if (set)
		return xstrdup(set);
	if (!cma)
		return NULL;
	at = strstr(cma, "api");
	if (!at)
		return xstrdup(cma);
	strbuf_add(&sb, cma, (size_t)(at - cma));
	strbuf_addstr(&sb, api);
	at += 3;
	io = strstr(at, ".io");
	if (io && (io[3] == '\0' || io[3] == ':')) {
		strbuf_add(&sb, at, (size_t)(io - at));
		strbuf_addstr(&sb, ".com");
		strbuf_addstr(&sb, io + 3);
	} else {
		strbuf_addstr(&sb, at);
	}
	return strbuf_detach(&sb, NULL);
}

char *cst_profile_app_host(const struct cst_profile *p)
{
	return derived_host(p->host, p->app_host, "app");
}

char *cst_profile_developer_hub_host(const struct cst_profile *p)
{
	return derived_host(p->host, p->developer_hub_host, "developerhub-api");
}

int cst_profile_need_api_key(const struct cst_config *cfg, const struct cst_profile *p,
			     const char *what, struct cst_error *e)
{
	if (p->api_key && *p->api_key)
		return 0;
	return cst_error_set(e, CST_ERR_CONFIG,
			     "profile '%s' has no api_key, so cstoken cannot %s; set api_key in "
			     "'%s'",
			     p->name, what, cfg && cfg->path ? cfg->path : "the configuration");
}

static const struct key cstoken_keys[CK_COUNT] = {
    [CK_STORE] = {"store", set_store},
    [CK_STORE_FILE] = {"store_file", set_store_file},
    [CK_DEFAULT_PROFILE] = {"default_profile", set_default_profile},
    [CK_TIMEOUT] = {"timeout", set_timeout},
};

static const struct key profile_keys[PK_COUNT] = {
    [PK_REGION] = {"region", set_region},
    [PK_HOST] = {"host", set_host},
    [PK_CA_FILE] = {"ca_file", set_ca_file},
    [PK_API_KEY] = {"api_key", set_api_key},
    [PK_EMAIL] = {"email", set_email},
    [PK_BRANCHES] = {"branches", set_branches},
    [PK_ALIASES] = {"aliases", set_aliases},
    [PK_PERMISSIONS] = {"permissions", set_permissions},
    [PK_LIFETIME] = {"lifetime", set_lifetime},
    [PK_RENEW_BEFORE] = {"renew_before", set_renew_before},
    [PK_NOTIFY] = {"notify", set_notify},
    [PK_NAME] = {"name", set_name},
    [PK_DESCRIPTION] = {"description", set_description},
    [PK_MINT] = {"mint", set_mint},
    [PK_STACK_TOKEN_LIMIT] = {"stack_token_limit", set_stack_token_limit},
    [PK_SHARED] = {"shared", set_shared},
    [PK_ETCD_ENDPOINTS] = {"etcd_endpoints", set_shared},
    [PK_ETCD_PREFIX] = {"etcd_prefix", set_shared},
    [PK_ETCD_CA_FILE] = {"etcd_ca_file", set_shared},
    [PK_ETCD_CERT_FILE] = {"etcd_cert_file", set_shared},
    [PK_ETCD_KEY_FILE] = {"etcd_key_file", set_shared},
    [PK_ETCD_USER] = {"etcd_user", set_shared},
    [PK_SHARED_CACHE] = {"shared_cache", set_shared},
    [PK_ETCD_CLAIM_TTL] = {"etcd_claim_ttl", set_shared},
    [PK_AUTH] = {"auth", set_auth},
    [PK_OAUTH_APP_ID] = {"oauth_app_id", set_oauth_app_id},
    [PK_OAUTH_CLIENT_ID] = {"oauth_client_id", set_oauth_client_id},
    [PK_OAUTH_REDIRECT] = {"oauth_redirect", set_oauth_redirect},
    [PK_APP_HOST] = {"app_host", set_app_host},
    [PK_DEVELOPER_HUB_HOST] = {"developer_hub_host", set_developer_hub_host},
};

static int find_key(const struct key *keys, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(keys[i].name, name))
			return (int)i;
	return -1;
}

/* "unknown key", with the key of this section it most likely is a typo of. */
static void unknown_key(struct parser *ps, const struct key *keys, size_t n, const char *name)
{
	struct cst_nearest near;
	size_t i;

	cst_nearest_init(&near, name);
	for (i = 0; i < n; i++)
		cst_nearest_add(&near, keys[i].name);
	if (near.best)
		fail(ps, ps->lineno,
		     "key '%s': unknown key (did you mean '%s'?); see cstoken.conf(5)", name,
		     near.best);
	else
		fail(ps, ps->lineno, "key '%s': unknown key; see cstoken.conf(5)", name);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *ps = user;
	const struct key *keys = profile_keys;
	struct cst_profile *p = NULL;
	struct seen *seen;
	size_t nkeys = PK_COUNT;
	int k;

	(void)section; /* ours, from the reader: inih truncates long ones */
	if (ps->err)
		return 0;
	switch (ps->section) {
	case SEC_NONE:
		fail(ps, ps->lineno,
		     "key '%s': outside any section; put it under [cstoken] or [profile "
		     "NAME]",
		     name);
		return 0;
	case SEC_CSTOKEN:
		keys = cstoken_keys;
		nkeys = CK_COUNT;
		seen = &ps->cstoken_seen;
		break;
	case SEC_PROFILE:
	default:
		p = &ps->cfg->profiles[ps->profile];
		seen = &ps->profile_seen[ps->profile];
		break;
	}
	k = find_key(keys, nkeys, name);
	if (k < 0) {
		if (p && find_key(cstoken_keys, CK_COUNT, name) >= 0)
			fail(ps, ps->lineno, "key '%s': belongs in [cstoken], not in [profile %s]",
			     name, p->name);
		else if (!p && find_key(profile_keys, PK_COUNT, name) >= 0)
			fail(ps, ps->lineno,
			     "key '%s': belongs in a [profile NAME] section, not in [cstoken]",
			     name);
		else
			unknown_key(ps, keys, nkeys, name);
		return 0;
	}
	if (seen->line[k]) {
		fail(ps, ps->lineno, "key '%s': already set on line %d", name, seen->line[k]);
		return 0;
	}
	seen->line[k] = ps->lineno;
	ps->key = name;
	return keys[k].set(ps, p, value) == 0;
}

static int add_profile(struct parser *ps, const char *name)
{
	struct cst_config *cfg = ps->cfg;
	size_t i;

	if (!valid_profile_name(name))
		return fail(ps, ps->lineno,
			    "profile name '%s' may only use up to %d letters, digits, '.', "
			    "'_' or '-'",
			    name, MAX_NAME);
	for (i = 0; i < cfg->nprofiles; i++)
		if (!strcmp(cfg->profiles[i].name, name))
			return fail(ps, ps->lineno, "duplicate profile '%s' (first on line %d)",
				    name, cfg->profiles[i].line);
	cfg->profiles = grow(cfg->profiles, cfg->nprofiles, sizeof(*cfg->profiles));
	ps->profile_seen = grow(ps->profile_seen, cfg->nprofiles, sizeof(*ps->profile_seen));
	cst_profile_defaults(&cfg->profiles[cfg->nprofiles], name);
	cfg->profiles[cfg->nprofiles].line = ps->lineno;
	memset(&ps->profile_seen[cfg->nprofiles], 0, sizeof(*ps->profile_seen));
	ps->profile = cfg->nprofiles++;
	ps->section = SEC_PROFILE;
	return 0;
}

/* "[cstoken]" or "[profile NAME]", with s at the '['. */
static int section_header(struct parser *ps, const char *s)
{
	const char *end = strchr(s, ']'), *rest;
	char *inner = NULL;
	int ret;

	if (!end)
		return fail(ps, ps->lineno, "section header without ']'");
	rest = skip_space(end + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return fail(ps, ps->lineno, "unexpected text after section header '%.*s'",
			    (int)(end + 1 - s), s);
	inner = trimmed_copy(s + 1, (size_t)(end - s - 1));
	if (!strcasecmp(inner, "cstoken")) {
		if (ps->cstoken_line)
			ret =
			    fail(ps, ps->lineno, "duplicate section '[cstoken]' (first on line %d)",
				 ps->cstoken_line);
		else {
			ps->cstoken_line = ps->lineno;
			ps->section = SEC_CSTOKEN;
			ret = 0;
		}
	} else if (!strncasecmp(inner, "profile", 7) &&
		   (!inner[7] || isspace((unsigned char)inner[7]))) {
		if (!*skip_space(inner + 7))
			ret = fail(ps, ps->lineno, "section '[%s]' needs a name: [profile NAME]",
				   inner);
		else
			ret = add_profile(ps, skip_space(inner + 7));
	} else {
		ret = fail(ps, ps->lineno,
			   "unknown section '[%s]'; use [cstoken] or [profile NAME]", inner);
	}
	free(inner);
	return ret;
}

/* inih's line source: one whole line per call, counted, headers handled here.
 */
static char *reader(char *str, int num, void *stream)
{
	struct parser *ps = stream;
	const char *s;
	int ret;

	if (ps->err)
		return NULL;
	ret = strbuf_getline(&ps->line, ps->fp, (size_t)num - 2);
	if (ret == 0)
		return NULL;
	ps->lineno++;
	if (ret == CST_ERR_TOO_LARGE) {
		fail(ps, ps->lineno, "line longer than %d characters", num - 2);
		return NULL;
	}
	if (ret < 0) {
		fail(ps, ps->lineno, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (strlen(ps->line.buf) != ps->line.len) {
		fail(ps, ps->lineno, "line contains a NUL byte");
		return NULL;
	}
	s = ps->line.buf;
	if (ps->lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	s = skip_space(s);
	if (*s == '[' && section_header(ps, s))
		return NULL;
	snprintf(str, (size_t)num, "%s\n", s);
	return str;
}

/* Cross-key rules, checked once every key of a profile is known. */
static int check_profile(struct parser *ps, struct cst_profile *p, const struct seen *seen)
{
	const int *line = seen->line;
	char a[32], b[32], why[CST_UNTRUSTED_MAX];

	if (p->naliases && p->nbranches && line[PK_BRANCHES]) {
		bool later = line[PK_ALIASES] > line[PK_BRANCHES];

		return fail(ps, later ? line[PK_ALIASES] : line[PK_BRANCHES],
			    "key '%s': set either branches or aliases, not both",
			    later ? "aliases" : "branches");
	}
	if (p->naliases) {
		free_list(p->branches, p->nbranches);
		p->branches = NULL;
		p->nbranches = 0;
	} else if (!p->nbranches) {
		p->branches = xmalloc(sizeof(*p->branches));
		p->branches[0] = xstrdup(DEFAULT_BRANCH);
		p->nbranches = 1;
	}
	if (p->lifetime == CST_LIFETIME_DURATION && p->renew_before >= p->lifetime_seconds) {
		format_duration(a, sizeof(a), p->renew_before);
		format_duration(b, sizeof(b), p->lifetime_seconds);
		if (line[PK_RENEW_BEFORE])
			return fail(ps, line[PK_RENEW_BEFORE],
				    "key 'renew_before': %s must be shorter than lifetime (%s)", a,
				    b);
		return fail(ps, line[PK_LIFETIME] ? line[PK_LIFETIME] : p->line,
			    "key 'lifetime': %s must be longer than renew_before (%s)", b, a);
	}
	if (cst_shared_conf_check(&p->shared, why, sizeof(why)))
		return fail(ps, line[PK_SHARED] ? line[PK_SHARED] : p->line, "%s", why);
	return 0;
}

static int parse_file(struct parser *ps)
{
	size_t i;
	int ret;

	ret = ini_parse_stream(reader, ps, handler, ps);
	if (ret > 0 && (!ps->err || ret < ps->errline)) {
		/* inih's own complaint: a line that is neither a header nor key = value */
		ps->err = 0;
		return fail(ps, ret, "expected '[section]' or 'key = value'");
	}
	if (ps->err)
		return ps->err;
	if (ret)
		return fail(ps, ps->lineno, "cannot parse");
	for (i = 0; i < ps->cfg->nprofiles; i++) {
		ret = check_profile(ps, &ps->cfg->profiles[i], &ps->profile_seen[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int open_config(struct cst_config *cfg, FILE **fpp, struct cst_error *e)
{
	char why[CST_UNTRUSTED_MAX];
	struct stat st;
	int fd, ret = CST_ERR_CONFIG;

	fd = open(cfg->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return cst_error_errno(e, CST_ERR_CONFIG, "cannot read '%s'", cfg->path);
	}
	if (fstat(fd, &st)) {
		ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot read '%s'", cfg->path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cst_error_set(e, CST_ERR_CONFIG, "'%s' is not a regular file", cfg->path);
		goto out;
	}
	/* the file picks the hosts that passwords and tokens are sent to */
	if (untrusted_file(&st, cfg->path, why, sizeof(why))) {
		ret = cst_error_set(e, CST_ERR_CONFIG, "%s", why);
		goto out;
	}
	if (st.st_size > MAX_FILE_SIZE) {
		ret = cst_error_set(e, CST_ERR_CONFIG, "'%s' is larger than %d bytes", cfg->path,
				    MAX_FILE_SIZE);
		goto out;
	}
	*fpp = fdopen(fd, "r");
	if (!*fpp) {
		ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot read '%s'", cfg->path);
		goto out;
	}
	fd = -1;
	cfg->found = true;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int apply_env(struct cst_config *cfg, struct cst_error *e)
{
	const char *v;
	char *path;

	v = getenv_nonempty("CSTOKEN_STORE");
	if (v && cst_store_kind_parse(v, &cfg->store))
		return cst_error_set(
		    e, CST_ERR_CONFIG,
		    "CSTOKEN_STORE: '%s' is not a store; use auto, secret-service or file", v);
	v = getenv_nonempty("CSTOKEN_STORE_FILE");
	if (v) {
		/* like store_file: a relative path would follow the working directory */
		path = config_path_value(v);
		if (!path)
			return cst_error_set(e, CST_ERR_CONFIG,
					     "CSTOKEN_STORE_FILE: '%s' must be an absolute path or "
					     "start with '~/'; fix or unset it",
					     v);
		free(cfg->store_file);
		cfg->store_file = path;
	}
	return 0;
}

int cst_config_load(struct cst_config *cfg, const char *path, struct cst_error *e)
{
	struct parser ps = {0};
	const char *env;
	int ret = CST_ERR_CONFIG;

	memset(cfg, 0, sizeof(*cfg));
	cfg->store = CST_STORE_AUTO;
	cfg->timeout = CST_DEFAULT_TIMEOUT;
	cfg->default_profile = xstrdup(DEFAULT_PROFILE);
	if (path)
		cfg->path = expand_home(path);
	else if ((env = getenv_nonempty("CSTOKEN_CONFIG")))
		cfg->path = expand_home(env);
	else
		cfg->path = xdg_config_path("cstoken/config");

	ret = open_config(cfg, &ps.fp, e);
	if (ret)
		goto out;
	if (ps.fp) {
		ps.cfg = cfg;
		ps.e = e;
		strbuf_init(&ps.line);
		ret = parse_file(&ps);
		if (ret)
			goto out;
	}
	ret = apply_env(cfg, e);
out:
	if (ps.fp)
		fclose(ps.fp);
	strbuf_release(&ps.line);
	free(ps.profile_seen);
	if (ret)
		cst_config_release(cfg);
	return ret;
}

void cst_profile_defaults(struct cst_profile *p, const char *name)
{
	const char *id = NULL, *host = NULL;

	memset(p, 0, sizeof(*p));
	cst_region_lookup("na", &id, &host);
	p->name = xstrdup(name);
	p->region = xstrdup(id);
	p->host = xstrdup(host);
	p->branches = xmalloc(sizeof(*p->branches));
	p->branches[0] = xstrdup(DEFAULT_BRANCH);
	p->nbranches = 1;
	p->lifetime = CST_LIFETIME_DURATION;
	p->lifetime_seconds = DEFAULT_LIFETIME;
	p->renew_before = DEFAULT_RENEW_BEFORE;
	p->name_template = xstrdup(DEFAULT_NAME_TEMPLATE);
	p->description = xstrdup(DEFAULT_DESCRIPTION);
	p->mint = true;
	p->stack_token_limit = DEFAULT_STACK_TOKEN_LIMIT;
	cst_shared_conf_defaults(&p->shared);
	p->oauth_app_id = xstrdup(CST_OAUTH_APP_ID);
	p->oauth_client_id = xstrdup(CST_OAUTH_CLIENT_ID);
	p->oauth_redirect = xstrdup(CST_OAUTH_REDIRECT);
}

void cst_profile_release(struct cst_profile *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->region);
	free(p->host);
	free(p->ca_file);
	free(p->api_key);
	free(p->email);
	free_list(p->branches, p->nbranches);
	free_list(p->aliases, p->naliases);
	free(p->name_template);
	free(p->description);
	cst_shared_conf_release(&p->shared);
	free(p->oauth_app_id);
	free(p->oauth_client_id);
	free(p->oauth_redirect);
	free(p->app_host);
	free(p->developer_hub_host);
	memset(p, 0, sizeof(*p));
}

void cst_config_release(struct cst_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nprofiles; i++)
		cst_profile_release(&cfg->profiles[i]);
	free(cfg->profiles);
	cst_profile_release(&cfg->builtin);
	free(cfg->path);
	free(cfg->store_file);
	free(cfg->default_profile);
	memset(cfg, 0, sizeof(*cfg));
}

static const char *default_name(const struct cst_config *cfg)
{
	return cfg && cfg->default_profile ? cfg->default_profile : DEFAULT_PROFILE;
}

const char *cst_config_profile_name(const struct cst_config *cfg, const char *name)
{
	const char *env;

	if (name)
		return name;
	env = getenv_nonempty("CSTOKEN_PROFILE");
	return env ? env : default_name(cfg);
}

const struct cst_profile *cst_config_profile(struct cst_config *cfg, const char *name)
{
	const char *want = cst_config_profile_name(cfg, name);
	const char *def = default_name(cfg);
	size_t i;

	for (i = 0; i < cfg->nprofiles; i++)
		if (!strcmp(cfg->profiles[i].name, want))
			return &cfg->profiles[i];
	if (strcmp(want, def))
		return NULL;
	if (!cfg->builtin.name || strcmp(cfg->builtin.name, def)) {
		cst_profile_release(&cfg->builtin);
		cst_profile_defaults(&cfg->builtin, def);
	}
	return &cfg->builtin;
}

/* Length of host without a trailing ":443", which git leaves out for https. */
static size_t host_len(const char *h)
{
	size_t n = strlen(h);

	if (n > 4 && !strcmp(h + n - 4, ":443")) {
		if (h[0] == '[' ? h[n - 5] == ']' : strchr(h, ':') == h + n - 4)
			return n - 4;
	}
	return n;
}

bool cst_host_equal(const char *a, const char *b)
{
	size_t na, nb;

	if (!a || !b)
		return false;
	na = host_len(a);
	nb = host_len(b);
	return na == nb && !strncasecmp(a, b, na);
}

const struct cst_profile *cst_config_profile_for(const struct cst_config *cfg, const char *protocol,
						 const char *host, const char *username)
{
	const struct cst_profile *first = NULL, *p;
	const char *def;
	size_t i;

	if (!cfg || !protocol || !host || strcmp(protocol, "https"))
		return NULL;
	def = cst_config_profile_name(cfg, NULL);
	for (i = 0; i < cfg->nprofiles; i++) {
		p = &cfg->profiles[i];
		if (!p->api_key || !p->host || !cst_host_equal(p->host, host))
			continue;
		if (username && strcmp(username, p->api_key))
			continue;
		if (!strcmp(p->name, def))
			return p;
		if (!first)
			first = p;
	}
	return first;
}

/* ---- writing one profile into the file (cstoken init) ---- */

/* Whether line (n bytes) is a section header; *name_match when it is "[profile name]". */
static bool header_line(const char *line, size_t n, const char *name, bool *name_match)
{
	char *copy = xstrndup(line, n), *inner = NULL;
	const char *s = skip_space(copy), *end;
	bool header = *s == '[';

	*name_match = false;
	end = header ? strchr(s, ']') : NULL;
	if (end) {
		inner = trimmed_copy(s + 1, (size_t)(end - s - 1));
		*name_match = !strncasecmp(inner, "profile", 7) &&
			      isspace((unsigned char)inner[7]) &&
			      !strcmp(skip_space(inner + 7), name);
	}
	free(inner);
	free(copy);
	return header;
}

/*
 * Where [profile name] lies in text: *start at its header line, *end at the next header,
 * less the blank and comment lines right before that header (they describe the next
 * section). False when the text has no such section.
 */
static bool find_profile(const char *text, size_t len, const char *name, size_t *start, size_t *end,
			 int *lineno)
{
	size_t pos = 0, eol, keep = 0;
	bool found = false, match, blank;
	int line = 0;
	const char *s;

	while (pos < len) {
		s = memchr(text + pos, '\n', len - pos);
		eol = s ? (size_t)(s - text) + 1 : len;
		line++;
		if (header_line(text + pos, eol - pos, name, &match)) {
			if (found) {
				*end = keep;
				return true;
			}
			if (match) {
				found = true;
				*start = pos;
				*lineno = line;
			}
			keep = eol;
		} else if (found) {
			s = text + pos + strspn(text + pos, " \t\r");
			blank = s >= text + eol || *s == '\n' || *s == ';' || *s == '#';
			if (!blank)
				keep = eol;
		}
		pos = eol;
	}
	if (found)
		*end = len;
	return found;
}

/* The directories above path, created 0700 where missing. */
static int make_parents(const char *path, struct cst_error *e)
{
	char *dir = xstrdup(path), *slash;
	int ret = 0;

	for (slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot create '%s'", dir);
			break;
		}
		*slash = '/';
	}
	free(dir);
	return ret;
}

/* The current file: its text (empty when there is none) and mode; refused like a load. */
static int read_for_update(const char *path, struct strbuf *text, mode_t *mode, struct cst_error *e)
{
	char why[CST_UNTRUSTED_MAX], buf[4096];
	struct stat st;
	ssize_t got;
	int fd, ret = CST_ERR_CONFIG;

	*mode = 0600;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return cst_error_set(e, CST_ERR_CONFIG,
				     "'%s' is a symbolic link, which cstoken does not replace; add "
				     "the profile to the file it points to by hand",
				     path);
	if (fd < 0)
		return cst_error_errno(e, CST_ERR_CONFIG, "cannot read '%s'", path);
	if (fstat(fd, &st)) {
		ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot read '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cst_error_set(e, CST_ERR_CONFIG, "'%s' is not a regular file", path);
		goto out;
	}
	if (untrusted_file(&st, path, why, sizeof(why))) {
		ret = cst_error_set(e, CST_ERR_CONFIG, "%s", why);
		goto out;
	}
	while ((got = read(fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot read '%s'", path);
			goto out;
		}
		if (text->len + (size_t)got > MAX_FILE_SIZE) {
			ret = cst_error_set(e, CST_ERR_CONFIG, "'%s' is larger than %d bytes", path,
					    MAX_FILE_SIZE);
			goto out;
		}
		strbuf_add(text, buf, (size_t)got);
	}
	*mode = st.st_mode & 0700;
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Writes text to a temporary file next to path, checks that it loads, renames it over. */
static int replace_file(const char *path, const struct strbuf *text, mode_t mode,
			struct cst_error *e)
{
	struct cst_config check;
	struct cst_error why = CST_ERROR_INIT;
	char *tmp = xasprintf("%s.XXXXXX", path), *dir = xstrdup(path), *slash;
	int fd, dfd, ret = CST_ERR_CONFIG;
	bool made = false;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot create a file next to '%s'", path);
		goto out;
	}
	made = true;
	if (fchmod(fd, mode) || cst_write_all(fd, text->buf ? text->buf : "", text->len) ||
	    fsync(fd)) {
		ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot write '%s'", tmp);
		close(fd);
		goto out;
	}
	if (close(fd)) {
		ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot write '%s'", tmp);
		goto out;
	}
	/* what the next command will read must load: nothing half-valid replaces the file */
	if (cst_config_load(&check, tmp, &why)) {
		ret = cst_error_set(e, CST_ERR_CONFIG,
				    "the new profile would not load (%s); '%s' "
				    "is unchanged",
				    why.msg, path);
		goto out;
	}
	cst_config_release(&check);
	if (rename(tmp, path)) {
		ret = cst_error_errno(e, CST_ERR_CONFIG, "cannot replace '%s'", path);
		goto out;
	}
	made = false;
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ret = 0;
out:
	if (made)
		unlink(tmp);
	free(tmp);
	free(dir);
	return ret;
}

int cst_config_write_profile(const char *path, const char *name, const char *section, bool replace,
			     struct cst_error *e)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	size_t start = 0, end = 0;
	int ret, line = 0;
	mode_t mode;

	ret = make_parents(path, e);
	if (!ret)
		ret = read_for_update(path, &text, &mode, e);
	if (ret)
		goto out;
	if (find_profile(text.buf ? text.buf : "", text.len, name, &start, &end, &line)) {
		if (!replace) {
			ret =
			    cst_error_set(e, CST_ERR_USAGE,
					  "profile '%s' is already in '%s' (line %d); give --force "
					  "to replace it",
					  name, path, line);
			goto out;
		}
		strbuf_add(&out, text.buf, start);
		strbuf_addstr(&out, section);
		/* a blank line before the next section, unless one was kept */
		if (end < text.len && text.buf[end] != '\n' && text.buf[end] != '\r')
			strbuf_addch(&out, '\n');
		strbuf_add(&out, text.buf + end, text.len - end);
	} else {
		strbuf_add(&out, text.buf ? text.buf : "", text.len);
		if (text.len && text.buf[text.len - 1] != '\n')
			strbuf_addch(&out, '\n');
		if (text.len)
			strbuf_addch(&out, '\n');
		strbuf_addstr(&out, section);
	}
	ret = replace_file(path, &out, mode, e);
out:
	strbuf_release(&text);
	strbuf_release(&out);
	return ret;
}
