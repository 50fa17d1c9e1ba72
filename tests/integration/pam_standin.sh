#!/usr/bin/env bash
# pam_cstoken_test.so with a stand-in for cstoken (tests/pam/standin.sh) under pam_wrapper,
# nss_wrapper and uid_wrapper: the environment it sets, what the child is and gets, the
# argv contract, revoke only of a session-minted token, and PAM_IGNORE on every failure,
# including a helper that hangs (the timeout= bound) or floods its output.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
pcs_setup

SECRET=cs_standin_secret_0123456789
RUN=$CST_TMP/runuser
mkdir -p "$RUN"
T="test_program=$PCS_STANDIN test_idfile=$CST_TMP/ids test_runtime_dir=$RUN"
set_mode() { echo "$1" >"$HOME/standin.mode"; }
reset_calls() { rm -f "$HOME/standin.calls" "$HOME/standin.env" "$CST_TMP/ids"; }

# --- success: token and api key in the PAM environment -------------------------------
set_mode ok
pcs_stack plain "$T debug bogus_argument"
pcs_pam plain
assert_eq PAM_SUCCESS "$(pcs_field open)" "open_session"
assert_eq "$SECRET" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "token in the PAM env"
assert_eq blt_standin_key "$(pcs_env CONTENTSTACK_API_KEY)" "api key in the PAM env"
assert_eq PAM_SUCCESS "$(pcs_field close)" "close_session"
assert_eq "token --porcelain --no-mint" "$(cat "$HOME/standin.calls")" "argv without mint"
assert_contains "$(cat "$PCS_LOG")" "unknown argument 'bogus_argument' ignored" "unknown argument"
assert_not_contains "$(cat "$PCS_LOG")" "$SECRET" "the syslog (debug on)"
pass "open_session sets the token and the api key; no secret in the log"

set_mode noisy
pcs_pam plain
assert_eq "$SECRET" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "token despite a noisy stderr"
pass "stderr beyond its cap is dropped, not fatal"
set_mode ok

# --- the child: fully the user, and a clean environment -------------------------------
assert_eq "uid=$PCS_UID,$PCS_UID,$PCS_UID gid=$PCS_GID,$PCS_GID,$PCS_GID groups=$PCS_GID,$PCS_XGID setuid0=refused" \
	"$(cat "$CST_TMP/ids")" "ids of the child before exec"
childenv=$(cat "$HOME/standin.env")
for want in "HOME=$HOME" "USER=$PCS_USER" "LOGNAME=$PCS_USER" "PATH=/usr/bin:/bin" \
	"SHELL=/bin/sh" "CSTOKEN_STORE=file"; do
	assert_contains "$childenv" "$want" "child environment"
done
for unwanted in LD_PRELOAD PAM_WRAPPER NSS_WRAPPER UID_WRAPPER XDG_CONFIG_HOME \
	DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR CST_TMP; do
	assert_not_contains "$childenv" "$unwanted=" "child environment"
done
pass "the child drops groups, gid and uid for good and gets a clean environment"

# --- arguments: profile, env, mint -----------------------------------------------------
reset_calls
pcs_stack named "$T profile=work env=MY_CMA_TOKEN mint"
pcs_pam named
assert_eq "$SECRET" "$(pcs_env MY_CMA_TOKEN)" "env= names the variable"
assert_eq "" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "default variable with env="
assert_eq "token --porcelain -p work" "$(cat "$HOME/standin.calls")" "argv with profile and mint"
pass "profile=, env= and mint reach the command line and the environment"

# --- the user's bus: only a socket the user owns ----------------------------------------
mkdir -p "$RUN/$PCS_UID"
"$PYTHON" "$CSTOKEN_SRC/tests/lib/unix_socket.py" bind "$RUN/$PCS_UID/bus"
reset_calls
pcs_pam plain
assert_contains "$(cat "$HOME/standin.env")" "CSTOKEN_STORE=file" "a bus owned by someone else"
assert_not_contains "$(cat "$HOME/standin.env")" "DBUS_SESSION_BUS_ADDRESS" "a foreign bus"
if [ "$(id -u)" -eq 0 ]; then
	chown -R "$PCS_UID:$PCS_GID" "$RUN/$PCS_UID"
	reset_calls
	pcs_pam plain
	childenv=$(cat "$HOME/standin.env")
	assert_contains "$childenv" "DBUS_SESSION_BUS_ADDRESS=unix:path=$RUN/$PCS_UID/bus" "user's bus"
	assert_contains "$childenv" "XDG_RUNTIME_DIR=$RUN/$PCS_UID" "user's runtime dir"
	assert_not_contains "$childenv" "CSTOKEN_STORE" "store left to the config with a bus"
	pass "the user's own session bus is used"
fi
rm -rf "${RUN:?}/$PCS_UID"

# --- revoke: only what this session minted ------------------------------------------------
set_mode minted
reset_calls
pcs_stack revoking "$T revoke"
pcs_pam revoking
assert_eq PAM_SUCCESS "$(pcs_field close)" "close_session with revoke"
assert_eq "token --porcelain --no-mint
revoke --uid blt_minted_uid" "$(cat "$HOME/standin.calls")" "revoke of the minted token"
pass "close_session revokes the token the session minted"

set_mode ok
reset_calls
pcs_pam revoking
assert_eq "token --porcelain --no-mint" "$(cat "$HOME/standin.calls")" "stored token left alone"
pcs_pam revoking-alone
assert_eq PAM_PERM_DENIED "$(pcs_field close)" "close_session returns PAM_IGNORE"
pass "close_session leaves a token it did not mint alone"

set_mode minted
reset_calls
pcs_pam revoking "$PCS_USER" --no-close
assert_eq "token --porcelain --no-mint" "$(cat "$HOME/standin.calls")" "no close, no revoke"
set_mode revoke-fail
pcs_pam revoking-alone
assert_eq PAM_PERM_DENIED "$(pcs_field close)" "failed revoke returns PAM_IGNORE"
assert_contains "$(cat "$PCS_LOG")" "cstoken: cannot revoke" "the helper's message in the log"
pass "a failed revoke is logged and ignored"

# --- every failure: PAM_IGNORE, the login goes on, nothing set ------------------------------
expect_ignored() { # service what
	pcs_pam "$1"
	assert_eq PAM_SUCCESS "$(pcs_field open)" "$2: the stack still opens"
	assert_eq "" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "$2: no token"
	assert_eq "" "$(pcs_env CONTENTSTACK_API_KEY)" "$2: no api key"
	pcs_pam "$1-alone"
	assert_eq PAM_PERM_DENIED "$(pcs_field open)" "$2: the module returns PAM_IGNORE"
}

set_mode fail
expect_ignored plain "helper fails"
assert_contains "$(cat "$PCS_LOG")" "exit status 1: cstoken: not logged in" "log of a failure"
set_mode garbage
expect_ignored plain "unexpected output"
assert_contains "$(cat "$PCS_LOG")" "unexpected answer" "log of garbage"
set_mode flood
expect_ignored plain "too much output"
assert_contains "$(cat "$PCS_LOG")" "too much output" "log of a flood"
pass "a failing helper, garbage and a flood leave the login working"

set_mode ok
pcs_stack badenv "$T env=1NOT-A-NAME"
reset_calls
expect_ignored badenv "env= not a variable name"
[ ! -e "$HOME/standin.calls" ] || fail "the helper ran despite a bad argument"
pcs_stack badtimeout "$T timeout=forever"
expect_ignored badtimeout "bad timeout="
pcs_stack missing "test_program=$CST_TMP/does-not-exist"
expect_ignored missing "helper not installed"
assert_contains "$(cat "$PCS_LOG")" "cannot run" "log of a missing helper"
pcs_stack plain2 "$T"
pcs_pam plain2 nosuchuser
assert_eq PAM_SUCCESS "$(pcs_field open)" "unknown user: the stack still opens"
assert_eq "" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "unknown user: no token"
pass "bad arguments, a missing helper and an unknown user are ignored"

# --- a hung helper: killed at timeout=, with its whole process group -------------------
set_mode hang
pcs_stack hung "$T timeout=2"
expect_ignored hung "hung helper"
assert_contains "$(cat "$PCS_LOG")" "did not finish within 2 s" "log of the timeout"
gc=$(cat "$HOME/standin.grandchild")
[ -n "$gc" ] || fail "the stand-in did not record its grandchild"
# SIGKILL is delivered asynchronously: poll until it is gone (or a zombie awaiting init);
# left alive it would outlast wait_for by far (it sleeps 120 s)
dead() { [ ! -e "/proc/$1/stat" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
cst_on_exit "kill $gc 2>/dev/null"
wait_for dead "$gc"
pass "a hung helper is killed at the timeout with its process group"
