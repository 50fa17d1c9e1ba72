#!/usr/bin/env bash
# login --oauth with no browser and no display (a headless or ssh host): the authorize URL is
# printed, the address the browser ended up at is pasted on the terminal; with a redirect of
# the app's own (no loopback listener) and with the loopback one (the paste comes first). A
# terminal that ends (EOF, hangup) before a code came gives one line and stores nothing.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/lib/oauth.sh"
oauth_setup

# paste_login: the paste-back login in a pty, a line without a code first; prints the
# status and the transcript.
paste_login() {
	pty_dialog expect="paste the address it ends up at here: " send=$'no address here\n' \
		expect="that holds no code" paste-redirect -- cstoken login --oauth
}
export OAUTH_STANDIN

# --- an app whose redirect is a web page: paste-back only ----------------------------------------
emu_ctl POST /_emu/oauth '{"redirect": "https://app.example.test/oauth/done"}' >/dev/null
emulator_config "$OAUTH_KEY" "$ALICE" "auth = oauth" "oauth_redirect = https://app.example.test/oauth/done" \
	"oauth_client_id = $OAUTH_CLIENT" "oauth_app_id = 6400aa06db64de001a31c8a9"
out=$(paste_login) || fail "paste-back login: $out"
assert_contains "$out" "status=0" "paste-back: exit status"
assert_contains "$out" "logged in to $CST_EMU_HOST as '$ALICE' (OAuth" "paste-back: logged in"
assert_contains "$out" "(its page shows the address)" "paste-back: no listener for a web redirect"
body=$(emu_ctl GET '/_emu/requests?path=/token' | emu_json_get 'j[-1]["body"]')
assert_contains "$body" "redirect_uri=https%3A%2F%2Fapp.example.test%2Foauth%2Fdone" "the app's own redirect"
assert_eq "oauth" "$(oauth_kinds)" "paste-back: the session stored"
pass "paste-back with no browser and no display, the app's own redirect"

# --- the loopback redirect: the pasted address wins the race with the listener --------------------
cstoken logout >/dev/null 2>&1 || fail "logout"
emu_ctl POST /_emu/oauth "$(_emu_json redirect "$OAUTH_REDIRECT")" >/dev/null
emulator_config "$OAUTH_KEY" "$ALICE" "auth = oauth" "oauth_redirect = $OAUTH_REDIRECT"
out=$(paste_login) || fail "paste-back with a listener: $out"
assert_contains "$out" "status=0" "paste with a listener: exit status"
assert_contains "$out" "logged in to $CST_EMU_HOST as '$ALICE' (OAuth" "paste with a listener: logged in"
pass "paste-back while the loopback listener waits"

# --- the terminal ends before a code came ---------------------------------------------------------
cstoken logout >/dev/null 2>&1 || fail "logout"
out=$(pty_dialog expect="paste the address it ends up at here: " send=$'\x04' \
	-- cstoken login --oauth) || fail "EOF on the terminal: $out"
assert_contains "$out" "status=1" "EOF: exit status"
assert_eq 1 "$(printf '%s\n' "$out" | grep -c "the terminal closed before an authorization code came, so nothing was stored; run 'cstoken login --oauth -p default' again")" \
	"EOF: one line"
assert_eq "" "$(oauth_kinds)" "EOF: nothing stored"
pass "EOF on the terminal: one line, nothing stored"

out=$(pty_dialog expect-file="$CST_TMP/hup.err:paste the address it ends up at here: " hangup \
	-- sh -c 'exec cstoken login --oauth 2>"$0"' "$CST_TMP/hup.err") || fail "hangup: $out"
assert_contains "$out" "status=hangup" "hangup: cstoken ended"
assert_contains "$(tail -n 1 "$CST_TMP/hup.err")" "cstoken: the terminal closed before an authorization code came, so nothing was stored" \
	"hangup: the line"
assert_eq "" "$(oauth_kinds)" "hangup: nothing stored"
pass "a terminal that hangs up: one line, nothing stored"
