#!/usr/bin/env bash
# `cstoken login --oauth` end to end with a BROWSER stand-in: the authorize URL as Contentstack's
# SDK builds it, PKCE S256 with a 128-character verifier, the code taken by the loopback
# listener, one OAuth session stored; minting with "authorization: Bearer" and organization_uid;
# status and list name the session's kind; the hosts from app_host and developer_hub_host;
# logout revokes the authorization and forgets the session.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/lib/oauth.sh"
oauth_setup

# --- login with the stand-in browser ----------------------------------------------------------
oauth_login
err=$(cat "$CST_TMP/login.err")
url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$CST_TMP/login.err")
[[ $url =~ ^https://$CST_EMU_HOST/\?response_type=code\&client_id=$OAUTH_CLIENT\&code_challenge=[A-Za-z0-9_-]{43}\&code_challenge_method=S256#!/apps/6400aa06db64de001a31c8a9/authorize$ ]] ||
	fail "authorize URL not as the SDK builds it: '$url'"
assert_contains "$err" "logged in to $CST_EMU_HOST as '$ALICE' (OAuth" "login message"
assert_eq "200" "$(tail -n 1 "$OAUTH_BROWSER_LOG")" "the listener answered the browser"
body=$(emu_ctl GET '/_emu/requests?path=/token' | emu_json_get 'j[0]["body"]')
verifier=$(printf '%s' "$body" | tr '&' '\n' | sed -n 's/^code_verifier=//p')
[[ $verifier =~ ^[A-Za-z0-9._~-]{128}$ ]] || fail "code_verifier is not 128 unreserved characters"
assert_contains "$body" "grant_type=authorization_code&code=" "exchange form"
assert_contains "$body" "redirect_uri=http%3A%2F%2Flocalhost%3A$OAUTH_PORT&client_id=$OAUTH_CLIENT" \
	"redirect_uri percent-encoded"
ctype=$(emu_ctl GET '/_emu/requests?path=/token' | emu_json_get 'j[0]["headers"]["content-type"]')
assert_eq "application/x-www-form-urlencoded" "$ctype" "form-encoded exchange"
assert_eq "oauth" "$(oauth_kinds)" "one OAuth session stored, nothing else"
pass "login --oauth with a browser: the SDK's URL, PKCE S256, one session stored"

# --- every CMA call carries the session's header ----------------------------------------------
emu_ctl DELETE /_emu/requests >/dev/null
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | cstoken get) || fail "get: $out"
assert_contains "$out" "password=cs" "get mints with the OAuth session"
hdrs=$(emu_ctl GET /_emu/requests | emu_json_get '"\n".join("%s %s %s %s" % (r["method"], r["path"], r["headers"].get("authorization", "-")[:7], "org" if "organization_uid" in r["headers"] else "-") + (" authtoken" if "authtoken" in r["headers"] else "") for r in j)')
assert_contains "$hdrs" "POST /v3/stacks/management_tokens Bearer  org" "creation with Bearer and organization_uid"
assert_contains "$hdrs" "GET /v3/stacks/management_tokens Bearer  org" "listing with Bearer and organization_uid"
assert_not_contains "$hdrs" "authtoken" "no authtoken header with an OAuth session"
kinds=$(emu_ctl GET '/_emu/requests?path=/v3/' | emu_json_get '" ".join(sorted(set(str(r["auth"]) for r in j)))')
assert_eq "bearer" "$kinds" "the request log: every CMA call used the Bearer header"
pass "minting with an OAuth session: authorization: Bearer and organization_uid"

# --- status and list name the session's kind and its validity ---------------------------------
out=$(cstoken status) || fail "status: $out"
assert_contains "$out" "OAuth, access token valid until 20" "status: the session's kind and end"
assert_contains "$out" "$ALICE on $CST_EMU_HOST (session accepted)" "status: the session works"
out=$(cstoken list)
assert_contains "$out" "oauth" "list: the session's kind"
exp=$(cstoken list --json | emu_json_get '[i["expiry"] for i in j["items"] if i["kind"] == "oauth"][0]')
now=$(date +%s)
[ "$exp" -gt $((now + 3000)) ] && [ "$exp" -le $((now + 3600)) ] || fail "session expiry $exp not in an hour"
# a session the server refuses: status says to log in again with --oauth
emu_ctl POST /_emu/faults '{"method":"GET","path":"/v3/user","responses":[{"status":401,"body":{"error_message":"The access token is invalid.","error_code":105}}]}' >/dev/null
rc=0
out=$(cstoken status 2>&1) || rc=$?
assert_contains "$out" "(session refused by the server)" "status: a refused session"
assert_contains "$out" "run 'cstoken login --oauth -p default'" "status: how to log in again"
pass "status and list show an OAuth session and until when it is valid"

# --- logout revokes the authorization, then forgets the session -------------------------------
emu_ctl DELETE /_emu/requests >/dev/null
out=$(cstoken logout 2>&1) || fail "logout: $out"
assert_contains "$out" "logged out of $CST_EMU_HOST as '$ALICE'" "logout message"
reqs=$(emu_ctl GET /_emu/requests | emu_json_get '" ".join(r["method"] + ":" + r["path"] for r in j)')
assert_contains "$reqs" "GET:/manifests/6400aa06db64de001a31c8a9/authorizations DELETE:/manifests/6400aa06db64de001a31c8a9/authorizations/blt" \
	"the SDK's revocation"
assert_eq "[]" "$(emu_ctl GET /_emu/oauth | emu_json_get 'j["authorizations"]')" "authorization revoked"
assert_eq "[]" "$(emu_ctl GET /_emu/oauth | emu_json_get 'j["refresh_tokens"]')" "refresh token revoked"
assert_eq "token" "$(oauth_kinds)" "the session is forgotten, the token stays"
pass "logout revokes the OAuth authorization and forgets the session"

# --- a malformed OAuth key is a configuration error naming it --------------------------------
emulator_config bad "$OAUTH_KEY" "$ALICE" "oauth_redirect = ftp://localhost:8184"
rc=0
out=$(cstoken -p bad login --oauth 2>&1) || rc=$?
assert_eq 2 "$rc" "bad oauth_redirect: exit status"
assert_contains "$out" "key 'oauth_redirect'" "bad oauth_redirect: the key named"
emulator_config bad "$OAUTH_KEY" "$ALICE" "auth = sso"
out=$(cstoken -p bad login 2>&1) || true
assert_contains "$out" "key 'auth': 'sso' is not password or oauth" "bad auth: the key named"
emulator_config bad "$OAUTH_KEY" "$ALICE"
pass "malformed OAuth keys are configuration errors"

# --- auth = oauth: plain `login` logs in with OAuth; app_host and developer_hub_host ---------
emulator_config "$OAUTH_KEY" "$ALICE" "auth = oauth" "oauth_redirect = $OAUTH_REDIRECT" \
	"app_host = localhost:${CST_EMU_HOST#*:}" "developer_hub_host = localhost:${CST_EMU_HOST#*:}"
emu_ctl DELETE /_emu/requests >/dev/null
BROWSER=$OAUTH_STANDIN cstoken login 2>"$CST_TMP/login.err" || fail "login with auth = oauth: $(cat "$CST_TMP/login.err")"
assert_contains "$(cat "$CST_TMP/login.err")" "open this page" "auth = oauth logs in in the browser"
assert_contains "$(cat "$CST_TMP/login.err")" "  https://localhost:${CST_EMU_HOST#*:}/?response_type=code" "app_host names the page"
hosts=$(emu_ctl GET /_emu/requests | emu_json_get '" ".join(r["path"] + "@" + r["headers"]["host"] for r in j)')
assert_contains "$hosts" "/token@localhost:${CST_EMU_HOST#*:}" "developer_hub_host takes the token exchange"
assert_contains "$hosts" "/v3/user@$CST_EMU_HOST" "the CMA host stays the CMA's"
assert_eq "oauth token" "$(oauth_kinds | sort | tr '\n' ' ' | sed 's/ $//')" "session stored again"
pass "auth = oauth, app_host and developer_hub_host"

# --- the listener takes one well-formed request with a code; anything else is answered 400 -----
cstoken logout >/dev/null 2>&1 || fail "logout"
cstoken login --oauth </dev/null 2>"$CST_TMP/bg.err" &
bg=$!
cst_on_exit "kill $bg 2>/dev/null; wait $bg 2>/dev/null"
url_ready() { grep -q '^  https://' "$CST_TMP/bg.err"; }
wait_for url_ready
listening() { ss -Hltn "sport = :$OAUTH_PORT" | grep -q LISTEN; }
wait_for listening
assert_eq 400 "$(curl -q -sS -o /dev/null -w '%{http_code}' "$OAUTH_REDIRECT/favicon.ico")" "a request without a code"
assert_eq 400 "$(curl -q -sS -o /dev/null -w '%{http_code}' -X POST -d code=x "$OAUTH_REDIRECT/")" "a POST"
page=$(curl -q -sS "$OAUTH_REDIRECT/?code=not%0Aplain&location=NA")
assert_contains "$page" "carries no authorization code" "a code that is not a plain word"
kill -0 "$bg" || fail "the login ended on a request without a usable code"
"$OAUTH_STANDIN" "$(sed -n 's/^  \(https:.*\)$/\1/p' "$CST_TMP/bg.err")" || fail "the stand-in"
wait "$bg" || fail "login after the stray requests: $(cat "$CST_TMP/bg.err")"
assert_contains "$(cat "$CST_TMP/bg.err")" "logged in to $CST_EMU_HOST as '$ALICE' (OAuth" "login after the stray requests"
listening && fail "the listener still listens after the login"
pass "the listener answers stray requests 400 and takes the one with a code"
