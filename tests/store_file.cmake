# The file store beyond the store contract (tests/store_contract.cmake): unit tests, and a
# driver for the crash and concurrency tests.
cst_unit_test(test_store_file unit/test_store_file.c cst_store)

add_executable(store_file_stress drivers/store_file_stress.c)
target_link_libraries(store_file_stress PRIVATE cst_store cstoken_warnings cstoken_sanitize)
target_include_directories(store_file_stress PRIVATE ${PROJECT_SOURCE_DIR}/include)

cst_shell_test(store_file.crash integration/store_file_crash.sh)
cst_shell_test(store_file.concurrent integration/store_file_concurrent.sh)
