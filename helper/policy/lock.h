/* The per-profile minting lock: one process mints, the others wait and read the store. */
#ifndef CSTOKEN_LOCK_H
#define CSTOKEN_LOCK_H

#include "cstoken/config.h"
#include "cstoken/error.h"

/*
 * The directory minting locks live in, one per user whatever the session's
 * environment: the directory of the configured store file, else
 * $XDG_DATA_HOME/cstoken (where the file store lives). Caller frees.
 */
char *cst_lock_dir(const struct cst_config *cfg);

/*
 * The path of a small per-profile file kept beside the locks, PREFIX-NAME with the
 * profile name made safe as a file name. Caller frees.
 */
char *cst_lock_dir_file(const struct cst_config *cfg, const char *prefix, const char *name);

/*
 * Takes an exclusive flock on DIR/mint-NAME.lock, creating DIR (0700) and the
 * file (0600, never through a symlink) as needed, waiting at most wait_seconds
 * (blocked, woken when the holder releases; 0: only when it is free now).
 * On success *fd holds the lock (release with cst_lock_release); on failure *fd
 * is -1 and CST_ERR_TIMEOUT, CST_ERR_INSECURE or CST_ERR_SYSTEM is returned.
 */
int cst_lock_acquire(const char *dir, const char *name, int wait_seconds, int *fd,
		     struct cst_error *e);

/*
 * The same lock shared: granted while nobody holds it exclusively, so the processes
 * waiting for a minter all wake when it releases, and read the store side by side.
 */
int cst_lock_acquire_shared(const char *dir, const char *name, int wait_seconds, int *fd,
			    struct cst_error *e);

/* Releases a lock from cst_lock_acquire or cst_lock_acquire_shared; -1 is ignored. */
void cst_lock_release(int fd);

#endif
