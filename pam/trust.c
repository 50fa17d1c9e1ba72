/*
 * The module runs its program as the user, but root's login process picks it: whoever
 * could replace the file or any directory above it could choose what every login
 * runs. So it must be root's alone to change.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cstoken/error.h"
#include "debug.h"
#include "trust.h"

/* Why st (of a regular file, or of a directory when dir) is not root's alone; or NULL. */
static const char *untrusted(const struct stat *st, uid_t owner, bool dir)
{
	if (dir && !S_ISDIR(st->st_mode))
		return "is not a directory";
	if (!dir && !S_ISREG(st->st_mode))
		return "is not a regular file";
	if (st->st_uid != 0 && st->st_uid != owner)
		return "is not owned by root";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "is writable by group or others";
	return NULL;
}

int pcs_program_trusted(pam_handle_t *pamh, const char *path, uid_t owner, char **resolved)
{
	char *real = realpath(path, NULL), *dir = NULL, *slash;
	const char *why = NULL, *what;
	struct stat st;
	int ret = CST_ERR_INSECURE;

	*resolved = NULL;
	if (!real || !(dir = strdup(real))) {
		pam_syslog(pamh, LOG_ERR, "cannot run '%s': %m", path);
		ret = real ? CST_ERR_NOMEM : CST_ERR_NOT_FOUND;
		goto out;
	}
	/* realpath left no symlink: lstat sees one only if a component changed since */
	what = real;
	if (lstat(real, &st) || (why = untrusted(&st, owner, false)))
		goto refuse;
	while ((slash = strrchr(dir, '/'))) {
		slash[slash == dir] = '\0'; /* "/x" -> "/", "/x/y" -> "/x" */
		what = dir;
		if (lstat(dir, &st) || (why = untrusted(&st, owner, true)))
			goto refuse;
		if (slash == dir)
			break;
	}
	*resolved = real;
	real = NULL;
	ret = 0;
	goto out;
refuse:
	if (why)
		pam_syslog(pamh, LOG_ERR, "refusing to run '%s': '%s' %s", path, what, why);
	else
		pam_syslog(pamh, LOG_ERR, "cannot run '%s': '%s': %m", path, what);
out:
	free(real);
	free(dir);
	return ret;
}
