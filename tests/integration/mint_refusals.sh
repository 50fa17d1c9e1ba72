#!/usr/bin/env bash
# When minting must not happen or fails: not logged in, a stack at its token limit (foreign
# tokens never evicted), a server error on create (store unchanged), minting switched off.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup

# not logged in: git falls through to its next helper
rc=0
out=$(cred_get 2>"$CST_TMP/err") || rc=$?
assert_eq 0 "$rc" "get exit status when not logged in"
assert_eq "" "$out" "get output when not logged in"
assert_eq 1 "$(wc -l <"$CST_TMP/err")" "one line of hint"
assert_contains "$(cat "$CST_TMP/err")" "cstoken login -p default" "hint names the fix"
rc=0
out=$(cstoken token 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "token exit status when not logged in"
assert_eq "" "$out" "token output when not logged in"
assert_contains "$(cat "$CST_TMP/err")" "cstoken: not logged in" "token error"
assert_contains "$(cat "$CST_TMP/err")" "cstoken login -p default" "token error names the fix"
assert_eq 0 "$(token_posts)" "no token created"
pass "not logged in"

mint_login

# a full stack of someone else's tokens: refused, nothing created, nothing evicted
for i in $(seq 1 10); do
	emu_ctl POST /_emu/tokens "{\"api_key\": \"$MINT_KEY\", \"name\": \"ci deploy $i\"}" >/dev/null
done
foreign=$(emu_py /_emu/state "sorted(t['uid'] for t in $MINT_STATE_TOKENS)")
rc=0
out=$(cstoken token 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "token exit status on a full stack"
assert_eq "" "$out" "token output on a full stack"
err=$(cat "$CST_TMP/err")
assert_eq 1 "$(wc -l <<<"$err")" "one error line"
assert_contains "$err" "cstoken: stack '$MINT_KEY' has no free management token slot" "error"
assert_contains "$err" "none of them minted by cstoken" "error says none is ours"
rc=0
out=$(cred_get 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "get exit status on a full stack"
assert_eq "" "$out" "get output on a full stack"
assert_eq 0 "$(token_posts)" "no create request on a full stack"
assert_eq "$foreign" "$(emu_py /_emu/state "sorted(t['uid'] for t in $MINT_STATE_TOKENS)")" \
	"every foreign token still there"
assert_eq '[]' "$(emu_py /_emu/state "j['stacks']['$MINT_KEY']['evicted']")" "nothing evicted"
pass "full stack of foreign tokens refused"

# one of the ten is a live token of ours no profile stores (an expired one would be deleted):
# the error names it and the command freeing it
victim=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['uid']")
emu_ctl DELETE "/_emu/tokens/$victim" >/dev/null
name="$(mint_default_name) 2001-01-01 00:00:00 UTC"
ours=$(emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$name" expires_on 2099-01-01)" |
	emu_json_get 'j["uid"]')
rc=0
err=$(cstoken token 2>&1 >/dev/null) || rc=$?
assert_eq 1 "$rc" "exit status with a stale token of ours"
assert_contains "$err" "cstoken revoke -p default --uid $ours" "error names the revoke command"
assert_contains "$err" "'$name' (uid $ours)" "error names the token"
assert_eq 0 "$(token_posts)" "still nothing created"
cstoken revoke -p default --uid "$ours" >/dev/null 2>&1 || emu_ctl DELETE "/_emu/tokens/$ours" >/dev/null
tok=$(cstoken token) || fail "token after freeing a slot"
assert_eq 1 "$(token_posts)" "minted once a slot was free"
assert_eq 10 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "ten tokens"
assert_eq '[]' "$(emu_py /_emu/state "j['stacks']['$MINT_KEY']['evicted']")" "still nothing evicted"
pass "stale own token named; minting resumes when a slot is free"

# a 500 on create: a clear error, the store untouched, the old token not revoked
for uid in $(emu_py /_emu/state "' '.join(t['uid'] for t in $MINT_STATE_TOKENS if t['token'] != '$tok')"); do
	emu_ctl DELETE "/_emu/tokens/$uid" >/dev/null
done
cp "$MINT_STORE_FILE" "$CST_TMP/store.before"
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'branches = development'
emu_ctl POST /_emu/faults "{\"method\": \"POST\", \"path\": \"$MINT_TOKENS\", \"responses\": [{\"status\": 500}]}" >/dev/null
rc=0
out=$(cstoken token 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "exit status on a 500"
assert_eq "" "$out" "no output on a 500"
assert_eq 1 "$(wc -l <"$CST_TMP/err")" "one error line on a 500"
assert_contains "$(cat "$CST_TMP/err")" "cstoken: " "error prefix"
cmp -s "$CST_TMP/store.before" "$MINT_STORE_FILE" || fail "the store changed after a failed create"
assert_eq true "$(emu_py /_emu/state "'$tok' in [t['token'] for t in $MINT_STATE_TOKENS]")" \
	"old token not revoked after a failed create"
tok2=$(cstoken token) || fail "token after the fault cleared"
[ "$tok2" != "$tok" ] || fail "the old-scope token was handed out"
assert_eq false "$(emu_py /_emu/state "'$tok' in [t['token'] for t in $MINT_STATE_TOKENS]")" \
	"old token revoked once the new one is stored"
pass "server error on create"

# a failed renewal keeps handing out the stored token while it still works
emu_ctl POST /_emu/faults "{\"method\": \"POST\", \"path\": \"$MINT_TOKENS\", \"responses\": [{\"status\": 500}]}" >/dev/null
out=$(ftime '+29 days' cstoken token 2>"$CST_TMP/err") || fail "renewal failure lost the token"
assert_eq "$tok2" "$out" "stored token while renewal fails"
assert_contains "$(cat "$CST_TMP/err")" "warning: cannot renew" "renewal failure is reported"
pass "failed renewal falls back to the still-valid token"

# mint = no: the stored token only
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'branches = development' 'mint = no'
assert_eq "$tok2" "$(cstoken token)" "mint = no still answers the stored token"
posts=$(token_posts)
rc=0
out=$(ftime '+40 days' cstoken token 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "mint = no and an expired token"
assert_eq "" "$out" "nothing handed out"
assert_contains "$(cat "$CST_TMP/err")" "mint = no" "error says why"
assert_eq "$posts" "$(token_posts)" "mint = no never creates"
rc=0
out=$(cstoken token --no-mint -p default 2>&1) || rc=$?
assert_eq 0 "$rc" "--no-mint with a usable stored token"
pass "mint = no"

# a fixed lifetime date already past is a configuration error, before any request
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'lifetime = 2001-01-01'
rc=0
err=$(cstoken token 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "past lifetime date"
assert_contains "$err" "lifetime '2001-01-01'" "error names the date"
assert_eq "$posts" "$(token_posts)" "nothing created for a past date"
pass "past lifetime date refused"
