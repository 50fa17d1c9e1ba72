#!/usr/bin/env bash
# etcd users and roles: a member whose role only reads gets the shared token but cannot
# publish one (a clear error, nothing minted); a publisher mints; the password lives in
# the local store through `cstoken login --etcd`.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"

shared_setup
etcd_auth
machine reader 'etcd_user = alice'
machine publisher 'etcd_user = bob'
login_on reader
login_on publisher

# no password stored yet
fails_on publisher 1 "without the etcd password" cstoken token
assert_contains "$err" "cstoken login --etcd" "error says how to log in to etcd"
fails_on publisher 1 "of status without the etcd password" cstoken status
assert_contains "$err" "cstoken login --etcd" "status says how to log in to etcd"
printf 'wrong\n' | fails_on publisher 1 "of a wrong etcd password" cstoken login --etcd --password-stdin
assert_contains "$err" "bob" "error names the etcd user"
assert_not_contains "$err" "wrong" "error"
printf '%s\n' "$ETCD_PW" | on publisher cstoken login --etcd --password-stdin 2>/dev/null ||
	fail "login --etcd as bob"
printf '%s\n' "$ETCD_PW" | on reader cstoken login --etcd --password-stdin 2>/dev/null ||
	fail "login --etcd as alice"
assert_not_contains "$(on reader cstoken list 2>&1)" "$ETCD_PW" "list"
pass "login --etcd checks the password with the cluster and keeps it"

# a read-only role may not publish: a clear error, and nothing minted
fails_on reader 1 "of a reader that finds nothing" cstoken token
assert_contains "$err" "permission denied" "error of a reader"
assert_contains "$err" "nothing was minted" "error says nothing was minted"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "more than one line: $err"
assert_eq 0 "$(token_posts)" "token creations by a reader"
pass "a read-only role cannot publish and mints nothing"

tok=$(on publisher cstoken token) || fail "publisher's token"
assert_eq 1 "$(token_posts)" "token creations by the publisher"
assert_eq "$tok" "$(on reader cstoken token)" "reader's token"
assert_eq 1 "$(token_posts)" "token creations after the reader"
pass "a publisher mints, a reader reads the same token"

out=$(on reader cstoken status 2>&1) || true
assert_contains "$out" "user alice" "status names the etcd user"
assert_contains "$out" "healthy" "status shows the endpoints' health"
assert_contains "$out" "minted by" "status shows who minted the token"
pass "status shows the shared store"
