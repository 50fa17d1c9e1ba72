#!/usr/bin/env bash
# Each module exports exactly one symbol, its table (helper/base/module.h), and resolves nothing
# from the program: the program exports no symbol of its own (only libc's copy-relocated
# data), every module loads with all its symbols bound into a program that defines none of
# cstoken's (module_load), and no module links another module or the program. A module of
# another build is refused, named. Needs CST_MODULE_DIR, CST_MODULE_LOAD and
# CST_MODULE_OTHER_BUILD (tests/package.cmake).
. "$CSTOKEN_SRC/tests/lib/common.sh"
: "${CST_MODULE_DIR:?run through ctest}" "${CST_MODULE_LOAD:?run through ctest}"
: "${CST_MODULE_OTHER_BUILD:?run through ctest}"
cst_setup

bin=$CSTOKEN_BIN_DIR/cstoken
# the program's own dynamic symbols: defined there, not a library's versioned one, nor the
# sanitizer runtime's (an instrumented build)
own=$(nm -D --defined-only "$bin" | awk '$3 !~ /@/ && $3 !~ /^__(asan|lsan|ubsan|sanitizer)_/ {
	print $3}' | sort | tr '\n' ' ')
assert_eq "" "$own" "symbols the program exports for its modules"
pass "the program exports nothing of its own"

declare -A table=(
	[cstoken-dbus]=cst_keyring_dbus_module
	[cstoken-secret]=cst_keyring_secret_module
	[cstoken-http]=cst_http_module
	[cstoken-digest]=cst_digest_module
	[cstoken-etcd]=cst_shared_etcd_module
)
n=0
for mod in "$CST_MODULE_DIR"/cstoken-*.so; do
	name=$(basename "$mod" .so)
	[ -n "${table[$name]:-}" ] || fail "a module this test does not know: $name"
	syms=$(nm -D --defined-only "$mod" | awk '{print $3}' | tr '\n' ' ')
	assert_eq "${table[$name]} " "$syms" "symbols exported by $name"
	out=$("$CST_MODULE_LOAD" "$mod" "${table[$name]}" 2>&1) || fail "$name: $out"
	assert_eq "ok: ${table[$name]}" "$out" "loading $name on its own"
	needed=$(readelf -d "$mod" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	assert_not_contains "$needed" "cstoken" "libraries $name links"
	n=$((n + 1))
done
assert_eq "${#table[@]}" "$n" "modules built"
pass "every module exports only its table and takes nothing from the program or another module"

# a copy of the program beside a cstoken-dbus of another build: refused, with the file named
reldir=$(realpath --relative-to="$CSTOKEN_BIN_DIR" "$CST_MODULE_DIR")
mkdir -p "$CST_TMP/other/bin" "$CST_TMP/other/bin/$reldir"
cp "$bin" "$CST_TMP/other/bin/cstoken"
other="$CST_TMP/other/bin/$reldir/cstoken-dbus.so"
cp "$CST_MODULE_OTHER_BUILD" "$other"
rc=0
CSTOKEN_STORE=secret-service "$CST_TMP/other/bin/cstoken" list >/dev/null 2>"$CST_TMP/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a module of another build was used"
assert_contains "$(cat "$CST_TMP/err")" "is from another build of cstoken" "the refusal"
assert_contains "$(cat "$CST_TMP/err")" "cstoken-dbus.so" "the refusal"
pass "a module of another build is refused: $(head -1 "$CST_TMP/err")"
