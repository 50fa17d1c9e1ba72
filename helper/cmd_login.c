/* Stub: commands login, logout. */
#include "cli.h"

int cmd_login(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'login' is not implemented yet");
}

int cmd_logout(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'logout' is not implemented yet");
}

