/* Becoming the target user for good, in a forked child. */
#ifndef PAM_CSTOKEN_DROP_PRIVS_H
#define PAM_CSTOKEN_DROP_PRIVS_H

#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>

struct pcs_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups, owned */
	size_t ngroups;
};

/*
 * Looks up pw's supplementary groups. Done before fork: NSS is not safe in the child of
 * a threaded caller. Returns 0 or CST_ERR_SYSTEM; release with pcs_ids_release().
 */
int pcs_ids_load(const struct passwd *pw, struct pcs_ids *ids);
void pcs_ids_release(struct pcs_ids *ids);

/*
 * In the child: sets groups, gid and uid (real, effective and saved) to ids, then checks
 * that they stuck and, for a non-root target, that setuid(0) and setgid(0) fail.
 * A caller that is not root may only continue as the same user. Async-signal-safe.
 * Returns 0, or -1 with a static reason in *why.
 */
int pcs_drop_privs(const struct pcs_ids *ids, const char **why);

#endif
