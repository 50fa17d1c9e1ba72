#!/bin/sh
# A short, reproducible libFuzzer run for CTest: TARGET over a temporary copy of its seed
# corpus (new inputs land in the copy, never in the repo). Any crash, leak, sanitizer report
# or timeout fails the test; libFuzzer writes the offending input to the temp dir and prints it.
#   smoke.sh TARGET CORPUS_DIR [RUNS]
set -eu
target=$1
seeds=$2
runs=${3:-${CSTOKEN_FUZZ_RUNS:-3000}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cstoken-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/corpus" "$tmp/artifacts"
cp "$seeds"/* "$tmp/corpus/"
set +e
"$target" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$tmp/artifacts/" "$tmp/corpus" >"$tmp/log" 2>&1
rc=$?
set -e
tail -n 5 "$tmp/log"
if [ "$rc" -ne 0 ]; then
	cat "$tmp/log" >&2
	for f in "$tmp"/artifacts/*; do
		[ -f "$f" ] || continue
		echo "crashing input $(basename "$f") (base64):" >&2
		base64 "$f" >&2
	done
	exit 1
fi
grep -q "^Done $runs runs" "$tmp/log" || {
	echo "libFuzzer did not report $runs runs" >&2
	exit 1
}
