#!/usr/bin/env bash
# The file store survives SIGKILL at arbitrary points of a write: after every kill the
# file parses and holds exactly the last reported generation or the one after it (the
# write in flight), never a torn file, and leftover temp files never pile up. The store
# is a large one (thousands of other items, written by another JSON writer in its own
# layout), and every one of them survives every kill unchanged.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

driver=$CSTOKEN_BIN_DIR/store_file_stress
[ -x "$driver" ] || fail "build store_file_stress first"
store=$XDG_DATA_HOME/cstoken/credentials

"$PYTHON" "$CSTOKEN_SRC/tests/lib/store_file_crash.py" "$driver" "$store"
pass "store survives SIGKILL mid-write"
