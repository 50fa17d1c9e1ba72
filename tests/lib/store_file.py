"""The file store's JSON (helper/store/store_file.c's format), read and rewritten the way another
writer, or someone who can write to the store, would.

    store_file.py set PATH KIND FIELD=VALUE...   on every item of KIND
    store_file.py add PATH FIELD=VALUE...        one more item
    store_file.py only PATH FIELD=VALUE...       the store holds this one item
    store_file.py keep PATH KIND                 every item of another kind dropped
    store_file.py get PATH KIND FIELD [FIELD=VALUE...]
                                                 FIELD of the first item of KIND with those
                                                 values; nothing when there is none
    store_file.py count PATH KIND                how many items of KIND (0 without a file)
    store_file.py parse PATH                     fails unless the file is JSON (bytes that
                                                 are not UTF-8 passed through)

FIELD=VALUE sets a string; FIELD:=JSON any JSON value (FIELD:=1, FIELD:=null). A rewrite
replaces the file by a new one, mode 0600, as cstoken does.
"""

import json
import os
import sys


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8", "surrogateescape"))


def save(path, store):
    tmp = path + ".edit"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(json.dumps(store).encode("utf-8", "surrogateescape"))
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def fields(args):
    out = {}
    for a in args:
        if a.find(":=") != -1 and a.find(":=") + 1 == a.find("="):
            k, v = a.split(":=", 1)
            out[k] = json.loads(v)
        elif "=" in a:
            k, v = a.split("=", 1)
            out[k] = v
        else:
            sys.exit("store_file.py: not FIELD=VALUE: %r" % a)
    return out


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, path, args = argv[0], argv[1], argv[2:]
    if cmd == "count" and len(args) == 1:
        n = 0
        if os.path.exists(path):
            n = sum(1 for it in load(path)["items"] if it.get("kind") == args[0])
        print(n)
    elif cmd == "parse" and not args:
        load(path)
    elif cmd == "get" and len(args) >= 2:
        want = fields(args[2:])
        for it in load(path)["items"]:
            if it.get("kind") == args[0] and all(it.get(k) == v for k, v in want.items()):
                v = it.get(args[1])
                print(v if isinstance(v, str) else json.dumps(v))
                break
    elif cmd in ("set", "keep") and args:
        store = load(path)
        items = [it for it in store["items"] if it.get("kind") == args[0]]
        if cmd == "keep":
            store["items"] = items
        elif not items:
            sys.exit("store_file.py: no %s item in %s" % (args[0], path))
        for it in items if cmd == "set" else []:
            it.update(fields(args[1:]))
        save(path, store)
    elif cmd == "add" and args:
        store = load(path) if os.path.exists(path) else {"version": 1, "items": []}
        store["items"].append(fields(args))
        save(path, store)
    elif cmd == "only" and args:
        save(path, {"version": 1, "items": [fields(args)]})
    else:
        sys.exit(__doc__)


main(sys.argv[1:])
