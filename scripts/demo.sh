#!/usr/bin/env bash
# A tour of cstoken on this machine, touching nothing of yours: installs what is missing,
# builds, starts a throwaway keyring and the bundled Contentstack API emulator, logs in, and
# shows git and curl getting a freshly minted management token, then the cached one.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${CSTOKEN_BUILD_DIR:-$top/build}
. "$top/scripts/deps.sh"

install_missing
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSTOKEN_WERROR=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target cstoken >/dev/null

export CSTOKEN_BIN_DIR=$build/bin CSTOKEN_SRC=$top

# Everything below runs in a private D-Bus session with its own gnome-keyring.
exec dbus-run-session -- bash -s <<'DEMO'
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/lib/emulator.sh"
cst_setup
keyring_start
emulator_start

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

api_key=blt0123456789abcdef
emu_user alice@example.com 'correct horse battery staple' >/dev/null
emu_stack "$api_key" alice@example.com >/dev/null
emulator_config default "$api_key" alice@example.com 'branches = main' 'lifetime = 30d'

say "A throwaway stack at $CST_EMU_HOST; cstoken's configuration:"
cat "$XDG_CONFIG_HOME/cstoken/config"

say "Log in once (the password comes from stdin here; normally cstoken asks for it)"
show "cstoken login --password-stdin"
printf '%s\n' 'correct horse battery staple' | cstoken login --password-stdin

say "git asks for a credential: cstoken mints a scoped, expiring token"
show "git credential fill   (credential.helper=cstoken)"
printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" |
	git -c credential.helper=cstoken credential fill | sed 's/^password=\(.\{6\}\).*/password=\1… (redacted)/'
emu_ctl GET /_emu/state | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
for st in s["stacks"].values() if isinstance(s["stacks"], dict) else s["stacks"]:
    for t in st["tokens"]:
        print("   the stack now holds: %s (uid %s, expires %s)" % (t["name"], t["uid"], t.get("expires_on")))
'

say "curl gets the same token, from the keyring this time (no new token is minted)"
show "curl -K <(cstoken curl) $CST_EMU_URL/v3/content_types"
curl -sS --cacert "$CST_EMU_CA" -K <(cstoken curl) "$CST_EMU_URL/v3/content_types"
echo
posts=$(emu_ctl GET /_emu/requests | "$PYTHON" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"].endswith("/management_tokens")))')
echo "   tokens minted so far: $posts"

say "Scripts: cstoken exec puts the token in the environment of one command"
show 'cstoken exec -- sh -c '\''echo "api key $CONTENTSTACK_API_KEY, token of ${#CONTENTSTACK_MANAGEMENT_TOKEN} characters"'\'''
cstoken exec -- sh -c 'echo "api key $CONTENTSTACK_API_KEY, token of ${#CONTENTSTACK_MANAGEMENT_TOKEN} characters"'

say "Done: the keyring, the emulator and every file of this demo are gone when it exits."
DEMO
