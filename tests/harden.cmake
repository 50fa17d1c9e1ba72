# Hardening: hostile input on the credential protocol, secret hygiene, hostile
# servers. The libFuzzer smoke runs live in fuzz/ (CSTOKEN_FUZZ=ON, label fuzz).
cst_shell_test(hostile.input integration/hostile_input.sh)
cst_shell_test(hygiene.secrets integration/hygiene.sh)
cst_shell_test(hostile.server integration/hostile_server.sh)
cst_shell_test(hostile.store integration/hostile_store.sh)
# server text kept off terminals: token names and uids, the stack-full refusal
cst_shell_test(hostile.server_text integration/hostile_server_text.sh)
