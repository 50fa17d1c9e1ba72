"""Kills store_file_stress at arbitrary points of its writes, round after round, and checks
the file store after each kill (tests/integration/store_file_crash.sh says what must hold).

    store_file_crash.py DRIVER STORE
"""

import json, os, random, signal, subprocess, sys, time

if len(sys.argv) != 3:
    sys.exit(__doc__)
driver, store = sys.argv[1], sys.argv[2]
SLOTS, PAD, ROUNDS, BULK = 64, 1024, 240, 4000
seed = int.from_bytes(os.urandom(4), "little")
rng = random.Random(seed)
print(f"seed {seed}")
tmp_prefix = os.path.basename(store) + ".tmp."


def secret(g):
    return f"gen-{g}-" + "".join(chr(ord("a") + (g + i) % 26) for i in range(PAD))


def state_of(g):
    """The items after generation g: slot s holds the newest generation <= g in it."""
    want = {}
    for s in range(SLOTS):
        last = g - ((g - s) % SLOTS)
        if last >= 1:
            want[f"h{s}"] = last
    return want


def check(lo, hi, why):
    """The store holds exactly the state after generation lo or hi; returns which."""
    if not os.path.exists(store):
        sys.exit(f"FAIL {why}: store vanished")
    st = os.stat(store)
    if st.st_mode & 0o777 != 0o600:
        sys.exit(f"FAIL {why}: mode {oct(st.st_mode)}")
    with open(store, "rb") as f:
        data = f.read()
    try:
        doc = json.loads(data)
    except ValueError as e:
        sys.exit(f"FAIL {why}: torn or corrupt store ({len(data)} bytes): {e}")
    if doc.get("version") != 1:
        sys.exit(f"FAIL {why}: version {doc.get('version')}")
    items = doc["items"]
    have = {}
    others = {it["host"]: it["secret"] for it in items if it["protocol"] == "bulk"}
    if others != bulk:
        sys.exit(f"FAIL {why}: {len(bulk) - len(others)} of the other items lost or changed")
    for it in items:
        if it["protocol"] == "bulk":
            continue
        if it["kind"] != "credential" or it["protocol"] != "crash":
            sys.exit(f"FAIL {why}: unexpected item {it['host']}")
        g = int(it["uid"])
        if it["host"] in have:
            sys.exit(f"FAIL {why}: {it['host']} stored twice")
        if it["host"] != f"h{g % SLOTS}" or it["secret"] != secret(g):
            sys.exit(f"FAIL {why}: item {it['host']} does not match generation {g}")
        have[it["host"]] = g
    g = max(have.values(), default=0)
    if g not in (lo, hi):
        sys.exit(f"FAIL {why}: generation {g} in store, expected {lo} or {hi}")
    if have != state_of(g):
        sys.exit(f"FAIL {why}: store is not the state after generation {g}")
    return g


# the other items, as another tool would write them: indented, keys in its own order
bulk = {f"bulk{i}.example.net": f"bulk-secret-{i}-" + "x" * (i % 50) for i in range(BULK)}
os.makedirs(os.path.dirname(store), mode=0o700)
fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump({"items": [{"secret": s, "host": h, "protocol": "bulk", "kind": "credential"}
                         for h, s in bulk.items()], "version": 1}, f, indent=1)


def temps():
    d = os.path.dirname(store)
    return [n for n in os.listdir(d) if n.startswith(tmp_prefix)] if os.path.isdir(d) else []


last = 0  # the newest generation the driver reported as stored
awaited = 0  # progress lines waited for: each one a completed write
in_flight = mid_write = 0
write_time = 0.0  # the longest a write was seen to take, so a kill can land anywhere in one
for r in range(ROUNDS):
    p = subprocess.Popen([driver, "crash", store], stdout=subprocess.PIPE)
    mode = r % 4
    # 0: kill at once (start-up or first write); 1: after the k-th progress line;
    # 2 and 3: after the k-th line plus a random stretch of one write, to land anywhere
    k = 0 if mode == 0 else rng.randint(2, 6)
    awaited += k
    seen = []
    for _ in range(k):
        line = p.stdout.readline()
        if not line:
            sys.exit(f"FAIL round {r}: driver died early with {p.wait()}")
        seen.append(time.perf_counter())
        last = int(line)
    if len(seen) >= 2:
        write_time = max(write_time, (seen[-1] - seen[0]) / (len(seen) - 1))
    if mode >= 2:
        # a busy stretch, not a wait for anything: where the kill lands is the point
        until = seen[-1] + rng.uniform(0, 1.2 * write_time)
        while time.perf_counter() < until:
            pass
    p.send_signal(signal.SIGKILL)
    # lines printed before the kill landed are still in the pipe
    for line in p.stdout.read().split():
        last = int(line)
    p.stdout.close()
    rc = p.wait()
    if rc not in (-signal.SIGKILL, 0):
        sys.exit(f"FAIL round {r}: driver exited {rc}")
    g = check(last, last + 1, f"round {r}")
    in_flight += g == last + 1
    left = temps()
    if len(left) > 1:
        sys.exit(f"FAIL round {r}: temp files pile up: {left}")
    mid_write += len(left)
    if g == last + 1:
        last = g  # the next run resumes after it

# a clean run after all that removes the leftovers and still writes correctly
out = subprocess.run([driver, "crash", store, "3"], stdout=subprocess.PIPE, check=True)
reported = [int(x) for x in out.stdout.split()]
if reported != [last + 1, last + 2, last + 3]:
    sys.exit(f"FAIL final run reported {reported}, expected after {last}")
check(last + 3, last + 3, "final run")
if temps():
    sys.exit(f"FAIL stale temp files survived a write: {temps()}")
if last + 3 < awaited + 3:
    sys.exit(f"FAIL {last + 3} generations stored, {awaited + 3} were reported")
print(f"ok: {ROUNDS} kills, {last + 3} generations, {in_flight} after rename, "
      f"{mid_write} with a temp file left, {BULK} other items kept")
