#!/usr/bin/env bash
# --min-ttl D on token, exec and curl: the token handed out lives at least D more (it dies
# at 00:00 UTC of its expires_on); a stored one that would not is renewed first, and when
# renewal is impossible the command fails (exit 1, one line) instead. The clock is moved
# with faketime to fixed instants, so the arithmetic does not depend on the time of day.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'lifetime = 30d' 'renew_before = 10m'
mint_login
export TZ=UTC
at() { # "YYYY-MM-DD hh:mm" CMD...: CMD with the clock at that instant
	local when=$1
	shift
	ftime "$when:00" "$@"
}
expiry_of() { at "$1" cstoken token --porcelain --no-mint | value expiry; }
day() { date -u -d "$1 00:00:00" +%s; }

t1=$(at "2030-01-10 12:00" cstoken token) || fail "first mint"
assert_eq "$(day 2030-02-10)" "$(expiry_of "2030-01-10 12:05")" "30d rounded up to a midnight"
assert_eq 1 "$(token_posts)" "one mint"

# 1.5 days left: enough for 1d, not for 2d
assert_eq "$t1" "$(at "2030-02-08 12:00" cstoken token --min-ttl 1d)" "1d of 1.5d left: kept"
assert_eq "$t1" "$(at "2030-02-08 12:00" cstoken token --min-ttl=35h)" "--min-ttl=35h: kept"
assert_eq 1 "$(token_posts)" "nothing minted for enough time left"
t2=$(at "2030-02-08 12:00" cstoken token --min-ttl 2d) || fail "token --min-ttl 2d"
[ "$t2" != "$t1" ] || fail "--min-ttl 2d with 1.5d left handed out the old token"
assert_eq 2 "$(token_posts)" "renewed for 2d"
assert_eq "$t2" "$(at "2030-02-08 12:01" cstoken token --no-mint)" "the renewal is stored"
assert_eq "$(day 2030-03-11)" "$(expiry_of "2030-02-08 12:01")" "the new token's expiry"
pass "token --min-ttl renews a token that would not last"

# 30 minutes before the midnight of expires_on: fine for a plain call, not for a 1h job
assert_eq "$t2" "$(at "2030-03-10 23:30" cstoken exec -- sh -c 'printf %s "$CONTENTSTACK_MANAGEMENT_TOKEN"')" \
	"exec without --min-ttl keeps a token with 30 minutes left"
t3=$(at "2030-03-10 23:30" cstoken exec --min-ttl 1h -- sh -c 'printf %s "$CONTENTSTACK_MANAGEMENT_TOKEN"') ||
	fail "exec --min-ttl 1h"
[ "$t3" != "$t2" ] || fail "exec --min-ttl 1h handed out a token dying at midnight"
assert_eq 3 "$(token_posts)" "renewed for exec"
pass "exec --min-ttl: a token dies at 00:00 UTC of its expires_on"

# curl: 12 hours left, a 1d job
assert_eq "$(day 2030-04-10)" "$(expiry_of "2030-04-09 12:00")" "the third token's expiry"
at "2030-04-09 12:00" cstoken curl --min-ttl 1d >"$CST_TMP/curlrc" || fail "curl --min-ttl 1d"
t4=$(at "2030-04-09 12:01" cstoken token --no-mint)
[ "$t4" != "$t3" ] || fail "curl --min-ttl 1d did not renew"
assert_contains "$(cat "$CST_TMP/curlrc")" "authorization: $t4\"" "curl config carries the renewal"
assert_eq 4 "$(token_posts)" "renewed for curl"
pass "curl --min-ttl renews"

# impossible: fail, print nothing, mint nothing
refused() { # WHAT WHEN EXPECTED-ERROR ARGS...
	local what=$1 when=$2 want=$3 rc=0 out err
	shift 3
	out=$(at "$when" cstoken "$@" 2>"$CST_TMP/err") || rc=$?
	err=$(cat "$CST_TMP/err")
	assert_eq 1 "$rc" "$what: exit status"
	assert_eq "" "$out" "$what: nothing on stdout"
	assert_eq 1 "$(wc -l <<<"$err")" "$what: one line"
	assert_contains "$err" "cstoken: $want" "$what: error"
}
# t4 expires at 2030-05-10 00:00; at 2030-05-09 12:00 it has 12 hours left
refused "longer than the lifetime" "2030-05-09 12:00" "a token minted now for profile 'default' would expire at 2030-06-09" \
	token --min-ttl 40d
refused "--no-mint" "2030-05-09 12:00" "the stored token of profile 'default' expires at 2030-05-10 00:00 UTC" \
	token --no-mint --min-ttl 1d
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'lifetime = 30d' 'renew_before = 10m' 'mint = no'
refused "mint = no" "2030-05-09 12:00" "the stored token of profile 'default' expires at 2030-05-10 00:00 UTC" \
	curl --min-ttl 1d
assert_contains "$(cat "$CST_TMP/err")" "mint = no" "mint = no: named"
assert_eq "$t4" "$(at "2030-05-09 12:00" cstoken token)" "without --min-ttl the token is still handed out"
emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'lifetime = 30d' 'renew_before = 10m'
cstoken logout >/dev/null 2>&1 || fail "logout"
refused "not logged in" "2030-05-09 12:00" "not logged in" \
	exec --min-ttl 1d -- touch "$CST_TMP/ran"
[ ! -e "$CST_TMP/ran" ] || fail "exec ran its command with a token too short"
assert_eq 4 "$(token_posts)" "nothing minted when refused"
pass "impossible renewals fail instead of handing out a short-lived token"

for bad in "abc" "1y" "-1" "1d2h"; do
	rc=0
	err=$(cstoken token --min-ttl "$bad" 2>&1 >/dev/null) || rc=$?
	assert_eq 2 "$rc" "--min-ttl '$bad'"
	assert_contains "$err" "is not a duration" "--min-ttl '$bad' error"
done
rc=0
cstoken curl --min-ttl 2>/dev/null || rc=$?
assert_eq 2 "$rc" "--min-ttl without a value"
pass "--min-ttl usage errors"
