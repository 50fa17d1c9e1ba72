#!/usr/bin/env bash
# As root only (CI): a real throwaway user, pamtester under pam_wrapper (service files from
# the test, no nss/uid_wrapper): open_session and close_session with `mint revoke` run
# cstoken as that user for real, and every file in the user's home belongs to the user.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root to create a user"
	exit 77
fi
command -v useradd >/dev/null || { echo "skip: no useradd"; exit 77; }
cst_setup
emulator_start
chmod 711 "$CST_TMP" # the user must reach its home below it
chmod 755 "$CST_EMU_DIR"
chmod 644 "$CST_EMU_CA"

user=cstpam$$
home=$CST_TMP/home-$user
useradd -M -d "$home" -s /bin/sh -U "$user"
cst_on_exit "userdel $user 2>/dev/null; getent group $user >/dev/null && groupdel $user"
mkdir -p "$home"
chown "$user:" "$home"
chmod 700 "$home"
uid=$(id -u "$user")
gid=$(id -g "$user")

# the user must be able to run this build's cstoken, and the module to trust it; else
# both get a copy in a directory only root can change
pcs_bin_dir
bin=$CSTOKEN_BIN_DIR/cstoken
prog=
if ! runuser -u "$user" -- test -x "$bin" || ! pcs_trusted "$bin"; then
	pcs_copy_cstoken
	bin=$PCS_CSTOKEN
	prog="test_program=$bin"
fi
as_user() {
	runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/bin:/bin \
		CSTOKEN_STORE=file "$bin" "$@"
}

KEY=blt0pamrealuser0001
EMAIL=$user@example.com
PW=realuser-password
emu_user "$EMAIL" "$PW"
emu_stack "$KEY" "$EMAIL"
XDG_CONFIG_HOME=$home/.config emulator_config "$KEY" "$EMAIL"
chown -R "$user:" "$home/.config"
printf '%s' "$PW" | as_user login --password-stdin

ids=$CST_TMP/ids
install -o "$user" -m 600 /dev/null "$ids"
mkdir -p "$CST_TMP/run" # no bus: the file store
PCS_DIR=$CST_TMP/pam
mkdir -p "$PCS_DIR/services"
pcs_service realuser \
	"session optional $PCS_TEST_MODULE mint revoke debug test_idfile=$ids test_runtime_dir=$CST_TMP/run $prog" \
	"session required $PCS_PERMIT"

emu_ctl DELETE /_emu/requests >/dev/null
env LD_PRELOAD="$PCS_LIBDIR/libpam_wrapper.so" PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR="$PCS_DIR/services" PAM_WRAPPER_DEBUGLEVEL=2 \
	timeout 60 pamtester -v realuser "$user" open_session close_session \
	>"$CST_TMP/pamtester.out" 2>&1 || { cat "$CST_TMP/pamtester.out"; fail "pamtester failed"; }
cat "$CST_TMP/pamtester.out"
assert_contains "$(cat "$CST_TMP/pamtester.out")" "successfully opened a session" "pamtester"

assert_eq "uid=$uid,$uid,$uid gid=$gid,$gid,$gid groups=$gid setuid0=refused" "$(cat "$ids")" \
	"ids of the child before exec"
pass "the child ran as the real user $user"

mints=$(emu_ctl GET '/_emu/requests?path=/v3/stacks/management_tokens&method=POST' |
	emu_json_get 'len(j)')
assert_eq 1 "$mints" "tokens minted by the session"
minted_uid=$(emu_ctl GET /_emu/state | emu_json_get "(j['stacks']['$KEY']['tokens'] + [{'uid': d} for d in j['stacks']['$KEY']['deleted']])[0]['uid']")
assert_contains "$(emu_ctl GET /_emu/state | emu_json_get "j['stacks']['$KEY']['deleted']")" \
	"$minted_uid" "the session's token deleted at close"
pass "close_session revoked the session's token"

foreign=$(find "$home" ! -user "$user" -printf '%u %p\n')
assert_eq "" "$foreign" "files in the home not owned by $user"
[ -n "$(find "$home/.local" -type f 2>/dev/null)" ] || fail "cstoken created no file in the home"
pass "every file in the home of $user belongs to $user: $(cd "$home" && find . -type f | tr '\n' ' ')"
