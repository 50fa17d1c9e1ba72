/*
 * Command init: first-run setup. Region, login, the stack, the scope and the permissions
 * become a [profile] in the config file; every question has a flag, so that a script
 * runs it without a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/util.h"
#include "present.h"
#include "prompt.h"

/* Bytes of a server-sent stack name shown. */
#define INIT_MAX_SHOWN 80

struct init_options {
	const char *region, *host, *ca_file, *email, *stack, *branches, *aliases, *permissions;
	bool pw_stdin, force;
};

/* What the stack offers: its branches and aliases (known false when it would not say). */
struct scope_choice {
	struct cma_branch *branches, *aliases;
	size_t nbranches, naliases;
	bool known;
};

static int parse_options(struct cli *cli, int argc, char **argv, struct init_options *o)
{
	const struct {
		const char *name;
		const char **dst;
	} values[] = {
	    {"--region", &o->region},	{"--host", &o->host},
	    {"--ca-file", &o->ca_file}, {"--email", &o->email},
	    {"--stack", &o->stack},	{"--branches", &o->branches},
	    {"--aliases", &o->aliases}, {"--permissions", &o->permissions},
	};
	size_t i, n;
	int a;

	for (a = 1; a < argc; a++) {
		const char *arg = argv[a];

		if (!strcmp(arg, "--password-stdin")) {
			o->pw_stdin = true;
			continue;
		}
		if (!strcmp(arg, "--force")) {
			o->force = true;
			continue;
		}
		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			n = strlen(values[i].name);
			if (!strcmp(arg, values[i].name)) {
				if (a + 1 >= argc)
					return cli_usage_error(cli, "init",
							       "option '%s' needs a value", arg);
				*values[i].dst = argv[++a];
				break;
			}
			if (!strncmp(arg, values[i].name, n) && arg[n] == '=') {
				*values[i].dst = arg + n + 1;
				break;
			}
		}
		if (i == sizeof(values) / sizeof(values[0]))
			return cli_usage_error(
			    cli, "init", "%s '%s'",
			    arg[0] == '-' ? "unknown option" : "unexpected argument", arg);
	}
	if (o->region && o->host)
		return cli_usage_error(cli, "init", "give --region or --host, not both");
	if (o->ca_file && !o->host)
		return cli_usage_error(cli, "init", "--ca-file goes with --host");
	if (o->branches && o->aliases)
		return cli_usage_error(cli, "init",
				       "a token is scoped to branches or to aliases: give "
				       "--branches or --aliases");
	if (o->permissions && strcmp(o->permissions, "read") &&
	    strcmp(o->permissions, "read,write"))
		return cli_usage_error(cli, "init", "--permissions is read or read,write");
	return 0;
}

/* The answer to prompt on the terminal; CST_ERR_NOT_FOUND (nothing set) without one. */
static int ask(struct cli *cli, const char *prompt, struct strbuf *sb)
{
	int ret = cli_tty_ask(prompt, true, sb);

	if (ret && ret != CST_ERR_NOT_FOUND)
		return cst_error_set(&cli->err, ret, "cannot read the answer from the terminal");
	return ret;
}

static int no_terminal(struct cli *cli, const char *what, const char *flag)
{
	return cli_usage_error(cli, "init", "no terminal to ask for %s; give %s", what, flag);
}

/* The region: --region, --host, or the answer to a list of the known ones. */
static int choose_host(struct cli *cli, const struct init_options *o, struct cst_profile *p)
{
	struct strbuf sb = STRBUF_INIT;
	const char *id = NULL, *host = NULL, *why;
	char reason[400];
	int64_t k;
	size_t i;
	int ret;

	if (o->host) {
		why = cst_host_problem(o->host);
		if (why || cst_has_control(o->host))
			return cli_usage_error(cli, "init", "--host: %s",
					       why ? why : "not a host name");
		set_str(&p->host, o->host);
		p->host_set = true;
		if (o->ca_file) {
			free(p->ca_file);
			p->ca_file = cst_ca_file_path(o->ca_file, reason, sizeof(reason));
			if (!p->ca_file || cst_has_control(p->ca_file))
				return cli_usage_error(cli, "init", "--ca-file: %s",
						       p->ca_file ? "not a path" : reason);
		}
		return 0;
	}
	if (!o->region) {
		fputs("Contentstack regions:\n", stderr);
		for (i = 0; i < cst_region_count(); i++) {
			cst_region_at(i, &id, &host);
			fprintf(stderr, "  %zu  %-9s %s\n", i + 1, id, host);
		}
		ret = ask(cli, "Region of your account (number or name) [na]: ", &sb);
		if (ret == CST_ERR_NOT_FOUND)
			ret = no_terminal(cli, "the region", "--region R or --host H");
		if (ret)
			goto out;
	}
	id = o->region ? o->region : sb.len ? sb.buf : "na";
	if (!o->region && !parse_int64(id, 1, (int64_t)cst_region_count(), &k))
		cst_region_at((size_t)k - 1, &id, &host);
	if (cst_region_lookup(id, &id, &host)) {
		ret = cli_usage_error(cli, "init",
				      "unknown region; use one of na, eu, au, "
				      "azure-na, azure-eu, gcp-na or gcp-eu");
		goto out;
	}
	set_str(&p->region, id);
	set_str(&p->host, host);
	p->region_set = true;
	ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}

static int choose_email(struct cli *cli, const struct init_options *o, const char *host,
			char **email)
{
	int ret;

	*email = NULL;
	if (o->email) {
		if (!cst_valid_email(o->email))
			return cli_usage_error(cli, "init", "--email: not an e-mail address");
		*email = xstrdup(o->email);
		return 0;
	}
	ret = login_ask_email(cli, host, email);
	if (ret == CST_ERR_NOT_FOUND)
		ret = no_terminal(cli, "the e-mail", "--email E");
	return ret;
}

static void show(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	cst_add_shown(&sb, s, INIT_MAX_SHOWN);
	fputs(sb.buf ? sb.buf : "", stderr);
	strbuf_release(&sb);
}

static bool may_create(const struct cma_stack *s)
{
	return s->owner || s->admin;
}

static void list_stacks(const struct cma_stack *s, size_t n, const char *host, const char *email)
{
	size_t i;

	fprintf(stderr, "Stacks of '%s' on %s (* = you may create tokens there):\n", email, host);
	for (i = 0; i < n; i++) {
		fprintf(stderr, "  %zu%s %s  ", i + 1, may_create(&s[i]) ? "*" : " ", s[i].api_key);
		show(s[i].name ? s[i].name : "");
		fprintf(stderr, "%s\n", s[i].owner ? "  (owner)" : s[i].admin ? "  (admin)" : "");
	}
}

/* The stack named by want: its number in the list, its API key or its name. */
static const struct cma_stack *find_stack(const struct cma_stack *s, size_t n, const char *want)
{
	const struct cma_stack *hit = NULL;
	size_t i, hits = 0;
	int64_t k;

	if (!parse_int64(want, 1, (int64_t)n, &k))
		return &s[k - 1];
	for (i = 0; i < n; i++)
		if (!strcmp(s[i].api_key, want))
			return &s[i];
	for (i = 0; i < n; i++)
		if (s[i].name && !strcasecmp(s[i].name, want)) {
			hit = &s[i];
			hits++;
		}
	return hits == 1 ? hit : NULL;
}

static int choose_stack(struct cli *cli, const struct init_options *o, const struct cma_stack *s,
			size_t n, const struct cst_profile *p, const char *email, char **api_key)
{
	struct strbuf sb = STRBUF_INIT;
	const struct cma_stack *pick;
	char *prompt = NULL;
	const char *want = o->stack;
	int ret;

	*api_key = NULL;
	if (!n)
		return cst_error_set(&cli->err, CST_ERR_API,
				     "%s shows '%s' no stacks; ask a stack owner to share one, or "
				     "run 'cstoken init' again with the region of that stack",
				     p->host, email);
	list_stacks(s, n, p->host, email);
	if (!want) {
		prompt = xasprintf("Stack (number, name or API key)%s: ", n == 1 ? " [1]" : "");
		ret = ask(cli, prompt, &sb);
		if (ret == CST_ERR_NOT_FOUND)
			ret = no_terminal(cli, "the stack", "--stack NAME or --stack API_KEY");
		if (ret)
			goto out;
		want = sb.len ? sb.buf : n == 1 ? "1" : "";
	}
	pick = find_stack(s, n, want);
	if (!pick) {
		ret = cli_usage_error(cli, "init",
				      "no single stack of those listed has that name or API key");
		goto out;
	}
	if (!may_create(pick))
		cst_warn("only the owner or an admin of stack %s may create management tokens, and "
			 "that does not seem to be you",
			 pick->api_key);
	*api_key = xstrdup(pick->api_key);
	ret = 0;
out:
	free(prompt);
	strbuf_release(&sb);
	return ret;
}

static void scope_release(struct scope_choice *sc)
{
	cma_branch_array_free(sc->branches, sc->nbranches);
	cma_branch_array_free(sc->aliases, sc->naliases);
	memset(sc, 0, sizeof(*sc));
}

/* The stack's branches and aliases; a stack without branches answers neither. */
static int load_scope(struct cli *cli, struct cma_client *c, const char *api_key,
		      const char *authtoken, struct scope_choice *sc)
{
	size_t i;
	int ret;

	ret = cma_branches_list(c, api_key, authtoken, false, &sc->branches, &sc->nbranches,
				&cli->err);
	if (!ret)
		ret = cma_branches_list(c, api_key, authtoken, true, &sc->aliases, &sc->naliases,
					&cli->err);
	if (ret == CST_ERR_API || ret == CST_ERR_NOT_FOUND) {
		fprintf(stderr,
			"cstoken: the stack lists no branches (%s); the token gets branch "
			"main\n",
			cst_error_msg(&cli->err, ret));
		scope_release(sc);
		return 0;
	}
	if (ret)
		return ret;
	sc->known = true;
	fputs("Branches:", stderr);
	for (i = 0; i < sc->nbranches; i++)
		fprintf(stderr, "%s %s", i ? "," : "", sc->branches[i].uid);
	fputs(sc->nbranches ? "\nAliases:" : " none\nAliases:", stderr);
	for (i = 0; i < sc->naliases; i++)
		fprintf(stderr, "%s %s -> %s", i ? "," : "", sc->aliases[i].uid,
			sc->aliases[i].target);
	fputs(sc->naliases ? "\n" : " none\n", stderr);
	return 0;
}

static bool listed(const struct cma_branch *b, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(b[i].uid, name))
			return true;
	return false;
}

/*
 * Checks a comma-separated list of names against the stack and writes it, normalised,
 * to out. kind: 'b' branches, 'a' aliases, 0 decide (all of one kind) and set it.
 */
static int check_scope(struct cli *cli, const struct scope_choice *sc, const char *list, char *kind,
		       struct strbuf *out)
{
	char *copy = xstrdup(list), *save = NULL, *name, *end;
	bool branch, alias;
	int ret = CST_ERR_USAGE;

	strbuf_reset(out);
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		name += strspn(name, " \t");
		for (end = name + strlen(name); end > name && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = '\0';
		if (!cst_plain_api_key(name)) {
			ret = cli_usage_error(
			    cli, "init", "a branch or alias name is letters, digits, '_' and '-'");
			goto out;
		}
		branch = !sc->known ? *kind != 'a' : listed(sc->branches, sc->nbranches, name);
		alias = sc->known && listed(sc->aliases, sc->naliases, name);
		if (!*kind)
			*kind = branch ? 'b' : alias ? 'a' : 0;
		if ((*kind == 'b' && !branch) || (*kind == 'a' && !alias) || !*kind) {
			ret = cli_usage_error(cli, "init",
					      "'%s' is not one of the stack's %s listed above",
					      name, *kind == 'a' ? "aliases" : "branches");
			goto out;
		}
		strbuf_addf(out, "%s%s", out->len ? ", " : "", name);
	}
	if (!out->len) {
		ret = cli_usage_error(cli, "init", "no branch or alias given");
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static int choose_scope(struct cli *cli, const struct init_options *o,
			const struct scope_choice *sc, char *kind, struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT;
	const char *def = NULL;
	char *prompt = NULL;
	int ret;

	*kind = o->aliases ? 'a' : o->branches ? 'b' : 0;
	if (o->aliases || o->branches)
		return check_scope(cli, sc, o->aliases ? o->aliases : o->branches, kind, out);
	if (!sc->known || listed(sc->branches, sc->nbranches, "main"))
		def = "main";
	prompt =
	    xasprintf("Branches or aliases for the token, comma-separated%s%s%s: ", def ? " [" : "",
		      def ? def : "", def ? "]" : "");
	ret = ask(cli, prompt, &sb);
	free(prompt);
	if (ret == CST_ERR_NOT_FOUND && def) {
		ret = 0; /* no terminal: the configuration's default, main */
	} else if (ret == CST_ERR_NOT_FOUND) {
		ret = no_terminal(cli, "the scope", "--branches B,... or --aliases A,...");
		goto out;
	} else if (ret) {
		goto out;
	}
	ret = check_scope(cli, sc, sb.len ? sb.buf : def ? def : "", kind, out);
out:
	strbuf_release(&sb);
	return ret;
}

static int choose_permissions(struct cli *cli, const struct init_options *o, bool *write)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	*write = o->permissions && !strcmp(o->permissions, "read,write");
	if (o->permissions)
		return 0;
	ret = ask(cli, "Permissions of the token (read or read,write) [read]: ", &sb);
	if (ret == CST_ERR_NOT_FOUND) {
		ret = 0; /* no terminal: read, the configuration's default */
	} else if (!ret && sb.len && strcmp(sb.buf, "read") && strcmp(sb.buf, "read,write")) {
		ret = cli_usage_error(cli, "init", "permissions are read or read,write");
	} else if (!ret) {
		*write = !strcmp(sb.buf ? sb.buf : "", "read,write");
	}
	strbuf_release(&sb);
	return ret;
}

/* The new [profile] section; every value in it was checked on its way in. */
static char *profile_text(const struct cst_profile *p, const char *api_key, const char *email,
			  char kind, const char *scope, bool write)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "[profile %s]\n", p->name);
	if (p->host_set)
		strbuf_addf(&sb, "host = %s\n", p->host);
	else
		strbuf_addf(&sb, "region = %s\n", p->region);
	if (p->ca_file)
		strbuf_addf(&sb, "ca_file = %s\n", p->ca_file);
	strbuf_addf(&sb, "api_key = %s\nemail = %s\n%s = %s\npermissions = %s\n", api_key, email,
		    kind == 'a' ? "aliases" : "branches", scope, write ? "read,write" : "read");
	return strbuf_detach(&sb, NULL);
}

/* The host-scoped git line; a bracketed IPv6 host is quoted for the shell. */
static void print_git_line(const char *host)
{
	const char *q = strchr(host, '[') ? "'" : "";

	fputs("cstoken: to have git ask cstoken for this host, run:\n", stderr);
	printf("git config --global %scredential.https://%s.helper%s cstoken\n", q, host, q);
}

/* A profile already in the file is replaced only with --force. */
static int check_existing(struct cli *cli, const char *name, bool force)
{
	size_t i;

	for (i = 0; i < cli->cfg.nprofiles && !force; i++)
		if (!strcmp(cli->cfg.profiles[i].name, name))
			return cli_usage_error(cli, "init",
					       "profile '%s' is already in '%s' (line %d); give "
					       "--force to replace it",
					       name, cli->cfg.path, cli->cfg.profiles[i].line);
	return 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct init_options o = {0};
	struct cst_profile p = {0};
	struct login_request rq = {.cmd = "init"};
	struct scope_choice sc = {0};
	struct cma_stack *stacks = NULL;
	struct strbuf scope = STRBUF_INIT;
	struct cma_client c;
	char *email = NULL, *authtoken = NULL, *api_key = NULL, *text = NULL;
	const char *name;
	size_t nstacks = 0;
	bool client = false, write = false;
	char kind = 0;
	int ret;

	ret = parse_options(cli, argc, argv, &o);
	if (!ret)
		ret = cli_config(cli);
	if (ret)
		goto out;
	name = cst_config_profile_name(&cli->cfg, cli->profile);
	if (!cst_profile_name_valid(name)) {
		ret = cli_usage_error(
		    cli, "init", "a profile name is up to 64 letters, digits, '.', '_' or '-'");
		goto out;
	}
	ret = check_existing(cli, name, o.force);
	if (!ret) {
		cst_profile_defaults(&p, name);
		ret = choose_host(cli, &o, &p);
	}
	if (!ret)
		ret = choose_email(cli, &o, p.host, &email);
	if (!ret)
		ret = cli_store(cli);
	if (ret)
		goto out;
	rq.email = email;
	rq.pw_stdin = o.pw_stdin;
	ret = login_session(cli, &p, &rq, &authtoken);
	if (ret)
		goto out;
	cma_client_init(&c, p.host, p.ca_file, cli->cfg.timeout);
	client = true;
	ret = cma_stacks_list(&c, authtoken, &stacks, &nstacks, &cli->err);
	if (!ret)
		ret = choose_stack(cli, &o, stacks, nstacks, &p, email, &api_key);
	if (!ret)
		ret = load_scope(cli, &c, api_key, authtoken, &sc);
	if (!ret)
		ret = choose_scope(cli, &o, &sc, &kind, &scope);
	if (!ret)
		ret = choose_permissions(cli, &o, &write);
	if (ret)
		goto out;
	text = profile_text(&p, api_key, email, kind, scope.buf, write);
	ret = cst_config_write_profile(cli->cfg.path, name, text, o.force, &cli->err);
	if (ret)
		goto out;
	fprintf(stderr, "cstoken: wrote [profile %s] to '%s'\n", name, cli->cfg.path);
	print_git_line(p.host);
out:
	if (client)
		cma_client_release(&c);
	cma_stack_array_free(stacks, nstacks);
	scope_release(&sc);
	strbuf_release(&scope);
	cst_profile_release(&p);
	free_secret(authtoken);
	free(email);
	free(api_key);
	free(text);
	return ret;
}
