/* The cstoken program: shared state of one invocation and the command entry points. */
#ifndef CSTOKEN_CLI_H
#define CSTOKEN_CLI_H

#include <stdbool.h>

#include "cstoken/config.h"
#include "cstoken/error.h"
#include "cstoken/store.h"
#include "cstoken/util.h"

struct cli {
	const char *profile; /* -p/--profile, NULL when not given */
	struct cst_config cfg;
	bool cfg_loaded;
	struct cst_store *store;
	struct cst_error err; /* detail for main's one-line message */
};

/*
 * A command gets argv[0] = its name and its own options (global -v/-p removed).
 * It returns 0, a negative enum cst_err with cli->err set (main prints it and exits
 * 2 for CST_ERR_USAGE/CST_ERR_CONFIG, else 1), or a positive exit status when it has
 * already said everything itself.
 */
typedef int (*cli_cmd_fn)(struct cli *cli, int argc, char **argv);

/* Loads the configuration once (CST_ERR_CONFIG with detail). */
int cli_config(struct cli *cli);
/* Opens the configured store once (after cli_config). */
int cli_store(struct cli *cli);
/* The selected profile (after cli_config); never NULL for the default name. */
const struct cst_profile *cli_profile(struct cli *cli);
/* Records a usage error: "MSG; see 'cstoken CMD --help'". Returns CST_ERR_USAGE. */
int cli_usage_error(struct cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True when cmd's options hold -h/--help (see options_end); prints help for cmd. */
bool cli_wants_help(const char *cmd, int argc, char **argv);

/* cmd_credential.c */
int cmd_get(struct cli *cli, int argc, char **argv);
int cmd_store(struct cli *cli, int argc, char **argv);
int cmd_erase(struct cli *cli, int argc, char **argv);
/* cmd_login.c */
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);

/* What a login needs besides the profile; shared by login and init. */
struct login_request {
	const char *cmd; /* "login" or "init": the command a message tells to run again */
	char *email;	 /* never NULL */
	bool pw_stdin;	 /* the password comes on stdin, else from the terminal */
	const char *tfa; /* a two-factor code given, or NULL */
	bool sms;	 /* have the code sent by SMS */
};
/*
 * A session for (p->host, rq->email), after cli_store: a stored authtoken that still
 * works, else a login (password, two-factor code as needed) whose authtoken is stored.
 * *authtoken is set on success (caller frees with free_secret). A refused password names
 * the region (or host) it tried and says the account may live in another one.
 */
int login_session(struct cli *cli, const struct cst_profile *p, const struct login_request *rq,
		  char **authtoken);
/*
 * Asks on the terminal for the e-mail of the account on host: 0 with *email (caller
 * frees), CST_ERR_NOT_FOUND (cli->err untouched) when there is no terminal.
 */
int login_ask_email(struct cli *cli, const char *host, char **email);
/* cmd_init.c */
int cmd_init(struct cli *cli, int argc, char **argv);
/* cmd_token.c */
int cmd_token(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_curl(struct cli *cli, int argc, char **argv);
/* cmd_manage.c */
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_revoke(struct cli *cli, int argc, char **argv);
int cmd_rotate(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);

/* Help text of one command (usage line and options), from cli.c. */
const char *cli_help_text(const char *cmd);

#endif
