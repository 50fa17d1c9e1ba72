/* Dropping to the target user: groups, gid, uid, then proof that there is no way back. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cstoken/error.h"
#include "drop_privs.h"

#define MAX_GROUPS 65536

int pcs_ids_load(const struct passwd *pw, struct pcs_ids *ids)
{
	gid_t *groups = NULL;
	int n = 32, ret = CST_ERR_SYSTEM;

	memset(ids, 0, sizeof(*ids));
	for (;;) {
		int want = n;
		gid_t *tmp = realloc(groups, (size_t)n * sizeof(*groups));

		if (!tmp)
			goto out;
		groups = tmp;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) >= 0)
			break;
		/* n now holds the size needed; never loop on a library that does not grow it */
		if (n <= want)
			n = want * 2;
		if (n > MAX_GROUPS)
			goto out;
	}
	ids->uid = pw->pw_uid;
	ids->gid = pw->pw_gid;
	ids->groups = groups;
	ids->ngroups = (size_t)n;
	groups = NULL;
	ret = 0;
out:
	free(groups);
	return ret;
}

void pcs_ids_release(struct pcs_ids *ids)
{
	free(ids->groups);
	memset(ids, 0, sizeof(*ids));
}

int pcs_drop_privs(const struct pcs_ids *ids, const char **why)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (geteuid() != 0) {
		/* an unprivileged caller (e.g. a user's own PAM application) stays itself */
		if (getuid() == ids->uid && geteuid() == ids->uid)
			return 0;
		*why = "not running as root and not as the target user";
		return -1;
	}
	if (setgroups(ids->ngroups, ids->groups)) {
		*why = "setgroups failed";
		return -1;
	}
	if (setresgid(ids->gid, ids->gid, ids->gid)) {
		*why = "setresgid failed";
		return -1;
	}
	if (setresuid(ids->uid, ids->uid, ids->uid)) {
		*why = "setresuid failed";
		return -1;
	}
	if (getresuid(&r, &e, &s) || r != ids->uid || e != ids->uid || s != ids->uid ||
	    getresgid(&rg, &eg, &sg) || rg != ids->gid || eg != ids->gid || sg != ids->gid) {
		*why = "ids did not change";
		return -1;
	}
	if (ids->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		*why = "could regain root after dropping privileges";
		return -1;
	}
	if (ids->uid != 0 && ids->gid != 0 && setgid(0) != -1) {
		*why = "could regain group root after dropping privileges";
		return -1;
	}
	return 0;
}
