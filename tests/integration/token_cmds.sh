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
printf 'header = "api_key: %s"\nheader = "authorization: %s"\n' "$MINT_KEY" "$tok" |
	cmp - "$CST_TMP/curlrc" || fail "curl config: $(cat "$CST_TMP/curlrc")"
out=$(curl -sS --fail-with-body --noproxy '*' -K <(cstoken curl) "$CST_EMU_URL/v3/content_types" \
	--cacert "$CST_EMU_CA") || fail "curl -K <(cstoken curl) refused: $out"
assert_eq '[]' "$(emu_json_get 'j["content_types"]' <<<"$out")" "content_types answer"
assert_eq "$tok" "$(emu_py '/_emu/requests?path=/v3/content_types' "j[-1]['headers']['authorization']")" \
	"authorization header the emulator saw"
pass "curl -K <(cstoken curl)"

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
rc=0
out=$(cstoken token --no-mint 2>"$CST_TMP/err") || rc=$?
assert_eq 1 "$rc" "--no-mint on an empty store"
assert_eq "" "$out" "--no-mint prints no token"
assert_eq 2 "$(token_posts)" "no mint with --no-mint"
pass "usage and profile errors"
