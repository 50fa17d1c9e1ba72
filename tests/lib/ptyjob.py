"""A command on a pseudo-terminal, run the way a job-control shell runs a foreground job.

For end-to-end tests of what cstoken does on a terminal: prompts, echo, Ctrl-Z. A launcher
process is the session leader with the pty as its controlling terminal (a login shell's
place); the command runs in its own process group, which is the terminal's foreground group.
Its group is therefore not orphaned, so SIGTSTP really stops it, as it does under a shell.

    sys.path.insert(0, os.path.join(os.environ["CSTOKEN_SRC"], "tests", "lib"))
    from ptyjob import Job
    job = Job(["cstoken", "login"])
    job.expect(b"Password for ")
    job.kill(signal.SIGTSTP); job.wait_for(job.stopped, "a stop")
    ...
    status = job.finish()

Every wait is bounded (LIMIT seconds) and ends the test with the transcript when it runs out;
waits are on output or on state, never on time alone.
"""

import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time

LIMIT = 20.0


class Job:
    def __init__(self, argv, env=None, cols=None):
        master, slave = os.openpty()
        if cols is not None:  # the window size the job reads with TIOCGWINSZ
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        r, w = os.pipe()
        launcher = os.fork()
        if launcher == 0:
            try:
                os.close(master)
                os.close(r)
                _launch(argv, env, slave, w)
            finally:
                os._exit(127)
        os.close(slave)
        os.close(w)
        self.fd = master
        self.launcher = launcher
        self.out = b""
        pid = b""
        while True:
            d = os.read(r, 32)
            if not d:
                break
            pid += d
        os.close(r)
        if not pid:
            self.fail("the job did not start")
        self.pid = int(pid)

    def fail(self, why):
        sys.exit("ptyjob: %s; transcript: %r" % (why, self.out))

    def _read(self, deadline):
        """More output into self.out; False at the end of the output."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([self.fd], [], [], left)
        if not ready:
            return None
        try:
            d = os.read(self.fd, 4096)
        except OSError:  # EIO: the slave side is closed
            d = b""
        self.out += d
        return bool(d)

    def expect(self, text, count=1):
        """Waits until text has appeared count times in the output."""
        deadline = time.monotonic() + LIMIT
        while self.out.count(text) < count:
            got = self._read(deadline)
            if got is None:
                self.fail("no %r (x%d) within %g s" % (text, count, LIMIT))
            if not got:
                self.fail("the output ended before %r (x%d)" % (text, count))

    def send(self, data):
        os.write(self.fd, data)

    def kill(self, sig):
        os.kill(self.pid, sig)

    def echo(self):
        """Whether the terminal echoes input (the pty master reports the slave's modes)."""
        return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)

    def state(self):
        """The job's process state letter from /proc (R, S, T, Z, ...)."""
        with open("/proc/%d/stat" % self.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def stopped(self):
        return self.state() in ("T", "t")

    def wait_for(self, pred, what):
        """Polls pred (readiness, like wait_for in tests/lib/common.sh)."""
        deadline = time.monotonic() + LIMIT
        while not pred():
            if time.monotonic() > deadline:
                self.fail("no %s within %g s" % (what, LIMIT))
            time.sleep(0.01)

    def finish(self):
        """Reads the rest of the output; the job's exit status (128 + N for signal N)."""
        deadline = time.monotonic() + LIMIT
        while True:
            got = self._read(deadline)
            if got is None:
                self.fail("the job did not end within %g s" % LIMIT)
            if not got:
                break
        _, status = os.waitpid(self.launcher, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    def transcript(self):
        return self.out.decode(errors="replace").replace("\r", "")


def _launch(argv, env, slave, w):
    """The session leader: starts the job in its own foreground process group, waits."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    go_r, go_w = os.pipe()
    job = os.fork()
    if job == 0:
        try:
            os.close(go_w)
            os.setpgid(0, 0)
            os.read(go_r, 1)  # until it owns the terminal
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            for sig in (signal.SIGTTOU, signal.SIGPIPE, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            if env is None:
                os.execvp(argv[0], argv)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(go_r)
    os.setpgid(job, job)
    os.tcsetpgrp(slave, job)
    os.write(go_w, b"g")
    os.close(go_w)
    os.write(w, str(job).encode())
    os.close(w)
    _, status = os.waitpid(job, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)
