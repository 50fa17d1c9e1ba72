#!/usr/bin/env bash
# git's own conformance suite for external credential helpers (t/t0303-credential-external.sh)
# against cstoken, run from an unpacked git source tree ($CSTOKEN_GIT_SOURCE; git's tests are
# GPL and are never copied into this project). CST_T0303_STORE picks the store:
#   file            a throwaway file store in the test's temp dir
#   secret-service  a throwaway gnome-keyring in a private D-Bus session
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

store=${CST_T0303_STORE:?set CST_T0303_STORE to file or secret-service}
src=${CSTOKEN_GIT_SOURCE:-}
[ -n "$src" ] && [ -f "$src/t/t0303-credential-external.sh" ] ||
	fail "CSTOKEN_GIT_SOURCE ('$src') holds no git t/ tree; configure with" \
		"-DCSTOKEN_GIT_SOURCE=DIR (scripts/test.sh fetches one)"
command -v git-credential-cstoken >/dev/null || fail "git-credential-cstoken is not built"

export CSTOKEN_STORE=$store
# no config: cstoken is a plain credential store here
export CSTOKEN_CONFIG=$CST_TMP/no-config
if [ "$store" = file ]; then
	export CSTOKEN_STORE_FILE=$CST_TMP/store/credentials
fi

# test-lib.sh preloads glibc's malloc checker, which an ASan build refuses to run under
# (grep -q would close the pipe early: under pipefail ldd's SIGPIPE would hide the match)
if [[ $(ldd "$(command -v git-credential-cstoken)") == *libasan* ]]; then
	export TEST_NO_MALLOC_CHECK=1
fi

# test-lib.sh writes its trash directory and results under these, never into the source
export TEST_OUTPUT_DIRECTORY_OVERRIDE=$CST_TMP/t0303-out
mkdir -p "$TEST_OUTPUT_DIRECTORY_OVERRIDE"
log=$CST_TMP/t0303.log

run_t0303() {
	cd "$CSTOKEN_GIT_SOURCE/t" &&
		GIT_TEST_INSTALLED=/usr/bin GIT_TEST_CREDENTIAL_HELPER=cstoken \
			sh t0303-credential-external.sh -v --root="$CST_TMP/trash"
}
export -f run_t0303
export CST_TMP

rc=0
if [ "$store" = file ]; then
	run_t0303 >"$log" 2>&1 || rc=$?
else
	in_keyring run_t0303 >"$log" 2>&1 || rc=$?
fi
cat "$log"
[ "$rc" -eq 0 ] || fail "t0303 on the $store store exited with $rc"
grep -q '^# passed all 12 test(s)' "$log" || fail "t0303 on the $store store did not pass 12/12"
if [ "$store" = file ] && [ -f "$CSTOKEN_STORE_FILE" ]; then
	# the suite cleans up after itself through erase
	if grep -q 'store-pass\|pass1\|pass2' "$CSTOKEN_STORE_FILE"; then
		fail "t0303 cleanup left credentials in the file store"
	fi
fi
pass "t0303 passed 12/12 on the $store store"
