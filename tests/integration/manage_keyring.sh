#!/usr/bin/env bash
# list, status, rotate and revoke on the Secret Service (gnome-keyring in a private D-Bus
# session): the same rows as with the file store, no secret in any output.
. "$CSTOKEN_SRC/tests/lib/common.sh"

if [ "${1:-}" = inner ]; then
	. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
	export CSTOKEN_STORE=secret-service
	mint_login
	tok=$(cstoken token) || fail "token in the keyring"
	uid=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['uid']")
	authtoken=$(emu_py /_emu/state "j['users']['$MINT_EMAIL']['authtokens'][-1]")
	out=$(cstoken list) || fail "list"
	json=$(cstoken list --json) || fail "list --json"
	st=$(cstoken status) || fail "status in the keyring"
	for text in "$out" "$json" "$st"; do
		assert_not_contains "$text" "$tok" "no token in the output"
		assert_not_contains "$text" "$authtoken" "no authtoken in the output"
	done
	assert_eq secret-service "$(emu_json_get 'j["store"]' <<<"$json")" "store in --json"
	assert_eq "[[\"token\", \"$uid\", \"minted\"], [\"authtoken\", null, \"login\"]]" \
		"$(emu_json_get '[[i["kind"], i["uid"], i["source"]] for i in j["items"]]' <<<"$json")" \
		"items from the keyring"
	assert_contains "$st" "secret-service" "status names the store"
	cstoken rotate 2>/dev/null || fail "rotate in the keyring"
	new=$(cstoken token --no-mint) || fail "token after rotate"
	[ "$new" != "$tok" ] || fail "rotate kept the old token"
	assert_eq false "$(emu_py /_emu/state "'$uid' in [t['uid'] for t in $MINT_STATE_TOKENS]")" \
		"old token deleted"
	cstoken revoke 2>/dev/null || fail "revoke in the keyring"
	assert_eq 0 "$(cstoken list --json | emu_json_get 'len([i for i in j["items"] if i["kind"] == "token"])')" \
		"no token left in the keyring"
	assert_eq '[]' "$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS]")" "none on the server"
	[ ! -e "$XDG_DATA_HOME/cstoken/credentials" ] || fail "the file store was used"
	pass "list, status, rotate and revoke in the keyring"
	exit 0
fi

cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
mint_setup
unset CSTOKEN_STORE
in_keyring bash "$CSTOKEN_SRC/tests/integration/manage_keyring.sh" inner
