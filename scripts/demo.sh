#!/usr/bin/env bash
# A tour of cstoken on this machine, touching nothing of yours: installs what is missing,
# builds, starts a throwaway keyring and the bundled Contentstack API emulator, logs in, and
# shows git and curl getting a freshly minted management token, then the cached one.
# Every "$ ..." line it prints is the command it runs next, as it runs it.
#
#   CSTOKEN_BUILD_DIR=DIR      build directory (default: build)
#   CSTOKEN_DEMO_BIN_DIR=DIR   use the cstoken already built in DIR: no install, no build
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${CSTOKEN_BUILD_DIR:-$top/build}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# build_step CMD...: shows CMD and runs it, its output into the build log.
build_step() {
	printf '$ %s\n' "$*"
	if ! "$@" >>"$build/demo-build.log" 2>&1; then
		tail -n 20 "$build/demo-build.log" >&2
		echo "demo: the build failed; the whole log is $build/demo-build.log" >&2
		exit 1
	fi
}

if [ -n "${CSTOKEN_DEMO_BIN_DIR:-}" ]; then
	bin=$CSTOKEN_DEMO_BIN_DIR
else
	. "$top/scripts/deps.sh"
	say "Checking for the Debian packages cstoken needs (scripts/deps.sh)"
	install_missing
	say "Building cstoken in $build (a minute or two the first time; log: $build/demo-build.log)"
	mkdir -p "$build"
	build_step cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSTOKEN_WERROR=OFF
	build_step cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target cstoken
	bin=$build/bin
fi

export CSTOKEN_BIN_DIR=$bin CSTOKEN_SRC=$top

say "Starting a private D-Bus session with a throwaway gnome-keyring, and the API emulator"
# Everything below runs in that session.
exec dbus-run-session -- bash -s <<'DEMO'
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
cst_setup
keyring_start
emulator_start

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# run COMMAND_LINE: prints it, then runs exactly that line.
run() {
	printf '$ %s\n' "$1"
	eval "$1"
}

api_key=blt0123456789abcdef
emu_user alice@example.com 'correct horse battery staple'
emu_stack "$api_key" alice@example.com
emulator_config default "$api_key" alice@example.com 'branches = main' 'lifetime = 30d'
cd "$HOME"

say "A throwaway stack at $CST_EMU_HOST; cstoken's configuration:"
run "cat ~/.config/cstoken/config"

say "Log in once (the password comes from stdin here; on a terminal cstoken asks for it)"
run "printf '%s\n' 'correct horse battery staple' | cstoken login --password-stdin"

say "git asks for a credential: cstoken mints a scoped, expiring token (shown cut short)"
run "printf 'protocol=https\nhost=$CST_EMU_HOST\n\n' |
    git -c credential.https://$CST_EMU_HOST.helper=cstoken credential fill |
    sed 's/^password=\(.\{6\}\).*/password=\1…/'"
emu_ctl GET /_emu/state | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
for st in s["stacks"].values() if isinstance(s["stacks"], dict) else s["stacks"]:
    for t in st["tokens"]:
        print("   the stack now holds: %s (uid %s, expires %s)" % (t["name"], t["uid"], t.get("expires_on")))
'

say "curl gets the same token, from the keyring this time (no new token is minted)"
run "curl -sS -K <(cstoken curl) $CST_EMU_URL/v3/content_types"
echo
posts=$(emu_ctl GET /_emu/requests | "$PYTHON" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"].endswith("/management_tokens")))')
echo "   tokens minted so far: $posts"

say "Scripts: cstoken exec puts the token in the environment of one command"
run "cstoken exec -- sh -c 'echo \"api key \$CONTENTSTACK_API_KEY, token of \${#CONTENTSTACK_MANAGEMENT_TOKEN} characters\"'"

say "Done: the keyring, the emulator and every file of this demo are gone when it exits."
DEMO
