#!/usr/bin/env bash
# cstoken login / logout against the local CMA emulator: plain and two-factor logins, reuse of
# a live authtoken, a wrong password, a dead stored session, logout. Passwords only on stdin.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
emulator_sandbox
TFA_SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

emu_user "$ALICE" "$PW"
emu_user bob@example.com 'bob pw' "$TFA_SECRET"
emu_stack blt0123456789abcdef "$ALICE"
emulator_config blt0123456789abcdef "$ALICE"
emulator_config bob blt0123456789abcdef bob@example.com

# stored_authtoken EMAIL: the secret of the stored authtoken for (emulator host, EMAIL), or "".
stored_authtoken() {
	local file=$XDG_DATA_HOME/cstoken/credentials
	[ -f "$file" ] || return 0
	store_file get "$file" authtoken secret "host=$CST_EMU_HOST" "email=$1"
}

# live_authtokens EMAIL: the emulator's count of the user's live authtokens.
live_authtokens() {
	emu_ctl GET /_emu/state | emu_json_get "len(j['users']['$1']['authtokens'])"
}

# posts PATH [METHOD]: how many requests the emulator saw for PATH.
posts() {
	emu_ctl GET "/_emu/requests?path=$1&method=${2:-POST}" | emu_json_get 'len(j)'
}

# --- a plain login ---------------------------------------------------------------------------
out=$(printf '%s\n' "$PW" | cstoken login --password-stdin 2>&1) || fail "login failed: $out"
assert_contains "$out" "logged in to $CST_EMU_HOST as '$ALICE'" "login message"
assert_not_contains "$out" "$PW" "login output"
tok=$(stored_authtoken "$ALICE")
[ -n "$tok" ] || fail "no authtoken stored for $ALICE"
assert_not_contains "$out" "$tok" "login output"
assert_eq 1 "$(live_authtokens "$ALICE")" "live authtokens after the first login"
assert_eq "$tok" "$(emu_ctl GET /_emu/state | emu_json_get "j['users']['$ALICE']['authtokens'][0]")" \
	"the stored authtoken is the one the emulator issued"
req=$(emu_ctl GET '/_emu/requests?path=/v3/user-session&method=POST' | emu_json_get 'j[0]')
assert_contains "$req" '"content-type": "application/json"' "login request header"
assert_contains "$req" '"user-agent": "cstoken/' "login request user agent"
assert_contains "$req" "\"email\": \"$ALICE\"" "login request body"
assert_not_contains "$req" tfa_token "login request of an account without 2FA"
pass "login stores the session's authtoken"

# --- a second login reuses the live authtoken ------------------------------------------------
out=$(printf '%s\n' "$PW" | cstoken -v login --password-stdin 2>&1) || fail "second login: $out"
assert_contains "$out" "already logged in" "second login message"
assert_contains "$out" "GET /v3/user: HTTP 200" "second login checks the authtoken"
assert_not_contains "$out" "$tok" "verbose output"
assert_eq 1 "$(posts /v3/user-session)" "POST /v3/user-session count"
assert_eq 1 "$(live_authtokens "$ALICE")" "live authtokens after the second login"
assert_eq "$tok" "$(stored_authtoken "$ALICE")" "stored authtoken after the second login"
pass "a live authtoken is reused, no slot burnt"

# --- a stored authtoken the server no longer accepts: log in anew ----------------------------
emu_ctl POST /_emu/revoke_authtokens "{\"email\": \"$ALICE\"}" >/dev/null
out=$(printf '%s\n' "$PW" | cstoken login --password-stdin 2>&1) || fail "relogin: $out"
tok2=$(stored_authtoken "$ALICE")
[ -n "$tok2" ] && [ "$tok2" != "$tok" ] || fail "a dead authtoken was not replaced"
assert_eq 2 "$(posts /v3/user-session)" "POST /v3/user-session count after revocation"
pass "a dead stored authtoken is replaced"

# --- a wrong password ------------------------------------------------------------------------
emu_user carol@example.com 'carol pw'
set +e
out=$(printf 'not her password\n' | cstoken login --password-stdin --email carol@example.com 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "exit status of a wrong password"
assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "lines on stderr for a wrong password"
assert_contains "$out" "cstoken: '$CST_EMU_HOST' refused the login" "wrong password message"
assert_not_contains "$out" "not her password" "wrong password message"
assert_eq "" "$(stored_authtoken carol@example.com)" "stored authtoken after a wrong password"
pass "a wrong password is one clear line and stores nothing"

# --- two-factor login ------------------------------------------------------------------------
# without a code and without a terminal: a clear error, nothing stored
set +e
out=$(printf 'bob pw\n' | setsid -w cstoken -p bob login --password-stdin 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "exit status of a 2FA login without a code"
assert_contains "$out" "--tfa-token" "2FA without a code names the way out"
assert_contains "$out" "--sms" "2FA without a code names the SMS"
assert_eq "" "$(stored_authtoken bob@example.com)" "stored authtoken without a code"

# tfa_codes: the tfa_token of each POST /v3/user-session the emulator saw, as JSON.
tfa_codes() {
	emu_ctl GET '/_emu/requests?path=/v3/user-session&method=POST' |
		emu_json_get '[r["body"]["user"].get("tfa_token") for r in j]'
}

# --tfa-token: sent with the first and only POST, as Contentstack's CLI does
emu_ctl DELETE /_emu/requests >/dev/null
code=$(emu_totp "$TFA_SECRET")
out=$(printf 'bob pw\n' | cstoken -p bob login --password-stdin --tfa-token "$code" 2>&1) ||
	fail "2FA login with --tfa-token: $out"
[ -n "$(stored_authtoken bob@example.com)" ] || fail "no authtoken stored after --tfa-token"
assert_eq "[\"$code\"]" "$(tfa_codes)" "POSTs of a login with --tfa-token"
pass "2FA login with --tfa-token: one POST, the code in it"

# a code the server refuses: one POST, one line, nothing stored
cstoken -p bob logout 2>/dev/null
emu_ctl DELETE /_emu/requests >/dev/null
wrong=$(printf '%06d' $(((10#$code + 500000) % 1000000)))
set +e
out=$(printf 'bob pw\n' | cstoken -p bob login --password-stdin --tfa-token "$wrong" 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "exit status of a refused code"
assert_eq 1 "$(printf '%s\n' "$out" | wc -l)" "lines on stderr for a refused code"
assert_contains "$out" "cstoken: '$CST_EMU_HOST' refused the two-factor code for 'bob@example.com'" \
	"refused code message"
assert_eq "[\"$wrong\"]" "$(tfa_codes)" "POSTs of a login with a refused code"
assert_eq "" "$(stored_authtoken bob@example.com)" "stored authtoken after a refused code"
pass "a refused two-factor code is one clear line"

# CONTENTSTACK_MFA_SECRET, from a clean store: the code computed goes with the first POST
cstoken -p bob logout 2>/dev/null
[ -z "$(stored_authtoken bob@example.com)" ] || fail "logout left bob's authtoken"
emu_ctl DELETE /_emu/requests >/dev/null
out=$(printf 'bob pw\n' | CONTENTSTACK_MFA_SECRET="$TFA_SECRET" cstoken -p bob login --password-stdin 2>&1) ||
	fail "2FA login with CONTENTSTACK_MFA_SECRET: $out"
emu_ctl GET '/_emu/requests?path=/v3/user-session&method=POST' |
	emu_json_get '[len(j)] + [len(c) for c in [r["body"]["user"].get("tfa_token") or "" for r in j]]' \
	>"$CST_TMP/codes"
assert_eq "[1, 6]" "$(cat "$CST_TMP/codes")" "POSTs of a login with CONTENTSTACK_MFA_SECRET"
bob_tok=$(stored_authtoken bob@example.com)
[ -n "$bob_tok" ] || fail "no authtoken stored after CONTENTSTACK_MFA_SECRET"
emu_ctl GET /_emu/state | emu_json_get "j['users']['bob@example.com']['authtokens']" |
	grep -q "$bob_tok" || fail "the stored authtoken is not live on the emulator"
pass "2FA login with CONTENTSTACK_MFA_SECRET"

# a secret that is not Base32
set +e
cstoken -p bob logout 2>/dev/null
out=$(printf 'bob pw\n' | CONTENTSTACK_MFA_SECRET='not base32!' cstoken -p bob login --password-stdin 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "exit status with a bad CONTENTSTACK_MFA_SECRET"
assert_contains "$out" "CONTENTSTACK_MFA_SECRET is not a Base32 TOTP secret" "bad secret message"
pass "a bad CONTENTSTACK_MFA_SECRET is a clear error"

# --- --sms: the code sent by SMS; without a terminal it is given with --tfa-token ------------
emu_ctl POST /_emu/users '{"email": "sam@example.com", "password": "sam pw", "sms": true}' >/dev/null
emulator_config sam blt0123456789abcdef sam@example.com
emu_ctl DELETE /_emu/requests >/dev/null
set +e
out=$(printf 'sam pw\n' | setsid -w cstoken -p sam login --password-stdin --sms 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "exit status of --sms without a terminal"
assert_contains "$out" "a code is on its way by SMS to the phone of 'sam@example.com'" "--sms message"
assert_contains "$out" "no terminal to ask for the code sent by SMS; run 'cstoken login -p sam --tfa-token CODE'" \
	"--sms without a terminal"
assert_eq "[null]" "$(tfa_codes)" "POSTs of the login that asked for an SMS"
sms=$(emu_ctl GET /_emu/requests?path=/v3/user/request_token_sms)
assert_eq 1 "$(emu_json_get 'len(j)' <<<"$sms")" "SMS requests"
assert_eq '{"user": {"email": "sam@example.com", "password": "sam pw"}}' \
	"$(emu_json_get 'j[0]["body"]' <<<"$sms")" "the SMS request's body"
assert_eq "POST application/json" "$(emu_json_get 'j[0]["method"] + " " + j[0]["headers"]["content-type"]' <<<"$sms")" \
	"the SMS request's method and type"
sms_code=$(emu_ctl GET '/_emu/sms?email=sam@example.com' | emu_json_get 'j["code"]')
emu_ctl DELETE /_emu/requests >/dev/null
out=$(printf 'sam pw\n' | cstoken -p sam login --password-stdin --tfa-token "$sms_code" 2>&1) ||
	fail "login with the code from the SMS: $out"
assert_eq "[\"$sms_code\"]" "$(tfa_codes)" "POSTs of the login with the code from the SMS"
[ -n "$(stored_authtoken sam@example.com)" ] || fail "no authtoken stored after the SMS code"
set +e
out=$(cstoken -p sam login --sms --tfa-token 123456 --password-stdin 2>&1 </dev/null)
rc=$?
set -e
assert_eq 2 "$rc" "exit status of --sms with --tfa-token"
pass "--sms without a terminal: the SMS sent, the code given with --tfa-token"

# --- on a terminal: the password without echo, then the code prompted ----------------------
# The dialog waits for each prompt before it answers (echo-off flushes early input).
cstoken -p bob logout 2>/dev/null || true
emu_ctl DELETE /_emu/requests >/dev/null
transcript=$(BOB_CODE=$(emu_totp "$TFA_SECRET") pty_dialog expect="Password for " send=$'bob pw\n' \
	expect="Two-factor code for " send-env=BOB_CODE -- cstoken -p bob login) ||
	fail "login on a terminal: $transcript"
assert_contains "$transcript" "status=0" "exit status of a terminal login"
assert_contains "$transcript" "Password for 'bob@example.com' on $CST_EMU_HOST: " "password prompt"
assert_not_contains "$transcript" "bob pw" "the password is not echoed"
assert_contains "$transcript" "logged in to $CST_EMU_HOST as 'bob@example.com'" "terminal login"
[ -n "$(stored_authtoken bob@example.com)" ] || fail "no authtoken stored after a terminal login"
assert_eq 2 "$(posts /v3/user-session)" "POSTs of a terminal 2FA login"
pass "login on a terminal: no echo for the password, the code prompted"

# --- usage errors ----------------------------------------------------------------------------
set +e
out=$(cstoken login --password-stdin --email 2>&1 </dev/null)
rc_noval=$?
out2=$(setsid -w cstoken login --email carol@example.com 2>&1 </dev/null)
rc_notty=$?
out3=$(cstoken login --tfa-token abc --password-stdin 2>&1 </dev/null)
rc_badcode=$?
out4=$(cstoken login --password-stdin --bogus 2>&1 </dev/null)
rc_bogus=$?
set -e
assert_eq 2 "$rc_noval" "exit status of --email without a value"
assert_eq 2 "$rc_notty" "exit status without a terminal and without --password-stdin"
assert_contains "$out2" "--password-stdin" "no terminal message"
assert_eq 2 "$rc_badcode" "exit status of a malformed --tfa-token"
assert_eq 2 "$rc_bogus" "exit status of an unknown option"
assert_contains "$out4" "unknown option '--bogus'" "unknown option message"
# a profile without email needs --email
emulator_config noemail blt0123456789abcdef "$ALICE"
sed -i '/^\[profile noemail\]/,$ {/^email = /d}' "$XDG_CONFIG_HOME/cstoken/config"
set +e
out=$(cstoken -p noemail login --password-stdin 2>&1 </dev/null)
rc=$?
set -e
assert_eq 2 "$rc" "exit status without any e-mail"
assert_contains "$out" "give --email" "missing e-mail message"
pass "usage errors exit 2"

# --- logout ----------------------------------------------------------------------------------
tok=$(stored_authtoken "$ALICE")
emu_ctl DELETE /_emu/requests >/dev/null
out=$(cstoken logout 2>&1) || fail "logout failed: $out"
assert_contains "$out" "logged out of $CST_EMU_HOST" "logout message"
assert_eq "" "$(stored_authtoken "$ALICE")" "stored authtoken after logout"
set +e
curl -q -sS --noproxy '*' --cacert "$CST_EMU_CA" -o /dev/null -w '%{http_code}' \
	-H @<(printf 'authtoken: %s\n' "$tok") "$CST_EMU_URL/v3/user" >"$CST_TMP/code"
set -e
assert_eq 401 "$(cat "$CST_TMP/code")" "the logged-out authtoken on the emulator"
assert_eq 1 "$(posts /v3/user-session DELETE)" "DELETE /v3/user-session count"
out=$(cstoken logout 2>&1) || fail "second logout failed: $out"
assert_contains "$out" "not logged in" "second logout message"
assert_eq 1 "$(posts /v3/user-session DELETE)" "a second logout sends nothing"
pass "logout ends the session and forgets it"

# logout of a session the server already dropped still forgets it
printf '%s\n' "$PW" | cstoken login --password-stdin 2>/dev/null
emu_ctl POST /_emu/revoke_authtokens "{\"email\": \"$ALICE\"}" >/dev/null
cstoken logout 2>/dev/null || fail "logout of a dead session failed"
assert_eq "" "$(stored_authtoken "$ALICE")" "stored authtoken after logout of a dead session"
pass "logout of a dead session"
