/* Module arguments of pam_cstoken, parsed into one struct. */
#ifndef PAM_CSTOKEN_CFG_H
#define PAM_CSTOKEN_CFG_H

#include <stdbool.h>
#include <sys/types.h>

#include <security/pam_modules.h>

#define PCS_DEFAULT_ENV "CONTENTSTACK_MANAGEMENT_TOKEN"
#define PCS_DEFAULT_TIMEOUT 5 /* seconds */
#define PCS_MAX_TIMEOUT 300

struct pcs_cfg {
	const char *profile; /* NULL: cstoken's own default */
	const char *env;     /* variable that receives the token */
	bool mint;
	bool revoke;
	bool debug;
	int timeout; /* seconds */
#ifdef PCS_TEST
	/* Test hooks, compiled into pam_cstoken_test.so only. */
	const char *test_program;     /* run instead of cstoken */
	const char *test_runtime_dir; /* instead of /run/user */
	const char *test_idfile;      /* the child records its ids here before exec */
	uid_t test_owner;	      /* may own the program and its directories, as root */
#endif
};

/*
 * Fills cfg from the module arguments; strings point into argv. Unknown arguments are
 * logged and ignored. Returns 0, or CST_ERR_CONFIG (logged) for a bad value, in which
 * case the module must do nothing.
 */
int pcs_cfg_parse(pam_handle_t *pamh, int argc, const char **argv, struct pcs_cfg *cfg);

/* True for a portable environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 128. */
bool pcs_valid_env_name(const char *s);
/* True for a profile name or token uid that is safe as one argv word: [A-Za-z0-9._-]+,
 * not starting with '-', at most 128 bytes. */
bool pcs_valid_word(const char *s);

#endif
