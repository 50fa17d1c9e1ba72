/*
 * Test: a module loads, with every symbol bound, into a program that defines nothing of
 * cstoken's, and exports its table and none of the code it links.
 *   module_load MODULE.so TABLE
 */
#include <dlfcn.h>
#include <stdio.h>

#include "module.h"

/* functions every module links a copy of, which must stay hidden */
static const char *const hidden[] = {"xmalloc",		"cst_error_set", "cst_debug",
				     "cst_oom",		"strbuf_addstr", "cst_item_release",
				     "cst_module_table"};

int main(int argc, char **argv)
{
	const struct cst_module_head *t;
	void *h;
	size_t i;
	int bad = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: module_load MODULE TABLE\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
		return 1;
	}
	t = dlsym(h, argv[2]);
	if (!t) {
		fprintf(stderr, "FAIL: '%s' is not exported\n", argv[2]);
		return 1;
	}
	if (t->abi != CST_MODULE_ABI || t->size <= sizeof(*t) || !t->init) {
		fprintf(stderr, "FAIL: '%s' has interface %u, size %zu\n", argv[2], t->abi,
			t->size);
		bad = 1;
	}
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (dlsym(h, hidden[i])) {
			fprintf(stderr, "FAIL: '%s' is visible\n", hidden[i]);
			bad = 1;
		}
	if (!bad)
		printf("ok: %s\n", argv[2]);
	return bad;
}
