#!/usr/bin/env bash
# `cstoken status` sends a stored token only to the host it was minted for: after the
# profile's host changes, the new host never sees the old host's token.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup
mint_login
tok=$(cstoken token) || fail "token"
[ -n "$tok" ] || fail "no token minted"
a_host=$CST_EMU_HOST

# a second emulator, B, with its own CA; the profile now names it
b=$CST_TMP/emu-b
mkdir -p "$b"
"$PYTHON" "$CSTOKEN_SRC/tests/emulator/cma_emulator.py" --dir "$b" --port 0 >"$b/emulator.log" 2>&1 &
b_pid=$!
cst_on_exit "kill $b_pid 2>/dev/null; wait $b_pid 2>/dev/null"
wait_for _emulator_ready "$b" "$b_pid"
b_host=127.0.0.1:$(cat "$b/port")
sed -i -e "s|^host = .*|host = $b_host|" -e "s|^ca_file = .*|ca_file = $b/ca.pem|" \
	"$XDG_CONFIG_HOME/cstoken/config"

rc=0
out=$(cstoken status 2>&1) || rc=$?
reqs=$(curl -q -sS --fail --noproxy '*' --cacert "$b/ca.pem" "https://$b_host/_emu/requests")
assert_not_contains "$reqs" "$tok" "B's request log (headers included)"
n=$(printf '%s' "$reqs" | emu_json_get "len([r for r in (j['requests'] if isinstance(j, dict) else j) if 'authorization' in r['headers']])")
assert_eq 0 "$n" "requests to B with an authorization header"
assert_contains "$out" "host     $b_host" "status shows the new host"
assert_contains "$out" "not asked: the token is for $a_host, the profile now names $b_host" \
	"status says why the server was not asked"
assert_not_contains "$out" "$tok" "no token in status"
pass "status does not send a token minted for A to B"
