#!/usr/bin/env bash
# cstoken init on a terminal (tests/lib/ptyjob.py), every answer typed: e-mail, password
# (no echo), two-factor code, stack, scope and permissions; the profile it writes mints and
# git uses it through the printed line. The region question lists the seven regions; login
# asks for an e-mail the profile does not give.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
emulator_sandbox
SECRET=JBSWY3DPEHPK3PXP
SITE=blt0123456789abcdef
emu_user "$ALICE" "$PW" "$SECRET"
emu_stack bltfeedfeedfeedfeed1 "$ALICE"
emu_ctl POST /_emu/stacks "{\"api_key\": \"$SITE\", \"owner\": \"$ALICE\", \"name\": \"Marketing site\"}" >/dev/null
CONF=$XDG_CONFIG_HOME/cstoken/config

# --- every answer typed -----------------------------------------------------------------------
out=$(PW="$PW" pty_dialog expect="E-mail of your Contentstack account on " \
	send=$'alice@example.com\n' \
	expect="Password for " no-echo send-env=PW expect="Two-factor code for " totp="$SECRET" \
	expect="Stack (number, name or API key): " send=$'Marketing Site\n' \
	expect="Branches or aliases for the token, comma-separated [main]: " send=$'deploy\n' \
	expect="Permissions of the token (read or read,write) [read]: " send=$'read,write\n' \
	-- cstoken init -p tty --host "$CST_EMU_HOST" --ca-file "$CST_EMU_CA") ||
	fail "init on a terminal: $out"
assert_contains "$out" "status=0" "exit status of init on a terminal"
assert_not_contains "$out" "correct horse" "the password is never echoed"
assert_contains "$out" "* $SITE  Marketing site  (owner)" "the stack list on the terminal"
assert_contains "$out" "Aliases: deploy -> main" "the aliases on the terminal"
line="git config --global credential.https://$CST_EMU_HOST.helper cstoken"
assert_contains "$out" "$line" "the git line on the terminal"
assert_eq "[profile tty]
host = $CST_EMU_HOST
ca_file = $CST_EMU_CA
api_key = $SITE
email = $ALICE
aliases = deploy
permissions = read,write" "$(cat "$CONF")" "the profile written from typed answers"
pass "init on a terminal asks for every value and writes the profile"

token=$(cstoken token -p tty) || fail "cstoken token -p tty after init on a terminal"
assert_eq '[{"module": "$all", "acl": {"read": true, "write": true}}, {"module": "branch_alias", "branch_aliases": ["deploy"], "acl": {"read": true}}]' \
	"$(emu_ctl GET /_emu/state | emu_json_get "j['stacks']['$SITE']['tokens'][0]['scope']")" \
	"the scope typed at init"
eval "$line"
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | git credential fill) ||
	fail "git credential fill through the printed line"
assert_contains "$out" "password=$token" "git's password after init on a terminal"
pass "the profile from typed answers mints, and git uses it"

# --- the region question: the seven regions; an unknown answer is refused ----------------------
out=$(pty_dialog expect="Region of your account (number or name) [na]: " send=$'mars\n' \
	-- cstoken init -p region) || fail "the region question: $out"
assert_contains "$out" "status=2" "exit status for an unknown region"
for r in "1  na        api.contentstack.io" "2  eu        eu-api.contentstack.com" \
	"3  au        au-api.contentstack.com" "4  azure-na  azure-na-api.contentstack.com" \
	"5  azure-eu  azure-eu-api.contentstack.com" "6  gcp-na    gcp-na-api.contentstack.com" \
	"7  gcp-eu    gcp-eu-api.contentstack.com"; do
	assert_contains "$out" "$r" "the region list"
done
assert_contains "$out" "cstoken: unknown region; use one of na, eu" "an unknown region"
assert_not_contains "$(cat "$CONF")" "[profile region]" "nothing written for an unknown region"
pass "the region question lists the seven regions and refuses an unknown one"

# --- login asks for an e-mail the profile does not give ---------------------------------------
printf '\n[profile noemail]\nhost = %s\nca_file = %s\napi_key = %s\n' "$CST_EMU_HOST" "$CST_EMU_CA" \
	"$SITE" >>"$CONF"
emu_ctl POST /_emu/revoke_authtokens "{\"email\": \"$ALICE\"}" >/dev/null
out=$(PW="$PW" pty_dialog expect="E-mail of your Contentstack account on " \
	send=$'alice@example.com\n' \
	expect="Password for " send-env=PW expect="Two-factor code for " totp="$SECRET" \
	-- cstoken -p noemail login) || fail "login asking for the e-mail: $out"
assert_contains "$out" "status=0" "exit status of login after asking for the e-mail"
assert_contains "$out" "logged in to $CST_EMU_HOST as '$ALICE'" "login after asking for the e-mail"
rc=0
err=$(setsid -w cstoken -p noemail login --password-stdin </dev/null 2>&1) || rc=$?
assert_eq 2 "$rc" "exit status of login without an e-mail or a terminal"
assert_contains "$err" "no e-mail: give --email or set email in [profile noemail]" \
	"login without an e-mail or a terminal"
pass "login asks for a missing e-mail on a terminal, and names --email without one"
