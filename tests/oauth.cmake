# OAuth logins (login --oauth, auth = oauth) against the emulator's developer hub.
cst_shell_test(oauth.login integration/oauth_login.sh)
cst_shell_test(oauth.refusals integration/oauth_refusals.sh)
cst_shell_test(oauth.tty integration/oauth_tty.sh)
cst_shell_test(oauth.refresh integration/oauth_refresh.sh)
cst_shell_test(oauth.manage integration/oauth_manage.sh)
cst_shell_test(oauth.hygiene integration/oauth_hygiene.sh)
