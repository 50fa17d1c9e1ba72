#!/usr/bin/env bash
# `cstoken revoke` of a token the server no longer knows: every documented "not found" answer
# (error 141, HTTP 404, a 422 saying not found / does not exist) removes it from the store and
# says so; any other error keeps it stored and exits 1.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup
mint_login

# gone_with NAME FAULT-RESPONSE-JSON: mints, makes the DELETE answer with the fault, revokes.
gone_with() {
	local what=$1 resp=$2 tok uid rc=0 err
	tok=$(cstoken token) || fail "$what: token"
	uid=$(emu_py /_emu/state "[t['uid'] for t in $MINT_STATE_TOKENS if t['token'] == '$tok'][0]")
	if [ -n "$resp" ]; then
		emu_ctl POST /_emu/faults "{\"method\": \"DELETE\", \"path\": \"$MINT_TOKENS/\", \"responses\": [$resp]}" >/dev/null
	else
		emu_ctl DELETE "/_emu/tokens/$uid" >/dev/null # deleted behind cstoken's back: 422 / 141
	fi
	err=$(cstoken revoke 2>&1) || rc=$?
	assert_eq 0 "$rc" "$what: revoke exit status ($err)"
	assert_contains "$err" "(uid $uid) was already gone on $CST_EMU_HOST; removed it from the store" \
		"$what: revoke says what it did"
	rc=0
	cstoken token --no-mint >/dev/null 2>&1 || rc=$?
	assert_eq 1 "$rc" "$what: nothing stored after revoke"
	emu_ctl DELETE /_emu/faults >/dev/null
	pass "revoke of a token gone on the server: $what"
}

gone_with "error 141" ""
gone_with "HTTP 404" '{"status": 404, "body": {"error_message": "The requested URL was not found.", "error_code": 404}}'
gone_with "422 not found" '{"status": 422, "body": {"error_message": "Management Token was not found.", "error_code": 119}}'
gone_with "422 does not exist" '{"status": 422, "body": {"error_message": "Management Token does not exist.", "error_code": 120}}'

# any other error: the token stays stored (it may still work) and revoke exits 1
tok=$(cstoken token) || fail "token"
emu_ctl POST /_emu/faults "{\"method\": \"DELETE\", \"path\": \"$MINT_TOKENS/\", \"responses\": [{\"status\": 422, \"body\": {\"error_message\": \"Management Token deletion failed.\", \"error_code\": 119}}]}" >/dev/null
assert_exit 1 "revoke on another 422" cstoken revoke
assert_not_contains "$out" "already gone" "another 422 is not 'gone'"
assert_eq "$tok" "$(cstoken token --no-mint)" "the token is still stored"
pass "another error keeps the token stored and exits 1"
