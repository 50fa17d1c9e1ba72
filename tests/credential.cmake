# The git credential protocol and the get/store/erase commands (issue 2).
cst_unit_test(test_credential unit/test_credential.c cst_credential)

# git's own external-helper suite, once per store.
cst_shell_test(t0303.file integration/t0303.sh)
set_tests_properties(t0303.file PROPERTIES ENVIRONMENT_MODIFICATION "CST_T0303_STORE=set:file")
cst_shell_test(t0303.keyring integration/t0303.sh)
set_tests_properties(t0303.keyring PROPERTIES
  ENVIRONMENT_MODIFICATION "CST_T0303_STORE=set:secret-service")

cst_shell_test(git_credential.plain integration/git_credential.sh)
set_tests_properties(git_credential.plain PROPERTIES ENVIRONMENT_MODIFICATION "CST_GC_PART=set:plain")
cst_shell_test(git_credential.profile integration/git_credential.sh)
set_tests_properties(git_credential.profile PROPERTIES
  ENVIRONMENT_MODIFICATION "CST_GC_PART=set:profile")
