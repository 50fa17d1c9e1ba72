# Minting policy and the token, exec and curl commands (end to end, against the emulator).
cst_shell_test(mint.get integration/mint.sh)
cst_shell_test(mint.concurrent integration/mint_concurrent.sh)
cst_shell_test(mint.refusals integration/mint_refusals.sh)
cst_shell_test(mint.keyring integration/mint_keyring.sh)
cst_shell_test(mint.token_cmds integration/token_cmds.sh)
cst_unit_test(test_mint unit/test_mint.c cst_mint)
cst_unit_test(test_lock_wait unit/test_lock_wait.c cst_mint)
