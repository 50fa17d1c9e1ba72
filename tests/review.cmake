# Review pass: server text kept off terminals, stack-full suggestions, exec's environment.
cst_shell_test(review.server_text integration/review_server_text.sh)
cst_shell_test(review.exec integration/review_exec.sh)
cst_shell_test(review.cli integration/review_cli.sh)
