#!/usr/bin/env bash
# A login --oauth that cannot finish says so in one line and stores nothing: a wrong code, a
# code already spent, a verifier that does not fit the challenge, an expired code, the
# redirect's port in use, no code within the 60 s.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/lib/oauth.sh"
oauth_setup

# refused MODE WHAT NEEDLE: the stand-in in MODE makes the login fail with one line holding NEEDLE.
refused() { # MODE WHAT NEEDLE
	local rc=0 lines
	OAUTH_BROWSER_MODE=$1 BROWSER=$OAUTH_STANDIN cstoken login --oauth 2>"$CST_TMP/err" || rc=$?
	assert_eq 1 "$rc" "$2: exit status"
	lines=$(grep -c '^cstoken: ' "$CST_TMP/err" | tr -d ' ')
	# the page to open and the wait are said first; the error is the one line after them
	assert_eq 3 "$lines" "$2: one error line after the two about the page ($(cat "$CST_TMP/err"))"
	assert_contains "$(tail -n 1 "$CST_TMP/err")" "$3" "$2: the error"
	assert_contains "$(tail -n 1 "$CST_TMP/err")" "nothing was stored; run 'cstoken login --oauth -p default' again" "$2: the fix"
	assert_eq "" "$(oauth_kinds)" "$2: nothing stored"
	pass "$2: one clear line, nothing stored"
}

refused wrong_code "a wrong code" "refused the authorization code (invalid_grant: unknown or already used"
refused replay "a replayed code" "refused the authorization code (invalid_grant: unknown or already used"
refused wrong_challenge "a wrong verifier" "refused the authorization code (invalid_grant: code_verifier does not match"
refused expire "an expired code" "refused the authorization code (invalid_grant: the authorization code has expired"
emu_ctl POST /_emu/clock '{"offset_seconds": 0}' >/dev/null

# --- the redirect's port in use: a clear error naming it, not a hang ------------------------------
# a first login waits on the port (no browser, no terminal); the second cannot have it
cstoken login --oauth >"$CST_TMP/first.out" 2>&1 </dev/null &
first=$!
cst_on_exit "kill $first 2>/dev/null; wait $first 2>/dev/null"
listening() { ss -Hltn "sport = :$OAUTH_PORT" | grep -q LISTEN; }
wait_for listening
rc=0
out=$(cstoken login --oauth 2>&1 </dev/null) || rc=$?
assert_eq 1 "$rc" "port in use: exit status"
assert_eq "cstoken: port $OAUTH_PORT of oauth_redirect '$OAUTH_REDIRECT' is in use on 127.0.0.1; end what listens there (another login?) and run the login again" \
	"$out" "port in use: one line naming the port"
kill "$first"
wait "$first" 2>/dev/null || true
assert_eq "" "$(oauth_kinds)" "port in use: nothing stored"
pass "the redirect's port in use: one line naming it"

# --- nobody approves: the redirect carries error=access_denied ---------------------------------
emu_ctl POST /_emu/oauth '{"user": "nobody@example.com"}' >/dev/null
refused access_denied "a login nobody approves" "the login was not approved in the browser"

# --- the browser logged in as another user than the profile's email: nothing stored -----------
emu_user bob@example.com "bob pw"
emu_ctl POST /_emu/oauth '{"user": "bob@example.com"}' >/dev/null
rc=0
BROWSER=$OAUTH_STANDIN cstoken login --oauth 2>"$CST_TMP/err" || rc=$?
assert_eq 1 "$rc" "another user: exit status"
assert_eq "cstoken: the browser logged in as 'bob@example.com', not as '$ALICE' (email in [profile default]), so nothing was stored; log in as that user or change email" \
	"$(tail -n 1 "$CST_TMP/err")" "another user: the line"
assert_eq "" "$(oauth_kinds)" "another user: nothing stored"
pass "a browser logged in as another user than the profile's: nothing stored"

# --- no code within 60 s: a clear error (the clock runs 30 times faster under faketime) --------
emu_ctl POST /_emu/oauth "$(_emu_json user "$ALICE")" >/dev/null
rc=0
out=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	faketime -f '+0 x30' cstoken login --oauth 2>&1 </dev/null) || rc=$?
assert_eq 1 "$rc" "no code in time: exit status"
assert_eq "cstoken: no authorization code came within 60 s, so nothing was stored; run 'cstoken login --oauth -p default' again and finish in the browser (or paste the address it was sent to) in time" \
	"$(printf '%s\n' "$out" | tail -n 1)" "no code in time: the line"
assert_eq "" "$(oauth_kinds)" "no code in time: nothing stored"
pass "no code within 60 s: one line, nothing stored"

# --- a token answer whose values would become headers: refused, nothing stored -----------------
emu_ctl POST /_emu/faults '{"path": "/token", "responses": [{"status": 200, "body": {"access_token": "cso1\r\nX-Injected: 1", "refresh_token": "csr1", "token_type": "Bearer", "expires_in": 3600, "organization_uid": "blt0000000000000000", "user_uid": "blt1"}}]}' >/dev/null
rc=0
BROWSER=$OAUTH_STANDIN cstoken login --oauth 2>"$CST_TMP/err" || rc=$?
assert_eq 1 "$rc" "hostile token answer: exit status"
assert_contains "$(tail -n 1 "$CST_TMP/err")" "answered the token request without a usable access token" "hostile token answer: the error"
assert_not_contains "$(cat "$CST_TMP/err")" "X-Injected" "hostile token answer: not quoted"
assert_eq "" "$(oauth_kinds)" "hostile token answer: nothing stored"
pass "a token answer with a malformed access token is refused"

# --- a stored session planted malformed: never sent, the fix named ----------------------------
oauth_login
store=$XDG_DATA_HOME/cstoken/credentials
sed -i 's/cso[0-9a-f]*/cso1 X-Injected/' "$store"
emu_ctl DELETE /_emu/requests >/dev/null
rc=0
out=$(cstoken token 2>&1) || rc=$?
assert_eq 1 "$rc" "malformed stored session: exit status"
assert_eq "cstoken: the OAuth session of '$ALICE' on '$CST_EMU_HOST' is stored malformed, so cstoken will not send it; run 'cstoken login --oauth -p default'" \
	"$out" "malformed stored session: the line"
assert_eq 0 "$(emu_ctl GET /_emu/requests | emu_json_get 'len([r for r in j if r["path"].startswith("/v3/")])')" \
	"malformed stored session: nothing sent"
pass "a stored session planted malformed is never sent"
