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

#define MAX_ENV_OPTIONS 32
#define MAX_ENV_NAME 128 /* as cst_plain_env_name() */

/* What these commands hand out. A field that is not known (region, branch) is NULL. */
enum field { F_TOKEN, F_API_KEY, F_HOST, F_URL, F_REGION, F_BRANCH, NFIELDS };

static const char *const field_names[NFIELDS] = {"token", "api_key", "host",
						 "url",	  "region",  "branch"};

struct env_var {
	char name[MAX_ENV_NAME + 1];
	enum field field;
};

/* exec's environment. CONTENTSTACK_HOST is not among them: it means other hosts. */
static const struct {
	const char *name;
	enum field field;
} standard_env[] = {
    {"CONTENTSTACK_MANAGEMENT_TOKEN", F_TOKEN}, {"CONTENTSTACK_API_KEY", F_API_KEY},
    {"CONTENTSTACK_API_HOST", F_HOST},		{"CONTENTSTACK_REGION", F_REGION},
    {"CONTENTSTACK_BRANCH", F_BRANCH},
};

#define REFUSED_ENV "CONTENTSTACK_HOST"

struct options {
	bool no_mint, porcelain;
	int64_t min_ttl;
	struct env_var env[MAX_ENV_OPTIONS];
	size_t nenv;
	int next; /* exec: where COMMAND starts */
};

enum option_kind { OPT_NO_MINT = 1, OPT_PORCELAIN = 2, OPT_MIN_TTL = 4, OPT_ENV = 8, OPT_CMD = 16 };

/* The profile, its token and every value derived from them, checked. */
struct handout {
	const struct cst_profile *p;
	struct cst_item it;
	bool minted;
	char *url;
	const char *v[NFIELDS];
};

static void handout_release(struct handout *h)
{
	cst_item_release(&h->it);
	free(h->url);
	memset(h, 0, sizeof(*h));
}

/* Secrets go straight to the descriptor: stdio would keep a copy in its buffer.
 */
static int emit(struct cli *cli, const struct strbuf *sb)
{
	if (fflush(stdout) || cst_write_all(STDOUT_FILENO, sb->buf, sb->len))
		return cst_error_errno(&cli->err, CST_ERR_SYSTEM, "cannot write to stdout");
	return 0;
}

/* --min-ttl D: a duration as cstoken.conf(5) writes them. */
static int set_min_ttl(struct cli *cli, const char *cmd, const char *v, struct options *o)
{
	if (cst_parse_duration(v, &o->min_ttl))
		return cli_usage_error(cli, cmd,
				       "--min-ttl: '%s' is not a duration such as 30m, 2h "
				       "or 1d",
				       v);
	return 0;
}

/* --env NAME=FIELD: NAME a variable name (not CONTENTSTACK_HOST), FIELD one of ours. */
static int add_env(struct cli *cli, const char *v, struct options *o)
{
	const char *eq = strchr(v, '=');
	struct env_var *ev;
	size_t n = eq ? (size_t)(eq - v) : 0, f;

	if (o->nenv >= MAX_ENV_OPTIONS)
		return cli_usage_error(cli, "exec", "more than %d --env options", MAX_ENV_OPTIONS);
	ev = &o->env[o->nenv];
	if (!eq || n >= sizeof(ev->name))
		return cli_usage_error(cli, "exec", "--env takes NAME=FIELD, not '%s'", v);
	memcpy(ev->name, v, n);
	ev->name[n] = '\0';
	if (!cst_plain_env_name(ev->name))
		return cli_usage_error(cli, "exec", "--env: '%s' is not a variable name", ev->name);
	if (!strcmp(ev->name, REFUSED_ENV))
		return cli_usage_error(cli, "exec",
				       "--env: cstoken does not set " REFUSED_ENV
				       " (tools read it as the delivery host or a URL); name the "
				       "variable your tool reads, e.g. CMA_URL=url");
	for (f = 0; f < NFIELDS; f++)
		if (!strcmp(eq + 1, field_names[f]))
			break;
	if (f == NFIELDS)
		return cli_usage_error(cli, "exec",
				       "--env: unknown field '%s'; use token, api_key, host, url, "
				       "region or branch",
				       eq + 1);
	ev->field = (enum field)f;
	o->nenv++;
	return 0;
}

/*
 * The value of option name at argv[*i] ("--name VALUE" or "--name=VALUE"), advancing
 * *i past a separate value; NULL when argv[*i] is not that option. *missing is set for
 * "--name" at the end.
 */
static const char *option_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
	size_t n = strlen(name);

	*missing = false;
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

/* The options of token, exec and curl (those in allowed); exec's stop at COMMAND. */
static int parse_options(struct cli *cli, const char *cmd, unsigned allowed, int argc, char **argv,
			 struct options *o)
{
	const char *v;
	bool missing;
	int i, ret;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((allowed & OPT_CMD) && (!strcmp(a, "--") || a[0] != '-')) {
			i += !strcmp(a, "--");
			break;
		}
		if ((allowed & OPT_NO_MINT) && !strcmp(a, "--no-mint")) {
			o->no_mint = true;
			continue;
		}
		if ((allowed & OPT_PORCELAIN) && !strcmp(a, "--porcelain")) {
			o->porcelain = true;
			continue;
		}
		ret = 0;
		if ((allowed & OPT_MIN_TTL) &&
		    ((v = option_value("--min-ttl", argc, argv, &i, &missing)) || missing))
			ret = missing ? cli_usage_error(cli, cmd, "--min-ttl needs a duration")
				      : set_min_ttl(cli, cmd, v, o);
		else if ((allowed & OPT_ENV) &&
			 ((v = option_value("--env", argc, argv, &i, &missing)) || missing))
			ret = missing ? cli_usage_error(cli, cmd, "--env needs NAME=FIELD")
				      : add_env(cli, v, o);
		else if (a[0] == '-')
			ret = cli_usage_error(cli, cmd, "unknown option '%s'", a);
		else
			ret = cli_usage_error(cli, cmd, "unexpected argument '%s'", a);
		if (ret)
			return ret;
	}
	o->next = i;
	return 0;
}

/* The branch header's value: the scope's one branch or one alias, else none. */
static const char *scope_branch(const struct cst_profile *p)
{
	if (p->nbranches == 1 && !p->naliases)
		return p->branches[0];
	if (p->naliases == 1 && !p->nbranches)
		return p->aliases[0];
	return NULL;
}

/* Configuration, store and the profile's token (minting when flags allow), checked. */
static int obtain(struct cli *cli, unsigned flags, int64_t min_ttl, struct handout *h)
{
	const struct cst_profile *p;
	const char *name;
	int ret;

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
	ret = cst_token_obtain_for(&cli->cfg, p, cli->store, flags, min_ttl, &h->it, &h->minted,
				   &cli->err);
	if (!ret)
		ret = cst_token_check(p, &h->it, &cli->err);
	if (ret) {
		cst_item_release(&h->it);
		return ret;
	}
	h->p = p;
	h->url = xasprintf("https://%s", p->host);
	h->v[F_TOKEN] = h->it.secret;
	h->v[F_API_KEY] = cst_token_api_key(p, &h->it);
	h->v[F_HOST] = p->host;
	h->v[F_URL] = h->url;
	h->v[F_REGION] = cst_profile_region(p);
	h->v[F_BRANCH] = scope_branch(p);
	return 0;
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
	struct handout h = {0};
	struct strbuf out = STRBUF_INIT;
	struct options o;
	int ret;

	ret =
	    parse_options(cli, "token", OPT_NO_MINT | OPT_PORCELAIN | OPT_MIN_TTL, argc, argv, &o);
	if (ret)
		return ret;
	ret = obtain(cli, o.no_mint ? 0 : CST_TOKEN_MINT, o.min_ttl, &h);
	if (ret)
		goto out;
	/* a terminal is where this usually goes */
	if (cst_has_control(h.it.secret)) {
		ret =
		    cst_error_set(&cli->err, CST_ERR_INVALID,
				  "the token of profile '%s' holds control characters", h.p->name);
		goto out;
	}
	if (o.porcelain)
		strbuf_addf(&out, "api_key=%s\ntoken=%s\nuid=%s\nexpiry=%" PRId64 "\nminted=%d\n",
			    h.v[F_API_KEY], h.it.secret, h.it.uid ? h.it.uid : "", h.it.expiry,
			    h.minted ? 1 : 0);
	else
		strbuf_addf(&out, "%s\n", h.it.secret);
	ret = emit(cli, &out);
out:
	strbuf_release(&out);
	handout_release(&h);
	return ret;
}

/*
 * Sets name=value, or removes name when value is NULL. A secret goes through a buffer we
 * own (kept in *kv), so that a failed exec can wipe it.
 */
static int set_env(struct cli *cli, const struct handout *h, const char *name, enum field f,
		   char **kv)
{
	const char *value = h->v[f];

	*kv = NULL;
	if (!value)
		return unsetenv(name) ? cst_error_errno(&cli->err, CST_ERR_SYSTEM,
							"cannot set up the environment")
				      : 0;
	/* NUL cannot be in a C string; a newline would end the value for many readers */
	if (strchr(value, '\n'))
		return cst_error_set(&cli->err, CST_ERR_INVALID,
				     "the %s of profile '%s' spans lines; it cannot go into the "
				     "environment",
				     field_names[f], h->p->name);
	if (f != F_TOKEN)
		return setenv(name, value, 1) ? cst_error_errno(&cli->err, CST_ERR_SYSTEM,
								"cannot set up the environment")
					      : 0;
	*kv = xasprintf("%s=%s", name, value);
	if (putenv(*kv)) {
		free_secret(*kv);
		*kv = NULL;
		return cst_error_errno(&cli->err, CST_ERR_SYSTEM, "cannot set up the environment");
	}
	return 0;
}

/* Removes the token variables from the environment, then wipes their buffers. */
static void drop_secret_env(char **kv, const char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kv[i])
			unsetenv(names[i]);
	for (i = 0; i < n; i++)
		free_secret(kv[i]);
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	enum { NSTD = sizeof(standard_env) / sizeof(standard_env[0]) };
	struct handout h = {0};
	struct options o;
	char *kv[NSTD + MAX_ENV_OPTIONS] = {NULL};
	const char *names[NSTD + MAX_ENV_OPTIONS] = {NULL};
	size_t n = 0, i;
	int err, ret;

	ret = parse_options(cli, "exec", OPT_MIN_TTL | OPT_ENV | OPT_CMD, argc, argv, &o);
	if (ret)
		return ret;
	if (o.next >= argc)
		return cli_usage_error(cli, "exec", "no command given");
	ret = obtain(cli, CST_TOKEN_MINT, o.min_ttl, &h);
	if (ret)
		goto out;
	/*
	 * The token goes only into the environment, never into an argv. A variable the
	 * profile has no value for (region, branch) is removed: one inherited from the
	 * caller would name another region or a branch this scope may not cover.
	 */
	for (i = 0; !ret && i < NSTD; i++, n++) {
		names[n] = standard_env[i].name;
		ret = set_env(cli, &h, names[n], standard_env[i].field, &kv[n]);
	}
	for (i = 0; !ret && i < o.nenv; i++, n++) {
		names[n] = o.env[i].name;
		ret = set_env(cli, &h, names[n], o.env[i].field, &kv[n]);
	}
	if (ret)
		goto out;
	handout_release(&h);
	/* nothing of ours (store connection, lock files) should outlive the exec */
	cst_store_close(cli->store);
	cli->store = NULL;
	fflush(stdout);
	fflush(stderr);
	/*
	 * RLIMIT_CORE stays 0 as secure_process() left it: CMD's environment holds
	 * the token, so a core dump of CMD would hold it too.
	 */
	execvp(argv[o.next], argv + o.next);
	err = errno;
	fprintf(stderr, "cstoken: cannot run '%s': %s\n", argv[o.next], strerror(err));
	ret = err == ENOENT ? 127 : 126;
out:
	drop_secret_env(kv, names, n);
	handout_release(&h);
	return ret;
}

/*
 * KEY = "PREFIXVALUE" in curl's config syntax, refusing what would end the line; what
 * names the value in the error.
 */
static int add_curl_option(struct cli *cli, struct strbuf *sb, const struct handout *h,
			   const char *key, const char *prefix, const char *s, const char *what)
{
	if (cst_has_control(s))
		return cst_error_set(&cli->err, CST_ERR_INVALID,
				     "the %s of profile '%s' holds control characters; it cannot "
				     "go into a curl config",
				     what, h->p->name);
	strbuf_addf(sb, "%s = \"%s", key, prefix);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *s);
	}
	strbuf_addstr(sb, "\"\n");
	return 0;
}

/* header = "NAME: VALUE" */
static int add_curl_header(struct cli *cli, struct strbuf *sb, const struct handout *h,
			   const char *name, enum field f)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%s: ", name);
	return add_curl_option(cli, sb, h, "header", prefix, h->v[f], field_names[f]);
}

int cmd_curl(struct cli *cli, int argc, char **argv)
{
	struct handout h = {0};
	struct strbuf out = STRBUF_INIT;
	struct options o;
	int ret;

	ret = parse_options(cli, "curl", OPT_MIN_TTL, argc, argv, &o);
	if (ret)
		return ret;
	ret = obtain(cli, CST_TOKEN_MINT, o.min_ttl, &h);
	if (!ret)
		ret = add_curl_header(cli, &out, &h, "api_key", F_API_KEY);
	if (!ret)
		ret = add_curl_header(cli, &out, &h, "authorization", F_TOKEN);
	/* the scope's one branch or alias, as Contentstack's SDK sends it */
	if (!ret && h.v[F_BRANCH])
		ret = add_curl_header(cli, &out, &h, "branch", F_BRANCH);
	/* the extra CA cstoken trusts for this host (curl keeps its own CA directory too) */
	if (!ret && h.p->ca_file)
		ret = add_curl_option(cli, &out, &h, "cacert", "", h.p->ca_file, "ca_file");
	if (!ret)
		ret = emit(cli, &out);
	strbuf_release(&out);
	handout_release(&h);
	return ret;
}
