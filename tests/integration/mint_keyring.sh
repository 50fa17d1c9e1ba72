#!/usr/bin/env bash
# Minting into a real Secret Service (gnome-keyring in a private D-Bus session): the token is
# the item's secret, never an attribute, and the next `get` reads it back without minting.
. "$CSTOKEN_SRC/tests/lib/common.sh"

if [ "${1:-}" = inner ]; then
	. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
	export CSTOKEN_STORE=secret-service
	mint_login
	out=$(cred_get) || fail "first get in the keyring failed"
	assert_eq 1 "$(token_posts)" "first get mints"
	tok=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")
	assert_eq "$tok" "$(value password <<<"$out")" "password from the keyring store"
	out2=$(cred_get) || fail "second get in the keyring failed"
	assert_eq "$tok" "$(value password <<<"$out2")" "second get"
	assert_eq 1 "$(token_posts)" "second get does not mint"
	assert_eq "$tok" "$(cstoken token)" "token command reads the keyring"
	# every item cstoken wrote: the token only as a secret
	all=$(gdbus call --session --dest org.freedesktop.secrets \
		--object-path /org/freedesktop/secrets/collection/login \
		--method org.freedesktop.DBus.Properties.Get \
		org.freedesktop.Secret.Collection Items 2>/dev/null || true)
	[ -n "$all" ] || fail "cannot list the keyring's items"
	for item in $(grep -o "/org/freedesktop/secrets/collection/login/[0-9A-Za-z_]*" <<<"$all"); do
		a=$(gdbus call --session --dest org.freedesktop.secrets --object-path "$item" \
			--method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Item Attributes)
		assert_not_contains "$a" "$tok" "attributes of $item"
	done
	[ ! -e "$XDG_DATA_HOME/cstoken/credentials" ] || fail "the file store was used"
	pass "mint into the keyring"
	exit 0
fi

cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
mint_setup
unset CSTOKEN_STORE
in_keyring bash "$CSTOKEN_SRC/tests/integration/mint_keyring.sh" inner
