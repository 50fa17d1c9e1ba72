#!/usr/bin/env bash
# `cmake --install --prefix DIR` as a user who can write DIR and nothing else (as root: the
# user nobody): everything lands under DIR, the git-credential-cstoken link included, and git
# finds the helper there. DESTDIR stages the same tree. A copy of the installed tree under
# another prefix still finds its modules; a copy of the program alone looks for them in the
# configured installed directory. Needs CST_LIBDIR and CST_FULL_LIBDIR (tests/package.cmake).
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
: "${CST_LIBDIR:?run through ctest}" "${CST_FULL_LIBDIR:?run through ctest}"
cst_setup

# as_user CMD...: CMD as the installing user with a clean environment of its own (and the
# sanitizer settings of an instrumented build)
san=()
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
	[ -z "${!v:-}" ] || san+=("$v=${!v}")
done
if [ "$(id -u)" -eq 0 ]; then
	for f in "$CSTOKEN_BUILD/cmake_install.cmake" "$CSTOKEN_BIN_DIR/cstoken" \
		"$CSTOKEN_SRC/man/cstoken.1"; do
		if ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$f"; then
			echo "skip: nobody cannot read $f (the tree lives below a private directory)"
			exit 77
		fi
	done
	as_user() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env -i HOME="$U/home" PATH=/usr/bin:/bin LC_ALL=C.UTF-8 "${san[@]}" "$@"
	}
	owner=nobody:nogroup
else
	as_user() {
		env -i HOME="$U/home" PATH=/usr/bin:/bin LC_ALL=C.UTF-8 "${san[@]}" "$@"
	}
	owner=$(id -u):$(id -g)
fi
chmod 755 "$CST_TMP"
U=$CST_TMP/user
mkdir -p "$U/home"
chown -R "$owner" "$U"
prefix=$U/prefix

# cmake writes its install manifest into the build tree, which the user owns when it is
# their own build; here it is root's, so the user gets that one file
manifest=$CSTOKEN_BUILD/install_manifest.txt
if [ "$(id -u)" -eq 0 ]; then
	saved=
	[ -e "$manifest" ] && saved=$CST_TMP/manifest && cp -p "$manifest" "$saved"
	cst_on_exit "rm -f '$manifest'; [ -z '$saved' ] || cp -p '$saved' '$manifest'"
	install -o nobody -m 644 /dev/null "$manifest"
fi

as_user cmake --install "$CSTOKEN_BUILD" --prefix "$prefix" >"$CST_TMP/install.log" 2>&1 ||
	{ cat "$CST_TMP/install.log"; fail "cmake --install --prefix as a user exited with $?"; }
for f in bin/cstoken "$CST_LIBDIR/cstoken/cstoken-http.so" "$CST_LIBDIR/security/pam_cstoken.so" \
	share/man/man1/cstoken.1 share/man/man5/cstoken.conf.5 share/man/man8/pam_cstoken.8 \
	share/bash-completion/completions/cstoken; do
	[ -f "$prefix/$f" ] || fail "not installed under the prefix: $f"
done
for link in bin/git-credential-cstoken share/man/man1/git-credential-cstoken.1; do
	[ -L "$prefix/$link" ] || fail "$link is not a symbolic link"
	target=$(readlink "$prefix/$link")
	[[ $target != */* ]] || fail "$link points elsewhere: $target"
	[ -f "$prefix/$link" ] || fail "$link dangles: $target"
done
# everything the install wrote is under the prefix
outside=$(grep -v "^$prefix/" "$manifest" || true)
assert_eq "" "$outside" "installed outside the prefix"
assert_contains "$(cat "$manifest")" "$prefix/bin/git-credential-cstoken" "install manifest"
pass "a user's install puts everything, links included, under the prefix"

# git finds the installed helper by its name on PATH (file store)
gitcred() { # ACTION LINES...: git credential ACTION through the installed helper, as the user
	local action=$1
	shift
	printf '%s\n' "$@" | as_user PATH="$prefix/bin:/usr/bin:/bin" CSTOKEN_STORE=file \
		GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
		git -c credential.helper= -c credential.helper=cstoken credential "$action"
}
gitcred approve protocol=https host=git.example.com username=alice password=s3cret-prefix
out=$(gitcred fill protocol=https host=git.example.com)
assert_contains "$out" "password=s3cret-prefix" "git credential fill through the installed helper"
[ -f "$U/home/.local/share/cstoken/credentials" ] || fail "no file store in the user's home"
pass "git credential fill through the installed git-credential-cstoken"

# DESTDIR stages the same tree, the link relative to its own directory
stage=$U/stage
as_user DESTDIR="$stage" cmake --install "$CSTOKEN_BUILD" --prefix /opt/cstoken \
	>"$CST_TMP/install.log" 2>&1 ||
	{ cat "$CST_TMP/install.log"; fail "cmake --install with DESTDIR exited with $?"; }
assert_eq cstoken "$(readlink "$stage/opt/cstoken/bin/git-credential-cstoken")" "staged link"
[ -f "$stage/opt/cstoken/$CST_LIBDIR/security/pam_cstoken.so" ] || fail "no staged PAM module"
assert_contains "$(cat "$manifest")" "/opt/cstoken/bin/git-credential-cstoken" "manifest of the staged install"
assert_not_contains "$(cat "$manifest")" "$stage" "manifest of the staged install"
pass "DESTDIR stages the install under the prefix"

# the installed tree moved to another prefix: the program finds the modules next to it
moved=$CST_TMP/moved
cp -a "$prefix" "$moved"
rm -rf "$prefix"
emulator_start
KEY=blt0installprefix01
EMAIL=alice@example.com
PW=prefix-password
emu_user "$EMAIL" "$PW"
emu_stack "$KEY" "$EMAIL"
emulator_config "$KEY" "$EMAIL"
export CSTOKEN_STORE=file
printf '%s' "$PW" | "$moved/bin/cstoken" -v login --password-stdin 2>"$CST_TMP/err" ||
	{ cat "$CST_TMP/err"; fail "login with the moved installation"; }
assert_contains "$(cat "$CST_TMP/err")" "loaded '$moved/bin/../$CST_LIBDIR/cstoken/cstoken-http.so'" \
	"-v output of the moved installation"
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | "$moved/bin/git-credential-cstoken" get)
tok=$(emu_ctl GET /_emu/state | emu_json_get "[t['token'] for t in j['stacks']['$KEY']['tokens']]")
assert_contains "$tok" "\"$(sed -n 's/^password=//p' <<<"$out")\"" "the minted token"
pass "a moved installation loads its modules from its own tree and mints"

# the program copied on its own: the configured installed module directory, not a path
# next to the copy
mkdir -p "$CST_TMP/lone"
cp "$moved/bin/cstoken" "$CST_TMP/lone/cstoken"
printf '%s' "$PW" | "$CST_TMP/lone/cstoken" -v login --password-stdin >/dev/null 2>"$CST_TMP/err" ||
	true
assert_contains "$(cat "$CST_TMP/err")" "$CST_FULL_LIBDIR/cstoken/cstoken-" \
	"-v output of a lone copy of the program"
assert_not_contains "$(cat "$CST_TMP/err")" "$CST_TMP/lone/" "-v output of a lone copy of the program"
pass "a lone copy of the program looks in $CST_FULL_LIBDIR/cstoken"
