#!/usr/bin/env bash
# As root only (CI): the per-user bus rule with real components. A throwaway user runs a real
# dbus-daemon on <runtime base>/UID/bus with gnome-keyring unlocked in it; a PAM session
# (pamtester under pam_wrapper, `mint`) must put the minted token into that keyring and
# write no file store. Then a bus socket at the same place owned by someone else (root):
# the module must not use it, and the user's file store gets the token.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root to create a user"
	exit 77
fi
for c in useradd runuser dbus-daemon gnome-keyring-daemon dbus-send; do
	command -v "$c" >/dev/null || { echo "skip: no $c"; exit 77; }
done
cst_setup
emulator_start
chmod 711 "$CST_TMP" # the user must reach its home below it
chmod 755 "$CST_EMU_DIR"
chmod 644 "$CST_EMU_CA"

user=cstbus$$
home=$CST_TMP/home-$user
useradd -M -d "$home" -s /bin/sh -U "$user"
cst_on_exit "userdel $user 2>/dev/null; getent group $user >/dev/null && groupdel $user"
mkdir -p "$home"
chown "$user:" "$home"
chmod 700 "$home"
uid=$(id -u "$user")

# the user must be able to run this build's cstoken, and the module to trust it
pcs_bin_dir
bin=$CSTOKEN_BIN_DIR/cstoken
prog=
if ! runuser -u "$user" -- test -x "$bin" || ! pcs_trusted "$bin"; then
	pcs_copy_cstoken
	bin=$PCS_CSTOKEN
	prog="test_program=$bin"
fi
# In a sanitizer build the module's clean environment would drop the run's leak
# suppressions (GLib's D-Bus caches): a wrapper hands them on, and nothing else.
san=
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
	[ -z "${!v:-}" ] || san="$san $v=$(printf '%q' "${!v}")"
done
if [ -n "$san" ]; then
	printf '#!/bin/sh\nexec env%s %q "$@"\n' "$san" "$bin" >"$PCS_BIN/cstoken-san"
	chmod 755 "$PCS_BIN/cstoken-san"
	bin=$PCS_BIN/cstoken-san
	prog="test_program=$bin"
fi

# the user's runtime directory under a test base, as logind would make /run/user/UID
base=$CST_TMP/runbase
rt=$base/$uid
mkdir -p "$rt"
chmod 755 "$base"
chown "$user:" "$rt"
chmod 700 "$rt"
bus=unix:path=$rt/bus

# as_user CMD...: CMD as the user with the environment the module gives its child
as_user() {
	runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/bin:/bin \
		XDG_RUNTIME_DIR="$rt" DBUS_SESSION_BUS_ADDRESS="$bus" "$@"
}
as_user_file() {
	runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/bin:/bin \
		CSTOKEN_STORE=file "$@"
}

# --- the user's own session bus with an unlocked keyring ---------------------------------------
dpid=$(as_user timeout 30 dbus-daemon --session --address="$bus" --fork --print-pid=1 --nopidfile) ||
	fail "cannot start the user's dbus-daemon"
[[ $dpid =~ ^[0-9]+$ ]] || fail "dbus-daemon pid: '$dpid'"
cst_on_exit "kill $dpid 2>/dev/null"
wait_for test -S "$rt/bus"
printf testpass | as_user XDG_DATA_HOME="$home/.local/share" \
	gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
	fail "cannot start gnome-keyring as $user"
user_on_bus() {
	as_user dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
		string:org.freedesktop.secrets 2>/dev/null | grep -q true
}
wait_for test -f "$home/.local/share/keyrings/login.keyring"
wait_for user_on_bus
kpid=$(as_user dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
	/org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID \
	string:org.freedesktop.secrets | awk '{print $2}')
[[ $kpid =~ ^[0-9]+$ ]] || fail "gnome-keyring pid: '$kpid'"
cst_on_exit "kill $kpid 2>/dev/null"
[ "$(stat -c %U "$rt/bus")" = "$user" ] || fail "the bus socket is not the user's"

KEY=blt0pamrealbus00001
EMAIL=$user@example.com
PW=realbus-password
emu_user "$EMAIL" "$PW"
emu_stack "$KEY" "$EMAIL"
XDG_CONFIG_HOME=$home/.config emulator_config "$KEY" "$EMAIL"
chown -R "$user:" "$home/.config"
printf '%s\n' "$PW" | as_user "$bin" login --password-stdin 2>"$CST_TMP/login.err" ||
	fail "login as $user into the keyring: $(cat "$CST_TMP/login.err")"
assert_eq secret-service "$(as_user "$bin" list --json | emu_json_get 'j["store"]')" \
	"cstoken as the user uses the keyring"

PCS_DIR=$CST_TMP/pam
mkdir -p "$PCS_DIR/services"
# pamtester SERVICE: a login session as the user; its output (with the module's syslog)
# goes to $CST_TMP/pamtester.out
pamtester_run() {
	env LD_PRELOAD="$PCS_LIBDIR/libpam_wrapper.so" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$PCS_DIR/services" PAM_WRAPPER_DEBUGLEVEL=2 \
		timeout 120 pamtester -v "$1" "$user" open_session close_session \
		>"$CST_TMP/pamtester.out" 2>&1 || { cat "$CST_TMP/pamtester.out"; fail "pamtester $1 failed"; }
	assert_contains "$(cat "$CST_TMP/pamtester.out")" "successfully opened a session" "pamtester $1"
	assert_not_contains "$(cat "$CST_TMP/pamtester.out")" "pam_putenv" "pamtester $1: the log"
}
pcs_service realbus \
	"session optional $PCS_TEST_MODULE mint debug timeout=60 test_runtime_dir=$base $prog" \
	"session required $PCS_PERMIT"

emu_ctl DELETE /_emu/requests >/dev/null
pamtester_run realbus
assert_contains "$(cat "$CST_TMP/pamtester.out")" "the user's session bus" "module chose the bus"
mints=$(emu_ctl GET '/_emu/requests?path=/v3/stacks/management_tokens&method=POST' | emu_json_get 'len(j)')
assert_eq 1 "$mints" "tokens minted by the session"
live=$(emu_ctl GET /_emu/state | emu_json_get "' '.join(t['token'] for t in j['stacks']['$KEY']['tokens'])")
kept=$(as_user "$bin" token --no-mint) || fail "no token in $user's keyring"
assert_not_contains "$(cat "$CST_TMP/pamtester.out")" "$live" "the token in the session's log"
assert_eq "$live" "$kept" "the minted token is the one in the user's keyring"
as_user "$bin" list --json >"$CST_TMP/list.json"
assert_eq 1 "$(emu_json_get "len([i for i in j['items'] if i['kind'] == 'token'])" <"$CST_TMP/list.json")" \
	"one token item in the keyring"
[ ! -e "$home/.local/share/cstoken/credentials" ] || fail "a file store was written next to the keyring"
pass "the module minted into the user's own Secret Service"

# --- a bus socket at the same place that belongs to someone else -------------------------------
base2=$CST_TMP/runbase2
rt2=$base2/$uid
mkdir -p "$rt2"
chmod 755 "$base2"
chown "$user:" "$rt2"
chmod 700 "$rt2"
rpid=$(timeout 30 dbus-daemon --session --address="unix:path=$rt2/bus" --fork --print-pid=1 --nopidfile) ||
	fail "cannot start root's dbus-daemon"
[[ $rpid =~ ^[0-9]+$ ]] || fail "root's dbus-daemon pid: '$rpid'"
cst_on_exit "kill $rpid 2>/dev/null"
wait_for test -S "$rt2/bus"
[ "$(stat -c %u "$rt2/bus")" = 0 ] || fail "the planted socket is not root's"
printf '%s\n' "$PW" | as_user_file "$bin" login --password-stdin 2>"$CST_TMP/login.err" ||
	fail "login as $user into the file store: $(cat "$CST_TMP/login.err")"
pcs_service foreignbus \
	"session optional $PCS_TEST_MODULE mint debug timeout=60 test_runtime_dir=$base2 $prog" \
	"session required $PCS_PERMIT"
emu_ctl DELETE /_emu/requests >/dev/null
pamtester_run foreignbus
assert_contains "$(cat "$CST_TMP/pamtester.out")" "with the file store" "module refused the foreign bus"
mints=$(emu_ctl GET '/_emu/requests?path=/v3/stacks/management_tokens&method=POST' | emu_json_get 'len(j)')
assert_eq 1 "$mints" "tokens minted by the second session"
filetok=$(as_user_file "$bin" token --no-mint) || fail "no token in $user's file store"
[ "$filetok" != "$kept" ] || fail "the file store holds the keyring's token"
assert_contains "$(emu_ctl GET /_emu/state | emu_json_get "j['stacks']['$KEY']['tokens']")" "$filetok" \
	"the file store's token is live"
assert_eq "$kept" "$(as_user "$bin" token --no-mint)" "the keyring still holds only its own token"
foreign=$(find "$home" ! -user "$user" -printf '%u %p\n')
assert_eq "" "$foreign" "files in the home not owned by $user"
pass "a bus socket owned by someone else is never used: the user's file store is"
