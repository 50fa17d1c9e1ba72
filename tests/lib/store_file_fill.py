"""The file store before and after concurrent writers (tests/integration/store_file_concurrent.sh).

    store_file_fill.py seed STORE BULK        a new store of BULK items, "b<i>" with secret
                                              "s<i>", written by another JSON writer
    store_file_fill.py check STORE N M BULK   the store holds the BULK items and the N*M of
                                              `store_file_stress fill` ("w<i>-<j>", "p<i>-<j>"),
                                              nothing else, with private modes and no temp file
"""

import json
import os
import sys


def seed(args):
    store, n = args[0], int(args[1])
    os.makedirs(os.path.dirname(store), mode=0o700)
    fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"version": 1, "items": [
            {"kind": "credential", "protocol": "bulk", "host": f"b{i}", "secret": f"s{i}"}
            for i in range(n)]}, f)


def check(args):
    store, n, m, bulk = args[0], int(args[1]), int(args[2]), int(args[3])
    with open(store) as f:
        items = json.load(f)["items"]
    have = {it["host"]: it["secret"] for it in items}
    want = {f"w{i}-{j}": f"p{i}-{j}" for i in range(1, n + 1) for j in range(1, m + 1)}
    want.update({f"b{i}": f"s{i}" for i in range(bulk)})
    if len(items) != len(want):
        sys.exit(f"FAIL {len(items)} items stored, expected {len(want)}")
    if have != want:
        missing = sorted(set(want) - set(have))[:10]
        sys.exit(f"FAIL lost or wrong entries, e.g. {missing}")
    mode = os.stat(store).st_mode & 0o777
    if mode != 0o600:
        sys.exit(f"FAIL store mode {oct(mode)}")
    dmode = os.stat(os.path.dirname(store)).st_mode & 0o777
    if dmode != 0o700:
        sys.exit(f"FAIL directory mode {oct(dmode)}")
    left = [x for x in os.listdir(os.path.dirname(store)) if ".tmp." in x]
    if left:
        sys.exit(f"FAIL temp files left: {left}")


cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else (None, [])
if cmd == "seed" and len(args) == 2:
    seed(args)
elif cmd == "check" and len(args) == 4:
    check(args)
else:
    sys.exit(__doc__)
