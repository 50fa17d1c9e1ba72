/* A minimal environment for the child: nothing of the login process leaks into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cstoken/error.h"
#include "env.h"

#define MAX_VARS 10

static int add(struct pcs_env *env, size_t *n, const char *name, const char *value)
{
	char *s = NULL;

	if (strchr(value, '\n'))
		return CST_ERR_INVALID;
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return CST_ERR_NOMEM;
	env->vars[(*n)++] = s;
	return 0;
}

/* The user's own bus: a directory and a socket owned by the user, not followed links. */
static bool user_bus(const char *dir, const char *sock, uid_t uid)
{
	struct stat st;

	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != uid)
		return false;
	if (lstat(sock, &st) || !S_ISSOCK(st.st_mode) || st.st_uid != uid)
		return false;
	return true;
}

int pcs_env_build(const struct passwd *pw, const char *runtime_base, struct pcs_env *env)
{
	char *dir = NULL, *sock = NULL, *addr = NULL;
	size_t n = 0;
	int ret = CST_ERR_NOMEM;

	memset(env, 0, sizeof(*env));
	env->vars = calloc(MAX_VARS + 1, sizeof(*env->vars));
	if (!env->vars)
		goto out;
	if ((ret = add(env, &n, "HOME", pw->pw_dir)) || (ret = add(env, &n, "USER", pw->pw_name)) ||
	    (ret = add(env, &n, "LOGNAME", pw->pw_name)) ||
	    (ret = add(env, &n, "PATH", "/usr/bin:/bin")))
		goto out;
	if (pw->pw_shell && *pw->pw_shell && (ret = add(env, &n, "SHELL", pw->pw_shell)))
		goto out;

	ret = CST_ERR_NOMEM;
	if (asprintf(&dir, "%s/%u", runtime_base, (unsigned)pw->pw_uid) < 0) {
		dir = NULL;
		goto out;
	}
	if (asprintf(&sock, "%s/bus", dir) < 0) {
		sock = NULL;
		goto out;
	}
	if (user_bus(dir, sock, pw->pw_uid)) {
		if (asprintf(&addr, "unix:path=%s", sock) < 0) {
			addr = NULL;
			goto out;
		}
		if ((ret = add(env, &n, "XDG_RUNTIME_DIR", dir)) ||
		    (ret = add(env, &n, "DBUS_SESSION_BUS_ADDRESS", addr)))
			goto out;
		env->bus = true;
	} else if ((ret = add(env, &n, "CSTOKEN_STORE", "file"))) {
		goto out;
	}
	ret = 0;
out:
	free(dir);
	free(sock);
	free(addr);
	if (ret)
		pcs_env_release(env);
	return ret;
}

void pcs_env_release(struct pcs_env *env)
{
	size_t i;

	if (env->vars)
		for (i = 0; env->vars[i]; i++)
			free(env->vars[i]);
	free(env->vars);
	memset(env, 0, sizeof(*env));
}
