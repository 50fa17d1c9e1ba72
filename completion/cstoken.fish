# fish completion for cstoken(1): commands, the options of each command, and profile names
# read from the [profile NAME] sections of the configuration ($CSTOKEN_CONFIG, else
# $XDG_CONFIG_HOME/cstoken/config).

# The configured profile names, one per line.
function __cstoken_profiles
    set -l conf $CSTOKEN_CONFIG
    if test -z "$conf"
        set -l base $XDG_CONFIG_HOME
        test -n "$base"; or set base $HOME/.config
        set conf $base/cstoken/config
    end
    test -r "$conf"; or return 0
    sed -n 's/^[[:space:]]*\[[[:space:]]*[Pp][Rr][Oo][Ff][Ii][Ll][Ee][[:space:]]\{1,\}\([^][:space:]]\{1,\}\)[[:space:]]*\].*/\1/p' \
        $conf 2>/dev/null
end

# True when the command line is past exec's "--": what follows is the command to run.
function __cstoken_exec_command
    set -l words (commandline -opc)
    contains -- exec $words; and contains -- -- $words
end

set -l commands get store erase init login logout token exec curl list revoke rotate status help
set -l nocmd "not __fish_seen_subcommand_from $commands"

complete -c cstoken -f
complete -c cstoken -n "not __cstoken_exec_command" -s p -l profile -x -a '(__cstoken_profiles)' -d 'use this profile'
complete -c cstoken -n "not __cstoken_exec_command" -s v -l verbose -d 'diagnostics on stderr, secrets redacted'
complete -c cstoken -n "not __cstoken_exec_command" -s h -l help -d 'show the help'
complete -c cstoken -n $nocmd -l version -d 'print the version'

complete -c cstoken -n $nocmd -a get -d 'answer a git credential request on stdin'
complete -c cstoken -n $nocmd -a store -d 'store a credential git sends on stdin'
complete -c cstoken -n $nocmd -a erase -d 'erase a credential git names on stdin'
complete -c cstoken -n $nocmd -a init -d 'set up a profile, log in and print the git line'
complete -c cstoken -n $nocmd -a login -d "log in and store the session's authtoken"
complete -c cstoken -n $nocmd -a logout -d 'end the session and forget the authtoken'
complete -c cstoken -n $nocmd -a token -d "print the profile's management token"
complete -c cstoken -n $nocmd -a exec -d 'run a command with the token in its environment'
complete -c cstoken -n $nocmd -a curl -d 'print a curl config carrying the token'
complete -c cstoken -n $nocmd -a list -d 'list stored items (no secrets)'
complete -c cstoken -n $nocmd -a revoke -d 'delete the token on the server and in the store'
complete -c cstoken -n $nocmd -a rotate -d 'replace the token by a new one'
complete -c cstoken -n $nocmd -a status -d 'show store, configuration, login and token state'
complete -c cstoken -n $nocmd -a help -d 'show the help of a command'

complete -c cstoken -n "__fish_seen_subcommand_from help" -a "$commands"

complete -c cstoken -n "__fish_seen_subcommand_from init" -l region -x -a 'na eu azure-na azure-eu gcp-na gcp-eu au' -d 'the region of the stack'
complete -c cstoken -n "__fish_seen_subcommand_from init" -l host -x -d 'the API host'
complete -c cstoken -n "__fish_seen_subcommand_from init" -l ca-file -r -F -d 'extra trusted CA certificates'
complete -c cstoken -n "__fish_seen_subcommand_from init" -l stack -x -d "the stack's name or api key"
complete -c cstoken -n "__fish_seen_subcommand_from init" -l branches -x -d 'the branches of the scope'
complete -c cstoken -n "__fish_seen_subcommand_from init" -l aliases -x -d 'the aliases of the scope'
complete -c cstoken -n "__fish_seen_subcommand_from init" -l permissions -x -a 'read read,write' -d "the token's permissions"
complete -c cstoken -n "__fish_seen_subcommand_from init" -l force -d 'replace an existing profile'
complete -c cstoken -n "__fish_seen_subcommand_from init login" -l email -x -d "the account's e-mail"
complete -c cstoken -n "__fish_seen_subcommand_from init login" -l password-stdin -d 'read the password from stdin'
complete -c cstoken -n "__fish_seen_subcommand_from login" -l oauth -d 'log in in a browser (OAuth, SSO)'
complete -c cstoken -n "__fish_seen_subcommand_from login" -l tfa-token -x -d 'the two-factor code'
complete -c cstoken -n "__fish_seen_subcommand_from login" -l sms -d 'have the two-factor code sent by SMS'
complete -c cstoken -n "__fish_seen_subcommand_from login" -l etcd -d 'log in to the shared store as etcd_user'
complete -c cstoken -n "__fish_seen_subcommand_from token exec curl; and not __cstoken_exec_command" -l min-ttl -x -a '30m 1h 2h 1d' -d 'the token must stay valid this long'
complete -c cstoken -n "__fish_seen_subcommand_from token" -l no-mint -d 'never mint; fail when nothing usable is stored'
complete -c cstoken -n "__fish_seen_subcommand_from token" -l porcelain -d 'print api_key=, token=, uid=, expiry=, minted= lines'
complete -c cstoken -n "__fish_seen_subcommand_from exec; and not __cstoken_exec_command" -l env -x -a '(string replace -r "=.*" "" -- (commandline -ct))=(printf "%s\n" token api_key host url region branch)' -d 'also set NAME to FIELD'
complete -c cstoken -n "__fish_seen_subcommand_from exec; and not __cstoken_exec_command" -a -- -d 'the command to run follows'
complete -c cstoken -n __cstoken_exec_command -x -a '(__fish_complete_subcommand --fcs-skip=(math (contains -i -- -- (commandline -opc))))'
complete -c cstoken -n "__fish_seen_subcommand_from list" -l remote -d "list the stack's tokens on the server"
complete -c cstoken -n "__fish_seen_subcommand_from list" -l json -d 'one JSON document'
complete -c cstoken -n "__fish_seen_subcommand_from revoke" -l uid -x -d 'the uid of the token to revoke'
