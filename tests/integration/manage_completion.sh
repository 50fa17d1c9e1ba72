#!/usr/bin/env bash
# completion/cstoken.bash: commands, per-command options and profile names from the config.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup

mkdir -p "$XDG_CONFIG_HOME/cstoken"
cat >"$XDG_CONFIG_HOME/cstoken/config" <<'EOC'
[cstoken]
default_profile = staging

[profile staging]
api_key = blt1
[ Profile  prod-eu ]   ; a comment
region = eu
[profile dev]
EOC

# complete LINE: the sorted, space-separated COMPREPLY for the cursor at the end of LINE
# (a trailing space means a new, empty word), computed in a fresh bash.
complete_line() {
	bash -c '
		. "$CSTOKEN_SRC/completion/cstoken.bash"
		line=$1
		read -ra COMP_WORDS <<<"$line"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line COMP_POINT=${#line}
		_cstoken cstoken "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | xargs' complete_line "$1"
}

check() { # LINE EXPECTED
	assert_eq "$2" "$(complete_line "$1")" "completion of '$1'"
}

# the function is registered for both names
out=$(bash -c '. "$CSTOKEN_SRC/completion/cstoken.bash"; complete -p cstoken git-credential-cstoken')
assert_contains "$out" "-F _cstoken cstoken" "complete -p cstoken"
assert_contains "$out" "-F _cstoken git-credential-cstoken" "complete -p git-credential-cstoken"

check "cstoken " "curl erase exec get help init list login logout revoke rotate status store token"
check "cstoken r" "revoke rotate"
check "cstoken lo" "login logout"
check "cstoken --v" "--verbose --version"
pass "commands and global options"

check "cstoken list --" "--help --json --profile --remote --verbose"
check "cstoken list --r" "--remote"
check "cstoken revoke --" "--force --help --profile --uid --verbose"
check "cstoken token --no" "--no-mint"
check "cstoken login --" "--email --etcd --help --oauth --password-stdin --profile --sms --tfa-token --verbose"
check "cstoken -v -p dev list --j" "--json"
check "cstoken revoke --uid " ""
check "cstoken status --" "--help --profile --verbose"
check "cstoken init --p" "--password-stdin --permissions --profile"
check "cstoken init --region a" "au azure-eu azure-na"
check "cstoken init --permissions r" "read read,write"
check "cstoken init --stack " ""
pass "options per command"

check "cstoken -p " "dev prod-eu staging"
check "cstoken --profile s" "staging"
check "cstoken token -p p" "prod-eu"
check "cstoken --profile = d" "dev"
check "cstoken --profile=p" "--profile=prod-eu"
check "cstoken -p dev r" "revoke rotate"
pass "profile names from \$XDG_CONFIG_HOME/cstoken/config"

cat >"$CST_TMP/other.conf" <<'EOC'
[profile ci]
EOC
CSTOKEN_CONFIG=$CST_TMP/other.conf check "cstoken -p " "ci"
CSTOKEN_CONFIG=$CST_TMP/missing check "cstoken -p " ""
XDG_CONFIG_HOME=$CST_TMP/nowhere check "cstoken -p " ""
pass "CSTOKEN_CONFIG and a missing file"

check "cstoken exec -- printf" "printf"
pass "exec completes the command after --"

check "cstoken exec --" "-- --env --help --min-ttl --profile --verbose"
check "cstoken curl --" "--help --min-ttl --profile --verbose"
check "cstoken token --m" "--min-ttl"
check "cstoken token --min-ttl " "1d 1h 2h 30m"
check "cstoken exec --env " ""
check "cstoken exec --env TOKEN=t" "TOKEN=token"
check "cstoken exec --env TF_VAR_x = " "api_key branch host region token url"
check "cstoken exec --env X=token --min-ttl 1h -- printf" "printf"
pass "--min-ttl and exec --env"
