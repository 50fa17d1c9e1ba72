# The command line itself: help, suggestions for typos, shell completion.
cst_shell_test(cli.help integration/cli_help.sh)
cst_shell_test(cli.completion_shells integration/completion_shells.sh)
cst_shell_test(cli.demo integration/demo.sh)
# --help on every command, options on either side of it, usage and configuration errors
cst_shell_test(cli.errors integration/cli_errors.sh)
