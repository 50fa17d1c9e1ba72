/* Commands that hand the profile's token to scripts and programs: token, exec, curl. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"

/* Secrets go straight to the descriptor: stdio would keep a copy in its buffer.
 */
static int emit(struct cli *cli, const struct strbuf *sb)
{
	size_t off = 0;
	ssize_t n;

	if (fflush(stdout))
		return cst_error_errno(&cli->err, CST_ERR_SYSTEM, "cannot write to stdout");
	while (off < sb->len) {
		n = write(STDOUT_FILENO, sb->buf + off, sb->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cst_error_errno(&cli->err, CST_ERR_SYSTEM, "cannot write to stdout");
		off += (size_t)n;
	}
	return 0;
}

/* Configuration, store and the profile's token (minting when flags allow). */
static int obtain(struct cli *cli, unsigned flags, const struct cst_profile **pp,
		  struct cst_item *it, bool *minted)
{
	const struct cst_profile *p;
	const char *name;
	int ret;

	*pp = NULL;
	ret = cli_config(cli);
	if (ret)
		return ret;
	p = cli_profile(cli);
	if (!p) {
		name = cst_config_profile_name(&cli->cfg, cli->profile);
		return cst_error_set(&cli->err, CST_ERR_CONFIG,
				     "profile '%s' is not configured in '%s'; add a [profile %s] "
				     "section or choose another with -p",
				     name, cli->cfg.path ? cli->cfg.path : "the configuration",
				     name);
	}
	ret = cli_store(cli);
	if (ret)
		return ret;
	ret = cst_token_obtain(&cli->cfg, p, cli->store, flags, it, minted, &cli->err);
	if (ret)
		return ret;
	/* every consumer below is line- or header-based */
	if (!it->secret || !*it->secret || strpbrk(it->secret, "\r\n")) {
		cst_item_release(it);
		return cst_error_set(&cli->err, CST_ERR_INVALID,
				     "the stored token of profile '%s' is empty or spans lines; "
				     "replace it with 'cstoken rotate -p %s'",
				     p->name, p->name);
	}
	*pp = p;
	return 0;
}

static const char *item_api_key(const struct cst_item *it, const struct cst_profile *p)
{
	return it->api_key && *it->api_key ? it->api_key : p->api_key ? p->api_key : "";
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
	struct cst_item it = CST_ITEM_INIT;
	struct strbuf out = STRBUF_INIT;
	const struct cst_profile *p = NULL;
	bool no_mint = false, porcelain = false, minted = false;
	int i, ret = CST_ERR_USAGE;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-mint"))
			no_mint = true;
		else if (!strcmp(argv[i], "--porcelain"))
			porcelain = true;
		else if (argv[i][0] == '-')
			return cli_usage_error(cli, "token", "unknown option '%s'", argv[i]);
		else
			return cli_usage_error(cli, "token", "unexpected argument '%s'", argv[i]);
	}
	ret = obtain(cli, no_mint ? 0 : CST_TOKEN_MINT, &p, &it, &minted);
	if (ret)
		goto out;
	if (porcelain) {
		const char *key = item_api_key(&it, p);
		const char *uid = it.uid ? it.uid : "";

		if (strpbrk(key, "\r\n") || strpbrk(uid, "\r\n")) {
			ret = cst_error_set(
			    &cli->err, CST_ERR_INVALID,
			    "the stored token of profile '%s' has a malformed api_key "
			    "or uid; replace it with 'cstoken rotate -p %s'",
			    p->name, p->name);
			goto out;
		}
		strbuf_addf(&out, "api_key=%s\ntoken=%s\nuid=%s\nexpiry=%" PRId64 "\nminted=%d\n",
			    key, it.secret, uid, it.expiry, minted ? 1 : 0);
	} else {
		strbuf_addf(&out, "%s\n", it.secret);
	}
	ret = emit(cli, &out);
out:
	strbuf_release(&out);
	cst_item_release(&it);
	return ret;
}

/* Sets name=value through a buffer we own, so that a failed exec can wipe it.
 */
static char *put_secret_env(const char *name, const char *value)
{
	char *kv = xasprintf("%s=%s", name, value);

	if (putenv(kv)) {
		free_secret(kv);
		return NULL;
	}
	return kv;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	struct cst_item it = CST_ITEM_INIT;
	const struct cst_profile *p = NULL;
	char *tokenvar = NULL;
	int i, err, ret = CST_ERR_USAGE;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (argv[i][0] == '-')
			return cli_usage_error(cli, "exec", "unknown option '%s'", argv[i]);
		break;
	}
	if (i >= argc)
		return cli_usage_error(cli, "exec", "no command given");
	ret = obtain(cli, CST_TOKEN_MINT, &p, &it, NULL);
	if (ret)
		goto out;
	/*
	 * The token goes only into the environment, never into an argv. A
	 * CONTENTSTACK_BRANCH inherited from the caller would name a branch this scope
	 * may not cover: it is set only for a one-branch scope, else removed.
	 */
	tokenvar = put_secret_env("CONTENTSTACK_MANAGEMENT_TOKEN", it.secret);
	if (!tokenvar || setenv("CONTENTSTACK_API_KEY", item_api_key(&it, p), 1) ||
	    setenv("CONTENTSTACK_API_HOST", p->host, 1) ||
	    setenv("CONTENTSTACK_REGION", p->region ? p->region : "na", 1) ||
	    (p->nbranches == 1 && !p->naliases ? setenv("CONTENTSTACK_BRANCH", p->branches[0], 1)
					       : unsetenv("CONTENTSTACK_BRANCH"))) {
		ret = cst_error_errno(&cli->err, CST_ERR_SYSTEM, "cannot set up the environment");
		goto out;
	}
	cst_item_release(&it);
	/* nothing of ours (store connection, lock files) should outlive the exec */
	cst_store_close(cli->store);
	cli->store = NULL;
	fflush(stdout);
	fflush(stderr);
	/*
	 * RLIMIT_CORE stays 0 as secure_process() left it: CMD's environment holds
	 * the token, so a core dump of CMD would hold it too.
	 */
	execvp(argv[i], argv + i);
	err = errno;
	fprintf(stderr, "cstoken: cannot run '%s': %s\n", argv[i], strerror(err));
	ret = err == ENOENT ? 127 : 126;
out:
	if (tokenvar) {
		unsetenv("CONTENTSTACK_MANAGEMENT_TOKEN");
		free_secret(tokenvar);
	}
	cst_item_release(&it);
	return ret;
}

/* A double-quoted string in curl's config syntax. */
static void add_curl_quoted(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

int cmd_curl(struct cli *cli, int argc, char **argv)
{
	struct cst_item it = CST_ITEM_INIT;
	struct strbuf out = STRBUF_INIT, val = STRBUF_INIT;
	const struct cst_profile *p = NULL;
	int ret = CST_ERR_USAGE;

	if (argc > 1) {
		if (argv[1][0] == '-')
			return cli_usage_error(cli, "curl", "unknown option '%s'", argv[1]);
		return cli_usage_error(cli, "curl", "unexpected argument '%s'", argv[1]);
	}
	ret = obtain(cli, CST_TOKEN_MINT, &p, &it, NULL);
	if (ret)
		goto out;
	strbuf_addf(&val, "api_key: %s", item_api_key(&it, p));
	strbuf_addstr(&out, "header = ");
	add_curl_quoted(&out, val.buf);
	strbuf_reset(&val);
	strbuf_addf(&val, "authorization: %s", it.secret);
	strbuf_addstr(&out, "\nheader = ");
	add_curl_quoted(&out, val.buf);
	strbuf_addch(&out, '\n');
	ret = emit(cli, &out);
out:
	strbuf_release(&val);
	strbuf_release(&out);
	cst_item_release(&it);
	return ret;
}
