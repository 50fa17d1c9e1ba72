/* Error codes and their messages, and the one channel for warnings that main owns. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cstoken/error.h"

const char *cst_strerror(int err)
{
	switch ((enum cst_err)err) {
	case CST_OK:
		return "success";
	case CST_ERR_NOMEM:
		return "out of memory";
	case CST_ERR_SYSTEM:
		return "system error";
	case CST_ERR_INVALID:
		return "invalid input";
	case CST_ERR_TOO_LARGE:
		return "input too large";
	case CST_ERR_CONFIG:
		return "bad configuration";
	case CST_ERR_NOT_FOUND:
		return "not found";
	case CST_ERR_STORE:
		return "the credential store failed";
	case CST_ERR_STORE_UNAVAILABLE:
		return "no Secret Service answers on the session bus";
	case CST_ERR_INSECURE:
		return "refusing an insecure file";
	case CST_ERR_TIMEOUT:
		return "timed out";
	case CST_ERR_NETWORK:
		return "network error";
	case CST_ERR_TLS:
		return "TLS error";
	case CST_ERR_HTTP:
		return "unexpected HTTP response";
	case CST_ERR_API:
		return "the Contentstack API returned an error";
	case CST_ERR_AUTH:
		return "authentication refused";
	case CST_ERR_TFA_REQUIRED:
		return "a two-factor code is required";
	case CST_ERR_STACK_FULL:
		return "the stack has no free management token slot";
	case CST_ERR_NOT_LOGGED_IN:
		return "not logged in";
	case CST_ERR_RATE_LIMITED:
		return "rate limited by the Contentstack API";
	case CST_ERR_USAGE:
		return "usage error";
	case CST_ERR_STORE_LOCKED:
		return "the keyring is locked";
	case CST_ERR_FORBIDDEN:
		return "not allowed by the Contentstack API";
	case CST_ERR_RELOGIN:
		return "the session was refused: log in again";
	}
	return "unknown error";
}

static int error_vset(struct cst_error *e, int code, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int error_vset(struct cst_error *e, int code, int errnum, const char *fmt, va_list ap)
{
	int n;

	if (!e)
		return code;
	e->code = code;
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (n < 0)
		e->msg[0] = '\0';
	else if (errnum && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(errnum));
	return code;
}

int cst_error_set(struct cst_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(e, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int cst_error_errno(struct cst_error *e, int code, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	error_vset(e, code, errnum, fmt, ap);
	va_end(ap);
	errno = errnum;
	return code;
}

const char *cst_error_msg(const struct cst_error *e, int code)
{
	if (e && e->msg[0])
		return e->msg;
	return cst_strerror(code);
}

static cst_say_fn *say_sink;

void cst_say_sink(cst_say_fn *fn)
{
	say_sink = fn;
}

void cst_vsay(enum cst_say kind, const char *fmt, va_list ap)
{
	char msg[1024];

	if (!say_sink)
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	say_sink(kind, msg);
}

void cst_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cst_vsay(CST_SAY_WARNING, fmt, ap);
	va_end(ap);
}

void cst_progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cst_vsay(CST_SAY_PROGRESS, fmt, ap);
	va_end(ap);
}
