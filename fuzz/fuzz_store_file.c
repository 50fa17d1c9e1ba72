/*
 * The file store's reader: the input becomes the store file (0600, ours, in a 0700
 * directory), then get and list run over it. When it reads, one write goes through as
 * well (put, get back, erase), so the printer meets whatever the parser accepted.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cstoken/store.h"
#include "cstoken/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *store_dir, *store_path, *lock_path;

/* the run leaves nothing behind: the store, its lock, the directory */
static void cleanup(void)
{
	unlink(store_path);
	unlink(lock_path);
	rmdir(store_dir);
}

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* tmpfs when there is one: every put fsyncs */
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *dir;

	(void)argc;
	(void)argv;
	dir = xasprintf("%s/cstoken-fuzz-store.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	store_dir = dir;
	store_path = xasprintf("%s/credentials", dir);
	lock_path = xasprintf("%s.lock", store_path);
	atexit(cleanup);
	return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t w;

	if (fd < 0)
		return -1;
	while (size) {
		w = write(fd, data, size);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		data += w;
		size -= (size_t)w;
	}
	return close(fd);
}

static size_t count_all(struct cst_store *st)
{
	struct cst_item any = CST_ITEM_INIT, *items = NULL;
	size_t n = 0;

	check(cst_store_list(st, &any, &items, &n, NULL) == 0);
	cst_item_array_free(items, n);
	return n;
}

static void one_write(struct cst_store *st)
{
	struct cst_item it = CST_ITEM_INIT, pattern = CST_ITEM_INIT, got = CST_ITEM_INIT;
	struct cst_item *items = NULL;
	size_t n = 0, i, mine = 0, removed = 0, total;

	it.kind = CST_ITEM_CREDENTIAL;
	it.protocol = "https";
	it.host = "fuzz.example";
	it.username = "fuzzer";
	it.secret = "fuzz-secret";
	if (cst_store_put(st, &it, NULL, NULL))
		return;
	pattern.kind = CST_ITEM_CREDENTIAL;
	pattern.protocol = it.protocol;
	pattern.host = it.host;
	pattern.username = it.username;
	check(cst_store_list(st, &pattern, &items, &n, NULL) == 0);
	for (i = 0; i < n; i++) {
		check(!items[i].secret && !items[i].oauth_refresh_token);
		if (!items[i].path)
			mine++;
	}
	check(mine == 1);
	cst_item_array_free(items, n);
	total = count_all(st);
	check(cst_store_get(st, &pattern, &got, NULL) == 0);
	if (!got.path)
		check(secret_equal(got.secret, it.secret));
	cst_item_release(&got);

	check(cst_store_erase(st, &pattern, &removed, NULL) == 0 && removed >= 1);
	check(cst_store_get(st, &pattern, &got, NULL) == CST_ERR_NOT_FOUND);
	check(count_all(st) + removed == total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cst_store_options opt = {.kind = CST_STORE_FILE};
	struct cst_item pattern = CST_ITEM_INIT, got = CST_ITEM_INIT;
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item *items = NULL;
	struct cst_store *st = NULL;
	size_t n = 0, i;
	int ret;

	if (write_file(store_path, data, size))
		abort();
	opt.file = store_path;
	if (cst_store_open(&st, &opt, &e))
		abort();

	ret = cst_store_list(st, &pattern, &items, &n, &e);
	if (ret) {
		/* a message never quotes the file: it holds secrets */
		check(e.msg[0] && !strchr(e.msg, '\n') && !strchr(e.msg, '{'));
	} else {
		for (i = 0; i < n; i++)
			check(!items[i].secret && !items[i].oauth_refresh_token &&
			      items[i].kind != CST_ITEM_ANY);
	}
	cst_item_array_free(items, n);

	pattern.kind = CST_ITEM_CREDENTIAL;
	pattern.protocol = "https";
	pattern.host = "example.com";
	if (cst_store_get(st, &pattern, &got, NULL) == 0)
		check(got.kind == CST_ITEM_CREDENTIAL && got.host &&
		      !strcmp(got.host, "example.com"));
	cst_item_release(&got);
	pattern.kind = CST_ITEM_TOKEN;
	pattern.protocol = NULL;
	pattern.host = NULL;
	pattern.profile = "default";
	if (cst_store_get(st, &pattern, &got, NULL) == 0)
		check(got.kind == CST_ITEM_TOKEN && got.profile && !strcmp(got.profile, "default"));
	cst_item_release(&got);

	if (ret == 0)
		one_write(st);
	cst_store_close(st);
	return 0;
}
