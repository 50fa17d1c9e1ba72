#!/usr/bin/env bash
# cstoken init without a terminal: every answer from a flag, a profile written that mints
# and that git uses through the printed line; the config file kept byte for byte around the
# profile; missing values, an existing profile and a symlinked file refused; a refused login
# names the region it tried.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
emulator_sandbox
SITE=blt0123456789abcdef
DOCS=blt00000000000000d0c
SHOP=blt0000000000000005b
emu_user "$ALICE" "$PW"
emu_user bob@example.com 'bob pw'
emu_ctl POST /_emu/stacks "{\"api_key\": \"$SITE\", \"owner\": \"$ALICE\", \"name\": \"Marketing site\"}" >/dev/null
emu_ctl POST /_emu/stacks "{\"api_key\": \"$DOCS\", \"owner\": \"bob@example.com\", \"name\": \"Docs\", \"members\": [\"$ALICE\"]}" >/dev/null
emu_ctl POST /_emu/stacks "{\"api_key\": \"$SHOP\", \"owner\": \"bob@example.com\", \"name\": \"Shop\", \"admins\": [\"$ALICE\"]}" >/dev/null
emu_stack blt0000000000000other bob@example.com
CONF=$XDG_CONFIG_HOME/cstoken/config
rm -rf "$XDG_CONFIG_HOME/cstoken"

# init: no controlling terminal (setsid), the password on stdin, the rest as given.
init() {
	printf '%s\n' "${INIT_PW:-$PW}" | setsid -w cstoken init "$@"
}
FLAGS=(--host "$CST_EMU_HOST" --ca-file "$CST_EMU_CA" --email "$ALICE" --password-stdin)

# --- flags only: the profile, the stack list, the git line ------------------------------------
rc=0
init -p site "${FLAGS[@]}" --stack 'Marketing site' --branches main,development \
	--permissions read,write >"$CST_TMP/out" 2>"$CST_TMP/err" || rc=$?
assert_eq 0 "$rc" "exit status of init with flags ($(cat "$CST_TMP/err"))"
err=$(cat "$CST_TMP/err")
line="git config --global credential.https://$CST_EMU_HOST.helper cstoken"
assert_eq "$line" "$(cat "$CST_TMP/out")" "the git line init prints"
assert_contains "$err" "1* $SITE  Marketing site  (owner)" "the owned stack, marked"
assert_contains "$err" "  $DOCS  Docs" "the shared stack"
assert_not_contains "$err" "* $DOCS" "a stack where the user is a member only is not marked"
assert_contains "$err" "* $SHOP  Shop  (admin)" "the stack the user administers, marked"
assert_not_contains "$err" "blt0000000000000other" "a stack of somebody else"
assert_contains "$err" "Branches: main, development" "the stack's branches"
assert_contains "$err" "Aliases: deploy -> main" "the stack's aliases"
assert_eq "600" "$(stat -c %a "$CONF")" "mode of the config file init created"
assert_eq "700" "$(stat -c %a "$XDG_CONFIG_HOME/cstoken")" "mode of the directory init created"
assert_eq "[profile site]
host = $CST_EMU_HOST
ca_file = $CST_EMU_CA
api_key = $SITE
email = $ALICE
branches = main, development
permissions = read,write" "$(cat "$CONF")" "the profile init wrote"
pass "init with flags only writes the profile and prints the git line"

# --- the profile works: a token is minted, git gets it through the printed line -------------
token=$(cstoken token -p site) || fail "cstoken token -p site after init"
assert_eq "$token" "$(emu_ctl GET /_emu/state | emu_json_get "j['stacks']['$SITE']['tokens'][0]['token']")" \
	"the token minted after init"
assert_eq '[{"module": "$all", "acl": {"read": true, "write": true}}, {"module": "branch", "branches": ["main", "development"], "acl": {"read": true}}]' \
	"$(emu_ctl GET /_emu/state | emu_json_get "j['stacks']['$SITE']['tokens'][0]['scope']")" \
	"the scope and permissions chosen at init"
eval "$line"
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | git credential fill) ||
	fail "git credential fill through the printed line"
assert_contains "$out" "username=$SITE" "git's username for the stack"
assert_contains "$out" "password=$token" "git's password: the minted token"
pass "the profile mints, and git credential fill works through the printed line"

# --- an existing profile is replaced only with --force; the rest stays byte for byte -------
{
	printf '; my settings\n[cstoken]\ntimeout = 20   ; seconds\n\n'
	cat "$CONF"
	printf '\n# the next one is for work\n[profile work]\nregion = eu\n'
} >"$CST_TMP/conf"
cp "$CST_TMP/conf" "$CONF"
rc=0
init -p site "${FLAGS[@]}" --stack "$SITE" >/dev/null 2>"$CST_TMP/err" || rc=$?
assert_eq 2 "$rc" "exit status of init over an existing profile"
assert_contains "$(cat "$CST_TMP/err")" "profile 'site' is already in '$CONF' (line 5); give --force to replace it" \
	"init over an existing profile names --force"
cmp -s "$CST_TMP/conf" "$CONF" || fail "the config file changed without --force"
init -p site "${FLAGS[@]}" --stack "$SHOP" --aliases deploy --force >/dev/null 2>"$CST_TMP/err" ||
	fail "init --force: $(cat "$CST_TMP/err")"
assert_eq "; my settings
[cstoken]
timeout = 20   ; seconds

[profile site]
host = $CST_EMU_HOST
ca_file = $CST_EMU_CA
api_key = $SHOP
email = $ALICE
aliases = deploy
permissions = read

# the next one is for work
[profile work]
region = eu" "$(cat "$CONF")" "the file after init --force"
assert_contains "$(cat "$CST_TMP/err")" "already logged in to $CST_EMU_HOST as '$ALICE'" \
	"init reuses the session it made"
cstoken token -p site >/dev/null || fail "cstoken token after init --force"
pass "an existing profile is replaced only with --force, everything else kept"

# --- a new profile is appended to an existing file ------------------------------------------
cp "$CONF" "$CST_TMP/before"
init -p docs "${FLAGS[@]}" --stack Docs >/dev/null 2>"$CST_TMP/err" || fail "init -p docs: $(cat "$CST_TMP/err")"
assert_contains "$(cat "$CST_TMP/err")" "only the owner or an admin of stack $DOCS may create management tokens" \
	"the warning for a stack where the user is a member only"
assert_eq "$(cat "$CST_TMP/before")

[profile docs]
host = $CST_EMU_HOST
ca_file = $CST_EMU_CA
api_key = $DOCS
email = $ALICE
branches = main
permissions = read" "$(cat "$CONF")" "a new profile appended with the default scope and permissions"
rc=0
out=$(cstoken token -p docs 2>&1) || rc=$?
assert_eq 1 "$rc" "exit status of minting as a member only"
assert_contains "$out" "only a stack owner or admin can manage tokens" "minting as a member only"
pass "a profile is appended; a member-only stack is warned about and refused by the server"

# --- missing values without a terminal name their flag ---------------------------------------
missing() { # expected-flag-text args...
	local want=$1 rc=0
	shift
	init -p new "$@" >/dev/null 2>"$CST_TMP/err" || rc=$?
	assert_eq 2 "$rc" "exit status without $want"
	assert_contains "$(cat "$CST_TMP/err")" "no terminal to ask for" "init without $want"
	assert_contains "$(cat "$CST_TMP/err")" "give $want" "init without $want"
}
missing "--region R or --host H" --email "$ALICE" --password-stdin
missing "--email E" --host "$CST_EMU_HOST" --ca-file "$CST_EMU_CA" --password-stdin
missing "--stack NAME or --stack API_KEY" "${FLAGS[@]}"
emu_ctl POST /_emu/stacks "{\"api_key\": \"$SITE\", \"branches\": [\"trunk\"], \"aliases\": {}}" >/dev/null
missing "--branches B,... or --aliases A,..." "${FLAGS[@]}" --stack "$SITE"
rc=0
init -p new "${FLAGS[@]}" --stack "$SITE" --branches main >/dev/null 2>"$CST_TMP/err" || rc=$?
assert_eq 2 "$rc" "exit status for a branch the stack lacks"
assert_contains "$(cat "$CST_TMP/err")" "'main' is not one of the stack's branches listed above" \
	"a branch the stack lacks"
assert_not_contains "$(cat "$CONF")" "[profile new]" "nothing written for a refused init"
pass "missing values without a terminal are errors naming the flag"

# --- a symlinked config file is not replaced --------------------------------------------------
mv "$CONF" "$CST_TMP/real"
ln -s "$CST_TMP/real" "$CONF"
rc=0
init -p other "${FLAGS[@]}" --stack "$SHOP" >/dev/null 2>"$CST_TMP/err" || rc=$?
assert_eq 2 "$rc" "exit status of init over a symlinked config"
assert_contains "$(cat "$CST_TMP/err")" "is a symbolic link, which cstoken does not replace" \
	"init over a symlinked config"
[ -L "$CONF" ] || fail "the symlink was replaced"
rm "$CONF"
mv "$CST_TMP/real" "$CONF"
pass "a symlinked config file is refused, not replaced"

# --- a refused login names the region and says the account may live in another ---------------
logout_all() { emu_ctl POST /_emu/revoke_authtokens "{\"email\": \"$ALICE\"}" >/dev/null; }
logout_all
rc=0
INIT_PW=wrong init -p new --host "$CST_EMU_HOST" --ca-file "$CST_EMU_CA" --email "$ALICE" \
	--password-stdin >/dev/null 2>"$CST_TMP/err" || rc=$?
assert_eq 1 "$rc" "exit status of init with a wrong password"
assert_contains "$(cat "$CST_TMP/err")" "or the account lives in another region (na, eu, au, azure-na, azure-eu, gcp-na, gcp-eu); run 'cstoken init' again with --region" \
	"init with a wrong password"
logout_all
printf '[profile eu]\nregion = eu\nhost = %s\nca_file = %s\napi_key = %s\nemail = %s\n' \
	"$CST_EMU_HOST" "$CST_EMU_CA" "$SITE" "$ALICE" >>"$CONF"
rc=0
out=$(printf 'wrong\n' | setsid -w cstoken -p eu login --password-stdin 2>&1) || rc=$?
assert_eq 1 "$rc" "exit status of login with a wrong password"
assert_contains "$out" "cstoken: '$CST_EMU_HOST' refused the login for '$ALICE' (region 'eu'): the e-mail or password is wrong, or the account lives in another region" \
	"login with a wrong password names the region"
assert_contains "$out" "set region in [profile eu]" "login's fix for the region"
pass "a refused login names the region it tried and says the account may live in another"

# --- what the server says reaches the terminal only as shown text, the file only if plain ----
uid=$(emu_ctl GET /_emu/state | emu_json_get "j['users']['$ALICE']['uid']")
emu_ctl POST /_emu/faults '{"method": "GET", "path": "/v3/stacks", "responses": [{"status": 200, "body": {"stacks": [
    {"api_key": "bltbad\nhost = evil.example", "name": "injected", "owner_uid": "'"$uid"'"},
    {"api_key": "'"$SITE"'", "name": "\u001b]0;owned\u0007Site\r", "owner_uid": "'"$uid"'"}]}}]}' >/dev/null
emu_ctl POST /_emu/faults '{"method": "GET", "path": "/v3/stacks/branch_aliases", "responses": [{"status": 200, "body": {"branch_aliases": [
    {"uid": "main", "alias": "ok-alias"}, {"uid": "main", "alias": "bad\nalias"}, {"uid": "ma\u001bin", "alias": "x"}]}}]}' >/dev/null
rc=0
init -p hostile "${FLAGS[@]}" --stack "$SITE" --aliases ok-alias >/dev/null 2>"$CST_TMP/err" || rc=$?
err=$(cat "$CST_TMP/err")
assert_eq 0 "$rc" "exit status of init with odd server text ($err)"
assert_not_contains "$err" $'\e' "no escape character from the server on the terminal"
assert_not_contains "$err" "injected" "a stack whose API key is not plain is left out"
assert_contains "$err" "1* $SITE  ?]0;owned?Site?  (owner)" "a stack name with control characters, shown"
assert_contains "$err" "Aliases: ok-alias -> main" "the plain alias"
assert_not_contains "$err" "bad" "an alias name that is not plain is left out"
assert_not_contains "$(cat "$CONF")" "evil" "nothing of the odd server text in the config file"
assert_contains "$(cat "$CONF")" "aliases = ok-alias" "the plain alias in the config file"
pass "server text reaches the terminal shown and the config file only when plain"

# --- two-factor without a terminal: CONTENTSTACK_MFA_SECRET, else an error saying so ---------
SECRET=JBSWY3DPEHPK3PXP
emu_user totp@example.com 'totp pw' "$SECRET"
emu_stack blt000000000000totp totp@example.com
TOTP_FLAGS=(--host "$CST_EMU_HOST" --ca-file "$CST_EMU_CA" --email totp@example.com --password-stdin
	--stack blt000000000000totp)
rc=0
INIT_PW='totp pw' init -p totp "${TOTP_FLAGS[@]}" >/dev/null 2>"$CST_TMP/err" || rc=$?
assert_eq 1 "$rc" "exit status of init for a two-factor account without a terminal"
assert_contains "$(cat "$CST_TMP/err")" "'totp@example.com' has two-factor authentication: set CONTENTSTACK_MFA_SECRET or run 'cstoken init' on a terminal" \
	"init for a two-factor account without a terminal"
CONTENTSTACK_MFA_SECRET=$SECRET INIT_PW='totp pw' init -p totp "${TOTP_FLAGS[@]}" >/dev/null \
	2>"$CST_TMP/err" || fail "init with CONTENTSTACK_MFA_SECRET: $(cat "$CST_TMP/err")"
cstoken token -p totp >/dev/null || fail "cstoken token after init with CONTENTSTACK_MFA_SECRET"
pass "two-factor without a terminal: the code from CONTENTSTACK_MFA_SECRET, else a clear error"
