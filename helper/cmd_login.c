/* Commands login and logout: a Contentstack session per (host, email) in the store. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"

/* Longest password or code line read; Contentstack's own limit is far lower. */
#define LOGIN_MAX_LINE 4096

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

/*
 * Asks on the controlling terminal. 0 with the answer in sb, CST_ERR_NOT_FOUND when
 * there is no terminal, CST_ERR_TOO_LARGE / CST_ERR_SYSTEM otherwise.
 */
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
		if (sb->len >= LOGIN_MAX_LINE) {
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

static void chomp_cr(struct strbuf *sb)
{
	if (sb->len && sb->buf[sb->len - 1] == '\r')
		sb->buf[--sb->len] = '\0';
}

static int read_password(struct cli *cli, bool from_stdin, const char *email, const char *host,
			 struct strbuf *pw)
{
	char *prompt = NULL;
	int ret;

	if (from_stdin) {
		/* stdio's own buffer would keep a copy of the password nobody wipes */
		setvbuf(stdin, NULL, _IONBF, 0);
		ret = strbuf_getline(pw, stdin, LOGIN_MAX_LINE);
		if (ret == 0)
			return cst_error_set(
			    &cli->err, CST_ERR_INVALID,
			    "no password on stdin: pipe it in with --password-stdin");
		if (ret < 0)
			return cst_error_set(&cli->err, ret, "cannot read the password from stdin");
	} else {
		prompt = xasprintf("Password for '%s' on %s: ", email, host);
		ret = cli_tty_ask(prompt, false, pw);
		free(prompt);
		if (ret == CST_ERR_NOT_FOUND)
			return cst_error_set(&cli->err, CST_ERR_USAGE,
					     "no terminal to ask for the password; pipe it in with "
					     "--password-stdin");
		if (ret)
			return cst_error_set(&cli->err, ret,
					     "cannot read the password from the terminal");
	}
	chomp_cr(pw);
	if (!pw->len || strlen(pw->buf) != pw->len)
		return cst_error_set(&cli->err, CST_ERR_INVALID,
				     "the password is empty or holds a NUL byte");
	return 0;
}

static bool valid_code(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n == strlen(s) && n >= 6 && n <= 8;
}

/*
 * The second factor at hand before logging in: --tfa-token, else a code computed from
 * CONTENTSTACK_MFA_SECRET. Neither leaves code empty.
 */
static int known_code(struct cli *cli, const char *given, struct strbuf *code)
{
	const char *secret = getenv_nonempty("CONTENTSTACK_MFA_SECRET");
	char totp[7];
	int ret;

	strbuf_reset(code);
	if (given) {
		strbuf_addstr(code, given);
		return 0;
	}
	if (!secret)
		return 0;
	ret = totp_code(secret, (int64_t)time(NULL), totp);
	if (ret) {
		explicit_bzero(totp, sizeof(totp));
		return cst_error_set(&cli->err, CST_ERR_INVALID,
				     "CONTENTSTACK_MFA_SECRET is not a Base32 TOTP secret; fix or "
				     "unset it");
	}
	cst_debug("two-factor code computed from CONTENTSTACK_MFA_SECRET");
	strbuf_addstr(code, totp);
	explicit_bzero(totp, sizeof(totp));
	return 0;
}

/* The server wants a code nobody gave: sent by SMS first with --sms, then asked for. */
static int ask_code(struct cli *cli, struct cma_client *c, const char *cmd, bool sms,
		    const char *profile, const char *email, const char *password,
		    struct strbuf *code)
{
	char *prompt = NULL;
	int ret;

	if (sms) {
		ret = cma_request_sms(c, email, password, &cli->err);
		if (ret)
			return ret;
		fprintf(stderr, "cstoken: a code is on its way by SMS to the phone of '%s'\n",
			email);
	}
	prompt = xasprintf("%s for '%s': ", sms ? "Code from the SMS" : "Two-factor code", email);
	ret = cli_tty_ask(prompt, true, code);
	free(prompt);
	if (ret == CST_ERR_NOT_FOUND && sms)
		return cst_error_set(&cli->err, CST_ERR_TFA_REQUIRED,
				     "no terminal to ask for the code sent by SMS; run 'cstoken "
				     "login -p %s --tfa-token CODE' with it",
				     profile);
	if (ret == CST_ERR_NOT_FOUND && strcmp(cmd, "login"))
		return cst_error_set(&cli->err, CST_ERR_TFA_REQUIRED,
				     "'%s' has two-factor authentication: set "
				     "CONTENTSTACK_MFA_SECRET or run 'cstoken %s' on a terminal",
				     email, cmd);
	if (ret == CST_ERR_NOT_FOUND)
		return cst_error_set(&cli->err, CST_ERR_TFA_REQUIRED,
				     "'%s' has two-factor authentication: give --tfa-token CODE, "
				     "set CONTENTSTACK_MFA_SECRET or use --sms",
				     email);
	if (ret)
		return cst_error_set(&cli->err, ret, "cannot read the code from the terminal");
	if (!valid_code(code->buf))
		return cst_error_set(&cli->err, CST_ERR_INVALID,
				     "a two-factor code is 6 digits; run 'cstoken %s' again", cmd);
	return 0;
}

/* A code went with the login and the server still wants one. */
static int code_refused(struct cli *cli, const struct cma_client *c, const char *cmd,
			const char *email)
{
	return cst_error_set(&cli->err, CST_ERR_AUTH,
			     "'%s' refused the two-factor code for '%s'; run 'cstoken %s' "
			     "again with a current code",
			     c->host, email, cmd);
}

static const struct cst_profile *login_profile(struct cli *cli, const char *cmd)
{
	const struct cst_profile *p = cli_profile(cli);

	if (!p)
		cli_usage_error(cli, cmd, "no profile '%s' in '%s'",
				cst_config_profile_name(&cli->cfg, cli->profile),
				cli->cfg.path ? cli->cfg.path : "the configuration");
	return p;
}

/*
 * A stored authtoken for (host, email) that the server still accepts: 0 (reused, and
 * handed back in *authtoken), CST_ERR_NOT_FOUND when there is none or it is dead,
 * another error otherwise.
 */
static int reuse_session(struct cli *cli, struct cma_client *c, char *host, char *email,
			 char **authtoken)
{
	struct cst_item pattern = CST_ITEM_INIT, it = CST_ITEM_INIT;
	struct cst_error ignored = CST_ERROR_INIT;
	int ret;

	pattern.kind = CST_ITEM_AUTHTOKEN;
	pattern.host = host;
	pattern.email = email;
	ret = cst_store_get(cli->store, &pattern, &it, &ignored);
	if (ret == CST_ERR_NOT_FOUND || (!ret && !it.secret)) {
		ret = CST_ERR_NOT_FOUND;
		goto out;
	}
	if (ret) {
		cli->err = ignored;
		goto out;
	}
	if (!cst_plain_token(it.secret)) {
		cst_debug("the stored authtoken for '%s' is malformed; logging in again", email);
		ret = CST_ERR_NOT_FOUND;
		goto out;
	}
	ret = cma_check_authtoken(c, it.secret, &cli->err);
	if (ret == CST_ERR_AUTH) {
		cst_debug("the stored authtoken for '%s' is no longer valid; logging in again",
			  email);
		ret = CST_ERR_NOT_FOUND;
	}
	if (!ret) {
		*authtoken = it.secret;
		it.secret = NULL;
	}
out:
	cst_item_release(&it);
	return ret;
}

int login_ask_email(struct cli *cli, const char *host, char **email)
{
	struct strbuf sb = STRBUF_INIT;
	char *prompt = xasprintf("E-mail of your Contentstack account on %s: ", host);
	int ret;

	*email = NULL;
	ret = cli_tty_ask(prompt, true, &sb);
	free(prompt);
	if (ret == CST_ERR_NOT_FOUND)
		goto out;
	if (ret) {
		ret = cst_error_set(&cli->err, ret, "cannot read the e-mail from the terminal");
		goto out;
	}
	if (!cst_valid_email(sb.buf ? sb.buf : "")) {
		ret = cst_error_set(&cli->err, CST_ERR_USAGE,
				    "that is not an e-mail address; run the command again");
		goto out;
	}
	*email = strbuf_detach(&sb, NULL);
out:
	strbuf_release(&sb);
	return ret;
}

/*
 * A refused password login: the account may be fine and live in another region, where
 * Contentstack answers the same "email or password is invalid".
 */
static int login_refused(struct cli *cli, const struct cst_profile *p,
			 const struct login_request *rq)
{
	const char *region = cst_profile_region(p), *id, *host;
	struct strbuf where = STRBUF_INIT, list = STRBUF_INIT;
	size_t i;
	int ret;

	for (i = 0; i < cst_region_count(); i++) {
		cst_region_at(i, &id, &host);
		strbuf_addf(&list, "%s%s", i ? ", " : "", id);
	}
	if (region)
		strbuf_addf(&where, "region '%s'", region);
	else
		strbuf_addstr(&where, "a host of its own");
	if (!strcmp(rq->cmd, "init"))
		ret = cst_error_set(&cli->err, CST_ERR_AUTH,
				    "'%s' refused the login for '%s' (%s): the e-mail or password "
				    "is wrong, or the account lives in another region (%s); run "
				    "'cstoken init' again with --region",
				    p->host, rq->email, where.buf, list.buf);
	else
		ret = cst_error_set(&cli->err, CST_ERR_AUTH,
				    "'%s' refused the login for '%s' (%s): the e-mail or password "
				    "is wrong, or the account lives in another region (%s); set "
				    "region in [profile %s] or run 'cstoken init'",
				    p->host, rq->email, where.buf, list.buf, p->name);
	strbuf_release(&where);
	strbuf_release(&list);
	return ret;
}

int login_session(struct cli *cli, const struct cst_profile *p, const struct login_request *rq,
		  char **authtoken)
{
	char *email = rq->email;
	struct cma_client c;
	struct cst_item item = CST_ITEM_INIT;
	struct strbuf pw = STRBUF_INIT, code = STRBUF_INIT;
	char *fresh = NULL;
	int ret;

	*authtoken = NULL;
	cma_client_init(&c, p->host, p->ca_file, cli->cfg.timeout);
	ret = reuse_session(cli, &c, p->host, email, authtoken);
	if (!ret) {
		fprintf(stderr, "cstoken: already logged in to %s as '%s'; reusing that session\n",
			p->host, email);
		goto out;
	}
	if (ret != CST_ERR_NOT_FOUND)
		goto out;

	ret = read_password(cli, rq->pw_stdin, email, p->host, &pw);
	if (ret)
		goto out;
	/* a code at hand goes with the first attempt, as Contentstack's CLI sends it */
	if (!rq->sms) {
		ret = known_code(cli, rq->tfa, &code);
		if (ret)
			goto out;
	}
	ret = cma_login(&c, email, pw.buf, code.len ? code.buf : NULL, &fresh, &cli->err);
	if (ret == CST_ERR_TFA_REQUIRED && code.len) {
		ret = code_refused(cli, &c, rq->cmd, email);
		goto out;
	}
	if (ret == CST_ERR_TFA_REQUIRED) {
		ret = ask_code(cli, &c, rq->cmd, rq->sms, p->name, email, pw.buf, &code);
		if (ret)
			goto out;
		ret = cma_login(&c, email, pw.buf, code.buf, &fresh, &cli->err);
		if (ret == CST_ERR_TFA_REQUIRED)
			ret = code_refused(cli, &c, rq->cmd, email);
	} else if (ret == CST_ERR_AUTH) {
		ret = login_refused(cli, p, rq);
	}
	if (ret)
		goto out;

	item.kind = CST_ITEM_AUTHTOKEN;
	item.host = xstrdup(p->host);
	item.email = xstrdup(email);
	item.secret = xstrdup(fresh);
	ret = cst_store_put(cli->store, &item, NULL, &cli->err);
	if (ret)
		goto out;
	*authtoken = fresh;
	fresh = NULL;
	fprintf(stderr, "cstoken: logged in to %s as '%s'\n", p->host, email);
out:
	cma_client_release(&c);
	cst_item_release(&item);
	free_secret(fresh);
	strbuf_release(&pw);
	strbuf_release(&code);
	return ret;
}

int cmd_login(struct cli *cli, int argc, char **argv)
{
	const struct cst_profile *p;
	struct login_request rq = {.cmd = "login"};
	char *email = NULL, *tfa = NULL, *asked = NULL, *authtoken = NULL;
	int ret = CST_ERR_USAGE, i;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (!strcmp(a, "--password-stdin")) {
			rq.pw_stdin = true;
		} else if (!strcmp(a, "--sms")) {
			rq.sms = true;
		} else if (!strcmp(a, "--email") || !strcmp(a, "--tfa-token")) {
			if (i + 1 >= argc) {
				ret = cli_usage_error(cli, "login", "option '%s' needs a value", a);
				goto out;
			}
			if (a[2] == 'e')
				email = argv[++i];
			else
				tfa = argv[++i];
		} else if (!strncmp(a, "--email=", 8)) {
			email = a + 8;
		} else if (!strncmp(a, "--tfa-token=", 12)) {
			tfa = a + 12;
		} else if (a[0] == '-') {
			ret = cli_usage_error(cli, "login", "unknown option '%s'", a);
			goto out;
		} else {
			/* likely a password: never echoed; it belongs on stdin */
			ret =
			    cli_usage_error(cli, "login",
					    "unexpected argument; give the password on stdin with "
					    "--password-stdin");
			goto out;
		}
	}
	if (email && !*email) {
		ret = cli_usage_error(cli, "login", "empty e-mail");
		goto out;
	}
	if (tfa && !valid_code(tfa)) {
		ret = cli_usage_error(cli, "login", "--tfa-token takes the 6-digit code");
		goto out;
	}
	if (tfa && rq.sms) {
		ret = cli_usage_error(cli, "login",
				      "--sms has the code sent, --tfa-token gives it: use one");
		goto out;
	}
	ret = cli_config(cli);
	if (ret)
		goto out;
	p = login_profile(cli, "login");
	if (!p) {
		ret = CST_ERR_USAGE;
		goto out;
	}
	if (!email)
		email = p->email;
	if (!email) {
		ret = login_ask_email(cli, p->host, &asked);
		if (ret == CST_ERR_NOT_FOUND)
			ret = cli_usage_error(
			    cli, "login", "no e-mail: give --email or set email in [profile %s]",
			    p->name);
		if (ret)
			goto out;
		email = asked;
	}
	ret = cli_store(cli);
	if (ret)
		goto out;
	rq.email = email;
	rq.tfa = tfa;
	ret = login_session(cli, p, &rq, &authtoken);
out:
	free_secret(authtoken);
	free(asked);
	return ret;
}

int cmd_logout(struct cli *cli, int argc, char **argv)
{
	const struct cst_profile *p;
	struct cma_client c;
	struct cst_item pattern = CST_ITEM_INIT;
	struct cst_error why = CST_ERROR_INIT;
	bool client = false;
	char *authtoken = NULL, *email = NULL;
	int ret = CST_ERR_USAGE;

	if (argc > 1) {
		ret = cli_usage_error(cli, "logout", "unexpected argument '%s'", argv[1]);
		goto out;
	}
	ret = cli_config(cli);
	if (ret)
		goto out;
	p = login_profile(cli, "logout");
	if (!p) {
		ret = CST_ERR_USAGE;
		goto out;
	}
	ret = cli_store(cli);
	if (ret)
		goto out;
	ret = cst_authtoken_get(p, cli->store, &authtoken, &email, &why);
	if (ret == CST_ERR_NOT_LOGGED_IN) {
		fprintf(stderr, "cstoken: not logged in to %s\n", p->host);
		ret = 0;
		goto out;
	}
	if (ret) {
		cli->err = why;
		goto out;
	}
	cma_client_init(&c, p->host, p->ca_file, cli->cfg.timeout);
	client = true;
	ret = cma_logout(&c, authtoken, &cli->err);
	if (ret == CST_ERR_AUTH) {
		cst_debug("the server had already ended this session");
		ret = 0;
	}
	if (ret)
		goto out;
	pattern.kind = CST_ITEM_AUTHTOKEN;
	pattern.host = p->host;
	pattern.email = email;
	ret = cst_store_erase(cli->store, &pattern, NULL, &cli->err);
	if (ret)
		goto out;
	fprintf(stderr, "cstoken: logged out of %s%s%s%s\n", p->host, email ? " as '" : "",
		email ? email : "", email ? "'" : "");
out:
	if (client)
		cma_client_release(&c);
	free_secret(authtoken);
	free(email);
	return ret;
}
