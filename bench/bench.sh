#!/usr/bin/env bash
# Benchmarks cstoken against the tools it replaces and prints one comparison table:
# keyring get hit and miss against git-credential-libsecret, file-store get (with 9,
# 1,000 and 10,000 items), store and a fill one item at a time against
# `git credential-store` on the same data, mint latency against a bare curl POST of the
# same request, 16 concurrent gets on an empty store (keyring and file) against one
# get alone, and with a shared store on a 3-member etcd cluster: a cached shared hit
# against a local hit, and 3 machines x 16 gets on an empty shared store against one mint. Everything runs side by side in one run, interleaved, inside a private
# D-Bus session with a throwaway gnome-keyring and the local CMA emulator; the user's own
# keyring and files are never touched.
#
#   bench/bench.sh [-n ROUNDS] [-b BUILD_DIR] [-c CASES] [-f COUNT] [-x COMMAND]
#
#   -n ROUNDS     measured rounds per case (default 30), after 3 warm-up rounds
#   -b BUILD_DIR  use the cstoken in BUILD_DIR/bin as built there; default: build an
#                 optimised one (RelWithDebInfo, like git's -O2 -g) in
#                 ${TMPDIR:-/tmp}/cstoken-bench-build
#   -c CASES      only these rows, e.g. -c '1 2' (default: 1 2 3 4 4b 5 5b 6 6m 7 7m 8 9
#                 10 11)
#   -f COUNT      items the fill row (9) stores one at a time (default 10000; it runs
#                 once, and takes minutes: every store of either tool rewrites the file)
#   -x COMMAND    instead of measuring, run COMMAND (bash) in the prepared sandbox: the
#                 keyring, the emulator and the seeded stores are up, $BENCH_CSTOKEN and
#                 $BENCH_LIBSECRET name the programs; e.g. for callgrind:
#                 -x 'printf "protocol=https\nhost=git.example.com\n\n" |
#                     valgrind --tool=callgrind $BENCH_CSTOKEN get'
#
# Not a test: it asserts only that every run answered correctly, and prints numbers.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = "--inside-session" ]; then
	# ---- second half: inside dbus-run-session ----
	export CSTOKEN_BIN_DIR=$BENCH_BIN_DIR CSTOKEN_SRC=$top
	. "$top/tests/lib/common.sh"
	cst_setup
	. "$top/tests/lib/emulator.sh"
	. "$top/tests/lib/etcd.sh"
	keyring_start
	emulator_start
	etcd_cluster

	email=bench@example.com pw='bench horse battery'
	export BENCH_API_KEY=blt00000000bench0000 BENCH_HIT_PASSWORD=s3cret-bench-pw
	export BENCH_WORK=$CST_TMP/bench BENCH_CSTOKEN=$BENCH_BIN_DIR/cstoken
	mkdir -p "$BENCH_WORK"
	emu_user "$email" "$pw"
	# room for every token the rounds create; each round starts from an empty stack anyway
	emu_stack "$BENCH_API_KEY" "$email" 1000
	emulator_config default "$BENCH_API_KEY" "$email"
	# the same stack through the shared store (cases 10, 11)
	emulator_config shared "$BENCH_API_KEY" "$email" 'shared = etcd' \
		"etcd_endpoints = $CST_ETCD_ENDPOINTS" 'shared_cache = 1h'
	export ETCDCTL_ENDPOINTS=${CST_ETCD_ENDPOINTS//, /,}

	# logged in twice: in the keyring (store = auto) and in a file store for the file mint
	export BENCH_MINT_STORE_FILE=$BENCH_WORK/mint-store/credentials
	export BENCH_MINT_STORE_SNAPSHOT=$BENCH_WORK/mint-store.snapshot
	printf '%s\n' "$pw" | cstoken login --password-stdin >/dev/null
	printf '%s\n' "$pw" | CSTOKEN_STORE=file CSTOKEN_STORE_FILE=$BENCH_MINT_STORE_FILE \
		cstoken login --password-stdin >/dev/null
	cp "$BENCH_MINT_STORE_FILE" "$BENCH_MINT_STORE_SNAPSHOT"

	# the same credentials in each store: the one to find and a few others
	export BENCH_CST_STORE_FILE=$BENCH_WORK/cst-store/credentials
	export BENCH_GIT_STORE_FILE=$BENCH_WORK/git-credentials
	cred() { # host user password
		printf 'protocol=https\nhost=%s\nusername=%s\npassword=%s\n\n' "$1" "$2" "$3"
	}
	seed() { # CMD...
		local i
		for i in 1 2 3 4 5 6 7 8; do
			cred "other$i.example.net" "user$i" "other-password-$i" | "$@" store >/dev/null
		done
		# git-credential-libsecret echoes what it stored
		cred git.example.com alice "$BENCH_HIT_PASSWORD" | "$@" store >/dev/null
	}
	seed cstoken
	seed "$BENCH_LIBSECRET"
	seed env CSTOKEN_STORE=file CSTOKEN_STORE_FILE="$BENCH_CST_STORE_FILE" cstoken
	seed git credential-store --file "$BENCH_GIT_STORE_FILE"

	if [ -n "${BENCH_EXEC:-}" ]; then
		# -x: the prepared sandbox for profiling, e.g. with valgrind --tool=callgrind
		export BENCH_ENV_FILE=$BENCH_WORK/env
		export -p >"$BENCH_ENV_FILE"
		bash -c "$BENCH_EXEC"
		exit
	fi
	"$PYTHON" "$top/bench/measure.py"
	exit
fi

# ---- first half: build both contenders, then start the session ----
rounds=30
build=
while getopts n:b:c:f:x:h opt; do
	case $opt in
	c) export BENCH_CASES=$OPTARG ;;
	f) export BENCH_FILL=$OPTARG ;;
	n) rounds=$OPTARG ;;
	b) build=$OPTARG ;;
	x) export BENCH_EXEC=$OPTARG ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || {
	echo "bench: -n wants a positive number, not '$rounds'" >&2
	exit 2
}
[[ ${BENCH_FILL:-4} =~ ^[1-9][0-9]*$ ]] && [ "${BENCH_FILL:-4}" -ge 4 ] || {
	echo "bench: -f wants a number of at least 4, not '$BENCH_FILL'" >&2
	exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/cstoken-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# git-credential-libsecret as Debian ships its source, built with its own Makefile
src=/usr/share/doc/git/contrib/credential/libsecret
[ -f "$src/git-credential-libsecret.c" ] || {
	echo "bench: '$src' is missing; install Debian's git package" >&2
	exit 1
}
cp "$src/Makefile" "$src/git-credential-libsecret.c" "$work/"
make -s -C "$work" >/dev/null
export BENCH_LIBSECRET=$work/git-credential-libsecret

if [ -z "$build" ]; then
	build=${TMPDIR:-/tmp}/cstoken-bench-build
	cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
		-DBUILD_PAM=OFF -DCSTOKEN_WERROR=OFF >/dev/null
	cmake --build "$build" --target cstoken -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
[ -x "$build/bin/cstoken" ] || {
	echo "bench: no cstoken in '$build/bin'; build it or pass -b BUILD_DIR" >&2
	exit 1
}
export BENCH_BIN_DIR=$(cd "$build/bin" && pwd) BENCH_ROUNDS=$rounds
echo "bench: cstoken from $BENCH_BIN_DIR, git-credential-libsecret from $src" >&2

dbus-run-session -- bash "$0" --inside-session
