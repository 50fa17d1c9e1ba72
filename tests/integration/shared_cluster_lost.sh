#!/usr/bin/env bash
# The cluster goes away between the claim and the publish: the token just created is
# revoked again, the command fails with one line naming the endpoints it tried, and this
# machine keeps no copy of a token the cluster does not record.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"


shared_setup
machine a
login_on a

# the create is held in the emulator while every member is stopped
mint_held a
etcd_stop 1
etcd_stop 2
etcd_stop 3
mint_release
rc=0
wait $minter || rc=$?
err=$(cat "$CST_TMP/a.err")

assert_eq 1 "$rc" "exit status"
assert_eq "" "$(cat "$CST_TMP/a.out")" "output"
assert_eq 1 "$(wc -l <"$CST_TMP/a.err")" "lines on stderr: $err"
assert_contains "$err" "cstoken: cannot publish the new token" "the error"
for i in 1 2 3; do
	assert_contains "$err" "http://127.0.0.1:${ETCD_CLIENT[$i]}" "endpoint $i named"
done
assert_contains "$err" "revoked again" "the error says what became of the token"
pass "the cluster lost before the publish: one line naming the endpoints"

uid=$(emu_py /_emu/state "j['stacks']['$MINT_KEY']['deleted'][0]")
assert_eq 1 "$(emu_py /_emu/state "len(j['stacks']['$MINT_KEY']['deleted'])")" "tokens deleted"
assert_eq 0 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "tokens left on the stack"
assert_eq 1 "$(emu_py /_emu/requests "len([r for r in $MINT_REQS if r['method'] == 'DELETE' and r['path'] == '$MINT_TOKENS/$uid'])")" "deletes of the new token"
pass "the token created for nobody is deleted at the server"

list=$(on a cstoken list --json) || fail "list failed"
assert_eq 0 "$(printf '%s' "$list" | json_tool get "len([i for i in j['items'] if i['kind'] == 'token'])")" \
	"tokens in the local store"
assert_not_contains "$list" "$uid" "the local store"
pass "nothing stays in the local store as the shared token"
