/*
 * A tiny driver for the store tests:
 *   store_probe available [TIMEOUT_MS]     prints "yes" or "no"
 *   store_probe open KIND [TIMEOUT_MS]     opens KIND (auto, secret-service, file) and
 *                                          prints the kind it got, or "error CODE: MSG"
 *                                          (CODE: the negative enum cst_err)
 */
#include <stdio.h>
#include <string.h>

#include "cstoken/store.h"
#include "cstoken/util.h"
#include "store_impl.h"

static int usage(void)
{
	fprintf(stderr, "usage: store_probe available [TIMEOUT_MS]\n"
			"       store_probe open KIND [TIMEOUT_MS]\n");
	return 2;
}

static int timeout_arg(const char *s, int *out)
{
	int64_t n;

	if (!s)
		return 0;
	if (parse_int64(s, 1, 600000, &n))
		return -1;
	*out = (int)n;
	return 0;
}

int main(int argc, char **argv)
{
	struct cst_store_options opt = {0};
	struct cst_error err = CST_ERROR_INIT;
	struct cst_store *st = NULL;
	int timeout = 500;
	int ret;

	if (getenv_nonempty("CSTOKEN_PROBE_VERBOSE"))
		cst_verbose = 1;
	if (argc >= 2 && !strcmp(argv[1], "available") && argc <= 3) {
		if (timeout_arg(argv[2], &timeout))
			return usage();
		puts(cst_secret_service_available(timeout) ? "yes" : "no");
		return 0;
	}
	if (argc < 3 || argc > 4 || strcmp(argv[1], "open"))
		return usage();
	if (cst_store_kind_parse(argv[2], &opt.kind) || timeout_arg(argv[3], &opt.timeout_ms))
		return usage();
	ret = cst_store_open(&st, &opt, &err);
	if (ret) {
		printf("error %d: %s\n", ret, cst_error_msg(&err, ret));
		return 1;
	}
	puts(cst_store_kind_name(cst_store_kind(st)));
	cst_store_close(st);
	return 0;
}
