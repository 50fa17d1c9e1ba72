#!/usr/bin/env bash
# pam_cstoken_test.so refuses to run a program that anyone but root could change: the
# file, or any directory from it up to /, group- or world-writable (sticky too) or not
# owned by root, also when reached through a symlink. It logs the path and the reason,
# sets nothing and returns PAM_IGNORE; the program never runs.
. "$CSTOKEN_SRC/tests/lib/common.sh"
. "$CSTOKEN_SRC/tests/pam/lib.sh"
pcs_setup

SECRET=cs_standin_secret_0123456789
RUN=$CST_TMP/runuser
mkdir -p "$RUN"
echo ok >"$HOME/standin.mode"

# place DIR MODE FILEMODE: a copy of the stand-in as DIR/standin, DIR made with MODE
place() {
	mkdir -p "$1"
	chmod "$2" "$1"
	install -m "$3" "$PCS_STANDIN" "$1/standin"
}
# refused PROGRAM WHAT REASON-TEXT: the module refuses PROGRAM, naming it and the reason
refused() {
	rm -f "$HOME/standin.calls"
	pcs_stack refused "test_program=$1 test_runtime_dir=$RUN"
	pcs_pam refused
	assert_eq PAM_SUCCESS "$(pcs_field open)" "$2: the stack still opens"
	assert_eq "" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "$2: no token"
	assert_eq "" "$(pcs_env CONTENTSTACK_API_KEY)" "$2: no api key"
	assert_contains "$(cat "$PCS_LOG")" "refusing to run '$1': $3" "$2: the log"
	[ ! -e "$HOME/standin.calls" ] || fail "$2: the program ran"
	pcs_pam refused-alone
	assert_eq PAM_PERM_DENIED "$(pcs_field open)" "$2: the module returns PAM_IGNORE"
}
accepted() { # PROGRAM WHAT
	pcs_stack accepted "test_program=$1 test_runtime_dir=$RUN"
	pcs_pam accepted
	assert_eq "$SECRET" "$(pcs_env CONTENTSTACK_MANAGEMENT_TOKEN)" "$2: token"
}

accepted "$PCS_STANDIN" "a program root alone can change"
ln -s standin "$PCS_BIN/alias"
accepted "$PCS_BIN/alias" "a symlink to it, beside it"
pass "a program that only root can change runs"

place "$PCS_BIN/gw" 755 775
refused "$PCS_BIN/gw/standin" "group-writable program" \
	"'$PCS_BIN/gw/standin' is writable by group or others"
place "$PCS_BIN/ow" 755 757
refused "$PCS_BIN/ow/standin" "world-writable program" \
	"'$PCS_BIN/ow/standin' is writable by group or others"
pass "a group- or world-writable program is refused"

place "$PCS_BIN/ww" 777 755
refused "$PCS_BIN/ww/standin" "world-writable directory" \
	"'$PCS_BIN/ww' is writable by group or others"
place "$PCS_BIN/st" 1777 755
refused "$PCS_BIN/st/standin" "sticky world-writable directory" \
	"'$PCS_BIN/st' is writable by group or others"
place "$PCS_BIN/gd" 775 755
place "$PCS_BIN/gd/sub" 755 755
refused "$PCS_BIN/gd/sub/standin" "group-writable directory higher up" \
	"'$PCS_BIN/gd' is writable by group or others"
tmpdir=$(realpath "$CST_TMP")
place "$tmpdir/bin" 755 755
refused "$tmpdir/bin/standin" "a program below /tmp" "'$(dirname "$tmpdir")' is writable by group or others"
ln -s "$tmpdir/bin/standin" "$PCS_BIN/elsewhere"
refused "$PCS_BIN/elsewhere" "a symlink out of the trusted tree" \
	"'$(dirname "$tmpdir")' is writable by group or others"
pass "a program in a directory anyone but root can change is refused, through symlinks too"

if [ "$(id -u)" -eq 0 ]; then
	place "$PCS_BIN/own" 755 755
	chown "$PCS_UID" "$PCS_BIN/own/standin"
	refused "$PCS_BIN/own/standin" "program owned by a user" \
		"'$PCS_BIN/own/standin' is not owned by root"
	place "$PCS_BIN/owndir" 755 755
	chown "$PCS_UID" "$PCS_BIN/owndir"
	refused "$PCS_BIN/owndir/standin" "directory owned by a user" \
		"'$PCS_BIN/owndir' is not owned by root"
	pass "a program or directory that a user owns is refused"
fi
