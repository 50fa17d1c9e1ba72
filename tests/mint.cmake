# Minting policy and the token, exec and curl commands (end to end, against the emulator).
cst_shell_test(mint.get integration/mint.sh)
cst_shell_test(mint.concurrent integration/mint_concurrent.sh)
cst_shell_test(mint.lock_env integration/mint_lock_env.sh)
cst_shell_test(mint.refusals integration/mint_refusals.sh)
cst_shell_test(mint.evicted integration/mint_evicted.sh)
cst_shell_test(mint.hygiene integration/mint_hygiene.sh)
cst_shell_test(mint.keyring integration/mint_keyring.sh)
cst_shell_test(mint.token_cmds integration/token_cmds.sh)
# exec's environment follows the profile, never the caller
cst_shell_test(exec.environment integration/exec_environment.sh)
cst_unit_test(test_mint unit/test_mint.c cst_mint cst_cma cst_digest cst_shared_etcd)
cst_shell_test(mint.server_values integration/mint_server_values.sh)
cst_shell_test(mint.min_ttl integration/token_min_ttl.sh)
cst_shell_test(mint.scope_v1 integration/mint_scope_v1.sh)
cst_unit_test(test_lock_wait unit/test_lock_wait.c cst_mint cst_cma cst_digest
              cst_shared_etcd)
