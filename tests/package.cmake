# Installing: `cmake --install --prefix` as a user, DESTDIR, a moved installation.
cst_shell_test(install.prefix integration/install_prefix.sh)
set_property(TEST install.prefix APPEND PROPERTY ENVIRONMENT
  "CST_LIBDIR=${CMAKE_INSTALL_LIBDIR}" "CST_FULL_LIBDIR=${CMAKE_INSTALL_FULL_LIBDIR}")
set_tests_properties(install.prefix PROPERTIES SKIP_RETURN_CODE 77)
