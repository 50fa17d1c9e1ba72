# The local HTTPS emulator of the Contentstack CMA (tests/emulator/cma_emulator.py), driven with
# the real curl program.
cst_shell_test(emulator.selftest integration/emulator_selftest.sh)
