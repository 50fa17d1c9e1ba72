/*
 * pam_cstoken's parsers: the porcelain answer of `cstoken token --porcelain`
 * (pcs_token_parse) and the module arguments (pcs_cfg_parse, one per input line). What
 * they accept must be safe to use: a token and api_key of printable non-blank ASCII, a
 * uid and profile usable as one argv word, an environment variable name, a timeout in
 * range, and argv arrays that fit.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_ext.h>

#include "cfg.h"
#include "token.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The module logs through pam_syslog; libpam is not linked here, so this stands in for
 * it. Formatting the message still makes the sanitizers check every argument.
 */
void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	(void)pamh;
	(void)priority;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
}

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int plain(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

static void check_argv(const char *const *argv)
{
	size_t i;

	for (i = 0; i < 8 && argv[i]; i++)
		;
	check(i < 8);
}

static void fuzz_porcelain(const uint8_t *data, size_t size)
{
	struct pcs_token t;
	const char *argv[8];
	const char *why = NULL;
	char *buf = malloc(size + 1);

	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (pcs_token_parse(buf, size, &t, &why) == 0) {
		check(why == NULL);
		check(t.api_key && *t.api_key && plain(t.api_key));
		check(t.token && *t.token && plain(t.token));
		check(t.uid && (!*t.uid || pcs_valid_word(t.uid)));
		check(t.expiry && *t.expiry);
		if (*t.uid) {
			pcs_revoke_argv("/usr/bin/cstoken", NULL, t.uid, argv);
			check_argv(argv);
		}
	} else {
		check(why != NULL && *why);
	}
	explicit_bzero(buf, size + 1);
	free(buf);
}

static void fuzz_args(const uint8_t *data, size_t size)
{
	const char *argv[MAX_ARGS], *targv[8];
	struct pcs_cfg cfg;
	char *copy = malloc(size + 1), *s, *nl;
	int argc = 0;

	if (!copy)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (s = copy; argc < MAX_ARGS; s = nl + 1) {
		nl = strchr(s, '\n');
		argv[argc++] = s;
		if (!nl)
			break;
		*nl = '\0';
	}
	if (pcs_cfg_parse(NULL, argc, argv, &cfg) == 0) {
		check(pcs_valid_env_name(cfg.env));
		check(!cfg.profile || pcs_valid_word(cfg.profile));
		check(cfg.timeout >= 1 && cfg.timeout <= PCS_MAX_TIMEOUT);
		pcs_token_argv("/usr/bin/cstoken", cfg.profile, cfg.mint, targv);
		check_argv(targv);
		if (cfg.profile) {
			pcs_revoke_argv("/usr/bin/cstoken", cfg.profile, "blt0", targv);
			check_argv(targv);
		}
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_porcelain(data, size);
	fuzz_args(data, size);
	return 0;
}
