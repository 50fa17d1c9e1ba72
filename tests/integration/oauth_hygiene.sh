#!/usr/bin/env bash
# The secrets of an OAuth login (the code, the PKCE verifier, access and refresh tokens) never
# appear in argv (the browser's, cstoken's), in -v diagnostics, or in keyring attributes (a real
# gnome-keyring, read with secret-tool): they live only in the one secret of the session.
. "$CSTOKEN_SRC/tests/lib/common.sh"

# the secrets the emulator handed out or received, one a line
oauth_secrets() {
	emu_ctl GET /_emu/oauth | emu_json_get '"\n".join(j["access_tokens"] + j["refresh_tokens"])'
	emu_ctl GET '/_emu/requests?path=/token' | emu_json_get '"\n".join(kv.split("=", 1)[1] for r in j for kv in (r["body"] or "").split("&") if kv.split("=")[0] in ("code", "code_verifier", "refresh_token"))'
}

no_secrets() { # FILE WHAT
	local s n=0
	while read -r s; do
		[ -n "$s" ] || continue
		n=$((n + 1))
		assert_not_contains "$(cat "$1")" "$s" "$2"
	done <"$CST_TMP/secrets"
	[ "$n" -ge 5 ] || fail "only $n secrets to look for"
}

if [ "${1:-}" = inner ]; then
	. "$CSTOKEN_SRC/tests/lib/emulator.sh"
	. "$CSTOKEN_SRC/tests/lib/oauth.sh"
	export CSTOKEN_STORE=secret-service
	OAUTH_BROWSER_ARGV=$CST_TMP/argv BROWSER=$OAUTH_STANDIN cstoken -v login --oauth \
		2>"$CST_TMP/login.err" || fail "login: $(cat "$CST_TMP/login.err")"
	printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" |
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" faketime '+59 minutes' cstoken -v get >/dev/null 2>"$CST_TMP/get.err" || fail "get"
	assert_contains "$(cat "$CST_TMP/get.err")" "refreshing the OAuth session" "the get refreshed"
	oauth_secrets >"$CST_TMP/secrets"
	assert_contains "$(cat "$CST_TMP/argv")" "oauth_browser.sh https://" "the browser's argv was read"
	assert_contains "$(cat "$CST_TMP/argv")" "cstoken -v login --oauth" "cstoken's argv was read"
	no_secrets "$CST_TMP/argv" "argv of the browser and of cstoken"
	no_secrets "$CST_TMP/login.err" "login -v"
	no_secrets "$CST_TMP/get.err" "get -v with a refresh"
	secret-tool search --all kind oauth >"$CST_TMP/search" 2>&1 || fail "secret-tool search"
	grep '^attribute\.\|^label' "$CST_TMP/search" >"$CST_TMP/attrs" || true
	assert_contains "$(cat "$CST_TMP/attrs")" "attribute.email = $ALICE" "the session's attributes were read"
	no_secrets "$CST_TMP/attrs" "keyring attributes and label"
	access=$(emu_ctl GET /_emu/oauth | emu_json_get 'j["access_tokens"][-1]')
	assert_contains "$(grep '^secret = ' "$CST_TMP/search")" "$access" "the access token is in the secret"
	assert_eq 1 "$(grep -c '^secret = ' "$CST_TMP/search" | tr -d ' ')" "one secret for the session"
	pass "no OAuth secret in argv, -v output or keyring attributes"
	exit 0
fi

. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/lib/oauth.sh"
oauth_setup
unset CSTOKEN_STORE
export CST_TMP ALICE
in_keyring bash "$CSTOKEN_SRC/tests/integration/oauth_hygiene.sh" inner
