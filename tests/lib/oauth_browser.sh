#!/usr/bin/env bash
# A BROWSER stand-in for `cstoken login --oauth` against the emulator: takes the authorize URL
# cstoken opens, moves the single-page app's fragment route (#!/apps/ID/authorize) in front of
# the query, fetches it (the emulator approves at once and redirects to the app's redirect with
# ?code=…&location=NA), then fetches that redirect: cstoken's loopback listener.
# OAUTH_BROWSER_MODE changes what it does (default ok):
#   ok               as above
#   wrong_code       delivers another code than the one the emulator gave
#   replay           spends the code at the token endpoint first, then delivers it
#   wrong_challenge  asks the emulator with another code_challenge (the verifier will not fit)
#   expire           moves the emulator's clock 61 s on before delivering the code
#   print            only writes the redirect to $OAUTH_BROWSER_OUT (for a paste-back)
# Writes what it did to $OAUTH_BROWSER_LOG, and its own and its parent's argv to
# $OAUTH_BROWSER_ARGV, when set. Needs CST_EMU_CA and CST_EMU_URL.
set -eu
url=$1
if [ -n "${OAUTH_BROWSER_ARGV:-}" ]; then # the argv of the stand-in and of cstoken, which started it
	{ tr '\0' ' ' </proc/$$/cmdline; echo; tr '\0' ' ' </proc/$PPID/cmdline; echo; } >>"$OAUTH_BROWSER_ARGV"
fi
mode=${OAUTH_BROWSER_MODE:-ok}
log=${OAUTH_BROWSER_LOG:-/dev/null}
query=${url#*\?}
query=${query%%#*}
route=${url#*#!}
base=${url%%/\?*}
if [ "$mode" = wrong_challenge ]; then
	query=$(printf '%s' "$query" | sed 's/code_challenge=[^&]*/code_challenge=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/')
fi
curl=(curl -q -sS --noproxy '*' --cacert "$CST_EMU_CA")
redirect=$("${curl[@]}" -o /dev/null -w '%{redirect_url}' "$base$route?$query")
echo "redirect ${redirect%%\?*}" >>"$log"
[ -n "$redirect" ] || { echo "oauth_browser: no redirect from the authorize page" >&2; exit 1; }
echo "$redirect" | grep -q 'code=' || mode=deliver
code=${redirect#*code=}
code=${code%%&*}
case $mode in
wrong_code)
	redirect=${redirect/code=$code/code=0123456789abcdef0123456789abcdef}
	;;
replay)
	"${curl[@]}" -o /dev/null -d grant_type=authorization_code -d "code=$code" \
		-d redirect_uri="${OAUTH_BROWSER_REDIRECT:?}" -d client_id="${OAUTH_BROWSER_CLIENT:?}" \
		-d code_verifier=not-the-verifier "$CST_EMU_URL/token"
	;;
expire)
	"${curl[@]}" -o /dev/null -H 'Content-Type: application/json' \
		-d '{"offset_seconds": 61}' "$CST_EMU_URL/_emu/clock"
	;;
print)
	printf '%s\n' "$redirect" >"${OAUTH_BROWSER_OUT:?}"
	exit 0
	;;
esac
curl -q -sS --noproxy '*' -o /dev/null -w '%{http_code}\n' "$redirect" >>"$log"
