#!/usr/bin/env bash
# completion/_cstoken (zsh) and completion/cstoken.fish: each loads in its shell, offers the
# commands, options and configured profiles, and is installed where that shell looks.
# Both shells run for real: zsh's completion system on a pty (tests/lib/zsh_complete.zsh),
# fish's through `complete -C`.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
command -v zsh >/dev/null || fail "zsh is not installed (scripts/deps.sh lists it)"
command -v fish >/dev/null || fail "fish is not installed (scripts/deps.sh lists it)"

mkdir -p "$XDG_CONFIG_HOME/cstoken"
cat >"$XDG_CONFIG_HOME/cstoken/config" <<'EOC'
[profile staging]
api_key = blt1
[ Profile  prod-eu ]   ; a comment
region = eu
EOC
COMMANDS="curl erase exec get help init list login logout revoke rotate status store token"

# --- zsh --------------------------------------------------------------------------------------
zsh -n "$CSTOKEN_SRC/completion/_cstoken" || fail "zsh -n completion/_cstoken"
out=$(zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D
	print -r -- $_comps[cstoken] $_comps[git-credential-cstoken]
	autoload -Uz +X _cstoken && whence -w _cstoken' zsh "$CSTOKEN_SRC/completion") ||
	fail "zsh cannot load _cstoken: $out"
assert_eq "_cstoken _cstoken
_cstoken: function" "$out" "compinit registers _cstoken for both names"

zcheck() { # LINE EXPECTED
	assert_eq "$2" "$(timeout 20 zsh -f "$CSTOKEN_SRC/tests/lib/zsh_complete.zsh" \
		"$CSTOKEN_SRC/completion" "$1")" "zsh completion of '$1'"
}
zcheck "cstoken " "$COMMANDS"
zcheck "cstoken lo" "login logout"
zcheck "cstoken -p " "prod-eu staging"
zcheck "cstoken list --" "--help --json --profile --remote --verbose"
zcheck "cstoken token --m" "--min-ttl"
zcheck "cstoken help ro" "rotate"
zcheck "git-credential-cstoken er" "erase"
pass "zsh: _cstoken loads and completes commands, options and profiles"

# --- fish -------------------------------------------------------------------------------------
fish -n "$CSTOKEN_SRC/completion/cstoken.fish" || fail "fish -n completion/cstoken.fish"
fcheck() { # LINE EXPECTED
	assert_eq "$2" "$(fish --no-config -c 'source $argv[1]; complete -C$argv[2] | cut -f1 | sort | string join " "' \
		"$CSTOKEN_SRC/completion/cstoken.fish" "$1")" "fish completion of '$1'"
}
fcheck "cstoken " "$COMMANDS"
fcheck "cstoken lo" "login logout"
fcheck "cstoken -p " "prod-eu staging"
fcheck "cstoken list --" "--help --json --profile --remote --verbose"
fcheck "cstoken token --m" "--min-ttl"
fcheck "cstoken help ro" "rotate"
fcheck "cstoken exec --env X=" "X=api_key X=branch X=host X=region X=token X=url"
pass "fish: cstoken.fish loads and completes commands, options and profiles"

# --- installed where each shell looks ---------------------------------------------------------
: "${CSTOKEN_BUILD:?run through ctest}"
cmake --install "$CSTOKEN_BUILD" --prefix "$CST_TMP/inst" >/dev/null || fail "cmake --install"
for f in share/zsh/vendor-completions/_cstoken share/fish/vendor_completions.d/cstoken.fish \
	share/bash-completion/completions/cstoken; do
	[ -f "$CST_TMP/inst/$f" ] || fail "not installed: $f"
done
cmp "$CSTOKEN_SRC/completion/_cstoken" "$CST_TMP/inst/share/zsh/vendor-completions/_cstoken" ||
	fail "the installed zsh completion differs"
pass "installed: share/zsh/vendor-completions/_cstoken, share/fish/vendor_completions.d/cstoken.fish"
