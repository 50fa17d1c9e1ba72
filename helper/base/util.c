/* The small helpers every layer shares: allocation, strbuf, secrets, parsing, syntax checks. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cstoken/error.h"
#include "cstoken/util.h"

int cst_verbose;

void cst_oom(void)
{
	static const char msg[] = "cstoken: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		cst_oom();
	return p;
}

void *xcalloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);

	if (!p)
		cst_oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		cst_oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		cst_oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		cst_oom();
	return p;
}

void freezero(void *p, size_t n)
{
	if (!p)
		return;
	explicit_bzero(p, n);
	free(p);
}

void free_secret(char *s)
{
	if (s)
		freezero(s, strlen(s));
}

void set_secret(char **dst, const char *src)
{
	free_secret(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

bool secret_equal(const char *a, const char *b)
{
	size_t la, lb, i;
	unsigned char diff = 0;

	if (!a || !b)
		return a == b;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return false;
	for (i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

bool str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

void strbuf_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->alloc = 0;
}

void strbuf_release(struct strbuf *sb)
{
	freezero(sb->buf, sb->alloc);
	strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	if (sb->buf)
		explicit_bzero(sb->buf, sb->alloc);
	sb->len = 0;
}

static void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want, alloc;
	char *nbuf;

	if (extra > SIZE_MAX / 2 - sb->len - 1)
		cst_oom();
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return;
	alloc = sb->alloc ? sb->alloc : 64;
	while (alloc < want)
		alloc *= 2;
	/* never realloc: the old block would be freed with the secret still in it */
	nbuf = xmalloc(alloc);
	if (sb->buf) {
		memcpy(nbuf, sb->buf, sb->len);
		freezero(sb->buf, sb->alloc);
	}
	nbuf[sb->len] = '\0';
	sb->buf = nbuf;
	sb->alloc = alloc;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	strbuf_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	strbuf_grow(sb, 0);
	p = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb);
	return p;
}

int strbuf_getline(struct strbuf *sb, FILE *fp, size_t max)
{
	bool over = false;
	int c;

	strbuf_reset(sb);
	strbuf_grow(sb, 0);
	for (;;) {
		c = getc(fp);
		if (c == EOF) {
			if (ferror(fp))
				return CST_ERR_SYSTEM;
			if (over)
				return CST_ERR_TOO_LARGE;
			return sb->len ? 1 : 0;
		}
		if (c == '\n')
			break;
		if (over)
			continue;
		if (sb->len >= max) {
			over = true;
			strbuf_reset(sb);
			continue;
		}
		strbuf_addch(sb, (char)c);
	}
	return over ? CST_ERR_TOO_LARGE : 1;
}

int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	long long v;
	char *end;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return CST_ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return CST_ERR_INVALID;
	*out = (int64_t)v;
	return 0;
}

void secure_process(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void cst_debug(const char *fmt, ...)
{
	va_list ap;

	if (cst_verbose <= 0)
		return;
	va_start(ap, fmt);
	cst_vsay(CST_SAY_DEBUG, fmt, ap);
	va_end(ap);
}

static bool uid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool cst_url_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://"), *end;

	if (!h)
		return false;
	h += 3;
	if (*h == '[') {
		end = strchr(++h, ']');
	} else {
		end = h + strcspn(h, ":/");
	}
	if (!end || end == h || (size_t)(end - h) >= n)
		return false;
	memcpy(out, h, (size_t)(end - h));
	out[end - h] = '\0';
	return true;
}

bool cst_url_loopback(const char *url)
{
	char host[256];
	int a, b, c, d;
	char extra;

	if (!cst_url_host(url, host, sizeof(host)))
		return false;
	if (!strcasecmp(host, "localhost") || !strcmp(host, "::1"))
		return true;
	return sscanf(host, "%d.%d.%d.%d%c", &a, &b, &c, &d, &extra) == 4 && a == 127 && b >= 0 &&
	       b < 256 && c >= 0 && c < 256 && d >= 0 && d < 256;
}

bool cst_plain_uid(const char *s)
{
	size_t i;

	if (!s || !*s || *s == '-')
		return false;
	for (i = 0; s[i]; i++)
		if (i >= 128 || !uid_char(s[i]))
			return false;
	return true;
}

bool cst_plain_token(const char *s)
{
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++)
		if (i >= 4096 ||
		    !(uid_char(s[i]) || s[i] == '~' || s[i] == '+' || s[i] == '/' || s[i] == '='))
			return false;
	return true;
}

bool cst_plain_api_key(const char *s)
{
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++)
		if (i >= 128 || !uid_char(s[i]) || s[i] == '.')
			return false;
	return true;
}

bool cst_has_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int64_t cst_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cst_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!w)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

const char *getenv_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static const char *home_dir(void)
{
	const char *h = getenv_nonempty("HOME");
	struct passwd *pw;

	if (h)
		return h;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

char *expand_home(const char *path)
{
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
		return xasprintf("%s%s", home_dir(), path + 1);
	return xstrdup(path);
}

static char *xdg_path(const char *env, const char *fallback, const char *rel)
{
	const char *base = getenv_nonempty(env);

	/* the XDG spec ignores relative values */
	if (base && base[0] == '/')
		return xasprintf("%s/%s", base, rel);
	return xasprintf("%s/%s/%s", home_dir(), fallback, rel);
}

char *xdg_config_path(const char *rel)
{
	return xdg_path("XDG_CONFIG_HOME", ".config", rel);
}

char *xdg_data_path(const char *rel)
{
	return xdg_path("XDG_DATA_HOME", ".local/share", rel);
}

/* Names compared for a suggestion: longer ones are never a typo of a known name. */
#define NEAREST_MAX 64

/*
 * Optimal string alignment distance (Levenshtein with swaps of neighbours), case ignored;
 * NEAREST_MAX + 1 for words longer than NEAREST_MAX.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[3][NEAREST_MAX + 1], *prev2 = d[0], *prev = d[1], *cur = d[2], *t;

	if (la > NEAREST_MAX || lb > NEAREST_MAX)
		return NEAREST_MAX + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca != cb);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

void cst_nearest_init(struct cst_nearest *n, const char *word)
{
	n->word = word;
	n->best = NULL;
	/* one edit in a short word, two in a longer one */
	n->dist = (word && strlen(word) > 4 ? 2 : 1) + 1;
}

void cst_nearest_add(struct cst_nearest *n, const char *name)
{
	size_t d;

	if (!n->word || !name)
		return;
	d = edit_distance(n->word, name);
	if (d < n->dist) {
		n->dist = d;
		n->best = name;
	}
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void cst_base64_encode(struct strbuf *sb, const void *data, size_t n)
{
	const unsigned char *s = data;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		strbuf_addch(sb, b64_alphabet[s[i] >> 2]);
		strbuf_addch(sb, b64_alphabet[(s[i] & 3) << 4 | s[i + 1] >> 4]);
		strbuf_addch(sb, b64_alphabet[(s[i + 1] & 15) << 2 | s[i + 2] >> 6]);
		strbuf_addch(sb, b64_alphabet[s[i + 2] & 63]);
	}
	if (i < n) {
		strbuf_addch(sb, b64_alphabet[s[i] >> 2]);
		if (i + 1 < n) {
			strbuf_addch(sb, b64_alphabet[(s[i] & 3) << 4 | s[i + 1] >> 4]);
			strbuf_addch(sb, b64_alphabet[(s[i + 1] & 15) << 2]);
		} else {
			strbuf_addch(sb, b64_alphabet[(s[i] & 3) << 4]);
			strbuf_addch(sb, '=');
		}
		strbuf_addch(sb, '=');
	}
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

int cst_base64_decode(struct strbuf *sb, const char *s)
{
	size_t len = strlen(s), i, pad = 0;
	int v[4], k;

	if (len % 4)
		return CST_ERR_INVALID;
	if (len && s[len - 1] == '=')
		pad = len >= 2 && s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		bool last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			v[k] = last && k >= 4 - (int)pad ? 0 : b64_value(s[i + (size_t)k]);
			if (v[k] < 0)
				return CST_ERR_INVALID;
		}
		strbuf_addch(sb, (char)(v[0] << 2 | v[1] >> 4));
		if (!last || pad < 2)
			strbuf_addch(sb, (char)((v[1] & 15) << 4 | v[2] >> 2));
		if (!last || pad < 1)
			strbuf_addch(sb, (char)((v[2] & 3) << 6 | v[3]));
	}
	return 0;
}
