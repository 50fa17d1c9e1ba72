/*
 * `cstoken login --oauth`: the authorization-code grant with PKCE, as Contentstack's CLI
 * does it, and better on a host without a browser. The code comes back either to a
 * loopback listener on the redirect's port or as the redirected address pasted on the
 * terminal, whichever comes first; both wait in one poll(2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cstoken/cma.h"
#include "cstoken/credential.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"
#include "digest.h"
#include "oauth_login.h"
#include "oauth_query.h"

extern char **environ;

/* RFC 7636: 43-128 characters of [A-Za-z0-9-._~]; the SDK uses 128. */
#define VERIFIER_LEN 128
/* How long the code is valid, and so how long cstoken waits for it. */
#define CODE_WAIT_SECONDS 60
/* One request of a browser: its request line and headers. */
#define REQUEST_MAX 8192
#define REQUEST_WAIT_MS 5000
#define PASTE_MAX 8192

static const char unreserved[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				 "0123456789-._~";

/* The verifier: 128 characters drawn without bias from the kernel's random source. */
static int make_verifier(char out[VERIFIER_LEN + 1], struct cst_error *e)
{
	const size_t n = sizeof(unreserved) - 1; /* 66 */
	const unsigned limit = 256 - 256 % (unsigned)n;
	unsigned char buf[64];
	size_t have = 0, i = sizeof(buf);
	ssize_t got;

	while (have < VERIFIER_LEN) {
		if (i == sizeof(buf)) {
			got = getrandom(buf, sizeof(buf), 0);
			if (got != (ssize_t)sizeof(buf)) {
				explicit_bzero(buf, sizeof(buf));
				if (got < 0 && errno == EINTR)
					continue;
				return cst_error_errno(e, CST_ERR_SYSTEM,
						       "cannot read the kernel's random source");
			}
			i = 0;
		}
		if (buf[i] < limit)
			out[have++] = unreserved[buf[i] % n];
		i++;
	}
	out[VERIFIER_LEN] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* base64url without padding of SHA-256(verifier): the S256 challenge (RFC 7636, 4.2). */
static int make_challenge(const char *verifier, char out[44], struct cst_error *e)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char d[CST_SHA256_LEN];
	size_t i;
	int ret;

	ret = cst_sha256(verifier, strlen(verifier), d, e);
	if (ret)
		return ret;
	cst_base64_encode(&sb, d, sizeof(d));
	/* 32 bytes: 43 characters and one '=' of padding, dropped */
	for (i = 0; i < 43; i++)
		out[i] = sb.buf[i] == '+' ? '-' : sb.buf[i] == '/' ? '_' : sb.buf[i];
	out[43] = '\0';
	strbuf_release(&sb);
	return 0;
}

static void add_escaped(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (strchr(unreserved, ch) && ch) {
			strbuf_addch(sb, (char)ch);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[ch >> 4]);
			strbuf_addch(sb, hex[ch & 15]);
		}
	}
}

char *oauth_authorize_url(const char *app_host, const struct cma_oauth_app *app,
			  const char *challenge)
{
	struct strbuf sb = STRBUF_INIT;

	/* as the SDK's new URL(): the query before the single-page app's fragment route */
	strbuf_addf(&sb, "https://%s/?response_type=code&client_id=", app_host);
	add_escaped(&sb, app->client_id);
	strbuf_addstr(&sb, "&code_challenge=");
	add_escaped(&sb, challenge);
	strbuf_addstr(&sb, "&code_challenge_method=S256#!/apps/");
	add_escaped(&sb, app->app_id);
	strbuf_addstr(&sb, "/authorize");
	return strbuf_detach(&sb, NULL);
}

/*
 * The loopback port of an http://localhost:PORT or http://127.0.0.1:PORT redirect, 0
 * when the redirect goes elsewhere (an app's own web page: paste-back only).
 */
int oauth_redirect_port(const char *redirect)
{
	static const char *const hosts[] = {"http://localhost", "http://127.0.0.1"};
	const char *rest = NULL;
	int64_t port = 80;
	char digits[8];
	size_t i, n;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]) && !rest; i++)
		if (!strncasecmp(redirect, hosts[i], strlen(hosts[i])))
			rest = redirect + strlen(hosts[i]);
	if (!rest || (*rest && *rest != ':' && *rest != '/' && *rest != '?'))
		return 0;
	if (*rest == ':') {
		n = strspn(rest + 1, "0123456789");
		if (!n || n >= sizeof(digits))
			return 0;
		memcpy(digits, rest + 1, n);
		digits[n] = '\0';
		if (parse_int64(digits, 1, 65535, &port))
			return 0;
	}
	return (int)port;
}

/* ---- the browser ---- */

/* $BROWSER (words, as a shell splits them), else xdg-open with a display; 0 when none. */
static pid_t open_browser(char *url)
{
	static char sh[] = "/bin/sh", c[] = "-c", script[] = "exec $BROWSER \"$1\"", name[] = "sh",
		    xdg[] = "xdg-open";
	const char *browser = getenv_nonempty("BROWSER");
	posix_spawn_file_actions_t fa;
	char *argv[6];
	pid_t pid = 0;
	int r;

	if (browser) {
		argv[0] = sh;
		argv[1] = c;
		argv[2] = script;
		argv[3] = name;
		argv[4] = url;
		argv[5] = NULL;
	} else if (getenv_nonempty("DISPLAY") || getenv_nonempty("WAYLAND_DISPLAY")) {
		argv[0] = xdg;
		argv[1] = url;
		argv[2] = NULL;
	} else {
		return 0;
	}
	if (posix_spawn_file_actions_init(&fa))
		return 0;
	/* the browser must not read the terminal the address may be pasted on */
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		cst_debug("cannot start the browser '%s': %s", argv[0], strerror(r));
		return 0;
	}
	cst_debug("opened the authorize page with '%s'", browser ? "$BROWSER" : "xdg-open");
	return pid;
}

/* ---- the loopback listener ---- */

static int listen_loopback(int port, const char *redirect, int *out, struct cst_error *e)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	*out = -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return cst_error_errno(e, CST_ERR_SYSTEM, "cannot create a socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		int err = errno;

		close(fd);
		if (err == EADDRINUSE)
			return cst_error_set(
			    e, CST_ERR_SYSTEM,
			    "port %d of oauth_redirect '%s' is in use on 127.0.0.1; "
			    "end what listens there (another login?) and run the "
			    "login again",
			    port, redirect);
		errno = err;
		return cst_error_errno(e, CST_ERR_SYSTEM, "cannot listen on 127.0.0.1 port %d",
				       port);
	}
	*out = fd;
	return 0;
}

static void answer_page(int fd, int status, const char *title, const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	char body[512];

	snprintf(body, sizeof(body),
		 "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title></head>"
		 "<body><p>%s</p></body></html>\n",
		 title, text);
	strbuf_addf(&sb,
		    "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
		    "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
		    status, status == 200 ? "OK" : "Bad Request", strlen(body), body);
	(void)cst_write_all(fd, sb.buf, sb.len);
	strbuf_release(&sb);
}

/*
 * One connection: its request, read within REQUEST_WAIT_MS. 1 with *code set when it is
 * "GET /...?code=... HTTP/1.x" (answered with a short page, closed), 0 when it is not
 * (answered 400, closed: keep waiting), CST_ERR_AUTH when the page sent an error.
 */
static int take_request(int fd, const char *profile, char **code, struct cst_error *e)
{
	struct strbuf req = STRBUF_INIT;
	int64_t deadline = cst_monotonic_ms() + REQUEST_WAIT_MS;
	enum oauth_request kind;
	char buf[1024];
	ssize_t n;
	int ret = 0;

	*code = NULL;
	while (!strstr(req.buf ? req.buf : "", "\r\n\r\n") && req.len < REQUEST_MAX) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - cst_monotonic_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		strbuf_add(&req, buf, (size_t)n);
	}
	explicit_bzero(buf, sizeof(buf));
	kind = oauth_request_code(req.buf, req.len, code);
	if (kind == OAUTH_REQUEST_BAD) {
		answer_page(fd, 400, "cstoken", "This is not the answer cstoken waits for.");
		goto out;
	}
	if (kind == OAUTH_REQUEST_ERROR) {
		answer_page(fd, 200, "cstoken",
			    "The login was not approved. You can close this page.");
		ret = cst_error_set(e, CST_ERR_AUTH,
				    "the login was not approved in the browser, so nothing was "
				    "stored; run 'cstoken login --oauth -p %s' again",
				    profile);
		goto out;
	}
	if (kind == OAUTH_REQUEST_NO_CODE) {
		answer_page(fd, 400, "cstoken", "This address carries no authorization code.");
		goto out;
	}
	answer_page(fd, 200, "cstoken: logged in",
		    "cstoken has the authorization code. You can close this page and go back to "
		    "the terminal.");
	ret = 1;
out:
	strbuf_release(&req);
	return ret;
}

/* ---- the terminal ---- */

/* ---- waiting for the code ---- */

struct wait_for_code {
	int listener;	    /* -1: none */
	int tty;	    /* -1: none */
	struct strbuf line; /* what was typed so far */
	const char *profile;
};

/*
 * Reads what the terminal has: 1 with *code for a line that holds one, 0 to go on,
 * CST_ERR_SYSTEM when the terminal closed.
 */
static int from_tty(struct wait_for_code *w, char **code, struct cst_error *e)
{
	char buf[512], *nl;
	ssize_t n = read(w->tty, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		explicit_bzero(buf, sizeof(buf));
		return cst_error_set(e, CST_ERR_SYSTEM,
				     "the terminal closed before an authorization code came, so "
				     "nothing was stored; run 'cstoken login --oauth -p %s' again",
				     w->profile);
	}
	strbuf_add(&w->line, buf, (size_t)n);
	explicit_bzero(buf, sizeof(buf));
	if (w->line.len > PASTE_MAX)
		strbuf_reset(&w->line);
	while (w->line.len && (nl = memchr(w->line.buf, '\n', w->line.len))) {
		size_t used = (size_t)(nl - w->line.buf) + 1;
		struct strbuf rest = STRBUF_INIT;

		*nl = '\0';
		*code = w->line.buf[0] ? oauth_pasted_code(w->line.buf) : NULL;
		strbuf_add(&rest, nl + 1, w->line.len - used);
		strbuf_release(&w->line);
		w->line = rest;
		if (*code)
			return 1;
		if (w->line.len == 0)
			fprintf(stderr, "cstoken: that holds no code; paste the whole address the "
					"browser was sent to: ");
	}
	return 0;
}

static int wait_code(struct wait_for_code *w, char **code, struct cst_error *e)
{
	int64_t deadline = cst_monotonic_ms() + CODE_WAIT_SECONDS * 1000;
	struct pollfd pfd[2];
	int n, ret, conn;

	*code = NULL;
	for (;;) {
		int64_t left = deadline - cst_monotonic_ms();
		nfds_t nfd = 0;
		int li = -1, ti = -1;

		if (left <= 0)
			return cst_error_set(
			    e, CST_ERR_TIMEOUT,
			    "no authorization code came within %d s, so nothing was "
			    "stored; run 'cstoken login --oauth -p %s' again and "
			    "finish in the browser (or paste the address it was sent "
			    "to) in time",
			    CODE_WAIT_SECONDS, w->profile);
		if (w->listener >= 0) {
			pfd[nfd] = (struct pollfd){.fd = w->listener, .events = POLLIN};
			li = (int)nfd++;
		}
		if (w->tty >= 0) {
			pfd[nfd] = (struct pollfd){.fd = w->tty, .events = POLLIN};
			ti = (int)nfd++;
		}
		n = poll(pfd, nfd, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cst_error_errno(e, CST_ERR_SYSTEM, "cannot wait for the code");
		if (ti >= 0 && pfd[ti].revents) {
			ret = from_tty(w, code, e);
			if (ret)
				return ret < 0 ? ret : 0;
		}
		if (li >= 0 && (pfd[li].revents & POLLIN)) {
			conn = accept4(w->listener, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0)
				continue;
			ret = take_request(conn, w->profile, code, e);
			close(conn);
			if (ret)
				return ret < 0 ? ret : 0;
		}
	}
}

/* ---- the login ---- */

static int exchanged(struct cli *cli, const struct cst_profile *p, const char *code,
		     const char *verifier, struct cst_oauth_session *s)
{
	struct cma_oauth_app app;
	struct cma_oauth_grant g = {0};
	struct cma_client hub;
	char *host = cst_profile_developer_hub_host(p);
	int ret;

	cst_profile_oauth_app(p, &app);
	cma_client_init(&hub, host, p->ca_file, cli->cfg.timeout);
	ret = cma_oauth_exchange(&hub, &app, code, verifier, &g, &cli->err);
	if (ret == CST_ERR_AUTH) {
		struct cst_error why = cli->err;

		ret = cst_error_set(&cli->err, CST_ERR_AUTH,
				    "%s, so nothing was stored; run 'cstoken login --oauth -p %s' "
				    "again",
				    why.msg, p->name);
	}
	if (!ret && !g.refresh_token)
		ret = cst_error_set(&cli->err, CST_ERR_HTTP,
				    "'%s' sent no refresh token, so nothing was stored; check "
				    "developer_hub_host in the profile",
				    host);
	if (!ret) {
		s->access_token = g.access_token;
		s->refresh_token = g.refresh_token;
		s->organization_uid = g.organization_uid;
		s->user_uid = g.user_uid;
		s->expires = (int64_t)time(NULL) + g.expires_in;
		memset(&g, 0, sizeof(g));
	}
	cma_oauth_grant_release(&g);
	cma_client_release(&hub);
	free(host);
	return ret;
}

/* The session's user, as the CMA knows them: the e-mail the session is stored under. */
static int session_email(struct cli *cli, const struct cst_profile *p,
			 const struct cst_oauth_session *s, char **email)
{
	struct cma_client c;
	char *cred = cst_oauth_credential(s);
	int ret;

	cma_client_init(&c, p->host, p->ca_file, cli->cfg.timeout);
	ret = cma_user_email(&c, cred, email, &cli->err);
	cma_client_release(&c);
	free_secret(cred);
	if (!ret && p->email && strcasecmp(p->email, *email)) {
		ret = cst_error_set(&cli->err, CST_ERR_AUTH,
				    "the browser logged in as '%s', not as '%s' (email in [profile "
				    "%s]), so nothing was stored; log in as that user or change "
				    "email",
				    *email, p->email, p->name);
		free(*email);
		*email = NULL;
	}
	return ret;
}

int oauth_login(struct cli *cli, const struct cst_profile *p)
{
	struct wait_for_code w = {.listener = -1, .tty = -1, .line = STRBUF_INIT};
	struct cst_oauth_session s = {0};
	struct cma_oauth_app app;
	char verifier[VERIFIER_LEN + 1], challenge[44];
	char *app_host = NULL, *url = NULL, *code = NULL, *email = NULL;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe, old_hup;
	pid_t browser = 0;
	int port, ret;

	w.profile = p->name;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	/* a terminal that hangs up ends the wait with a message (read fails), not a death */
	sigaction(SIGHUP, &ign, &old_hup);
	cst_profile_oauth_app(p, &app);
	ret = make_verifier(verifier, &cli->err);
	if (ret)
		goto out;
	ret = make_challenge(verifier, challenge, &cli->err);
	if (ret)
		goto out;
	port = oauth_redirect_port(app.redirect_uri);
	if (port) {
		ret = listen_loopback(port, app.redirect_uri, &w.listener, &cli->err);
		if (ret)
			goto out;
	}
	w.tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (w.listener < 0 && w.tty < 0) {
		ret = cst_error_set(&cli->err, CST_ERR_USAGE,
				    "oauth_redirect '%s' is not a loopback address and there is no "
				    "terminal to paste the redirected address on; run 'cstoken "
				    "login --oauth -p %s' on a terminal",
				    app.redirect_uri, p->name);
		goto out;
	}
	app_host = cst_profile_app_host(p);
	url = oauth_authorize_url(app_host, &app, challenge);
	fprintf(stderr, "cstoken: to log in to %s, open this page and approve cstoken:\n  %s\n",
		p->host, url);
	browser = open_browser(url);
	if (w.tty >= 0)
		fprintf(stderr,
			"cstoken: waiting %d s for the browser%s; on another machine's browser, "
			"paste the address it ends up at here: ",
			CODE_WAIT_SECONDS, w.listener >= 0 ? "" : " (its page shows the address)");
	else
		fprintf(stderr, "cstoken: waiting %d s for the browser\n", CODE_WAIT_SECONDS);
	ret = wait_code(&w, &code, &cli->err);
	if (w.tty >= 0)
		fprintf(stderr, "\n");
	if (w.listener >= 0) {
		close(w.listener);
		w.listener = -1;
	}
	if (ret)
		goto out;
	ret = exchanged(cli, p, code, verifier, &s);
	if (ret)
		goto out;
	ret = session_email(cli, p, &s, &email);
	if (ret)
		goto out;
	ret = cst_oauth_session_store(cli->store, p, email, &s, &cli->err);
	if (ret)
		goto out;
	fprintf(stderr, "cstoken: logged in to %s as '%s' (OAuth, app %s)\n", p->host, email,
		app.app_id);
out:
	if (browser > 0)
		waitpid(browser, NULL, WNOHANG);
	if (w.listener >= 0)
		close(w.listener);
	if (w.tty >= 0)
		close(w.tty);
	strbuf_release(&w.line);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	explicit_bzero(verifier, sizeof(verifier));
	cst_oauth_session_release(&s);
	free_secret(code);
	free(app_host);
	free(url);
	free(email);
	return ret;
}

int oauth_logout(struct cli *cli, const struct cst_profile *p, const char *cred, char *email)
{
	struct cst_item pattern = CST_ITEM_INIT, it = CST_ITEM_INIT;
	struct cst_error ignored = CST_ERROR_INIT;
	struct cst_oauth_session s = {0};
	struct cma_oauth_app app;
	struct cma_client hub;
	char *host = NULL;
	int ret;

	pattern.kind = CST_ITEM_OAUTH;
	pattern.host = p->host;
	pattern.email = email;
	if (cst_store_get(cli->store, &pattern, &it, &ignored) ||
	    cst_oauth_session_decode(it.secret, &s)) {
		cst_item_release(&it);
		cst_debug("no well-formed OAuth session to revoke; forgetting it");
		return 0;
	}
	cst_item_release(&it);
	cst_profile_oauth_app(p, &app);
	host = cst_profile_developer_hub_host(p);
	cma_client_init(&hub, host, p->ca_file, cli->cfg.timeout);
	ret = cma_oauth_revoke(&hub, &app, cred, s.user_uid, &cli->err);
	if (ret == CST_ERR_AUTH || ret == CST_ERR_NOT_FOUND) {
		/* an expired access token, or an authorization already gone: nothing to end */
		cst_debug("the developer hub holds no live authorization of this session");
		ret = 0;
	}
	cma_client_release(&hub);
	cst_oauth_session_release(&s);
	free(host);
	return ret;
}
