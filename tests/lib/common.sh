# Sourced by every end-to-end test: a private sandbox, assertions, a throwaway keyring.
# Needs CSTOKEN_BIN_DIR and CSTOKEN_SRC (set by CTest, see tests/CMakeLists.txt).
set -euo pipefail

: "${CSTOKEN_BIN_DIR:?run through ctest}"
: "${CSTOKEN_SRC:?run through ctest}"
PYTHON=/usr/bin/python3

# A fresh HOME and XDG tree; nothing of the caller's environment leaks in.
cst_setup() {
	CST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cstoken-test.XXXXXX")
	export HOME=$CST_TMP/home
	export XDG_CONFIG_HOME=$HOME/.config XDG_DATA_HOME=$HOME/.local/share
	export XDG_CACHE_HOME=$HOME/.cache XDG_RUNTIME_DIR=$CST_TMP/run
	mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
	export PATH=$CSTOKEN_BIN_DIR:$PATH
	unset CSTOKEN_CONFIG CSTOKEN_PROFILE CSTOKEN_STORE CSTOKEN_STORE_FILE
	unset CONTENTSTACK_MFA_SECRET CONTENTSTACK_MANAGEMENT_TOKEN CONTENTSTACK_API_KEY
	unset GIT_ASKPASS SSH_ASKPASS GIT_CONFIG_PARAMETERS COLUMNS
	export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
	trap cst_cleanup EXIT
}

CST_CLEANUPS=()
# cst_on_exit CMD...: run CMD (eval'd) when the test ends, last registered first.
cst_on_exit() {
	CST_CLEANUPS=("$*" "${CST_CLEANUPS[@]}")
}

cst_cleanup() {
	local rc=$? c
	for c in "${CST_CLEANUPS[@]}"; do
		eval "$c" || true
	done
	[ -n "${CST_TMP:-}" ] && rm -rf "$CST_TMP"
	return $rc
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "ok: $*"
}

assert_eq() { # expected actual what
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# Runs a command that must exit with status rc; its stdout and stderr together in $out.
assert_exit() { # rc what command...
	local want=$1 what=$2 rc=0
	shift 2
	# shellcheck disable=SC2034 # read by the caller
	out=$("$@" 2>&1) || rc=$?
	assert_eq "$want" "$rc" "$what: exit status"
}

assert_contains() { # haystack needle what
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: '$2' not in: $1" ;;
	esac
}

assert_not_contains() { # haystack needle what
	case "$1" in
	*"$2"*) fail "$3: '$2' must not appear in: $1" ;;
	*) ;;
	esac
}

# wait_for CMD...: polls CMD (up to 20 s) until it succeeds; for readiness, not for timing.
wait_for() {
	local i
	for i in $(seq 1 400); do
		"$@" && return 0
		sleep 0.05
	done
	fail "timed out waiting for: $*"
}

# json_tool CMD ARG...: JSON in and out of the shell (tests/lib/json_tool.py says how).
json_tool() {
	"$PYTHON" "$CSTOKEN_SRC/tests/lib/json_tool.py" "$@"
}
# store_file CMD PATH ARG...: reads or rewrites the file store's JSON (tests/lib/store_file.py).
store_file() {
	"$PYTHON" "$CSTOKEN_SRC/tests/lib/store_file.py" "$@"
}
export -f json_tool store_file

# pty_dialog [--cols N] STEP... -- COMMAND...: a dialog with COMMAND on a terminal; prints
# what the steps print, status=N and the transcript (tests/lib/pty_dialog.py has the steps).
pty_dialog() {
	"$PYTHON" "$CSTOKEN_SRC/tests/lib/pty_dialog.py" "$@"
}

# keyring_start: inside a private D-Bus session, starts gnome-keyring with an unlocked
# login collection and waits until the collection exists.
keyring_start() {
	[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || fail "keyring_start needs dbus-run-session"
	eval "$(printf testpass | gnome-keyring-daemon --unlock --components=secrets)"
	export GNOME_KEYRING_CONTROL
	wait_for test -f "$XDG_DATA_HOME/keyrings/login.keyring"
	# the daemon claims its bus name only after that: a call made earlier would start a second one
	wait_for keyring_on_bus
}

keyring_on_bus() {
	dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
		grep -q true
}

# keyring_stop: ends the daemon keyring_start started; it can outlive its bus.
keyring_stop() {
	local pid
	pid=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID \
		string:org.freedesktop.secrets 2>/dev/null | awk '{print $2}') || return 0
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
}

# in_keyring CMD...: runs CMD in a private session bus with a fresh unlocked keyring.
in_keyring() {
	dbus-run-session -- bash -c '. "$CSTOKEN_SRC/tests/lib/common.sh"; keyring_start
		rc=0; "$@" || rc=$?; keyring_stop; exit $rc' in_keyring "$@"
}
