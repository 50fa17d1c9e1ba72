# zsh -f zsh_complete.zsh FPATH_DIR LINE: the candidates zsh's completion system offers at
# the end of LINE, sorted, one line. Drives a real interactive zsh on a pty (zsh/zpty) with
# compinit and FPATH_DIR first in $fpath; a widget wraps compadd to print what is added.
zmodload zsh/zpty
local fdir=$1 line=$2 out= chunk
zpty z zsh -f -i
zpty -w z "PROMPT=''; fpath=(${(q)fdir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "_show() { local -a c; compadd() { builtin compadd -O c \"\$@\"; (( \${#c} )) && print -rl -- '' \"\${c[@]/#/C:}\" >/dev/tty; builtin compadd \"\$@\"; }; _main_complete; unfunction compadd; print -r -- 'C:''END' >/dev/tty; }; zle -C show-completions complete-word _show; bindkey '^T' show-completions"
zpty -w -n z "$line"$'\x14'
# the marker is split in the typed text, so only the widget's output ends the loop
while zpty -r z chunk; do
	out+=$chunk
	[[ $out == *C:END* ]] && break
done
zpty -d z
print -r -- ${(o)${(u)${${(M)${(f)out//$'\r'/}:#C:*}#C:}:#END}}
