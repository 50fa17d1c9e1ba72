#!/usr/bin/env bash
# An authtoken is one plain word: a login answer whose authtoken holds CR LF is refused and
# nothing is stored; a hostile authtoken planted in the store never becomes a header.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
emulator_sandbox
STORE=$XDG_DATA_HOME/cstoken/credentials

emu_user "$ALICE" "$PW"
emu_stack blt0123456789abcdef "$ALICE"
emulator_config blt0123456789abcdef "$ALICE" "branches = main"

# injected: how many requests the emulator saw with the smuggled header.
injected() {
	emu_ctl GET /_emu/requests | emu_json_get 'len([r for r in j if "x-injected" in r["headers"]])'
}

# stored_authtokens: how many authtokens the file store holds (0 without a file).
stored_authtokens() {
	[ -f "$STORE" ] || {
		echo 0
		return
	}
	store_file count "$STORE" authtoken
}

# --- the server's login answer carries an authtoken with CR LF -------------------------------
hostile='{"notice": "Login Successful.", "user": {"email": "alice@example.com", "authtoken": "bltEvil9\r\nX-Injected: 1"}}'
emu_ctl POST /_emu/faults "$(json_tool fault POST /v3/user-session 200 "$hostile")" >/dev/null
set +e
out=$(printf '%s\n' "$PW" | cstoken login --password-stdin 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "exit status of a login answered with a malformed authtoken"
assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "lines on stderr"
assert_contains "$out" "cstoken: '$CST_EMU_HOST' accepted the login but sent a malformed authtoken, so nothing was stored" \
	"malformed authtoken message"
assert_not_contains "$out" "bltEvil9" "the message quotes no authtoken"
assert_eq 0 "$(stored_authtokens)" "authtokens stored after the hostile answer"
# what the next commands do: no session, so nothing with the smuggled header
set +e
out=$(cstoken token 2>&1)
set -e
assert_contains "$out" "not logged in" "token after the refused login"
printf '%s\n' "$PW" | cstoken login --password-stdin 2>/dev/null || fail "a clean login after the refusal"
cstoken token >/dev/null 2>&1 || fail "token after a clean login"
assert_eq 0 "$(injected)" "requests carrying the injected header"
pass "a login answer with a CR LF authtoken is refused, nothing stored"

# --- a hostile authtoken planted in the file store -------------------------------------------
# plant: replaces the stored authtoken's secret (the store format of helper/store/store_file.c).
plant() {
	store_file set "$STORE" authtoken "secret=$1"
}
plant $'bltEvil9\r\nX-Injected: 1'
# the stored management token would be handed out without any request: drop it
store_file keep "$STORE" authtoken
emu_ctl DELETE /_emu/requests >/dev/null
for cmd in token logout "list --remote" status; do
	set +e
	# shellcheck disable=SC2086 # the command's words
	out=$(cstoken $cmd 2>&1)
	rc=$?
	set -e
	assert_eq 1 "$rc" "exit status of '$cmd' with a hostile stored authtoken"
	assert_contains "$out" "the stored authtoken for '$CST_EMU_HOST' is malformed, so cstoken will not send it; run 'cstoken login -p default' again" \
		"'$cmd' with a hostile stored authtoken"
	assert_not_contains "$out" "bltEvil9" "'$cmd' quotes no authtoken"
done
assert_eq 0 "$(emu_ctl GET /_emu/requests | emu_json_get 'len(j)')" \
	"requests sent with a hostile stored authtoken"
# the fix the message names works: login replaces it without sending it
out=$(printf '%s\n' "$PW" | cstoken -v login --password-stdin 2>&1) || fail "login over a hostile authtoken: $out"
assert_contains "$out" "logged in to $CST_EMU_HOST" "login over a hostile authtoken"
assert_eq 0 "$(emu_ctl GET '/_emu/requests?path=/v3/user&method=GET' | emu_json_get 'len(j)')" \
	"the hostile authtoken is not checked with the server"
cstoken token >/dev/null 2>&1 || fail "token after the login replaced the hostile authtoken"
# other shapes that are no header value: a space, a colon, a lone LF, non-ASCII
for bad in 'bltEvil9 X' 'blt:1' $'bltEvil9\nX-Injected: 1' $'blt\xc3\xa9'; do
	plant "$bad"
	set +e
	out=$(cstoken logout 2>&1)
	rc=$?
	set -e
	assert_eq 1 "$rc" "logout with stored authtoken $(printf %q "$bad")"
	assert_contains "$out" "is malformed" "logout with stored authtoken $(printf %q "$bad")"
done
assert_eq 0 "$(injected)" "requests carrying the injected header"
pass "a hostile stored authtoken is refused before any request"
