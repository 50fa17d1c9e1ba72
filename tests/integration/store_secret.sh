#!/usr/bin/env bash
# The secret-service store on a real gnome-keyring, and how `auto` chooses a store:
# no bus at all, a bus without a Secret Service, a stalling provider, a real keyring.
# CST_SS_PART=auto or keyring runs one half (CTest runs them as two tests); unset, both.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

probe=$CSTOKEN_BIN_DIR/store_probe
unit=$CSTOKEN_BIN_DIR/test_store_secret
[ -x "$probe" ] && [ -x "$unit" ] || fail "build store_probe and test_store_secret first"

# A session bus config of our own: the system's service directories would make
# gnome-keyring activatable, which is exactly what some cases must not have.
bus_config() { # FILE [SERVICEDIR]
	{
		cat <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
EOF
		[ -n "${2:-}" ] && echo "  <servicedir>$2</servicedir>"
		echo '</busconfig>'
	} >"$1"
}

part=${CST_SS_PART:-all}

auto_choice() {
	# 1. No bus at all: the file store, without trying X11 autolaunch.
	out=$(env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY "$probe" available)
	assert_eq no "$out" "available without a bus"
	out=$(env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY "$probe" open auto) ||
		fail "auto without a bus: $out"
	assert_eq file "$out" "auto without a bus"
	out=$(env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY "$probe" open secret-service 5000) &&
		fail "secret-service without a bus opened: $out"
	assert_contains "$out" "error -8:" "secret-service without a bus"
	assert_contains "$out" "store = file" "the message says what to do"
	pass "no bus: file"

	# 2. A private bus on which nothing provides org.freedesktop.secrets.
	bus_config "$CST_TMP/empty.conf"
	out=$(dbus-run-session --config-file="$CST_TMP/empty.conf" -- "$probe" available)
	assert_eq no "$out" "available on a bus without a provider"
	out=$(dbus-run-session --config-file="$CST_TMP/empty.conf" -- "$probe" open auto) ||
		fail "auto on a bus without a provider: $out"
	assert_eq file "$out" "auto on a bus without a provider"
	out=$(dbus-run-session --config-file="$CST_TMP/empty.conf" -- "$probe" open secret-service 5000) &&
		fail "secret-service without a provider opened: $out"
	assert_contains "$out" "error -8:" "secret-service without a provider"
	pass "bus without a Secret Service: file"

	# 3. A provider that D-Bus can start but that never answers: asking must not start it,
	#    and opening it must end with a timeout instead of a hang. (The provider lets go of
	#    our stdout, or the command substitution would wait for it.)
	mkdir -p "$CST_TMP/services"
	cat >"$CST_TMP/stall.sh" <<EOF
#!/bin/sh
echo \$\$ >"$CST_TMP/stall.pid"
exec sleep 600 </dev/null >/dev/null 2>&1
EOF
	chmod +x "$CST_TMP/stall.sh"
	printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s\n' "$CST_TMP/stall.sh" \
		>"$CST_TMP/services/org.freedesktop.secrets.service"
	bus_config "$CST_TMP/stall.conf" "$CST_TMP/services"
	cst_on_exit 'if [ -f "$CST_TMP/stall.pid" ]; then kill "$(cat "$CST_TMP/stall.pid")"; fi'
	out=$(dbus-run-session --config-file="$CST_TMP/stall.conf" -- "$probe" available)
	assert_eq yes "$out" "an activatable provider is available"
	[ ! -e "$CST_TMP/stall.pid" ] || fail "the availability probe started the provider"
	out=$(dbus-run-session --config-file="$CST_TMP/stall.conf" -- "$probe" open secret-service 1000) &&
		fail "a stalling provider opened: $out"
	assert_contains "$out" "error -10:" "a stalling provider times out"
	assert_contains "$out" "did not answer" "the timeout message"
	# the open really asked D-Bus to start it (else this case would prove nothing)
	wait_for test -e "$CST_TMP/stall.pid"
	pass "stalling provider: not started by the probe, timeout on open"

	# 4. A "bus" that accepts the connection and never says a word: the probe answers no
	#    and opening the store fails with a timeout, neither hangs in the handshake.
	"$PYTHON" "$CSTOKEN_SRC/tests/lib/unix_socket.py" mute "$CST_TMP/mute.sock" &
	cst_on_exit "kill $!"
	wait_for test -S "$CST_TMP/mute.sock"
	out=$(DBUS_SESSION_BUS_ADDRESS=unix:path=$CST_TMP/mute.sock "$probe" available)
	assert_eq no "$out" "available on a bus that never answers"
	out=$(DBUS_SESSION_BUS_ADDRESS=unix:path=$CST_TMP/mute.sock "$probe" open auto) ||
		fail "auto on a bus that never answers: $out"
	assert_eq file "$out" "auto on a bus that never answers"
	out=$(DBUS_SESSION_BUS_ADDRESS=unix:path=$CST_TMP/mute.sock \
		"$probe" open secret-service 1000) && fail "a mute bus opened: $out"
	assert_contains "$out" "error -10:" "a mute bus times out"
	pass "a bus that never answers: no, file, and a timeout"

	# 5. A real gnome-keyring: auto picks it.
	out=$(in_keyring "$probe" available)
	assert_eq yes "$out" "available with gnome-keyring"
	out=$(in_keyring "$probe" open auto) || fail "auto with gnome-keyring: $out"
	assert_eq secret-service "$out" "auto with gnome-keyring"
	pass "gnome-keyring: secret-service"
}

# What the keyring adds to the store contract (store.contract_keyring), run by the cmocka
# binary inside a private keyring.
keyring_contract() {
	export CSTOKEN_TEST_KEYRING=1
	in_keyring "$unit" || fail "store contract on gnome-keyring"
	in_keyring "$unit" locked || fail "locked keyring"
	pass "secret-service store on gnome-keyring"
}

case $part in
auto) auto_choice ;;
keyring) keyring_contract ;;
all) auto_choice && keyring_contract ;;
*) fail "unknown CST_SS_PART '$part'" ;;
esac
