#!/usr/bin/env bash
# A token stored with the older scope fingerprint (the SHA-256 of the v1 scope text) is
# recognised: used without re-minting when the scope is the same, re-minted when it is not.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'branches = main'
mint_login

out=$(cred_get) || fail "first get failed"
assert_eq 1 "$(token_posts)" "first get mints one token"
tok=$(value password <<<"$out")

# stored_fp: the scope_fp of the stored token
stored_fp() {
	store_file get "$MINT_STORE_FILE" token scope_fp
}
assert_eq "v2:host=$CST_EMU_HOST;api_key=$MINT_KEY;branches=main;aliases=;acl=read" \
	"$(stored_fp)" "the fingerprint a mint stores"
pass "a mint stores the scope text"

# set_v1_fp ACL: the stored token's fingerprint replaced, in place, by the v1 form of this
# profile's scope with ACL, as cstoken stored it before
set_v1_fp() {
	local fp
	fp=$(printf 'cstoken-scope-v1\nhost=%s\napi_key=%s\nbranches=main\naliases=\nacl=%s\n' \
		"${CST_EMU_HOST,,}" "$MINT_KEY" "$1" | sha256sum | cut -d' ' -f1)
	store_file set "$MINT_STORE_FILE" token "scope_fp=$fp"
}

set_v1_fp read
[[ $(stored_fp) =~ ^[0-9a-f]{64}$ ]] || fail "the v1 fingerprint was not written: $(stored_fp)"
emu_ctl DELETE /_emu/requests >/dev/null
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | cstoken -v get 2>"$CST_TMP/err") ||
	fail "get with a v1 fingerprint failed: $(cat "$CST_TMP/err")"
assert_eq "$tok" "$(value password <<<"$out")" "the token answered for a v1 fingerprint"
assert_eq 0 "$(token_posts)" "a get with a v1 fingerprint of the same scope mints"
assert_eq 0 "$(emu_py /_emu/requests "len($MINT_REQS)")" "requests of a get with a v1 fingerprint"
assert_contains "$(cat "$CST_TMP/err")" "cstoken-digest.so" "-v output of a get with a v1 fingerprint"
assert_contains "$(cstoken status 2>&1)" "yes, with the profile's current scope" \
	"status of a token with a v1 fingerprint"
pass "a v1 fingerprint of the same scope: the stored token, no mint"

# the v1 fingerprint of another scope is not taken for this one
set_v1_fp read,write
out=$(cred_get) || fail "get with the v1 fingerprint of another scope failed"
assert_eq 1 "$(token_posts)" "a get with the v1 fingerprint of another scope re-mints"
[ "$(value password <<<"$out")" != "$tok" ] || fail "the token of another scope was answered"
assert_eq "v2:host=$CST_EMU_HOST;api_key=$MINT_KEY;branches=main;aliases=;acl=read" \
	"$(stored_fp)" "the fingerprint the re-mint stores"
pass "a v1 fingerprint of another scope: re-minted, the new form stored"
