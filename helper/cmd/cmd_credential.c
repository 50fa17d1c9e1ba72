/* The git credential helper: get, store and erase on git's credential protocol.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cstoken/credential.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"

/*
 * stdio's own buffers would keep copies of the secrets that pass through stdin
 * and stdout; these are handed to stdio instead and wiped once the command is
 * done.
 */
static char stdin_buf[4096];
static char stdout_buf[4096];

static int start(struct cli *cli, const char *cmd, int argc, char **argv, struct credential *c)
{
	if (argc > 1)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[1]);
	/* a request typed on a terminal is read like a piped one, but never prompted for */
	if (isatty(STDIN_FILENO))
		cst_debug("%s: reading a credential request from the terminal, ended by a blank "
			  "line",
			  cmd);
	setvbuf(stdin, stdin_buf, _IOFBF, sizeof(stdin_buf));
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	return credential_read(c, stdin, &cli->err);
}

static void finish(void)
{
	fflush(stdout);
	explicit_bzero(stdin_buf, sizeof(stdin_buf));
	explicit_bzero(stdout_buf, sizeof(stdout_buf));
}

/* The CST_ITEM_CREDENTIAL pattern for these attributes (borrowed, not copied). */
static struct cst_item credential_pattern(char *protocol, char *host, char *path, char *username)
{
	struct cst_item p = CST_ITEM_INIT;

	p.kind = CST_ITEM_CREDENTIAL;
	p.protocol = protocol;
	p.host = host;
	p.path = path;
	p.username = username;
	return p;
}

static int answer(struct cli *cli, const char *username, const char *password, int64_t expiry,
		  const char *oauth_refresh_token)
{
	struct credential out = CREDENTIAL_INIT;
	int ret;

	set_str(&out.username, username);
	set_secret(&out.password, password);
	out.password_expiry_utc = expiry;
	set_secret(&out.oauth_refresh_token, oauth_refresh_token);
	ret = credential_write(&out, stdout, &cli->err);
	credential_release(&out);
	return ret;
}

/*
 * A Contentstack profile's management token. Returns CST_ERR_NOT_FOUND when the
 * plain lookup should answer instead.
 */
static int get_profile_token(struct cli *cli, const struct cst_profile *p)
{
	struct cst_item item = CST_ITEM_INIT;
	int ret;

	ret = cst_token_obtain(&cli->cfg, p, cli->store, p->mint ? CST_TOKEN_MINT : 0, &item, NULL,
			       &cli->err);
	if (ret == CST_ERR_NOT_LOGGED_IN || ret == CST_ERR_RELOGIN) {
		/* git goes on to its next helper: not an error for git */
		fprintf(stderr, "cstoken: %s\n", cst_error_msg(&cli->err, ret));
		ret = 0;
		goto out;
	}
	/* nothing published in the shared store: git may go on, but say who can publish */
	if (ret == CST_ERR_NOT_FOUND && p->shared.kind != CST_SHARED_NONE)
		fprintf(stderr, "cstoken: %s\n", cst_error_msg(&cli->err, ret));
	if (ret)
		goto out;
	ret = answer(cli, p->api_key ? p->api_key : item.api_key, item.secret, item.expiry, NULL);
out:
	cst_item_release(&item);
	return ret;
}

int cmd_get(struct cli *cli, int argc, char **argv)
{
	struct credential c = CREDENTIAL_INIT;
	struct cst_item pattern, item = CST_ITEM_INIT;
	const struct cst_profile *p;
	int ret;

	ret = start(cli, "get", argc, argv, &c);
	if (ret)
		goto out;
	/* without protocol and host the pattern would match some unrelated credential */
	if (!c.protocol || !c.host) {
		cst_debug("get: no protocol or host in the request; no answer");
		goto out;
	}
	ret = cli_store(cli);
	if (ret)
		goto out;
	p = cst_config_profile_for(&cli->cfg, c.protocol, c.host, c.username);
	if (p) {
		cst_debug("get: request is for profile '%s'", p->name);
		ret = get_profile_token(cli, p);
		if (ret != CST_ERR_NOT_FOUND)
			goto out;
	}
	pattern = credential_pattern(c.protocol, c.host, c.path, c.username);
	ret = cst_store_get(cli->store, &pattern, &item, &cli->err);
	if (ret == CST_ERR_NOT_FOUND) {
		cst_debug("get: no stored credential matches");
		ret = 0;
		goto out;
	}
	if (ret)
		goto out;
	ret = answer(cli, item.username, item.secret, item.expiry, item.oauth_refresh_token);
out:
	cst_item_release(&item);
	credential_release(&c);
	finish();
	return ret;
}

int cmd_store(struct cli *cli, int argc, char **argv)
{
	struct credential c = CREDENTIAL_INIT;
	struct cst_item item = CST_ITEM_INIT;
	const struct cst_profile *p;
	bool unchanged = false;
	int ret;

	ret = start(cli, "store", argc, argv, &c);
	if (ret)
		goto out;
	/* like git's own helpers: an incomplete credential is silently not stored */
	if (!c.protocol || !c.host || !c.password) {
		cst_debug("store: need protocol, host and password; nothing stored");
		ret = 0;
		goto out;
	}
	ret = cli_store(cli);
	if (ret)
		goto out;
	p = cst_config_profile_for(&cli->cfg, c.protocol, c.host, c.username);
	if (p && cst_token_holds(cli->store, p, c.password)) {
		cst_debug("store: the management token of profile '%s' is already stored", p->name);
		ret = 0;
		goto out;
	}
	item.kind = CST_ITEM_CREDENTIAL;
	item.protocol = xstrdup(c.protocol);
	item.host = xstrdup(c.host);
	item.path = c.path ? xstrdup(c.path) : NULL;
	item.username = c.username ? xstrdup(c.username) : NULL;
	item.expiry = c.password_expiry_utc;
	item.secret = xstrdup(c.password);
	item.oauth_refresh_token = c.oauth_refresh_token ? xstrdup(c.oauth_refresh_token) : NULL;
	ret = cst_store_put(cli->store, &item, &unchanged, &cli->err);
	if (!ret)
		cst_debug("store: %s", unchanged ? "unchanged, nothing written" : "stored");
out:
	cst_item_release(&item);
	credential_release(&c);
	finish();
	return ret;
}

/* For a profile host: forget the management token git was refused. Never
 * revokes. */
static int erase_profile_token(struct cli *cli, const struct cst_profile *p, const char *password)
{
	struct cst_item pattern = CST_ITEM_INIT;
	size_t count = 0;
	int ret;

	if (!password || !cst_token_holds(cli->store, p, password))
		return 0;
	pattern.kind = CST_ITEM_TOKEN;
	pattern.profile = p->name;
	ret = cst_store_erase(cli->store, &pattern, &count, &cli->err);
	if (!ret)
		cst_debug("erase: forgot the management token of profile '%s'", p->name);
	return ret;
}

int cmd_erase(struct cli *cli, int argc, char **argv)
{
	struct credential c = CREDENTIAL_INIT;
	struct cst_item pattern;
	const struct cst_profile *p;
	size_t removed = 0;
	int ret;

	ret = start(cli, "erase", argc, argv, &c);
	if (ret)
		goto out;
	if (!c.protocol || !c.host) {
		ret = cst_error_set(&cli->err, CST_ERR_INVALID,
				    "'erase' needs at least protocol and host; nothing was erased");
		goto out;
	}
	ret = cli_store(cli);
	if (ret)
		goto out;
	p = cst_config_profile_for(&cli->cfg, c.protocol, c.host, c.username);
	if (p) {
		ret = erase_profile_token(cli, p, c.password);
		if (ret)
			goto out;
	}
	pattern = credential_pattern(c.protocol, c.host, c.path, c.username);
	if (c.password)
		ret = cst_store_erase_with_secret(cli->store, &pattern, c.password, &removed,
						  &cli->err);
	else
		ret = cst_store_erase(cli->store, &pattern, &removed, &cli->err);
	if (!ret)
		cst_debug("erase: %zu item(s) removed", removed);
out:
	credential_release(&c);
	finish();
	return ret;
}
