#!/usr/bin/env bash
# A stored token item planted by someone who can write to the store (any client of the
# session bus can create keyring items): an api_key that carries a curl config line, a token
# that carries a terminal escape. token, token --porcelain, exec and curl hand out none of it:
# exit 1, one line on stderr, nothing on stdout; and `curl -K <(cstoken curl)` runs no
# injected option. Once in the file store, once in a real gnome-keyring.
. "$CSTOKEN_SRC/tests/lib/common.sh"

# refuses_all WHAT PWNED: every command that hands out the token refuses the planted item
refuses_all() {
	local what=$1 pwned=$2 cmd rc out err
	for cmd in "token" "token --porcelain" "token --no-mint" "curl" "exec -- env"; do
		rc=0
		# shellcheck disable=SC2086
		out=$(cstoken $cmd 2>"$CST_TMP/err") || rc=$?
		err=$(cat "$CST_TMP/err")
		assert_eq 1 "$rc" "$what: exit status of 'cstoken $cmd'"
		assert_eq "" "$out" "$what: stdout of 'cstoken $cmd'"
		assert_eq 1 "$(wc -l <<<"$err")" "$what: one line from 'cstoken $cmd'"
		assert_contains "$err" "cstoken: the stored token of profile 'default' has a malformed" \
			"$what: 'cstoken $cmd' error"
		assert_not_contains "$err" $'\e' "$what: no escape in the error of 'cstoken $cmd'"
	done
	# the real curl, reading the config the way the README shows
	rc=0
	curl -sS --noproxy '*' --cacert "$CST_EMU_CA" -K <(cstoken curl 2>/dev/null) \
		"$CST_EMU_URL/v3/content_types" >/dev/null 2>&1 || rc=$?
	# (the planted line ends in the closing quote, so curl's file name would too)
	[ -z "$(ls -d "$pwned"* 2>/dev/null)" ] || fail "$what: curl -K <(cstoken curl) wrote $(ls -d "$pwned"*)"
	pass "$what: refused by token, --porcelain, exec and curl; curl -K wrote nothing"
}

if [ "${1:-}" = inner ]; then
	# in the keyring: mint, then replace the item by a planted one with the same attributes
	. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
	export CSTOKEN_STORE=secret-service
	mint_login
	cstoken token >/dev/null || fail "mint into the keyring"
	attrs=$(secret-tool search --all kind token profile default 2>&1) || fail "secret-tool search"
	attr() { sed -n "s/^attribute\.$1 = //p" <<<"$attrs"; }
	fp=$(attr scope_fp) host=$(attr host) uid=$(attr uid) expiry=$(attr expiry)
	[ -n "$fp" ] || fail "no scope_fp attribute in: $attrs"
	plant() { # API_KEY SECRET
		secret-tool clear kind token profile default
		printf '%s' "$2" | secret-tool store --label="planted" xdg:schema io.cstoken.Item \
			kind token profile default host "$host" api_key "$1" uid "$uid" \
			scope_fp "$fp" expiry "$expiry" name planted
		# what cstoken reads back is the planted item
		assert_contains "$(secret-tool search --all kind token profile default 2>&1)" \
			"attribute.api_key = $1" "the planted item"
	}
	pwned=$CST_TMP/pwned-keyring
	plant "$MINT_KEY"$'\n'"output = $pwned" "$(emu_py /_emu/state "$MINT_STATE_TOKENS[0]['token']")"
	refuses_all "keyring, api_key with a curl option" "$pwned"
	plant "$MINT_KEY" $'cs0123\e[2Jabcdef'
	refuses_all "keyring, token with an escape" "$pwned"
	exit 0
fi

cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
mint_setup 'branches = development'
mint_login
tok=$(cstoken token) || fail "mint"

# plant_file API_KEY SECRET: the file store's token item, rewritten
plant_file() {
	store_file set "$MINT_STORE_FILE" token "api_key=$1" "secret=$2"
}
pwned=$CST_TMP/pwned-file
plant_file "$MINT_KEY"$'\n'"output = $pwned" "$tok"
refuses_all "file store, api_key with a curl option" "$pwned"
plant_file "$MINT_KEY" $'cs0123\e[2Jabcdef'
refuses_all "file store, token with an escape" "$pwned"
plant_file "$MINT_KEY"'" -o "'"$pwned" "$tok"
refuses_all "file store, api_key with a quote" "$pwned"
plant_file "$MINT_KEY" "$tok"
assert_eq "$tok" "$(cstoken token)" "the item restored is handed out again"
pass "file store: a restored item works"

# a token replaced for its scope, whose stored host carries an escape: the warning shows it, never raw
store_file set "$MINT_STORE_FILE" token \
	"host=evil"$'\e]0;owned\a'".example" scope_fp=v1:changed
err=$(cstoken token 2>&1 >/dev/null) || fail "a re-mint past a planted host: $err"
assert_contains "$err" "lives on 'evil?]0;owned?.example'" "the planted host, shown"
assert_not_contains "$err" $'\e' "no escape byte on the terminal"
pass "file store: a replaced token's planted host is shown, not sent raw"

unset CSTOKEN_STORE
export CST_TMP
in_keyring bash "$CSTOKEN_SRC/tests/integration/hostile_store.sh" inner
