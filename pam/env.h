/* The clean environment of the cstoken child, built before fork. */
#ifndef PAM_CSTOKEN_ENV_H
#define PAM_CSTOKEN_ENV_H

#include <pwd.h>
#include <stdbool.h>

struct pcs_env {
	char **vars; /* NULL-terminated "NAME=value" array, owned */
	bool bus;    /* the user's session bus is used */
};

/*
 * Builds HOME, USER, LOGNAME, PATH, SHELL for pw. When RUNTIME_BASE/UID is a directory
 * and RUNTIME_BASE/UID/bus a socket, both owned by the user, adds XDG_RUNTIME_DIR and
 * DBUS_SESSION_BUS_ADDRESS; otherwise CSTOKEN_STORE=file, so that cstoken never looks
 * for a bus that is not the user's. Returns 0 or CST_ERR_NOMEM / CST_ERR_INVALID (a
 * passwd field with a newline); release with pcs_env_release().
 */
int pcs_env_build(const struct passwd *pw, const char *runtime_base, struct pcs_env *env);
void pcs_env_release(struct pcs_env *env);

#endif
