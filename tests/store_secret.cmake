# The secret-service store beyond the store contract (tests/store_contract.cmake), and the
# auto choice. The cmocka binary talks to a real
# gnome-keyring, so it is not a test by itself: store_secret.sh runs it inside a private
# bus and keyring (in_keyring), never against the user's own.
add_executable(test_store_secret unit/test_store_secret.c)
target_link_libraries(test_store_secret PRIVATE PkgConfig::CMOCKA PkgConfig::LIBSECRET
                      cstoken_warnings cst_store cstoken_sanitize)
target_include_directories(test_store_secret PRIVATE ${PROJECT_SOURCE_DIR}/include)

# store_probe: opens a store and prints which kind it got (auto choice tests).
add_executable(store_probe drivers/store_probe.c)
target_link_libraries(store_probe PRIVATE cstoken_warnings cst_store cstoken_sanitize)
target_include_directories(store_probe PRIVATE ${PROJECT_SOURCE_DIR}/include
                                               ${CSTOKEN_HELPER_DIRS})

# store_secret.auto: how `auto` chooses (no bus, empty bus, stalling provider, gnome-keyring);
# store_secret.keyring: what the keyring adds to the contract (labels, refusals, locked).
cst_shell_test(store_secret.auto integration/store_secret.sh)
set_tests_properties(store_secret.auto PROPERTIES ENVIRONMENT_MODIFICATION "CST_SS_PART=set:auto")
cst_shell_test(store_secret.keyring integration/store_secret.sh)
set_tests_properties(store_secret.keyring PROPERTIES
  ENVIRONMENT_MODIFICATION "CST_SS_PART=set:keyring")

# the encrypted session's crypto against OpenSSL's implementation of the same algorithm
cst_unit_test(test_store_keyring_crypt unit/test_store_keyring_crypt.c cst_keyring_crypt PkgConfig::LIBCRYPTO)
# the service's side of the session, shared with fake_secrets
target_include_directories(test_store_keyring_crypt PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/drivers)

# store_secret.provider: a fake provider that does the session right (OpenSSL on its side),
# wrong on purpose, or only in plain
add_executable(fake_secrets drivers/fake_secrets.c)
target_link_libraries(fake_secrets PRIVATE PkgConfig::DBUS PkgConfig::LIBCRYPTO cstoken_sanitize)
cst_shell_test(store_secret.provider integration/store_secret_provider.sh)
