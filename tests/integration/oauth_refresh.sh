#!/usr/bin/env bash
# An OAuth session's access token is refreshed 60 s before it expires, once across processes:
# under faketime '+59 minutes' the next get refreshes once and mints with the new access token;
# 16 parallel gets (16 profiles, each minting) refresh once. A refused refresh gives the re-login
# line: exit 0 for get (git falls through), 1 for token.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
. "$CSTOKEN_SRC/tests/lib/oauth.sh"
oauth_setup
oauth_login

# --- 59 minutes on: the next get refreshes once, then mints -------------------------------------
emu_ctl DELETE /_emu/requests >/dev/null
out=$(cred_get ftime '+59 minutes') || fail "get 59 minutes on: $out"
assert_contains "$out" "password=cs" "get after the refresh answers a token"
assert_eq 1 "$(oauth_grants refresh_token)" "one refresh"
new=$(emu_ctl GET /_emu/oauth | emu_json_get 'j["access_tokens"][-1]')
auth=$(emu_ctl GET "/_emu/requests?path=$MINT_TOKENS&method=POST" | emu_json_get 'j[0]["headers"]["authorization"]')
assert_eq "Bearer $new" "$auth" "the mint used the refreshed access token"
body=$(emu_ctl GET '/_emu/requests?path=/token' | emu_json_get 'j[0]["body"]')
assert_contains "$body" "grant_type=refresh_token&refresh_token=csr" "refresh form"
assert_contains "$body" "&client_id=$OAUTH_CLIENT&redirect_uri=http%3A%2F%2Flocalhost%3A$OAUTH_PORT" "refresh form"
# the refreshed session is stored: a second get at the same time refreshes nothing
emu_ctl DELETE /_emu/requests >/dev/null
ftime '+59 minutes' cstoken list --remote >/dev/null || fail "list --remote"
assert_eq 0 "$(oauth_grants refresh_token)" "the refreshed session is reused"
pass "59 minutes on: one refresh, then the mint with the new access token"

# --- 16 parallel gets of 16 profiles with an access token about to expire: one refresh ----------
for i in $(seq -w 1 16); do
	emu_stack "blt00000000000000$i" "$ALICE"
	emulator_config "p$i" "blt00000000000000$i" "$ALICE" "auth = oauth" "oauth_redirect = $OAUTH_REDIRECT"
done
emu_ctl DELETE /_emu/requests >/dev/null
pids=()
for i in $(seq -w 1 16); do
	printf 'protocol=https\nhost=%s\nusername=blt00000000000000%s\n\n' "$CST_EMU_HOST" "$i" |
		ftime '+118 minutes' cstoken get >"$CST_TMP/get$i.out" 2>"$CST_TMP/get$i.err" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a parallel get failed: $(cat "$CST_TMP"/get*.err)"
done
for i in $(seq -w 1 16); do
	assert_contains "$(cat "$CST_TMP/get$i.out")" "password=cs" "parallel get $i answered"
done
assert_eq 1 "$(oauth_grants refresh_token)" "16 parallel gets: one refresh"
assert_eq 16 "$(token_posts)" "16 parallel gets: 16 mints"
pass "16 parallel gets with an expiring access token: one refresh"

# --- a refused refresh: the re-login line; get exits 0, token 1 --------------------------------
emu_ctl POST /_emu/oauth/revoke_refresh "$(_emu_json email "$ALICE")" >/dev/null
emu_stack blt0000000000000099 "$ALICE"
emulator_config p99 blt0000000000000099 "$ALICE" "auth = oauth" "oauth_redirect = $OAUTH_REDIRECT"
line="cstoken: the OAuth session of '$ALICE' on '$CST_EMU_HOST' was refused when renewed; run 'cstoken login --oauth -p p99'"
rc=0
out=$(printf 'protocol=https\nhost=%s\nusername=blt0000000000000099\n\n' "$CST_EMU_HOST" |
	ftime '+180 minutes' cstoken get 2>"$CST_TMP/err") || rc=$?
assert_eq 0 "$rc" "get with a refused refresh: exit status"
assert_eq "" "$out" "get with a refused refresh: no answer"
assert_eq "$line" "$(cat "$CST_TMP/err")" "get with a refused refresh: the re-login line"
rc=0
out=$(ftime '+180 minutes' cstoken -p p99 token 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "token with a refused refresh: exit status"
assert_eq "" "$out" "token with a refused refresh: no token"
assert_eq "$line" "$(cat "$CST_TMP/err")" "token with a refused refresh: the re-login line"
pass "a refused refresh: one re-login line, exit 0 for get and 1 for token"

# --- logout of a session the server refused: nothing to revoke, the session forgotten ---------
out=$(ftime '+180 minutes' cstoken -p p99 logout 2>&1) || fail "logout of a refused session: $out"
assert_eq "cstoken: logged out of $CST_EMU_HOST (the server had ended the session)" "$out" "logout of a refused session"
assert_not_contains "$(oauth_kinds)" "oauth" "the refused session is forgotten"
pass "logout of a refused OAuth session forgets it"
