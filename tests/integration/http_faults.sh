#!/usr/bin/env bash
# The HTTP client under faults, driven through `cstoken login` against the local emulator:
# retries with Retry-After and backoff, bounded attempts, clear one-line errors, TLS always
# verified, redirects never followed. Then the token calls of the client (test_cma).
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
emulator_sandbox
PW='alice pw'
emu_user "$ALICE" "$PW"
emu_stack blt0123456789abcdef "$ALICE"
emulator_config blt0123456789abcdef "$ALICE"
STORE=$XDG_DATA_HOME/cstoken/credentials

# fresh: nothing stored, no faults, an empty request log.
fresh() {
	rm -f "$STORE"
	emu_ctl DELETE /_emu/faults >/dev/null
	emu_ctl DELETE /_emu/requests >/dev/null
}

# fault JSON_RESPONSES: the next POST /v3/user-session answers take these responses.
fault() {
	emu_ctl POST /_emu/faults \
		"{\"method\": \"POST\", \"path\": \"/v3/user-session\", \"responses\": $1}" >/dev/null
}

logins() {
	emu_ctl GET '/_emu/requests?path=/v3/user-session&method=POST' | emu_json_get 'len(j)'
}

stored() {
	[ -f "$STORE" ] && grep -c '"authtoken"' "$STORE" || echo 0
}

# login_ok: logs in with -v; the output goes to $out.
login_ok() {
	out=$(printf '%s\n' "$PW" | cstoken -v login --password-stdin 2>&1) || fail "login failed: $out"
	assert_not_contains "$out" "$PW" "verbose login output"
	assert_eq 1 "$(stored)" "stored authtokens"
}

# login_fails: logs in, expects exit 1 and exactly one line on stderr in $out.
login_fails() {
	set +e
	out=$(printf '%s\n' "$PW" | cstoken login --password-stdin 2>&1)
	local rc=$?
	set -e
	assert_eq 1 "$rc" "exit status"
	assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "lines on stderr ($out)"
	case "$out" in cstoken:\ *) ;; *) fail "error line without 'cstoken: ': $out" ;; esac
	assert_not_contains "$out" "$PW" "error line"
	assert_eq 0 "$(stored)" "stored authtokens after a failure"
}

# --- retried, then success -------------------------------------------------------------------
fresh
fault '[{"status": 429, "headers": {"Retry-After": "1"}}]'
login_ok
assert_contains "$out" "POST /v3/user-session: HTTP 429 (attempt 1 of 4); retrying in 1.0 s" \
	"Retry-After honoured"
assert_eq 2 "$(logins)" "POSTs after a 429"
pass "429 with Retry-After (seconds), then success"

fresh
when=$(LC_ALL=C date -u -d '+1 second' '+%a, %d %b %Y %H:%M:%S GMT')
fault "[{\"status\": 429, \"headers\": {\"Retry-After\": \"$when\"}}]"
login_ok
assert_contains "$out" "HTTP 429 (attempt 1 of 4); retrying in" "Retry-After date honoured"
assert_eq 2 "$(logins)" "POSTs after a 429 with a date"
pass "429 with Retry-After (HTTP-date), then success"

fresh
fault '[{"status": 500}, {"status": 503}]'
login_ok
assert_contains "$out" "HTTP 500 (attempt 1 of 4); retrying" "backoff after a 500"
assert_contains "$out" "HTTP 503 (attempt 2 of 4); retrying" "backoff after a 503"
assert_eq 3 "$(logins)" "POSTs after 500, 503"
pass "5xx, then success"

fresh
fault '[{"reset": true}]'
login_ok
assert_eq 2 "$(logins)" "POSTs after a reset"
pass "connection reset, then success"

fresh
fault '[{"truncate": true}]'
login_ok
assert_eq 2 "$(logins)" "POSTs after a truncated answer"
pass "truncated answer, then success"

# --- bounded attempts, then one clear line ---------------------------------------------------
fresh
fault '[{"status": 500}, {"status": 500}, {"status": 500}, {"status": 500}, {"status": 500}, {"status": 500}]'
login_fails
assert_contains "$out" "answered HTTP 500 to POST /v3/user-session after 4 attempts" "endless 500"
assert_contains "$out" "try again later" "endless 500 says what to do"
assert_eq 4 "$(logins)" "POSTs for an endless 500"
pass "endless 500: 4 attempts, then a clear error"

fresh
fault '[{"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429}]'
login_fails
assert_contains "$out" "is rate limiting requests" "endless 429"
assert_eq 4 "$(logins)" "POSTs for an endless 429"
pass "endless 429: CST_ERR_RATE_LIMITED after 4 attempts"

fresh
fault '[{"status": 400, "body": {"error_message": "Bad things.", "error_code": 999}}]'
login_fails
assert_contains "$out" "rejected POST /v3/user-session (HTTP 400, error 999): Bad things;" \
	"a 4xx with the server's message"
assert_eq 1 "$(logins)" "POSTs for a 400"
pass "another 4xx is never retried"

fresh
fault '[{"raw": "<html>not json</html>", "status": 200}]'
login_fails
assert_contains "$out" "with something that is not JSON (HTTP 200: '<html>not json</html>')" \
	"non-JSON answer"
assert_eq 1 "$(logins)" "POSTs for a non-JSON answer"
pass "a non-JSON body is a clear error"

fresh
fault '[{"raw": "{\"user\": {\"authtoken\": \"blt", "status": 200}]'
login_fails
assert_contains "$out" "truncated or malformed JSON" "broken JSON answer"
assert_not_contains "$out" "blt" "broken JSON is never quoted"
pass "broken JSON is a clear error and is not quoted"

# --- TLS is always verified ------------------------------------------------------------------
fresh
emulator_config blt0123456789abcdef "$ALICE"
sed -i "s|^ca_file = .*|ca_file = $CST_EMU_DIR/wrong-ca.pem|" "$XDG_CONFIG_HOME/cstoken/config"
login_fails
assert_contains "$out" "cannot verify the TLS certificate of '$CST_EMU_HOST'" "wrong CA"
assert_contains "$out" "set ca_file" "wrong CA says what to do"
assert_eq 0 "$(logins)" "requests that reached the emulator with a wrong CA"
sed -i '/^ca_file = /d' "$XDG_CONFIG_HOME/cstoken/config"
login_fails
assert_contains "$out" "cannot verify the TLS certificate" "no ca_file: the system store only"
assert_eq 0 "$(logins)" "requests that reached the emulator without ca_file"
emulator_config blt0123456789abcdef "$ALICE"
sed -i "s|^ca_file = .*|ca_file = $CST_TMP/missing.pem|" "$XDG_CONFIG_HOME/cstoken/config"
set +e
out=$(printf '%s\n' "$PW" | cstoken login --password-stdin 2>&1)
rc=$?
set -e
assert_eq 2 "$rc" "exit status with an unreadable ca_file"
assert_contains "$out" "$CST_TMP/missing.pem" "unreadable ca_file"
emulator_config blt0123456789abcdef "$ALICE"
pass "TLS: a wrong CA, no CA and a missing ca_file all fail clearly"

# --- redirects are never followed ------------------------------------------------------------
fresh
port=${CST_EMU_HOST##*:}
fault "[{\"redirect\": \"https://localhost:$port/v3/user-session\"}]"
login_fails
assert_contains "$out" "redirected POST /v3/user-session to 'localhost'" "redirect message"
assert_eq 1 "$(emu_ctl GET /_emu/requests | emu_json_get 'len(j)')" \
	"requests after a redirect (the redirect target serves the same log)"
pass "a redirect is an error naming the new host; nothing is sent there"

# --- timeouts --------------------------------------------------------------------------------
fresh
{
	printf '[cstoken]\ntimeout = 1\n\n'
	cat "$XDG_CONFIG_HOME/cstoken/config"
} >"$CST_TMP/config" && mv "$CST_TMP/config" "$XDG_CONFIG_HOME/cstoken/config"
fault '[{"delay": 3}]'
login_ok
assert_contains "$out" "POST /v3/user-session: Timeout was reached (attempt 1 of 4); retrying" \
	"a timed-out attempt is retried"
pass "a timeout, then success"

fresh
fault '[{"delay": 3}, {"delay": 3}, {"delay": 3}, {"delay": 3}]'
login_fails
assert_contains "$out" "did not answer POST /v3/user-session in " "endless delay"
# the real time spent, not the timeout of one attempt
[[ $out =~ in\ [0-9]+\.[0-9]\ s\ \(4\ attempts\ of\ at\ most\ 1\ s\) ]] ||
	fail "the timeout error names no time spent: $out"
assert_not_contains "$out" "waiting for" "stderr that is not a terminal"
pass "endless delays: CST_ERR_TIMEOUT after 4 attempts, naming the time spent, no waiting line"

# --- the token calls of the client, at the C level -------------------------------------------
fresh
emu_ctl POST /_emu/reset '{"all": true}' >/dev/null
emu_user "$ALICE" "$PW"
emu_stack blt0123456789abcdef "$ALICE"
printf '%s\n' "$PW" | CST_EMU_EMAIL=$ALICE CST_EMU_API_KEY=blt0123456789abcdef \
	"$CSTOKEN_BIN_DIR/test_cma" || fail "test_cma failed"
pass "test_cma"
