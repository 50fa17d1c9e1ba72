#!/usr/bin/env bash
# The minter is killed (SIGKILL) while its token is being created, before it can publish:
# its claim expires with its lease, another member takes over and mints, the dead
# member's token is revoked, and only one token is ever published.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"

tokens_are() { [ "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" = "$1" ]; }

shared_setup
machine a
machine b
login_on a
login_on b

# the create is held in the emulator until the kill has landed
mint_held a
kill -9 $minter
wait $minter 2>/dev/null || true
mint_release
assert_eq "" "$(cat "$CST_TMP/a.out")" "the killed minter's output"
# the emulator finishes the create for nobody: the orphan is on the stack
wait_for tokens_are 1
orphan=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['uid']")
assert_eq "" "$(etcd_value)" "published by the killed minter"

# once its claim has expired, status reports the mint the dead member left
dead_reported() { on b cstoken status 2>/dev/null | grep -q "died while minting"; }
wait_for dead_reported
pass "status reports a member that died while minting"

out=$(on b cstoken token 2>"$CST_TMP/b.err") || fail "the next member failed: $(cat "$CST_TMP/b.err")"
assert_eq 2 "$(token_posts)" "token creations"
assert_contains "$(cat "$CST_TMP/b.err")" "$orphan" "the orphan named"
assert_contains "$(cat "$CST_TMP/b.err")" "revoked" "the orphan revoked"
assert_eq 1 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "tokens left on the stack"
assert_eq "$out" "$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")" "the token left"
assert_contains "$(etcd_value)" "\"token\":\"$out\"" "the published token"
assert_eq 1 "$(emu_py /_emu/requests "len([r for r in $MINT_REQS if r['method'] == 'DELETE' and r['path'] == '$MINT_TOKENS/$orphan'])")" "deletes of the orphan"
pass "a minter killed before publishing: another mints, its orphan is revoked"

# the killed member reads the published one
out_a=$(on a cstoken token 2>"$CST_TMP/a2.err") || fail "a after the kill: $(cat "$CST_TMP/a2.err")"
assert_eq "$out" "$out_a" "token of the killed member's machine"
assert_eq 2 "$(token_posts)" "token creations after all"
pass "never two published tokens"
