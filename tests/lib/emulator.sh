# The local Contentstack CMA emulator (tests/emulator/cma_emulator.py) for end-to-end tests.
# Source after tests/lib/common.sh; call after cst_setup, or call emulator_sandbox for both.
# The emulator's interface (endpoints, control API, faults) is documented at the top of
# cma_emulator.py.

# emulator_sandbox: the test's sandbox (cst_setup) with the emulator started and the file
# store chosen; ALICE and PW are the e-mail and password of the usual test user.
emulator_sandbox() {
	cst_setup
	emulator_start
	export CSTOKEN_STORE=file
	ALICE=alice@example.com
	PW='correct horse battery'
}

# emulator_start: starts the emulator on an ephemeral port, waits until it is ready, stops it
# when the test ends. Exports CST_EMU_DIR, CST_EMU_HOST (127.0.0.1:PORT), CST_EMU_CA,
# CST_EMU_URL (https://127.0.0.1:PORT). Its log is $CST_EMU_DIR/emulator.log.
emulator_start() {
	: "${CST_TMP:?emulator_start needs cst_setup first}"
	local dir=$CST_TMP/emu pid
	mkdir -p "$dir"
	"$PYTHON" "$CSTOKEN_SRC/tests/emulator/cma_emulator.py" --dir "$dir" --port 0 \
		>"$dir/emulator.log" 2>&1 &
	pid=$!
	cst_on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	CST_EMU_PID=$pid
	wait_for _emulator_ready "$dir" "$pid"
	CST_EMU_DIR=$dir
	CST_EMU_HOST=127.0.0.1:$(cat "$dir/port")
	CST_EMU_CA=$dir/ca.pem
	CST_EMU_URL=https://$CST_EMU_HOST
	export CST_EMU_DIR CST_EMU_HOST CST_EMU_CA CST_EMU_URL CST_EMU_PID
}

_emulator_ready() { # dir pid
	[ -s "$1/port" ] && return 0
	if ! kill -0 "$2" 2>/dev/null; then
		cat "$1/emulator.log" >&2 || true
		fail "the emulator exited before it was ready"
	fi
	return 1
}

# emu_ctl METHOD PATH [JSON]: calls the emulator (control API or /v3) with curl, prints the
# response body; fails on an HTTP error (the body still goes to stdout).
emu_ctl() {
	local method=$1 path=$2
	local args=(-q -sS --fail-with-body --noproxy '*' --cacert "$CST_EMU_CA" -X "$method")
	if [ $# -ge 3 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$3")
	fi
	curl "${args[@]}" "$CST_EMU_URL$path"
}

# _emu_json KEY VALUE...: a JSON object of strings (values safely escaped).
_emu_json() {
	json_tool object "$@"
}

# emu_user EMAIL PASSWORD [TFA_BASE32_SECRET]: creates (or updates) a user.
emu_user() {
	local json
	if [ $# -ge 3 ] && [ -n "$3" ]; then
		json=$(_emu_json email "$1" password "$2" tfa_secret "$3")
	else
		json=$(_emu_json email "$1" password "$2")
	fi
	emu_ctl POST /_emu/users "$json" >/dev/null
}

# emu_stack API_KEY OWNER_EMAIL [LIMIT]: creates (or updates) a stack owned by OWNER_EMAIL.
emu_stack() {
	local json
	json=$(_emu_json api_key "$1" owner "$2")
	if [ $# -ge 3 ] && [ -n "$3" ]; then
		[[ $3 =~ ^[0-9]+$ ]] || fail "emu_stack: limit '$3' is not a number"
		json="${json%\}}, \"limit\": $3}"
	fi
	emu_ctl POST /_emu/stacks "$json" >/dev/null
}

# emu_json_get EXPR: reads JSON on stdin and prints the Python expression EXPR evaluated with
# the document as `j`, e.g. `emu_ctl GET /_emu/state | emu_json_get 'len(j["stacks"]["k"]["tokens"])'`.
# Strings print bare, everything else as JSON.
emu_json_get() {
	json_tool get "$1"
}

# emulator_config [PROFILE] API_KEY EMAIL [EXTRA_INI_LINES...]: writes (or replaces) the
# section [profile PROFILE] (default "default") of $XDG_CONFIG_HOME/cstoken/config pointing
# at the emulator. PROFILE is taken as given when a third argument without '=' follows.
emulator_config() {
	local profile=default file=$XDG_CONFIG_HOME/cstoken/config line tmp
	if [ $# -ge 3 ] && [[ $3 != *=* ]]; then
		profile=$1
		shift
	fi
	[ $# -ge 2 ] || fail "usage: emulator_config [PROFILE] API_KEY EMAIL [KEY = VALUE...]"
	: "${CST_EMU_HOST:?emulator_config needs emulator_start first}"
	mkdir -p "$(dirname "$file")"
	touch "$file"
	tmp=$file.tmp
	# drop an existing section of the same name, keep everything else
	awk -v hdr="[profile $profile]" '
		/^[ \t]*\[/ { skip = ($0 == hdr) }
		!skip { print }' "$file" >"$tmp"
	{
		[ -s "$tmp" ] && echo
		echo "[profile $profile]"
		echo "host = $CST_EMU_HOST"
		echo "ca_file = $CST_EMU_CA"
		echo "api_key = $1"
		echo "email = $2"
		shift 2
		for line in "$@"; do
			echo "$line"
		done
	} >>"$tmp"
	mv "$tmp" "$file"
}

# emu_totp BASE32_SECRET [OFFSET_SECONDS [UNIX_TIME]]: prints the RFC 6238 code (30 s, 6
# digits) of now, or of UNIX_TIME, plus the offset.
emu_totp() {
	"$PYTHON" "$CSTOKEN_SRC/tests/lib/totp.py" "$1" "${2:-0}" ${3:+"$3"}
}

# Usable from nested shells too (in_keyring sources only common.sh).
export -f emu_ctl _emu_json emu_user emu_stack emu_json_get emulator_config emu_totp
