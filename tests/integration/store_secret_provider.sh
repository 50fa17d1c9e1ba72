#!/usr/bin/env bash
# The Secret Service store against providers other than gnome-keyring: a fake one
# (tests/drivers/fake_secrets.c) that does the encrypted session right with an independent
# implementation (OpenSSL), or gets it wrong on purpose, or offers only the plain session.
# Each misbehaviour must end in a clear one-line error, nothing on stdout, no secret in
# any output; a plain-only provider is read through libsecret, as git's helper would.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

fake=$CSTOKEN_BIN_DIR/fake_secrets
[ -x "$fake" ] || fail "build fake_secrets first"

# with_fake MODE CMD...: runs CMD on a private bus where the fake provider serves MODE
with_fake() {
	local mode=$1
	shift
	dbus-run-session -- bash -c '
		. "$CSTOKEN_SRC/tests/lib/common.sh"
		mode=$1
		shift
		export SECRET_SERVICE_BUS_NAME=org.example.FakeSecrets
		"$CSTOKEN_BIN_DIR/fake_secrets" "$mode" "$SECRET_SERVICE_BUS_NAME" \
			>"$CST_TMP/fake.$mode" &
		fake_pid=$!
		wait_for grep -qx ready "$CST_TMP/fake.$mode"
		rc=0
		"$@" || rc=$?
		kill "$fake_pid"
		wait "$fake_pid" 2>/dev/null || true
		exit $rc' with_fake "$mode" "$@"
}

# get_fake: `cstoken -v get` for the fake's credential; stdout, stderr, status in files
get_fake() {
	printf 'protocol=https\nhost=fake.example\n\n' |
		CSTOKEN_STORE=secret-service cstoken -v get >"$CST_TMP/out" 2>"$CST_TMP/err"
	echo $? >"$CST_TMP/rc"
}
export -f get_fake
export CST_TMP

check_no_secret() { # what
	assert_not_contains "$(cat "$CST_TMP/err")" "s3cret-fake" "$1: stderr"
	assert_not_contains "$(cat "$CST_TMP/err")" "rt-fake" "$1: stderr"
}

with_fake ok get_fake
assert_eq 0 "$(cat "$CST_TMP/rc")" "get from a provider doing the session right"
assert_eq "username=alice
password=s3cret-fake
oauth_refresh_token=rt-fake" "$(cat "$CST_TMP/out")" "the answer"
assert_contains "$(cat "$CST_TMP/err")" "encrypted session" "-v output"
check_no_secret "ok"
pass "an encrypted session with a provider of OpenSSL's making"

# fails MODE MESSAGE: the get fails with exit 1 and MESSAGE in one stderr line
fails() {
	local errline
	with_fake "$1" get_fake
	assert_eq 1 "$(cat "$CST_TMP/rc")" "exit status with a provider in mode $1"
	assert_eq "" "$(cat "$CST_TMP/out")" "stdout with a provider in mode $1"
	errline=$(grep -v '^cstoken: debug: ' "$CST_TMP/err")
	assert_eq 1 "$(printf '%s\n' "$errline" | wc -l)" "error lines in mode $1: $errline"
	assert_contains "$errline" "$2" "the error in mode $1"
	check_no_secret "$1"
}
fails badkey "the Secret Service sent an invalid session key"
fails badpad "the Secret Service sent a secret that does not decrypt"
fails badtype "a reply of type 's', not '(oayays)'"
pass "an invalid session key, broken padding, a reply of the wrong type: one clear error each"

with_fake unsupported get_fake
assert_eq 0 "$(cat "$CST_TMP/rc")" "get from a provider with only the plain session: $(cat "$CST_TMP/err")"
assert_contains "$(cat "$CST_TMP/out")" "password=s3cret-fake" "the answer through libsecret"
assert_contains "$(cat "$CST_TMP/err")" "libsecret reads the secret" "-v output"
check_no_secret "unsupported"
pass "a provider with only the plain session: read through libsecret"
