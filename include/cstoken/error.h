/* Error codes of the cstoken core: every library function returns 0 or one of these. */
#ifndef CSTOKEN_ERROR_H
#define CSTOKEN_ERROR_H

#include <stdarg.h>

enum cst_err {
	CST_OK = 0,
	CST_ERR_NOMEM = -1,		/* out of memory */
	CST_ERR_SYSTEM = -2,		/* a system call failed; detail names it */
	CST_ERR_INVALID = -3,		/* malformed input (protocol, JSON, argument) */
	CST_ERR_TOO_LARGE = -4,		/* input over its cap */
	CST_ERR_CONFIG = -5,		/* bad configuration: file, line, key in detail */
	CST_ERR_NOT_FOUND = -6,		/* no such item */
	CST_ERR_STORE = -7,		/* the store failed */
	CST_ERR_STORE_UNAVAILABLE = -8, /* no Secret Service answered */
	CST_ERR_INSECURE = -9,		/* a file is a symlink, foreign-owned or too open */
	CST_ERR_TIMEOUT = -10,		/* an operation ran past its deadline */
	CST_ERR_NETWORK = -11,		/* connect, reset, DNS */
	CST_ERR_TLS = -12,		/* certificate or handshake failure */
	CST_ERR_HTTP = -13,		/* unexpected HTTP status or body */
	CST_ERR_API = -14,		/* Contentstack returned an error body */
	CST_ERR_AUTH = -15,		/* authtoken or token refused (401 / 105) */
	CST_ERR_TFA_REQUIRED = -16,	/* login needs a 2FA code (294) */
	CST_ERR_STACK_FULL = -17,	/* the stack has no free token slot */
	CST_ERR_NOT_LOGGED_IN = -18,	/* no stored authtoken for the host */
	CST_ERR_RATE_LIMITED = -19,	/* 429 after all retries */
	CST_ERR_USAGE = -20,		/* wrong command-line use */
	CST_ERR_STORE_LOCKED = -21,	/* the keyring is locked: its items cannot be read */
	CST_ERR_FORBIDDEN = -22,	/* the server refused the user (HTTP 403): not allowed */
	CST_ERR_RELOGIN = -23,		/* the OAuth session was refused: log in again */
};

/* A static, lower-case description of err. */
const char *cst_strerror(int err);

/*
 * Detail of a failure for the one-line message main prints. Functions that can fail
 * in more than one way take a struct cst_error * as last argument; NULL is allowed.
 * The message never contains a secret.
 */
struct cst_error {
	int code;
	char msg[512];
};
#define CST_ERROR_INIT                                                                             \
	{                                                                                          \
		0,                                                                                 \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/* Records code and a printf-style message in e (if not NULL) and returns code. */
int cst_error_set(struct cst_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like cst_error_set but appends ": strerror(errno)" (errno as on entry). */
int cst_error_errno(struct cst_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message recorded in e, or cst_strerror(code) when none was set. */
const char *cst_error_msg(const struct cst_error *e, int code);

/*
 * The one channel by which library code says something that is not an error: a warning
 * (the call went on) or, with cst_debug, a diagnostic. Library code never writes to a
 * terminal itself; main installs the sink that does. Until one is installed nothing is
 * said. msg is one line without a newline and never holds a secret.
 */
enum cst_say { CST_SAY_WARNING, CST_SAY_DEBUG, CST_SAY_PROGRESS };
typedef void cst_say_fn(enum cst_say kind, const char *msg);
void cst_say_sink(cst_say_fn *fn);
/* Delivers a message of that kind to the sink (truncated past 1 KiB). */
void cst_vsay(enum cst_say kind, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* A warning: lower case, no full stop, without the "warning:" the sink adds. */
void cst_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a slow call is doing, for the user watching a terminal (e.g. "waiting for HOST"). */
void cst_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
