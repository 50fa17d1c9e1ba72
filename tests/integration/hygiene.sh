#!/usr/bin/env bash
# Secret hygiene, end to end against the emulator on the file store:
#  - with -v, no command prints the password, the authtoken or a management token on stderr
#    (and nothing but `token`, `get`, `curl` and exec's CMD ever sees the token on stdout)
#  - a password is never taken from argv, and a refused one is not echoed
#  - what cstoken starts (exec's CMD) and how git starts cstoken carry no secret in argv, and
#    CMD's environment holds only the management token
#  - the store is 0600 in a 0700 directory whatever the umask, and a readable one is refused
#  - a running cstoken has core dumps off and is not dumpable
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"

mint_setup 'branches = development'
umask 000 # the store must not depend on a careful umask

# every secret seen so far, for no_secrets
SECRETS=("$MINT_PW")
no_secrets() { # TEXT WHAT
	local s
	for s in "${SECRETS[@]}"; do
		assert_not_contains "$1" "$s" "$2"
	done
}

# run_v NAME CMD...: runs `cstoken -v CMD...` with stdin from $IN (default /dev/null);
# stderr goes to $err, stdout to $out; fails unless it exits 0.
IN=/dev/null
run_v() {
	local name=$1 rc=0
	shift
	cstoken -v "$@" <"$IN" >"$CST_TMP/out" 2>"$CST_TMP/err" || rc=$?
	out=$(cat "$CST_TMP/out")
	err=$(cat "$CST_TMP/err")
	[ "$rc" = 0 ] || fail "$name: exit $rc: $err"
	no_secrets "$err" "$name: verbose stderr"
}

# --- -v never shows a secret -----------------------------------------------------------------
printf '%s\n' "$MINT_PW" >"$CST_TMP/pw"
IN=$CST_TMP/pw run_v login login --password-stdin
authtoken=$(emu_ctl GET /_emu/state | emu_json_get "j['users']['$MINT_EMAIL']['authtokens'][0]")
[ -n "$authtoken" ] || fail "no authtoken in the emulator"
SECRETS+=("$authtoken")
no_secrets "$err" "login: verbose stderr, with the authtoken"
no_secrets "$out" "login: stdout"

run_v token token
tok=$out
[ -n "$tok" ] && SECRETS+=("$tok")
[ "$(token_posts)" = 1 ] || fail "token did not mint"
no_secrets "$err" "token (minting): verbose stderr"
assert_contains "$err" "cstoken: debug: " "token: -v gives diagnostics"
run_v "token (stored)" token
assert_eq "$tok" "$out" "token (stored)"

printf 'protocol=https\nhost=%s\n\n' "$CST_EMU_HOST" >"$CST_TMP/req"
IN=$CST_TMP/req run_v "get (stored)" get
assert_contains "$out" "password=$tok" "get answers the token"
assert_contains "$err" "cstoken: debug: " "get: -v gives diagnostics"
IN=$CST_TMP/req run_v "store (the token)" store
IN=/dev/null run_v curl curl
run_v list list
no_secrets "$out" "list: stdout"
run_v "list --json" list --json
no_secrets "$out" "list --json: stdout"
run_v "list --remote" list --remote
no_secrets "$out" "list --remote: stdout"
run_v status status
no_secrets "$out" "status: stdout"
run_v exec exec -- true

run_v rotate rotate
new=$(cstoken token)
[ "$new" != "$tok" ] || fail "rotate kept the token"
SECRETS+=("$new")
no_secrets "$err" "rotate: verbose stderr, with the new token"
IN=$CST_TMP/req run_v "get (after rotate)" get
assert_contains "$out" "password=$new" "get after rotate"

# a plain git credential's password and refresh token are secrets too
printf 'protocol=https\nhost=git.example\nusername=u\npassword=plain-secret-pw\noauth_refresh_token=plain-secret-rt\n\n' \
	>"$CST_TMP/plain"
SECRETS+=(plain-secret-pw plain-secret-rt)
IN=$CST_TMP/plain run_v "store (plain)" store
printf 'protocol=https\nhost=git.example\n\n' >"$CST_TMP/plainq"
IN=$CST_TMP/plainq run_v "get (plain)" get
assert_contains "$out" "password=plain-secret-pw" "get (plain)"
IN=$CST_TMP/plain run_v "erase (plain)" erase

# a failing mint: the error and the diagnostics name no secret either
emu_ctl POST /_emu/faults "{\"method\": \"POST\", \"path\": \"$MINT_TOKENS\", \"responses\": [{\"status\": 500, \"process\": true}]}" >/dev/null
set +e
cstoken -v rotate >/dev/null 2>"$CST_TMP/err"
set -e
err=$(cat "$CST_TMP/err")
assert_contains "$err" "HTTP 500" "rotate against a 500"
no_secrets "$err" "failed rotate: verbose stderr"
emu_ctl DELETE /_emu/faults >/dev/null
tok=$(cstoken token)
SECRETS+=("$tok")

IN=/dev/null run_v revoke revoke
IN=/dev/null run_v logout logout
pass "-v: no password, authtoken or token on stderr of login, token, get, store, erase, curl, list, status, exec, rotate, revoke, logout"

# --- never in argv -------------------------------------------------------------------------
SECRETS+=(argv-secret-pw)
for args in "--password=argv-secret-pw" "--password argv-secret-pw" "argv-secret-pw" \
	"--password-stdin --email=a@b.c argv-secret-pw" "--token=$tok" "--authtoken=$authtoken" \
	"--email=a@b.c --password=argv-secret-pw"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(cstoken login $args </dev/null 2>&1 >/dev/null) || rc=$?
	assert_eq 2 "$rc" "login with a secret in argv: a usage error"
	assert_eq 1 "$(wc -l <<<"$err")" "one line for a secret in argv"
	no_secrets "$err" "the usage error for a secret in argv"
done
for cmd in token rotate revoke status list curl; do
	rc=0
	err=$(cstoken "$cmd" "--password=argv-secret-pw" 2>&1 >/dev/null) || rc=$?
	assert_eq 2 "$rc" "$cmd --password=...: a usage error"
	assert_contains "$err" "'--password=...'" "$cmd: the option is named, its value not"
	no_secrets "$err" "$cmd: usage error for --password=..."
done
pass "a password in argv is refused, and not echoed"

printf '%s\n' "$MINT_PW" | cstoken login --password-stdin 2>/dev/null || fail "login again"
authtoken=$(emu_ctl GET /_emu/state | emu_json_get "j['users']['$MINT_EMAIL']['authtokens'][-1]")
SECRETS+=("$authtoken")
tok=$(cstoken token)
SECRETS+=("$tok")

# exec's CMD: the token in its environment by design, nothing else secret, nothing in argv
cstoken exec -- sh -c 'tr "\0" "\n" </proc/$$/environ >"$1"; tr "\0" " " </proc/$$/cmdline >"$2"' \
	sh "$CST_TMP/environ" "$CST_TMP/cmdline" || fail "exec"
assert_contains "$(cat "$CST_TMP/environ")" "CONTENTSTACK_MANAGEMENT_TOKEN=$tok" "CMD's environment"
assert_contains "$(cat "$CST_TMP/cmdline")" "sh -c" "CMD's cmdline was read"
no_secrets "$(cat "$CST_TMP/cmdline")" "CMD's /proc/PID/cmdline"
no_secrets "$(grep -v "^CONTENTSTACK_MANAGEMENT_TOKEN=" "$CST_TMP/environ")" \
	"CMD's environment besides CONTENTSTACK_MANAGEMENT_TOKEN"

# git starts the helper: a recording wrapper sees git's argv and environment for it
mkdir -p "$CST_TMP/wrap"
cat >"$CST_TMP/wrap/git-credential-recorder" <<EOF
#!/bin/sh
{ tr '\0' ' ' </proc/\$\$/cmdline; echo; } >>"$CST_TMP/wrap/argv"
tr '\0' '\n' </proc/\$\$/environ >>"$CST_TMP/wrap/environ"
exec cstoken "\$@"
EOF
chmod 755 "$CST_TMP/wrap/git-credential-recorder"
gitcred() {
	PATH=$CST_TMP/wrap:$PATH git -c credential.helper= -c credential.helper=recorder credential "$@"
}
out=$(printf 'url=https://%s\n\n' "$CST_EMU_HOST" | gitcred fill) || fail "git credential fill"
assert_contains "$out" "password=$tok" "git fill through the recorder"
printf 'url=https://u:git-secret-pw@git.example/r\n\n' | gitcred approve
SECRETS+=(git-secret-pw)
out=$(printf 'url=https://u@git.example/r\n\n' | gitcred fill) || fail "git fill of a plain one"
assert_contains "$out" "password=git-secret-pw" "git fill of a plain credential"
printf 'url=https://u:git-secret-pw@git.example/r\n\n' | gitcred reject
assert_eq 4 "$(wc -l <"$CST_TMP/wrap/argv")" "helper invocations recorded"
assert_contains "$(cat "$CST_TMP/wrap/argv")" "recorder get" "the helper's argv was read"
no_secrets "$(cat "$CST_TMP/wrap/argv")" "git's helper argv"
no_secrets "$(cat "$CST_TMP/wrap/environ")" "git's helper environment"
pass "no secret in the argv of exec's CMD or of git's helper, nor in their environment (but the token in CMD's)"

# --- the store's permissions -------------------------------------------------------------------
assert_eq 700 "$(stat -c %a "$(dirname "$MINT_STORE_FILE")")" "store directory mode (umask 000)"
assert_eq 600 "$(stat -c %a "$MINT_STORE_FILE")" "store file mode (umask 000)"
assert_eq "$(id -u)" "$(stat -c %u "$MINT_STORE_FILE")" "store file owner"
if [ -e "$MINT_STORE_FILE.lock" ]; then
	assert_eq 600 "$(stat -c %a "$MINT_STORE_FILE.lock")" "lock file mode (umask 000)"
fi
chmod 640 "$MINT_STORE_FILE"
rc=0
err=$(cstoken token --no-mint 2>&1 >/dev/null) || rc=$?
assert_eq 1 "$rc" "token from a group-readable store"
assert_contains "$err" "chmod 600" "the refusal says what to do"
chmod 600 "$MINT_STORE_FILE"
chmod 755 "$(dirname "$MINT_STORE_FILE")"
printf 'protocol=https\nhost=x.example\npassword=p\n\n' | cstoken store ||
	fail "store into a 0755 directory (only writable by its owner)"
chmod 775 "$(dirname "$MINT_STORE_FILE")"
rc=0
err=$(printf 'protocol=https\nhost=x.example\n\n' | cstoken get 2>&1) || rc=$?
assert_eq 1 "$rc" "get from a group-writable directory"
assert_contains "$err" "chmod 700" "the refusal says what to do"
chmod 700 "$(dirname "$MINT_STORE_FILE")"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$MINT_STORE_FILE"
	rc=0
	err=$(cstoken token --no-mint 2>&1 >/dev/null) || rc=$?
	assert_eq 1 "$rc" "token from a store owned by someone else"
	assert_contains "$err" "not by you" "foreign owner refusal"
	chown 0 "$MINT_STORE_FILE"
fi
assert_eq "$tok" "$(cstoken token --no-mint)" "the store still answers once repaired"
pass "the store is 0600 in 0700 under umask 000; open, group-writable and foreign stores are refused"

# --- a running cstoken: no core dumps, not dumpable ----------------------------------------------
# `get` waits on stdin (a FIFO held open here) in its read(2); /proc tells the rest.
mkfifo "$CST_TMP/fifo"
exec 3<>"$CST_TMP/fifo"
in_read() { # PID: blocked in read(2) on fd 0
	local s
	s=$(cat "/proc/$1/syscall" 2>/dev/null) || return 1
	case "$s" in "0 0x0 "*) return 0 ;; *) return 1 ;; esac
}
# start_blocked CMD...: runs CMD with a raisable core limit, stdin on the FIFO; sets $bpid
start_blocked() {
	(
		ulimit -S -c "$(ulimit -H -c)"
		exec "$@" <&3
	) &
	bpid=$!
	cst_on_exit "kill $bpid 2>/dev/null"
	wait_for in_read "$bpid"
}
core_soft() { awk '/^Max core file size/ { print $5 }' "/proc/$1/limits"; }

start_blocked cat
control_core=$(core_soft "$bpid")
kill "$bpid"
wait "$bpid" 2>/dev/null || true
start_blocked cstoken get
assert_eq 0 "$(core_soft "$bpid")" "cstoken's soft core limit (cat had $control_core)"
assert_eq 0 "$(awk '/^Max core file size/ { print $6 }' "/proc/$bpid/limits")" \
	"cstoken's hard core limit"
kill "$bpid"
wait "$bpid" 2>/dev/null || true

# dumpable: /proc/PID/* of a non-dumpable process belongs to root, whoever runs it
if [ "$(id -u)" = 0 ] && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CSTOKEN_BIN_DIR/cstoken" --version \
		>/dev/null 2>&1; then
	nobody=(env -i PATH=/usr/bin:/bin HOME=/nonexistent CSTOKEN_CONFIG=/nonexistent/config
		CSTOKEN_STORE=file setpriv --reuid=65534 --regid=65534 --clear-groups)
	start_blocked "${nobody[@]}" cat
	assert_eq 65534 "$(stat -c %u "/proc/$bpid/environ")" "owner of /proc/PID/environ of a dumpable process"
	kill "$bpid"
	wait "$bpid" 2>/dev/null || true
	start_blocked "${nobody[@]}" "$CSTOKEN_BIN_DIR/cstoken" get
	assert_eq 0 "$(stat -c %u "/proc/$bpid/environ")" "owner of /proc/PID/environ of cstoken (not dumpable)"
	kill "$bpid"
	wait "$bpid" 2>/dev/null || true
	pass "cstoken is not dumpable (checked as uid 65534)"
elif [ "$(id -u)" != 0 ]; then
	start_blocked cstoken get
	if cat "/proc/$bpid/environ" >/dev/null 2>&1; then
		fail "cstoken's /proc/PID/environ is readable: it is dumpable"
	fi
	kill "$bpid"
	wait "$bpid" 2>/dev/null || true
	pass "cstoken is not dumpable (its environ is closed to its own user)"
fi
exec 3>&-
pass "core dumps off"
