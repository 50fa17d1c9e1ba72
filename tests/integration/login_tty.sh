#!/usr/bin/env bash
# cstoken login on a terminal run as a shell's foreground job (tests/lib/ptyjob.py): Ctrl-Z at
# the password prompt gives the terminal its echo back while stopped and takes it away again
# after fg.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
emulator_sandbox
emu_user "$ALICE" "$PW"
emu_stack blt0123456789abcdef "$ALICE"
emulator_config blt0123456789abcdef "$ALICE"

# --- Ctrl-Z at the password prompt, then fg ---------------------------------------------------
# Part of a password is typed before the stop: the prompt comes again and the answer starts
# over, so only the whole password typed after fg logs in.
out=$(PW="$PW" pty_dialog expect="Password for " no-echo send="correct ho" stop show-echo=stopped \
	cont expect2="Password for " show-echo=continued send-env=PW -- cstoken login) ||
	fail "Ctrl-Z at the password prompt: $out"
assert_contains "$out" "stopped echo=True" "echo while stopped at the password prompt"
assert_contains "$out" "continued echo=False" "echo after fg at the password prompt"
assert_contains "$out" "status=0" "exit status of the login after Ctrl-Z and fg"
assert_contains "$out" "logged in to $CST_EMU_HOST as '$ALICE'" "login after Ctrl-Z and fg"
assert_not_contains "$out" "correct" "the password is never echoed"
pass "Ctrl-Z at the password prompt: echo back while stopped, off again after fg"

# --- login --sms on a terminal: the code sent by SMS, then asked for --------------------------
emu_ctl POST /_emu/users '{"email": "sam@example.com", "password": "sam pw", "sms": true}' >/dev/null
emulator_config sam blt0123456789abcdef sam@example.com
emu_ctl DELETE /_emu/requests >/dev/null
out=$(pty_dialog expect="Password for " send=$'sam pw\n' expect="Code from the SMS for " \
	sms-code=sam@example.com -- cstoken -p sam login --sms) || fail "login --sms on a terminal: $out"
assert_contains "$out" "status=0" "exit status of login --sms"
assert_contains "$out" "a code is on its way by SMS to the phone of 'sam@example.com'" "--sms notice"
assert_contains "$out" "Code from the SMS for 'sam@example.com': " "--sms prompt"
assert_contains "$out" "logged in to $CST_EMU_HOST as 'sam@example.com'" "login --sms"
code=$(sed -n 's/^code=//p' <<<"$out")
assert_eq "[null, \"$code\"]" "$(emu_ctl GET '/_emu/requests?path=/v3/user-session&method=POST' |
	emu_json_get '[r["body"]["user"].get("tfa_token") for r in j]')" \
	"POSTs of login --sms: without a code, then with the code from the SMS"
assert_eq '[{"user": {"email": "sam@example.com", "password": "sam pw"}}]' \
	"$(emu_ctl GET /_emu/requests?path=/v3/user/request_token_sms | emu_json_get '[r["body"] for r in j]')" \
	"the one SMS request, between the two logins"
assert_eq '["POST /v3/user-session", "POST /v3/user/request_token_sms", "POST /v3/user-session"]' \
	"$(emu_ctl GET /_emu/requests | emu_json_get '[r["method"] + " " + r["path"] for r in j]')" \
	"the order of the requests of login --sms"
pass "login --sms on a terminal: the SMS requested, its code asked for"

# --- a slow server: the terminal is told what is being waited for ----------------------------
# stderr to a file hears nothing of it (tests/integration/http_faults.sh); the final error
# names the time really spent.
{
	printf '[cstoken]\ntimeout = 1\n\n'
	cat "$XDG_CONFIG_HOME/cstoken/config"
} >"$CST_TMP/config" && mv "$CST_TMP/config" "$XDG_CONFIG_HOME/cstoken/config"
rm -f "$XDG_DATA_HOME/cstoken/credentials" # no session to reuse
emu_ctl POST /_emu/faults '{"method": "POST", "path": "/v3/user-session",
	"responses": [{"delay": 3}, {"delay": 3}, {"delay": 3}, {"delay": 3}]}' >/dev/null
out=$(PW="$PW" pty_dialog expect="Password for " send-env=PW expect="(retry 2 of 4 in " \
	-- cstoken login) || fail "login on a terminal against a slow server: $out"
assert_contains "$out" "status=1" "exit status of a login that timed out"
assert_contains "$out" "cstoken: waiting for $CST_EMU_HOST… (retry 2 of 4 in " "the waiting line"
assert_contains "$out" "(retry 4 of 4 in " "the waiting line before the last attempt"
[[ $out =~ did\ not\ answer\ POST\ /v3/user-session\ in\ [0-9]+\.[0-9]\ s\ \(4\ attempts ]] ||
	fail "the timeout error names no time spent: $out"
pass "a slow server on a terminal: what is waited for, then the time really spent"
