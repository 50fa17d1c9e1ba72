# The git credential protocol and the get/store/erase commands.
cst_unit_test(test_credential unit/test_credential.c cst_credential)

# git's own external-helper suite, once per store.
cst_shell_test(credential.t0303_file integration/t0303.sh)
set_tests_properties(credential.t0303_file PROPERTIES ENVIRONMENT_MODIFICATION "CST_T0303_STORE=set:file")
cst_shell_test(credential.t0303_keyring integration/t0303.sh)
set_tests_properties(credential.t0303_keyring PROPERTIES
  ENVIRONMENT_MODIFICATION "CST_T0303_STORE=set:secret-service")

cst_shell_test(credential.git_plain integration/git_credential.sh)
set_tests_properties(credential.git_plain PROPERTIES
  ENVIRONMENT_MODIFICATION "CST_GC_PART=set:plain")
cst_shell_test(credential.git_profile integration/git_credential.sh)
set_tests_properties(credential.git_profile PROPERTIES
  ENVIRONMENT_MODIFICATION "CST_GC_PART=set:profile")
