# list, revoke, rotate, status and bash completion (helper/cmd_manage.c, completion/).
cst_shell_test(manage.lifecycle integration/manage.sh)
cst_shell_test(manage.revoke_gone integration/revoke_gone.sh)
cst_shell_test(manage.status integration/manage_status.sh)
cst_shell_test(manage.status_host integration/status_host.sh)
cst_shell_test(manage.completion integration/manage_completion.sh)
cst_shell_test(manage.keyring integration/manage_keyring.sh)
cst_shell_test(manage.list_width integration/list_width.sh)
