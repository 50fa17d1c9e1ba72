#!/usr/bin/env bash
# Each module exports exactly one symbol, its table (helper/module.h), and resolves nothing
# from the program: the program exports no symbol of its own (only libc's copy-relocated
# data), no module's undefined symbol is one the program defines, and no module links
# another module or the program. Needs CST_MODULE_DIR (tests/package.cmake).
. "$CSTOKEN_SRC/tests/lib/common.sh"
: "${CST_MODULE_DIR:?run through ctest}"
cst_setup

bin=$CSTOKEN_BIN_DIR/cstoken
# the program's own dynamic symbols: defined there, not a library's versioned one
own=$(nm -D --defined-only "$bin" | awk '$3 !~ /@/ {print $3}' | sort | tr '\n' ' ')
assert_eq "" "$own" "symbols the program exports for its modules"
pass "the program exports nothing of its own"

declare -A table=(
	[cstoken-dbus]=cst_keyring_dbus_module
	[cstoken-secret]=cst_keyring_secret_module
	[cstoken-http]=cst_http_module
	[cstoken-digest]=cst_digest_module
	[cstoken-etcd]=cst_shared_etcd_module
)
defined=$(nm -D --defined-only "$bin" | awk '{sub(/@.*/, "", $3); print $3}' | sort -u)
n=0
for mod in "$CST_MODULE_DIR"/cstoken-*.so; do
	name=$(basename "$mod" .so)
	[ -n "${table[$name]:-}" ] || fail "a module this test does not know: $name"
	syms=$(nm -D --defined-only "$mod" | awk '{print $3}' | tr '\n' ' ')
	assert_eq "${table[$name]} " "$syms" "symbols exported by $name"
	undef=$(nm -D --undefined-only "$mod" | awk '{sub(/@.*/, "", $2); print $2}' | sort -u)
	from_program=$(comm -12 <(printf '%s\n' "$defined") <(printf '%s\n' "$undef") |
		grep -Ev '^(stdin|stdout|stderr|environ|__environ)$' || true)
	assert_eq "" "$from_program" "symbols $name would take from the program"
	needed=$(readelf -d "$mod" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	assert_not_contains "$needed" "cstoken" "libraries $name links"
	n=$((n + 1))
done
assert_eq "${#table[@]}" "$n" "modules built"
pass "every module exports only its table and takes nothing from the program or another module"
