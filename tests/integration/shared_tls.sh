#!/usr/bin/env bash
# The cluster over TLS with client certificates: a member with the cluster's CA and a
# certificate it signed works; a wrong CA, or no certificate, fails with a clear error
# and mints nothing; plain http to another machine is refused by the configuration.
. "$CSTOKEN_SRC/tests/lib/common.sh"
cst_setup
. "$CSTOKEN_SRC/tests/integration/shared_lib.sh"

shared_setup tls
case $CST_ETCD_ENDPOINTS in https://*) ;; *) fail "not a TLS cluster: $CST_ETCD_ENDPOINTS" ;; esac
machine good "etcd_ca_file = $CST_ETCD_CA" "etcd_cert_file = $CST_ETCD_CERT" \
	"etcd_key_file = $CST_ETCD_KEY"
machine wrongca "etcd_ca_file = $CST_ETCD_OTHER_CA" "etcd_cert_file = $CST_ETCD_CERT" \
	"etcd_key_file = $CST_ETCD_KEY"
machine nocert "etcd_ca_file = $CST_ETCD_CA"
for m in good wrongca nocert; do login_on $m; done

fails_on wrongca 1 "with a wrong CA" cstoken token
assert_contains "$err" "no etcd member answered" "error with a wrong CA"
assert_contains "$err" "etcd_ca_file" "error points at the CA"
assert_eq 0 "$(token_posts)" "token creations with a wrong CA"
fails_on nocert 1 "without a client certificate" cstoken token
assert_contains "$err" "no etcd member answered" "error without a client certificate"
assert_eq 0 "$(token_posts)" "token creations without a client certificate"
pass "a wrong CA or no client certificate fails and mints nothing"

tok=$(on good cstoken token 2>"$CST_TMP/err") || fail "token over TLS: $(cat "$CST_TMP/err")"
assert_eq 1 "$(token_posts)" "token creations over TLS"
assert_contains "$(etcd_value)" "\"token\":\"$tok\"" "published over TLS"
pass "TLS with client certificates"

# plain http only to loopback; the key readable only by its owner
machine plain
on plain emulator_config default "$MINT_KEY" "$MINT_EMAIL" 'shared = etcd' \
	'etcd_endpoints = http://etcd.example:2379'
fails_on plain 2 "of http to another machine" cstoken token
assert_contains "$err" "http:// is only for loopback" "error of http to another machine"
chmod 644 "$CST_ETCD_KEY"
fails_on good 2 "of a key readable by others" cstoken token
assert_contains "$err" "chmod 600" "error of a key readable by others"
pass "the configuration refuses plain http to another machine and an exposed key"
