# bash completion for cstoken(1) and git-credential-cstoken.
# Commands, the options of each command, and profile names read from the [profile NAME]
# sections of the configuration ($CSTOKEN_CONFIG, else $XDG_CONFIG_HOME/cstoken/config).

# The configured profile names, one per line.
_cstoken_profiles()
{
	local conf=${CSTOKEN_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/cstoken/config}
	[[ -r $conf ]] || return 0
	sed -n 's/^[[:space:]]*\[[[:space:]]*[Pp][Rr][Oo][Ff][Ii][Ll][Ee][[:space:]]\{1,\}\([^][:space:]]\{1,\}\)[[:space:]]*\].*/\1/p' \
		"$conf" 2>/dev/null
}

_cstoken()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= before= cmd= i w
	local commands='get store erase init login logout token exec curl list revoke rotate status'
	local global='-p --profile -v --verbose -h --help'
	local opts

	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	((COMP_CWORD > 1)) && before=${COMP_WORDS[COMP_CWORD - 2]}
	COMPREPLY=()

	# the command name, skipping global options and their values; after "--" of exec,
	# complete the command to run
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-p | --profile)
			((i++))
			;;
		--profile=* | -p?* | -v | --verbose) ;;
		--)
			if [[ $cmd == exec ]]; then
				if declare -F _command_offset >/dev/null; then
					_command_offset $((i + 1))
				else
					mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
				fi
				return 0
			fi
			;;
		=)
			# COMP_WORDBREAKS split "--profile=NAME"
			;;
		*)
			if [[ -z $cmd && $w != -* && ${COMP_WORDS[i - 1]} != = ]]; then
				cmd=$w
			fi
			;;
		esac
	done

	# a profile name after -p, --profile or --profile=
	if [[ $prev == -p || $prev == --profile ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_cstoken_profiles)" -- "$cur")
		return 0
	fi
	if [[ $prev == = && $before == --profile ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_cstoken_profiles)" -- "$cur")
		return 0
	fi
	if [[ $cur == --profile=* ]]; then
		mapfile -t COMPREPLY < <(compgen -P --profile= -W "$(_cstoken_profiles)" -- "${cur#--profile=}")
		return 0
	fi
	# options that take a free-form value
	case $prev in
	--email | --tfa-token | --uid | --host | --stack | --branches | --aliases) return 0 ;;
	--region)
		mapfile -t COMPREPLY < <(compgen -W 'na eu au azure-na azure-eu gcp-na gcp-eu' -- "$cur")
		return 0
		;;
	--permissions)
		mapfile -t COMPREPLY < <(compgen -W 'read read,write' -- "$cur")
		return 0
		;;
	--ca-file)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	--min-ttl)
		mapfile -t COMPREPLY < <(compgen -W '30m 1h 2h 1d' -- "$cur")
		return 0
		;;
	esac
	# exec --env NAME=FIELD: the field after '=' (a word of its own when '=' breaks words)
	local fields='token api_key host url region branch'
	if [[ $prev == --env && $cur == *=* ]]; then
		mapfile -t COMPREPLY < <(compgen -P "${cur%%=*}=" -W "$fields" -- "${cur#*=}")
		return 0
	fi
	if [[ $prev == = ]] && ((COMP_CWORD > 2)) && [[ ${COMP_WORDS[COMP_CWORD - 3]} == --env ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$fields" -- "$cur")
		return 0
	fi
	[[ $prev == --env ]] && return 0

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$global --version" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands help" -- "$cur")
		fi
		return 0
	fi

	case $cmd in
	init) opts='--region --host --ca-file --email --stack --branches --aliases --permissions --password-stdin --force' ;;
	login) opts='--email --password-stdin --tfa-token --sms --etcd --oauth' ;;
	token) opts='--min-ttl --no-mint --porcelain' ;;
	exec) opts='--min-ttl --env --' ;;
	curl) opts='--min-ttl' ;;
	list) opts='--remote --json' ;;
	revoke) opts='--uid --force' ;;
	*) opts= ;;
	esac
	if [[ $cur == -* || $cmd == exec ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts $global" -- "$cur")
	fi
	return 0
}

complete -F _cstoken cstoken git-credential-cstoken
