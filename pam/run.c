/*
 * fork, drop, exec, and a parent that never waits past its deadline: poll() on the
 * child's pipes against CLOCK_MONOTONIC until both reach EOF, then the child's pidfd
 * until it exits; at the deadline SIGKILL to its process group through the pidfd.
 * The application may reap the child itself (a thread on waitpid(-1), SIGCHLD
 * ignored): the caller decides from what the child wrote, never from a wait status it
 * may not get, and nothing is signalled by number. SIGCHLD is SIG_DFL while we wait,
 * as in pam_exec, so that a handler of the application does not reap our child.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cstoken/error.h"
#include "debug.h"
#include "run.h"

struct sink {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	bool truncate; /* past cap: keep reading, drop the rest (stderr) */
};

static void put(int fd, const char *s)
{
	ssize_t r = write(fd, s, strlen(s));

	(void)r;
}

#ifdef PCS_TEST
/* Test hook: what the child is just before exec; uid_wrapper's ids do not survive exec. */
static void record_ids(const char *path)
{
	char line[1024];
	gid_t groups[64];
	int fd, n, i, len;
	uid_t r, e, s;
	gid_t rg, eg, sg;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	n = getgroups(64, groups);
	len =
	    snprintf(line, sizeof(line), "uid=%u,%u,%u gid=%u,%u,%u groups=", r, e, s, rg, eg, sg);
	for (i = 0; i < n && len < (int)sizeof(line) - 16; i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%u", i ? "," : "",
				groups[i]);
	len += snprintf(line + len, sizeof(line) - (size_t)len, " setuid0=%s\n",
			setuid(0) == -1 ? "refused" : "allowed");
	if (write(fd, line, (size_t)len) < 0)
		put(2, "pam_cstoken: cannot write the id file\n");
	close(fd);
}
#endif

/*
 * Only async-signal-safe calls from here to exec: the caller may have threads. Every
 * signal is blocked on entry (see pcs_run); the caller's handlers are reset to the
 * default before anything is unblocked, so none of them ever runs in this child,
 * where it could touch the caller's state or write to its descriptors.
 */
__attribute__((noreturn)) static void child(const struct pcs_run *r, int devnull, int outw,
					    int errw, const int gop[2])
{
	const char *why = NULL;
	sigset_t none;
	struct sigaction dfl;
	char go;
	int o, e, i;

	/* first the parent takes its pidfd of us (see start) */
	close(gop[1]);
	while ((i = (int)read(gop[0], &go, 1)) < 0 && errno == EINTR)
		;
	if (i != 1)
		_exit(126);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (i = 1; i < NSIG; i++)
		sigaction(i, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		_exit(126);
	/* lift the pipes above 2 first: the caller may have run with 0-2 closed */
	o = fcntl(outw, F_DUPFD, 3);
	e = fcntl(errw, F_DUPFD, 3);
	if (o < 0 || e < 0 || dup2(devnull, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
		_exit(126);
	/* nothing of the login process (sockets, terminals) reaches the user's program */
	if (close_range(3, ~0U, 0))
		for (i = 3; i < 65536; i++)
			close(i);
	if (pcs_drop_privs(r->ids, &why)) {
		put(2, "pam_cstoken: cannot drop privileges: ");
		put(2, why);
		put(2, "\n");
		_exit(126);
	}
	/* the caller's cwd may be anything; the user's home is the user's own */
	if (!r->dir || chdir(r->dir))
		if (chdir("/"))
			_exit(126);
#ifdef PCS_TEST
	if (r->idfile)
		record_ids(r->idfile);
#endif
	/* execve's prototype predates const; it does not write to argv */
	union {
		const char *const *c;
		char *const *m;
	} args = {.c = r->argv};
	execve(r->path, args.m, r->envp);
	put(2, "pam_cstoken: cannot run '");
	put(2, r->path);
	/* strerror may take locale locks: not in this child */
	put(2, errno == ENOENT	 ? "': no such file\n"
	       : errno == EACCES ? "': permission denied\n"
				 : "': exec failed\n");
	_exit(127);
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Reads what is there; 0, or CST_ERR_TOO_LARGE past the cap. Closes the fd at EOF. */
static int drain(struct sink *s)
{
	for (;;) {
		ssize_t n;

		if (s->fd < 0)
			return 0;
		if (s->len >= s->cap && !s->truncate)
			return CST_ERR_TOO_LARGE;
		if (s->len >= s->cap) {
			char scratch[512];

			n = read(s->fd, scratch, sizeof(scratch));
			if (n > 0)
				continue;
		} else {
			n = read(s->fd, s->buf + s->len, s->cap - s->len);
			if (n > 0) {
				s->len += (size_t)n;
				continue;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		close(s->fd); /* EOF, or an error that ends this stream */
		s->fd = -1;
		return 0;
	}
}

/* Linux 6.9: pidfd_send_signal() to the process group whose leader the pidfd names. */
#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2)
#endif
#define KILL_GRACE_MS 100 /* of the timeout, kept for a killed child to go */

/*
 * SIGKILL to the child's process group (it is the group's leader), through the pidfd
 * only: a pidfd names its process even after someone else reaped it, so the signal can
 * never reach a process that reuses the number. Before Linux 6.9 only the child itself
 * can be signalled that way; the rest of its group is then left alone.
 */
static void kill_group(pam_handle_t *pamh, const struct pcs_run *r, int pidfd)
{
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, PIDFD_SIGNAL_PROCESS_GROUP) == 0)
		return;
	if (errno != EINVAL)
		return; /* ESRCH: nothing of the group is left */
	pcs_debug(pamh, r->debug, "this kernel cannot signal a process group through a pidfd");
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

/* Waits up to ms for the process of pidfd to exit; true when it has. */
static bool wait_exit(int pidfd, long ms)
{
	for (;;) {
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
		int got = poll(&pfd, 1, ms > 0 ? (int)ms : 0);

		if (got < 0 && errno == EINTR)
			continue;
		return got > 0;
	}
}

/* The exit of a reaped child as a wait status. */
static int wait_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return (si->si_status & 0xff) << 8;
	return (si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

/*
 * Reaps the child, which has exited, through its pidfd. The application may have
 * reaped it first (a thread looping on waitpid(-1), SIGCHLD ignored): then its status
 * is unknown, which only the log notices.
 */
static void reap(int pidfd, struct pcs_output *out)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0 && errno == EINTR)
		;
	if (si.si_pid > 0) {
		out->status = wait_status(&si);
		out->status_known = true;
	}
}

/*
 * Without a pidfd (Linux before 5.3) nothing is ever killed: the number may name
 * another process by then. The child that closed its output is reaped in short steps,
 * never past the deadline.
 */
static void reap_numeric(pam_handle_t *pamh, const struct pcs_run *r, pid_t pid, bool ended,
			 const struct timespec *deadline, struct pcs_output *out)
{
	int status;

	if (!ended) {
		pam_syslog(pamh, LOG_WARNING,
			   "cannot kill '%s' (pid %d): this kernel has no pidfd_open()", r->path,
			   (int)pid);
		return;
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid) {
			out->status = status;
			out->status_known = true;
			return;
		}
		if ((w < 0 && errno != EINTR) || ms_left(deadline) <= 0)
			return;
		poll(NULL, 0, 10);
	}
}

/*
 * Reads the child's stdout and stderr until both reach EOF, the deadline passes or a
 * stream overflows. 0 means EOF on both: whatever the child meant to say is in the
 * sinks, complete or not, however and by whom it is reaped.
 */
static int collect(pam_handle_t *pamh, const struct pcs_run *r, struct sink *so, struct sink *se,
		   const struct timespec *deadline)
{
	int ret;

	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int got;
		long left;

		if (so->fd >= 0)
			pfd[n++] = (struct pollfd){.fd = so->fd, .events = POLLIN};
		if (se->fd >= 0)
			pfd[n++] = (struct pollfd){.fd = se->fd, .events = POLLIN};
		if (n == 0)
			return 0;
		left = ms_left(deadline);
		if (left <= 0) {
			pam_syslog(pamh, LOG_ERR, "'%s' did not finish within %d s; killed",
				   r->path, r->timeout);
			return CST_ERR_TIMEOUT;
		}
		got = poll(pfd, n, (int)left);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			pam_syslog(pamh, LOG_ERR, "poll: %m");
			return CST_ERR_SYSTEM;
		}
		if ((ret = drain(so)) || (ret = drain(se))) {
			pam_syslog(pamh, LOG_ERR, "'%s' wrote too much output; killed", r->path);
			return ret;
		}
	}
}

/*
 * After collect: the child gets until kill_at to exit, then its group is killed (no
 * straggler outlives the call) and the child reaped if it has gone by the deadline.
 */
static void finish(pam_handle_t *pamh, const struct pcs_run *r, pid_t pid, int pidfd, int ret,
		   const struct timespec *kill_at, const struct timespec *deadline,
		   struct pcs_output *out)
{
	bool exited = false;

	if (pidfd < 0) {
		reap_numeric(pamh, r, pid, ret == 0, deadline, out);
		return;
	}
	if (ret == 0 && !(exited = wait_exit(pidfd, ms_left(kill_at))))
		pam_syslog(pamh, LOG_WARNING,
			   "'%s' closed its output but did not exit within %d s; killed", r->path,
			   r->timeout);
	kill_group(pamh, r, pidfd);
	if (exited || wait_exit(pidfd, ms_left(deadline)))
		reap(pidfd, out);
	else
		pam_syslog(pamh, LOG_WARNING, "'%s' (pid %d) did not go after SIGKILL", r->path,
			   (int)pid);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * The pidfd is taken while the child waits for one byte on the go pipe: until then it
 * cannot have exited, so the pidfd is surely of our child, not of a process that
 * reuses its number after someone else reaped it.
 */
static int start(pam_handle_t *pamh, const struct pcs_run *r, int devnull, int outw, int errw,
		 pid_t *pid)
{
	int gop[2], pidfd = -1, fork_errno;
	sigset_t all, saved_mask;
	bool masked;

	*pid = -1;
	if (pipe2(gop, O_CLOEXEC)) {
		pam_syslog(pamh, LOG_ERR, "pipe: %m");
		return -1;
	}
	/* no handler of the caller may run in the child before it has reset them all */
	sigfillset(&all);
	masked = pthread_sigmask(SIG_SETMASK, &all, &saved_mask) == 0;
	*pid = fork();
	if (*pid == 0)
		child(r, devnull, outw, errw, gop);
	fork_errno = errno;
	if (masked)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	if (*pid < 0) {
		errno = fork_errno;
		pam_syslog(pamh, LOG_ERR, "fork: %m");
	} else {
		pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);
		/* our read end is still open: this write cannot raise SIGPIPE */
		if (write(gop[1], "", 1) != 1)
			pam_syslog(pamh, LOG_ERR, "cannot start '%s': %m", r->path);
	}
	close(gop[0]);
	close(gop[1]);
	return pidfd;
}

int pcs_run(pam_handle_t *pamh, const struct pcs_run *r, struct pcs_output *out)
{
	struct sink so = {-1, NULL, 0, PCS_MAX_STDOUT, false};
	struct sink se = {-1, NULL, 0, PCS_MAX_STDERR, true};
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, devnull = -1, pidfd = -1;
	int ret = CST_ERR_SYSTEM;
	struct sigaction dfl, old;
	struct timespec deadline, kill_at;
	bool restore = false;
	pid_t pid = -1;

	memset(out, 0, sizeof(*out));
	out->status = -1;
	so.buf = calloc(1, so.cap + 1);
	se.buf = calloc(1, se.cap + 1);
	if (!so.buf || !se.buf) {
		ret = CST_ERR_NOMEM;
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		pam_syslog(pamh, LOG_ERR, "pipe: %m");
		goto out;
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (devnull < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot open '/dev/null': %m");
		goto out;
	}

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(SIGCHLD, &dfl, &old) == 0)
		restore = true;

	/* the whole call stays within the timeout, the last KILL_GRACE_MS kept for a kill */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += r->timeout;
	kill_at = deadline;
	kill_at.tv_nsec -= KILL_GRACE_MS * 1000000L;
	if (kill_at.tv_nsec < 0) {
		kill_at.tv_sec--;
		kill_at.tv_nsec += 1000000000L;
	}
	pidfd = start(pamh, r, devnull, outp[1], errp[1], &pid);
	if (pid < 0)
		goto out;

	close_fd(&outp[1]);
	close_fd(&errp[1]);
	so.fd = outp[0];
	se.fd = errp[0];
	outp[0] = errp[0] = -1;
	set_nonblock(so.fd);
	set_nonblock(se.fd);
	pcs_debug(pamh, r->debug, "started '%s' as pid %d (pidfd %s)", r->path, (int)pid,
		  pidfd >= 0 ? "yes" : "no");

	ret = collect(pamh, r, &so, &se, &kill_at);
	finish(pamh, r, pid, pidfd, ret, &kill_at, &deadline, out);
	if (out->status_known)
		pcs_debug(pamh, r->debug, "pid %d ended with wait status %d", (int)pid,
			  out->status);
	else
		pcs_debug(pamh, r->debug, "pid %d was reaped by someone else", (int)pid);
out:
	if (restore)
		sigaction(SIGCHLD, &old, NULL);
	close_fd(&pidfd);
	close_fd(&devnull);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&so.fd);
	close_fd(&se.fd);
	out->out = so.buf;
	out->out_len = so.len;
	out->err = se.buf;
	out->err_len = se.len;
	return ret;
}

void pcs_output_release(struct pcs_output *out)
{
	if (out->out) {
		explicit_bzero(out->out, PCS_MAX_STDOUT + 1);
		free(out->out);
	}
	if (out->err) {
		explicit_bzero(out->err, PCS_MAX_STDERR + 1);
		free(out->err);
	}
	memset(out, 0, sizeof(*out));
}
