#!/usr/bin/env bash
# cstoken login on a terminal run as a shell's foreground job (tests/lib/ptyjob.py): Ctrl-Z at
# the password prompt gives the terminal its echo back while stopped and takes it away again
# after fg.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
cst_setup
emulator_start
export CSTOKEN_STORE=file

ALICE=alice@example.com
PW='correct horse battery'
emu_user "$ALICE" "$PW"
emu_stack blt0123456789abcdef "$ALICE"
emulator_config blt0123456789abcdef "$ALICE"

# pty PYTHON_CODE: runs the code with Job (tests/lib/ptyjob.py) imported; prints its output.
pty() {
	"$PYTHON" -c "import os, signal, sys
sys.path.insert(0, os.path.join(os.environ['CSTOKEN_SRC'], 'tests', 'lib'))
from ptyjob import Job
$1"
}

# --- Ctrl-Z at the password prompt, then fg ---------------------------------------------------
# Part of a password is typed before the stop: the prompt comes again and the answer starts
# over, so only the whole password typed after fg logs in.
out=$(PW="$PW" pty '
job = Job(["cstoken", "login"])
job.expect(b"Password for ")
if job.echo():
    job.fail("echo is on at the password prompt")
job.send(b"correct ho")
job.kill(signal.SIGTSTP)
job.wait_for(job.stopped, "stop after SIGTSTP")
print("stopped echo=%s" % job.echo())
job.kill(signal.SIGCONT)
job.expect(b"Password for ", 2)
print("continued echo=%s" % job.echo())
job.send(os.environ["PW"].encode() + b"\n")
status = job.finish()
print("status=%d" % status)
sys.stdout.write(job.transcript())') || fail "Ctrl-Z at the password prompt: $out"
assert_contains "$out" "stopped echo=True" "echo while stopped at the password prompt"
assert_contains "$out" "continued echo=False" "echo after fg at the password prompt"
assert_contains "$out" "status=0" "exit status of the login after Ctrl-Z and fg"
assert_contains "$out" "logged in to $CST_EMU_HOST as '$ALICE'" "login after Ctrl-Z and fg"
assert_not_contains "$out" "correct" "the password is never echoed"
pass "Ctrl-Z at the password prompt: echo back while stopped, off again after fg"
