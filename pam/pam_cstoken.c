/*
 * pam_cstoken: the pam_sm_* entry points.
 *
 * Design: the module does NOT link the cstoken core. Login processes (sshd, login,
 * display managers) run as root and often with threads; loading libsecret, GLib and
 * libcurl into them would drag their threads, global state and D-Bus connections into
 * every login. Instead open_session forks, the child drops to the target user for good
 * (groups, gid, uid; root cannot be regained) and execs the installed `cstoken` with a
 * clean environment built before the fork; the parent reads its porcelain answer under
 * a deadline. Whatever goes wrong is logged and answered with PAM_IGNORE, so a
 * `session optional` line never locks anyone out.
 */
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "cfg.h"
#include "cstoken/error.h"
#include "debug.h"
#include "drop_privs.h"
#include "env.h"
#include "run.h"
#include "token.h"
#include "trust.h"

#ifndef CSTOKEN_PATH
#error "CSTOKEN_PATH must name the installed cstoken program"
#endif

#define DATA_NAME "pam_cstoken_session"
#define API_KEY_ENV "CONTENTSTACK_API_KEY"
#define MAX_ERR_LOG 300

/* What close_session needs to revoke the token its open_session minted. */
struct session_data {
	char *user;
	char *profile; /* NULL: cstoken's default */
	char *uid;
	int minted;
};

static void wipe_str(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void session_data_free(struct session_data *sd)
{
	if (!sd)
		return;
	wipe_str(sd->user);
	wipe_str(sd->profile);
	wipe_str(sd->uid);
	explicit_bzero(sd, sizeof(*sd));
	free(sd);
}

static void session_data_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	session_data_free(data);
}

static const char *program(const struct pcs_cfg *cfg)
{
#ifdef PCS_TEST
	if (cfg->test_program)
		return cfg->test_program;
#else
	(void)cfg;
#endif
	return CSTOKEN_PATH;
}

/* Besides root, the owner a test may give its programs and their directories. */
static uid_t trusted_owner(const struct pcs_cfg *cfg)
{
#ifdef PCS_TEST
	return cfg->test_owner;
#else
	(void)cfg;
	return 0;
#endif
}

static const char *runtime_base(const struct pcs_cfg *cfg)
{
#ifdef PCS_TEST
	if (cfg->test_runtime_dir)
		return cfg->test_runtime_dir;
#else
	(void)cfg;
#endif
	return "/run/user";
}

static const char *idfile(const struct pcs_cfg *cfg)
{
#ifdef PCS_TEST
	return cfg->test_idfile;
#else
	(void)cfg;
	return NULL;
#endif
}

/* Logs why a run of cstoken failed, with the first line of its stderr, made printable
 * and short. */
static void log_child_error(pam_handle_t *pamh, const char *what, const char *user,
			    const struct pcs_output *out)
{
	char line[MAX_ERR_LOG + 1];
	size_t i;
	int st = out->status;

	for (i = 0; i < out->err_len && i < MAX_ERR_LOG && out->err[i] != '\n'; i++)
		line[i] = out->err[i] >= ' ' && out->err[i] <= '~' ? out->err[i] : '?';
	line[i] = '\0';
	if (!out->status_known)
		pam_syslog(pamh, LOG_ERR,
			   "%s for user '%s' failed (exit status unknown: the application "
			   "reaped it)%s%s",
			   what, user, i ? ": " : "", line);
	else if (WIFEXITED(st))
		pam_syslog(pamh, LOG_ERR, "%s for user '%s' failed with exit status %d%s%s", what,
			   user, WEXITSTATUS(st), i ? ": " : "", line);
	else
		pam_syslog(pamh, LOG_ERR, "%s for user '%s' ended by signal %d", what, user,
			   WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static bool exited_ok(const struct pcs_output *out)
{
	return out->status_known && WIFEXITED(out->status) && WEXITSTATUS(out->status) == 0;
}

/* Resolves the target user; NULL (logged) when there is none. */
static const struct passwd *target_user(pam_handle_t *pamh, const char *name)
{
	const struct passwd *pw;

	if (!name || !*name) {
		pam_syslog(pamh, LOG_ERR, "no user name");
		return NULL;
	}
	pw = pam_modutil_getpwnam(pamh, name);
	if (!pw)
		pam_syslog(pamh, LOG_ERR, "unknown user '%s'", name);
	return pw;
}

/*
 * Runs cstoken with argv as user pw. 0 when its output ended (EOF) in time, with the
 * output in out (release it in every case); else an error, logged. Whether it
 * succeeded is the caller's to judge from out.
 */
static int run_cstoken(pam_handle_t *pamh, const struct pcs_cfg *cfg, const struct passwd *pw,
		       const char *const *argv, const char *what, struct pcs_output *out)
{
	struct pcs_ids ids = {0};
	struct pcs_env env = {0};
	struct pcs_run r = {0};
	char *path = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = pcs_program_trusted(pamh, program(cfg), trusted_owner(cfg), &path)))
		return ret;
	if ((ret = pcs_ids_load(pw, &ids))) {
		pam_syslog(pamh, LOG_ERR, "cannot look up the groups of '%s'", pw->pw_name);
		goto out;
	}
	if ((ret = pcs_env_build(pw, runtime_base(cfg), &env))) {
		pam_syslog(pamh, LOG_ERR, "cannot build the environment for '%s': %s", pw->pw_name,
			   ret == CST_ERR_NOMEM ? "out of memory"
						: "a passwd field holds a newline");
		goto out;
	}
	pcs_debug(pamh, cfg->debug, "%s for '%s' (uid %u) with %s", what, pw->pw_name,
		  (unsigned)pw->pw_uid, env.bus ? "the user's session bus" : "the file store");
	r.path = path; /* argv[0] keeps the name it was given */
	r.argv = argv;
	r.envp = env.vars;
	r.ids = &ids;
	r.dir = pw->pw_dir;
	r.timeout = cfg->timeout;
	r.debug = cfg->debug;
	r.idfile = idfile(cfg);
	ret = pcs_run(pamh, &r, out);
out:
	pcs_env_release(&env);
	pcs_ids_release(&ids);
	free(path);
	return ret;
}

/* NAME=value into the PAM environment; the copy we built is wiped. */
static int put_env(pam_handle_t *pamh, const char *name, const char *value)
{
	char *s = NULL;
	int ret;

	if (asprintf(&s, "%s=%s", name, value) < 0)
		return PAM_BUF_ERR;
	ret = pam_putenv(pamh, s);
	wipe_str(s);
	return ret;
}

static struct session_data *session_data_new(const char *user, const char *profile,
					     const struct pcs_token *t)
{
	struct session_data *sd = calloc(1, sizeof(*sd));

	if (!sd)
		return NULL;
	sd->user = strdup(user);
	sd->profile = profile ? strdup(profile) : NULL;
	sd->uid = strdup(t->uid);
	sd->minted = t->minted;
	if (!sd->user || (profile && !sd->profile) || !sd->uid) {
		session_data_free(sd);
		return NULL;
	}
	return sd;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pcs_cfg cfg;
	struct pcs_output out = {0};
	struct pcs_token tok;
	struct session_data *sd = NULL;
	const struct passwd *pw;
	const char *user = NULL, *why = NULL;
	const char *cargv[8];
	int ret = PAM_IGNORE;

	(void)flags;
	if (pcs_cfg_parse(pamh, argc, argv, &cfg))
		return PAM_IGNORE;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user");
		goto out;
	}
	if (!(pw = target_user(pamh, user)))
		goto out;
	pcs_token_argv(program(&cfg), cfg.profile, cfg.mint, cargv);
	if (run_cstoken(pamh, &cfg, pw, cargv, "'cstoken token'", &out))
		goto out;
	/*
	 * Only the answer counts: complete (its final line, then EOF) and well-formed. The
	 * wait status is no evidence, since the application may have reaped the child.
	 */
	if (!out.out_len) {
		log_child_error(pamh, "'cstoken token'", user, &out);
		goto out;
	}
	if (pcs_token_parse(out.out, out.out_len, &tok, &why)) {
		pam_syslog(pamh, LOG_ERR, "unexpected answer from 'cstoken token' for '%s': %s",
			   user, why);
		if (!exited_ok(&out))
			log_child_error(pamh, "'cstoken token'", user, &out);
		goto out;
	}
	if (out.status_known && !exited_ok(&out))
		pam_syslog(pamh, LOG_WARNING,
			   "'cstoken token' for '%s' ended with wait status %d after a complete "
			   "answer",
			   user, out.status);
	if (!(sd = session_data_new(user, cfg.profile, &tok))) {
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		goto out;
	}
	if (put_env(pamh, cfg.env, tok.token) != PAM_SUCCESS ||
	    put_env(pamh, API_KEY_ENV, tok.api_key) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot set the session environment");
		pam_putenv(pamh, cfg.env);
		pam_putenv(pamh, API_KEY_ENV);
		goto out;
	}
	if (pam_set_data(pamh, DATA_NAME, sd, session_data_cleanup) != PAM_SUCCESS) {
		/* a token close_session could not find must not stay in the session */
		pam_syslog(pamh, LOG_ERR, "cannot keep the session data");
		pam_putenv(pamh, cfg.env);
		pam_putenv(pamh, API_KEY_ENV);
		goto out;
	}
	pcs_debug(pamh, cfg.debug, "set %s and %s for '%s' (token uid '%s', %s)", cfg.env,
		  API_KEY_ENV, user, tok.uid, tok.minted ? "minted now" : "already stored");
	sd = NULL;
	ret = PAM_SUCCESS;
out:
	session_data_free(sd);
	pcs_output_release(&out);
	return ret;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pcs_cfg cfg;
	struct pcs_output out = {0};
	const struct session_data *sd = NULL;
	const struct passwd *pw;
	const void *data = NULL;
	const char *cargv[8];
	int ret = PAM_IGNORE;

	(void)flags;
	if (pcs_cfg_parse(pamh, argc, argv, &cfg))
		return PAM_IGNORE;
	if (!cfg.revoke)
		return PAM_IGNORE;
	if (pam_get_data(pamh, DATA_NAME, &data) != PAM_SUCCESS || !data) {
		pcs_debug(pamh, cfg.debug,
			  "no token from this session's open_session; nothing to "
			  "revoke");
		return PAM_IGNORE;
	}
	sd = data;
	if (!sd->minted || !*sd->uid) {
		pcs_debug(pamh, cfg.debug, "token '%s' was not minted by this session; left alone",
			  sd->uid);
		return PAM_IGNORE;
	}
	if (!(pw = target_user(pamh, sd->user)))
		goto out;
	pcs_revoke_argv(program(&cfg), sd->profile, sd->uid, cargv);
	if (run_cstoken(pamh, &cfg, pw, cargv, "'cstoken revoke'", &out))
		goto out;
	/* revoke answers with its exit status alone: unknown counts as failed */
	if (!exited_ok(&out)) {
		log_child_error(pamh, "'cstoken revoke'", sd->user, &out);
		goto out;
	}
	pcs_debug(pamh, cfg.debug, "revoked token '%s' of '%s'", sd->uid, sd->user);
	/* never twice: the cleanup wipes the data */
	pam_set_data(pamh, DATA_NAME, NULL, NULL);
	ret = PAM_SUCCESS;
out:
	pcs_output_release(&out);
	return ret;
}
