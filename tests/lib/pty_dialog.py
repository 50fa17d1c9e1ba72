"""A dialog with a command on a terminal (tests/lib/ptyjob.py runs it as a foreground job).

    pty_dialog.py [--cols N] STEP... -- COMMAND [ARG...]

The steps, in order:
    expect=TEXT        wait until TEXT is in the output (expect2=TEXT: until it is there twice)
    expect-file=FILE:TEXT  wait until TEXT is in FILE (output the command sends elsewhere)
    send=TEXT          type TEXT (a newline only when TEXT ends in one)
    send-env=NAME      type the value of $NAME and a newline (a password stays out of argv)
    totp=SECRET        type the current RFC 6238 code of the base32 SECRET and a newline
    sms-code=EMAIL     type the code the emulator sent by SMS to EMAIL and a newline; prints
                       "code=CODE"
    no-echo            fail if the terminal echoes input
    show-echo=LABEL    print "LABEL echo=True" or "LABEL echo=False"
    stop               SIGTSTP, then wait until the job is stopped
    cont               SIGCONT
    paste-redirect     the paste-back of login --oauth: runs the BROWSER stand-in
                       ($OAUTH_STANDIN, tests/lib/oauth_browser.sh) in its print mode on the
                       authorize URL in the output, types the address it was redirected to
                       and a newline
    hangup             closes the terminal and waits until the command has ended; then
                       "status=hangup" is printed instead of an exit status
Then it prints "status=N" (the command's exit status) and the transcript. It fails (exit
status not 0) only when a step does.
"""

import json
import os
import re
import signal
import subprocess
import tempfile
import ssl
import urllib.parse
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptyjob import Job  # noqa: E402
import totp  # noqa: E402


def sms_code(email):
    ctx = ssl.create_default_context(cafile=os.environ["CST_EMU_CA"])
    url = os.environ["CST_EMU_URL"] + "/_emu/sms?email=" + urllib.parse.quote(email)
    with urllib.request.urlopen(url, context=ctx) as r:
        return json.load(r)["code"]


def paste_redirect(job):
    m = re.search(rb"\n  (https://\S+)\r?\n", job.out)
    if not m:
        job.fail("no authorize URL in the output")
    with tempfile.NamedTemporaryFile() as out:
        env = dict(os.environ, OAUTH_BROWSER_MODE="print", OAUTH_BROWSER_OUT=out.name)
        subprocess.run([os.environ["OAUTH_STANDIN"], m.group(1).decode()], env=env, check=True)
        job.send(open(out.name, "rb").read().strip() + b"\n")


def file_holds(path, text):
    try:
        with open(path, "rb") as f:
            return text in f.read()
    except FileNotFoundError:
        return False


def hangup(job):
    os.close(job.fd)

    def ended():
        try:
            with open("/proc/%d/stat" % job.pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True
    job.wait_for(ended, "the command to end after the hangup")
    os.waitpid(job.launcher, 0)


def b(text):
    return text.encode("utf-8", "surrogateescape")


def main(argv):
    cols = None
    if argv[:1] == ["--cols"]:
        cols, argv = int(argv[1]), argv[2:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        sys.exit(__doc__)
    steps, command = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    job = Job(command, cols=cols)
    for step in steps:
        name, _, arg = step.partition("=")
        if name == "expect":
            job.expect(b(arg))
        elif name == "expect-file":
            path, _, text = arg.partition(":")
            job.wait_for(lambda: file_holds(path, b(text)), "%r in %s" % (text, path))
        elif name == "expect2":
            job.expect(b(arg), 2)
        elif name == "send":
            job.send(b(arg))
        elif name == "send-env":
            job.send(b(os.environ[arg]) + b"\n")
        elif name == "totp":
            job.send(b(totp.code(arg)) + b"\n")
        elif name == "sms-code":
            code = sms_code(arg)
            if not code:
                job.fail("no SMS code on the emulator")
            print("code=%s" % code)
            job.send(b(code) + b"\n")
        elif name == "no-echo":
            if job.echo():
                job.fail("echo is on")
        elif name == "show-echo":
            print("%s echo=%s" % (arg, job.echo()))
        elif name == "stop":
            job.kill(signal.SIGTSTP)
            job.wait_for(job.stopped, "stop after SIGTSTP")
        elif name == "cont":
            job.kill(signal.SIGCONT)
        elif name == "paste-redirect":
            paste_redirect(job)
        elif name == "hangup":
            hangup(job)
            print("status=hangup")
            sys.stdout.write(job.transcript())
            return
        else:
            job.fail("unknown step %r" % step)
    print("status=%d" % job.finish())
    sys.stdout.write(job.transcript())


main(sys.argv[1:])
