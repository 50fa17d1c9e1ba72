#!/usr/bin/env bash
# A stack whose real limit is lower than stack_token_limit: creating a token makes the server
# silently evict the oldest. cstoken lists again after creating, names the evicted token (name,
# uid) on stderr, and `status` reports it later.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'stack_token_limit = 4'
emu_stack "$MINT_KEY" "$MINT_EMAIL" 3 # the emulator evicts the oldest at 3
mint_login

uids=()
for n in ci-one ci-two ci-three; do
	uids+=("$(emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$n")" | emu_json_get 'j["uid"]')")
done
assert_eq 3 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "foreign tokens on the stack"

rc=0
tok=$(cstoken token 2>"$CST_TMP/err") || rc=$?
err=$(cat "$CST_TMP/err")
assert_eq 0 "$rc" "token into a stack the server thinks full ($err)"
assert_eq "$tok" "$(emu_py /_emu/state "$MINT_STATE_TOKENS[-1]['token']")" "the new token is printed"
assert_eq "[\"${uids[0]}\"]" "$(emu_py /_emu/state "j['stacks']['$MINT_KEY']['evicted']")" \
	"the emulator evicted the oldest"
assert_eq 1 "$(wc -l <<<"$err")" "one line on stderr"
assert_contains "$err" "cstoken: warning: stack '$MINT_KEY' was full, so Contentstack silently expired token 'ci-one' (uid ${uids[0]})" \
	"the evicted token is named"
assert_contains "$err" "set stack_token_limit = 3 in [profile default]" "the fix is named"
assert_not_contains "$err" "ci-two" "tokens still there are not named"
pass "an eviction by the server is reported on stderr"

rc=0
out=$(cstoken status 2>/dev/null) || rc=$?
assert_eq 0 "$rc" "status"
assert_contains "$out" "evicted  'ci-one' (uid ${uids[0]}): Contentstack expired it to make room when cstoken minted" \
	"status names the evicted token"
assert_eq 1 "$(grep -c '^evicted' <<<"$out")" "one eviction in status"
pass "status reports the eviction later"

# at stack_token_limit cstoken refuses instead of letting the server evict another
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'stack_token_limit = 3' 'branches = development'
rc=0
err=$(cstoken token 2>&1 >/dev/null) || rc=$?
assert_eq 1 "$rc" "token into a full stack"
assert_contains "$err" "has no free management token slot (3 in use)" "the refusal"
assert_eq "[\"${uids[0]}\"]" "$(emu_py /_emu/state "j['stacks']['$MINT_KEY']['evicted']")" \
	"nothing more evicted"
pass "stack_token_limit = 3 refuses at 3 tokens"
