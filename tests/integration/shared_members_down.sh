#!/usr/bin/env bash
# Members of the cluster fail: with one of three killed mid-run gets and mints still succeed; with
# two down a clear error names the endpoints, and a still valid local copy is served with
# a warning; nothing is lost when the members return.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"

shared_setup
# every get asks the cluster (no cache), and no call waits long on a lost quorum
for m in a b; do
	machine $m 'shared_cache = 0s'
	on $m sh -c 'printf "[cstoken]\ntimeout = 3\n" >>"$XDG_CONFIG_HOME/cstoken/config"'
done
login_on a

# a member killed while a mint is in flight (its create held in the emulator): the
# publish and every other get go through the members left
machine k
login_on k
emu_ctl POST /_emu/faults \
	"{\"method\":\"POST\",\"path\":\"$MINT_TOKENS\",\"responses\":[{\"delay\":1}]}" >/dev/null
gets_on k 8 &
gets=$!
posts_are() { [ "$(token_posts)" = "$1" ]; }
wait_for posts_are 1
etcd_stop 1
wait $gets || fail "gets with a member killed mid-run"
tok=$(value password <"$CST_TMP/k.out.1")
for i in $(seq 1 8); do
	assert_eq "$tok" "$(value password <"$CST_TMP/k.out.$i")" "get $i with a member killed"
done
assert_eq 1 "$(token_posts)" "token creations with a member killed mid-run"
assert_contains "$(etcd_value)" "\"token\":\"$tok\"" "published with a member killed"
gets_on a 4
assert_eq "$tok" "$(value password <"$CST_TMP/a.out.1")" "another machine's get"
on b cred_get >"$CST_TMP/b1" 2>"$CST_TMP/b1.err" || fail "read with one member down: $(cat "$CST_TMP/b1.err")"
assert_eq "$tok" "$(value password <"$CST_TMP/b1")" "token read with one member down"
pass "one member killed mid-run: the mint and the gets succeed"

# two down: no quorum
etcd_stop 2
on b cred_get >"$CST_TMP/b2" 2>"$CST_TMP/b2.err" ||
	fail "get of a machine with a copy, without a quorum: $(cat "$CST_TMP/b2.err")"
assert_eq "$tok" "$(value password <"$CST_TMP/b2")" "local copy served without a quorum"
assert_contains "$(cat "$CST_TMP/b2.err")" "warning" "warning about the cluster"
assert_contains "$(cat "$CST_TMP/b2.err")" "${CST_ETCD_ENDPOINTS%%,*}" "warning names the endpoints"
machine fresh 'shared_cache = 0s'
fails_on fresh 1 "without a quorum and without a copy" cstoken token
assert_contains "$err" "no etcd member answered" "error without a quorum"
assert_contains "$err" "${CST_ETCD_ENDPOINTS##*, }" "error names the endpoints"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "more than one line: $err"
assert_eq 1 "$(token_posts)" "nothing minted without a quorum"
pass "two members down: a clear error, the local copy still served"

etcd_start 1
etcd_start 2
wait_for etcd_healthy
out=$(on fresh cstoken token 2>"$CST_TMP/f.err") || fail "token after the members returned: $(cat "$CST_TMP/f.err")"
assert_eq "$tok" "$out" "token after the members returned"
assert_eq 1 "$(token_posts)" "token creations after the members returned"
pass "nothing lost when the members return"
