#!/usr/bin/env bash
# `cstoken help COMMAND`, and "did you mean" for a mistyped command or config key.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

# run CMD...: its exit status in $rc, stdout in $out, stderr in $err.
run() {
	rc=0
	out=$("$@" 2>"$CST_TMP/err") || rc=$?
	err=$(cat "$CST_TMP/err")
}

# --- help COMMAND -----------------------------------------------------------------------------
for c in get login token exec curl list revoke rotate status; do
	run cstoken help "$c"
	assert_eq 0 "$rc" "exit status of 'help $c' ($err)"
	assert_eq "$(cstoken "$c" --help)" "$out" "'help $c' prints what '$c --help' does"
	assert_contains "$out" "usage: cstoken $c" "'help $c'"
done
run cstoken help
assert_eq 0 "$rc" "exit status of 'help'"
assert_eq "$(cstoken --help)" "$out" "'help' alone is --help"
assert_contains "$out" "help [COMMAND]" "the main help lists help"
pass "help COMMAND prints that command's help, exit 0"

run cstoken help nosuch
assert_eq 2 "$rc" "exit status of 'help nosuch'"
assert_eq "" "$out" "stdout of 'help nosuch'"
assert_eq "cstoken: unknown command 'nosuch'; see 'cstoken --help'" "$err" "'help nosuch'"
run cstoken help token list
assert_eq 2 "$rc" "exit status of help with two names"
pass "help of an unknown command: exit 2, one line"

# --- did you mean -----------------------------------------------------------------------------
run cstoken tokn
assert_eq 2 "$rc" "exit status of 'tokn'"
assert_eq "cstoken: unknown command 'tokn' (did you mean 'token'?); see 'cstoken --help'" \
	"$err" "'tokn'"
run cstoken help stauts
assert_eq 2 "$rc" "exit status of 'help stauts'"
assert_contains "$err" "unknown command 'stauts' (did you mean 'status'?)" "'help stauts'"
run cstoken frobnicate
assert_eq 2 "$rc" "exit status of 'frobnicate'"
assert_not_contains "$err" "did you mean" "a word close to no command"
pass "an unknown command close to a known one names it"

conf=$XDG_CONFIG_HOME/cstoken/config
mkdir -p "${conf%/*}"
printf '[cstoken]\ntimout = 3\n' >"$conf"
run cstoken list
assert_eq 2 "$rc" "exit status for the key 'timout'"
assert_eq "cstoken: $conf:2: key 'timout': unknown key (did you mean 'timeout'?); see cstoken.conf(5)" \
	"$err" "'timout'"
printf '[profile p]\nAPI_KEE = blt1\n' >"$conf"
run cstoken list
assert_eq 2 "$rc" "exit status for the key 'API_KEE'"
assert_contains "$err" "key 'API_KEE': unknown key (did you mean 'api_key'?)" "'API_KEE'"
printf '[profile p]\ncolour = blue\n' >"$conf"
run cstoken list
assert_eq 2 "$rc" "exit status for the key 'colour'"
assert_not_contains "$err" "did you mean" "a key close to no key"
pass "an unknown config key close to a key of its section names it"
