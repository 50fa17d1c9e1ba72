/* Module arguments: profile= env= mint revoke timeout= debug. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cstoken/error.h"
#include "cstoken/util.h"
#include "debug.h"

#define MAX_NAME 128

bool pcs_valid_env_name(const char *s)
{
	return cst_plain_env_name(s);
}

bool pcs_valid_word(const char *s)
{
	size_t i;

	if (!s || !*s || *s == '-' || strlen(s) > MAX_NAME)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			continue;
		return false;
	}
	return true;
}

static int parse_timeout(const char *s, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > PCS_MAX_TIMEOUT)
		return CST_ERR_INVALID;
	*out = (int)v;
	return 0;
}

/* The value of "key=value" when arg starts with key=, else NULL. */
static const char *value_of(const char *arg, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(arg, key, n) || arg[n] != '=')
		return NULL;
	return arg + n + 1;
}

int pcs_cfg_parse(pam_handle_t *pamh, int argc, const char **argv, struct pcs_cfg *cfg)
{
	int i, ret = 0;
	const char *v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->env = PCS_DEFAULT_ENV;
	cfg->timeout = PCS_DEFAULT_TIMEOUT;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "debug")) {
			cfg->debug = true;
		} else if (!strcmp(a, "mint")) {
			cfg->mint = true;
		} else if (!strcmp(a, "revoke")) {
			cfg->revoke = true;
		} else if ((v = value_of(a, "profile"))) {
			if (!pcs_valid_word(v)) {
				pam_syslog(
				    pamh, LOG_ERR,
				    "bad profile name '%s': use letters, digits, '.', '_', '-'", v);
				ret = CST_ERR_CONFIG;
			}
			cfg->profile = v;
		} else if ((v = value_of(a, "env"))) {
			if (!pcs_valid_env_name(v)) {
				pam_syslog(pamh, LOG_ERR, "bad variable name in 'env=%s'", v);
				ret = CST_ERR_CONFIG;
			}
			cfg->env = v;
		} else if ((v = value_of(a, "timeout"))) {
			if (parse_timeout(v, &cfg->timeout)) {
				pam_syslog(
				    pamh, LOG_ERR,
				    "bad value in 'timeout=%s': use whole seconds from 1 to %d", v,
				    PCS_MAX_TIMEOUT);
				ret = CST_ERR_CONFIG;
			}
#ifdef PCS_TEST
		} else if ((v = value_of(a, "test_program"))) {
			cfg->test_program = v;
		} else if ((v = value_of(a, "test_runtime_dir"))) {
			cfg->test_runtime_dir = v;
		} else if ((v = value_of(a, "test_idfile"))) {
			cfg->test_idfile = v;
		} else if ((v = value_of(a, "test_owner"))) {
			cfg->test_owner = (uid_t)strtoul(v, NULL, 10);
#endif
		} else {
			pam_syslog(pamh, LOG_WARNING, "unknown argument '%s' ignored", a);
		}
	}
	return ret;
}
