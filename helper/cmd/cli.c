/* main: global options, dispatch by table, and the only place that picks an exit status. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cstoken/util.h"

#ifndef CSTOKEN_VERSION
#define CSTOKEN_VERSION "0.0.0"
#endif

struct command {
	const char *name;
	cli_cmd_fn fn;
	const char *help;
};

static const struct command commands[] = {
    {"get", cmd_get,
     "usage: cstoken get\n"
     "Answers a git credential request read from stdin (git-credential(1)).\n"},
    {"store", cmd_store,
     "usage: cstoken store\n"
     "Stores the credential read from stdin; an unchanged one writes nothing.\n"},
    {"erase", cmd_erase,
     "usage: cstoken erase\n"
     "Removes stored credentials matching the request read from stdin.\n"},
    {"init", cmd_init,
     "usage: cstoken init [-p PROFILE] [--region R | --host H [--ca-file F]]\n"
     "                    [--email E] [--stack NAME|API_KEY]\n"
     "                    [--branches B,... | --aliases A,...]\n"
     "                    [--permissions read|read,write] [--password-stdin] [--force]\n"
     "First-run setup: logs in, lists your stacks (marking those where you may create\n"
     "tokens) and the chosen stack's branches and aliases, writes the profile to the\n"
     "config file and prints the git line to use. On a terminal it asks for what the\n"
     "options do not give; without one, a missing region, e-mail or stack is an error.\n"
     "  --region R         na, eu, au, azure-na, azure-eu, gcp-na or gcp-eu\n"
     "  --host H           a CMA host[:port] instead of a region\n"
     "  --ca-file F        extra trusted certificates for --host\n"
     "  --email E          account e-mail\n"
     "  --stack S          the stack, by name or API key\n"
     "  --branches B,...   scope the token to these branches (default: main)\n"
     "  --aliases A,...    or to these branch aliases\n"
     "  --permissions P    read (default) or read,write\n"
     "  --password-stdin   read the password from stdin instead of the terminal\n"
     "  --force            replace the profile when it is already in the config file\n"},
    {"login", cmd_login,
     "usage: cstoken login [-p PROFILE] [--email EMAIL] [--password-stdin]\n"
     "                     [--tfa-token CODE | --sms]\n"
     "       cstoken login --etcd [-p PROFILE] [--password-stdin]\n"
     "       cstoken login [-p PROFILE] --oauth\n"
     "Logs in to Contentstack and stores the session's authtoken.\n"
     "  --oauth            log in in a browser (OAuth, for SSO organisations; also\n"
     "                     'auth = oauth' in the profile): the page's address is\n"
     "                     printed, opened with $BROWSER or xdg-open, and the address\n"
     "                     the browser ends up at may be pasted on the terminal\n"
     "  --etcd             instead, check the password of the profile's etcd_user\n"
     "                     with its shared store and keep it in the local store\n"
     "  --email EMAIL      account e-mail (default: the profile's email)\n"
     "  --password-stdin   read the password from stdin instead of the terminal\n"
     "  --tfa-token CODE   two-factor code (else asked for, or computed from\n"
     "                     CONTENTSTACK_MFA_SECRET)\n"
     "  --sms              have the two-factor code sent by SMS, then ask for it\n"},
    {"logout", cmd_logout,
     "usage: cstoken logout [-p PROFILE]\n"
     "Ends the Contentstack session (revokes an OAuth session's authorization) and\n"
     "forgets it.\n"},
    {"token", cmd_token,
     "usage: cstoken token [-p PROFILE] [--min-ttl D] [--no-mint] [--porcelain]\n"
     "Prints the profile's management token, minting one if needed.\n"
     "  --min-ttl D        the token must stay valid for D (30m, 2h, 1d): renew a\n"
     "                     stored one that would not, or fail\n"
     "  --no-mint          never mint; fail when nothing usable is stored\n"
     "  --porcelain        print api_key=, token=, uid=, expiry=, minted= lines\n"},
    {"exec", cmd_exec,
     "usage: cstoken exec [-p PROFILE] [--min-ttl D] [--env NAME=FIELD]...\n"
     "                    -- COMMAND [ARG...]\n"
     "Runs COMMAND with CONTENTSTACK_MANAGEMENT_TOKEN, CONTENTSTACK_API_KEY,\n"
     "CONTENTSTACK_API_HOST, CONTENTSTACK_REGION (when known) and CONTENTSTACK_BRANCH\n"
     "(for a one-branch or one-alias scope) set.\n"
     "  --min-ttl D        the token must stay valid for D (30m, 2h, 1d)\n"
     "  --env NAME=FIELD   also set NAME to FIELD: token, api_key, host, url\n"
     "                     (https://HOST), region or branch; e.g. TOKEN=token\n"},
    {"curl", cmd_curl,
     "usage: cstoken curl [-p PROFILE] [--min-ttl D]\n"
     "Prints a curl config with the api_key, authorization and (for a one-branch or\n"
     "one-alias scope) branch headers:\n"
     "  curl -K <(cstoken curl) https://HOST/v3/content_types\n"
     "  --min-ttl D        the token must stay valid for D (30m, 2h, 1d)\n"},
    {"list", cmd_list,
     "usage: cstoken list [-p PROFILE] [--remote] [--json]\n"
     "Lists stored items (tokens, sessions, git credentials) without secrets.\n"
     "  --remote           list the profile's stack's tokens on the server instead,\n"
     "                     marking cstoken's own and the shared one (needs 'cstoken\n"
     "                     login')\n"
     "  --json             machine-readable output, see cstoken(1)\n"},
    {"revoke", cmd_revoke,
     "usage: cstoken revoke [-p PROFILE] [--uid UID] [--force]\n"
     "Deletes the profile's token on the server and in the store; with shared = etcd,\n"
     "the shared token, for everyone.\n"
     "  --uid UID          delete token UID of the profile's stack instead\n"
     "  --force            delete it even when cstoken did not mint it (on a terminal,\n"
     "                     cstoken asks instead)\n"},
    {"rotate", cmd_rotate,
     "usage: cstoken rotate [-p PROFILE]\n"
     "Mints a new token, stores it, then deletes the old one on the server; with\n"
     "shared = etcd, for everyone: the old one goes once shared_cache has passed.\n"},
    {"status", cmd_status,
     "usage: cstoken status [-p PROFILE]\n"
     "Shows the store, configuration, login state and token expiry; asks the server\n"
     "whether the api_key names a stack you belong to and whether you may create\n"
     "tokens there (owner or admin); names cstoken's own expired or replaced tokens\n"
     "on the stack, the profile's items in the store not in use, a locked keyring,\n"
     "the shared store's endpoints and who minted the shared token, and whether git\n"
     "uses cstoken for the host. Exits 1 when something needs\n"
     "attention, naming the command that fixes it.\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char main_help[] =
    "usage: cstoken [-v] [-p PROFILE] COMMAND [ARGS]\n"
    "\n"
    "Hands Contentstack management tokens to git, curl and scripts.\n"
    "\n"
    "git credential helper:\n"
    "  get, store, erase  answer git's credential protocol on stdin\n"
    "\n"
    "commands:\n"
    "  init               first-run setup: log in, pick a stack, write a profile\n"
    "  login              log in (--oauth: in a browser) and store the session\n"
    "  logout             end the session and forget the authtoken\n"
    "  token              print the profile's management token\n"
    "  exec -- CMD        run CMD with the token in its environment\n"
    "  curl               print a curl config carrying the token\n"
    "  list               list stored items (no secrets)\n"
    "  revoke             delete the token on the server and in the store\n"
    "  rotate             replace the token by a new one\n"
    "  status             show store, configuration, login and token state\n"
    "  help [COMMAND]     this help, or the help of COMMAND\n"
    "\n"
    "options:\n"
    "  -p, --profile P    use profile P (default: $CSTOKEN_PROFILE, default_profile)\n"
    "  -v, --verbose      diagnostics on stderr, secrets redacted\n"
    "  -h, --help         this help; 'cstoken help COMMAND' for a command\n"
    "  --version          print the version\n"
    "\n"
    "See cstoken(1) and cstoken.conf(5).\n";

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "unknown command 'x'", with the command it most likely is a typo of. */
static int unknown_command(struct cli *cli, const char *name)
{
	struct cst_nearest n;
	size_t i;

	cst_nearest_init(&n, name);
	for (i = 0; i < NCOMMANDS; i++)
		cst_nearest_add(&n, commands[i].name);
	cst_nearest_add(&n, "help");
	cst_nearest_add(&n, "version");
	if (n.best)
		return cli_usage_error(cli, NULL, "unknown command '%s' (did you mean '%s'?)", name,
				       n.best);
	return cli_usage_error(cli, NULL, "unknown command '%s'", name);
}

/* cstoken help [COMMAND] */
static int help(struct cli *cli, int argc, char **argv)
{
	const struct command *c;

	if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
		fputs(main_help, stdout);
		return 0;
	}
	if (argc > 3)
		return cli_usage_error(cli, NULL, "help takes one command name");
	c = find_command(argv[2]);
	if (!c)
		return unknown_command(cli, argv[2]);
	fputs(c->help, stdout);
	return 0;
}

const char *cli_help_text(const char *cmd)
{
	const struct command *c = find_command(cmd);

	return c ? c->help : main_help;
}

/* Options whose value is the next argument and may look like exec's COMMAND. */
static bool takes_value(const char *a)
{
	return !strcmp(a, "--env") || !strcmp(a, "--min-ttl");
}

/*
 * Where a command's own options end: at "--", and for exec also at its COMMAND, whose
 * --help and --version are not ours.
 */
static int options_end(const char *cmd, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--") || (!strcmp(cmd, "exec") && argv[i][0] != '-'))
			break;
		if (takes_value(argv[i]) && i + 1 < argc)
			i++;
	}
	return i;
}

/* Does argv ask for option (one of two spellings; b may be NULL) among cmd's options? */
static bool asks_for(const char *cmd, int argc, char **argv, const char *a, const char *b)
{
	int i, end = options_end(cmd, argc, argv);

	for (i = 1; i < end; i++)
		if (!strcmp(argv[i], a) || (b && !strcmp(argv[i], b)))
			return true;
	return false;
}

bool cli_wants_help(const char *cmd, int argc, char **argv)
{
	if (!asks_for(cmd, argc, argv, "-h", "--help"))
		return false;
	fputs(cli_help_text(cmd), stdout);
	return true;
}

/*
 * "'--opt=VALUE'" becomes "'--opt=...'": a value given on the command line may be a
 * secret (someone trying --password=...), and usage errors end up in CI logs.
 */
static void redact_option_values(char *msg)
{
	char *q = msg, *eq, *end;

	while ((q = strstr(q, "'-"))) {
		end = strchrnul(q + 1, '\''); /* no quote: the message was cut short */
		eq = memchr(q, '=', (size_t)(end - q));
		if (eq && end - eq > 4) {
			memmove(eq + 4, end, strlen(end) + 1);
			end = eq + 4;
		}
		if (eq)
			memset(eq + 1, '.', (size_t)(end - eq - 1)); /* never longer than it was */
		if (!*end)
			return;
		q = end + 1;
	}
}

int cli_usage_error(struct cli *cli, const char *cmd, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redact_option_values(msg);
	if (cmd)
		return cst_error_set(&cli->err, CST_ERR_USAGE, "%s; see 'cstoken %s --help'", msg,
				     cmd);
	return cst_error_set(&cli->err, CST_ERR_USAGE, "%s; see 'cstoken --help'", msg);
}

int cli_config(struct cli *cli)
{
	int ret;

	if (cli->cfg_loaded)
		return 0;
	ret = cst_config_load(&cli->cfg, NULL, &cli->err);
	if (ret)
		return ret;
	cli->cfg_loaded = true;
	return 0;
}

int cli_store(struct cli *cli)
{
	struct cst_store_options opt = {0};
	int ret;

	if (cli->store)
		return 0;
	ret = cli_config(cli);
	if (ret)
		return ret;
	opt.kind = cli->cfg.store;
	opt.file = cli->cfg.store_file;
	return cst_store_open(&cli->store, &opt, &cli->err);
}

const struct cst_profile *cli_profile(struct cli *cli)
{
	return cst_config_profile(&cli->cfg, cli->profile);
}

/*
 * Takes -v/--verbose and -p/--profile out of argv wherever they stand before "--" (and,
 * for exec, before its COMMAND), so that "cstoken -p x token" and "cstoken token -p x"
 * mean the same.
 */
static int take_global_options(struct cli *cli, int *argcp, char **argv)
{
	int argc = *argcp, i, out = 1;
	const char *cmd = NULL;
	bool rest = false;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (rest) {
			argv[out++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			rest = true;
			argv[out++] = a;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cst_verbose++;
		} else if (!strcmp(a, "-p") || !strcmp(a, "--profile")) {
			if (i + 1 >= argc)
				return cli_usage_error(cli, NULL,
						       "option '%s' needs a profile name", a);
			cli->profile = argv[++i];
		} else if (!strncmp(a, "--profile=", 10)) {
			cli->profile = a + 10;
		} else if (!strncmp(a, "-p", 2) && a[2]) {
			cli->profile = a + 2;
		} else if (cmd && takes_value(a) && i + 1 < argc) {
			argv[out++] = a;
			argv[out++] = argv[++i];
		} else {
			argv[out++] = a;
			if (a[0] != '-' && !cmd)
				cmd = a;
			else if (a[0] != '-' && !strcmp(cmd, "exec"))
				rest = true; /* the options of exec's COMMAND are not ours */
		}
	}
	argv[out] = NULL;
	*argcp = out;
	if (cli->profile && !*cli->profile)
		return cli_usage_error(cli, NULL, "empty profile name");
	return 0;
}

static int exit_status(int ret)
{
	if (ret > 0)
		return ret;
	if (ret == 0)
		return 0;
	if (ret == CST_ERR_USAGE || ret == CST_ERR_CONFIG)
		return 2;
	return 1;
}

/* What the library says goes to stderr, one "cstoken:" line each. */
static void say_on_stderr(enum cst_say kind, const char *msg)
{
	static const char *const prefix[] = {
	    [CST_SAY_WARNING] = "warning: ", [CST_SAY_DEBUG] = "debug: ", [CST_SAY_PROGRESS] = ""};

	fprintf(stderr, "cstoken: %s%s\n", prefix[kind], msg);
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	const struct command *cmd;
	const char *name;
	int ret;

	cst_say_sink(say_on_stderr);
	secure_process();
	cst_json_wipe_on_free();
	ret = take_global_options(&cli, &argc, argv);
	if (ret)
		goto out;
	if (argc < 2) {
		ret = cst_error_set(&cli.err, CST_ERR_USAGE,
				    "no command given; see 'cstoken --help'");
		goto out;
	}
	name = argv[1];
	if (!strcmp(name, "help")) {
		ret = help(&cli, argc, argv);
		goto out;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
		fputs(main_help, stdout);
		goto out;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("cstoken %s\n", CSTOKEN_VERSION);
		goto out;
	}
	cmd = find_command(name);
	if (!cmd) {
		ret = unknown_command(&cli, name);
		goto out;
	}
	if (cli_wants_help(cmd->name, argc - 1, argv + 1))
		goto out;
	if (asks_for(cmd->name, argc - 1, argv + 1, "--version", NULL)) {
		printf("cstoken %s\n", CSTOKEN_VERSION);
		goto out;
	}
	ret = cmd->fn(&cli, argc - 1, argv + 1);
out:
	if (ret < 0)
		fprintf(stderr, "cstoken: %s\n", cst_error_msg(&cli.err, ret));
	if (fflush(stdout) || ferror(stdout)) {
		if (!ret)
			fputs("cstoken: cannot write to stdout\n", stderr);
		if (!ret)
			ret = CST_ERR_SYSTEM;
	}
	cst_store_close(cli.store);
	if (cli.cfg_loaded)
		cst_config_release(&cli.cfg);
	return exit_status(ret);
}
