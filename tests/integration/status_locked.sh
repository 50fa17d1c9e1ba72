#!/usr/bin/env bash
# A locked keyring is reported as locked, with a command that unlocks the running daemon,
# by get, token, list and status: never as "nothing stored" or "not logged in". Both ways a
# collection is locked: locked through D-Bus after use, and locked since the daemon loaded it.
. "$CSTOKEN_SRC/tests/lib/common.sh"

# locked_run CMD...: runs CMD (stdin from $input), sets rc, out, err
locked_run() {
	rc=0
	printf '%s' "${input:-}" | "$@" >"$CST_TMP/out" 2>"$CST_TMP/err" || rc=$?
	out=$(cat "$CST_TMP/out")
	err=$(cat "$CST_TMP/err")
}

assert_locked() { # what
	assert_eq 1 "$rc" "$1: exit status"
	assert_contains "$err" "cstoken: the keyring is locked" "$1: says locked"
	assert_contains "$err" "gnome-keyring-daemon --replace --unlock" "$1: names the unlock"
	assert_not_contains "$err$out" "not logged in" "$1: not 'not logged in'"
	assert_not_contains "$err$out" "nothing stored" "$1: not 'nothing stored'"
}

no_owner() {
	! keyring_on_bus
}

if [ "${1:-}" = inner ]; then
	. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
	export CSTOKEN_STORE=secret-service
	mint_login
	tok=$(cstoken token) || fail "token in the keyring"
	get_req=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST")

	# locked through the Secret Service API, as a screen locker or seahorse does
	dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
		org.freedesktop.Secret.Service.Lock \
		array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || fail "Lock"
	input=$get_req locked_run cstoken get
	assert_locked "get of a profile's token"
	input='' locked_run cstoken token
	assert_locked "token"
	locked_run cstoken list
	assert_locked "list"
	locked_run cstoken status
	assert_locked "status"
	assert_contains "$out" "secret-service: Secret Service (locked)" "status: store row"
	input=$(printf 'protocol=https\nhost=git.example.com\n\n') locked_run cstoken get
	assert_locked "get of a plain credential (a miss)"
	pass "locked through D-Bus: get, token, list, status"

	# locked since the daemon loaded it: the searches find nothing at all
	keyring_stop
	wait_for no_owner
	gnome-keyring-daemon --start --components=secrets >/dev/null
	wait_for keyring_on_bus
	input=$get_req locked_run cstoken get
	assert_locked "get after a restart"
	locked_run cstoken status
	assert_locked "status after a restart"
	unlock=$(sed -n "s/.*without a desktop run '\(.*\)' and type the keyring password.*/\1/p" \
		<<<"$err" | head -n 1)
	[ -n "$unlock" ] || fail "no unlock command in: $err"
	pass "locked since loaded: get and status"

	# the command it names, typed as a user would (password and Enter), unlocks this daemon
	printf 'testpass\n' | bash -c "$unlock" >/dev/null 2>&1 || fail "unlock command: $unlock"
	wait_for keyring_on_bus
	assert_eq "$tok" "$(cstoken token)" "the stored token after unlocking"
	locked_run cstoken status
	assert_eq 0 "$rc" "status after unlocking: $err"
	pass "the unlock command named unlocks the running keyring"
	exit 0
fi

cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
mint_setup
unset CSTOKEN_STORE
export CST_TMP
in_keyring bash "$CSTOKEN_SRC/tests/integration/status_locked.sh" inner
