# OAuth logins against the emulator (its OAuth part is documented in cma_emulator.py): source
# after tests/lib/common.sh and tests/lib/emulator.sh.
OAUTH_STANDIN=$CSTOKEN_SRC/tests/lib/oauth_browser.sh
OAUTH_KEY=blt0123456789abcdef
OAUTH_CLIENT=Ie0FEfTzlfAHL4xM

# oauth_setup [INI LINES...]: the emulator sandbox with alice owning a stack and approving
# OAuth logins, a free loopback port registered as the app's redirect (OAUTH_PORT,
# OAUTH_REDIRECT), the default profile with auth = oauth and that redirect, the file store.
oauth_setup() {
	emulator_sandbox
	emu_user "$ALICE" "$PW"
	emu_stack "$OAUTH_KEY" "$ALICE"
	OAUTH_PORT=$("$PYTHON" "$CSTOKEN_SRC/tests/lib/free_port.py")
	OAUTH_REDIRECT=http://localhost:$OAUTH_PORT
	emu_ctl POST /_emu/oauth "$(_emu_json user "$ALICE" redirect "$OAUTH_REDIRECT")" >/dev/null
	emulator_config "$OAUTH_KEY" "$ALICE" "auth = oauth" "oauth_redirect = $OAUTH_REDIRECT" "$@"
	OAUTH_BROWSER_LOG=$CST_TMP/browser.log
	OAUTH_BROWSER_REDIRECT=$OAUTH_REDIRECT
	OAUTH_BROWSER_CLIENT=$OAUTH_CLIENT
	export OAUTH_PORT OAUTH_REDIRECT OAUTH_BROWSER_LOG OAUTH_BROWSER_REDIRECT OAUTH_BROWSER_CLIENT
	unset DISPLAY WAYLAND_DISPLAY BROWSER
}

# oauth_login [ARGS...]: `cstoken login --oauth` with the BROWSER stand-in; stderr in
# $CST_TMP/login.err; fails the test unless it logs in.
oauth_login() {
	BROWSER=$OAUTH_STANDIN cstoken login --oauth "$@" 2>"$CST_TMP/login.err" ||
		fail "login --oauth: $(cat "$CST_TMP/login.err")"
}

# oauth_kinds: the kinds of the stored items, one a line.
oauth_kinds() {
	cstoken list --json | emu_json_get '"\n".join(i["kind"] for i in j["items"])'
}

# oauth_grants GRANT: how many POST /token with that grant_type the emulator received.
oauth_grants() {
	emu_ctl GET '/_emu/requests?path=/token' |
		emu_json_get "len([r for r in j if 'grant_type=$1' in (r['body'] or '')])"
}
