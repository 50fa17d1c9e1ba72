#!/bin/bash
# A broken cstoken.conf stops every command with exit 2 and one line naming file, line and key.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

conf=$XDG_CONFIG_HOME/cstoken/config
mkdir -p "${conf%/*}"
printf '[cstoken]\ntimeout = 10\n\n[profile work]\nregion = mars\n' >"$conf"

get() {
	printf 'protocol=https\nhost=example.com\n\n' | cstoken get
}

rc=0
err=$(get 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "exit status for a bad region"
assert_eq 1 "$(printf '%s\n' "$err" | wc -l)" "lines of error output"
assert_contains "$err" "cstoken: $conf:5: key 'region': unknown region 'mars'" "region error"
pass "bad value: exit 2, file, line and key"

printf '[profile work]\nbranches = main\naliases = deploy\n' >"$conf"
rc=0
err=$(get 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "exit status for branches and aliases"
assert_contains "$err" "$conf:3: key 'aliases'" "scope error"
pass "branches and aliases together are refused"

# CSTOKEN_CONFIG picks the file; a valid one is accepted
good=$CST_TMP/good.conf
printf '[cstoken]\nstore = file\n' >"$good"
rc=0
err=$(CSTOKEN_CONFIG=$good get 2>&1 >/dev/null) || rc=$?
assert_eq 0 "$rc" "exit status with CSTOKEN_CONFIG pointing at a valid file ($err)"
pass "CSTOKEN_CONFIG overrides the XDG path"

# a bad CSTOKEN_STORE is a configuration error naming the variable
rc=0
err=$(CSTOKEN_CONFIG=$good CSTOKEN_STORE=keyring get 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "exit status for a bad CSTOKEN_STORE"
assert_contains "$err" "CSTOKEN_STORE: 'keyring'" "env error"
pass "bad CSTOKEN_STORE: exit 2 naming the variable"
