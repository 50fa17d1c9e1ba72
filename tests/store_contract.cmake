# The store contract, one suite run against every store backend: test_store_contract (the
# cases, tests/unit/test_store_contract.c) inside store_contract.sh, whose hook
# contract_BACKEND sets the backend up. A new backend: one cst_store_contract line here
# and its hook there.
add_executable(test_store_contract unit/test_store_contract.c)
target_link_libraries(test_store_contract PRIVATE PkgConfig::CMOCKA cstoken_warnings cst_config
                      cst_store cstoken_sanitize)
target_include_directories(test_store_contract PRIVATE ${PROJECT_SOURCE_DIR}/include)

function(cst_store_contract backend)
  cst_shell_test(store.contract_${backend} integration/store_contract.sh)
  set_tests_properties(store.contract_${backend} PROPERTIES
    ENVIRONMENT_MODIFICATION "CST_CONTRACT_BACKEND=set:${backend}")
endfunction()

cst_store_contract(file)
cst_store_contract(keyring)
