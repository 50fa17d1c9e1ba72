/*
 * Drives the file store from separate processes for the crash and concurrency tests.
 *
 *   store_file_stress crash PATH [COUNT]  generation after generation (COUNT of them, or
 *       until killed): generation G stores item "h<G % 64>" with uid G and a secret
 *       derived from G, then prints G on its own line. Resumes after the newest
 *       generation in the store, so a killed run can be continued.
 *   store_file_stress fill PATH ID COUNT  stores COUNT distinct items "w<ID>-<j>".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cstoken/store.h"
#include "cstoken/util.h"

#define SLOTS 64
#define PAD 1024

static int usage(void)
{
	fputs("usage: store_file_stress crash PATH [COUNT] | fill PATH ID COUNT\n", stderr);
	return 2;
}

static int fail(const char *what, int ret, const struct cst_error *e)
{
	fprintf(stderr, "store_file_stress: %s: %s\n", what, cst_error_msg(e, ret));
	return 1;
}

/* The secret of generation g: checkable from g alone, and big enough to make writes slow. */
static char *generation_secret(int64_t g)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	strbuf_addf(&sb, "gen-%" PRId64 "-", g);
	for (i = 0; i < PAD; i++)
		strbuf_addch(&sb, (char)('a' + (g + i) % 26));
	return strbuf_detach(&sb, NULL);
}

static int crash(struct cst_store *st, int64_t count)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item pat = CST_ITEM_INIT, it, *items = NULL;
	int64_t g = 0, v, done;
	size_t n = 0, i;
	int ret;

	pat.kind = CST_ITEM_CREDENTIAL;
	pat.protocol = xstrdup("crash");
	ret = cst_store_list(st, &pat, &items, &n, &e);
	cst_item_release(&pat);
	if (ret)
		return fail("list", ret, &e);
	for (i = 0; i < n; i++)
		if (!parse_int64(items[i].uid, 1, INT64_MAX, &v) && v > g)
			g = v;
	cst_item_array_free(items, n);
	for (done = 0; count < 0 || done < count; done++) {
		g++;
		cst_item_init(&it);
		it.kind = CST_ITEM_CREDENTIAL;
		it.protocol = xstrdup("crash");
		it.host = xasprintf("h%" PRId64, g % SLOTS);
		it.uid = xasprintf("%" PRId64, g);
		it.secret = generation_secret(g);
		ret = cst_store_put(st, &it, NULL, &e);
		cst_item_release(&it);
		if (ret)
			return fail("put", ret, &e);
		printf("%" PRId64 "\n", g);
		fflush(stdout);
	}
	return 0;
}

static int fill(struct cst_store *st, const char *id, int64_t count)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item it;
	int64_t j;
	int ret;

	for (j = 1; j <= count; j++) {
		cst_item_init(&it);
		it.kind = CST_ITEM_CREDENTIAL;
		it.protocol = xstrdup("fill");
		it.host = xasprintf("w%s-%" PRId64, id, j);
		it.secret = xasprintf("p%s-%" PRId64, id, j);
		ret = cst_store_put(st, &it, NULL, &e);
		cst_item_release(&it);
		if (ret)
			return fail("put", ret, &e);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cst_store_options opt = {.kind = CST_STORE_FILE};
	struct cst_error e = CST_ERROR_INIT;
	struct cst_store *st = NULL;
	int64_t count = -1;
	int ret;

	if (argc < 3)
		return usage();
	opt.file = argv[2];
	if (!strcmp(argv[1], "crash") && argc <= 4) {
		if (argc == 4 && parse_int64(argv[3], 0, INT64_MAX, &count))
			return usage();
	} else if (!strcmp(argv[1], "fill") && argc == 5) {
		if (parse_int64(argv[4], 0, INT64_MAX, &count))
			return usage();
	} else {
		return usage();
	}
	ret = cst_store_open(&st, &opt, &e);
	if (ret)
		return fail("open", ret, &e);
	ret = !strcmp(argv[1], "crash") ? crash(st, count) : fill(st, argv[3], count);
	cst_store_close(st);
	return ret;
}
