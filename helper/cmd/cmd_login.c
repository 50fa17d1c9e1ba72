/* Commands login and logout: a Contentstack session per (host, email) in the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "oauth_login.h"
#include "prompt.h"

/* Longest password or code line read, as on the terminal. */
#define LOGIN_MAX_LINE CST_PROMPT_MAX_LINE

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

/* --etcd: the etcd user's password, checked with the cluster, into the local store. */
static int login_etcd(struct cli *cli, const struct cst_profile *p, bool from_stdin)
{
	struct strbuf pw = STRBUF_INIT;
	int ret;

	if (p->shared.kind == CST_SHARED_NONE || !p->shared.user)
		return cst_error_set(&cli->err, CST_ERR_CONFIG,
				     "profile '%s' has no etcd_user (with shared = etcd); set it "
				     "in the configuration first",
				     p->name);
	ret = cli_store(cli);
	if (!ret)
		ret = read_password(cli, from_stdin, p->shared.user, "etcd", &pw);
	if (!ret)
		ret = cst_shared_login(&cli->cfg, p, cli->store, pw.buf, &cli->err);
	if (!ret)
		fprintf(stderr, "cstoken: logged in to the shared store of profile '%s' as '%s'\n",
			p->name, p->shared.user);
	strbuf_release(&pw);
	return ret;
}

int cmd_login(struct cli *cli, int argc, char **argv)
{
	const struct cst_profile *p;
	struct login_request rq = {.cmd = "login"};
	char *email = NULL, *tfa = NULL, *asked = NULL, *authtoken = NULL;
	bool etcd = false, oauth = false;
	int ret = CST_ERR_USAGE, i;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (!strcmp(a, "--oauth")) {
			oauth = true;
		} else if (!strcmp(a, "--password-stdin")) {
			rq.pw_stdin = true;
		} else if (!strcmp(a, "--etcd")) {
			etcd = true;
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
	if (oauth && (email || tfa || rq.sms || rq.pw_stdin || etcd)) {
		ret =
		    cli_usage_error(cli, "login",
				    "--oauth logs in in the browser: it takes no e-mail, password, "
				    "two-factor code or --etcd");
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
	if (etcd) {
		ret = login_etcd(cli, p, rq.pw_stdin);
		goto out;
	}
	if ((oauth || p->oauth) && !email && !tfa && !rq.sms && !rq.pw_stdin) {
		ret = cli_store(cli);
		if (!ret)
			ret = oauth_login(cli, p);
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

/* A refused OAuth session of p's host (and email): forgotten, there is nothing to end. */
static int forget_refused(struct cli *cli, const struct cst_profile *p)
{
	struct cst_item pattern = CST_ITEM_INIT;
	int ret;

	pattern.kind = CST_ITEM_OAUTH;
	pattern.host = p->host;
	pattern.email = p->email;
	ret = cst_store_erase(cli->store, &pattern, NULL, &cli->err);
	if (!ret)
		fprintf(stderr, "cstoken: logged out of %s (the server had ended the session)\n",
			p->host);
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
	ret = cst_authtoken_get(&cli->cfg, p, cli->store, &authtoken, &email, &why);
	if (ret == CST_ERR_RELOGIN) {
		/* the server ended it already: nothing to revoke, only to forget */
		cst_debug("%s", why.msg);
		ret = forget_refused(cli, p);
		goto out;
	}
	if (ret == CST_ERR_NOT_LOGGED_IN) {
		fprintf(stderr, "cstoken: not logged in to %s\n", p->host);
		ret = 0;
		goto out;
	}
	if (ret) {
		cli->err = why;
		goto out;
	}
	if (!strncmp(authtoken, CMA_BEARER, strlen(CMA_BEARER))) {
		ret = oauth_logout(cli, p, authtoken, email);
		if (ret)
			goto out;
		pattern.kind = CST_ITEM_OAUTH;
		goto forget;
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
forget:
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
