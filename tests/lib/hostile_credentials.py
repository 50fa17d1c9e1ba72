"""Hostile git credential requests for `cstoken get`, `store` and `erase`
(tests/integration/hostile_input.sh says what must hold).

    hostile_credentials.py catalogue STORE_NAME   the catalogue, with unrelated credentials
                                                  stored first, on the store cstoken is
                                                  configured for (STORE_NAME names it in
                                                  messages)
    hostile_credentials.py roundtrip              values git may send that must survive a
                                                  store/get round trip byte for byte
"""

import random
import re
import subprocess
import sys

MAX_LINE = 64 * 1024


def run(cmd, data):
    return subprocess.run(["cstoken", cmd], input=data, capture_output=True, timeout=120)


def catalogue(store):

    # The unrelated credentials, stored first; their answers must stay exactly these.
    SEEDS = [
        (b"protocol=https\nhost=github.com\nusername=alice\npassword=gh-alice-pw\n",
         b"protocol=https\nhost=github.com\nusername=alice\n",
         b"username=alice\npassword=gh-alice-pw\n"),
        (b"protocol=https\nhost=example.org\npath=team/repo.git\nusername=bob\n"
         b"password=bob pw = with spaces\npassword_expiry_utc=4102444800\n",
         b"protocol=https\nhost=example.org\npath=team/repo.git\n",
         b"username=bob\npassword=bob pw = with spaces\npassword_expiry_utc=4102444800\n"),
        (b"protocol=https\nhost=gitlab.com\nusername=oauth2\npassword=glpat-carol\n"
         b"oauth_refresh_token=rt-carol\n",
         b"protocol=https\nhost=gitlab.com\n",
         b"username=oauth2\npassword=glpat-carol\noauth_refresh_token=rt-carol\n"),
    ]
    for req_store, req_get, want in SEEDS:
        p = run("store", req_store + b"\n")
        if p.returncode != 0:
            sys.exit("%s: seeding failed: %r" % (store, p.stderr))
        if run("get", req_get + b"\n").stdout != want:
            sys.exit("%s: a seed does not read back" % store)
    kept = [(r + b"\n", w) for _, r, w in SEEDS]
    cases = {}

    def req(*lines, end=b"\n\n"):
        return b"\n".join(l if isinstance(l, bytes) else l.encode() for l in lines) + end

    H = "host=hostile.example"
    P = "protocol=https"
    # oversized lines and values
    cases["value-1mib"] = req(P, "host=" + "h" * (1 << 20), "password=x")
    cases["password-1mib"] = req(P, H, "password=" + "p" * (1 << 20) + "q")
    cases["line-at-limit"] = req(P, "host=" + "a" * (MAX_LINE - 5), "password=x")
    cases["line-over-limit"] = req(P, "host=" + "a" * (MAX_LINE - 4), "password=x")
    cases["line-1mib-no-lf"] = (P + "\npassword=" + "z" * (1 << 20)).encode()
    cases["key-1mib"] = req(P, H, "k" * (1 << 20) + "=v", "password=x")
    cases["5mib-unknown-keys"] = req(P, H, *["x_%d=%s" % (i, "y" * 40) for i in range(120000)],
                                     "password=x")
    # NUL, CR, LF where they do not belong
    cases["nul-in-value"] = req(P, b"host=hostile.example\0github.com", "password=x")
    cases["nul-in-key"] = req(P, b"ho\0st=github.com", H, "password=x")
    cases["nul-only"] = b"\0" * 4096
    cases["cr-in-value"] = req(P, H, "password=x\ry")
    cases["cr-in-key"] = req(P, "ho\rst=github.com", H, "password=x")
    cases["crlf-lines"] = b"protocol=https\r\nhost=github.com\r\npassword=x\r\n\r\n"
    cases["lone-cr-separators"] = b"protocol=https\rhost=github.com\rpassword=x\r\r"
    cases["url-encoded-lf"] = req("url=https://u%0ahost=github.com:p@hostile.example/")
    cases["url-encoded-cr"] = req("url=https://hostile.example/a%0db", "password=x")
    cases["url-encoded-nul"] = req("url=https://u:p%00@hostile.example/", "password=x")
    # malformed url= forms
    for i, u in enumerate([
            "", "://", "https://", "https:///path", "no-scheme-at-all", "https://@", "https://:@:",
            "https://[::1", "https://[::1]:99999999999999999999/", "https://%zz%/%", "https://%",
            "a://" * 20000, "https://" + "@" * 50000 + "hostile.example", "https://u:p@:0/",
            "https://hostile.example?x=1#frag", "https://hostile.example/" + "/" * 60000,
            "https://u%40x:p%3a%25@hostile.example/%2e%2e/%2F", "ftp://u:p@hostile.example/",
            "https://ho st.example/", "https://github.com@hostile.example/",
            "HTTPS://hostile.example", "https://hostile.example:65536/"]):
        cases["url-%02d" % i] = req("url=" + u, "password=x")
    cases["url-then-fields"] = req("url=https://a@hostile.example/p", "host=", "path=", "password=x")
    # attribute counts
    cases["wwwauth-5000"] = req(P, H, *["wwwauth[]=Basic realm=\"r%d\"" % i for i in range(5000)],
                                "password=x")
    cases["capability-5000"] = req(*["capability[]=cap%d" % i for i in range(5000)], P, H,
                                   "password=x")
    cases["multi-empty-resets"] = req(P, H, *(["wwwauth[]=a", "wwwauth[]="] * 3000), "password=x")
    cases["multi-huge-values"] = req(P, H, *["capability[]=" + "c" * 60000] * 100, "password=x")
    # invalid UTF-8 everywhere
    cases["utf8-invalid"] = req(P, b"host=\xff\xfe.example", b"username=\xc0\x80",
                                b"path=\xed\xa0\x80/\xf8\x88\x80\x80\x80", b"password=\x80\xbf")
    cases["utf8-overlong-key"] = req(P, H, b"\xc0\xafhost=github.com", "password=x")
    # erase patterns that are empty or too broad
    cases["empty"] = b""
    cases["blank-line-only"] = b"\n"
    cases["protocol-only"] = req(P)
    cases["host-only"] = req("host=github.com")
    cases["username-only"] = req("username=alice")
    cases["path-only"] = req("path=team/repo.git")
    cases["empty-values"] = req("protocol=", "host=", "username=", "path=", "password=")
    cases["keys-without-equals"] = req("protocol", "host", "password")
    cases["empty-key"] = req("=https", P, H)
    # absurd expiry numbers
    for i, v in enumerate(["-1", "0", "-9223372036854775808", "9223372036854775807",
                           "9223372036854775808", "99999999999999999999999999", "abc", "1e10",
                           " 12", "12 ", "+5", "0x10", "", "4102444800junk"]):
        cases["expiry-%02d" % i] = req(P, H, "username=exp%d" % i, "password=x",
                                       "password_expiry_utc=" + v)
    # binary noise, reproducible
    rnd = random.Random(1)
    cases["noise-64k"] = bytes(rnd.getrandbits(8) for _ in range(65536))
    cases["noise-lines"] = b"\n".join(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(200)))
                                      for _ in range(300))
    keys = ["protocol", "host", "path", "username", "password", "url", "wwwauth[]",
            "capability[]", "password_expiry_utc", "oauth_refresh_token"]
    for n in range(6):
        lines = []
        for _ in range(rnd.randrange(1, 40)):
            val = bytes(rnd.choice(b"ab:/@%0aAZ=\r\x00\xff.[]") for _ in range(rnd.randrange(30)))
            lines.append(rnd.choice(keys).encode() + b"=" + val)
        cases["noise-kv-%d" % n] = b"\n".join(lines) + b"\n"

    LINE = re.compile(rb"^[a-z_]+(\[\])?=[^\r\0]*$")

    failures = []
    for name, data in cases.items():
        for cmd in ("get", "store", "get", "erase", "get"):
            p = run(cmd, data)
            what = "%s: %s %s" % (store, cmd, name)
            if p.returncode not in (0, 1, 2):
                failures.append("%s: exit status %d" % (what, p.returncode))
            lines = p.stdout.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            elif p.stdout:
                failures.append("%s: stdout does not end with a newline" % what)
            if cmd != "get" and p.stdout:
                failures.append("%s: %s printed something" % (what, cmd))
            bad = [l for l in lines if not LINE.match(l)]
            if bad:
                failures.append("%s: malformed output line %r" % (what, bad[0][:80]))
            err = p.stderr.split(b"\n")
            if err[-1] == b"":
                err.pop()
            if len(err) > 1 or (err and not err[0].startswith(b"cstoken: ")):
                failures.append("%s: stray stderr %r" % (what, p.stderr[:300]))
            if p.returncode != 0 and not err:
                failures.append("%s: failed (%d) without a message" % (what, p.returncode))
        for r, want in kept:
            got = run("get", r)
            if got.stdout != want or got.returncode != 0:
                failures.append("%s: after %s: unrelated credential changed: %r"
                                % (store, name, got.stdout))
        if failures:
            break
    print("ok: %s: %d cases" % (store, len(cases)))
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    sys.exit(1 if failures else 0)


def roundtrip():
    vals = [b"\xff\xfe\x80", b"\xc0\x80", b"\xed\xa0\x80", "pässwörd ✓".encode(), b"\\u0000\"'{}",
            b"\x01\x02\x1b[31m\x7f", b"p" * 60000, b" lead and trail ", b"=", b"%00%0a"]
    for i, v in enumerate(vals):
        base = b"protocol=https\nhost=bytes%d.example\nusername=\xff%d\n" % (i, i)
        p = subprocess.run(["cstoken", "store"], input=base + b"password=" + v + b"\n",
                           capture_output=True)
        if p.returncode != 0:
            sys.exit("store %d failed: %r" % (i, p.stderr))
        g = subprocess.run(["cstoken", "get"], input=base, capture_output=True)
        want = b"username=\xff%d\npassword=" % i + v + b"\n"
        if g.stdout != want:
            sys.exit("value %d came back as %r" % (i, g.stdout[:100]))


if len(sys.argv) == 3 and sys.argv[1] == "catalogue":
    catalogue(sys.argv[2])
elif len(sys.argv) == 2 and sys.argv[1] == "roundtrip":
    roundtrip()
else:
    sys.exit(__doc__)
