#!/usr/bin/env bash
# Single flight whatever the environment: the minting lock is one file per user and profile,
# so `cstoken token` runs with XDG_RUNTIME_DIR set, unset and set elsewhere all wait on the
# same lock and mint one token between them.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup
mint_login

# hold the lock from outside: flock(1) on the file cstoken locks, until its child is killed
lock=$XDG_DATA_HOME/cstoken/mint-default.lock
mkdir -p -m 700 "${lock%/*}"
(umask 077 && : >"$lock")
flock "$lock" sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec sleep 600' holder \
	"$CST_TMP/holder" &
holder_flock=$!
cst_on_exit "kill \$(cat $CST_TMP/holder 2>/dev/null) 2>/dev/null; wait $holder_flock 2>/dev/null"
wait_for test -s "$CST_TMP/holder"

# on_lock PID: PID has the lock file open (it is waiting for the lock); a process that ended
# without waiting is a failure
on_lock() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$lock" ] && return 0
	done
	kill -0 "$1" 2>/dev/null || fail "cstoken ($1) ended without waiting for the lock: $(cat "$CST_TMP"/err.* 2>/dev/null)"
	return 1
}

mkdir -p -m 700 "$CST_TMP/run2"
cstoken token >"$CST_TMP/out.set" 2>"$CST_TMP/err.set" &
pid_set=$!
env -u XDG_RUNTIME_DIR cstoken token >"$CST_TMP/out.unset" 2>"$CST_TMP/err.unset" &
pid_unset=$!
XDG_RUNTIME_DIR=$CST_TMP/run2 cstoken token >"$CST_TMP/out.other" 2>"$CST_TMP/err.other" &
pid_other=$!
wait_for on_lock "$pid_set"
wait_for on_lock "$pid_unset"
wait_for on_lock "$pid_other"
assert_eq 0 "$(token_posts)" "tokens created while the lock is held"
pass "with XDG_RUNTIME_DIR set, unset and elsewhere, cstoken waits on one lock"

kill "$(cat "$CST_TMP/holder")"
wait "$holder_flock" 2>/dev/null || true
for w in set unset other; do
	pid_var=pid_$w
	wait "${!pid_var}" || fail "token ($w) failed: $(cat "$CST_TMP/err.$w")"
done
assert_eq 1 "$(token_posts)" "token creations"
assert_eq 1 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "tokens on the stack"
tok=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")
for w in set unset other; do
	assert_eq "$tok" "$(cat "$CST_TMP/out.$w")" "token printed ($w)"
done
pass "one token minted; the others read it from the store"
