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

# the config file and a ca_file decide where secrets go: nobody else may be able to change them
ca=$CST_TMP/ca.pem
printf -- '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' >"$ca"
chmod 644 "$ca"
printf '[cstoken]\nstore = file\n\n[profile p]\nca_file = %s\n' "$ca" >"$conf"
chmod 664 "$conf"
rc=0
err=$(get 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "exit status for a group-writable config file"
assert_eq 1 "$(printf '%s\n' "$err" | wc -l)" "lines of error output"
assert_contains "$err" "cstoken: '$conf' is writable by its group" "group-writable config"
assert_contains "$err" "chmod go-w '$conf'" "the refusal names the fix"
chmod 644 "$conf"
rc=0
err=$(get 2>&1 >/dev/null) || rc=$?
assert_eq 0 "$rc" "a 0644 config with a 0644 ca_file of ours ($err)"

chmod 666 "$ca"
rc=0
err=$(get 2>&1 >/dev/null) || rc=$?
assert_eq 2 "$rc" "exit status for a world-writable ca_file"
assert_contains "$err" "$conf:5: key 'ca_file': '$ca' is writable by anyone" "world-writable ca_file"
assert_contains "$err" "chmod go-w '$ca'" "the refusal names the fix"
chmod 644 "$ca"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$ca"
	rc=0
	err=$(get 2>&1 >/dev/null) || rc=$?
	assert_eq 2 "$rc" "exit status for a ca_file owned by another user"
	assert_contains "$err" "key 'ca_file': '$ca' belongs to uid 65534" "foreign ca_file"
	assert_contains "$err" "chmod go-w '$ca'" "the refusal names the fix"
	chown 0 "$ca"
	assert_eq "0 644" "$(stat -c '%u %a' "$ca")" "ca_file owner and mode"
	rc=0
	err=$(get 2>&1 >/dev/null) || rc=$?
	assert_eq 0 "$rc" "a root-owned 0644 ca_file is accepted ($err)"
fi
pass "a config file or ca_file that others could change is refused with the chmod to fix it"
