"""A dialog with a command on a terminal (tests/lib/ptyjob.py runs it as a foreground job).

    pty_dialog.py [--cols N] STEP... -- COMMAND [ARG...]

The steps, in order:
    expect=TEXT        wait until TEXT is in the output (expect2=TEXT: until it is there twice)
    send=TEXT          type TEXT (a newline only when TEXT ends in one)
    send-env=NAME      type the value of $NAME and a newline (a password stays out of argv)
    totp=SECRET        type the current RFC 6238 code of the base32 SECRET and a newline
    sms-code=EMAIL     type the code the emulator sent by SMS to EMAIL and a newline; prints
                       "code=CODE"
    no-echo            fail if the terminal echoes input
    show-echo=LABEL    print "LABEL echo=True" or "LABEL echo=False"
    stop               SIGTSTP, then wait until the job is stopped
    cont               SIGCONT
Then it prints "status=N" (the command's exit status) and the transcript. It fails (exit
status not 0) only when a step does.
"""

import json
import os
import signal
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
        else:
            job.fail("unknown step %r" % step)
    print("status=%d" % job.finish())
    sys.stdout.write(job.transcript())


main(sys.argv[1:])
