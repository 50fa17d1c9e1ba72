#!/usr/bin/env bash
# Hostile servers on the minting path (`cstoken token` and git's `get`), where
# http_faults.sh covers login: truncated and non-JSON answers, resets, endless 5xx and 429,
# redirects to another host, a wrong CA, and a server that trickles its answer past the
# timeout. Each ends with exit 1, one 'cstoken: ' line that names no secret, a bounded
# number of requests (a token creation is never repeated blindly), and the store exactly
# as it was.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'branches = development'
mint_login
printf 'protocol=https\nhost=git.example\nusername=u\npassword=plain-pw\n\n' | cstoken store
authtoken=$(emu_ctl GET /_emu/state | emu_json_get "j['users']['$MINT_EMAIL']['authtokens'][0]")
cp "$MINT_STORE_FILE" "$CST_TMP/store.before"

reqs() { # METHOD: requests to the token endpoint
	emu_py "/_emu/requests?path=$MINT_TOKENS&method=$1" 'len(j)'
}
live_tokens() { emu_py /_emu/state "len($MINT_STATE_TOKENS)"; }

# fault METHOD JSON_RESPONSES: a fresh request log, and the next answers for METHOD on the
# token endpoint.
fault() {
	emu_ctl DELETE /_emu/faults >/dev/null
	emu_ctl DELETE /_emu/requests >/dev/null
	emu_ctl POST /_emu/faults \
		"{\"method\": \"$1\", \"path\": \"$MINT_TOKENS\", \"responses\": $2}" >/dev/null
}

# fails_cleanly WHAT CMD...: exit 1, nothing on stdout, one line on stderr (in $err) that
# names no secret, and the store unchanged.
fails_cleanly() {
	local what=$1 rc=0 out
	shift
	out=$("$@" 2>"$CST_TMP/err") || rc=$?
	err=$(cat "$CST_TMP/err")
	assert_eq 1 "$rc" "$what: exit status ($err)"
	assert_eq "" "$out" "$what: stdout"
	assert_eq 1 "$(wc -l <"$CST_TMP/err")" "$what: lines on stderr ($err)"
	case "$err" in cstoken:\ *) ;; *) fail "$what: error line without 'cstoken: ': $err" ;; esac
	assert_not_contains "$err" "$authtoken" "$what: error line"
	assert_not_contains "$err" "$MINT_PW" "$what: error line"
	cmp -s "$CST_TMP/store.before" "$MINT_STORE_FILE" || fail "$what: the store changed"
}

# forget_minted: revokes what a successful mint left, so the next case mints again.
forget_minted() {
	local uid
	for uid in $(emu_py /_emu/state "' '.join(t['uid'] for t in $MINT_STATE_TOKENS)"); do
		emu_ctl DELETE "/_emu/tokens/$uid" >/dev/null
	done
	cp "$CST_TMP/store.before" "$MINT_STORE_FILE"
}

git_get() { printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | cstoken get; }

# --- the list before creating ------------------------------------------------------------------
fault GET '[{"truncate": true}, {"truncate": true}, {"truncate": true}, {"truncate": true}, {"truncate": true}]'
fails_cleanly "endless truncated list" cstoken token
assert_eq 4 "$(reqs GET)" "list attempts for endless truncation"
assert_eq 0 "$(reqs POST)" "no create after a failed list"
pass "list: endless truncated answers, 4 attempts, nothing created or stored"

fault GET '[{"truncate": true}]'
tok=$(cstoken token) || fail "token after one truncated list"
# two lists before creating (one retried), one after it to look for evictions
assert_eq 3 "$(reqs GET)" "list retried once after a truncated answer"
assert_eq 1 "$(reqs POST)" "then one create"
forget_minted
pass "list: one truncated answer is retried"

fault GET '[{"status": 500}, {"status": 502}, {"status": 503}, {"status": 504}, {"status": 500}]'
fails_cleanly "endless 5xx on list (get)" git_get
assert_contains "$err" "after 4 attempts" "endless 5xx names the attempts"
assert_eq 4 "$(reqs GET)" "list attempts for endless 5xx"
pass "list: endless 5xx through git's get, 4 attempts"

fault GET '[{"raw": "<html><body>captive portal</body></html>", "status": 200}]'
fails_cleanly "non-JSON list" cstoken token
assert_contains "$err" "not JSON" "non-JSON list"
fault GET '[{"reset": true}, {"reset": true}, {"reset": true}, {"reset": true}, {"reset": true}]'
fails_cleanly "endless resets on list" cstoken token
assert_eq 4 "$(reqs GET)" "list attempts for endless resets"
pass "list: a non-JSON page and endless resets"

# --- the create: never repeated when it may have gone through ------------------------------------
fault POST '[{"truncate": true, "process": true}]'
fails_cleanly "create answer truncated" cstoken token
assert_contains "$err" "may have been created" "a lost create answer says so"
assert_eq 1 "$(reqs POST)" "a create whose answer was cut is not repeated"
assert_eq 1 "$(live_tokens)" "the server did create it"
forget_minted
fault POST '[{"reset": true, "process": true}, {"status": 200}]'
fails_cleanly "create reset" git_get
assert_eq 1 "$(reqs POST)" "a reset create is not repeated"
forget_minted
fault POST '[{"raw": "{\"token\": {\"uid\": \"blt1\", \"token\": \"cs-half", "status": 200, "process": true}]'
fails_cleanly "create answer malformed" cstoken token
assert_not_contains "$err" "cs-half" "a malformed create answer is not quoted"
assert_eq 1 "$(reqs POST)" "a malformed create is not repeated"
forget_minted
fault POST '[{"status": 503}, {"status": 503}, {"status": 503}, {"status": 503}, {"status": 503}]'
fails_cleanly "create 503" cstoken token
assert_eq 1 "$(reqs POST)" "a 5xx create is not repeated"
fault POST '[{"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429, "headers": {"Retry-After": "0"}}, {"status": 429}]'
fails_cleanly "create endless 429" cstoken token
assert_contains "$err" "rate limiting" "endless 429"
assert_eq 4 "$(reqs POST)" "a 429 (not processed) is retried, 4 attempts in all"
assert_eq 0 "$(live_tokens)" "nothing created by the 429s"
pass "create: cut, reset, malformed and 5xx answers are never repeated; 429 is, boundedly"

# --- redirects are not followed, with or without credentials ----------------------------------------
port=${CST_EMU_HOST##*:}
for m in GET POST; do
	fault "$m" "[{\"redirect\": \"https://localhost:$port$MINT_TOKENS\"}]"
	fails_cleanly "redirect on $m" cstoken token
	assert_contains "$err" "to 'localhost'" "redirect on $m names the other host"
	assert_eq 1 "$(reqs "$m")" "$m requests after a redirect (the target shares the log)"
	assert_eq "$([ "$m" = GET ] && echo 1 || echo 2)" "$(emu_py /_emu/requests 'len(j)')" \
		"all requests after a redirect on $m"
done
pass "a redirect on list or create is an error; nothing is sent to the other host"

# --- a wrong CA: nothing reaches the server --------------------------------------------------------
emu_ctl DELETE /_emu/faults >/dev/null
emu_ctl DELETE /_emu/requests >/dev/null
sed -i "s|^ca_file = .*|ca_file = $CST_EMU_DIR/wrong-ca.pem|" "$XDG_CONFIG_HOME/cstoken/config"
fails_cleanly "wrong CA" cstoken token
assert_contains "$err" "cannot verify the TLS certificate" "wrong CA"
fails_cleanly "wrong CA (get)" git_get
assert_eq 0 "$(emu_py /_emu/requests 'len(j)')" "requests that reached the emulator"
sed -i "s|^ca_file = .*|ca_file = $CST_EMU_CA|" "$XDG_CONFIG_HOME/cstoken/config"
pass "a wrong CA on the minting path"

# --- a server that trickles its answer: the timeout bounds the whole transfer -------------------
# Its own throwaway certificate; cstoken's profile "slow" points at it with timeout = 1. The
# authtoken for that host is written into the store directly (login would meet the same trickle).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$CST_TMP/slow.key" -out "$CST_TMP/slow.pem" 2>/dev/null
"$PYTHON" "$CSTOKEN_SRC/tests/lib/trickle_server.py" "$CST_TMP" &
slow_pid=$!
cst_on_exit "kill $slow_pid 2>/dev/null; wait $slow_pid 2>/dev/null"
wait_for test -s "$CST_TMP/slow.port"
slow_host=127.0.0.1:$(cat "$CST_TMP/slow.port")
{
	printf '[cstoken]\ntimeout = 1\n\n'
	cat "$XDG_CONFIG_HOME/cstoken/config"
	printf '\n[profile slow]\nhost = %s\nca_file = %s\napi_key = %s\nemail = %s\nbranches = main\n' \
		"$slow_host" "$CST_TMP/slow.pem" "$MINT_KEY" "$MINT_EMAIL"
} >"$CST_TMP/config" && mv "$CST_TMP/config" "$XDG_CONFIG_HOME/cstoken/config"
store_file add "$MINT_STORE_FILE" kind=authtoken "host=$slow_host" "email=$MINT_EMAIL" \
	secret=blt-slow-authtoken created:=1
cp "$MINT_STORE_FILE" "$CST_TMP/store.before"
fails_cleanly "trickling server" cstoken -p slow token
assert_contains "$err" "of at most 1 s)" "a trickle is a timeout"
assert_eq 4 "$(cat "$CST_TMP/slow.conns")" "attempts against a trickling server"
pass "a server trickling its answer: each attempt cut at the timeout, 4 attempts"

# --- after all that, the token is minted once the server behaves -----------------------------------
emu_ctl DELETE /_emu/faults >/dev/null
emu_ctl DELETE /_emu/requests >/dev/null
out=$(git_get) || fail "get once the server behaves"
tok=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")
assert_contains "$out" "password=$tok" "the minted token"
assert_eq 1 "$(reqs POST)" "one create"
out=$(printf 'protocol=https\nhost=git.example\n\n' | cstoken get)
assert_eq $'username=u\npassword=plain-pw' "$out" "the unrelated credential"
pass "the store kept everything and mints normally afterwards"
