#!/usr/bin/env bash
# The store contract (tests/unit/test_store_contract.c) on one backend, in a throwaway
# sandbox. CST_CONTRACT_BACKEND names the backend; its hook contract_BACKEND prepares it and
# runs the command it is given with cstoken configured for that store (CSTOKEN_STORE set to
# the store kind, and whatever else the backend needs). A new backend is a hook here and a
# cst_store_contract line in tests/store_contract.cmake.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

suite=$CSTOKEN_BIN_DIR/test_store_contract
[ -x "$suite" ] || fail "build test_store_contract first"
backend=${CST_CONTRACT_BACKEND:?set CST_CONTRACT_BACKEND (see tests/store_contract.cmake)}

# the private file under the sandbox's XDG_DATA_HOME
contract_file() {
	CSTOKEN_STORE=file "$@"
}

# a real gnome-keyring in a private D-Bus session
contract_keyring() {
	CSTOKEN_STORE=secret-service in_keyring "$@"
}

declare -F "contract_$backend" >/dev/null || fail "no setup hook contract_$backend"
export CST_CONTRACT_SANDBOX=1
"contract_$backend" "$suite" || fail "store contract on $backend"
pass "store contract on $backend"
