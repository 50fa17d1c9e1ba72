/*
 * How the minting lock (helper/policy/lock.c) is waited for: blocked in flock, so a waiter wakes
 * when the holder releases, never later than its deadline; shared, so the waiters for a
 * minter all wake and hold it together.
 */
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cstoken/util.h"
#include "lock.h"

#define WAITERS 4

struct fixture {
	char *dir;
	char *file;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char tmpl[] = "/tmp/cst-test-lock.XXXXXX";

	if (!mkdtemp(tmpl))
		return -1;
	f->dir = xstrdup(tmpl);
	f->file = xasprintf("%s/mint-p.lock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->file);
	rmdir(f->dir);
	free(f->file);
	free(f->dir);
	free(f);
	return 0;
}

/* The system call pid is blocked in: -1 while it runs (or has not blocked yet). */
static long blocked_in(pid_t pid)
{
	char path[64], buf[256];
	FILE *fp;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	if (!fgets(buf, sizeof(buf), fp) || sscanf(buf, "%ld ", &nr) != 1)
		nr = -1;
	fclose(fp);
	return nr;
}

/* Waits until pid blocks in flock, or in a sleep (which fails the test), or dies. */
static void assert_blocks_in_flock(pid_t pid)
{
	long nr = -1;
	int status;

	for (;;) {
		assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* still waiting */
		nr = blocked_in(pid);
		if (nr == SYS_flock || nr == SYS_nanosleep || nr == SYS_clock_nanosleep)
			break;
		sched_yield();
	}
	assert_int_equal(nr, SYS_flock);
}

static void assert_exits_0(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A waiter sleeps in flock, not in a poll, and has the lock once the holder lets go. */
static void test_waiter_wakes_on_release(void **state)
{
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	int fd = -1, got = -1;
	pid_t pid;

	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &fd, &e), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(cst_lock_acquire(f->dir, "p", 300, &got, &e) == 0 ? 0 : 1);
	assert_blocks_in_flock(pid);
	cst_lock_release(fd);
	assert_exits_0(pid);
}

/*
 * A wait ends at its deadline, with the timer gone and SIGALRM as it was: a signal left
 * behind would kill the process.
 */
static void test_wait_ends_at_deadline(void **state)
{
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	struct sigaction sa;
	sigset_t pending, mask;
	int fd = -1, got = -1;

	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &fd, &e), 0);
	assert_int_equal(cst_lock_acquire(f->dir, "p", 1, &got, &e), CST_ERR_TIMEOUT);
	assert_int_equal(got, -1);
	assert_non_null(strstr(e.msg, "for over 1 s"));
	assert_int_equal(cst_lock_acquire_shared(f->dir, "p", 1, &got, &e), CST_ERR_TIMEOUT);
	assert_int_equal(sigaction(SIGALRM, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGALRM));
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
	assert_false(sigismember(&mask, SIGALRM));
	cst_lock_release(fd);
}

/* Shared holders exclude a minter and are excluded by one, never by each other. */
static void test_shared_excludes_only_exclusive(void **state)
{
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	int a = -1, b = -1, x = -1;

	assert_int_equal(cst_lock_acquire_shared(f->dir, "p", 0, &a, &e), 0);
	assert_int_equal(cst_lock_acquire_shared(f->dir, "p", 0, &b, &e), 0);
	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &x, &e), CST_ERR_TIMEOUT);
	cst_lock_release(a);
	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &x, &e), CST_ERR_TIMEOUT);
	cst_lock_release(b);
	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &x, &e), 0);
	assert_int_equal(cst_lock_acquire_shared(f->dir, "p", 0, &a, &e), CST_ERR_TIMEOUT);
	cst_lock_release(x);
}

/*
 * Waiters for the minter's release all wake with it and hold the lock at once: while
 * they do (each waits for the pipe to close), the lock cannot be had exclusively.
 */
static void test_waiters_wake_together(void **state)
{
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	int fd = -1, x = -1, hold[2], ready[2], i, got;
	pid_t pid[WAITERS];
	char c;

	assert_int_equal(pipe(hold), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &fd, &e), 0);
	for (i = 0; i < WAITERS; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			close(hold[1]);
			close(ready[0]);
			got = -1;
			if (cst_lock_acquire_shared(f->dir, "p", 300, &got, &e))
				_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			/* hold it until the parent closes its end */
			while (read(hold[0], &c, 1) > 0)
				;
			_exit(0);
		}
	}
	close(hold[0]);
	close(ready[1]);
	for (i = 0; i < WAITERS; i++)
		assert_blocks_in_flock(pid[i]);
	cst_lock_release(fd);
	for (i = 0; i < WAITERS; i++)
		assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &x, &e), CST_ERR_TIMEOUT);
	close(hold[1]);
	for (i = 0; i < WAITERS; i++)
		assert_exits_0(pid[i]);
	close(ready[0]);
	assert_int_equal(cst_lock_acquire(f->dir, "p", 0, &x, &e), 0);
	cst_lock_release(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_waiter_wakes_on_release, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_ends_at_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_excludes_only_exclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waiters_wake_together, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
