#!/usr/bin/env bash
# Minting through `cstoken get`: the request body, the answer, reuse, renewal by the clock,
# re-minting and revocation on a scope change, and real git receiving the token.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'lifetime = 30d' 'renew_before = 2d' 'permissions = read,write' 'notify = yes' \
	'description = ci token for {profile}' 'branches = main'
mint_login

day_after() { # the YYYY-MM-DD of the first 00:00 UTC at or after unix time $1
	date -u -d "@$((($1 + 86399) / 86400 * 86400))" +%F
}
before=$(day_after $(($(date +%s) + 30 * 86400)))
out=$(cred_get) || fail "first get failed"
after=$(day_after $(($(date +%s) + 30 * 86400)))
assert_eq 1 "$(token_posts)" "first get mints one token"

# the exact request body
body=$(emu_py /_emu/requests "[r['body'] for r in $MINT_REQS if r['method'] == 'POST' and r['path'] == '$MINT_TOKENS'][0]")
# field EXPR: EXPR (JSON) of the request's token, as j
field() { printf '%s' "$body" | json_tool dump 'j["token"]' | json_tool dump "$1"; }
# the template's name, then the UTC time of the mint: renewals differ in the web UI
name=$(field 'j["name"]')
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC'
[[ "$name" == "\"$(mint_default_name) "* && "$name" =~ \ $stamp\"$ ]] || fail "token name: $name"
# name and description are templates
assert_eq '"ci token for default"' "$(field 'j["description"]')" "description"
assert_eq 'true' "$(field 'j["is_email_notification_enabled"]')" "notify"
exp=$(field 'j["expires_on"]')
[ "$exp" = "\"$before\"" ] || [ "$exp" = "\"$after\"" ] || fail "expires_on: expected $before, got $exp"
assert_eq '[{"read": true, "write": true}]' \
	"$(field '[s["acl"] for s in j["scope"] if s["module"] == "$all"]')" "stack-level read+write acl"
assert_eq '[["main"]]' "$(field '[s["branches"] for s in j["scope"] if s["module"] == "branch"]')" \
	"branch scope"
assert_eq '[]' "$(field '[s for s in j["scope"] if s["module"] == "branch_alias"]')" "no alias scope"
pass "create request body"

# the answer: the stack, the value the emulator issued, its expiry
uid=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS][0]")
tok=$(emu_py /_emu/state "[t['token'] for t in $MINT_STATE_TOKENS][0]")
[ -n "$tok" ] || fail "no token on the emulator"
assert_eq "$MINT_KEY" "$(value username <<<"$out")" "username"
assert_eq "$tok" "$(value password <<<"$out")" "password"
expiry=$(value password_expiry_utc <<<"$out")
assert_eq "$(date -u -d "${exp//\"/} 00:00:00" +%s)" "$expiry" "password_expiry_utc"
assert_eq 3 "$(wc -l <<<"$out")" "three lines answered"
pass "first get mints and answers"

out2=$(cred_get) || fail "second get failed"
assert_eq "$out" "$out2" "second answer"
assert_eq 1 "$(token_posts)" "second get does not mint"
out3=$(cred_get ftime '+20 days') || fail "get 20 days on failed"
assert_eq "$tok" "$(value password <<<"$out3")" "token 20 days on"
assert_eq 1 "$(token_posts)" "20 days on: no mint (10 days left)"
pass "stored token reused"

out4=$(cred_get ftime '+29 days') || fail "get 29 days on failed"
assert_eq 2 "$(token_posts)" "29 days on: renewed (under 2 days left)"
tok2=$(value password <<<"$out4")
[ -n "$tok2" ] && [ "$tok2" != "$tok" ] || fail "renewal answered the old token"
assert_eq "$tok2" "$(emu_py /_emu/state "[t['token'] for t in $MINT_STATE_TOKENS if t['uid'] != '$uid'][0]")" \
	"renewed value"
assert_eq true "$(emu_py /_emu/state "'$uid' in [t['uid'] for t in $MINT_STATE_TOKENS]")" \
	"same scope: the old token is left to expire, not revoked"
out5=$(cred_get) || fail "get after renewal failed"
assert_eq "$tok2" "$(value password <<<"$out5")" "renewed token is stored"
pass "renewal when less than renew_before remains"

# a changed scope: mint anew, then revoke the old one
uid2=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$tok2'][0]")
mint_setup_config() { emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'lifetime = 30d' \
	'renew_before = 2d' 'permissions = read,write' 'notify = yes' "$@"; }
mint_setup_config 'branches = main, development'
out6=$(cred_get) || fail "get after scope change failed"
assert_eq 3 "$(token_posts)" "scope change mints"
tok3=$(value password <<<"$out6")
[ "$tok3" != "$tok2" ] || fail "scope change answered the old token"
assert_eq false "$(emu_py /_emu/state "'$uid2' in [t['uid'] for t in $MINT_STATE_TOKENS]")" \
	"old-scope token revoked on the server"
body=$(emu_py /_emu/requests "[r['body'] for r in $MINT_REQS if r['method'] == 'POST' and r['path'] == '$MINT_TOKENS'][-1]")
assert_eq '[["development", "main"]]' \
	"$(field '[sorted(s["branches"]) for s in j["scope"] if s["module"] == "branch"]')" "new scope"
assert_eq true "$(emu_py /_emu/requests "any(r['method'] == 'DELETE' and r['path'] == '$MINT_TOKENS/$uid2' for r in $MINT_REQS)")" \
	"DELETE of the replaced token"
out7=$(cred_get) || fail "get after re-mint failed"
assert_eq "$tok3" "$(value password <<<"$out7")" "new-scope token reused"
assert_eq 3 "$(token_posts)" "no further mint"
pass "scope change re-mints and revokes"

# aliases instead of branches
mint_setup_config 'aliases = deploy'
out8=$(cred_get) || fail "get with alias scope failed"
body=$(emu_py /_emu/requests "[r['body'] for r in $MINT_REQS if r['method'] == 'POST' and r['path'] == '$MINT_TOKENS'][-1]")
assert_eq '[["deploy"]]' \
	"$(field '[s["branch_aliases"] for s in j["scope"] if s["module"] == "branch_alias"]')" "alias scope"
assert_eq '[]' "$(field '[s for s in j["scope"] if s["module"] == "branch"]')" "no branch scope"
pass "alias scope"

# real git
tok4=$(value password <<<"$out8")
filled=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" |
	git -c credential.helper=cstoken credential fill) || fail "git credential fill failed"
assert_eq "$tok4" "$(value password <<<"$filled")" "git credential fill password"
assert_eq "$MINT_KEY" "$(value username <<<"$filled")" "git credential fill username"
assert_eq 4 "$(token_posts)" "git got the stored token"
pass "git credential fill returns the minted token"

# the store holds the token, the config never does; attributes never hold it
[ -f "$MINT_STORE_FILE" ] || fail "no store file"
assert_not_contains "$(cat "$XDG_CONFIG_HOME/cstoken/config")" "$tok4" "config"
pass "mint"
