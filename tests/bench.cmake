# What bench/bench.sh relies on: the program loads its heavy parts only when a request
# needs them. (The benchmark itself is not a test; run bench/bench.sh.)
cst_shell_test(perf.lazy_modules integration/lazy_modules.sh)
