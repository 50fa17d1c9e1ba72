#!/usr/bin/env bash
# Three machines x 16 parallel gets on an empty shared store: one token minted for all 48,
# and a machine without a Contentstack login gets the same one.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"

shared_setup
for m in a b c; do
	machine $m
	login_on $m
done
machine reader

# nothing published and no login: one line naming who can publish and how
fails_on reader 1 "of a reader on an empty shared store" cstoken token
assert_contains "$err" "no shared token of profile 'default' is published" "reader's error"
assert_contains "$err" "stack owner or admin" "who can publish"
assert_contains "$err" "cstoken login -p default" "how to publish"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "more than one line: $err"
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | on reader cstoken get 2>"$CST_TMP/rerr") ||
	fail "get of a reader on an empty shared store failed"
assert_eq "" "$out" "git's answer from a reader on an empty shared store"
assert_contains "$(cat "$CST_TMP/rerr")" "no shared token" "git's hint"
assert_eq 0 "$(token_posts)" "token creations by a reader"
pass "a reader on an empty shared store says who can publish"

# a member the API does not let mint (a stack member, not owner or admin) only reads
DEV=dev@example.com
emu_user "$DEV" "$MINT_PW"
emu_ctl POST /_emu/stacks "{\"api_key\":\"$MINT_KEY\",\"owner\":\"$MINT_EMAIL\",\"members\":[\"$DEV\"]}" >/dev/null
MACHINE_EMAIL=$DEV machine dev
login_on dev
fails_on dev 1 "of a member the API does not let mint" cstoken token
assert_contains "$err" "Contentstack refused to create a token" "error of a member who may not mint"
assert_contains "$err" "stack owner or admin" "who can publish"
assert_eq 0 "$(token_posts)" "token creations by a member who may not mint"
assert_eq "" "$(etcd_ctl get --prefix /cstoken/ --keys-only)" "claims left behind"
pass "a member the API does not let mint reads, and says who can publish"

pids=()
for m in a b c; do
	gets_on $m 16 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a machine's gets failed"
done

assert_eq 1 "$(token_posts)" "token creations for 3 x 16 gets"
assert_eq 1 "$(emu_py /_emu/state "len($MINT_STATE_TOKENS)")" "tokens on the stack"
tok=$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")
for m in a b c; do
	for i in $(seq 1 16); do
		assert_eq "$tok" "$(value password <"$CST_TMP/$m.out.$i")" "password of get $i on $m"
	done
done
pass "3 x 16 gets on an empty shared store mint one token"

# the shared value: the token with who minted it, under a key without secrets
val=$(etcd_value)
assert_contains "$val" "\"token\":\"$tok\"" "published token"
assert_contains "$val" '"minted_by":' "who minted it"
keys=$(etcd_ctl get --prefix /cstoken/ --keys-only)
assert_contains "$keys" "/cstoken/$CST_EMU_HOST/$MINT_KEY/" "key layout"
assert_not_contains "$keys" "$tok" "keys"

gets_on reader 4
for i in 1 2 3 4; do
	assert_eq "$tok" "$(value password <"$CST_TMP/reader.out.$i")" "password of the reader"
done
assert_eq "$tok" "$(on dev cstoken token)" "token of a member who may not mint"
assert_eq 1 "$(token_posts)" "token creations after the reader"
pass "a machine without a Contentstack login gets the shared token"

# a cached get asks nobody: the cluster down, the emulator's log unchanged, no module
# loaded (neither the etcd client nor libcurl): what a local hit costs
emu_ctl DELETE /_emu/requests >/dev/null
for i in 1 2 3; do etcd_stop $i; done
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | on a cstoken -v get 2>"$CST_TMP/err") ||
	fail "cached get failed: $(cat "$CST_TMP/err")"
assert_eq "$tok" "$(value password <<<"$out")" "cached answer"
assert_not_contains "$(cat "$CST_TMP/err")" "loaded '" "modules loaded by a cached get"
assert_not_contains "$(cat "$CST_TMP/err")" "warning" "stderr of a cached get"
assert_not_contains "$(cat "$CST_TMP/err")" "$tok" "-v output"
assert_eq 0 "$(emu_py /_emu/requests "len($MINT_REQS)")" "requests of a cached get"
pass "a get within shared_cache is a local hit"
