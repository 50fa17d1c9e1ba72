#!/usr/bin/env bash
# A mint that takes longer than the claim's lease (etcd_claim_ttl): the holder keeps its
# claim alive while it works, so another member waits for it instead of taking over, the
# token is created once, published, and nothing is revoked.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"

deletes() {
	emu_py /_emu/requests "len([r for r in $MINT_REQS if r['method'] == 'DELETE' and r['path'].startswith('$MINT_TOKENS/')])"
}

shared_setup
machine a
machine b
login_on a
login_on b

# the create is held for more than two of the claim's TTLs (etcd_claim_ttl = 3s)
mint_held a 7
# b comes while a's create is in flight: it finds the claim and waits for a
out_b=$(on b cstoken token 2>"$CST_TMP/b.err") || fail "the waiting member failed: $(cat "$CST_TMP/b.err")"
wait $minter || fail "the minter failed: $(cat "$CST_TMP/a.err")"
out_a=$(cat "$CST_TMP/a.out")

assert_eq 1 "$(token_posts)" "token creations"
assert_eq 0 "$(deletes)" "tokens deleted"
assert_eq 1 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "tokens on the stack"
assert_eq "$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")" "$out_a" "the minter's token"
assert_eq "$out_a" "$out_b" "the waiting member's token"
assert_contains "$(etcd_value)" "\"token\":\"$out_a\"" "the published token"
assert_eq "" "$(cat "$CST_TMP/a.err")" "the minter's stderr"
pass "a mint longer than the claim's TTL keeps its claim: one token, published, none revoked"
