#!/usr/bin/env bash
# `cstoken status` as a doctor: it asks the server whether the api_key names a stack and
# whether the user may create tokens there (owner or admin), names cstoken's own expired or
# replaced tokens left on the stack, items of the profile in the store it does not use, and
# whether git asks cstoken for the profile's host.
. "$CSTOKEN_SRC/tests/lib/common.sh"

# status_run [ARGS...]: sets rc, out (stdout) and err (stderr)
status_run() {
	rc=0
	cstoken status "$@" >"$CST_TMP/out" 2>"$CST_TMP/err" || rc=$?
	out=$(cat "$CST_TMP/out")
	err=$(cat "$CST_TMP/err")
}

if [ "${1:-}" = inner ]; then
	# the keyring in use, a token and a session of the profile left in the file store
	export CSTOKEN_STORE=secret-service
	status_run
	assert_eq 1 "$rc" "status with the profile's items in the file store"
	assert_contains "$err" "cstoken: profile 'default' also has a token and a session in the file store ($XDG_DATA_HOME/cstoken/credentials)" \
		"the other store's items named"
	assert_contains "$err" "'CSTOKEN_STORE=file cstoken revoke -p default' and 'CSTOKEN_STORE=file cstoken logout -p default'" \
		"the commands that clear them"
	assert_contains "$out" "elsewhere" "status row"
	pass "items of the profile in the file store, seen from the keyring"

	# the other way round: the file store in use, the session in the keyring
	rm -f "$XDG_DATA_HOME/cstoken/credentials"
	printf '%s\n' "$MINT_PW" | cstoken login --password-stdin >/dev/null 2>&1 || fail "login"
	CSTOKEN_STORE=file status_run
	assert_eq 1 "$rc" "status with the profile's session in the keyring"
	assert_contains "$err" "cstoken: profile 'default' also has a session in the secret-service store (Secret Service)" \
		"the keyring's item named"
	assert_contains "$err" "'CSTOKEN_STORE=secret-service cstoken logout -p default'" "its fix"
	pass "items of the profile in the keyring, seen from the file store"
	exit 0
fi

cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
mint_setup
mint_login
tok=$(cstoken token) || fail "token"

# all well, and git not wired yet
status_run
assert_eq 0 "$rc" "status of an owner: $err"
assert_contains "$out" "$MINT_EMAIL may create tokens on the stack (owner or admin; 1 of 10 slots used)" \
	"access row"
assert_contains "$out" "https://$CST_EMU_HOST does not use cstoken as credential helper" "git row"
assert_contains "$out" "git config --global credential.https://$CST_EMU_HOST.helper cstoken" \
	"the git line"
assert_not_contains "$out" "stale" "no stale token"
git config --global "credential.https://$CST_EMU_HOST.helper" cstoken
status_run
assert_contains "$out" "https://$CST_EMU_HOST uses cstoken as credential helper" "git wired"
git config --global --unset "credential.https://$CST_EMU_HOST.helper"
git config --global credential.helper cache
git config --global --add credential.helper cstoken
status_run
assert_contains "$out" "uses cstoken as credential helper" "cstoken among several helpers"
git config --global --add credential.helper ''
status_run
assert_contains "$out" "does not use cstoken" "an empty helper resets the list"
git config --global --unset-all credential.helper
pass "owner: may create tokens; git wiring"

# cstoken's own tokens left on the stack: one expired, one no profile stores, one with a
# uid that must not go into a command; a foreign token is never named
name=$(mint_default_name)
emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$name" expires_on 2001-01-01 uid bltexpired00000001)" >/dev/null
emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$name" uid bltreplaced0000001)" >/dev/null
emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$name" uid 'blt odd;uid')" >/dev/null
emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "deploy bot" expires_on 2001-01-01 uid bltforeign00000001)" >/dev/null
status_run
assert_eq 0 "$rc" "stale tokens are reported, not a fault: $err"
assert_contains "$out" "(uid bltexpired00000001), expired 2001-01-01T00:00:00Z: 'cstoken revoke -p default --uid bltexpired00000001' deletes it" \
	"expired token"
assert_contains "$out" "(uid bltreplaced0000001), no longer stored: 'cstoken revoke -p default --uid bltreplaced0000001' deletes it" \
	"replaced token"
assert_contains "$out" "(uid blt odd;uid), no longer stored: delete it in the Contentstack web UI" \
	"a uid that is not plain goes into no command"
assert_not_contains "$out" "bltforeign" "a foreign token is not cstoken's to name"
assert_not_contains "$out$err" "$tok" "no token in status"
pass "cstoken's own expired and replaced tokens on the stack"

# a user who belongs to the stack but is neither owner nor admin, and an admin
emu_user bob@example.com "$MINT_PW"
emu_user carol@example.com "$MINT_PW"
emu_ctl POST /_emu/stacks "$(printf '{"api_key": "%s", "members": ["bob@example.com"], "admins": ["carol@example.com"]}' "$MINT_KEY")" >/dev/null
emulator_config dev "$MINT_KEY" bob@example.com
emulator_config ops "$MINT_KEY" carol@example.com
for p in dev ops; do
	printf '%s\n' "$MINT_PW" | cstoken login -p $p --password-stdin >/dev/null 2>&1 || fail "login -p $p"
done
emu_ctl DELETE /_emu/requests >/dev/null
status_run -p dev
assert_eq 1 "$rc" "status of a member who is not admin"
assert_contains "$err" "cstoken: bob@example.com is not owner or admin of stack '$MINT_KEY' on $CST_EMU_HOST" \
	"the problem line"
assert_contains "$err" "ask an admin of the stack" "the fix"
assert_contains "$out" "belongs to the stack but is not its owner or an admin" "access row"
assert_eq 0 "$(emu_py /_emu/requests "len([r for r in $MINT_REQS if r['method'] != 'GET'])")" \
	"status changed nothing on the server"
status_run -p ops
assert_eq 0 "$rc" "status of an admin: $err"
assert_contains "$out" "carol@example.com may create tokens on the stack" "admin may"
emulator_config dev "$MINT_KEY" bob@example.com 'mint = no'
status_run -p dev
assert_not_contains "$err" "not owner or admin" "a member who does not mint needs no admin"
assert_contains "$out" "belongs to the stack but is not its owner or an admin" "still reported"
pass "member, admin"

# an api_key that names no stack
emulator_config default bltnosuchstack0000 "$MINT_EMAIL"
status_run
assert_eq 1 "$rc" "status with an unknown api_key"
assert_contains "$err" "cstoken: api_key 'bltnosuchstack0000' names no stack on $CST_EMU_HOST that $MINT_EMAIL belongs to; check api_key in [profile default]" \
	"the problem line"
assert_contains "$out" "no stack with api_key bltnosuchstack0000" "access row"
emulator_config default "$MINT_KEY" "$MINT_EMAIL"
pass "unknown api_key"

# the other store: items of the profile in the file store while the keyring is in use
export CST_TMP MINT_PW
unset CSTOKEN_STORE
in_keyring bash "$CSTOKEN_SRC/tests/integration/status_doctor.sh" inner
