#!/usr/bin/env bash
# Installs what is missing (Debian/Ubuntu, as root), builds with warnings as errors and
# runs the whole test suite through CTest: once normally and once under ASan+UBSan,
# then a short libFuzzer run of every fuzz/ target (clang).
#
#   scripts/test.sh            everything
#   CSTOKEN_NO_SANITIZE=1 scripts/test.sh   skip the sanitizer pass
#   CSTOKEN_NO_FUZZ=1 scripts/test.sh       skip the libFuzzer smoke pass
#   CSTOKEN_BUILD_DIR=DIR      build directory (default: build)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${CSTOKEN_BUILD_DIR:-$top/build}
jobs=$(nproc 2>/dev/null || echo 2)

. "$top/scripts/deps.sh"

# git's own credential-helper suite (t0303) runs from Debian's git source package.
fetch_git_source() {
	local dest=$build/git-src tmp tarball uri
	[ -f "$dest/t/t0303-credential-external.sh" ] && return 0
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && apt-get source --download-only git >/dev/null 2>&1); then
		if [ "$(id -u)" -ne 0 ]; then
			echo "test.sh: cannot fetch git's source package (needs a deb-src entry)" >&2
			exit 1
		fi
		uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
		uri=${uri:-http://deb.debian.org/debian}
		suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
		cat >/etc/apt/sources.list.d/cstoken-deb-src.sources <<SRC
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		apt-get update -q
		(cd "$tmp" && apt-get source --download-only git >/dev/null)
	fi
	tarball=$(ls "$tmp"/git_*.orig.tar.* | head -n1)
	mkdir -p "$dest"
	tar -xf "$tarball" -C "$dest" --strip-components=1 --wildcards '*/t/*'
	rm -rf "$tmp"
	# test-lib.sh only checks that these exist; t0303 never runs them
	printf "SHELL_PATH='/bin/sh'\nPERL_PATH='/usr/bin/perl'\nDIFF='diff'\nTAR='tar'\nX=''\n" \
		>"$dest/GIT-BUILD-OPTIONS"
	mkdir -p "$dest/templates/blt" "$dest/t/helper"
	printf '#!/bin/sh\nexit 1\n' >"$dest/t/helper/test-tool"
	chmod +x "$dest/t/helper/test-tool"
}

run_suite() {
	local dir=$1
	shift
	cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCSTOKEN_WERROR=ON \
		-DCSTOKEN_GIT_SOURCE="$build/git-src" "$@"
	cmake --build "$dir" -j "$jobs"
	(cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

install_missing
mkdir -p "$build"
fetch_git_source
run_suite "$build"
if [ -z "${CSTOKEN_NO_SANITIZE:-}" ]; then
	# verify_asan_link_order=0: faketime and the cwrap libraries are preloaded before
	# the sanitizer runtime, which is harmless for them
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
		LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_suite "$build/asan" -DCSTOKEN_SANITIZE=ON
fi
if [ -z "${CSTOKEN_NO_FUZZ:-}" ]; then
	# a few thousand inputs per target over the seed corpus: seconds, not a fuzzing campaign
	cmake -S "$top" -B "$build/fuzz" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DCSTOKEN_FUZZ=ON -DBUILD_PAM=OFF
	cmake --build "$build/fuzz" --target fuzz -j "$jobs"
	(cd "$build/fuzz" && ctest -L fuzz --output-on-failure -j "$jobs")
fi
