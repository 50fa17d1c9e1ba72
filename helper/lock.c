/* Per-profile minting lock: flock on a private file, waited for with a deadline. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cstoken/util.h"
#include "lock.h"

#define LOCK_POLL_MIN_MS 10
#define LOCK_POLL_MAX_MS 50

/*
 * Next to the store, whatever the session's environment: a lock that moved with
 * $XDG_RUNTIME_DIR (set in a desktop session, unset under cron or sudo) let two processes
 * of one user mint one token each.
 */
char *cst_lock_dir(const struct cst_config *cfg)
{
	const char *slash;

	if (cfg && cfg->store_file && (slash = strrchr(cfg->store_file, '/')) &&
	    slash != cfg->store_file)
		return xstrndup(cfg->store_file, (size_t)(slash - cfg->store_file));
	return xdg_data_path("cstoken");
}

/*
 * A directory that only its owner can change. It may be readable (the store's directory
 * may be 0755): the lock file in it holds nothing.
 */
static bool dir_ours(const struct stat *sb)
{
	return S_ISDIR(sb->st_mode) && sb->st_uid == geteuid() && !(sb->st_mode & 022);
}

/* mkdir -p, new components 0700; the last one must end up a directory only we can change. */
static int make_private_dir(const char *dir, struct cst_error *e)
{
	char *p = xstrdup(dir), *s;
	struct stat sb;
	int ret = CST_ERR_SYSTEM;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST) {
			ret = cst_error_errno(e, CST_ERR_SYSTEM, "cannot create directory '%s'", p);
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST) {
		ret = cst_error_errno(e, CST_ERR_SYSTEM, "cannot create directory '%s'", p);
		goto out;
	}
	if (lstat(p, &sb)) {
		ret = cst_error_errno(e, CST_ERR_SYSTEM, "cannot inspect '%s'", p);
		goto out;
	}
	if (!dir_ours(&sb)) {
		ret = cst_error_set(e, CST_ERR_INSECURE,
				    "lock directory '%s' must be a directory owned by you that "
				    "nobody else may write; fix it with 'chmod 700 %s'",
				    p, p);
		goto out;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

/* Profile names become file names: anything unusual turns into '_'. */
static char *profile_file_name(const char *prefix, const char *name, const char *suffix)
{
	char *safe = xstrdup(name), *fn, *s;

	for (s = safe; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			*s = '_';
	fn = xasprintf("%s-%s%s", prefix, safe, suffix);
	free(safe);
	return fn;
}

static char *lock_file_name(const char *name)
{
	return profile_file_name("mint", name, ".lock");
}

char *cst_lock_dir_file(const struct cst_config *cfg, const char *prefix, const char *name)
{
	char *dir = cst_lock_dir(cfg), *fn = profile_file_name(prefix, name, ""), *path;

	path = xasprintf("%s/%s", dir, fn);
	free(dir);
	free(fn);
	return path;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int cst_lock_acquire(const char *dir, const char *name, int wait_seconds, int *fd,
		     struct cst_error *e)
{
	char *fn = NULL;
	int dfd = -1, lfd = -1, ret = CST_ERR_SYSTEM;
	int64_t deadline;
	struct stat sb;
	long pause_ms = LOCK_POLL_MIN_MS;

	*fd = -1;
	ret = make_private_dir(dir, e);
	if (ret)
		goto out;
	ret = CST_ERR_SYSTEM;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		ret = cst_error_errno(e, errno == ELOOP ? CST_ERR_INSECURE : CST_ERR_SYSTEM,
				      "cannot open lock directory '%s'", dir);
		goto out;
	}
	/* what was opened, not what the path named a moment ago, is what counts */
	if (fstat(dfd, &sb)) {
		ret = cst_error_errno(e, CST_ERR_SYSTEM, "cannot inspect '%s'", dir);
		goto out;
	}
	if (!dir_ours(&sb)) {
		ret = cst_error_set(e, CST_ERR_INSECURE,
				    "lock directory '%s' must be owned by you and nobody else may "
				    "write it; fix it with 'chmod 700 %s'",
				    dir, dir);
		goto out;
	}
	fn = lock_file_name(name);
	lfd = openat(dfd, fn, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (lfd < 0) {
		ret = cst_error_errno(e, errno == ELOOP ? CST_ERR_INSECURE : CST_ERR_SYSTEM,
				      "cannot open lock file '%s/%s'", dir, fn);
		goto out;
	}
	if (fstat(lfd, &sb)) {
		ret =
		    cst_error_errno(e, CST_ERR_SYSTEM, "cannot inspect lock file '%s/%s'", dir, fn);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 077)) {
		ret =
		    cst_error_set(e, CST_ERR_INSECURE,
				  "lock file '%s/%s' must be a regular file owned by you with mode "
				  "0600; remove it and try again",
				  dir, fn);
		goto out;
	}
	deadline = monotonic_ms() + (int64_t)wait_seconds * 1000;
	for (;;) {
		if (!flock(lfd, LOCK_EX | LOCK_NB))
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			ret = cst_error_errno(e, CST_ERR_SYSTEM, "cannot lock '%s/%s'", dir, fn);
			goto out;
		}
		if (monotonic_ms() >= deadline) {
			ret = cst_error_set(e, CST_ERR_TIMEOUT,
					    "another cstoken process held the minting lock '%s/%s' "
					    "for over %d s; try again when it has finished",
					    dir, fn, wait_seconds);
			goto out;
		}
		sleep_ms(pause_ms);
		if (pause_ms < LOCK_POLL_MAX_MS)
			pause_ms += 10;
	}
	cst_debug("took the minting lock '%s/%s'", dir, fn);
	*fd = lfd;
	lfd = -1;
	ret = 0;
out:
	if (lfd >= 0)
		close(lfd);
	if (dfd >= 0)
		close(dfd);
	free(fn);
	return ret;
}

void cst_lock_release(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
