#!/usr/bin/python3
"""Measures cstoken against its peers, interleaved, and prints one table.

Run by bench/bench.sh inside a private D-Bus session with gnome-keyring and the CMA
emulator already running and the stores seeded; everything it needs comes from the
environment (see bench.sh). Each process is started with posix_spawn and reaped with
wait4, so wall time, user+sys CPU and peak RSS are the child's own.
"""

import json
import os
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
WARMUP = 3
CSTOKEN = os.environ["BENCH_CSTOKEN"]
LIBSECRET = os.environ["BENCH_LIBSECRET"]
GIT = os.environ.get("BENCH_GIT", "/usr/bin/git")
CURL = os.environ.get("BENCH_CURL", "/usr/bin/curl")
EMU_URL = os.environ["CST_EMU_URL"]
EMU_HOST = os.environ["CST_EMU_HOST"]
EMU_CA = os.environ["CST_EMU_CA"]
API_KEY = os.environ["BENCH_API_KEY"]
GIT_STORE_FILE = os.environ["BENCH_GIT_STORE_FILE"]
CST_STORE_FILE = os.environ["BENCH_CST_STORE_FILE"]
MINT_STORE_FILE = os.environ["BENCH_MINT_STORE_FILE"]
MINT_STORE_SNAPSHOT = os.environ["BENCH_MINT_STORE_SNAPSHOT"]
WORK = os.environ["BENCH_WORK"]
HIT_HOST = os.environ.get("BENCH_HIT_HOST", "git.example.com")
HIT_PASSWORD = os.environ["BENCH_HIT_PASSWORD"]
CONCURRENCY = 16
RSS_ROUNDS = 3
# which rows to measure (bench.sh -c)
ALL_CASES = "1 2 3 4 4b 5 5b 6 6m 7 7m 8 9 10 11"
# machines of the cold start on an empty shared store (case 11)
MACHINES = 3
CASES = os.environ.get("BENCH_CASES", ALL_CASES).split()
# how many items the fill row stores one at a time (bench.sh -f)
FILL = int(os.environ.get("BENCH_FILL", "10000"))
RSS_FILE = os.path.join(WORK, "rss")

_ctx = ssl.create_default_context(cafile=EMU_CA)
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=_ctx)
)


def emu(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(EMU_URL + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with _opener.open(req, timeout=10) as r:
        return json.load(r)


def emu_requests():
    j = emu("GET", "/_emu/requests")
    return j["requests"] if isinstance(j, dict) else j


def token_posts():
    return sum(
        1
        for r in emu_requests()
        if r["method"] == "POST" and r["path"] == "/v3/stacks/management_tokens"
    )


def clear_stack_tokens():
    """Revokes every token on the bench stack (behind the clients' backs)."""
    for t in emu("GET", "/_emu/state")["stacks"][API_KEY]["tokens"]:
        emu("DELETE", "/_emu/tokens/" + t["uid"])


def env_with(**kw):
    env = dict(os.environ)
    for k, v in kw.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


class Run:
    __slots__ = ("wall", "cpu", "rss", "rc", "out")


def spawn(argv, stdin, env):
    """Starts argv with stdin fed from bytes and stdout to a pipe; (pid, out_fd)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    os.write(in_w, stdin)  # far below the pipe buffer
    os.close(in_w)
    devnull = os.open(os.devnull, os.O_WRONLY)
    pid = os.posix_spawn(
        argv[0],
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, in_r, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
            (os.POSIX_SPAWN_CLOSE, in_r),
            (os.POSIX_SPAWN_CLOSE, out_w),
            (os.POSIX_SPAWN_CLOSE, out_r),
            (os.POSIX_SPAWN_CLOSE, devnull),
        ],
    )
    os.close(in_r)
    os.close(out_w)
    os.close(devnull)
    return pid, out_r


def reap(pid, out_fd, start):
    _, status, ru = os.wait4(pid, 0)
    r = Run()
    r.wall = (time.perf_counter() - start) * 1000
    r.cpu = (ru.ru_utime + ru.ru_stime) * 1000
    r.rss = ru.ru_maxrss
    r.rc = os.waitstatus_to_exitcode(status)
    chunks = []
    while True:
        b = os.read(out_fd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(out_fd)
    r.out = b"".join(chunks).decode(errors="replace")
    return r


def run_one(argv, stdin, env):
    start = time.perf_counter()
    pid, fd = spawn(argv, stdin, env)
    return reap(pid, fd, start)


def read_rss(i):
    with open(RSS_FILE + ".%d" % i) as f:
        return int(f.read().split()[-1])


def run_many(argv, stdin, env, n):
    """n copies at once; wall until the last one is reaped."""
    start = time.perf_counter()
    procs = [spawn([a.replace(".%d", ".%d" % i) for a in argv], stdin, env) for i in range(n)]
    runs = [reap(pid, fd, start) for pid, fd in procs]
    agg = Run()
    agg.wall = max(r.wall for r in runs)
    agg.cpu = sum(r.cpu for r in runs)
    agg.rss = max(r.rss for r in runs)
    agg.rc = max(abs(r.rc) for r in runs)
    agg.out = runs
    return agg


class Tool:
    """One contender of a case: how to run it, what to do first, how to check it."""

    def __init__(self, name, argv, stdin=b"", env=None, before=None, check=None, many=1):
        self.name = name
        self.argv = argv
        self.stdin = stdin
        self.env = env or dict(os.environ)
        self.before = before
        self.check = check
        self.many = many
        self.runs = []
        self.rss = []

    def once(self, measured=True, rss=False):
        """One run; with rss, under /usr/bin/time for the peak RSS (not timed)."""
        argv = self.argv
        if rss or self.many > 1:
            # wait4's ru_maxrss would report this Python process: a child created by
            # posix_spawn/fork inherits its parent's high-water mark across exec
            argv = ["/usr/bin/time", "-f", "%M", "-o", RSS_FILE + ".%d", "--"] + argv
        if self.before:
            self.before()
        if self.many > 1:
            r = run_many(argv, self.stdin, self.env, self.many)
            r.rss = max(read_rss(i) for i in range(self.many))
        else:
            r = run_one([a.replace(".%d", ".0") for a in argv], self.stdin, self.env)
            if rss:
                r.rss = read_rss(0)
        if self.check:
            self.check(r)
        elif r.rc != 0:
            raise SystemExit("bench: %s exited %d" % (self.name, r.rc))
        if rss:
            self.rss.append(r.rss)
        elif measured:
            self.runs.append(r)
            if self.many > 1:
                self.rss.append(r.rss)
        return r


def p90(values):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, -(-9 * len(v) // 10) - 1))]


def stats(tool):
    walls = [r.wall for r in tool.runs]
    return {
        "wall_med": statistics.median(walls),
        "wall_p90": p90(walls),
        "cpu_med": statistics.median(r.cpu for r in tool.runs),
        "rss_max": max(tool.rss),
    }


def interleave(tools):
    for _ in range(WARMUP):
        for t in tools:
            t.once(measured=False)
    for _ in range(ROUNDS):
        for t in tools:
            t.once()
    for _ in range(RSS_ROUNDS):
        for t in tools:
            if t.many == 1:
                t.once(rss=True)


# ---------------------------------------------------------------------------
# checks


def expect_password(password):
    def check(r):
        if r.rc != 0 or ("password=%s\n" % password) not in r.out:
            raise SystemExit("bench: a hit did not answer the stored password (rc %d)" % r.rc)

    return check


def expect_silence(r):
    # git-credential-libsecret exits 0 with no output on a miss, like cstoken
    if r.rc != 0 or "password=" in r.out:
        raise SystemExit("bench: a miss answered something (rc %d)" % r.rc)


# ---------------------------------------------------------------------------
# the cases


def cred_request(host, username="alice"):
    return ("protocol=https\nhost=%s\nusername=%s\n\n" % (host, username)).encode()


def keyring_env():
    # the user's default: store = auto, which picks the Secret Service here
    return env_with(CSTOKEN_STORE=None, CSTOKEN_STORE_FILE=None)


def case_keyring(hit):
    req = cred_request(HIT_HOST if hit else "nothing.example.org")
    check = expect_password(HIT_PASSWORD) if hit else expect_silence
    a = Tool("cstoken get", [CSTOKEN, "get"], req, keyring_env(), check=check)
    b = Tool("git-credential-libsecret get", [LIBSECRET, "get"], req, keyring_env(), check=check)
    interleave([a, b])
    return a, b


def case_file_hit():
    req = cred_request(HIT_HOST)
    check = expect_password(HIT_PASSWORD)
    a = Tool(
        "cstoken get (store = file)",
        [CSTOKEN, "get"],
        req,
        env_with(CSTOKEN_STORE="file", CSTOKEN_STORE_FILE=CST_STORE_FILE),
        check=check,
    )
    b = Tool(
        "git credential-store get",
        [GIT, "credential-store", "--file", GIT_STORE_FILE, "get"],
        req,
        env_with(GIT_CONFIG_NOSYSTEM="1"),
        check=check,
    )
    interleave([a, b])
    return a, b


def scale_stores(n):
    """The same n credentials in a cstoken file store and a git credential-store file.

    Written directly, in the layout each tool writes (cstoken: one JSON item per line);
    the one a hit asks for sits in the middle, since git's get stops at the first match.
    """
    d = os.path.join(WORK, "scale-%d" % n)
    cst, git = os.path.join(d, "cst", "credentials"), os.path.join(d, "git-credentials")
    if os.path.exists(cst):
        return cst, git
    os.makedirs(os.path.dirname(cst), mode=0o700)
    creds = [("other%05d.example.net" % i, "user%d" % i, "other-password-%d" % i)
             for i in range(n - 1)]
    creds.insert(n // 2, (HIT_HOST, "alice", HIT_PASSWORD))
    lines = []
    for i, (host, user, pw) in enumerate(creds):
        item = {"kind": "credential", "protocol": "https", "host": host, "username": user,
                "secret": pw, "created": 1764547200 + i}
        lines.append(json.dumps(item, separators=(",", ":")))
    for path, text in (
        (cst, '{"version":1,"items":[\n' + ",\n".join(lines) + "\n]}\n"),
        (git, "".join("https://%s:%s@%s\n" % (u, p, h) for h, u, p in creds)),
    ):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    return cst, git


def file_env(store_file):
    return env_with(CSTOKEN_STORE="file", CSTOKEN_STORE_FILE=store_file)


def git_store_tool(name, git_file, verb, req, check):
    return Tool(name, [GIT, "credential-store", "--file", git_file, verb], req,
                env_with(GIT_CONFIG_NOSYSTEM="1"), check=check)


def case_file_scale(n, hit):
    """get at n items: the hit (in the middle) or a host that is not there; a miss is
    measured with cstoken's hit interleaved, to compare the two under the same load."""
    cst, git = scale_stores(n)
    req = cred_request(HIT_HOST if hit else "nothing.example.org")
    check = expect_password(HIT_PASSWORD) if hit else expect_silence
    a = Tool("cstoken get %s (file, %d items)" % ("hit" if hit else "miss", n), [CSTOKEN, "get"],
             req, file_env(cst), check=check)
    b = git_store_tool("git credential-store get", git, "get", req, check)
    h = None
    if not hit:
        h = Tool("cstoken get hit, same rounds", [CSTOKEN, "get"], cred_request(HIT_HOST),
                 file_env(cst), check=expect_password(HIT_PASSWORD))
    interleave([a, b] + ([h] if h else []))
    return a, b, h


def case_file_store(n):
    """store at n items: the same credential again with a new password each round."""
    cst, git = scale_stores(n)
    a = Tool("cstoken store (file, %d items)" % n, [CSTOKEN, "store"], b"", file_env(cst))
    b = git_store_tool("git credential-store store", git, "store", b"", None)
    rounds = [0]

    def new_password(t):
        def fn():
            rounds[0] += 1
            t.stdin = ("protocol=https\nhost=%s\nusername=alice\npassword=pw-%d\n\n"
                       % (HIT_HOST, rounds[0])).encode()
        return fn

    a.before, b.before = new_password(a), new_password(b)
    interleave([a, b])
    return a, b


def case_fill(n):
    """n distinct credentials stored one process at a time into an empty store, each tool
    in turn; the wall is the whole fill's."""
    d = os.path.join(WORK, "fill-%d" % n)
    os.makedirs(d, mode=0o700)
    cst, git = os.path.join(d, "cst", "credentials"), os.path.join(d, "git-credentials")
    tools = [
        Tool("cstoken store x %d (file)" % n, [CSTOKEN, "store"], b"", file_env(cst)),
        git_store_tool("git credential-store store x %d" % n, git, "store", b"", None),
    ]
    total = {t: Run() for t in tools}
    quarters = {t: [] for t in tools}
    for r in total.values():
        r.wall = r.cpu = 0.0
    for i in range(n):
        req = cred_request("fill%05d.example.net" % i)[:-1] + b"password=pw-%d\n\n" % i
        for t in tools:  # interleaved, like every other row
            one = run_one(t.argv, req, t.env)
            if one.rc != 0:
                raise SystemExit("bench: %s exited %d" % (t.name, one.rc))
            total[t].wall += one.wall
            total[t].cpu += one.cpu
            if (i + 1) % (n // 4 or 1) == 0:
                quarters[t].append(total[t].wall)
    for t in tools:
        t.runs.append(total[t])
        q = quarters[t]
        # the last quarter's wall over the first's: 1 for a flat cost, 7 for a linear one
        t.growth = (q[3] - q[2]) / q[0] if len(q) >= 4 and q[0] else 0.0
    with open(cst) as f:
        if len(json.load(f)["items"]) != n:
            raise SystemExit("bench: the filled cstoken store does not hold %d items" % n)
    return tools


def clear_keyring_token():
    # exits 1 when there was nothing to clear
    subprocess.run(
        ["secret-tool", "clear", "kind", "token", "profile", "default"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def restore_mint_file_store():
    tmp = MINT_STORE_FILE + ".bench"
    with open(MINT_STORE_SNAPSHOT, "rb") as f:
        data = f.read()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, data)
    os.close(fd)
    os.rename(tmp, MINT_STORE_FILE)


class MintCheck:
    """Every measured run must have minted a fresh token (one more POST, a new value)."""

    def __init__(self, name):
        self.name = name
        self.posts = None
        self.last = None

    def before(self, reset_store):
        def fn():
            clear_stack_tokens()
            if reset_store:
                reset_store()
            self.posts = token_posts()

        return fn

    def check_value(self, r, value):
        if r.rc != 0 or not value:
            raise SystemExit("bench: %s failed (rc %d)" % (self.name, r.rc))
        if token_posts() != self.posts + 1:
            raise SystemExit("bench: %s did not create exactly one token" % self.name)
        if value == self.last:
            raise SystemExit("bench: %s answered the previous token" % self.name)
        self.last = value


def case_mint(store):
    """`cstoken token` on an empty store vs a bare curl POST of the same create request."""
    if store == "keyring":
        env, reset = keyring_env(), clear_keyring_token
    else:
        env = env_with(CSTOKEN_STORE="file", CSTOKEN_STORE_FILE=MINT_STORE_FILE)
        reset = restore_mint_file_store
    cst = MintCheck("cstoken token")
    a = Tool("cstoken token (%s)" % store, [CSTOKEN, "token"], b"", env)
    a.before = cst.before(reset)
    a.check = lambda r: cst.check_value(r, r.out.strip())

    # the very request cstoken sent, replayed by curl: same headers, same body, same CA
    a.once(measured=False)
    sent = [
        r
        for r in emu_requests()
        if r["method"] == "POST" and r["path"] == "/v3/stacks/management_tokens"
    ][-1]
    body = sent["body"] if isinstance(sent["body"], str) else json.dumps(sent["body"])
    body_file = os.path.join(WORK, "create-body.json")
    with open(body_file, "w") as f:
        f.write(body)
    # headers in a config file: the authtoken never goes into argv
    cfg_file = os.path.join(WORK, "curl-create.cfg")
    fd = os.open(cfg_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for h in ("api_key", "authtoken"):
            f.write('header = "%s: %s"\n' % (h, sent["headers"][h]))
        f.write('header = "Content-Type: application/json"\n')
    bare = MintCheck("curl POST")

    def curl_check(r):
        try:
            value = json.loads(r.out)["token"]["token"]
        except (ValueError, KeyError, TypeError):
            value = None
        bare.check_value(r, value)

    b = Tool(
        "curl POST (same request)",
        [
            CURL, "-q", "-sS", "--fail", "--noproxy", "*", "--cacert", EMU_CA,
            "-K", cfg_file, "--data-binary", "@" + body_file,
            EMU_URL + "/v3/stacks/management_tokens",
        ],
        b"",
        env_with(),
    )
    b.before = bare.before(None)
    b.check = curl_check
    interleave([a, b])
    return a, b


def one_token_check(state, agg, tokens):
    """Every run of agg (one run, or many at once) succeeded and answered the one token
    (tokens(stdout) lists what a run answered); a lone run minted exactly one, the mints
    of a crowd are recorded in state["minted"]."""
    runs = agg.out if isinstance(agg.out, list) else [agg]
    values = set()
    for r in runs:
        if r.rc != 0:
            raise SystemExit("bench: a get on an empty store exited %d" % r.rc)
        values.update(tokens(r.out))
    minted = token_posts() - state["posts"]
    if isinstance(agg.out, list):
        state["minted"].append(minted)
    elif minted != 1:
        raise SystemExit("bench: one get on an empty store minted %d tokens" % minted)
    if len(values) != 1:
        raise SystemExit("bench: gets at once answered %d different tokens" % len(values))


def case_concurrent(store):
    """16 gets at once on an store without a token, against one get alone (one mint)."""
    req = ("protocol=https\nhost=%s\n\n" % EMU_HOST).encode()
    if store == "keyring":
        env, reset = keyring_env(), clear_keyring_token
    else:
        env = env_with(CSTOKEN_STORE="file", CSTOKEN_STORE_FILE=MINT_STORE_FILE)
        reset = restore_mint_file_store
    state = {"posts": 0, "minted": []}

    def before():
        clear_stack_tokens()
        reset()
        state["posts"] = token_posts()

    def check(agg):
        one_token_check(state, agg, lambda out: [
            line[len("password="):] for line in out.splitlines() if line.startswith("password=")
        ])

    a = Tool(
        "%d x cstoken get (%s, empty)" % (CONCURRENCY, store),
        [CSTOKEN, "get"],
        req,
        env,
        before=before,
        check=check,
        many=CONCURRENCY,
    )
    b = Tool("1 x cstoken get (%s, empty)" % store, [CSTOKEN, "get"], req, env,
             before=before, check=check)
    interleave([a, b])
    return a, b, state["minted"][WARMUP:]


def etcd_clear():
    """Empties the shared store (etcdctl, the cluster's own client)."""
    subprocess.run(["etcdctl", "del", "--prefix", "/cstoken/"], check=True,
                   stdout=subprocess.DEVNULL, env=env_with(ETCDCTL_API="3"))


def machine_store(i):
    return os.path.join(WORK, "machine%d" % i, "credentials")


def reset_machine(i):
    """Machine i: logged in, no token, nothing fetched (its lock directory emptied)."""
    d = os.path.dirname(machine_store(i))
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d, mode=0o700)
    with open(MINT_STORE_SNAPSHOT, "rb") as f:
        data = f.read()
    fd = os.open(machine_store(i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, data)
    os.close(fd)


def case_shared_hit():
    """`cstoken token` of a shared profile within shared_cache vs one of a local profile."""
    env = env_with(CSTOKEN_STORE="file", CSTOKEN_STORE_FILE=machine_store(0))
    reset_machine(0)
    etcd_clear()
    clear_stack_tokens()
    for prof in ("shared", "default"):
        if subprocess.run([CSTOKEN, "token", "-p", prof], env=env,
                          stdout=subprocess.DEVNULL).returncode:
            raise SystemExit("bench: cannot prime the %s profile's token" % prof)
    posts = token_posts()

    def check(r):
        if r.rc != 0 or not r.out.strip():
            raise SystemExit("bench: a token hit failed (rc %d)" % r.rc)
        if token_posts() != posts:
            raise SystemExit("bench: a hit minted")

    a = Tool("cstoken token (shared, cached)", [CSTOKEN, "token", "-p", "shared"], b"", env,
             check=check)
    b = Tool("cstoken token (local hit)", [CSTOKEN, "token", "-p", "default"], b"", env,
             check=check)
    interleave([a, b])
    return a, b


def case_shared_cold():
    """3 machines x 16 tokens at once on an empty shared store, against one mint alone."""
    # one wrapper for both, so both pay for it: machine = index mod 3
    wrap = ['/bin/sh', '-c', 'i=${1#.}; exec env CSTOKEN_STORE_FILE="$2/machine$((i %% %d))'
            '/credentials" "$3" token -p shared' % MACHINES, "sh", ".%d", WORK, CSTOKEN]
    env = env_with(CSTOKEN_STORE="file")
    state = {"posts": 0, "minted": []}

    def before():
        clear_stack_tokens()
        etcd_clear()
        for i in range(MACHINES):
            reset_machine(i)
        state["posts"] = token_posts()

    def check(agg):
        one_token_check(state, agg, lambda out: [out.strip()])

    a = Tool("%d x %d cstoken token (shared, empty)" % (MACHINES, CONCURRENCY), wrap, b"", env,
             before=before, check=check, many=MACHINES * CONCURRENCY)
    b = Tool("1 x cstoken token (shared, empty)", wrap, b"", env, before=before, check=check)
    interleave([a, b])
    return a, b, state["minted"][WARMUP:]


# ---------------------------------------------------------------------------
# the table


def fmt(v):
    return "%.1f" % v


def main():
    print("bench: %d rounds each (after %d warm-up), interleaved; wall in ms, CPU = user+sys ms,"
          " RSS = peak KiB" % (ROUNDS, WARMUP), file=sys.stderr)
    rows = []

    def pair(case, a, b, target, met):
        sa, sb = stats(a), stats(b)
        ratio = sa["wall_med"] / sb["wall_med"]
        rows.append([case, a.name, fmt(sa["wall_med"]), fmt(sa["wall_p90"]), fmt(sa["cpu_med"]),
                     str(sa["rss_max"]), "%.2fx" % ratio, target, met(sa, sb, ratio)])
        rows.append(["", b.name, fmt(sb["wall_med"]), fmt(sb["wall_p90"]), fmt(sb["cpu_med"]),
                     str(sb["rss_max"]), "", "", ""])

    def yes(ok):
        return "yes" if ok else "NO"

    def want(case):
        return case in CASES

    if want("1"):
        print("bench: keyring get hit", file=sys.stderr)
        a, b = case_keyring(True)
        pair("1 keyring get hit", a, b, "wall <= 1.0x, RSS <= peer",
             lambda sa, sb, r: yes(r <= 1.0 and sa["rss_max"] <= sb["rss_max"]))
    if want("2"):
        print("bench: keyring get miss", file=sys.stderr)
        a, b = case_keyring(False)
        pair("2 keyring get miss", a, b, "wall < 0.6x, RSS <= peer",
             lambda sa, sb, r: yes(r < 0.6 and sa["rss_max"] <= sb["rss_max"]))
    if want("3"):
        print("bench: file-store get hit", file=sys.stderr)
        a, b = case_file_hit()
        pair("3 file get hit", a, b, "wall <= 1.5x", lambda sa, sb, r: yes(r <= 1.5))
    for case, n, hit in (("6", 1000, True), ("6m", 1000, False), ("7", 10000, True),
                         ("7m", 10000, False)):
        if not want(case):
            continue
        print("bench: file-store get %s, %d items" % ("hit" if hit else "miss", n),
              file=sys.stderr)
        a, b, h = case_file_scale(n, hit)
        if hit:
            pair("%s file get hit, %d" % (case, n), a, b, "wall <= 1.0x",
                 lambda sa, sb, r: yes(r <= 1.0))
            continue
        sh = stats(h)
        miss_hit = stats(a)["wall_med"] / sh["wall_med"]
        pair("%s file get miss, %d" % (case, n), a, b, "wall <= 1.0x, miss <= hit",
             lambda sa, sb, r: yes(r <= 1.0 and miss_hit <= 1.0))
        rows.append(["", h.name, fmt(sh["wall_med"]), fmt(sh["wall_p90"]), fmt(sh["cpu_med"]),
                     str(sh["rss_max"]), "miss %.2fx" % miss_hit, "", ""])
    if want("8"):
        print("bench: file-store store, 10000 items", file=sys.stderr)
        a, b = case_file_store(10000)
        pair("8 file store, 10000", a, b, "wall <= 1.0x", lambda sa, sb, r: yes(r <= 1.0))
    if want("9"):
        print("bench: filling a file store with %d items, one store each" % FILL,
              file=sys.stderr)
        a, b = case_fill(FILL)
        ratio = a.runs[0].wall / b.runs[0].wall
        for t, first in ((a, True), (b, False)):
            r = t.runs[0]
            rows.append(["9 fill %d, one by one" % FILL if first else "", t.name,
                         fmt(r.wall), "growth %.1f" % t.growth, fmt(r.cpu), "-",
                         "%.2fx" % ratio if first else "", "wall < 2.0x" if first else "",
                         yes(ratio < 2.0) if first else ""])
    if want("4"):
        print("bench: mint (keyring)", file=sys.stderr)
        a, b = case_mint("keyring")
        pair("4 mint, keyring", a, b, "-", lambda sa, sb, r: "-")
    if want("4b"):
        print("bench: mint (file)", file=sys.stderr)
        a, b = case_mint("file")
        pair("4b mint, file", a, b, "-", lambda sa, sb, r: "-")
    for case, store in (("5", "keyring"), ("5b", "file")):
        if not want(case):
            continue
        print("bench: %d concurrent gets (%s)" % (CONCURRENCY, store), file=sys.stderr)
        a, b, minted = case_concurrent(store)
        one = "1" if set(minted) == {1} else ",".join(map(str, sorted(set(minted))))
        pair("%s %d concurrent get" % (case, CONCURRENCY), a, b,
             "1 mint, wall <= 1.5x", lambda sa, sb, r: yes(r <= 1.5 and one == "1"))
        rows[-2][6] += " (minted %s)" % one

    if want("10"):
        print("bench: cached shared hit against a local hit", file=sys.stderr)
        a, b = case_shared_hit()
        pair("10 shared hit (cached)", a, b, "wall <= 1.2x", lambda sa, sb, r: yes(r <= 1.2))
    if want("11"):
        print("bench: %d x %d gets on an empty shared store" % (MACHINES, CONCURRENCY),
              file=sys.stderr)
        a, b, minted = case_shared_cold()
        one = "1" if set(minted) == {1} else ",".join(map(str, sorted(set(minted))))
        pair("11 shared cold %dx%d" % (MACHINES, CONCURRENCY), a, b, "1 mint, wall <= 2x",
             lambda sa, sb, r: yes(r <= 2.0 and one == "1"))
        rows[-2][6] += " (minted %s)" % one

    head = ["case", "tool", "wall med", "wall p90", "cpu med", "peak RSS", "ratio", "target",
            "met?"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    right = {2, 3, 4, 5, 6}

    def line(r):
        cells = [(c.rjust(w) if i in right else c.ljust(w)) for i, (c, w) in
                 enumerate(zip(r, widths))]
        return "| " + " | ".join(cells) + " |"

    print(line(head))
    print("|" + "|".join(("-" * (w + 1) + ":" if i in right else "-" * (w + 2))
                         for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))
    print()
    print("wall/cpu in ms (median, p90 of %d interleaved rounds); peak RSS in KiB (max); ratio ="
          " cstoken median wall / peer median wall; cases 5, 5b: against one get alone on the"
          " same empty store (one mint), CPU summed over the %d processes; case 10: a shared"
          " profile's token fetched within shared_cache against a local profile's; case 11: 3"
          " machines (stores) x 16 on an empty shared store against one get alone; case 9: one round,"
          " the whole fill's wall and CPU, growth = the last quarter's wall over the first's"
          " (1 for a flat cost per store, 7 for one growing with the store)"
          % (ROUNDS, CONCURRENCY))


if __name__ == "__main__":
    main()
