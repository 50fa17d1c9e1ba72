#!/usr/bin/env bash
# The command line as cstoken(1) promises it: --help on every command, -p/-v before or after
# the command name, exit status 2 with one 'cstoken: ' line for usage and configuration
# errors, and a relative CSTOKEN_STORE_FILE refused like a relative store_file.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

for cmd in get store erase init login logout token exec curl list revoke rotate status; do
	out=$(cstoken "$cmd" --help </dev/null) || fail "$cmd --help exit status"
	assert_contains "$out" "usage: cstoken $cmd" "$cmd --help"
	out=$(cstoken -v "$cmd" -h </dev/null 2>/dev/null) || fail "-v $cmd -h exit status"
	assert_contains "$out" "usage: cstoken $cmd" "-v $cmd -h"
done
pass "--help on every command"

mkdir -p "$XDG_CONFIG_HOME/cstoken"
printf '[profile other]\nmint = no\n' >"$XDG_CONFIG_HOME/cstoken/config"
export CSTOKEN_STORE=file
for args in "-p other status" "status -p other" "status --profile=other -v" "-v -pother status"; do
	# shellcheck disable=SC2086
	out=$(cstoken $args 2>/dev/null) || true
	assert_contains "$out" "other" "profile from '$args'"
	assert_not_contains "$out" "not configured" "profile from '$args'"
done
pass "-p and -v before or after the command"

rc=0
err=$(CSTOKEN_STORE_FILE=relative/credentials cstoken list 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "relative CSTOKEN_STORE_FILE: exit status"
assert_eq 1 "$(wc -l <<<"$err")" "relative CSTOKEN_STORE_FILE: one line"
assert_contains "$err" "cstoken: CSTOKEN_STORE_FILE: 'relative/credentials' must be an absolute path" \
	"relative CSTOKEN_STORE_FILE: error"
[ ! -e relative ] || fail "a relative store was created"
out=$(CSTOKEN_STORE_FILE="~/elsewhere/credentials" cstoken list 2>&1) || fail "~/ store: $out"
pass "a relative CSTOKEN_STORE_FILE is refused"

rc=0
err=$(cstoken token --bogus 2>&1) || rc=$?
assert_eq 2 "$rc" "unknown option: exit status"
assert_eq 1 "$(wc -l <<<"$err")" "unknown option: one line"
assert_contains "$err" "cstoken: unknown option '--bogus'; see 'cstoken token --help'" "unknown option"
pass "usage errors"

for c in get store erase login logout token exec curl list revoke rotate status; do
	out=$(cstoken "$c" --version </dev/null) || fail "'cstoken $c --version' failed"
	assert_eq "$(cstoken --version)" "$out" "'cstoken $c --version'"
done
pass "--version on every command"

# exec's COMMAND keeps its own options, with or without "--"
printf '#!/bin/sh\nprintf "%%s|" "$@"\n' >"$CST_TMP/args"
chmod +x "$CST_TMP/args"
cstoken exec --help | grep -q '^usage: cstoken exec' || fail "exec --help"
for argv in "$CST_TMP/args -v --help --version -p x" "-- $CST_TMP/args -v --help --version -p x"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(cstoken -p nosuch exec $argv 2>&1 >/dev/null) || rc=$?
	# the profile is unknown, so nothing runs; but -v/-p/--help after COMMAND were not ours
	assert_eq 2 "$rc" "exec $argv: exit status"
	assert_contains "$err" "nosuch" "exec $argv: the -p before exec was taken"
	assert_not_contains "$err" "debug:" "exec $argv: COMMAND's -v was not taken"
done
pass "exec leaves its COMMAND's options alone"
