#!/usr/bin/env bash
# The CMA emulator itself, driven with the real curl program: login, 2FA, the authtoken cap,
# management tokens (create/list/get/update/delete, validation, eviction at the limit, expiry),
# token use, OAuth (authorize, both grants, Bearer, authorizations), the control API, every kind
# of fault, robustness, shutdown.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/lib/emulator.sh"

emulator_start
[ -s "$CST_EMU_DIR/ca.pem" ] || fail "no ca.pem"
[ -s "$CST_EMU_DIR/wrong-ca.pem" ] || fail "no wrong-ca.pem"
assert_contains "$CST_EMU_URL" "https://127.0.0.1:" "CST_EMU_URL"

# cma METHOD PATH [JSON] [HEADER...]: sets STATUS and BODY; HDRS holds the response headers.
cma() {
	local method=$1 path=$2
	local args=(-q -sS --noproxy '*' --cacert "$CST_EMU_CA" -X "$method")
	shift 2
	if [ $# -ge 1 ] && [ -z "$1" ]; then
		shift
	elif [ $# -ge 1 ] && [ "${1:0:1}" = "{" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$1")
		shift
	fi
	local h
	for h in "$@"; do
		args+=(-H "$h")
	done
	STATUS=$(curl "${args[@]}" -D "$CST_TMP/hdrs" -o "$CST_TMP/body" -w '%{http_code}' \
		"$CST_EMU_URL$path")
	BODY=$(cat "$CST_TMP/body")
	HDRS=$(tr -d '\r' <"$CST_TMP/hdrs" | tr '[:upper:]' '[:lower:]')
}
jget() { printf '%s' "$BODY" | emu_json_get "$1"; }
state() { emu_ctl GET /_emu/state | emu_json_get "$1"; }

# --- TLS: the CA verifies the server under both names; the wrong CA does not
out=$(curl -q -sS --cacert "$CST_EMU_CA" "https://localhost:${CST_EMU_HOST#*:}/v3/x" || true)
assert_contains "$out" '"error_code": 404' "localhost name in the certificate"
rc=0
curl -q -sS --cacert "$CST_EMU_DIR/wrong-ca.pem" "$CST_EMU_URL/v3/user" >/dev/null 2>&1 || rc=$?
assert_eq 60 "$rc" "curl exit status with the wrong CA"
pass "tls"

# --- users and login
ALICE=alice@example.com
BOB=bob@example.com
SECRET=JBSWY3DPEHPK3PXP
KEY=blt0123456789abcdef
emu_user "$ALICE" 'alice "pw"'
emu_user "$BOB" bobpw "$SECRET"
emu_stack "$KEY" "$ALICE" 3

cma POST /v3/user-session '{"user":{"email":"alice@example.com","password":"nope"}}'
assert_eq 422 "$STATUS" "wrong password status"
assert_eq 104 "$(jget 'j["error_code"]')" "wrong password error_code"
cma POST /v3/user-session '{"user":{"email":"alice@example.com","password":"alice \"pw\""}}'
assert_eq 200 "$STATUS" "login status"
assert_eq "Login Successful." "$(jget 'j["notice"]')" "login notice"
AUTH=$(jget 'j["user"]["authtoken"]')
assert_contains "$AUTH" blt "authtoken shape"
assert_contains "$HDRS" "x-ratelimit-limit: 10" "rate limit header"
assert_contains "$HDRS" "x-ratelimit-remaining:" "rate limit remaining header"

cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 200 "$STATUS" "GET /v3/user"
assert_eq "$ALICE" "$(jget 'j["user"]["email"]')" "GET /v3/user email"
cma GET /v3/user "" "authtoken: bltnotatoken"
assert_eq 401 "$STATUS" "GET /v3/user with a bad authtoken"
assert_eq 105 "$(jget 'j["error_code"]')" "bad authtoken error_code"
cma POST /v3/user-session '{"user":{"email":"alice@example.com","password":"x"' 
assert_eq 400 "$STATUS" "non-JSON login body"
cma POST /v3/user-session '{"user":{"email":"alice@example.com","password":"alice \"pw\""}}' \
	"Content-Type: text/plain"
assert_eq 415 "$STATUS" "login without application/json"
pass "login"

# --- 2FA
cma POST /v3/user-session '{"user":{"email":"bob@example.com","password":"bobpw"}}'
assert_eq 401 "$STATUS" "2FA user without a code"
assert_eq 294 "$(jget 'j["error_code"]')" "2FA error_code"
assert_eq totp "$(jget 'j["tfa_type"]')" "2FA tfa_type"
code=$(emu_totp "$SECRET")
wrong=$(printf '%06d' $(((10#$code + 1) % 1000000)))
cma POST /v3/user-session "{\"user\":{\"email\":\"bob@example.com\",\"password\":\"bobpw\",\"tfa_token\":\"$wrong\"}}"
assert_eq 294 "$(jget 'j["error_code"]')" "wrong 2FA code"
cma POST /v3/user-session "{\"user\":{\"email\":\"bob@example.com\",\"password\":\"bobpw\",\"tfa_token\":\"$(emu_totp "$SECRET" -30)\"}}"
assert_eq 200 "$STATUS" "2FA login with the previous window's code"
# emu_totp itself against RFC 6238's test vectors (the SHA-1 key, at T = 59 and 1111111109),
# so the emulator is not only checked against the tests' own arithmetic
assert_eq 287082 "$(emu_totp GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 0 59)" "RFC 6238 code at T = 59"
assert_eq 081804 "$(emu_totp GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 0 1111111109)" \
	"RFC 6238 code at T = 1111111109"
code=$(emu_totp JBSWY3DPEHPK3PXP)
cma POST /v3/user-session "{\"user\":{\"email\":\"bob@example.com\",\"password\":\"bobpw\",\"tfa_token\":\"$code\"}}"
assert_eq 200 "$STATUS" "2FA login"
BOBAUTH=$(jget 'j["user"]["authtoken"]')
pass "2fa"

# --- management tokens ($all is a module name, not a shell variable)
T=/v3/stacks/management_tokens
# shellcheck disable=SC2016
SCOPE='[{"module":"$all","acl":{"read":true,"write":false}},{"module":"branch","branches":["main"],"acl":{"read":true}}]'
# shellcheck disable=SC2016
cma POST $T '{"token":{"name":"no scope","scope":[{"module":"$all","acl":{"read":true}}]}}' \
	"api_key: $KEY" "authtoken: $AUTH"
assert_eq 422 "$STATUS" "create without a branch scope"
assert_contains "$BODY" "scope.branch_or_alias" "missing branch scope error"
cma POST $T '{"token":{"name":"x","scope":[{"module":"branch","branches":["nope"],"acl":{"read":true}}]}}' \
	"api_key: $KEY" "authtoken: $AUTH"
assert_eq 900 "$(jget 'j["error_code"]')" "unknown branch error_code"
cma POST $T "{\"token\":{\"scope\":$SCOPE}}" "api_key: $KEY" "authtoken: $AUTH"
assert_eq 422 "$STATUS" "create without a name"
cma POST $T "{\"token\":{\"name\":\"t1\",\"scope\":$SCOPE}}" "api_key: nokey" "authtoken: $AUTH"
assert_eq 412 "$STATUS" "unknown api_key status"
assert_eq 109 "$(jget 'j["error_code"]')" "unknown api_key error_code"
cma POST $T "{\"token\":{\"name\":\"t1\",\"scope\":$SCOPE}}" "api_key: $KEY" "authtoken: bltbad"
assert_eq 105 "$(jget 'j["error_code"]')" "bad authtoken on create"
cma POST $T "{\"token\":{\"name\":\"t1\",\"scope\":$SCOPE}}" "api_key: $KEY" "authtoken: $BOBAUTH"
assert_eq 412 "$STATUS" "a non-member may not create tokens"

cma POST $T "{\"token\":{\"name\":\"t1\",\"description\":\"d\",\"scope\":$SCOPE,\"expires_on\":\"2099-12-31\"}}" \
	"api_key: $KEY" "authtoken: $AUTH"
assert_eq 200 "$STATUS" "create"
assert_eq "Management Token created successfully." "$(jget 'j["notice"]')" "create notice"
TOK1=$(jget 'j["token"]["token"]')
UID1=$(jget 'j["token"]["uid"]')
assert_contains "$TOK1" cs "token value shape"
assert_eq 2099-12-31 "$(jget 'j["token"]["expires_on"]')" "expires_on echoed"

cma GET $T "" "api_key: $KEY" "authtoken: $AUTH"
assert_eq 1 "$(jget 'len(j["tokens"])')" "list length"
assert_not_contains "$BODY" "$TOK1" "list carries no token value"
cma GET "$T/$UID1" "" "api_key: $KEY" "authtoken: $AUTH"
assert_eq t1 "$(jget 'j["token"]["name"]')" "get one token"
assert_not_contains "$BODY" "$TOK1" "get carries no token value"
cma PUT "$T/$UID1" '{"token":{"name":"t1 renamed"}}' "api_key: $KEY" "authtoken: $AUTH"
assert_eq "t1 renamed" "$(jget 'j["token"]["name"]')" "update"
cma GET $T "" "api_key: $KEY" "authorization: $TOK1"
assert_eq 401 "$STATUS" "a management token cannot list tokens"
assert_eq 105 "$(jget 'j["error_code"]')" "management token on token endpoints"

# using the token
cma GET '/v3/environments?limit=1' "" "api_key: $KEY" "authorization: $TOK1"
assert_eq 200 "$STATUS" "environments with the token"
assert_eq 1 "$(jget 'len(j["environments"])')" "environments limit=1"
cma GET /v3/content_types "" "api_key: $KEY" "authorization: $TOK1"
assert_eq '[]' "$(jget 'j["content_types"]')" "content_types with the token"
cma GET /v3/content_types "" "api_key: $KEY" "authtoken: $AUTH"
assert_eq 200 "$STATUS" "content_types with an authtoken"
cma GET /v3/environments "" "api_key: $KEY" "authorization: cs0000"
assert_eq 105 "$(jget 'j["error_code"]')" "a wrong token"
cma GET /v3/environments "" "api_key: $KEY" "authorization: $TOK1" "branch: development"
assert_eq 401 "$STATUS" "branch outside the token's scope"

cma DELETE "$T/$UID1" "" "api_key: $KEY" "authtoken: $AUTH"
assert_eq "Management Token deleted successfully." "$(jget 'j["notice"]')" "delete notice"
cma GET /v3/environments "" "api_key: $KEY" "authorization: $TOK1"
assert_eq 401 "$STATUS" "a deleted token is refused"
cma DELETE "$T/$UID1" "" "api_key: $KEY" "authtoken: $AUTH"
assert_eq 422 "$STATUS" "deleting twice"
assert_eq 141 "$(jget 'j["error_code"]')" "deleting twice error_code"
assert_eq "[\"$UID1\"]" "$(state "j['stacks']['$KEY']['deleted']")" "state lists the deleted uid"
pass "management tokens"

# --- eviction at the stack's limit (3 here): the 4th silently deletes the oldest
uids=()
for i in 1 2 3 4; do
	cma POST $T "{\"token\":{\"name\":\"e$i\",\"scope\":[{\"module\":\"branch_alias\",\"branch_aliases\":[\"deploy\"],\"acl\":{\"read\":true}}]}}" \
		"api_key: $KEY" "authtoken: $AUTH"
	assert_eq 200 "$STATUS" "create e$i"
	uids+=("$(jget 'j["token"]["uid"]')")
	if [ "$i" = 1 ]; then
		E1=$(jget 'j["token"]["token"]')
	fi
done
cma GET $T "" "api_key: $KEY" "authtoken: $AUTH"
assert_eq '["e2", "e3", "e4"]' "$(jget '[t["name"] for t in j["tokens"]]')" "tokens after eviction"
assert_eq "[\"${uids[0]}\"]" "$(state "j['stacks']['$KEY']['evicted']")" "evicted uid"
cma GET /v3/environments "" "api_key: $KEY" "authorization: $E1"
assert_eq 401 "$STATUS" "an evicted token is refused"
# a foreign token counts too, and evicts e2
FOREIGN=$(emu_ctl POST /_emu/tokens "{\"api_key\":\"$KEY\",\"name\":\"someone else\"}")
FTOK=$(printf '%s' "$FOREIGN" | emu_json_get 'j["token"]')
cma GET /v3/environments "" "api_key: $KEY" "authorization: $FTOK"
assert_eq 200 "$STATUS" "a foreign token works"
assert_eq 2 "$(state "len(j['stacks']['$KEY']['evicted'])")" "a foreign token evicts too"
pass "eviction"

# --- expiry: expired when the emulator's UTC date >= expires_on
today=$(date -u +%F)
tomorrow=$(date -u -d tomorrow +%F)
XT=$(emu_ctl POST /_emu/tokens "{\"api_key\":\"$KEY\",\"name\":\"today\",\"expires_on\":\"$today\"}" |
	emu_json_get 'j["token"]')
cma GET /v3/environments "" "api_key: $KEY" "authorization: $XT"
assert_eq 401 "$STATUS" "a token expiring today is expired"
YT=$(emu_ctl POST /_emu/tokens "{\"api_key\":\"$KEY\",\"name\":\"tomorrow\",\"expires_on\":\"$tomorrow\"}" |
	emu_json_get 'j["token"]')
cma GET /v3/environments "" "api_key: $KEY" "authorization: $YT"
assert_eq 200 "$STATUS" "a token expiring tomorrow works today"
emu_ctl POST /_emu/clock '{"offset_days": 1}' >/dev/null
cma GET /v3/environments "" "api_key: $KEY" "authorization: $YT"
assert_eq 401 "$STATUS" "a token expiring tomorrow is expired tomorrow"
emu_ctl POST /_emu/clock '{"offset_seconds": 0}' >/dev/null
pass "expiry"

# --- authtokens: at most 20 per user, the 21st login evicts the oldest; logout revokes
CAROL=carol@example.com
emu_user "$CAROL" cpw
first=
for i in $(seq 1 21); do
	cma POST /v3/user-session '{"user":{"email":"carol@example.com","password":"cpw"}}'
	assert_eq 200 "$STATUS" "login $i"
	[ -n "$first" ] || first=$(jget 'j["user"]["authtoken"]')
	last=$(jget 'j["user"]["authtoken"]')
done
cma GET /v3/user "" "authtoken: $first"
assert_eq 401 "$STATUS" "the oldest authtoken after 21 logins"
assert_eq 20 "$(state "len(j['users']['$CAROL']['authtokens'])")" "live authtokens"
cma GET /v3/user "" "authtoken: $last"
assert_eq 200 "$STATUS" "the newest authtoken"
cma DELETE /v3/user-session "" "authtoken: $last"
assert_eq "You've logged out successfully!" "$(jget 'j["notice"]')" "logout notice"
cma GET /v3/user "" "authtoken: $last"
assert_eq 401 "$STATUS" "authtoken after logout"
pass "authtokens"

# --- request log
emu_ctl POST /_emu/reset '{}' >/dev/null
cma POST $T "{\"token\":{\"name\":\"logged\",\"scope\":$SCOPE}}" "api_key: $KEY" "authtoken: $AUTH" "X-Mixed-Case: v"
reqs=$(emu_ctl GET /_emu/requests)
assert_eq 1 "$(printf '%s' "$reqs" | emu_json_get 'len(j)')" "one request logged after reset"
assert_eq logged "$(printf '%s' "$reqs" | emu_json_get 'j[0]["body"]["token"]["name"]')" "parsed body"
assert_eq "$KEY" "$(printf '%s' "$reqs" | emu_json_get 'j[0]["headers"]["api_key"]')" "headers"
assert_eq v "$(printf '%s' "$reqs" | emu_json_get 'j[0]["headers"]["x-mixed-case"]')" "lower-case names"
cma GET '/v3/environments?limit=1' "" "api_key: $KEY" "authorization: $YT"
assert_eq 'limit=1' "$(emu_ctl GET '/_emu/requests?path=/v3/env' | emu_json_get 'j[0]["query"]')" "query"
pass "request log"

# --- faults
fault() { emu_ctl POST /_emu/faults "$1" >/dev/null; }
fault '{"method":"GET","path":"/v3/user","responses":[{"status":429,"headers":{"Retry-After":"1"},"body":{"error_message":"slow down","error_code":429}},{"status":500},{"status":502},{"status":504}]}'
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 429 "$STATUS" "429 fault"
assert_contains "$HDRS" "retry-after: 1" "Retry-After header"
assert_eq "slow down" "$(jget 'j["error_message"]')" "429 body"
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 500 "$STATUS" "500 fault"
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 502 "$STATUS" "502 fault"
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 504 "$STATUS" "504 fault"
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 200 "$STATUS" "faults are consumed"
# POST-only fault does not hit a GET
fault '{"method":"POST","path":"/v3/user","responses":[{"status":500}]}'
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 200 "$STATUS" "a fault for another method"
emu_ctl DELETE /_emu/faults >/dev/null

fault '{"path":"/v3/user","responses":[{"reset":true}]}'
rc=0
curl -q -sS --cacert "$CST_EMU_CA" -H "authtoken: $AUTH" "$CST_EMU_URL/v3/user" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a reset must fail the request"
pass "reset (curl exit $rc)"

fault '{"path":"/v3/user","responses":[{"raw":"not json","status":200}]}'
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 200 "$STATUS" "raw fault status"
assert_eq "not json" "$BODY" "raw fault body"

fault '{"path":"/v3/user","responses":[{"truncate":true}]}'
rc=0
curl -q -sS --cacert "$CST_EMU_CA" -H "authtoken: $AUTH" "$CST_EMU_URL/v3/user" >/dev/null 2>&1 || rc=$?
assert_eq 18 "$rc" "curl exit status for a truncated body"

fault '{"path":"/v3/user","responses":[{"redirect":"https://elsewhere.example/"}]}'
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 302 "$STATUS" "redirect status"
assert_contains "$HDRS" "location: https://elsewhere.example/" "redirect Location"

# a processed-then-reset create: the token exists though the client never saw it
before=$(state "len(j['stacks']['$KEY']['tokens']) + len(j['stacks']['$KEY']['evicted'])")
fault "{\"method\":\"POST\",\"path\":\"$T\",\"responses\":[{\"reset\":true,\"process\":true}]}"
rc=0
curl -q -sS --cacert "$CST_EMU_CA" -H "api_key: $KEY" -H "authtoken: $AUTH" \
	-H 'Content-Type: application/json' --data-binary "{\"token\":{\"name\":\"lost\",\"scope\":$SCOPE}}" \
	"$CST_EMU_URL$T" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "reset after processing must fail the request"
after=$(state "len(j['stacks']['$KEY']['tokens']) + len(j['stacks']['$KEY']['evicted'])")
assert_eq $((before + 1)) "$after" "a processed-then-reset create minted a token"

# a delayed answer does not block other requests: while one waits 30 s, another is answered
fault '{"path":"/v3/user","responses":[{"delay":30}]}'
curl -q -sS --cacert "$CST_EMU_CA" -H "authtoken: $AUTH" "$CST_EMU_URL/v3/user" \
	>"$CST_TMP/slow" 2>&1 &
slow=$!
cst_on_exit "kill $slow 2>/dev/null"
delayed_seen() {
	[ "$(emu_ctl GET '/_emu/requests?path=/v3/user' |
		emu_json_get 'len([r for r in j if r.get("fault", {}).get("delay") == 30])')" = 1 ]
}
wait_for delayed_seen
out=$(curl -q -sS --max-time 15 --cacert "$CST_EMU_CA" -H "api_key: $KEY" -H "authtoken: $AUTH" \
	"$CST_EMU_URL/v3/stacks")
assert_contains "$out" '"api_key"' "an answer while another request is delayed"
kill -0 "$slow" 2>/dev/null || fail "the delayed request was answered early: $(cat "$CST_TMP/slow")"
kill "$slow" 2>/dev/null || true
wait "$slow" 2>/dev/null || true

# a held answer comes when the test releases it, not before
fault '{"path":"/v3/user","responses":[{"hold":"h1"}]}'
curl -q -sS --cacert "$CST_EMU_CA" -H "authtoken: $AUTH" "$CST_EMU_URL/v3/user" \
	>"$CST_TMP/held" 2>&1 &
held=$!
cst_on_exit "kill $held 2>/dev/null"
held_seen() {
	[ "$(emu_ctl GET '/_emu/requests?path=/v3/user' |
		emu_json_get 'len([r for r in j if r.get("fault", {}).get("hold") == "h1"])')" = 1 ]
}
wait_for held_seen
kill -0 "$held" 2>/dev/null || fail "the held request was answered early: $(cat "$CST_TMP/held")"
assert_contains "$(emu_ctl POST /_emu/release '{"hold":"h1"}')" '"released"' "release"
wait "$held" || fail "the released request failed: $(cat "$CST_TMP/held")"
assert_contains "$(cat "$CST_TMP/held")" '"user"' "the released request's answer"
assert_contains "$(emu_ctl POST /_emu/release '{}' 2>&1 || true)" "hold" "a release without a name"

n=$(emu_ctl GET /_emu/requests | emu_json_get 'len([r for r in j if "fault" in r])')
assert_eq 11 "$n" "faulted requests are logged"
pass "faults"

# --- robustness: garbage over TLS, plain HTTP, a huge Content-Length, a malformed path
printf 'GARBAGE\r\n\r\n' | timeout 10 openssl s_client -quiet -connect "$CST_EMU_HOST" \
	-CAfile "$CST_EMU_CA" >/dev/null 2>&1 || true
printf 'POST /v3/user-session HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n' |
	timeout 10 openssl s_client -quiet -connect "$CST_EMU_HOST" -CAfile "$CST_EMU_CA" \
		>/dev/null 2>&1 || true
curl -q -sS --max-time 10 "http://$CST_EMU_HOST/v3/user" >/dev/null 2>&1 || true
cma GET '/v3/%ff%00/../..' ""
assert_eq 404 "$STATUS" "a malformed path"
cma GET /v3/user "" "authtoken: $AUTH"
assert_eq 200 "$STATUS" "still serving after malformed requests"
pass "robustness"

# --- OAuth: authorize, the token endpoint's two grants, Bearer on the CMA, authorizations
cma GET "/apps/6400aa06db64de001a31c8a9/authorize?response_type=code&client_id=Ie0FEfTzlfAHL4xM&code_challenge=TMWa0irMnf6EG-q4VVyTH9ah2wDWHk1gvmLW2otmmP0&code_challenge_method=S256" ""
assert_eq 302 "$STATUS" "authorize without a preset user still redirects"
assert_contains "$HDRS" "location: http://localhost:8184?error=access_denied" "nobody approves"
emu_ctl POST /_emu/oauth "{\"user\": \"$ALICE\"}" >/dev/null
# base64url(SHA-256(V)) is the code_challenge the authorize requests give
V=dBjftJeZ4CVP-mJ92K1jmpoGlHJlTuT2DjVEZ5bQrMk
cma GET "/apps/6400aa06db64de001a31c8a9/authorize?response_type=code&client_id=Ie0FEfTzlfAHL4xM&code_challenge=TMWa0irMnf6EG-q4VVyTH9ah2wDWHk1gvmLW2otmmP0&code_challenge_method=S256" ""
assert_eq 302 "$STATUS" "authorize"
code=$(sed -n 's/^location: http:\/\/localhost:8184?code=\([0-9a-f]*\)&location=na$/\1/p' <<<"$HDRS")
[ -n "$code" ] || fail "no code in the redirect: $HDRS"
form() { # FIELDS...: POST /token form-encoded
	local a=(-q -sS --noproxy '*' --cacert "$CST_EMU_CA" -o "$CST_TMP/body" -w '%{http_code}') f
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	STATUS=$(curl "${a[@]}" "$CST_EMU_URL/token")
	BODY=$(cat "$CST_TMP/body")
}
form grant_type=authorization_code "code=$code" redirect_uri=http://localhost:8184 \
	client_id=Ie0FEfTzlfAHL4xM "code_verifier=${V}x"
assert_eq 400 "$STATUS" "a wrong verifier"
assert_contains "$BODY" "code_verifier does not match" "a wrong verifier's error"
form grant_type=authorization_code "code=$code" redirect_uri=http://localhost:8184 \
	client_id=Ie0FEfTzlfAHL4xM "code_verifier=$V"
assert_eq 400 "$STATUS" "a code is good once, even after a failed exchange"
cma GET "/apps/6400aa06db64de001a31c8a9/authorize?response_type=code&client_id=Ie0FEfTzlfAHL4xM&code_challenge=TMWa0irMnf6EG-q4VVyTH9ah2wDWHk1gvmLW2otmmP0&code_challenge_method=S256" ""
code=$(sed -n 's/^location: http:\/\/localhost:8184?code=\([0-9a-f]*\)&location=na$/\1/p' <<<"$HDRS")
form grant_type=authorization_code "code=$code" redirect_uri=http://localhost:8184 \
	client_id=Ie0FEfTzlfAHL4xM "code_verifier=$V"
assert_eq 200 "$STATUS" "the exchange ($BODY)"
assert_eq 3600 "$(jget 'j["expires_in"]')" "a 60-minute access token"
access=$(jget 'j["access_token"]')
refresh=$(jget 'j["refresh_token"]')
org=$(jget 'j["organization_uid"]')
cma GET /v3/user "" "authorization: Bearer $access"
assert_eq 200 "$STATUS" "Bearer on /v3/user"
cma GET /v3/stacks/management_tokens "" "api_key: $KEY" "authorization: Bearer $access"
assert_eq 401 "$STATUS" "token management wants organization_uid"
cma GET /v3/stacks/management_tokens "" "api_key: $KEY" "authorization: Bearer $access" "organization_uid: $org"
assert_eq 200 "$STATUS" "token management with Bearer and organization_uid"
assert_eq bearer "$(emu_ctl GET /_emu/requests | emu_json_get 'j[-1]["auth"]')" "the log names the header"
form grant_type=refresh_token "refresh_token=$refresh" client_id=Ie0FEfTzlfAHL4xM redirect_uri=http://localhost:8184
assert_eq 200 "$STATUS" "refresh"
refresh2=$(jget 'j["refresh_token"]')
form grant_type=refresh_token "refresh_token=$refresh" client_id=Ie0FEfTzlfAHL4xM redirect_uri=http://localhost:8184
assert_eq 400 "$STATUS" "a refresh token is retired by its use"
cma GET /manifests/6400aa06db64de001a31c8a9/authorizations "" "authorization: Bearer $access" "organization_uid: $org"
assert_eq 200 "$STATUS" "authorizations"
authz=$(jget 'j["data"][0]["authorization_uid"]')
cma DELETE "/manifests/6400aa06db64de001a31c8a9/authorizations/$authz" "" "authorization: Bearer $access" "organization_uid: $org"
assert_eq 204 "$STATUS" "revoke the authorization"
form grant_type=refresh_token "refresh_token=$refresh2" client_id=Ie0FEfTzlfAHL4xM redirect_uri=http://localhost:8184
assert_eq 400 "$STATUS" "a revoked authorization's refresh token"
cma GET /v3/user "" "authorization: Bearer $access"
assert_eq 401 "$STATUS" "a revoked authorization's access token"
pass "OAuth"

# --- emulator_config
emulator_config "$KEY" "$ALICE" "lifetime = 3d"
emulator_config second "$KEY" "$BOB"
emulator_config "$KEY" "$ALICE" "lifetime = 5d"
cfg=$(cat "$XDG_CONFIG_HOME/cstoken/config")
assert_contains "$cfg" "[profile default]" "default profile"
assert_contains "$cfg" "host = $CST_EMU_HOST" "host line"
assert_contains "$cfg" "ca_file = $CST_EMU_CA" "ca_file line"
assert_contains "$cfg" "lifetime = 5d" "extra line"
assert_not_contains "$cfg" "lifetime = 3d" "replaced section"
assert_contains "$cfg" "email = $BOB" "second profile kept"
assert_eq 1 "$(grep -c '^\[profile default\]' <<<"$cfg")" "one default section"
pass "emulator_config"

# --- reset all, then SIGTERM stops it and removes the port file
emu_ctl POST /_emu/reset '{"all":true}' >/dev/null
assert_eq '{}' "$(state 'j["users"]')" "reset all clears users"
kill "$CST_EMU_PID"
wait "$CST_EMU_PID" || fail "emulator exit status on SIGTERM"
[ ! -e "$CST_EMU_DIR/port" ] || fail "port file left behind"
pass "shutdown"
