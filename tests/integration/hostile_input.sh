#!/usr/bin/env bash
# A catalogue of hostile requests for `cstoken get`, `store` and `erase` on the file store,
# with unrelated credentials stored first. Each request must end without a crash (exit 0, 1
# or 2), print nothing on stdout but key=value lines (store and erase: nothing at all), say
# at most one 'cstoken: ' line on stderr, and leave every unrelated credential as it was.
# Then a few exact answers: values that must survive a store/get round trip byte for byte,
# absurd expiry numbers, and the erase patterns that must not match everything.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
export CSTOKEN_STORE=file
STORE=$XDG_DATA_HOME/cstoken/credentials

helper() { # CMD LINE...: cstoken CMD with the lines on stdin
	local cmd=$1
	shift
	printf '%s\n' "$@" | cstoken "$cmd"
}

# --- the catalogue (tests/lib/hostile_credentials.py: fixed seeds), run and judged there ----
HOSTILE=$CSTOKEN_SRC/tests/lib/hostile_credentials.py
hostile_credentials() { "$PYTHON" "$HOSTILE" "$@"; }
hostile_credentials catalogue file || fail "hostile-input catalogue, file store"
# the same on a Secret Service, which takes only UTF-8 attributes
in_keyring env CSTOKEN_STORE=secret-service "$PYTHON" "$HOSTILE" catalogue secret-service ||
	fail "hostile-input catalogue, Secret Service"
pass "hostile-input catalogue on both stores: no crash, no malformed line, nothing unrelated lost"

# --- exact answers ------------------------------------------------------------------------
# the store keeps any bytes git may send (not LF, CR or NUL) exactly, invalid UTF-8 included
hostile_credentials roundtrip || fail "byte-exact round trips"
pass "values with invalid UTF-8, escapes and 60 kB survive store/get byte for byte"

# absurd expiry values: never echoed as garbage, never an expiry in the past of 1970
for v in -1 0 -9223372036854775808 9223372036854775808 99999999999999999999 abc 1e10 0x10; do
	helper store protocol=https host=expiry.example username=u "password=p$v" \
		"password_expiry_utc=$v"
	out=$(helper get protocol=https host=expiry.example username=u)
	case "$out" in
	*password_expiry_utc=*)
		e=${out##*password_expiry_utc=}
		[[ $e =~ ^[1-9][0-9]*$ ]] || fail "expiry '$v' answered as '$e'"
		;;
	esac
	assert_contains "$out" "password=p$v" "credential stored with expiry '$v'"
done
helper store protocol=https host=expiry.example username=u password=pmax \
	password_expiry_utc=9223372036854775807
assert_contains "$(helper get protocol=https host=expiry.example)" \
	"password_expiry_utc=9223372036854775807" "the largest expiry round trips"
pass "absurd password_expiry_utc values: ignored or kept exactly"

# erase: empty and partial patterns refuse or match narrowly; the seeds are all still there
n_before=$(grep -c '"kind"' "$STORE")
for req in '' 'protocol=https' 'host=github.com' 'username=alice' 'path=team/repo.git' \
	'protocol=' 'protocol=https\nhost='; do
	set +e
	printf "$req\n" | cstoken erase >/dev/null 2>&1
	set -e
done
assert_eq "$n_before" "$(grep -c '"kind"' "$STORE")" "items after broad erase attempts"
alice=$'username=alice\npassword=gh-alice-pw'
helper erase protocol=https host=github.com username=alice password=not-the-password
assert_eq "$alice" "$(helper get protocol=https host=github.com username=alice)" \
	"erase with a wrong password"
helper erase protocol=https host=github.com username=alice
assert_eq "" "$(helper get protocol=https host=github.com username=alice)" \
	"a precise erase does erase"
assert_eq $'username=bob\npassword=bob pw = with spaces\npassword_expiry_utc=4102444800' \
	"$(helper get protocol=https host=example.org path=team/repo.git)" \
	"the precise erase touched only its item"
pass "erase: empty and one-attribute patterns erase nothing; a precise one erases only its item"

# the store file is still one the next cstoken reads, and still private. Values that are
# not UTF-8 are kept as raw bytes inside the JSON strings (JSON has no way to spell a
# byte), so the structure is checked with those bytes passed through.
[ "$(stat -c %a "$STORE")" = 600 ] || fail "store mode $(stat -c %a "$STORE")"
store_file parse "$STORE" ||
	fail "the store is no longer JSON"
pass "the store file is intact and 0600"
