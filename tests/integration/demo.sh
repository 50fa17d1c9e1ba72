#!/usr/bin/env bash
# scripts/demo.sh, on the cstoken of this build: it runs to the end, and the commands it shows
# are the ones it runs (git with the README's host-scoped helper line, curl with no --cacert:
# the curl config carries it).
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

out=$(CSTOKEN_DEMO_BIN_DIR=$CSTOKEN_BIN_DIR timeout 120 "$CSTOKEN_SRC/scripts/demo.sh" 2>&1) ||
	fail "scripts/demo.sh failed: $out"
host=$(sed -n 's/^== A throwaway stack at \([^;]*\);.*/\1/p' <<<"${out//$'\e'\[[01]m/}")
[ -n "$host" ] || fail "the demo names no emulator host: $out"
assert_contains "$out" "\$ printf '%s\n' 'correct horse battery staple' | cstoken login --password-stdin
cstoken: logged in to $host as 'alice@example.com'" "the login shown, then its answer"
assert_contains "$out" "git -c credential.https://$host.helper=cstoken credential fill |" "the git line shown"
assert_contains "$out" "username=blt0123456789abcdef" "git's answer"
assert_contains "$out" "\$ curl -sS -K <(cstoken curl) https://$host/v3/content_types
{\"content_types\": []}" "the curl line shown, then its answer"
assert_contains "$out" "tokens minted so far: 1" "curl took the stored token"
assert_contains "$out" "api key blt0123456789abcdef, token of " "exec's answer"
pass "scripts/demo.sh shows the commands it runs, and they work"
