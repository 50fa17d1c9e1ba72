/*
 * fork, drop, exec, and a parent that never waits past its deadline: poll() on the
 * child's pipes and a pidfd against CLOCK_MONOTONIC; at the deadline SIGKILL to the
 * child's process group. SIGCHLD is SIG_DFL while we wait, as in pam_exec, so that a
 * handler of the application does not reap our child.
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
					    int errw)
{
	const char *why = NULL;
	sigset_t none;
	struct sigaction dfl;
	int o, e, i;

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

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/*
 * Waits until the child exits or the deadline passes. Returns 0 when it exited (with
 * *reaped set when the no-pidfd path already collected its status), else an error.
 */
static int collect(pam_handle_t *pamh, const struct pcs_run *r, pid_t pid, int pidfd,
		   struct sink *so, struct sink *se, const struct timespec *deadline, bool *reaped,
		   int *status)
{
	int ret;

	for (;;) {
		struct pollfd pfd[3];
		nfds_t n = 0;
		int got;
		long left;
		bool exited = false;

		if (so->fd >= 0)
			pfd[n++] = (struct pollfd){.fd = so->fd, .events = POLLIN};
		if (se->fd >= 0)
			pfd[n++] = (struct pollfd){.fd = se->fd, .events = POLLIN};
		if (pidfd >= 0)
			pfd[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		else if (so->fd < 0 && se->fd < 0)
			break; /* no pidfd: both streams closed means the child is ending */
		left = ms_left(deadline);
		if (left <= 0)
			goto timeout;
		got = poll(pfd, n, (int)left);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			pam_syslog(pamh, LOG_ERR, "poll: %m");
			return CST_ERR_SYSTEM;
		}
		if (pidfd >= 0 && (pfd[n - 1].revents & (POLLIN | POLLHUP)))
			exited = true;
		if ((ret = drain(so)) || (ret = drain(se))) {
			pam_syslog(pamh, LOG_ERR, "'%s' wrote too much output; killed", r->path);
			return ret;
		}
		if (exited)
			return 0;
	}
	/* without a pidfd, wait for the exit in short steps, never past the deadline */
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid) {
			*reaped = true;
			return 0;
		}
		if (w < 0 && errno != EINTR) {
			pam_syslog(pamh, LOG_ERR, "waitpid: %m");
			return CST_ERR_SYSTEM;
		}
		if (ms_left(deadline) <= 0)
			goto timeout;
		poll(NULL, 0, 10);
	}
timeout:
	pam_syslog(pamh, LOG_ERR, "'%s' did not finish within %d s; killed", r->path, r->timeout);
	return CST_ERR_TIMEOUT;
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

int pcs_run(pam_handle_t *pamh, const struct pcs_run *r, struct pcs_output *out)
{
	struct sink so = {-1, NULL, 0, PCS_MAX_STDOUT, false};
	struct sink se = {-1, NULL, 0, PCS_MAX_STDERR, true};
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, devnull = -1, pidfd = -1;
	int ret = CST_ERR_SYSTEM, status = 0, fork_errno;
	struct sigaction dfl, old;
	sigset_t all, saved_mask;
	struct timespec deadline;
	bool restore = false, reaped = false, masked = false;
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

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += r->timeout;
	/* no handler of the caller may run in the child before it has reset them all */
	sigfillset(&all);
	masked = pthread_sigmask(SIG_SETMASK, &all, &saved_mask) == 0;
	pid = fork();
	if (pid == 0)
		child(r, devnull, outp[1], errp[1]);
	fork_errno = errno;
	if (masked)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	if (pid < 0) {
		errno = fork_errno;
		pam_syslog(pamh, LOG_ERR, "fork: %m");
		goto out;
	}

	close_fd(&outp[1]);
	close_fd(&errp[1]);
	so.fd = outp[0];
	se.fd = errp[0];
	outp[0] = errp[0] = -1;
	set_nonblock(so.fd);
	set_nonblock(se.fd);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	pcs_debug(pamh, r->debug, "started '%s' as pid %d (pidfd %s)", r->path, (int)pid,
		  pidfd >= 0 ? "yes" : "no");

	ret = collect(pamh, r, pid, pidfd, &so, &se, &deadline, &reaped, &status);
	/* the child is gone or doomed: no straggler of its group outlives the call */
	if (!reaped)
		kill_group(pid);
	while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret == 0) {
		out->status = status;
		pcs_debug(pamh, r->debug, "pid %d ended with wait status %d", (int)pid, status);
	}
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
