#!/usr/bin/env bash
# Server-supplied text never reaches a terminal raw: token names and uids in `list --remote`,
# the stack-full refusal and its suggested revoke command, and a created token's uid. Also:
# the stack-full refusal suggests revoking a stale token of cstoken's, not the one in use.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup
mint_login

# no_controls WHAT FILE [json]: no C0 control but LF (and TAB in JSON), no DEL, no UTF-8 C1
# control (U+0080..U+009F), valid UTF-8
no_controls() {
	"$PYTHON" "$CSTOKEN_SRC/tests/lib/no_controls.py" "$1" "$2" ${3:+"$3"} || exit 1
}

# --- list --remote: hostile names shown filtered, the JSON exact -------------------------------
json_name() { json_tool object api_key "$1" name "$2"; }
emu_ctl POST /_emu/tokens "$(json_name "$MINT_KEY" $'esc \e[31mred\e]0;title\a')" >/dev/null
emu_ctl POST /_emu/tokens "$(json_name "$MINT_KEY" $'c1 \u009b31m csi')" >/dev/null
emu_ctl POST /_emu/tokens "$(json_name "$MINT_KEY" 'café déploiement')" >/dev/null
COLUMNS=300 cstoken list --remote >"$CST_TMP/remote.txt" 2>&1 || fail "list --remote: $(cat "$CST_TMP/remote.txt")"
no_controls "list --remote" "$CST_TMP/remote.txt"
out=$(cat "$CST_TMP/remote.txt")
assert_contains "$out" "esc ?[31mred?]0;title?" "escape sequence shown inert"
assert_contains "$out" "c1 ?31m csi" "C1 CSI shown inert"
assert_contains "$out" "café déploiement" "printable UTF-8 kept"
cstoken list --remote --json >"$CST_TMP/remote.json" || fail "list --remote --json"
no_controls "list --remote --json" "$CST_TMP/remote.json" json
assert_eq 1 "$(emu_json_get "len([t for t in j['tokens'] if t['name'] == 'c1 \u009b31m csi'])" <"$CST_TMP/remote.json")" \
	"--json carries the exact name, escaped"
pass "list --remote filters server text"
for uid in $(emu_py /_emu/state "' '.join(t['uid'] for t in $MINT_STATE_TOKENS)"); do
	emu_ctl DELETE "/_emu/tokens/$uid" >/dev/null
done

# --- a full stack whose only token of ours has a hostile uid -----------------------------------
ours=$(mint_default_name)
raw='{"tokens": ['
for i in $(seq 0 8); do
	raw+=$(printf '{"uid": "blt%016d", "name": "ci deploy %d", "expires_on": null}, ' "$i" "$i")
done
raw+="$(json_tool object uid $'blt\e]0;pwned\ax' name "$ours" expires_on 2001-01-01)]}"
emu_ctl POST /_emu/faults "$(json_tool fault GET "$MINT_TOKENS" 200 "$raw")" >/dev/null
rc=0
cstoken token >"$CST_TMP/out" 2>"$CST_TMP/err" || rc=$?
assert_eq 1 "$rc" "full stack: exit status"
assert_eq "" "$(cat "$CST_TMP/out")" "full stack: no token"
assert_eq 1 "$(wc -l <"$CST_TMP/err")" "full stack: one line"
no_controls "stack-full error" "$CST_TMP/err"
assert_contains "$(cat "$CST_TMP/err")" "(unprintable uid, expired)" "the hostile uid not shown"
assert_not_contains "$(cat "$CST_TMP/err")" "--uid" "no revoke command with a hostile uid"
assert_eq 0 "$(token_posts)" "full stack: nothing created"
pass "stack-full refusal filters the server's uid"

# --- a created token whose uid is not a uid: refused, not stored -------------------------------
emu_ctl DELETE /_emu/faults >/dev/null
cp "$MINT_STORE_FILE" "$CST_TMP/store.before"
raw='{"notice": "Management Token created successfully.", "token": {"uid": "blt\u001b[2Jx",
	"name": "n", "token": "cs0000feedface", "expires_on": null}}'
emu_ctl POST /_emu/faults "$(json_tool fault POST "$MINT_TOKENS" 200 "$raw")" >/dev/null
rc=0
cstoken token >"$CST_TMP/out" 2>"$CST_TMP/err" || rc=$?
assert_eq 1 "$rc" "hostile uid on create: exit status"
assert_eq "" "$(cat "$CST_TMP/out")" "hostile uid on create: no token handed out"
no_controls "create error" "$CST_TMP/err"
assert_not_contains "$(cat "$CST_TMP/err")" "cs0000feedface" "no secret in the error"
cmp -s "$CST_TMP/store.before" "$MINT_STORE_FILE" || fail "a token with a hostile uid was stored"
pass "a created token with a malformed uid is refused"

# --- renewal on a full stack: the suggestion names a stale token, not the one in use ----------
emu_ctl DELETE /_emu/faults >/dev/null
tok=$(cstoken token) || fail "first mint"
inuse=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$tok'][0]")
stale=$(emu_ctl POST /_emu/tokens "$(json_name "$MINT_KEY" "$ours")" | emu_json_get 'j["uid"]')
for i in $(seq 1 8); do
	emu_ctl POST /_emu/tokens "$(json_name "$MINT_KEY" "ci deploy $i")" >/dev/null
done
assert_eq 10 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "the stack is full"
out=$(ftime '+29 days' cstoken token 2>"$CST_TMP/err") || fail "renewal on a full stack lost the token"
assert_eq "$tok" "$out" "the stored token while the stack is full"
err=$(cat "$CST_TMP/err")
assert_contains "$err" "warning: cannot renew" "renewal failure reported"
assert_contains "$err" "revoke -p default --uid $stale'" "suggests the stale token"
assert_not_contains "$err" "--uid $inuse'" "never suggests the token in use"
assert_contains "$err" "(uid $inuse, still stored)" "the token in use is marked"
pass "stack-full suggestion prefers a stale token"
