# cstoken init: first-run setup against the emulator (helper/cmd/cmd_init.c).
cst_shell_test(init.flags integration/init.sh)
cst_shell_test(init.tty integration/init_tty.sh)
cst_unit_test(test_config_write unit/test_config_write.c cst_config)
