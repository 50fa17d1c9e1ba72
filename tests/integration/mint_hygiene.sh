#!/usr/bin/env bash
# cstoken leaves none of its own dead tokens on a stack:
#  - a renewal keeps the replaced token until its expiry (a process may still hold it), and
#    the first call after that deletes it: one live token of the profile is left
#  - its own expired left-overs are deleted before a mint (and by revoke), so they never fill
#    the stack; somebody else's, and another profile's, stay
#  - Ctrl-C or SIGTERM while the create request is in flight: the token is stored, then cstoken dies of
#    the signal; no orphan on the stack
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'lifetime = 30d' 'renew_before = 2d'
mint_login

stored_uid() {
	cstoken list --json | emu_json_get '[i["uid"] for i in j["items"] if i["kind"] == "token"][0]'
}
# The uids of the stack's tokens whose name starts with the profile's name, sorted.
ours_on_stack() {
	emu_py /_emu/state "sorted(t['uid'] for t in $MINT_STATE_TOKENS if t['name'].startswith('$(mint_default_name) '))"
}

# --- renewal: the old token stays until it expires, then goes -------------------------------
tok1=$(cstoken token) || fail "first token"
uid1=$(stored_uid)
tok2=$(ftime '+29 days' cstoken token) || fail "token at +29 days"
[ "$tok2" != "$tok1" ] || fail "no renewal at +29 days"
uid2=$(stored_uid)
assert_eq "$(printf '%s\n' "$uid1" "$uid2" | sort | json_tool lines)" \
	"$(ours_on_stack)" "after the renewal the replaced token is still there (it has a day left)"
names=$(emu_py /_emu/state "len(set(t['name'] for t in $MINT_STATE_TOKENS))")
assert_eq 2 "$names" "the renewal has a name of its own"

emu_ctl DELETE /_emu/requests >/dev/null
assert_eq "$tok2" "$(ftime '+32 days' cstoken token)" "the renewed token at +32 days"
assert_eq "[\"$uid2\"]" "$(ours_on_stack)" "past the old token's expiry: one token of the profile"
assert_eq true "$(emu_py /_emu/requests "any(r['method'] == 'DELETE' and r['path'] == '$MINT_TOKENS/$uid1' for r in $MINT_REQS)")" \
	"the replaced token was deleted"
assert_eq 0 "$(token_posts)" "no mint to get there"
emu_ctl DELETE /_emu/requests >/dev/null
assert_eq "$tok2" "$(ftime '+33 days' cstoken token)" "the renewed token at +33 days"
assert_eq 0 "$(emu_py /_emu/requests "len($MINT_REQS)")" "nothing more to delete: no request"
pass "a renewal's replaced token is deleted by the first call past its expiry"

# --- expired left-overs of ours are deleted before a mint --------------------------------------
plant() { # NAME EXPIRES_ON -> uid
	emu_ctl POST /_emu/tokens "$(_emu_json api_key "$MINT_KEY" name "$1" expires_on "$2")" |
		emu_json_get 'j["uid"]'
}
base=$(mint_default_name)
dead=()
for i in 1 2 3 4 5; do
	dead+=("$(plant "$base 2001-01-0$i 00:00:00 UTC" "2001-02-0$i")")
done
dead+=("$(plant "$base" 2001-03-01)")
foreign=$(plant "ci deploy" 2001-01-01)
other=$(plant "${base}2 2001-01-01 00:00:00 UTC" 2001-01-01)
live=$(plant "$base 2001-01-09 00:00:00 UTC" 2099-01-01)
assert_eq 10 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "the stack is full"
rc=0
err=$(cstoken rotate 2>&1) || rc=$?
assert_eq 0 "$rc" "rotate on a stack full of expired tokens of ours: $err"
uid3=$(stored_uid)
assert_eq "$(printf '%s\n' "$foreign" "$other" "$live" "$uid3" | sort | json_tool lines)" \
	"$(emu_py /_emu/state "sorted(t['uid'] for t in $MINT_STATE_TOKENS)")" \
	"left: the foreign token, another profile's, a live one of ours, the new one"
assert_eq '[]' "$(emu_py /_emu/state "j['stacks']['$MINT_KEY']['evicted']")" "nothing evicted"
pass "expired tokens of ours are deleted before a mint; nobody else's"

# --- revoke talks to the API for the profile: it deletes the expired ones too -------------------
dead2=$(plant "$base 2001-01-07 00:00:00 UTC" 2001-01-07)
cstoken revoke >/dev/null 2>&1 || fail "revoke"
assert_eq "[\"$uid3\", \"$dead2\"]" \
	"$(emu_py /_emu/requests "[r['path'].rsplit('/', 1)[1] for r in $MINT_REQS if r['method'] == 'DELETE'][-2:]")" \
	"revoke deleted the stored token, then the expired one of ours"
assert_eq false "$(emu_py /_emu/state "'$dead2' in [t['uid'] for t in $MINT_STATE_TOKENS]")" \
	"the expired token is gone"
pass "revoke also deletes cstoken's expired tokens"

# --- Ctrl-C (or SIGTERM) while the create request is in flight ---------------------------------
for u in "$foreign" "$other" "$live"; do emu_ctl DELETE "/_emu/tokens/$u" >/dev/null; done
posted() { [ "$(token_posts)" = 1 ]; }
on_stack() { [ "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" != 0 ]; }
interrupt() { # SIGNAL EXIT-STATUS
	emu_ctl DELETE /_emu/requests >/dev/null
	emu_ctl POST /_emu/faults "{\"method\": \"POST\", \"path\": \"$MINT_TOKENS\", \"responses\": [{\"delay\": 5}]}" >/dev/null
	# a background job of a script ignores SIGINT unless told otherwise
	env --default-signal="$1" cstoken token >"$CST_TMP/out" 2>"$CST_TMP/err" &
	pid=$!
	cst_on_exit "kill $pid 2>/dev/null"
	wait_for posted
	kill -"$1" "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_eq "$2" "$rc" "cstoken dies of the SIG$1 ($(cat "$CST_TMP/err"))"
	assert_eq "" "$(cat "$CST_TMP/out")" "SIG$1: no token printed"
	wait_for on_stack
	assert_eq "[\"$(stored_uid)\"]" "$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS]")" \
		"SIG$1: the token created is the one stored"
	assert_eq "$(emu_py /_emu/state "${MINT_STATE_TOKENS}[0]['token']")" "$(cstoken token --no-mint)" \
		"SIG$1: and it is handed out"
	pass "SIG$1 during a mint: the token is stored, then cstoken dies of the signal"
}
interrupt INT 130
cstoken revoke >/dev/null 2>&1 || fail "revoke"
interrupt TERM 143
