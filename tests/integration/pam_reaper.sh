#!/usr/bin/env bash
# pam_cstoken_test.so in an application that reaps children itself, from a thread
# (pam_driver --reap-ignore: SIGCHLD ignored, so the kernel reaps the module's child
# before the module can; --reap-wait: a thread blocked in waitpid(-1)). Whoever reaps,
# the session gets the token exactly when the child's answer is complete (its final
# minted= line, then EOF), whatever its exit status.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
pcs_setup

SECRET=cs_standin_secret_0123456789
RUN=$CST_TMP/runuser
mkdir -p "$RUN"
pcs_stack reaped "test_program=$PCS_STANDIN test_runtime_dir=$RUN debug"
set_mode() { echo "$1" >"$HOME/standin.mode"; }

# reaped_pam HOW: one session (no close) under a reaping driver; HOW is ignore or wait
reaped_pam() {
	mkfifo -m 600 "$HOME/reap.ready" "$HOME/reap.go"
	pcs_pam reaped "$PCS_USER" --no-close "--reap-$1=$HOME"
	rm -f "$HOME/reap.ready" "$HOME/reap.go"
	assert_eq PAM_SUCCESS "$(pcs_field open)" "$1: the stack opens"
}
expect_token() { # HOW WHAT
	assert_eq "$SECRET" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "$1, $2: token"
	assert_eq blt_standin_key "$(pcs_env CONTENTSTACK_API_KEY)" "$1, $2: api key"
}
expect_none() { # HOW WHAT
	assert_eq "" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "$1, $2: no token"
	assert_eq "" "$(pcs_env CONTENTSTACK_API_KEY)" "$1, $2: no api key"
}

for how in ignore wait; do
	set_mode ok
	reaped_pam "$how"
	expect_token "$how" "a complete answer"
	# with SIGCHLD ignored the kernel has always reaped the child before the module looks
	[ "$how" = wait ] || assert_contains "$(cat "$PCS_LOG")" "was reaped by someone else" \
		"$how: the application reaped the child"
	assert_not_contains "$(cat "$PCS_LOG")" "$SECRET" "$how: the syslog"

	set_mode unfinished-exit3
	reaped_pam "$how"
	expect_none "$how" "an answer without its final line, exit 3"
	assert_contains "$(cat "$PCS_LOG")" "does not end with its minted= line" "$how: log"

	set_mode truncated-exit3
	reaped_pam "$how"
	expect_none "$how" "a truncated answer, exit 3"

	set_mode ok-exit3
	reaped_pam "$how"
	expect_token "$how" "a complete answer, exit 3"
	pass "reaping application ($how): only a complete answer sets the environment"
done

# the same without a reaping thread: the module knows the status, and logs it
set_mode unfinished-exit3
pcs_pam reaped "$PCS_USER" --no-close
expect_none own "an answer without its final line, exit 3"
assert_contains "$(cat "$PCS_LOG")" "failed with exit status 3" "the status in the log"
set_mode ok-exit3
pcs_pam reaped "$PCS_USER" --no-close
expect_token own "a complete answer, exit 3"
assert_contains "$(cat "$PCS_LOG")" "ended with wait status 768 after a complete answer" \
	"the status in the log"
pass "the module's own reaping gives the same answers"
