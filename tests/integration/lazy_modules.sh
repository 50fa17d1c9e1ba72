#!/usr/bin/env bash
# The program loads only what the request in hand needs (helper/base/module.h): no libcurl, TLS,
# libcrypto or libsecret at startup; a file-store hit loads no module at all; a keyring hit
# loads only the Secret Service store's libdbus-1 module (neither GLib and libsecret nor the
# HTTP client); a stored profile token costs no module (its scope fingerprint is the scope
# text, compared as it is), one stored with the older SHA-256 fingerprint the digest module. (bench/bench.sh measures what this buys.)
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

bin=$CSTOKEN_BIN_DIR/cstoken
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for lib in libcurl libssl libcrypto libsecret libglib libgio libgcrypt; do
	assert_not_contains "$needed" "$lib" "libraries loaded at startup"
done
pass "startup loads only: $needed"

# modules_loaded CMD...: the modules CMD's `-v` run reported loading, space-separated
modules_loaded() {
	"$@" 2>"$CST_TMP/err" >"$CST_TMP/out" || fail "'$*' failed: $(cat "$CST_TMP/err")"
	sed -n "s|^cstoken: debug: loaded '.*/\(cstoken-[a-z]*\)\.so'$|\1|p" "$CST_TMP/err" |
		tr '\n' ' '
}

export CSTOKEN_STORE=file
printf 'protocol=https\nhost=git.example.com\nusername=alice\npassword=s3cret-lazy\n\n' |
	cstoken store
got=$(printf 'protocol=https\nhost=git.example.com\n\n' | modules_loaded cstoken -v get)
assert_eq "" "$got" "modules loaded by a file-store hit"
assert_contains "$(cat "$CST_TMP/out")" "password=s3cret-lazy" "file-store hit"
assert_not_contains "$(cat "$CST_TMP/err")" "s3cret-lazy" "-v output"
got=$(printf 'protocol=https\nhost=elsewhere.example\n\n' | modules_loaded cstoken -v get)
assert_eq "" "$got" "modules loaded by a file-store miss"
pass "file store: no module loaded"

# a profile: its scope fingerprint needs no module
mkdir -p "$XDG_CONFIG_HOME/cstoken"
cat >"$XDG_CONFIG_HOME/cstoken/config" <<INI
[profile default]
host = 127.0.0.1:9
api_key = blt0123456789abcdef
INI
# no token stored and no login: the not-logged-in hint, without loading the HTTP client
got=$(printf 'protocol=https\nhost=127.0.0.1:9\n\n' | modules_loaded cstoken -v get)
assert_eq "" "$got" "modules loaded by a profile get that cannot mint"
pass "profile get: no module"

# store_profile_token FP: the file store holds only the profile's token, fingerprint FP
store_profile_token() {
	rm -f "$XDG_DATA_HOME/cstoken/credentials"
	printf 'protocol=https\nhost=x.example\nusername=u\npassword=p\n\n' | cstoken store
	store_file only "$XDG_DATA_HOME/cstoken/credentials" kind=token profile=default \
		host=127.0.0.1:9 api_key=blt0123456789abcdef uid=bltuid "name=cstoken lazy" \
		"scope_fp=$1" expiry:=4102444800 secret=cs-lazy-profile created:=1
}
# profile_get_loads: the modules a profile get of the stored token loads; fails unless
# it answers that token
profile_get_loads() {
	got=$(printf 'protocol=https\nhost=127.0.0.1:9\n\n' | modules_loaded cstoken -v get)
	assert_contains "$(cat "$CST_TMP/out")" "password=cs-lazy-profile" "profile get of a stored token"
	printf 'protocol=https\nhost=127.0.0.1:9\n\n' |
		LD_DEBUG=files cstoken get >/dev/null 2>"$CST_TMP/ld" || fail "profile get failed"
}
store_profile_token "v2:host=127.0.0.1:9;api_key=blt0123456789abcdef;branches=main;aliases=;acl=read"
profile_get_loads
assert_eq "" "$got" "modules loaded by a profile get of a stored token"
assert_not_contains "$(cat "$CST_TMP/ld")" "libcrypto" "libraries loaded by a profile get"
pass "stored profile token: no module, no libcrypto"
# the older fingerprint, the SHA-256 of the v1 scope text: recognised through the digest
v1=$(printf 'cstoken-scope-v1\nhost=127.0.0.1:9\napi_key=blt0123456789abcdef\nbranches=main\naliases=\nacl=read\n' |
	sha256sum | cut -d' ' -f1)
store_profile_token "$v1"
profile_get_loads
assert_eq "cstoken-digest " "$got" "modules loaded by a profile get of a v1-fingerprinted token"
assert_contains "$(cat "$CST_TMP/ld")" "libcrypto" "libraries loaded for a v1 fingerprint"
pass "stored profile token with a v1 fingerprint: the digest module, the token used"
unset CSTOKEN_STORE
rm -f "$XDG_CONFIG_HOME/cstoken/config"

keyring_part() {
	printf 'protocol=https\nhost=git.example.com\nusername=alice\npassword=s3cret-kr\n\n' |
		cstoken store
	got=$(printf 'protocol=https\nhost=git.example.com\n\n' | modules_loaded cstoken -v get)
	assert_eq "cstoken-dbus " "$got" "modules loaded by a keyring hit"
	assert_contains "$(cat "$CST_TMP/out")" "password=s3cret-kr" "keyring hit"
	printf 'protocol=https\nhost=git.example.com\n\n' |
		LD_DEBUG=files cstoken get >/dev/null 2>"$CST_TMP/ld" || fail "keyring hit failed"
	for lib in libglib libgio libgobject libsecret libcrypto; do
		assert_not_contains "$(cat "$CST_TMP/ld")" "$lib" "libraries loaded by a keyring hit"
	done
	got=$(printf 'protocol=https\nhost=elsewhere.example\n\n' | modules_loaded cstoken -v get)
	# a miss is answered over libdbus-1 alone: GLib, libsecret and its crypto never load
	assert_eq "cstoken-dbus " "$got" "modules loaded by a keyring miss"
	printf 'protocol=https\nhost=elsewhere.example\n\n' |
		LD_DEBUG=files cstoken get >/dev/null 2>"$CST_TMP/ld" || fail "keyring miss failed"
	assert_contains "$(cat "$CST_TMP/ld")" "libdbus-1" "the dynamic linker's log of a keyring miss"
	for lib in libglib libgio libgobject libsecret; do
		assert_not_contains "$(cat "$CST_TMP/ld")" "$lib" "libraries loaded by a keyring miss"
	done
	# the miss asked for attributes only: it never opened the encrypted session
	printf 'protocol=https\nhost=elsewhere.example\n\n' | cstoken -v get >"$CST_TMP/out" \
		2>"$CST_TMP/err" || fail "keyring miss failed"
	assert_eq "" "$(cat "$CST_TMP/out")" "answer to a keyring miss"
	assert_not_contains "$(cat "$CST_TMP/err")" "encrypted session" "-v output of a keyring miss"
	printf 'protocol=https\nhost=git.example.com\n\n' | cstoken -v get >/dev/null \
		2>"$CST_TMP/err" || fail "keyring hit failed"
	assert_contains "$(cat "$CST_TMP/err")" "encrypted session" "-v output of a keyring hit"
	pass "keyring: a hit and a miss over libdbus-1, without GLib or libsecret"
}
export -f keyring_part modules_loaded
export CST_TMP
in_keyring keyring_part
