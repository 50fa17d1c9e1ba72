#!/usr/bin/env bash
# Real git talking to cstoken as credential.helper. CST_GC_PART picks what runs:
#   plain    approve/fill/reject round trips on both stores, a repeated store that writes
#            nothing, an erase that is too broad, hostile input that must fail cleanly
#            without losing what is stored
#   profile  a Contentstack profile host against the local API emulator: the not-logged-in
#            hint, git's store and reject of the management token it was given
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
part=${CST_GC_PART:-plain}

# git credential ACTION with the given lines on stdin, cstoken as the only helper
gitcred() {
	local action=$1
	shift
	printf '%s\n' "$@" | git -c credential.helper= -c credential.helper=cstoken \
		credential "$action"
}

# cstoken CMD with the given lines on stdin
helper() {
	local cmd=$1
	shift
	printf '%s\n' "$@" | cstoken "$cmd"
}

# The scenarios every store must pass; $1 names the store for messages.
round_trips() {
	local s=$1 out err rc

	gitcred approve protocol=https host=example.com username=alice password=pw-alice
	gitcred approve url=https://bob:pw%40bob@example.com
	out=$(gitcred fill protocol=https host=example.com username=alice)
	assert_contains "$out" "password=pw-alice" "$s: fill alice"
	out=$(gitcred fill url=https://bob@example.com/some/repo.git)
	assert_contains "$out" "password=pw@bob" "$s: fill bob (percent-decoded by git)"

	# a miss: get prints nothing at all, and git would have to prompt (and cannot)
	out=$(helper get protocol=https host=other.example)
	assert_eq "" "$out" "$s: get on a miss"
	if gitcred fill protocol=http host=example.com >/dev/null 2>&1; then
		fail "$s: fill for another protocol found something"
	fi

	# a request without host (or protocol) is answered by nothing, not by any credential
	out=$(helper get protocol=https)
	assert_eq "" "$out" "$s: get without host"
	out=$(helper get host=example.com username=alice)
	assert_eq "" "$out" "$s: get without protocol"

	# the helper's own answer: only key=value lines, nothing else
	out=$(helper get protocol=https host=example.com username=alice)
	assert_eq $'username=alice\npassword=pw-alice' "$out" "$s: get output"

	# url= requests parsed by cstoken itself, user info percent-decoded
	out=$(helper get 'url=https://b%6Fb@example.com')
	assert_eq $'username=bob\npassword=pw@bob' "$out" "$s: get with url="

	# expiry and refresh token survive the store (git 2.39 drops them, so talk directly)
	helper store protocol=https host=exp.example username=u password=p-exp \
		password_expiry_utc=4102444800 oauth_refresh_token=rt-1
	out=$(helper get protocol=https host=exp.example)
	assert_eq $'username=u\npassword=p-exp\npassword_expiry_utc=4102444800\noauth_refresh_token=rt-1' \
		"$out" "$s: expiry and oauth_refresh_token"

	# empty username is a value of its own
	helper store protocol=https host=sso.example username= password=
	out=$(helper get protocol=https host=sso.example)
	assert_eq $'username=\npassword=' "$out" "$s: empty username and password"

	# paths are kept apart when git sends them
	local pathcred=(git -c credential.helper= -c credential.helper=cstoken
		-c credential.useHttpPath=true credential)
	"${pathcred[@]}" approve <<<$'url=https://u@paths.example/a.git\npassword=pa'
	"${pathcred[@]}" approve <<<$'url=https://u@paths.example/b.git\npassword=pb'
	out=$("${pathcred[@]}" fill <<<$'url=https://paths.example/b.git')
	assert_contains "$out" "password=pb" "$s: fill by path b"
	out=$("${pathcred[@]}" fill <<<$'url=https://paths.example/a.git')
	assert_contains "$out" "password=pa" "$s: fill by path a"
	if "${pathcred[@]}" fill <<<$'url=https://paths.example/c.git' >/dev/null 2>&1; then
		fail "$s: fill for an unknown path found something"
	fi
	# without a path (git's default for https) either one answers
	out=$(helper get protocol=https host=paths.example)
	assert_contains "$out" "username=u" "$s: get without path"
	# a pathless reject takes only the item holding the rejected password
	gitcred reject protocol=https host=paths.example username=u password=pa
	out=$(helper get protocol=https host=paths.example path=a.git)
	assert_eq "" "$out" "$s: path a rejected"
	out=$(helper get protocol=https host=paths.example path=b.git)
	assert_eq $'username=u\npassword=pb' "$out" "$s: path b survives"

	# reject of a password that is not the stored one keeps the stored one
	gitcred reject protocol=https host=example.com username=alice password=stale
	out=$(helper get protocol=https host=example.com username=alice)
	assert_contains "$out" "password=pw-alice" "$s: reject of another password"
	# reject of the stored one removes exactly that user
	gitcred reject protocol=https host=example.com username=alice password=pw-alice
	out=$(helper get protocol=https host=example.com username=alice)
	assert_eq "" "$out" "$s: alice rejected"
	out=$(helper get protocol=https host=example.com username=bob)
	assert_contains "$out" "password=pw@bob" "$s: bob survives alice's reject"

	# erase without a host is refused and loses nothing
	rc=0
	err=$(helper erase protocol=https 2>&1 >/dev/null) || rc=$?
	assert_eq 1 "$rc" "$s: erase without host exit status"
	assert_contains "$err" "cstoken: 'erase' needs at least protocol and host" "$s: erase message"
	rc=0
	err=$(helper erase host=example.com username=bob 2>&1 >/dev/null) || rc=$?
	assert_eq 1 "$rc" "$s: erase without protocol exit status"
	out=$(helper get protocol=https host=example.com username=bob)
	assert_contains "$out" "password=pw@bob" "$s: bob survives refused erases"

	# hostile input: a CR in a value, a 1 MiB line, a NUL; each fails cleanly
	rc=0
	out=$(printf 'protocol=https\nhost=example.com\r\nusername=bob\n' | cstoken get 2>"$CST_TMP/err") ||
		rc=$?
	assert_eq 1 "$rc" "$s: get with CR exit status"
	assert_eq "" "$out" "$s: get with CR prints nothing"
	assert_eq 1 "$(wc -l <"$CST_TMP/err")" "$s: get with CR says one line"
	assert_contains "$(cat "$CST_TMP/err")" "carriage return" "$s: get with CR message"

	rc=0
	out=$({ printf 'protocol=https\nhost='; head -c $((1 << 20)) /dev/zero | tr '\0' h
		printf '\nusername=bob\n'; } | cstoken get 2>"$CST_TMP/err") || rc=$?
	assert_eq 1 "$rc" "$s: get with a 1 MiB line exit status"
	assert_eq "" "$out" "$s: get with a 1 MiB line prints nothing"
	assert_contains "$(cat "$CST_TMP/err")" "longer than" "$s: 1 MiB line message"

	rc=0
	out=$(printf 'protocol=https\nhost=example.com\0evil\n' | cstoken get 2>/dev/null) || rc=$?
	assert_eq 1 "$rc" "$s: get with NUL exit status"
	assert_eq "" "$out" "$s: get with NUL prints nothing"

	# hostile store and erase do nothing either
	rc=0
	printf 'protocol=https\nhost=example.com\nusername=bob\npassword=x\r\n' | cstoken store 2>/dev/null ||
		rc=$?
	assert_eq 1 "$rc" "$s: store with CR exit status"
	rc=0
	printf 'protocol=https\nhost=example.com\r\n' | cstoken erase 2>/dev/null || rc=$?
	assert_eq 1 "$rc" "$s: erase with CR exit status"
	out=$(helper get protocol=https host=example.com username=bob)
	assert_eq $'username=bob\npassword=pw@bob' "$out" "$s: bob survives hostile input"

	# a reject for the whole host removes every user of it, and nothing elsewhere
	gitcred reject protocol=https host=example.com
	out=$(helper get protocol=https host=example.com)
	assert_eq "" "$out" "$s: host forgotten"
	out=$(helper get protocol=https host=exp.example)
	assert_contains "$out" "password=p-exp" "$s: other host survives"
	pass "$s: round trips"
}
export -f round_trips gitcred helper
export CST_TMP

# --- a Contentstack profile --------------------------------------------------------------
if [ "$part" = profile ]; then
	. "$CSTOKEN_SRC/tests/integration/mint_lib.sh"
	mint_setup
	store_state() { stat -c '%i %y %z' "$MINT_STORE_FILE"; }

	# not logged in: no answer, one hint on stderr, success so git asks its next helper
	rc=0
	out=$(cred_get 2>"$CST_TMP/err") || rc=$?
	assert_eq 0 "$rc" "not logged in: exit status"
	assert_eq "" "$out" "not logged in: stdout"
	assert_eq "cstoken: not logged in to '$CST_EMU_HOST'; run 'cstoken login -p default'" \
		"$(cat "$CST_TMP/err")" "not logged in: hint"

	mint_login
	out=$(cred_get) || fail "get for the profile failed"
	tok=$(value password <<<"$out")
	[ -n "$tok" ] || fail "get for the profile gave no token"
	assert_eq "$MINT_KEY" "$(value username <<<"$out")" "profile get username"
	assert_eq 1 "$(token_posts)" "one token minted"

	# git stores what it was given after it worked: the token is already there
	before=$(store_state)
	gitcred approve protocol=https host="$CST_EMU_HOST" username="$MINT_KEY" password="$tok"
	assert_eq "$before" "$(store_state)" "store of the profile's own token wrote the store"

	# a request for another user of that host is a plain lookup
	out=$(helper get protocol=https host="$CST_EMU_HOST" username=someone-else)
	assert_eq "" "$out" "other username on the profile host"

	# a reject of some other password leaves the token alone
	gitcred reject protocol=https host="$CST_EMU_HOST" username="$MINT_KEY" password=not-it
	out=$(cred_get) || fail "get after a foreign reject failed"
	assert_eq "$tok" "$(value password <<<"$out")" "token kept after a foreign reject"
	assert_eq 1 "$(token_posts)" "no mint after a foreign reject"

	# git rejects the token: it is forgotten locally, never revoked on the server
	gitcred reject protocol=https host="$CST_EMU_HOST" username="$MINT_KEY" password="$tok"
	assert_eq false "$(emu_py /_emu/requests "any(r['method'] == 'DELETE' for r in $MINT_REQS)")" \
		"reject revoked a token on the server"
	out=$(cred_get) || fail "get after the reject failed"
	tok2=$(value password <<<"$out")
	[ -n "$tok2" ] && [ "$tok2" != "$tok" ] || fail "the rejected token was answered again"
	assert_eq 2 "$(token_posts)" "a fresh token is minted after the reject"
	pass "profile: hint, store and reject of the management token"
	exit 0
fi

export CSTOKEN_CONFIG=$CST_TMP/no-config

# --- file store -------------------------------------------------------------------------
export CSTOKEN_STORE=file CSTOKEN_STORE_FILE=$CST_TMP/store/credentials
round_trips file

# an unchanged store (git sends one after every success) leaves the file alone
gitcred approve protocol=https host=same.example username=u password=same
before=$(stat -c '%i %y %z' "$CSTOKEN_STORE_FILE")
gitcred approve protocol=https host=same.example username=u password=same
helper store protocol=https host=same.example username=u password=same
after=$(stat -c '%i %y %z' "$CSTOKEN_STORE_FILE")
assert_eq "$before" "$after" "file: unchanged store rewrote the file"
# while a changed one does write
gitcred approve protocol=https host=same.example username=u password=changed
after=$(stat -c '%i %y %z' "$CSTOKEN_STORE_FILE")
[ "$before" != "$after" ] || fail "file: a changed password was not written"
out=$(helper get protocol=https host=same.example)
assert_contains "$out" "password=changed" "file: changed password"
# nothing secret leaks into what the store lists or into stderr of a verbose run
err=$(printf 'protocol=https\nhost=same.example\n' | cstoken -v get 2>&1 >/dev/null)
assert_not_contains "$err" "changed" "file: verbose get stderr"
pass "file: unchanged store writes nothing"

# --- Secret Service store ---------------------------------------------------------------
keyring_checks() {
	export CSTOKEN_STORE=secret-service
	unset CSTOKEN_STORE_FILE
	round_trips secret-service
	# the file store was not touched by the keyring run
	[ ! -e "$XDG_DATA_HOME/cstoken/credentials" ] || fail "keyring run wrote the file store"
	# an unchanged store does not rewrite the keyring
	gitcred approve protocol=https host=same.example username=u password=same
	local kr=$XDG_DATA_HOME/keyrings/login.keyring before after
	before=$(stat -c '%i %y' "$kr")
	gitcred approve protocol=https host=same.example username=u password=same
	after=$(stat -c '%i %y' "$kr")
	assert_eq "$before" "$after" "secret-service: unchanged store rewrote the keyring"
	pass "secret-service: unchanged store writes nothing"
}
export -f keyring_checks
in_keyring keyring_checks
