#!/usr/bin/env bash
# `cstoken token`, `exec` and `curl`: what they print, what CMD receives, what the API accepts.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'branches = development' 'region = eu'
mint_login

# token --porcelain: the PAM module's interface, exactly five lines
cstoken token --porcelain >"$CST_TMP/porcelain" || fail "token --porcelain failed"
tok=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")
uid=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['uid']")
exp=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['expires_on']")
printf 'api_key=%s\ntoken=%s\nuid=%s\nexpiry=%s\nminted=1\n' "$MINT_KEY" "$tok" "$uid" \
	"$(date -u -d "$exp 00:00:00" +%s)" >"$CST_TMP/expected"
cmp "$CST_TMP/expected" "$CST_TMP/porcelain" || fail "porcelain: $(diff "$CST_TMP/expected" "$CST_TMP/porcelain")"
cstoken token --porcelain --no-mint >"$CST_TMP/porcelain2" || fail "second porcelain"
sed -i 's/^minted=1$/minted=0/' "$CST_TMP/expected"
cmp "$CST_TMP/expected" "$CST_TMP/porcelain2" || fail "porcelain (stored): $(cat "$CST_TMP/porcelain2")"
pass "token --porcelain"

# token: the value and a newline, nothing else
cstoken token >"$CST_TMP/plain" || fail "token failed"
printf '%s\n' "$tok" | cmp - "$CST_TMP/plain" || fail "token output: $(cat "$CST_TMP/plain")"
assert_eq "$tok" "$(cstoken -p default token)" "-p before the command"
assert_eq 1 "$(token_posts)" "token commands reuse the stored token"
pass "token"

# exec: the environment, the exit status, and no token in the child's argv
unset CONTENTSTACK_BRANCH
rc=0
cstoken exec -- sh -c '
	printf "%s\n" "$CONTENTSTACK_MANAGEMENT_TOKEN" "$CONTENTSTACK_API_KEY" \
		"$CONTENTSTACK_API_HOST" "$CONTENTSTACK_REGION" "${CONTENTSTACK_BRANCH-unset}"
	tr "\0" " " </proc/$$/cmdline >"$0"
	exit 7' "$CST_TMP/cmdline" >"$CST_TMP/env" || rc=$?
assert_eq 7 "$rc" "exec passes the exit status"
printf '%s\n' "$tok" "$MINT_KEY" "$CST_EMU_HOST" eu development >"$CST_TMP/env.expected"
cmp "$CST_TMP/env.expected" "$CST_TMP/env" || fail "exec environment: $(cat "$CST_TMP/env")"
assert_contains "$(cat "$CST_TMP/cmdline")" "sh -c" "the child's cmdline was read"
assert_not_contains "$(cat "$CST_TMP/cmdline")" "$tok" "child's /proc/PID/cmdline"
pass "exec environment and exit status"

# the child sees its own arguments untouched, options after -- included
out=$(cstoken exec -- printf '%s|' -p x -- --help) || fail "exec with option-like arguments"
assert_eq '-p|x|--|--help|' "$out" "arguments after --"
rc=0
err=$(cstoken exec -- "$CST_TMP/no such program" 2>&1) || rc=$?
assert_eq 127 "$rc" "exec of a missing program"
assert_eq 1 "$(wc -l <<<"$err")" "one error line"
assert_contains "$err" "cstoken: cannot run '$CST_TMP/no such program'" "exec error"
printf '#!/bin/sh\n' >"$CST_TMP/noexec"
chmod 600 "$CST_TMP/noexec"
rc=0
cstoken exec -- "$CST_TMP/noexec" 2>/dev/null || rc=$?
assert_eq 126 "$rc" "exec of a non-executable file"
rc=0
err=$(cstoken exec 2>&1) || rc=$?
assert_eq 2 "$rc" "exec without a command"
assert_contains "$err" "cstoken: " "usage error line"
pass "exec errors"

# two branches: no CONTENTSTACK_BRANCH is invented
cat >>"$XDG_CONFIG_HOME/cstoken/config" <<EOC

[profile two]
host = $CST_EMU_HOST
ca_file = $CST_EMU_CA
api_key = $MINT_KEY
email = $MINT_EMAIL
branches = main, development
EOC
out=$(cstoken exec -p two -- sh -c 'printf "%s" "${CONTENTSTACK_BRANCH-unset}"') || fail "exec -p two"
assert_eq unset "$out" "CONTENTSTACK_BRANCH with two branches"
tok_two=$(cstoken token -p two) || fail "token -p two"
[ "$tok_two" != "$tok" ] || fail "profile two got profile default's token"
pass "exec with a two-branch scope"

# curl: a config real curl accepts, and the emulator accepts the headers
cstoken curl >"$CST_TMP/curlrc" || fail "cstoken curl failed"
printf 'header = "api_key: %s"\nheader = "authorization: %s"\nheader = "branch: development"\ncacert = "%s"\n' \
	"$MINT_KEY" "$tok" "$CST_EMU_CA" | cmp - "$CST_TMP/curlrc" || fail "curl config: $(cat "$CST_TMP/curlrc")"
# the profile's ca_file comes with the config: no --cacert on the command line
out=$(curl -sS --fail-with-body --noproxy '*' -K <(cstoken curl) "$CST_EMU_URL/v3/content_types") ||
	fail "curl -K <(cstoken curl) refused: $out"
assert_eq '[]' "$(emu_json_get 'j["content_types"]' <<<"$out")" "content_types answer"
assert_eq "$tok" "$(emu_py '/_emu/requests?path=/v3/content_types' "j[-1]['headers']['authorization']")" \
	"authorization header the emulator saw"
pass "curl -K <(cstoken curl), the profile's ca_file as cacert"

# curl: the scope's one branch (or alias) goes as the branch header the emulator checks
assert_eq development "$(emu_py '/_emu/requests?path=/v3/content_types' "j[-1]['headers']['branch']")" \
	"branch header the emulator saw"
cat >>"$XDG_CONFIG_HOME/cstoken/config" <<EOC

[profile al]
host = $CST_EMU_HOST
ca_file = $CST_EMU_CA
api_key = $MINT_KEY
email = $MINT_EMAIL
aliases = deploy
EOC
out=$(curl -sS --fail-with-body --noproxy '*' -K <(cstoken -p al curl) "$CST_EMU_URL/v3/content_types" \
	--cacert "$CST_EMU_CA") || fail "curl with an alias-scoped token refused: $out"
assert_eq deploy "$(emu_py '/_emu/requests?path=/v3/content_types' "j[-1]['headers']['branch']")" \
	"branch header of an alias scope"
out=$(curl -sS --fail-with-body --noproxy '*' -K <(cstoken -p two curl) "$CST_EMU_URL/v3/content_types" \
	--cacert "$CST_EMU_CA") || fail "curl with a two-branch token refused: $out"
assert_eq null "$(emu_py '/_emu/requests?path=/v3/content_types' "j[-1]['headers'].get('branch')")" \
	"no branch header for two branches"
# the header is what makes the scope work: without it the emulator assumes main
rc=0
curl -sS --fail --noproxy '*' --cacert "$CST_EMU_CA" -o /dev/null -H "api_key: $MINT_KEY" \
	-H "authorization: $tok" -H "branch: main" "$CST_EMU_URL/v3/content_types" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "the emulator took a development token for branch main"
pass "curl sends the branch header for a one-branch or one-alias scope"

# a ca_file whose path needs curl's quoting
qca=$CST_TMP/'my "test" CA\.pem'
cp "$CST_EMU_CA" "$qca"
cat >>"$XDG_CONFIG_HOME/cstoken/config" <<EOC

[profile quoted]
host = $CST_EMU_HOST
ca_file = $qca
api_key = $MINT_KEY
email = $MINT_EMAIL
EOC
assert_contains "$(cstoken -p quoted curl)" 'cacert = "'"${CST_TMP//\\/\\\\}"'/my \"test\" CA\\.pem"' \
	"the quoted cacert line"
out=$(curl -sS --fail-with-body --noproxy '*' -K <(cstoken -p quoted curl) \
	"$CST_EMU_URL/v3/content_types") || fail "curl with a quoted cacert refused: $out"
pass "a ca_file path with quotes and a backslash reaches curl intact"

# exec: the region only when known, never CONTENTSTACK_HOST
out=$(CONTENTSTACK_REGION=stale CONTENTSTACK_HOST=cdn.example cstoken exec -p two -- sh -c \
	'printf "%s|%s" "${CONTENTSTACK_REGION-unset}" "${CONTENTSTACK_HOST-unset}"') || fail "exec -p two"
assert_eq "unset|cdn.example" "$out" "host-only profile: no region; CONTENTSTACK_HOST untouched"
out=$(cstoken exec -- sh -c 'printf "%s|%s" "${CONTENTSTACK_REGION-unset}" "${CONTENTSTACK_HOST-unset}"')
assert_eq "eu|unset" "$out" "region key: exported; CONTENTSTACK_HOST never set"
pass "exec exports the region only when it is known"

# exec --env NAME=FIELD: every field, under any name, the options anywhere before COMMAND
out=$(cstoken exec --env T=token --env K=api_key --env H=host -p default --env U=url \
	--env R=region --env B=branch --env=TF_VAR_management_token=token -- sh -c \
	'printf "%s\n" "$T" "$K" "$H" "$U" "$R" "$B" "$TF_VAR_management_token"') ||
	fail "exec --env"
printf '%s\n' "$tok" "$MINT_KEY" "$CST_EMU_HOST" "https://$CST_EMU_HOST" eu development "$tok" |
	cmp - <(printf '%s\n' "$out") || fail "exec --env values: $out"
out=$(R=stale B=stale cstoken exec -p two --env R=region --env B=branch -- sh -c \
	'printf "%s|%s" "${R-unset}" "${B-unset}"') || fail "exec -p two --env"
assert_eq "unset|unset" "$out" "a field without a value removes the variable"
for bad in "1X=token" "A-B=token" "X" "=token" "X=secret" "X=" "CONTENTSTACK_HOST=url" \
	"X=Token"; do
	rc=0
	err=$(cstoken exec --env "$bad" -- true 2>&1 >/dev/null) || rc=$?
	assert_eq 2 "$rc" "exit status of --env '$bad'"
	assert_eq 1 "$(wc -l <<<"$err")" "one line for --env '$bad'"
	assert_contains "$err" "cstoken: --env" "error for --env '$bad'"
done
err=$(cstoken exec --env CONTENTSTACK_HOST=host -- true 2>&1 >/dev/null) || true
assert_contains "$err" "cstoken does not set CONTENTSTACK_HOST" "CONTENTSTACK_HOST refused"
rc=0
cstoken exec --env 2>/dev/null || rc=$?
assert_eq 2 "$rc" "--env without a value"
pass "exec --env NAME=FIELD"

# Contentstack's CLI, wired the way cstoken(1) shows it (the example is taken from the page):
# a stand-in csdx checks what it is given, keeps the token where csdx would, and calls the
# API with it; the throwaway configuration is gone afterwards, whatever the exit status.
mkdir -p "$CST_TMP/csdx-bin" "$CST_TMP/work"
cat >"$CST_TMP/csdx-bin/csdx" <<'EOS'
#!/bin/sh
set -e
[ -d "$CS_CLI_CONFIG_PATH" ] || { echo "csdx: no CS_CLI_CONFIG_PATH" >&2; exit 9; }
echo "$CS_CLI_CONFIG_PATH" >>"$CSDX_LOG.dirs"
case "$1" in
config:set:region) echo "region $2" >>"$CSDX_LOG" ;;
auth:tokens:add)
	[ "$*" = "auth:tokens:add --management -a ci -k $CONTENTSTACK_API_KEY -y" ] ||
		{ echo "csdx: arguments $*" >&2; exit 9; }
	[ -n "$TOKEN" ] || { echo "csdx: no TOKEN" >&2; exit 9; }
	printf '%s\n%s\n' "$CONTENTSTACK_API_KEY" "$TOKEN" >"$CS_CLI_CONFIG_PATH/ci" ;;
cm:stacks:export)
	{ read -r key; read -r tok; } <"$CS_CLI_CONFIG_PATH/ci"
	curl -sS --fail --noproxy '*' --cacert "$CST_EMU_CA" -H "api_key: $key" \
		-H "authorization: $tok" "$CST_EMU_URL/v3/content_types" >"$CSDX_LOG.export"
	exit "${CSDX_EXPORT_STATUS:-0}" ;;
*) echo "csdx: unexpected $1" >&2; exit 9 ;;
esac
EOS
chmod +x "$CST_TMP/csdx-bin/csdx"
example=$(sed -n '/^\$ cstoken exec --env TOKEN=token -- sh -c/,/ \.\/export.$/p' \
	"$CSTOKEN_SRC/man/cstoken.1" | sed -e 's/^\$ //' -e 's/\\e/\\/g')
assert_contains "$example" "csdx cm:stacks:export" "the example in cstoken(1)"
assert_eq "$example" "$(sed -n '/^cstoken exec --env TOKEN=token -- sh -c/,/ \.\/export.$/p' \
	"$CSTOKEN_SRC/README.md")" "the README shows the same example"
for status in 0 3; do
	rm -f "$CST_TMP/csdx.log"*
	rc=0
	(cd "$CST_TMP/work" && PATH=$CST_TMP/csdx-bin:$PATH CSDX_LOG=$CST_TMP/csdx.log \
		CSDX_EXPORT_STATUS=$status eval "$example") >/dev/null || rc=$?
	assert_eq "$status" "$rc" "exit status of the csdx example"
	assert_eq "region EU" "$(cat "$CST_TMP/csdx.log")" "csdx region"
	assert_eq '[]' "$(emu_json_get 'j["content_types"]' <"$CST_TMP/csdx.log.export")" \
		"csdx used the token"
	assert_eq 1 "$(sort -u "$CST_TMP/csdx.log.dirs" | wc -l)" "one configuration directory"
	[ ! -e "$(head -1 "$CST_TMP/csdx.log.dirs")" ] || fail "csdx's configuration outlived the command"
done
pass "the csdx example of cstoken(1) works and leaves no copy of the token"

# errors: unknown profile, bad usage
rc=0
err=$(cstoken token -p nosuch 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "unknown profile"
assert_contains "$err" "cstoken: profile 'nosuch'" "unknown profile error"
for cmd in "token --bogus" "token extra" "curl --bogus" "exec --bogus -- true"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(cstoken $cmd 2>&1 >/dev/null) || rc=$?
	assert_eq 2 "$rc" "exit status of 'cstoken $cmd'"
	assert_eq 1 "$(wc -l <<<"$err")" "one line for 'cstoken $cmd'"
	assert_contains "$err" "cstoken: " "'cstoken $cmd' error"
done
rm -f "$MINT_STORE_FILE"
posts=$(token_posts)
rc=0
out=$(cstoken token --no-mint 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "--no-mint on an empty store"
assert_eq "" "$out" "--no-mint prints no token"
assert_eq "$posts" "$(token_posts)" "no mint with --no-mint"
pass "usage and profile errors"
