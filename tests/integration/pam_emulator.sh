#!/usr/bin/env bash
# pam_cstoken_test.so running the real cstoken of this build against the local emulator,
# under pam_wrapper, nss_wrapper and uid_wrapper, with the fake user's file store:
# the session gets the token the emulator holds; `mint revoke` revokes the session's own
# token at close and never one it did not mint; no config, not logged in, an unreachable
# and a hung API all leave the login working.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
pcs_setup
emulator_start

KEY=blt0pamstack0000001
EMAIL=alice@example.com
PW='correct horse battery staple'
pcs_emulator_args
export CSTOKEN_STORE=file # the user's own cstoken calls, as in a login without a bus

emu_user "$EMAIL" "$PW"
emu_stack "$KEY" "$EMAIL"
tokens() { emu_ctl GET /_emu/state | emu_json_get "[t['$1'] for t in j['stacks']['$KEY']['tokens']]"; }
deleted() { emu_ctl GET /_emu/state | emu_json_get "j['stacks']['$KEY']['deleted']"; }

expect_ignored() { # service what
	pcs_pam "$1"
	assert_eq PAM_SUCCESS "$(pcs_field open)" "$2: the stack still opens"
	assert_eq "" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "$2: no token"
	assert_eq "" "$(pcs_env CONTENTSTACK_API_KEY)" "$2: no api key"
	pcs_pam "$1-alone"
	assert_eq PAM_PERM_DENIED "$(pcs_field open)" "$2: the module returns PAM_IGNORE"
}

# --- no configuration, then not logged in ------------------------------------------------
pcs_stack minting "$T mint"
expect_ignored minting "no configuration"
emulator_config "$KEY" "$EMAIL"
expect_ignored minting "not logged in"
assert_eq "[]" "$(tokens uid)" "tokens minted while not logged in"
pass "no configuration and no login: PAM_IGNORE, nothing minted"

printf '%s' "$PW" | cstoken login --password-stdin
# --- without `mint`, nothing stored: ignored ----------------------------------------------
pcs_stack nomint "$T"
expect_ignored nomint "nothing stored, no mint"
assert_eq "[]" "$(tokens uid)" "tokens minted without mint"
pass "without 'mint' the module never mints"

# --- logged in: the session gets the emulator's token -------------------------------------
pcs_pam minting
assert_eq PAM_SUCCESS "$(pcs_field open)" "open_session"
tok=$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)
assert_eq "$(tokens token)" "[\"$tok\"]" "the session's token is the emulator's only token"
assert_eq "$KEY" "$(pcs_env CONTENTSTACK_API_KEY)" "api key"
assert_not_contains "$(cat "$PCS_LOG")" "$tok" "the syslog (debug on)"
assert_eq "$tok" "$(cstoken token --no-mint)" "the minted token is in the user's store"
pass "open_session mints as the user and sets the emulator's token"

# a second session reuses it
pcs_pam nomint
assert_eq "$tok" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "stored token reused"
assert_eq 1 "$(tokens uid | emu_json_get 'len(j)')" "tokens after a second session"
pass "a later session reuses the stored token"

# --- revoke: a token this session did not mint is left alone ------------------------------
pcs_stack revoking "$T mint revoke"
pcs_pam revoking
assert_eq "$tok" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "stored token with revoke"
assert_eq "[\"$tok\"]" "$(tokens token)" "the earlier token survives close_session"
assert_eq "[]" "$(deleted)" "deleted tokens"
assert_eq "$tok" "$(cstoken token --no-mint)" "the earlier token is still stored"
pass "close_session with revoke leaves a token it did not mint alone"

# --- hung API ---------------------------------------------------------------------------------
emulator_config slow "$KEY" "$EMAIL"
emu_ctl POST /_emu/faults '{"path": "/v3/", "responses": [{"delay": 30}, {"delay": 30}, {"delay": 30}, {"delay": 30}]}' >/dev/null
pcs_stack hung "$T profile=slow mint timeout=2"
expect_ignored hung "hung API"
assert_contains "$(cat "$PCS_LOG")" "did not finish within 2 s" "log of the timeout"
emu_ctl DELETE /_emu/faults >/dev/null
pass "a hung API is cut off at timeout= and the login goes on"

# --- revoke: the session's own token dies with it -------------------------------------------
emulator_config sess "$KEY" "$EMAIL"
pcs_stack sessrevoke "$T profile=sess mint revoke"
pcs_pam sessrevoke
assert_eq PAM_SUCCESS "$(pcs_field open)" "open_session (profile sess)"
stok=$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)
[ -n "$stok" ] && [ "$stok" != "$tok" ] || fail "profile sess: no new token"
assert_eq PAM_SUCCESS "$(pcs_field close)" "close_session with revoke"
# open and close ran in one driver: the token is gone by now
assert_eq "[\"$tok\"]" "$(tokens token)" "only the earlier token is left on the emulator"
assert_eq 1 "$(deleted | emu_json_get 'len(j)')" "tokens deleted on the emulator"
code=$(curl -q -sS -o /dev/null -w '%{http_code}' --noproxy '*' --cacert "$CST_EMU_CA" \
	-H "api_key: $KEY" -H "authorization: $stok" "$CST_EMU_URL/v3/content_types")
assert_eq 401 "$code" "the session's token after close_session"
if out=$(cstoken -p sess token --no-mint 2>/dev/null); then
	fail "the revoked token is still in the store: $out"
fi
pass "close_session revokes the session's token on the server and in the store"

# --- unreachable API (the emulator is stopped) ---------------------------------------------
kill "$CST_EMU_PID"
wait "$CST_EMU_PID" 2>/dev/null || true
pcs_stack down "$T profile=slow mint"
expect_ignored down "unreachable API"
pass "an unreachable API leaves the login working"
