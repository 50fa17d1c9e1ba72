#!/usr/bin/env bash
# Single flight: 16 concurrent `get`s for one profile on an empty store mint exactly one token,
# and every one of them answers with it.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup
mint_login

pids=()
for i in $(seq 1 16); do
	cred_get >"$CST_TMP/out.$i" 2>"$CST_TMP/err.$i" &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || fail "get $((i + 1)) failed: $(cat "$CST_TMP/err.$((i + 1))")"
done

assert_eq 1 "$(token_posts)" "token creations for 16 concurrent gets"
assert_eq 1 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "tokens on the stack"
tok=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")
for i in $(seq 1 16); do
	assert_eq "$tok" "$(value password <"$CST_TMP/out.$i")" "password answered to get $i"
done
pass "16 concurrent gets mint one token"

# the lock lives next to the store (not in the runtime directory), never readable by others
lock=$XDG_DATA_HOME/cstoken/mint-default.lock
[ -f "$lock" ] && [ ! -L "$lock" ] || fail "no lock file at $lock"
[ ! -e "$XDG_RUNTIME_DIR/cstoken" ] || fail "a lock in the runtime directory"
assert_eq 600 "$(stat -c %a "$lock")" "lock file mode"
assert_eq 700 "$(stat -c %a "$XDG_DATA_HOME/cstoken")" "lock directory mode"

# a lock file planted as a symlink is refused, not followed
rm -f "$lock"
ln -s "$CST_TMP/elsewhere" "$lock"
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'branches = development'
rc=0
err=$(cstoken token 2>&1 >/dev/null) || rc=$?
assert_eq 1 "$rc" "exit status with a symlinked lock"
assert_contains "$err" "mint-default.lock" "error names the lock file"
[ ! -e "$CST_TMP/elsewhere" ] || fail "the symlink was followed"
assert_eq 1 "$(token_posts)" "nothing minted without the lock"
pass "lock file hygiene"
