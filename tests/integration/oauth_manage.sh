#!/usr/bin/env bash
# Minting, rotate, revoke and list --remote work with an OAuth session exactly as with an
# authtoken; every management-token call carries "authorization: Bearer" and organization_uid.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
. "$CSTOKEN_SRC/tests/lib/oauth.sh"
oauth_setup
oauth_login

# env_status TOKEN: the HTTP status the emulator gives TOKEN on a content call.
env_status() {
	curl -q -sS --noproxy '*' --cacert "$CST_EMU_CA" -o /dev/null -w '%{http_code}' \
		-H "api_key: $OAUTH_KEY" -H "authorization: $1" "$CST_EMU_URL/v3/environments"
}

emu_ctl DELETE /_emu/requests >/dev/null
tok=$(cstoken token) || fail "token"
assert_eq 200 "$(env_status "$tok")" "the minted token works"
uid=$(cstoken list --json | emu_json_get '[i["uid"] for i in j["items"] if i["kind"] == "token"][0]')

err=$(cstoken rotate 2>&1) || fail "rotate: $err"
new=$(cstoken token --no-mint) || fail "token after rotate"
[ -n "$new" ] && [ "$new" != "$tok" ] || fail "rotate stored no new token"
assert_eq 200 "$(env_status "$new")" "the rotated token works"
assert_eq 401 "$(env_status "$tok")" "the old token is gone after rotate"
pass "rotate with an OAuth session"

out=$(cstoken list --remote) || fail "list --remote: $out"
assert_not_contains "$out" "$uid" "list --remote after rotate"
err=$(cstoken revoke 2>&1) || fail "revoke: $err"
assert_eq 401 "$(env_status "$new")" "the token is revoked on the server"
assert_eq "oauth" "$(oauth_kinds)" "revoke leaves only the session"
pass "revoke and list --remote with an OAuth session"

calls=$(emu_ctl GET "/_emu/requests?path=$MINT_TOKENS" | emu_json_get '"\n".join("%s %s" % (r["headers"].get("authorization", "none")[:6], r["headers"].get("organization_uid", "none")) for r in j)')
assert_eq "Bearer blt0000000000000000" "$(printf '%s\n' "$calls" | sort -u)" \
	"every management-token call: Bearer and the session's organization"
pass "every management-token call carries the OAuth session's headers"

# --- an organisation whose policy refuses OAuth tokens here: a clear error, not a hang ------------
emu_ctl POST /_emu/faults '{"path": "/v3/stacks/management_tokens", "responses": [{"status": 401, "body": {"error_message": "You are not allowed to perform this action.", "error_code": 105}}]}' >/dev/null
assert_exit 1 "refused OAuth session" cstoken token
assert_contains "$out" "refused the OAuth session: You are not allowed to perform this action" "refused OAuth session: the error"
assert_contains "$out" "run 'cstoken login --oauth'" "refused OAuth session: the fix"
pass "an OAuth session the server refuses for tokens is a clear error"
