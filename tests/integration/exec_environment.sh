#!/usr/bin/env bash
# exec's environment follows the profile, never the caller: CONTENTSTACK_BRANCH only for a
# one-branch or one-alias scope (an inherited one is replaced or removed), the token only in
# the environment.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'aliases = deploy'
mint_login
export CONTENTSTACK_BRANCH=stale-from-the-caller
out=$(cstoken exec -- env) || fail "exec env"
tok=$(cstoken token) || fail "token"
assert_contains "$out" "CONTENTSTACK_MANAGEMENT_TOKEN=$tok" "token in the environment"
assert_contains "$out" "CONTENTSTACK_API_KEY=$MINT_KEY" "api key in the environment"
assert_contains "$out" "CONTENTSTACK_BRANCH=deploy" "the scope's one alias"
assert_not_contains "$out" "stale-from-the-caller" "the caller's branch replaced"
pass "a one-alias scope sets CONTENTSTACK_BRANCH, replacing an inherited one"

emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'aliases = deploy, staging'
emu_ctl POST /_emu/stacks "{\"api_key\": \"$MINT_KEY\", \"aliases\": {\"deploy\": \"main\", \"staging\": \"development\"}}" >/dev/null
out=$(cstoken exec -- env) || fail "exec env with two aliases"
assert_not_contains "$out" "CONTENTSTACK_BRANCH=" "no branch for a two-alias scope"
pass "an inherited CONTENTSTACK_BRANCH does not pass for a two-alias scope"

emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'branches = development'
out=$(cstoken exec -- env) || fail "exec env with one branch"
assert_contains "$out" "CONTENTSTACK_BRANCH=development" "the profile's one branch"
assert_not_contains "$out" "stale-from-the-caller" "the caller's branch replaced"
pass "a one-branch scope sets CONTENTSTACK_BRANCH"

rc=0
cstoken exec -- /nonexistent/cmd 2>"$CST_TMP/err" || rc=$?
assert_eq 127 "$rc" "exit status of a missing command"
assert_eq 1 "$(wc -l <"$CST_TMP/err")" "one error line"
assert_contains "$(cat "$CST_TMP/err")" "cstoken: cannot run '/nonexistent/cmd'" "error names it"
pass "a command that cannot run"

# A token stored by hand (no scope fingerprint: cstoken did not mint it) is replaced by a
# minted one, but never revoked: it is somebody else's.
cstoken revoke >/dev/null 2>&1 || fail "revoke the minted token"
hand=$(emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "pasted by hand")")
hand_uid=$(emu_json_get 'j["uid"]' <<<"$hand")
hand_tok=$(emu_json_get 'j["token"]' <<<"$hand")
store_file add "$MINT_STORE_FILE" kind=token profile=default "host=$CST_EMU_HOST" \
	"api_key=$MINT_KEY" "uid=$hand_uid" "name=pasted by hand" "secret=$hand_tok"
new=$(cstoken token) || fail "token over a hand-stored one"
[ "$new" != "$hand_tok" ] || fail "the hand-stored token has no fingerprint and must be replaced"
assert_eq true "$(emu_py /_emu/state "'$hand_uid' in [t['uid'] for t in $MINT_STATE_TOKENS]")" \
	"the hand-stored token is still live on the server"
pass "a hand-stored token is replaced, never revoked"
