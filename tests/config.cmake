# The configuration loader, cstoken.conf(5), and the lint of every man page.
cst_unit_test(test_config unit/test_config.c cst_config)

find_program(MANDOC mandoc)
if(MANDOC)
  add_test(NAME lint.man
           COMMAND sh -c "${MANDOC} -Tlint -Wwarning ${PROJECT_SOURCE_DIR}/man/*.[158]")
  set_tests_properties(lint.man PROPERTIES LABELS unit)
endif()

cst_shell_test(config.cli integration/config_cli.sh)
