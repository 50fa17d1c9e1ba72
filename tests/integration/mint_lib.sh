# Shared by the mint*.sh and token_cmds.sh tests (sourced after common.sh and cst_setup):
# the emulator with one user owning one stack, cstoken configured for it on the file store.
. "$CSTOKEN_SRC/tests/lib/emulator.sh"

MINT_EMAIL=alice@example.com
MINT_PW='correct horse battery'
MINT_KEY=blt0123456789abcdef
MINT_TOKENS=/v3/stacks/management_tokens

# mint_setup [INI LINES...]: emulator, user, stack and the default profile with the lines given.
mint_setup() {
	emulator_start
	emu_user "$MINT_EMAIL" "$MINT_PW" >/dev/null
	emu_stack "$MINT_KEY" "$MINT_EMAIL" >/dev/null
	emulator_config default "$MINT_KEY" "$MINT_EMAIL" "$@"
	export CSTOKEN_STORE=file
	MINT_STORE_FILE=$XDG_DATA_HOME/cstoken/credentials
}

mint_login() {
	printf '%s\n' "$MINT_PW" | cstoken login --password-stdin >/dev/null 2>&1 ||
		fail "cstoken login failed"
}

# emu_py PATH PYTHON-EXPRESSION: evaluates the expression with j = GET PATH's JSON answer
# (a string prints bare, anything else as JSON).
emu_py() {
	emu_ctl GET "$1" | json_tool get "$2"
}

# The /v3 requests the emulator received, as a list (whatever envelope it uses).
MINT_REQS='(j["requests"] if isinstance(j, dict) else j)'

# token_posts: how many management tokens cstoken asked the emulator to create.
token_posts() {
	emu_py /_emu/requests "len([r for r in $MINT_REQS if r['method'] == 'POST' and r['path'] == '$MINT_TOKENS'])"
}

# cred_get [WRAPPER...]: `cstoken get` for the emulator host, run through WRAPPER (e.g. faketime).
cred_get() {
	printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" | "$@" cstoken get
}

# ftime OFFSET CMD...: CMD under faketime. libfaketime is preloaded ahead of the sanitizer
# runtime in CSTOKEN_SANITIZE builds, which ASan accepts once told not to check the order.
ftime() {
	local offset=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" faketime "$offset" "$@"
}

# value KEY < key=value lines
value() {
	sed -n "s/^$1=//p"
}

# The name cstoken gives tokens by default.
mint_default_name() {
	echo "cstoken $(id -un)@$(hostname | cut -d. -f1) ${1:-default}"
}

# The stack's live tokens in GET /_emu/state (for emu_py expressions).
MINT_STATE_TOKENS="j['stacks']['$MINT_KEY']['tokens']"
