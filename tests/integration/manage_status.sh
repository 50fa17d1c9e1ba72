#!/usr/bin/env bash
# `cstoken status`: what it reports and its exit status before login, after login, after
# logout, with a broken configuration, a store that does not answer and a revoked token.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

CONFIG=$XDG_CONFIG_HOME/cstoken/config

# status_run [ARGS...]: sets rc, out (stdout) and err (stderr)
status_run() {
	rc=0
	cstoken status "$@" >"$CST_TMP/out" 2>"$CST_TMP/err" || rc=$?
	out=$(cat "$CST_TMP/out")
	err=$(cat "$CST_TMP/err")
}

# no configuration at all: a plain credential store is all well
CSTOKEN_STORE=file status_run
assert_eq 0 "$rc" "status without a configuration"
assert_contains "$out" "$CONFIG (not found" "config path reported as not found"
assert_contains "$out" "file: $XDG_DATA_HOME/cstoken/credentials (answers)" "store reported"
assert_eq "" "$err" "nothing to fix"
pass "no configuration"

mint_setup 'branches = main, development' 'permissions = read,write'

status_run
assert_eq 1 "$rc" "status before login"
assert_contains "$out" "$CONFIG (found)" "config found"
assert_contains "$out" "not logged in to $CST_EMU_HOST" "login state"
assert_contains "$out" "read,write branches=main,development" "profile scope"
assert_contains "$out" "$MINT_KEY" "stack"
assert_eq 1 "$(wc -l <<<"$err")" "one problem line"
assert_contains "$err" "cstoken: " "problem prefix"
assert_contains "$err" "cstoken login -p default" "the fix is named"
pass "before login"

mint_login
status_run
assert_eq 0 "$rc" "status after login: $err"
assert_contains "$out" "$MINT_EMAIL on $CST_EMU_HOST (session accepted)" "login accepted"
assert_contains "$out" "none stored (minted on first use)" "no token yet"
assert_eq "" "$err" "nothing to fix after login"
authtoken=$(emu_py /_emu/state "j['users']['$MINT_EMAIL']['authtokens'][-1]")

tok=$(cstoken token) || fail "token"
uid=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$tok'][0]")
exp=$(emu_py /_emu/state "[t['expires_on'] for t in $MINT_STATE_TOKENS if t['uid'] == '$uid'][0]")
status_run
assert_eq 0 "$rc" "status with a token: $err"
assert_contains "$out" "(uid $uid)" "token uid"
assert_contains "$out" "${exp}T00:00:00Z" "token expiry"
assert_contains "$out" "the profile's current scope" "scope matches"
assert_contains "$out" "accepts the token" "server check"
assert_not_contains "$out$err" "$tok" "no token in status"
assert_not_contains "$out$err" "$authtoken" "no authtoken in status"
pass "after login"

# a changed scope is reported (and fixed by the next get), not an error
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'branches = main'
status_run
assert_eq 0 "$rc" "status with a changed scope"
assert_contains "$out" "another scope" "scope change reported"
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'branches = main, development' \
	'permissions = read,write'

# the token revoked behind cstoken's back: refused, rotate is the fix
emu_ctl DELETE "/_emu/tokens/$uid" >/dev/null
status_run
assert_eq 1 "$rc" "status with a revoked token"
assert_contains "$out" "refuses the token" "server refusal reported"
assert_contains "$err" "cstoken rotate -p default" "the fix is named"
cstoken rotate 2>/dev/null || fail "rotate after the server dropped the token"
status_run
assert_eq 0 "$rc" "status after rotate: $err"
pass "revoked token"

# the server unreachable: reported, not fatal
emu_ctl POST /_emu/faults '{"path": "/v3/", "responses": [{"status": 403}, {"status": 403}]}' >/dev/null
status_run
assert_eq 0 "$rc" "status with the server refusing checks: $err"
assert_contains "$out" "cannot check" "check failure reported"
emu_ctl DELETE /_emu/faults >/dev/null

cstoken logout 2>/dev/null || fail "logout"
status_run
assert_eq 1 "$rc" "status after logout"
assert_contains "$out" "not logged in" "logged out"
assert_contains "$err" "cstoken login -p default" "the fix after logout"
pass "after logout"

# a profile that does not mint needs no login
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'mint = no'
status_run
assert_eq 0 "$rc" "status of a non-minting profile with a token: $err"
emulator_config default "$MINT_KEY" "$MINT_EMAIL"

# a broken configuration: exit 1 (a diagnosis), naming file and line
cp "$CONFIG" "$CST_TMP/config.good"
printf 'bogus_key = 1\n' >>"$CONFIG"
line=$(wc -l <"$CONFIG")
status_run
assert_eq 1 "$rc" "status with a broken configuration"
assert_eq 1 "$(wc -l <<<"$err")" "one problem line"
assert_contains "$err" "cstoken: $CONFIG:$line:" "file and line named"
assert_contains "$err" "bogus_key" "key named"
rc=0
cstoken list >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "other commands exit 2 on a broken configuration"
cp "$CST_TMP/config.good" "$CONFIG"
status_run -p nosuch
assert_eq 1 "$rc" "status of an unknown profile"
assert_contains "$err" "profile 'nosuch'" "unknown profile named"
pass "broken configuration"

# a store that does not answer: the file store in a world-writable directory
chmod 777 "$XDG_DATA_HOME/cstoken"
status_run
assert_eq 1 "$rc" "status with an insecure store"
assert_contains "$out" "does not answer" "store state"
assert_contains "$err" "cstoken: the store does not answer" "store problem"
chmod 700 "$XDG_DATA_HOME/cstoken"
# the Secret Service asked for where no session bus exists
DBUS_SESSION_BUS_ADDRESS=unix:path=$CST_TMP/no-bus CSTOKEN_STORE=secret-service status_run
assert_eq 1 "$rc" "status with no Secret Service"
assert_contains "$err" "cstoken: the store does not answer" "secret service problem"
assert_contains "$err" "store = file" "the fix is named"
pass "store does not answer"
