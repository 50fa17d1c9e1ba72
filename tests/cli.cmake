# The command line itself: help, suggestions for typos, shell completion.
cst_shell_test(cli.help integration/cli_help.sh)
