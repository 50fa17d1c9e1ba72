/*
 * Test driver: opens and closes one PAM session and prints what a login would see.
 *   pam_driver SERVICE USER [--no-close] [--reap-wait=DIR | --reap-ignore=DIR]
 * prints "open=PAM_X", then "env:NAME=VALUE" for the PAM environment, then "close=PAM_X".
 * Run under pam_wrapper (PAM_WRAPPER_SERVICE_DIR) so that SERVICE comes from the test.
 *
 * --reap-*: an application that reaps children behind the module's back, from a thread.
 * The thread meets the module's child (the stand-in) at the FIFOs DIR/reap.ready and
 * DIR/reap.go, so that it acts while the child is surely alive and before it answers:
 * --reap-ignore sets SIGCHLD to SIG_IGN (the kernel then reaps the child itself, always
 * before the module can); --reap-wait blocks in waitpid(-1), racing the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

static const char *rc_name(int rc)
{
	static char buf[32];

	switch (rc) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_IGNORE:
		return "PAM_IGNORE";
	case PAM_PERM_DENIED:
		return "PAM_PERM_DENIED";
	case PAM_SESSION_ERR:
		return "PAM_SESSION_ERR";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	case PAM_BUF_ERR:
		return "PAM_BUF_ERR";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	default:
		snprintf(buf, sizeof(buf), "PAM_%d", rc);
		return buf;
	}
}

/* A session module must not talk to the user: any prompt is an error. */
static int no_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)data;
	return PAM_CONV_ERR;
}

static void print_env(pam_handle_t *pamh)
{
	char **env = pam_getenvlist(pamh);
	size_t i;

	if (!env)
		return;
	for (i = 0; env[i]; i++) {
		printf("env:%s\n", env[i]);
		explicit_bzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}

struct reaper {
	char ready[PATH_MAX];
	char go[PATH_MAX];
	bool ignore;
};

static void *reap(void *arg)
{
	const struct reaper *rp = arg;
	char c;
	int fd, st;

	/* blocks until the child opens the FIFO and says it runs */
	if ((fd = open(rp->ready, O_RDONLY)) < 0 || read(fd, &c, 1) != 1)
		abort();
	close(fd);
	if (rp->ignore) {
		struct sigaction ign;

		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGCHLD, &ign, NULL);
	}
	if ((fd = open(rp->go, O_WRONLY)) < 0 || write(fd, "g", 1) != 1)
		abort();
	close(fd);
	if (!rp->ignore)
		while (waitpid(-1, &st, 0) < 0 && errno == EINTR)
			;
	return NULL;
}

/* Parses --reap-wait=DIR / --reap-ignore=DIR; false when arg is neither. */
static bool reaper_arg(const char *arg, struct reaper *rp)
{
	const char *dir;

	if (!strncmp(arg, "--reap-wait=", 12))
		dir = arg + 12, rp->ignore = false;
	else if (!strncmp(arg, "--reap-ignore=", 14))
		dir = arg + 14, rp->ignore = true;
	else
		return false;
	snprintf(rp->ready, sizeof(rp->ready), "%s/reap.ready", dir);
	snprintf(rp->go, sizeof(rp->go), "%s/reap.go", dir);
	return true;
}

int main(int argc, char **argv)
{
	struct pam_conv conv = {no_conv, NULL};
	pam_handle_t *pamh = NULL;
	struct reaper rp;
	pthread_t thread;
	bool close_it = true, reaping = false;
	int rc, i;

	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--no-close"))
			close_it = false;
		else if (!reaping && reaper_arg(argv[i], &rp))
			reaping = true;
		else
			argc = 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: pam_driver SERVICE USER [--no-close] "
				"[--reap-wait=DIR | --reap-ignore=DIR]\n");
		return 2;
	}
	if (reaping && pthread_create(&thread, NULL, reap, &rp)) {
		fprintf(stderr, "pam_driver: cannot start the reaping thread\n");
		return 1;
	}
	rc = pam_start(argv[1], argv[2], &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_driver: pam_start: %s\n", rc_name(rc));
		return 1;
	}
	rc = pam_open_session(pamh, 0);
	printf("open=%s\n", rc_name(rc));
	print_env(pamh);
	if (close_it) {
		rc = pam_close_session(pamh, 0);
		printf("close=%s\n", rc_name(rc));
	}
	fflush(stdout);
	pam_end(pamh, rc);
	return 0;
}
