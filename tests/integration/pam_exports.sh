#!/usr/bin/env bash
# The shipped module exports only the PAM entry points (linker version script): nm lists
# no other defined dynamic symbol, and dlopen/dlsym finds pam_sm_* and none of the insides.
# The module links only libpam and libc: no libsecret, GLib or libcurl in login processes.
. "$CSTOKEN_SRC/tests/lib/common.sh"
: "${PCS_MODULE:?run through ctest}"
cst_setup

for mod in "$PCS_MODULE" "$PCS_TEST_MODULE"; do
	syms=$(nm -D --defined-only "$mod" | awk '{print $3}' | sort | tr '\n' ' ')
	assert_eq "pam_sm_close_session pam_sm_open_session " "$syms" "exported symbols of $mod"
done
pass "nm: only pam_sm_open_session and pam_sm_close_session are defined"

out=$(timeout 30 "$PCS_EXPORTS" "$PCS_MODULE")
assert_contains "$out" "ok:" "dlopen check"
pass "dlopen: pam_sm_* resolve, internal functions do not"

needed=$(readelf -d "$PCS_MODULE" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for lib in libsecret glib libcurl libcjson libcrypto; do
	assert_not_contains "$needed" "$lib" "libraries of the module"
done
assert_contains "$needed" "libpam.so" "libraries of the module"
pass "the module links only: $needed"

# the shipped module has no test hooks and runs the installed cstoken
strings "$PCS_MODULE" >"$CST_TMP/strings"
assert_not_contains "$(cat "$CST_TMP/strings")" "test_program" "strings of the shipped module"
assert_not_contains "$(cat "$CST_TMP/strings")" "$CSTOKEN_BIN_DIR" "strings of the shipped module"
grep -q '/bin/cstoken$' "$CST_TMP/strings" || fail "no installed cstoken path in the module"
pass "the shipped module has no test hooks"
