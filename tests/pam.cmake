# pam_cstoken: exports, argument/timeout/privilege behaviour with a stand-in
# program, the real cstoken against the emulator, and a real throwaway user when root
# (file store, and the user's own Secret Service on its bus).
if(TARGET pam_cstoken)
  # Unit test of the argument and porcelain parsers (no PAM stack needed).
  add_library(pcs_parse STATIC ${PROJECT_SOURCE_DIR}/pam/cfg.c ${PROJECT_SOURCE_DIR}/pam/token.c)
  target_include_directories(pcs_parse PUBLIC ${PROJECT_SOURCE_DIR}/pam
                                              ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(pcs_parse PUBLIC PkgConfig::PAM PRIVATE cstoken_warnings cstoken_sanitize)
  cst_unit_test(test_pam_parse pam/test_pam_parse.c pcs_parse)

  # The drivers load non-instrumented modules under LD_PRELOADed cwrap libraries, where
  # ASan's runtime cannot come first: like the modules, they do not link cstoken_sanitize.
  add_executable(pam_driver drivers/pam_driver.c)
  add_executable(pam_exports pam/pam_exports.c)
  foreach(driver pam_driver pam_exports)
    target_link_libraries(${driver} PRIVATE PkgConfig::PAM cstoken_warnings ${CMAKE_DL_LIBS})
  endforeach()
  add_dependencies(pam_driver pam_cstoken_test)
  add_dependencies(pam_exports pam_cstoken)

  set(pcs_env "PCS_MODULE=$<TARGET_FILE:pam_cstoken>"
              "PCS_TEST_MODULE=$<TARGET_FILE:pam_cstoken_test>"
              "PCS_DRIVER=$<TARGET_FILE:pam_driver>"
              "PCS_EXPORTS=$<TARGET_FILE:pam_exports>")
  foreach(t exports standin emulator realuser realbus)
    cst_shell_test(pam.${t} integration/pam_${t}.sh)
  endforeach()
  set_tests_properties(pam.realuser pam.realbus PROPERTIES SKIP_RETURN_CODE 77)
  cst_shell_test(pam.reaping_host integration/pam_reaper.sh)
  cst_shell_test(pam.trusted_program integration/pam_trust.sh)
  foreach(t exports standin emulator realuser realbus reaping_host trusted_program)
    set_property(TEST pam.${t} APPEND PROPERTY ENVIRONMENT ${pcs_env})
    set_property(TEST pam.${t} PROPERTY LABELS integration pam)
  endforeach()
  # an OAuth session refreshed by the cstoken the module runs (tests/oauth.cmake's area)
  cst_shell_test(oauth.pam integration/oauth_pam.sh)
  set_property(TEST oauth.pam APPEND PROPERTY ENVIRONMENT ${pcs_env})
  set_property(TEST oauth.pam PROPERTY LABELS integration pam)
endif()

add_test(NAME pam.manpage COMMAND mandoc -Tlint -Wwarning ${PROJECT_SOURCE_DIR}/man/pam_cstoken.8)
set_tests_properties(pam.manpage PROPERTIES LABELS pam TIMEOUT 60)
