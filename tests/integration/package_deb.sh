#!/usr/bin/env bash
# As root only (CI): builds the cstoken and libpam-cstoken packages with scripts/package.sh,
# checks them with lintian (errors and warnings fail), installs them with apt-get on this
# machine and uses the installed files only: git through credential.helper=cstoken against
# the emulator, pam_cstoken.so from the security directory under pam_wrapper, the manual
# pages, bash completion, and a copy of the program finding the installed modules. Then
# purges them: no file of theirs is left and /etc/pam.d/common-session is as it was.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root to install packages"
	exit 77
fi
for p in cstoken libpam-cstoken; do
	if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$'; then
		echo "skip: $p is installed on this machine; the test would remove it"
		exit 77
	fi
done
for tool in dpkg-buildpackage lintian apt-get pam-auth-update useradd man; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh installs it)"
done
cst_setup
chmod 711 "$CST_TMP"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
session=/etc/pam.d/common-session
cp -p "$session" "$CST_TMP/common-session.before"
version=$(dpkg-parsechangelog -l "$CSTOKEN_SRC/debian/changelog" -S Version)

# --- build: nocheck, since the whole suite runs around this test anyway ------------------
debs=$CST_TMP/debs
DEB_BUILD_OPTIONS="nocheck parallel=2" "$CSTOKEN_SRC/scripts/package.sh" "$debs" \
	>"$CST_TMP/build.log" 2>&1 || { tail -n 50 "$CST_TMP/build.log"; fail "scripts/package.sh failed"; }
deb_cli=$debs/cstoken_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
deb_pam=$debs/libpam-cstoken_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
[ -f "$deb_cli" ] && [ -f "$deb_pam" ] || fail "no packages of version $version in: $(ls "$debs")"
if grep -E '^[^ ]*: warning:' "$CST_TMP/build.log"; then
	fail "the package build has compiler warnings"
fi
pass "scripts/package.sh built cstoken and libpam-cstoken $version"

lintian --fail-on error,warning "$debs"/cstoken_*.changes >"$CST_TMP/lintian.log" 2>&1 ||
	{ cat "$CST_TMP/lintian.log"; fail "lintian found errors or warnings"; }
cat "$CST_TMP/lintian.log"
pass "lintian: no errors or warnings"

# --- install; purged at the end whatever happens ----------------------------------------
purge() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cstoken libpam-cstoken \
		>"$CST_TMP/purge.log" 2>&1
}
cst_on_exit purge
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb_cli" "$deb_pam" \
	>"$CST_TMP/install.log" 2>&1 || { cat "$CST_TMP/install.log"; fail "apt-get install failed"; }
dpkg -L cstoken libpam-cstoken | sort -u >"$CST_TMP/files"
for f in /usr/bin/cstoken /usr/bin/git-credential-cstoken "/usr/lib/$ma/cstoken/cstoken-http.so" \
	"/usr/lib/$ma/security/pam_cstoken.so" /usr/share/pam-configs/cstoken \
	/usr/share/bash-completion/completions/cstoken; do
	grep -qx "$f" "$CST_TMP/files" || fail "$f is not in the packages"
	[ -e "$f" ] || fail "$f is not installed"
done
cmp "$CST_TMP/common-session.before" "$session" || fail "installing changed $session"
pass "apt-get installed both packages; $session untouched (the profile is off)"

# from here on only what the packages installed: no build directory on PATH
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
assert_contains "$(cstoken --version)" "$version" "cstoken --version"

# --- git through credential.helper=cstoken, minting against the emulator ------------------
emulator_start
KEY=blt0packagetest0001
EMAIL=alice@example.com
PW=package-password
emu_user "$EMAIL" "$PW"
emu_stack "$KEY" "$EMAIL"
emulator_config "$KEY" "$EMAIL"
export CSTOKEN_STORE=file
printf '%s' "$PW" | cstoken login --password-stdin
out=$(printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" |
	git -c credential.helper= -c credential.helper=cstoken credential fill)
tok=$(sed -n 's/^password=//p' <<<"$out")
tokens=$(emu_ctl GET /_emu/state | emu_json_get "[t['token'] for t in j['stacks']['$KEY']['tokens']]")
[ -n "$tok" ] && assert_eq "[\"$tok\"]" "$tokens" "git's password is the token the emulator minted"
pass "git credential fill through the installed helper got a minted token"

# --- a copy of the program on its own finds the installed modules -------------------------
mkdir -p "$CST_TMP/lone"
cp /usr/bin/cstoken "$CST_TMP/lone/cstoken"
got=$("$CST_TMP/lone/cstoken" -v token 2>"$CST_TMP/err") || { cat "$CST_TMP/err"; fail "lone copy"; }
assert_eq "$tok" "$got" "the stored token through a lone copy of the program"
# logging in needs the HTTP client's module
printf '%s' "$PW" | "$CST_TMP/lone/cstoken" -v login --password-stdin 2>"$CST_TMP/err" ||
	{ cat "$CST_TMP/err"; fail "login through a lone copy"; }
assert_contains "$(cat "$CST_TMP/err")" "loaded '/usr/lib/$ma/cstoken/cstoken-http.so'" \
	"-v output of a lone copy"
pass "a copy of the program loads the modules from /usr/lib/$ma/cstoken"

# --- manual pages and completion ---------------------------------------------------------
pages=$(man -w cstoken pam_cstoken cstoken.conf git-credential-cstoken) || fail "man -w failed"
assert_eq "/usr/share/man/man1/cstoken.1.gz /usr/share/man/man8/pam_cstoken.8.gz /usr/share/man/man5/cstoken.conf.5.gz /usr/share/man/man1/cstoken.1.gz" \
	"$(echo $pages)" "man -w (git-credential-cstoken is a link to cstoken.1)"
got=$(bash -c '. /usr/share/bash-completion/completions/cstoken
	complete -p cstoken git-credential-cstoken
	COMP_WORDS=(cstoken sta) COMP_CWORD=1 COMP_LINE="cstoken sta" COMP_POINT=11
	_cstoken cstoken sta cstoken
	printf "reply=%s\n" "${COMPREPLY[@]}"')
assert_contains "$got" "complete -F _cstoken cstoken" "completion"
assert_contains "$got" "reply=status" "completion of 'cstoken sta'"
pass "man finds the four pages; completion loads and completes"

# --- pam_cstoken.so from the security directory, with the profile's own line --------------
user=cstpkg$$
home=$CST_TMP/home-$user
useradd -M -d "$home" -s /bin/sh -U "$user"
cst_on_exit "userdel $user 2>/dev/null; getent group $user >/dev/null && groupdel $user"
mkdir -p "$home"
chmod 755 "$CST_EMU_DIR"
chmod 644 "$CST_EMU_CA"
XDG_CONFIG_HOME=$home/.config emulator_config "$KEY" "$EMAIL"
chown -R "$user:" "$home"
chmod 700 "$home"
as_user() {
	runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/bin:/bin \
		CSTOKEN_STORE=file /usr/bin/cstoken "$@"
}
printf '%s' "$PW" | as_user login --password-stdin
utok=$(as_user token)
[ -n "$utok" ] && [ "$utok" != "$tok" ] || fail "the user's token: '$utok'"

# the Session: lines of the pam-auth-update profile, as pam-auth-update would write them
line=$(sed -n '/^Session:/,/^[^[:space:]]/s/^[[:space:]]\+//p' /usr/share/pam-configs/cstoken)
assert_contains "$line" "pam_cstoken.so" "the profile's session line"
PCS_DIR=$CST_TMP/pam
mkdir -p "$PCS_DIR/services"
pcs_service pkg "session $line" "session required pam_permit.so"
env LD_PRELOAD="$PCS_LIBDIR/libpam_wrapper.so" PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR="$PCS_DIR/services" PAM_WRAPPER_DEBUGLEVEL=2 \
	timeout 60 "$PCS_DRIVER" pkg "$user" >"$CST_TMP/pam.out" 2>"$CST_TMP/pam.log" ||
	{ cat "$CST_TMP/pam.out" "$CST_TMP/pam.log"; fail "pam_driver failed"; }
PCS_OUT=$CST_TMP/pam.out
assert_eq PAM_SUCCESS "$(pcs_field open)" "open_session"
assert_eq "$utok" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "the session's token"
assert_eq "$KEY" "$(pcs_env CONTENTSTACK_API_KEY)" "the session's api key"
pass "the installed pam_cstoken.so ran /usr/bin/cstoken as $user and set the session's token"

# --- purge: nothing of the packages is left, common-session as before ----------------------
purge || { cat "$CST_TMP/purge.log"; fail "apt-get purge failed"; }
for p in cstoken libpam-cstoken; do
	if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$'; then
		fail "$p is still installed"
	fi
done
left=
while IFS= read -r f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	# directories that hold other packages' files (/usr/share/man/man1), or that another
	# package owns itself (fish's empty vendor_completions.d), stay
	if [ -d "$f" ] && [ ! -L "$f" ]; then
		[ -n "$(ls -A "$f")" ] && continue
		dpkg-query -S "$f" >/dev/null 2>&1 && continue
	fi
	left+=" $f"
done <"$CST_TMP/files"
assert_eq "" "$left" "files left after purge"
[ ! -e "/usr/lib/$ma/cstoken" ] || fail "/usr/lib/$ma/cstoken is left after purge"
cmp "$CST_TMP/common-session.before" "$session" || fail "$session differs after purge"
pass "apt-get purge left no file of the packages; $session is byte-identical"
