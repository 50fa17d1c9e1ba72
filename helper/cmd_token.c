/* Stub: commands token, exec, curl. */
#include "cli.h"

int cmd_token(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'token' is not implemented yet");
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'exec' is not implemented yet");
}

int cmd_curl(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'curl' is not implemented yet");
}

