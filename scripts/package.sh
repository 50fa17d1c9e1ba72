#!/usr/bin/env bash
# Builds the Debian packages cstoken and libpam-cstoken (debian/, debhelper) in a copy of
# the tree, since dpkg-buildpackage writes into the parent directory, and puts the .deb,
# .changes and .buildinfo files into OUTDIR (default: build/debs). Installs the
# missing build dependencies first (as root; list: scripts/deps.sh).
#
#   scripts/package.sh [OUTDIR]
#   sudo apt install ./build/debs/cstoken_*.deb ./build/debs/libpam-cstoken_*.deb
#
# DEB_BUILD_OPTIONS passes through (e.g. "nocheck parallel=2"); without nocheck the whole
# test suite runs inside the build.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/debs}
out=$(mkdir -p "$out" && cd "$out" && pwd)

git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "package.sh: $top is not a git checkout; it packages the files git tracks" >&2; exit 1; }
. "$top/scripts/deps.sh"
install_missing

work=$(mktemp -d "${TMPDIR:-/tmp}/cstoken-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
# readable by all, like a checkout: the tests in the build run programs as other users
chmod 755 "$work"
src=$work/cstoken
mkdir "$src"
# the tracked files and the new ones not ignored, as they are in the working tree
(cd "$top" && git ls-files -z --cached --others --exclude-standard --deduplicate |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -xf - -C "$src"

(cd "$src" && dpkg-buildpackage -us -uc -b)
shopt -s nullglob
files=("$work"/*.deb "$work"/*.changes "$work"/*.buildinfo)
[ ${#files[@]} -gt 0 ] || { echo "package.sh: dpkg-buildpackage wrote no packages" >&2; exit 1; }
cp "${files[@]}" "$out/"
for f in "${files[@]}"; do
	echo "$out/$(basename "$f")"
done
