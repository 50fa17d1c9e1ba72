# Shared by the shared_*.sh tests (sourced after common.sh and cst_setup): the emulator with
# one user owning one stack, a 3-member etcd cluster, and "machines": homes of their own
# (config, local store, login) that all point at the same stack and the same cluster.
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
. "$CSTOKEN_SRC/tests/lib/etcd.sh"

# shared_setup [tls]: emulator, user, stack, cluster.
shared_setup() {
	emulator_start
	emu_user "$MINT_EMAIL" "$MINT_PW" >/dev/null
	emu_stack "$MINT_KEY" "$MINT_EMAIL" >/dev/null
	etcd_cluster "$@"
	export CSTOKEN_STORE=file
}

# machine NAME [INI LINES...]: a home for NAME whose default profile uses the shared store
# (its e-mail MACHINE_EMAIL, default the stack owner's).
machine() {
	local name=$1
	shift
	(
		_machine_env "$name"
		mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
		emulator_config default "$MINT_KEY" "${MACHINE_EMAIL:-$MINT_EMAIL}" 'shared = etcd' \
			"etcd_endpoints = $CST_ETCD_ENDPOINTS" 'etcd_claim_ttl = 3s' "$@"
	)
}

_machine_env() {
	export HOME=$CST_TMP/m-$1
	export XDG_CONFIG_HOME=$HOME/.config XDG_DATA_HOME=$HOME/.local/share
	export XDG_CACHE_HOME=$HOME/.cache
}

# on NAME CMD...: CMD on machine NAME.
on() {
	local name=$1
	shift
	(
		_machine_env "$name"
		"$@"
	)
}

# fails_on NAME STATUS WHAT CMD...: CMD on NAME exits STATUS; what it said goes to $err.
fails_on() {
	local name=$1 want=$2 what=$3 rc=0
	shift 3
	err=$(on "$name" "$@" 2>&1 >/dev/null) || rc=$?
	assert_eq "$want" "$rc" "exit status $what"
}

# login_on NAME: NAME logs in to Contentstack.
login_on() {
	on "$1" mint_login
}

# gets_on NAME N: N parallel gets on NAME, answers in $CST_TMP/NAME.out.I; fails if one fails.
gets_on() {
	local name=$1 n=$2 i pids=()
	for i in $(seq 1 "$n"); do
		on "$name" cred_get >"$CST_TMP/$name.out.$i" 2>"$CST_TMP/$name.err.$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" ||
			fail "get $((i + 1)) on $name failed: $(cat "$CST_TMP/$name.err.$((i + 1))")"
	done
}

# etcd_token: the token published in the shared store ("" when none).
etcd_value() {
	etcd_ctl get --prefix /cstoken/ --print-value-only 2>/dev/null | grep '"token"' || true
}

# mint_held NAME [SECONDS]: `cstoken token` on NAME in the background ($minter its pid, its
# output in $CST_TMP/NAME.out and NAME.err), its token creation held by the emulator until
# mint_release (or for SECONDS, when the hold itself is what is tested); returns once that
# creation has reached the emulator.
mint_held() {
	local fault='{"hold":"create"}'
	[ -n "${2:-}" ] && fault="{\"delay\":$2}"
	emu_ctl POST /_emu/faults \
		"{\"method\":\"POST\",\"path\":\"$MINT_TOKENS\",\"responses\":[$fault]}" >/dev/null
	(
		_machine_env "$1"
		exec cstoken token >"$CST_TMP/$1.out" 2>"$CST_TMP/$1.err"
	) &
	minter=$!
	wait_for _posts_are 1
}
# mint_release: the held creation goes on.
mint_release() { emu_ctl POST /_emu/release '{"hold":"create"}' >/dev/null; }
_posts_are() { [ "$(token_posts)" = "$1" ]; }
