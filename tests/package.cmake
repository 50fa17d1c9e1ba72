# The modules' interface: one table each, nothing taken from the program (helper/base/module.h).
# module_load: dlopens a module into a program that links nothing of cstoken's.
add_executable(module_load drivers/module_load.c)
target_link_libraries(module_load PRIVATE cstoken_warnings cstoken_sanitize ${CMAKE_DL_LIBS})
target_include_directories(module_load PRIVATE ${PROJECT_SOURCE_DIR}/include
                                               ${CSTOKEN_HELPER_DIRS})
# module_other_build: a cstoken-dbus whose table is of another interface version.
add_library(module_other_build MODULE drivers/module_other_build.c)
target_link_libraries(module_other_build PRIVATE cstoken_warnings)
target_include_directories(module_other_build PRIVATE ${PROJECT_SOURCE_DIR}/include
                                                      ${CSTOKEN_HELPER_DIRS})
cst_shell_test(install.module_symbols integration/module_symbols.sh)
set_property(TEST install.module_symbols APPEND PROPERTY ENVIRONMENT
  "CST_MODULE_DIR=$<TARGET_FILE_DIR:cstoken-http>" "CST_MODULE_LOAD=$<TARGET_FILE:module_load>"
  "CST_MODULE_OTHER_BUILD=$<TARGET_FILE:module_other_build>")
# Installing: `cmake --install --prefix` as a user, DESTDIR, a moved installation (the
# whole installation: with the PAM module).
if(TARGET pam_cstoken)
  cst_shell_test(install.prefix integration/install_prefix.sh)
  set_property(TEST install.prefix APPEND PROPERTY ENVIRONMENT
    "CST_LIBDIR=${CMAKE_INSTALL_LIBDIR}" "CST_FULL_LIBDIR=${CMAKE_INSTALL_FULL_LIBDIR}")
  set_tests_properties(install.prefix PROPERTIES SKIP_RETURN_CODE 77)
endif()

# The Debian packages (debian/): built, checked with lintian, installed, used and purged on
# this machine (as root). Not in a package build, which it would start again (debian/rules
# turns it off), nor in the sanitizer or fuzz builds: it builds the packages' own binaries.
option(CSTOKEN_PACKAGE_TEST "Register package.deb (builds and installs the Debian packages)" ON)
if(CSTOKEN_PACKAGE_TEST AND NOT CSTOKEN_SANITIZE AND NOT CSTOKEN_FUZZ AND TARGET pam_cstoken)
  cst_shell_test(package.deb integration/package_deb.sh)
  set_property(TEST package.deb APPEND PROPERTY ENVIRONMENT
    "PCS_DRIVER=$<TARGET_FILE:pam_driver>" "PCS_TEST_MODULE=$<TARGET_FILE:pam_cstoken_test>")
  set_tests_properties(package.deb PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900
                       LABELS "integration;package")
endif()
