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
"$PYTHON" "$CSTOKEN_SRC/tests/lib/store_file_fill.py" seed "$store" "$BULK"

pids=()
for i in $(seq 1 $N); do
	"$driver" fill "$store" "$i" "$M" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "writer $p failed"
done

"$PYTHON" "$CSTOKEN_SRC/tests/lib/store_file_fill.py" check "$store" "$N" "$M" "$BULK" ||
	fail "the store after the writers"
pass "$N concurrent writers stored all $((N * M)) items next to $BULK others"
