#!/usr/bin/env bash
# Concurrent writers to the file store lose no entry: N processes each store M
# distinct items at once into a store that already holds thousands; at the end all N*M
# are there, each with its own secret, and so is every item that was there before.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

driver=$CSTOKEN_BIN_DIR/store_file_stress
[ -x "$driver" ] || fail "build store_file_stress first"
store=$XDG_DATA_HOME/cstoken/credentials
N=8 M=40 BULK=5000

# the items already there, written by another JSON writer
"$PYTHON" - "$store" "$BULK" <<'PY'
import json, os, sys

store, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.dirname(store), mode=0o700)
fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump({"version": 1, "items": [
        {"kind": "credential", "protocol": "bulk", "host": f"b{i}", "secret": f"s{i}"}
        for i in range(n)]}, f)
PY

pids=()
for i in $(seq 1 $N); do
	"$driver" fill "$store" "$i" "$M" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "writer $p failed"
done

"$PYTHON" - "$store" "$N" "$M" "$BULK" <<'PY'
import json, os, sys

store, n, m, bulk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
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
PY
pass "$N concurrent writers stored all $((N * M)) items next to $BULK others"
