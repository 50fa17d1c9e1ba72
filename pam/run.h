/* Running cstoken as the target user under a deadline. */
#ifndef PAM_CSTOKEN_RUN_H
#define PAM_CSTOKEN_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include <security/pam_modules.h>

#include "drop_privs.h"

#define PCS_MAX_STDOUT (16 * 1024)
#define PCS_MAX_STDERR 4096

struct pcs_run {
	const char *path;
	const char *const *argv;
	char *const *envp;
	const struct pcs_ids *ids;
	const char *dir; /* working directory of the child (the user's home), else / */
	int timeout;	 /* seconds, for the whole run */
	bool debug;
	const char *idfile; /* test hook: the child records its ids here; NULL normally */
};

struct pcs_output {
	char *out; /* stdout, NUL-terminated; may hold a secret: wiped on release */
	size_t out_len;
	char *err; /* stderr, NUL-terminated */
	size_t err_len;
	int status;	   /* wait status, when status_known */
	bool status_known; /* false: the application reaped the child first */
};

/*
 * Forks; the child starts a new session, drops to r->ids and execs r->path with r->envp.
 * The parent collects stdout and stderr through pipes until both reach EOF or the
 * deadline passes, then kills the child's process group (through its pidfd only) and
 * reaps the child when it can (SIGCHLD is SIG_DFL meanwhile). Returns 0 when both
 * streams ended: out->out is all the child wrote, and out->status is set only when
 * out->status_known (an application that reaps children itself may have taken it).
 * Else CST_ERR_TIMEOUT, CST_ERR_TOO_LARGE, CST_ERR_SYSTEM, CST_ERR_NOMEM, each logged.
 * Release out with pcs_output_release() in every case.
 */
int pcs_run(pam_handle_t *pamh, const struct pcs_run *r, struct pcs_output *out);
void pcs_output_release(struct pcs_output *out);

#endif
