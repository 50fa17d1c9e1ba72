/* Stub: commands list, revoke, rotate, status. */
#include "cli.h"

int cmd_list(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'list' is not implemented yet");
}

int cmd_revoke(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'revoke' is not implemented yet");
}

int cmd_rotate(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'rotate' is not implemented yet");
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'status' is not implemented yet");
}

