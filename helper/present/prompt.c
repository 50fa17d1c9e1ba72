/* Prompting: a question on the controlling terminal, echo off for secrets, Ctrl-Z safe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cstoken/error.h"
#include "prompt.h"

/* The terminal whose echo is off, for the signal handlers to put it back. */
static int tty_fd = -1;
static struct termios tty_saved, tty_quiet;
static const char *tty_prompt;
static volatile sig_atomic_t tty_echo_off, tty_resumed, tty_conts;

static void tty_restore_and_die(int sig)
{
	if (tty_echo_off)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	/* SA_RESETHAND restored the default action: die of the same signal */
	raise(sig);
}

/*
 * Back in the foreground after a stop: echo off again (input typed meanwhile is
 * dropped), the prompt again, and the answer starts over, as readpassphrase(3) does.
 */
static void tty_resume(void)
{
	if (!tty_echo_off || tcgetpgrp(tty_fd) != getpgrp())
		return;
	tcsetattr(tty_fd, TCSAFLUSH, &tty_quiet);
	(void)!write(tty_fd, tty_prompt, strlen(tty_prompt));
	tty_resumed = 1;
}

static void tty_continued(int sig)
{
	int saved_errno = errno;

	(void)sig;
	tty_conts++;
	tty_resume();
	errno = saved_errno;
}

/* Ctrl-Z, or a read or write from the background: stopped with the echo back on. */
static void tty_stop(int sig)
{
	int saved_errno = errno;
	sig_atomic_t conts = tty_conts;
	struct sigaction dfl, mine;
	sigset_t set;

	if (tty_echo_off)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, &mine);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	/* the default action happens here: stopped until SIGCONT (tty_continued) */
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigaction(sig, &mine, NULL);
	/* an orphaned process group is not stopped, and no SIGCONT comes */
	if (conts == tty_conts)
		tty_resume();
	errno = saved_errno;
}

static const struct {
	int sig;
	void (*handler)(int);
	int flags;
} tty_handlers[] = {
    {SIGINT, tty_restore_and_die, SA_RESETHAND | SA_NODEFER},
    {SIGTERM, tty_restore_and_die, SA_RESETHAND | SA_NODEFER},
    {SIGHUP, tty_restore_and_die, SA_RESETHAND | SA_NODEFER},
    {SIGQUIT, tty_restore_and_die, SA_RESETHAND | SA_NODEFER},
    {SIGTSTP, tty_stop, 0},
    {SIGTTIN, tty_stop, 0},
    {SIGTTOU, tty_stop, 0},
    {SIGCONT, tty_continued, 0},
};
#define NTTY_SIGNALS (sizeof(tty_handlers) / sizeof(tty_handlers[0]))

/*
 * Turns echo off for prompt; false (nothing changed, nothing to restore) when fd is no
 * terminal. The handlers put the echo back for a signal that kills or stops.
 */
static bool echo_off(int fd, const char *prompt, struct sigaction *old)
{
	struct sigaction sa;
	size_t i;
	int r;

	if (tcgetattr(fd, &tty_saved))
		return false;
	tty_quiet = tty_saved;
	tty_quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	tty_quiet.c_lflag |= ECHONL;
	tty_prompt = prompt;
	tty_fd = fd;
	tty_resumed = 0;
	memset(&sa, 0, sizeof(sa));
	/* a stop handler touches the terminal from the background: no SIGTTOU then */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTSTP);
	sigaddset(&sa.sa_mask, SIGTTIN);
	sigaddset(&sa.sa_mask, SIGTTOU);
	for (i = 0; i < NTTY_SIGNALS; i++) {
		sa.sa_handler = tty_handlers[i].handler;
		sa.sa_flags = tty_handlers[i].flags;
		sigaction(tty_handlers[i].sig, &sa, &old[i]);
	}
	tty_echo_off = 1;
	/* started in the background, this waits (stopped) for the foreground */
	do
		r = tcsetattr(fd, TCSAFLUSH, &tty_quiet);
	while (r && errno == EINTR);
	if (r)
		tty_echo_off = 0;
	return true;
}

static void echo_restore(int fd, const struct sigaction *old)
{
	size_t i;

	if (tty_echo_off)
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
	tty_echo_off = 0;
	for (i = 0; i < NTTY_SIGNALS; i++)
		sigaction(tty_handlers[i].sig, &old[i], NULL);
	tty_fd = -1;
	tty_prompt = NULL;
}

int cli_tty_ask(const char *prompt, bool echo, struct strbuf *sb)
{
	struct sigaction old[NTTY_SIGNALS];
	int fd, ret = CST_ERR_SYSTEM;
	bool quiet = false;
	char ch = 0;
	ssize_t n;

	strbuf_reset(sb);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return CST_ERR_NOT_FOUND;
	/* echo goes off (and pending input is flushed) before the prompt shows, so nothing
	 * typed in answer to the prompt is thrown away */
	if (!echo)
		quiet = echo_off(fd, prompt, old);
	(void)!write(fd, prompt, strlen(prompt));
	for (;;) {
		n = read(fd, &ch, 1);
		/* the prompt came again after a stop: what was typed before is dropped */
		if (tty_resumed) {
			tty_resumed = 0;
			strbuf_reset(sb);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0 || ch == '\n')
			break;
		if (sb->len >= CST_PROMPT_MAX_LINE) {
			ret = CST_ERR_TOO_LARGE;
			goto out;
		}
		strbuf_addch(sb, ch);
	}
	/* a terminal in raw CR mode (or a pasted CRLF) ends the line with a CR */
	if (sb->len && sb->buf[sb->len - 1] == '\r')
		sb->buf[--sb->len] = '\0';
	ret = 0;
out:
	if (quiet)
		echo_restore(fd, old);
	explicit_bzero(&ch, sizeof(ch));
	close(fd);
	if (ret)
		strbuf_reset(sb);
	return ret;
}
