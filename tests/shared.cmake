# The shared store: a real 3-member etcd cluster on loopback, several "machines" (homes).
cst_shell_test(shared.single_flight integration/shared_single_flight.sh)
cst_shell_test(shared.members_down integration/shared_members_down.sh)
cst_shell_test(shared.orphan integration/shared_orphan.sh)
cst_shell_test(shared.rotate integration/shared_rotate.sh)
cst_shell_test(shared.roles integration/shared_roles.sh)
cst_shell_test(shared.tls integration/shared_tls.sh)
cst_shell_test(shared.claim_kept integration/shared_claim_kept.sh)
cst_shell_test(shared.cluster_lost integration/shared_cluster_lost.sh)
