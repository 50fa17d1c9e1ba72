#!/usr/bin/env bash
# rotate on one machine: the others see the new token within shared_cache, and the old one
# is revoked once shared_cache has passed since the switch, not before. revoke acts for
# everyone. Time moves with faketime.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"

live() { # UID: is the token still on the stack?
	[ "$(emu_py /_emu/state "len([t for t in $MINT_STATE_TOKENS if t['uid'] == '$1'])")" = 1 ]
}

shared_setup
machine a 'shared_cache = 5m'
machine b 'shared_cache = 5m'
machine c 'shared_cache = 5m'
login_on a
login_on b

t1=$(on a cstoken token) || fail "first token"
uid1=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['uid']")
assert_eq "$t1" "$(on b cstoken token)" "b's first token"
assert_eq "$t1" "$(on c cstoken token)" "c's first token"

err=$(on a cstoken rotate 2>&1 >/dev/null) || fail "rotate: $err"
assert_contains "$err" "for everyone" "rotate's message"
t2=$(on a cstoken token) || fail "token after rotate"
[ "$t2" != "$t1" ] || fail "rotate kept the token"
assert_eq 2 "$(token_posts)" "token creations"
assert_contains "$(etcd_value)" "\"token\":\"$t2\"" "published after rotate"

# list --remote marks the shared token and the one waiting for revocation
uid2=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$t2'][0]")
remote=$(on c cstoken list --remote --json 2>/dev/null || on b cstoken list --remote --json)
for u in "$uid1" "$uid2"; do
	assert_eq true "$(emu_json_get "[t['shared'] for t in j['tokens'] if t['uid'] == '$u'][0]" <<<"$remote")" "shared mark of $u"
done

# within shared_cache the others still use their copy; the old token stays valid for them
assert_eq "$t1" "$(on b cstoken token)" "b within shared_cache"
assert_eq "$t1" "$(on c ftime '+4 minutes' cstoken token)" "c within shared_cache"
live "$uid1" || fail "the old token was revoked before shared_cache passed"
pass "within shared_cache the old token still serves and is not revoked"

# past shared_cache: everybody moves on; a member that may mint revokes the old one
assert_eq "$t2" "$(on c ftime '+6 minutes' cstoken token)" "c past shared_cache"
live "$uid1" || fail "a member who cannot mint revoked the old token"
assert_eq "$t2" "$(on b ftime '+6 minutes' cstoken token)" "b past shared_cache"
live "$uid1" && fail "the old token is still live past shared_cache"
assert_not_contains "$(etcd_value)" "$uid1" "retired list after the revocation"
pass "past shared_cache the others see the new token, and the old one is revoked"

# revoke acts for everyone
uid2=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['uid']")
err=$(on a cstoken revoke 2>&1 >/dev/null) || fail "revoke: $err"
assert_contains "$err" "for everyone" "revoke's message"
live "$uid2" && fail "the shared token is still live after revoke"
assert_eq "" "$(etcd_value)" "published after revoke"
t3=$(on b ftime '+12 minutes' cstoken token) || fail "token after revoke"
[ "$t3" != "$t2" ] || fail "the revoked token was handed out"
assert_eq 3 "$(token_posts)" "token creations after revoke"
pass "revoke acts for everyone"

# renewal: a member who may mint and finds the token within its renew_before (45 days,
# for a 60-day lifetime) publishes a new one before the old one expires; the old one goes
# once shared_cache has passed, not before
machine r 'shared_cache = 5m' 'lifetime = 60d' 'renew_before = 45d'
login_on r
uid3=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$t3'][0]")
# a renewal that fails (here: the stack is full) leaves the shared token in service
machine full 'shared_cache = 5m' 'lifetime = 60d' 'renew_before = 45d' 'stack_token_limit = 1'
login_on full
out=$(on full cstoken token 2>"$CST_TMP/full.err") || fail "a failed renewal failed: $(cat "$CST_TMP/full.err")"
assert_eq "$t3" "$out" "token after a failed renewal"
assert_contains "$(cat "$CST_TMP/full.err")" "cannot renew the shared token" "warning of a failed renewal"
assert_eq 3 "$(token_posts)" "token creations of a failed renewal"
pass "a failed renewal keeps the shared token in service"
t4=$(on r cstoken token) || fail "token within renew_before"
[ "$t4" != "$t3" ] || fail "no renewal within renew_before"
assert_eq 4 "$(token_posts)" "token creations after the renewal"
assert_contains "$(etcd_value)" "\"token\":\"$t4\"" "published after the renewal"
live "$uid3" || fail "the renewed token was revoked at once"
assert_eq "$t4" "$(on c ftime '+12 minutes' cstoken token)" "a reader after the renewal"
live "$uid3" || fail "a reader revoked the renewed token"
assert_eq "$t4" "$(on a ftime '+18 minutes' cstoken token)" "past shared_cache"
live "$uid3" && fail "the renewed token is still live past shared_cache"
pass "renewal publishes the new token first and revokes the old one after shared_cache"
