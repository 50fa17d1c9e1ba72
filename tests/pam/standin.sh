#!/bin/sh
# Stands in for cstoken in the PAM tests (test_program= of pam_cstoken_test.so). It runs
# with the module's clean environment as the target user; it records its argv and
# environment under $HOME and behaves as $HOME/standin.mode says. With the FIFOs of
# pam_driver's --reap-* in $HOME, it meets the driver's reaping thread before it answers.
set -u
echo "$*" >>"$HOME/standin.calls"
env | sort >"$HOME/standin.env"
mode=ok
[ -f "$HOME/standin.mode" ] && mode=$(cat "$HOME/standin.mode")
if [ -p "$HOME/reap.ready" ]; then
	printf r >"$HOME/reap.ready"
	head -c1 "$HOME/reap.go" >/dev/null
fi
if [ "${1:-}" = revoke ]; then
	[ "$mode" = revoke-fail ] && { echo "cstoken: cannot revoke" >&2; exit 1; }
	exit 0
fi
case $mode in
ok)
	printf 'api_key=blt_standin_key\ntoken=cs_standin_secret_0123456789\nuid=blt_standin_uid\nexpiry=0\nminted=0\n'
	;;
minted | revoke-fail)
	printf 'api_key=blt_standin_key\ntoken=cs_standin_secret_0123456789\nuid=blt_minted_uid\nexpiry=1900000000\nminted=1\n'
	;;
fail)
	echo "cstoken: not logged in; run 'cstoken login'" >&2
	exit 1
	;;
garbage)
	echo "hello"
	;;
ok-exit3)
	# the whole answer, then a failure: the answer is what counts
	printf 'api_key=blt_standin_key\ntoken=cs_standin_secret_0123456789\nuid=blt_standin_uid\nexpiry=0\nminted=0\n'
	exit 3
	;;
unfinished-exit3)
	# every field, but the answer stops before its final minted= line
	printf 'minted=0\napi_key=blt_standin_key\ntoken=cs_standin_secret_0123456789\nuid=blt_standin_uid\nexpiry=0\n'
	exit 3
	;;
truncated-exit3)
	printf 'api_key=blt_standin_key\ntoken=cs_standin_secret_0123456789\nuid=blt_standin_uid\nexp'
	exit 3
	;;
hang)
	# a grandchild that keeps stdout open, as a stuck helper process would
	sleep 120 &
	echo $! >"$HOME/standin.grandchild"
	sleep 120
	;;
noisy)
	# chatter on stderr beyond the module's cap, then a good answer
	head -c 100000 /dev/zero | tr '\0' 'n' >&2
	printf 'api_key=blt_standin_key\ntoken=cs_standin_secret_0123456789\nuid=blt_standin_uid\nexpiry=0\nminted=0\n'
	;;
flood)
	head -c 100000 /dev/zero | tr '\0' 'x'
	;;
esac
