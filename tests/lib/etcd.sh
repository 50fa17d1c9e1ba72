# A real 3-member etcd v3 cluster on loopback for the shared-store tests (TESTING.md, "An
# etcd v3 cluster on loopback"). Source after tests/lib/common.sh and cst_setup.
#
# etcd_cluster [tls]: starts members 1..3 on free ports, waits until every one is healthy,
# stops them when the test ends. Exports CST_ETCD_ENDPOINTS ("URL, URL, URL"), and for
# tls CST_ETCD_CA, CST_ETCD_CERT, CST_ETCD_KEY (a throwaway CA, and a client certificate
# it signed) and CST_ETCD_OTHER_CA (a CA that signed nothing).
# etcd_stop I / etcd_start I: kills member I (SIGKILL) / starts it again on its data.
# etcd_ctl ARGS...: etcdctl against the members that are up (with root's password once
# etcd_auth has run).
# etcd_auth: users root and alice (role reader: read under /cstoken/) and bob (role
# publisher: read and write there), then auth enable. Passwords in ETCD_ROOT_PW, ETCD_PW.

ETCD_N=3
ETCD_DIR=
ETCD_SCHEME=http
ETCD_ROOT_PW='root pass 1'
ETCD_PW='member pass 2'
declare -a ETCD_CLIENT ETCD_PEER ETCD_PID
ETCD_AUTH=

_etcd_member_args() { # I STATE
	local i=$1 cluster="" j
	for j in $(seq 1 $ETCD_N); do
		cluster+="${cluster:+,}n$j=http://127.0.0.1:${ETCD_PEER[$j]}"
	done
	local args=(--name "n$i" --data-dir "$ETCD_DIR/d$i"
		--listen-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}"
		--initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}"
		--listen-client-urls "$ETCD_SCHEME://127.0.0.1:${ETCD_CLIENT[$i]}"
		--advertise-client-urls "$ETCD_SCHEME://127.0.0.1:${ETCD_CLIENT[$i]}"
		--initial-cluster "$cluster" --initial-cluster-state "$2"
		--initial-cluster-token "cst-$$" --heartbeat-interval 50 --election-timeout 500)
	if [ "$ETCD_SCHEME" = https ]; then
		args+=(--cert-file "$ETCD_DIR/server.pem" --key-file "$ETCD_DIR/server.key"
			--client-cert-auth --trusted-ca-file "$ETCD_DIR/ca.pem")
	fi
	printf '%s\n' "${args[@]}"
}

etcd_start() { # I [STATE]
	local i=$1 args
	mapfile -t args < <(_etcd_member_args "$i" "${2:-existing}")
	etcd "${args[@]}" >>"$ETCD_DIR/log$i" 2>&1 &
	ETCD_PID[$i]=$!
	cst_on_exit "kill -9 ${ETCD_PID[$i]} 2>/dev/null; wait ${ETCD_PID[$i]} 2>/dev/null"
}

etcd_stop() { # I
	kill -9 "${ETCD_PID[$1]}" 2>/dev/null || true
	wait "${ETCD_PID[$1]}" 2>/dev/null || true
}

_etcd_urls() {
	local i urls=""
	for i in $(seq 1 $ETCD_N); do
		urls+="${urls:+,}$ETCD_SCHEME://127.0.0.1:${ETCD_CLIENT[$i]}"
	done
	echo "$urls"
}

etcd_ctl() {
	local tls=()
	[ "$ETCD_SCHEME" = https ] && tls=(--cacert "$ETCD_DIR/ca.pem" --cert "$ETCD_DIR/client.pem"
		--key "$ETCD_DIR/client.key")
	local auth=()
	[ -n "$ETCD_AUTH" ] && auth=(--user "root:$ETCD_ROOT_PW")
	ETCDCTL_API=3 etcdctl --endpoints="$(_etcd_urls)" --dial-timeout=2s --command-timeout=5s \
		"${tls[@]}" "${auth[@]}" "$@"
}

# etcd_healthy [I...]: every member given (default all) answers healthy.
etcd_healthy() {
	local i ids=("$@") out
	[ ${#ids[@]} -gt 0 ] || ids=($(seq 1 $ETCD_N))
	for i in "${ids[@]}"; do
		out=$(ETCD_N=$ETCD_N _etcd_one "$i" endpoint health 2>&1) || return 1
		case $out in *"is healthy"*) ;; *) return 1 ;; esac
	done
}

_etcd_one() { # I ARGS...: etcdctl against member I only
	local i=$1 tls=()
	shift
	[ "$ETCD_SCHEME" = https ] && tls=(--cacert "$ETCD_DIR/ca.pem" --cert "$ETCD_DIR/client.pem"
		--key "$ETCD_DIR/client.key")
	ETCDCTL_API=3 etcdctl --endpoints="$ETCD_SCHEME://127.0.0.1:${ETCD_CLIENT[$i]}" \
		--dial-timeout=1s --command-timeout=2s "${tls[@]}" "$@"
}

# _etcd_certs: a CA, a server certificate for 127.0.0.1, a client certificate, another CA.
_etcd_certs() {
	local d=$ETCD_DIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cstoken-test-etcd-ca \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cstoken-other-ca \
		-keyout "$d/other.key" -out "$d/other.pem" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
		>"$d/server.ext"
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/server.key" \
		-out "$d/server.csr" 2>/dev/null
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
	openssl req -newkey rsa:2048 -nodes -subj /CN=member -keyout "$d/client.key" \
		-out "$d/client.csr" 2>/dev/null
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/client.ext" -out "$d/client.pem" 2>/dev/null
	chmod 600 "$d"/*.key
}

etcd_cluster() { # [tls]
	local ports i
	ETCD_DIR=$CST_TMP/etcd
	mkdir -p "$ETCD_DIR"
	chmod 700 "$ETCD_DIR"
	if [ "${1:-}" = tls ]; then
		ETCD_SCHEME=https
		_etcd_certs
		CST_ETCD_CA=$ETCD_DIR/ca.pem CST_ETCD_CERT=$ETCD_DIR/client.pem
		CST_ETCD_KEY=$ETCD_DIR/client.key CST_ETCD_OTHER_CA=$ETCD_DIR/other.pem
		export CST_ETCD_CA CST_ETCD_CERT CST_ETCD_KEY CST_ETCD_OTHER_CA
	fi
	mapfile -t ports < <("$PYTHON" "$CSTOKEN_SRC/tests/lib/free_ports.py" $((2 * ETCD_N)))
	for i in $(seq 1 $ETCD_N); do
		ETCD_CLIENT[$i]=${ports[$((2 * i - 2))]}
		ETCD_PEER[$i]=${ports[$((2 * i - 1))]}
	done
	for i in $(seq 1 $ETCD_N); do
		etcd_start "$i" new
	done
	wait_for etcd_healthy
	CST_ETCD_ENDPOINTS=$(_etcd_urls | sed 's/,/, /g')
	export CST_ETCD_ENDPOINTS
}

etcd_auth() {
	etcd_ctl user add "root:$ETCD_ROOT_PW" >/dev/null
	etcd_ctl user grant-role root root >/dev/null
	etcd_ctl role add reader >/dev/null
	etcd_ctl role grant-permission reader read /cstoken/ --prefix >/dev/null
	etcd_ctl role add publisher >/dev/null
	etcd_ctl role grant-permission publisher readwrite /cstoken/ --prefix >/dev/null
	etcd_ctl user add "alice:$ETCD_PW" >/dev/null
	etcd_ctl user grant-role alice reader >/dev/null
	etcd_ctl user add "bob:$ETCD_PW" >/dev/null
	etcd_ctl user grant-role bob publisher >/dev/null
	etcd_ctl auth enable >/dev/null
	ETCD_AUTH=1
}
