# Shared by the PAM tests: a fake user under nss_wrapper/uid_wrapper, service files, and a
# driver run under pam_wrapper (always inside `timeout`: pam_wrapper can spin forever when
# misconfigured). Source after tests/lib/common.sh.
: "${PCS_TEST_MODULE:?run through ctest}"
: "${PCS_DRIVER:?run through ctest}"

PCS_LIBDIR=/usr/lib/x86_64-linux-gnu
[ -f "$PCS_LIBDIR/libpam_wrapper.so" ] || PCS_LIBDIR=$(dirname "$(find /usr/lib /lib -name libpam_wrapper.so 2>/dev/null | head -n1)")
PCS_PERMIT=$(find /usr/lib /lib -path '*security/pam_permit.so' 2>/dev/null | head -n1)
PCS_USER=alice
PCS_UID=1234
PCS_GID=1234
PCS_XGID=5000 # a supplementary group of the fake user

# The module runs only a program that it and every directory above it are root's alone to
# change (not group- or world-writable; /tmp is not). A test not run as root may own them
# instead: PCS_OWNER is then the test module's argument saying so (pcs_stack adds it).
PCS_OWNER=
[ "$(id -u)" -eq 0 ] || PCS_OWNER="test_owner=$(id -u)"

# pcs_trusted PATH: true when PATH and every directory above it pass the module's rule.
pcs_trusted() {
	local p
	p=$(realpath "$1") || return 1
	while :; do
		case $(stat -c %u "$p") in 0 | "$(id -u)") ;; *) return 1 ;; esac
		[ $((0$(stat -c %a "$p") & 022)) -eq 0 ] || return 1
		[ "$p" = / ] && return 0
		p=$(dirname "$p")
	done
}

# pcs_bin_dir: PCS_BIN, a fresh directory (mode 755, removed at exit) the module accepts
# programs from: under the build tree, else under /run or / (as root).
pcs_bin_dir() {
	local base
	for base in "$CSTOKEN_BUILD" /run /; do
		if [ -d "$base" ] && [ -w "$base" ] && pcs_trusted "$base"; then
			PCS_BIN=$(mktemp -d "${base%/}/cstoken-pam-bin.XXXXXX") || fail "mktemp in $base"
			chmod 755 "$PCS_BIN"
			cst_on_exit "rm -rf '$PCS_BIN'"
			return 0
		fi
	done
	fail "no directory that only root (or this user) can change for the test's programs"
}

# pcs_copy_cstoken: copies the build's cstoken, with the modules it loads, into PCS_BIN in
# the installed layout (bin/ and lib/cstoken/, which the program finds beside itself); the
# copy's path goes to PCS_CSTOKEN.
pcs_copy_cstoken() {
	mkdir -p "$PCS_BIN/bin" "$PCS_BIN/lib/cstoken"
	chmod 755 "$PCS_BIN/bin" "$PCS_BIN/lib" "$PCS_BIN/lib/cstoken"
	install -m 755 "$CSTOKEN_BIN_DIR/cstoken" "$PCS_BIN/bin/cstoken"
	install -m 644 "$CSTOKEN_BUILD"/lib/cstoken/*.so "$PCS_BIN/lib/cstoken/"
	PCS_CSTOKEN=$PCS_BIN/bin/cstoken
}

# pcs_setup: cst_setup plus passwd/group files (the fake user's home is $HOME), a services
# directory and the stand-in program.
pcs_setup() {
	cst_setup
	[ -n "$PCS_PERMIT" ] || fail "pam_permit.so not found"
	PCS_DIR=$CST_TMP/pam
	mkdir -p "$PCS_DIR/services"
	pcs_bin_dir
	cat >"$PCS_DIR/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
$PCS_USER:x:$PCS_UID:$PCS_GID:Alice:$HOME:/bin/sh
PW
	cat >"$PCS_DIR/group" <<GR
root:x:0:
$PCS_USER:x:$PCS_GID:
cstgrp:x:$PCS_XGID:$PCS_USER
GR
	install -m 755 "$CSTOKEN_SRC/tests/pam/standin.sh" "$PCS_BIN/standin"
	PCS_STANDIN=$PCS_BIN/standin
}

# pcs_service NAME LINE...: writes a service file, one PAM line per argument.
pcs_service() {
	local name=$1
	shift
	printf '%s\n' "$@" >"$PCS_DIR/services/$name"
}

# pcs_stack NAME ARGS...: "session optional <test module> ARGS" followed by pam_permit, the
# shape of a production stack, and NAME-alone with the module as the only required line:
# there PAM_PERM_DENIED means the module returned PAM_IGNORE (libpam's answer when every
# module ignored), PAM_SUCCESS that it succeeded, anything else that it failed.
pcs_stack() {
	local name=$1
	shift
	pcs_service "$name" "session optional $PCS_TEST_MODULE $PCS_OWNER $*" \
		"session required $PCS_PERMIT"
	pcs_service "$name-alone" "session required $PCS_TEST_MODULE $PCS_OWNER $*"
}

# pcs_pam SERVICE [USER] [--no-close]: runs the driver under the cwrap libraries; its
# stdout goes to $PCS_OUT (and is printed), the module's syslog (pam_wrapper: stderr) to
# $PCS_LOG. Fails the test when the driver itself fails or is killed by `timeout`.
pcs_pam() {
	local service=$1 user=${2:-$PCS_USER} rc=0
	shift $(($# >= 2 ? 2 : 1))
	PCS_OUT=$CST_TMP/pam.out
	PCS_LOG=$CST_TMP/pam.log
	env LD_PRELOAD="$PCS_LIBDIR/libpam_wrapper.so $PCS_LIBDIR/libnss_wrapper.so $PCS_LIBDIR/libuid_wrapper.so" \
		PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PCS_DIR/services" PAM_WRAPPER_DEBUGLEVEL=2 \
		NSS_WRAPPER_PASSWD="$PCS_DIR/passwd" NSS_WRAPPER_GROUP="$PCS_DIR/group" \
		UID_WRAPPER=1 UID_WRAPPER_ROOT=1 \
		timeout 60 "$PCS_DRIVER" "$service" "$user" "$@" >"$PCS_OUT" 2>"$PCS_LOG" || rc=$?
	cat "$PCS_OUT"
	[ $rc -eq 0 ] || { cat "$PCS_LOG" >&2; fail "pam_driver $service exited with $rc"; }
}

# pcs_field NAME: the value printed by the last pcs_pam for "NAME=" (open, close) or
# "env:NAME=" (PAM environment), empty when absent.
pcs_field() {
	sed -n "s/^$1=//p" "$PCS_OUT" | head -n1
}
pcs_env() {
	sed -n "s/^env:$1=//p" "$PCS_OUT" | head -n1
}

# pcs_emulator_args: sets T, the test module's arguments for a run of the real cstoken against
# the emulator: a runtime directory with no bus (so cstoken uses the file store), debug, and
# the build's cstoken when root alone can change it, else a copy of it.
pcs_emulator_args() {
	local run=$CST_TMP/runuser
	mkdir -p "$run"
	T="test_runtime_dir=$run debug"
	if ! pcs_trusted "$CSTOKEN_BIN_DIR/cstoken"; then
		pcs_copy_cstoken
		T="$T test_program=$PCS_CSTOKEN"
	fi
}
