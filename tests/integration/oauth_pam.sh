#!/usr/bin/env bash
# The PAM module with an OAuth session: nothing new in the module, the cstoken it runs as the
# user refreshes the expired access token (once) and mints with it.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
. "$CSTOKEN_SRC/tests/lib/oauth.sh"
pcs_setup
emulator_start
export CSTOKEN_STORE=file
ALICE=alice@example.com
PW='correct horse battery'
emu_user "$ALICE" "$PW"
emu_stack "$OAUTH_KEY" "$ALICE"
OAUTH_PORT=$("$PYTHON" "$CSTOKEN_SRC/tests/lib/free_port.py")
OAUTH_REDIRECT=http://localhost:$OAUTH_PORT
emu_ctl POST /_emu/oauth "$(_emu_json user "$ALICE" redirect "$OAUTH_REDIRECT")" >/dev/null
emulator_config "$OAUTH_KEY" "$ALICE" "auth = oauth" "oauth_redirect = $OAUTH_REDIRECT"
pcs_emulator_args
oauth_login

# the stored access token has run out: the next use must refresh it first
store=$XDG_DATA_HOME/cstoken/credentials
sed -i 's/\\"expires\\":[0-9]*/\\"expires\\":1000000000/' "$store"
emu_ctl DELETE /_emu/requests >/dev/null
pcs_stack minting "$T mint"
pcs_pam minting
assert_eq PAM_SUCCESS "$(pcs_field open)" "open_session"
tok=$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)
assert_eq "[\"$tok\"]" "$(emu_ctl GET /_emu/state | emu_json_get "[t['token'] for t in j['stacks']['$OAUTH_KEY']['tokens']]")" \
	"the session's token is the one minted"
assert_eq 1 "$(oauth_grants refresh_token)" "the module's cstoken refreshed the session once"
assert_eq bearer "$(emu_ctl GET "/_emu/requests?path=/v3/stacks/management_tokens&method=POST" | emu_json_get 'j[0]["auth"]')" \
	"minted with the OAuth session"
assert_not_contains "$(cat "$PCS_LOG")" "$tok" "the syslog (debug on)"
pass "PAM: the user's cstoken refreshes the OAuth session and mints"
