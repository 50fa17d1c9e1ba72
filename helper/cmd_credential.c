/* Stub: commands get, store, erase. */
#include "cli.h"

int cmd_get(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'get' is not implemented yet");
}

int cmd_store(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'store' is not implemented yet");
}

int cmd_erase(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cst_error_set(&cli->err, CST_ERR_USAGE, "'erase' is not implemented yet");
}

