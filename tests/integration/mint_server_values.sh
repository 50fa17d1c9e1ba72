#!/usr/bin/env bash
# Values the server chooses never reach a terminal or a shell command raw: a minted token
# value with an escape sequence is refused, not stored, and deleted on the server again; a
# uid that is not a plain uid is never pasted into the suggested revoke command.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup
mint_login

# --- a created token whose value holds "ESC [2J" ------------------------------------------
hostile_next() {
	emu_ctl POST /_emu/stacks "$(json_tool object api_key "$MINT_KEY" next_token $'cs\e[2Jdeadbeef')" \
		>/dev/null
}
for cmd in token curl; do
	hostile_next
	rc=0
	out=$(cstoken $cmd 2>"$CST_TMP/err") || rc=$?
	err=$(cat "$CST_TMP/err")
	assert_eq 1 "$rc" "$cmd: exit status"
	assert_eq "" "$out" "$cmd: nothing on stdout"
	assert_eq 1 "$(wc -l <<<"$err")" "$cmd: one line"
	assert_contains "$err" "cstoken: the server's answer to creating a token for profile 'default' lacks a usable uid or value" "$cmd: error"
	assert_contains "$err" "(cstoken deleted that token again)" "$cmd: error says it was deleted"
	assert_not_contains "$err" $'\e' "$cmd: no escape in the error"
	assert_not_contains "$err" "deadbeef" "$cmd: no token value in the error"
	[ ! -e "$MINT_STORE_FILE" ] || ! grep -q '"kind": *"token"' "$MINT_STORE_FILE" ||
		fail "$cmd: the hostile token was stored"
	assert_eq 0 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "$cmd: nothing left on the stack"
done
assert_eq 2 "$(token_posts)" "two tokens were created"
assert_eq 2 "$(emu_py /_emu/state "len(j['stacks']['$MINT_KEY']['deleted'])")" "and both deleted"
tok=$(cstoken token) || fail "a plain value is taken"
assert_eq "$tok" "$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")" "the minted token"
pass "a minted token with an escape sequence is refused, not stored, and deleted again"

# --- a full stack whose only token of ours has a uid with a quote ---------------------------
cstoken revoke >/dev/null 2>&1 || fail "revoke"
emu_ctl DELETE /_emu/requests >/dev/null
ours=$(mint_default_name)
quote_uid="blt'; touch $CST_TMP/pwned; '"
emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$ours" expires_on 2001-01-01 \
	uid "$quote_uid")" >/dev/null
for i in $(seq 1 9); do
	emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "ci deploy $i")" >/dev/null
done
rc=0
err=$(cstoken token 2>&1 >/dev/null) || rc=$?
assert_eq 1 "$rc" "full stack: exit status"
assert_eq 1 "$(wc -l <<<"$err")" "full stack: one line"
assert_contains "$err" "'$ours' (unprintable uid, expired)" "the token named without its uid"
assert_contains "$err" "delete one in the Contentstack web UI" "the fix without a command"
assert_not_contains "$err" "touch" "the uid is not shown"
assert_not_contains "$err" "--uid" "no revoke command"
pass "a uid with a quote is never pasted into a command"

# with a plain one of ours too, the command names that one
emu_ctl DELETE "/_emu/tokens/$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['name'] == 'ci deploy 1'][0]")" >/dev/null
plain=$(emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$ours" expires_on 2099-01-02)" |
	emu_json_get 'j["uid"]')
rc=0
err=$(cstoken token 2>&1 >/dev/null) || rc=$?
assert_eq 1 "$rc" "full stack with a plain uid: exit status"
assert_contains "$err" "'cstoken revoke -p default --uid $plain'" "the plain uid in the command"
assert_contains "$err" "(unprintable uid, expired)" "the other still unnamed"
assert_not_contains "$err" "touch" "the quoted uid is not shown"
[ ! -e "$CST_TMP/pwned" ] || fail "something ran the uid"
assert_eq 0 "$(token_posts)" "nothing created on the full stack"
pass "the suggested revoke command names only a plain uid"
