/* Per-profile minting lock: flock on a private file, waited for with a deadline. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cstoken/util.h"
#include "lock.h"

/* after the deadline the timer fires again this often, until the wait has seen it */
#define LOCK_TIMER_REPEAT_NS (10 * 1000000L)

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

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

/* Does nothing: the signal is there to interrupt a blocked flock. */
static void lock_timer_fired(int sig)
{
	(void)sig;
}

/* A blocked flock of ours interrupted by SIGALRM, to this thread only, from deadline on. */
struct lock_timer {
	timer_t timer;
	struct sigaction old_action;
	sigset_t old_mask;
};

static int lock_timer_start(struct lock_timer *t, int wait_seconds)
{
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;
	sigset_t alrm;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &t->old_mask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lock_timer_fired;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: flock returns EINTR */
	sigaction(SIGALRM, &sa, &t->old_action);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev.sigev_notify_thread_id = gettid();
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = wait_seconds;
	/* one that lands between the deadline check and flock would be lost: it comes again */
	its.it_interval.tv_nsec = LOCK_TIMER_REPEAT_NS;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer)) {
		sigaction(SIGALRM, &t->old_action, NULL);
		pthread_sigmask(SIG_SETMASK, &t->old_mask, NULL);
		return -1;
	}
	timer_settime(t->timer, 0, &its, NULL);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	return 0;
}

static void lock_timer_stop(struct lock_timer *t)
{
	struct timespec zero = {0, 0};
	sigset_t alrm;
	int saved = errno;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	timer_delete(t->timer);
	/* a signal already sent must not meet the old action (by default: death) */
	while (sigtimedwait(&alrm, NULL, &zero) == SIGALRM)
		;
	sigaction(SIGALRM, &t->old_action, NULL);
	pthread_sigmask(SIG_SETMASK, &t->old_mask, NULL);
	errno = saved;
}

/*
 * flock(fd, op), waiting at most wait_seconds: blocked in the kernel, which wakes the
 * waiter the moment the holder lets go (or dies), and interrupted at the deadline by a
 * timer. 0, CST_ERR_TIMEOUT, or -1 with errno set.
 */
static int flock_until(int fd, int op, int wait_seconds)
{
	struct lock_timer t;
	int64_t deadline;
	int ret;

	for (;;) {
		if (!flock(fd, op | LOCK_NB))
			return 0;
		if (errno != EINTR)
			break;
	}
	if (errno != EWOULDBLOCK)
		return -1;
	if (wait_seconds <= 0)
		return CST_ERR_TIMEOUT;
	deadline = cst_monotonic_ms() + (int64_t)wait_seconds * 1000;
	if (lock_timer_start(&t, wait_seconds))
		return -1;
	for (;;) {
		if (!flock(fd, op)) {
			ret = 0;
			break;
		}
		if (errno != EINTR) {
			ret = -1;
			break;
		}
		if (cst_monotonic_ms() >= deadline) {
			ret = CST_ERR_TIMEOUT;
			break;
		}
	}
	lock_timer_stop(&t);
	return ret;
}

static int lock_take(const char *dir, const char *name, int op, int wait_seconds, int *fd,
		     struct cst_error *e)
{
	char *fn = NULL;
	int dfd = -1, lfd = -1, ret = CST_ERR_SYSTEM;
	struct stat sb;

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
	ret = flock_until(lfd, op, wait_seconds);
	if (ret == CST_ERR_TIMEOUT) {
		ret = cst_error_set(e, CST_ERR_TIMEOUT,
				    "another cstoken process held the minting lock '%s/%s' for "
				    "over %d s; try again when it has finished",
				    dir, fn, wait_seconds);
		goto out;
	}
	if (ret) {
		ret = cst_error_errno(e, CST_ERR_SYSTEM, "cannot lock '%s/%s'", dir, fn);
		goto out;
	}
	cst_debug("took the minting lock '%s/%s'%s", dir, fn, op == LOCK_SH ? " (shared)" : "");
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

int cst_lock_acquire(const char *dir, const char *name, int wait_seconds, int *fd,
		     struct cst_error *e)
{
	return lock_take(dir, name, LOCK_EX, wait_seconds, fd, e);
}

int cst_lock_acquire_shared(const char *dir, const char *name, int wait_seconds, int *fd,
			    struct cst_error *e)
{
	return lock_take(dir, name, LOCK_SH, wait_seconds, fd, e);
}

void cst_lock_release(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}
