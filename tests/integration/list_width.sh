#!/usr/bin/env bash
# `cstoken list` fits 80 columns, wider only when the output's width says so: COLUMNS, else
# the terminal's (TIOCGWINSZ on stdout). Cells cut short end in an ellipsis; the UID stays whole.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
export CSTOKEN_STORE=file

long_host=git.a-rather-long-host-name-for-a-table-cell.example.com
long_user=somebody-with-a-long-login-name@example.com
printf 'protocol=https\nhost=%s\nusername=%s\npassword=pw\n\n' "$long_host" "$long_user" |
	cstoken store || fail "store of a credential"
printf 'protocol=https\nhost=git.example.com\nusername=bob\npassword=pw2\n\n' |
	cstoken store || fail "store of a second credential"

# widest LINES: the length of the longest line, in characters
widest() {
	"$PYTHON" "$CSTOKEN_SRC/tests/lib/columns.py" widest <<<"$1"
}

# --- not a terminal, no COLUMNS: 80 -----------------------------------------------------------
out=$(cstoken list) || fail "list: $out"
[ "$(widest "$out")" -le 80 ] || fail "a line longer than 80 columns: $out"
head=$(head -n1 <<<"$out")
for col in KIND PROFILE HOST STACK USER NAME UID EXPIRES SOURCE; do
	assert_contains "$head" "$col" "the header at 80 columns"
done
assert_contains "$out" "git.a-ra" "a long host is cut, not dropped"
assert_contains "$out" "…" "a cut cell ends in an ellipsis"
assert_not_contains "$out" "$long_host" "the long host at 80 columns"
# still aligned: the second row's EXPIRES starts where the header's does
col=$(awk 'NR == 1 { print index($0, "EXPIRES") }' <<<"$out")
assert_eq never "$("$PYTHON" "$CSTOKEN_SRC/tests/lib/columns.py" word 3 "$col" <<<"$out")" \
	"EXPIRES column aligned"
pass "list at 80 columns: every line fits, cut cells end in an ellipsis, columns aligned"

# --- COLUMNS ----------------------------------------------------------------------------------
out=$(COLUMNS=200 cstoken list) || fail "list with COLUMNS=200"
assert_contains "$out" "$long_host" "the long host at 200 columns"
assert_contains "$out" "$long_user" "the long user at 200 columns"
assert_not_contains "$out" "…" "nothing cut at 200 columns"
[ "$(widest "$out")" -gt 80 ] || fail "COLUMNS=200 did not widen the table: $out"
pass "COLUMNS widens the table"

# --- a terminal: its width -------------------------------------------------------------------
pty_list() { # COLS: list on a terminal of that width
	pty_dialog --cols "$1" -- cstoken list
}
out=$(pty_list 200) || fail "list on a 200-column terminal: $out"
assert_contains "$out" "status=0" "exit status of list on a terminal"
assert_contains "$out" "$long_host" "the long host on a 200-column terminal"
assert_not_contains "$out" "…" "nothing cut on a 200-column terminal"
out=$(pty_list 80) || fail "list on an 80-column terminal: $out"
assert_not_contains "$out" "$long_host" "the long host on an 80-column terminal"
[ "$(widest "$(grep -v '^status=' <<<"$out")")" -le 80 ] || fail "a line longer than 80 on an 80-column terminal: $out"
pass "on a terminal, list takes the terminal's width"
