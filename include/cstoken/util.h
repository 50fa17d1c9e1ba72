/* Memory, strings and secret hygiene shared by the whole core. */
#ifndef CSTOKEN_UTIL_H
#define CSTOKEN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Allocation that cannot fail: on out-of-memory these print one line and abort().
 * Used by the cstoken program only; the PAM module does not link the core.
 */
/* Prints "cstoken: out of memory" and aborts: the one out-of-memory path. */
void cst_oom(void) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wipes n bytes at p (may be NULL) and frees it. */
void freezero(void *p, size_t n);
/* Wipes a NUL-terminated secret (may be NULL) and frees it. */
void free_secret(char *s);
/* Replaces *dst by a copy of src (or NULL), wiping and freeing the old value. */
void set_secret(char **dst, const char *src);
/* Replaces *dst by a copy of src (or NULL), freeing the old value. */
void set_str(char **dst, const char *src);

/* Constant-time comparison of two NUL-terminated strings; NULL equals only NULL. */
bool secret_equal(const char *a, const char *b);
/* strcmp that treats NULL as equal only to NULL. */
bool str_equal(const char *a, const char *b);

/*
 * A growable buffer that wipes its old storage whenever it grows or is released,
 * so a secret that passes through it leaves no copy behind. Always NUL-terminated.
 */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void strbuf_init(struct strbuf *sb);
/* Wipes and frees the contents; sb can be reused. */
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb); /* wipes, keeps storage */
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (free with free_secret/free) and resets sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/*
 * Reads one line from fp into sb (reset first), without the LF. Returns 1 when a line
 * was read, 0 at EOF with nothing read, CST_ERR_TOO_LARGE past max bytes (the rest of
 * the line is consumed), CST_ERR_SYSTEM on a read error. A NUL byte in the line is
 * kept, so callers must check strlen(sb->buf) != sb->len.
 */
int strbuf_getline(struct strbuf *sb, FILE *fp, size_t max);

/* Appends the base64 (RFC 4648, padded) of n bytes of data to sb. */
void cst_base64_encode(struct strbuf *sb, const void *data, size_t n);
/*
 * Appends the bytes that padded base64 s stands for to sb (which wipes what it held);
 * CST_ERR_INVALID for anything else (sb then holds a part).
 */
int cst_base64_decode(struct strbuf *sb, const char *s);

/* Parses a decimal integer in [min, max] with nothing trailing; 0 or CST_ERR_INVALID. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Makes cJSON wipe every block it frees (process-wide, idempotent): its parser drops
 * partial trees, secrets included, without telling the caller.
 */
void cst_json_wipe_on_free(void);

/* Disables core dumps and ptrace attach for this process (prctl, setrlimit). */
void secure_process(void);

/* Verbose diagnostics to the sink main installs (error.h), on when cst_verbose > 0. Never
 * pass a secret. */
extern int cst_verbose;
void cst_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The syntax of values that leave cstoken. Every value that reaches a header, a URL, a
 * terminal, a shell suggestion, the environment or a curl config is checked with one of
 * these first, whoever supplied it (store, server, config).
 */
/* A Contentstack uid ("blt" and hex): 1-128 of [A-Za-z0-9._-], not starting with '-'. */
bool cst_plain_uid(const char *s);
/*
 * An opaque credential (authtoken, management token, OAuth access or refresh token):
 * 1-4096 printable ASCII bytes from [A-Za-z0-9._~+/=-], so it is one header value,
 * one URL-safe word and one line.
 */
bool cst_plain_token(const char *s);
/* The host of scheme://host[:port], without brackets, into out (n bytes); false if none. */
bool cst_url_host(const char *url, char *out, size_t n);
/* Is the host of url (http:// or https://) a loopback address? */
bool cst_url_loopback(const char *url);
/* True when s holds a C0 control byte or DEL (NULL and "" hold none). */
bool cst_has_control(const char *s);
/* A stack API key: 1-128 of [A-Za-z0-9_-]. */
bool cst_plain_api_key(const char *s);
/*
 * An environment variable name: 1-128 of [A-Za-z0-9_], not starting with a digit.
 * Inline because the PAM module checks its env= with it and does not link the core.
 */
static inline bool cst_plain_env_name(const char *s)
{
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= 128 || !(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				  (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/*
 * "Did you mean": feed every known name to cst_nearest_add; best is then the one the
 * word is most likely a typo of (case ignored, a swap of two neighbours counts as one
 * edit), or NULL when none is close enough. best points at the caller's name.
 */
struct cst_nearest {
	const char *word;
	const char *best;
	size_t dist;
};
void cst_nearest_init(struct cst_nearest *n, const char *word);
void cst_nearest_add(struct cst_nearest *n, const char *name);

/* Writes all n bytes at buf to fd, again after EINTR: 0, or -1 with errno set. */
int cst_write_all(int fd, const void *buf, size_t n);

/* CLOCK_MONOTONIC in milliseconds: what every deadline is measured in. */
int64_t cst_monotonic_ms(void);

/* The value of env var name if set and non-empty, else NULL. */
const char *getenv_nonempty(const char *name);

/* ~ expansion and the XDG base directories; caller frees. */
char *expand_home(const char *path);
char *xdg_config_path(const char *rel); /* $XDG_CONFIG_HOME/rel or ~/.config/rel */
char *xdg_data_path(const char *rel);	/* $XDG_DATA_HOME/rel or ~/.local/share/rel */

#endif
