# The Contentstack API client, TOTP, login and logout.
cst_unit_test(test_totp unit/test_totp.c cst_cma)

# The client's token calls against the emulator: built here, run by http_faults.sh.
add_executable(test_cma unit/test_cma.c)
target_link_libraries(test_cma PRIVATE PkgConfig::CMOCKA PkgConfig::LIBCURL cstoken_warnings
                      cst_cma cstoken_sanitize)
target_include_directories(test_cma PRIVATE ${PROJECT_SOURCE_DIR}/include)

cst_shell_test(http.login integration/login.sh)
cst_shell_test(http.login_hostile integration/login_hostile.sh)
cst_shell_test(http.login_tty integration/login_tty.sh)
cst_shell_test(http.faults integration/http_faults.sh)
