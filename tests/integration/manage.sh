#!/usr/bin/env bash
# `cstoken list`, `rotate` and `revoke` against the emulator on the file store: what is shown
# (never a secret), what the server accepts afterwards, and what is left in the store.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'branches = main'
mint_login
export COLUMNS=300 # list's tables show every value whole (list_width.sh tests the narrow ones)

GIT_PW='hunter2-git-password'
cstoken token >"$CST_TMP/tok" || fail "cstoken token failed"
tok=$(cat "$CST_TMP/tok")
uid=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$tok'][0]")
authtoken=$(emu_py /_emu/state "j['users']['$MINT_EMAIL']['authtokens'][-1]")
printf 'protocol=https\nhost=git.example.com\nusername=bob\npassword=%s\n\n' "$GIT_PW" |
	cstoken store || fail "cstoken store failed"
foreign_json=$(emu_ctl POST /_emu/tokens "{\"api_key\": \"$MINT_KEY\", \"name\": \"ci deploy\"}")
foreign_uid=$(emu_json_get 'j["uid"]' <<<"$foreign_json")
foreign_tok=$(emu_json_get 'j["token"]' <<<"$foreign_json")
[ -n "$tok" ] && [ -n "$authtoken" ] && [ -n "$foreign_tok" ] || fail "setup: a secret is empty"

no_secret() { # TEXT WHAT
	assert_not_contains "$1" "$tok" "$2 (management token)"
	assert_not_contains "$1" "$authtoken" "$2 (authtoken)"
	assert_not_contains "$1" "$GIT_PW" "$2 (git password)"
	assert_not_contains "$1" "$foreign_tok" "$2 (foreign token)"
	assert_not_contains "$1" "$MINT_PW" "$2 (account password)"
}

# status code of a curl call to /v3/environments with a management token
env_status() { # TOKEN
	curl -q -sS -o /dev/null -w '%{http_code}' --noproxy '*' --cacert "$CST_EMU_CA" \
		-H "api_key: $MINT_KEY" -H "authorization: $1" "$CST_EMU_URL/v3/environments?limit=1"
}

# --- list: an aligned table with a header, one row per stored item
out=$(cstoken list 2>&1) || fail "list failed: $out"
no_secret "$out" "list"
assert_eq 4 "$(wc -l <<<"$out")" "list: header and three rows"
head=$(head -n1 <<<"$out")
for col in KIND PROFILE HOST STACK USER NAME UID EXPIRES SOURCE; do
	assert_contains "$head" "$col" "list header"
done
row=$(grep '^token ' <<<"$out") || fail "no token row: $out"
for want in default "$CST_EMU_HOST" "$MINT_KEY" "$uid" "$(mint_default_name)" minted; do
	assert_contains "$row" "$want" "token row"
done
exp=$(emu_py /_emu/state "[t['expires_on'] for t in $MINT_STATE_TOKENS if t['uid'] == '$uid'][0]")
assert_contains "$row" "${exp}T00:00:00Z" "token row expiry (ISO 8601 UTC)"
row=$(grep '^authtoken ' <<<"$out") || fail "no authtoken row: $out"
assert_contains "$row" "$MINT_EMAIL" "authtoken row"
assert_contains "$row" "login" "authtoken row source"
row=$(grep '^credential ' <<<"$out") || fail "no credential row: $out"
assert_contains "$row" "git.example.com" "credential row host"
assert_contains "$row" "bob" "credential row user"
assert_contains "$row" "never" "credential row expiry"
# columns are aligned: every row has UID's column start where the header has it
col=$(awk 'NR == 1 { print index($0, "UID") }' <<<"$out")
assert_eq "$uid" "$(grep '^token ' <<<"$out" | cut -c"$col"- | cut -d' ' -f1)" "UID column aligned"
pass "list"

# --- list --json: the documented shape
cstoken list --json >"$CST_TMP/list.json" || fail "list --json failed"
no_secret "$(cat "$CST_TMP/list.json")" "list --json"
assert_eq '["token", "authtoken", "credential"]' \
	"$(emu_json_get '[i["kind"] for i in j["items"]]' <"$CST_TMP/list.json")" "kinds in order"
assert_eq "[\"default\", \"$MINT_KEY\", \"$uid\", \"minted\", \"${exp}T00:00:00Z\"]" \
	"$(emu_json_get '[j["items"][0][k] for k in ("profile", "stack", "uid", "source", "expires")]' \
		<"$CST_TMP/list.json")" "token item"
assert_eq "$(date -u -d "$exp 00:00:00" +%s)" "$(emu_json_get 'j["items"][0]["expiry"]' <"$CST_TMP/list.json")" \
	"token item expiry"
assert_eq "[\"$MINT_EMAIL\", \"login\", null]" \
	"$(emu_json_get '[j["items"][1][k] for k in ("user", "source", "uid")]' <"$CST_TMP/list.json")" \
	"authtoken item"
assert_eq '["https", "git.example.com", "bob", "stored", "never"]' \
	"$(emu_json_get '[j["items"][2][k] for k in ("protocol", "host", "user", "source", "expires")]' \
		<"$CST_TMP/list.json")" "credential item"
assert_eq '["created", "expires", "expiry", "host", "kind", "name", "path", "profile", "protocol", "source", "stack", "uid", "user"]' \
	"$(emu_json_get 'sorted(set(k for i in j["items"] for k in i))' <"$CST_TMP/list.json")" \
	"every item has the same keys"
pass "list --json"

# --- list --remote: the stack's tokens, cstoken's own marked
out=$(cstoken list --remote 2>&1) || fail "list --remote failed: $out"
no_secret "$out" "list --remote"
assert_eq 3 "$(wc -l <<<"$out")" "list --remote: header and two tokens"
row=$(grep "$uid" <<<"$out") || fail "own token not listed: $out"
assert_contains "$row" "cstoken" "own token marked"
assert_contains "$row" "default" "own token's profile"
assert_contains "$row" "read branches=main" "own token's scope"
row=$(grep "$foreign_uid" <<<"$out") || fail "foreign token not listed: $out"
assert_contains "$row" "foreign" "foreign token marked"
assert_contains "$row" "ci deploy" "foreign token's name"
cstoken list --remote --json >"$CST_TMP/remote.json" || fail "list --remote --json failed"
no_secret "$(cat "$CST_TMP/remote.json")" "list --remote --json"
assert_eq '[true, "default"]' \
	"$(emu_json_get '[[t["cstoken"], t["stored_profile"]] for t in j["tokens"] if t["uid"] == "'"$uid"'"][0]' \
		<"$CST_TMP/remote.json")" "own token in --json"
assert_eq '[false, null]' \
	"$(emu_json_get '[[t["cstoken"], t["stored_profile"]] for t in j["tokens"] if t["uid"] == "'"$foreign_uid"'"][0]' \
		<"$CST_TMP/remote.json")" "foreign token in --json"
assert_eq "$MINT_KEY" "$(emu_json_get 'j["stack"]' <"$CST_TMP/remote.json")" "remote stack"
# an earlier mint of this profile (the template, then another mint time) nobody stores
own_name=$(emu_py /_emu/state "[t['name'] for t in $MINT_STATE_TOKENS if t['uid'] == '$uid'][0]")
earlier=$(emu_ctl POST /_emu/tokens "{\"api_key\": \"$MINT_KEY\",
	\"name\": \"${own_name% * * *} 2026-01-02 03:04:05 UTC\"}" | emu_json_get 'j["uid"]')
cstoken list --remote --json >"$CST_TMP/remote.json" || fail "list --remote --json failed"
assert_eq '[true, null]' \
	"$(emu_json_get '[[t["cstoken"], t["stored_profile"]] for t in j["tokens"] if t["uid"] == "'"$earlier"'"][0]' \
		<"$CST_TMP/remote.json")" "an unstored earlier mint is cstoken's"
emu_ctl DELETE "/_emu/tokens/$earlier" >/dev/null
pass "list --remote"

# --- rotate: the new token works, the old one is refused, the store holds the new one
assert_eq 200 "$(env_status "$tok")" "old token works before rotate"
err=$(cstoken rotate 2>&1) || fail "rotate failed: $err"
no_secret "$err" "rotate output"
new=$(cstoken token --no-mint) || fail "token after rotate"
[ -n "$new" ] && [ "$new" != "$tok" ] || fail "rotate stored no new token"
new_uid=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$new'][0]")
assert_contains "$err" "$new_uid" "rotate names the new uid"
assert_contains "$err" "$uid" "rotate names the old uid"
assert_eq 200 "$(env_status "$new")" "new token after rotate"
assert_eq 401 "$(env_status "$tok")" "old token after rotate"
assert_contains "$(cstoken list)" "$new_uid" "list after rotate"
assert_not_contains "$(cstoken list)" "$uid" "list after rotate"
pass "rotate"

# --- rotate when the old token cannot be deleted: the new one is stored, the rest is named
emu_ctl POST /_emu/faults '{"method": "DELETE", "path": "/v3/stacks/management_tokens/", "responses": [{"status": 403}]}' >/dev/null
rc=0
err=$(cstoken rotate 2>&1) || rc=$?
assert_eq 1 "$rc" "rotate with a failing delete"
assert_eq 1 "$(wc -l <<<"$err")" "one error line"
assert_contains "$err" "cstoken: " "rotate error prefix"
assert_contains "$err" "cstoken revoke -p default --uid $new_uid" "rotate names what is left"
third=$(cstoken token --no-mint) || fail "token after a half-failed rotate"
[ "$third" != "$new" ] || fail "the new token was not stored"
assert_eq 200 "$(env_status "$third")" "stored token after a half-failed rotate"
assert_eq 200 "$(env_status "$new")" "the old token is still valid, as the message says"
cstoken revoke --uid "$new_uid" 2>/dev/null || fail "revoke --uid of the left-over token"
assert_eq 401 "$(env_status "$new")" "left-over token revoked"
assert_eq 200 "$(env_status "$third")" "stored token untouched by revoke --uid of another"
pass "rotate with a failing delete"

# --- rotate when minting fails: the old token stays stored and working
emu_ctl POST /_emu/faults '{"method": "POST", "path": "/v3/stacks/management_tokens", "responses": [{"status": 403}]}' >/dev/null
assert_exit 1 "rotate with a failing create" cstoken rotate
assert_contains "$out" "still stored" "rotate says the old token is kept"
assert_eq "$third" "$(cstoken token --no-mint)" "the old token is still stored"
assert_eq 200 "$(env_status "$third")" "and still valid"
pass "rotate with a failing create"

# --- revoke: refused by the server and gone from the store
third_uid=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$third'][0]")
err=$(cstoken revoke 2>&1) || fail "revoke failed: $err"
no_secret "$err" "revoke output"
assert_contains "$err" "$third_uid" "revoke names the uid"
assert_eq 401 "$(env_status "$third")" "token after revoke"
assert_eq false "$(emu_py /_emu/state "'$third_uid' in [t['uid'] for t in $MINT_STATE_TOKENS]")" \
	"revoked on the server"
assert_eq 0 "$(cstoken list --json | emu_json_get 'len([i for i in j["items"] if i["kind"] == "token"])')" \
	"no token stored after revoke"
rc=0
err=$(cstoken token --no-mint 2>&1) || rc=$?
assert_eq 1 "$rc" "token --no-mint after revoke"
rc=0
err=$(cstoken revoke 2>&1) || rc=$?
assert_eq 1 "$rc" "revoke with nothing stored"
assert_contains "$err" "cstoken: no token stored for profile 'default'" "revoke with nothing stored"
pass "revoke"

# --- revoke --uid of a foreign token: refused without --force (asked on a terminal), and the
# message names it; a token the server already forgot is fine
emu_ctl DELETE /_emu/requests >/dev/null
rc=0
err=$(cstoken revoke --uid "$foreign_uid" 2>&1 </dev/null) || rc=$?
assert_eq 1 "$rc" "revoke --uid of a foreign token without --force"
assert_eq 1 "$(wc -l <<<"$err")" "one line for the refusal"
assert_contains "$err" "cstoken: token 'ci deploy' (uid $foreign_uid) on stack '$MINT_KEY' was not minted by cstoken, so nothing was deleted; add --force to delete it" \
	"the refusal names the token and the fix"
assert_eq 200 "$(env_status "$foreign_tok")" "foreign token still valid after the refusal"
assert_eq 0 "$(emu_py /_emu/requests "len([r for r in $MINT_REQS if r['method'] == 'DELETE'])")" \
	"no DELETE request without --force"
# on a terminal cstoken asks; anything but yes keeps the token
pty_revoke() { # ANSWER
	pty_dialog expect='which cstoken did not mint? [y/N] ' send="$1"$'\n' \
		-- cstoken revoke --uid "$foreign_uid"
}
out=$(pty_revoke n) || fail "revoke on a terminal: $out"
assert_contains "$out" "Delete token 'ci deploy' (uid $foreign_uid), which cstoken did not mint? [y/N]" "the question"
assert_contains "$out" "status=1" "no: exit status"
assert_contains "$out" "is not deleted" "no: says so"
assert_eq 200 "$(env_status "$foreign_tok")" "foreign token still valid after no"
pass "revoke --uid of a foreign token: nothing deleted without --force or a yes"
err=$(cstoken revoke --uid "$foreign_uid" --force 2>&1 </dev/null) || fail "revoke --uid --force failed: $err"
assert_contains "$err" "cstoken: revoked token 'ci deploy' (uid $foreign_uid, not minted by cstoken) on $CST_EMU_HOST" \
	"the message names what was deleted"
assert_eq 401 "$(env_status "$foreign_tok")" "foreign token after revoke --uid --force"
assert_eq '[]' "$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS]")" "stack empty"
cstoken revoke --uid "$foreign_uid" 2>/dev/null || fail "revoke --uid of a deleted token"
# the PAM module's call: a stored token revoked by uid leaves the store too
cstoken token >/dev/null || fail "mint again"
uid4=$(cstoken list --json | emu_json_get '[i["uid"] for i in j["items"] if i["kind"] == "token"][0]')
err=$(cstoken -p default revoke --uid "$uid4" 2>&1 </dev/null) || fail "revoke -p default --uid: $err"
assert_contains "$err" "cstoken: revoked token '$(mint_default_name) " "a token of cstoken's needs no --force"
assert_eq 0 "$(cstoken list --json | emu_json_get 'len([i for i in j["items"] if i["kind"] == "token"])')" \
	"revoke --uid removes the stored item"
# on a terminal, yes deletes a foreign token
foreign2=$(emu_ctl POST /_emu/tokens "{\"api_key\": \"$MINT_KEY\", \"name\": \"ci deploy\"}" | emu_json_get 'j["uid"]')
foreign_uid=$foreign2
out=$(pty_revoke yes) || fail "revoke on a terminal, yes: $out"
assert_contains "$out" "status=0" "yes: exit status"
assert_contains "$out" "revoked token 'ci deploy' (uid $foreign2, not minted by cstoken)" "yes: names it"
assert_eq false "$(emu_py /_emu/state "'$foreign2' in [t['uid'] for t in $MINT_STATE_TOKENS]")" \
	"yes: deleted on the server"
pass "revoke --uid"

# --- not logged in: a clear error with the fix, nothing removed
cstoken token >/dev/null || fail "mint again"
cstoken logout 2>/dev/null || fail "logout"
for cmd in revoke rotate "list --remote"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(cstoken $cmd 2>&1 >/dev/null) || rc=$?
	assert_eq 1 "$rc" "'cstoken $cmd' when logged out"
	assert_eq 1 "$(wc -l <<<"$err")" "one line for 'cstoken $cmd'"
	assert_contains "$err" "cstoken login -p default" "'cstoken $cmd' names the fix"
done
assert_eq 1 "$(cstoken list --json | emu_json_get 'len([i for i in j["items"] if i["kind"] == "token"])')" \
	"logged-out revoke leaves the stored token"
pass "not logged in"

# --- usage errors
for cmd in "list --bogus" "list extra" "revoke --uid" "revoke --uid=" "revoke extra" \
	"revoke --bogus" "rotate --bogus" "rotate extra" "status --bogus" "status extra"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(cstoken $cmd 2>&1 >/dev/null) || rc=$?
	assert_eq 2 "$rc" "exit status of 'cstoken $cmd'"
	assert_eq 1 "$(wc -l <<<"$err")" "one line for 'cstoken $cmd'"
	assert_contains "$err" "cstoken: " "'cstoken $cmd' error"
done
rc=0
err=$(cstoken revoke -p nosuch 2>&1) || rc=$?
assert_eq 2 "$rc" "revoke with an unknown profile"
assert_contains "$err" "cstoken: profile 'nosuch'" "unknown profile error"
for cmd in list revoke rotate status; do
	out=$(cstoken "$cmd" --help) || fail "$cmd --help"
	assert_contains "$out" "usage: cstoken $cmd" "$cmd --help"
done
pass "usage errors"
