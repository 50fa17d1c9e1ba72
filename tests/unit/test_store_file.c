/*
 * What the file store adds to the store contract (test_store_contract.c), on a real file
 * system: private modes, writes only when something changes, refusals of unsafe or corrupt
 * files, any JSON layout read, the size cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cstoken/store.h"
#include "cstoken/util.h"
#include "store_items.h"

struct fixture {
	char *top;  /* private temp directory */
	char *dir;  /* top/store: the store's directory (absent until the first put) */
	char *path; /* dir/credentials */
	struct cst_store *st;
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static struct cst_store *open_file_store(const char *path)
{
	struct cst_store_options opt = {.kind = CST_STORE_FILE, .file = path};
	struct cst_error e = CST_ERROR_INIT;
	struct cst_store *st = NULL;

	assert_int_equal(cst_store_open(&st, &opt, &e), 0);
	return st;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *tmp = getenv_nonempty("TMPDIR");

	f->top = xasprintf("%s/cst-store-file.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->top))
		return -1;
	f->dir = xasprintf("%s/store", f->top);
	f->path = xasprintf("%s/credentials", f->dir);
	f->st = open_file_store(f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cst_store_close(f->st);
	chmod(f->dir, 0700);
	nftw(f->top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f->top);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void put_ok(struct cst_store *st, const struct cst_item *it, bool want_unchanged)
{
	struct cst_error e = CST_ERROR_INIT;
	bool unchanged = !want_unchanged;

	assert_int_equal(cst_store_put(st, it, &unchanged, &e), 0);
	assert_true(unchanged == want_unchanged);
}

static void put_credential(struct cst_store *st, const char *host, const char *user,
			   const char *secret)
{
	struct cst_item it;

	store_credential(&it, host, user, secret);
	put_ok(st, &it, false);
	cst_item_release(&it);
}

static void write_text(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* The whole content of path (NUL-terminated); *len its length. */
static char *read_text(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	buf = xmalloc((size_t)sb.st_size + 1);
	assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	buf[sb.st_size] = '\0';
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

static size_t count_items(struct cst_store *st, const struct cst_item *pattern)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item any = CST_ITEM_INIT, *items = NULL;
	size_t n = 0;

	assert_int_equal(cst_store_list(st, pattern ? pattern : &any, &items, &n, &e), 0);
	cst_item_array_free(items, n);
	return n;
}

/* A private directory and file; a second store on the same path reads what the first wrote. */
static void test_private_modes(void **state)
{
	struct fixture *f = *state;
	struct cst_item pat = CST_ITEM_INIT, got;
	struct cst_store *again;
	struct stat sb;

	put_credential(f->st, "git.example.com", "alice", "s");
	assert_int_equal(stat(f->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	again = open_file_store(f->path);
	assert_string_equal(cst_store_describe(again), f->path);
	pat.host = xstrdup("git.example.com");
	assert_int_equal(cst_store_get(again, &pat, &got, &(struct cst_error){0}), 0);
	assert_string_equal(got.secret, "s");
	cst_item_release(&got);
	cst_item_release(&pat);
	cst_store_close(again);
}

static void test_default_path_under_xdg_data_home(void **state)
{
	struct fixture *f = *state;
	struct cst_store_options opt = {.kind = CST_STORE_FILE};
	struct cst_error e = CST_ERROR_INIT;
	struct cst_store *st = NULL;
	char *want = xasprintf("%s/cstoken/credentials", f->top);
	struct stat sb;

	setenv("XDG_DATA_HOME", f->top, 1);
	assert_int_equal(cst_store_open(&st, &opt, &e), 0);
	assert_string_equal(cst_store_describe(st), want);
	put_credential(st, "h", "u", "s");
	assert_int_equal(stat(want, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	cst_store_close(st);
	free(want);
}

static void test_unchanged_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct cst_item it;
	struct stat before, after;

	store_credential(&it, "h", "u", "secret");
	it.expiry = 1234;
	put_ok(f->st, &it, false);
	assert_int_equal(stat(f->path, &before), 0);
	put_ok(f->st, &it, true);
	it.created = 42; /* created is not part of what "identical" means */
	put_ok(f->st, &it, true);
	assert_int_equal(stat(f->path, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	assert_true(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
		    before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);

	/* any change is written: a new file replaces the old */
	it.expiry = 1235;
	put_ok(f->st, &it, false);
	assert_int_equal(stat(f->path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	set_secret(&it.secret, "other");
	put_ok(f->st, &it, false);
	put_ok(f->st, &it, true);
	assert_int_equal(count_items(f->st, NULL), 1);
	cst_item_release(&it);
}

/* Erasing writes only when it removes something, and never creates the store. */
static void test_erase_writes_only_when_it_removes(void **state)
{
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item pat = CST_ITEM_INIT;
	struct stat before, after;
	size_t removed = 99;

	/* no store yet: nothing removed and nothing created */
	pat.host = xstrdup("a");
	assert_int_equal(cst_store_erase(f->st, &pat, &removed, &e), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(access(f->dir, F_OK), -1);

	put_credential(f->st, "b", "u1", "s3");
	/* no match: the file is not rewritten */
	assert_int_equal(stat(f->path, &before), 0);
	removed = 99;
	assert_int_equal(cst_store_erase(f->st, &pat, &removed, &e), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(stat(f->path, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	/* a match: a new file replaces the old */
	set_str(&pat.host, "b");
	assert_int_equal(cst_store_erase(f->st, &pat, &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(stat(f->path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(count_items(f->st, NULL), 0);
	cst_item_release(&pat);
}

/* get and put both fail with code and a message containing want; the file is untouched. */
static void assert_refused(struct fixture *f, const char *file, int code, const char *want)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item pat = CST_ITEM_INIT, got, it;
	char *before = NULL, *after = NULL;
	size_t blen = 0, alen = 0;
	bool unchanged = true;

	if (file)
		before = read_text(file, &blen);
	pat.host = xstrdup("h");
	assert_int_equal(cst_store_get(f->st, &pat, &got, &e), code);
	assert_non_null(strstr(e.msg, want));
	assert_null(strstr(e.msg, "hunter2"));
	memset(&e, 0, sizeof(e));
	store_credential(&it, "h", "u", "new-secret");
	assert_int_equal(cst_store_put(f->st, &it, &unchanged, &e), code);
	assert_false(unchanged);
	assert_non_null(strstr(e.msg, want));
	memset(&e, 0, sizeof(e));
	assert_int_equal(cst_store_erase(f->st, &pat, NULL, &e), code);
	assert_int_equal(cst_store_list(f->st, &pat, &(struct cst_item *){NULL}, &(size_t){0}, &e),
			 code);
	if (file) {
		after = read_text(file, &alen);
		assert_int_equal(alen, blen);
		assert_memory_equal(after, before, blen);
	}
	free(before);
	free(after);
	cst_item_release(&it);
	cst_item_release(&pat);
}

static void test_refuses_symlinked_file(void **state)
{
	struct fixture *f = *state;
	char *real = xasprintf("%s/elsewhere", f->top);

	put_credential(f->st, "h", "u", "hunter2");
	assert_int_equal(rename(f->path, real), 0);
	assert_int_equal(symlink(real, f->path), 0);
	assert_refused(f, real, CST_ERR_INSECURE, f->path);
	assert_refused(f, real, CST_ERR_INSECURE, "symbolic link");
	free(real);
}

static void test_refuses_symlinked_directory(void **state)
{
	struct fixture *f = *state;
	char *real = xasprintf("%s/realdir", f->top);
	char *file = xasprintf("%s/credentials", real);

	put_credential(f->st, "h", "u", "hunter2");
	assert_int_equal(rename(f->dir, real), 0);
	assert_int_equal(symlink(real, f->dir), 0);
	assert_refused(f, file, CST_ERR_INSECURE, "symbolic link");
	assert_refused(f, file, CST_ERR_INSECURE, f->dir);
	assert_int_equal(unlink(f->dir), 0);
	free(real);
	free(file);
}

static void test_refuses_group_readable_file(void **state)
{
	struct fixture *f = *state;
	char *fix = NULL;

	put_credential(f->st, "h", "u", "hunter2");
	assert_int_equal(chmod(f->path, 0640), 0);
	fix = xasprintf("chmod 600 '%s'", f->path);
	assert_refused(f, f->path, CST_ERR_INSECURE, fix);
	assert_int_equal(chmod(f->path, 0604), 0);
	assert_refused(f, f->path, CST_ERR_INSECURE, fix);
	/* the fix works */
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_int_equal(count_items(f->st, NULL), 1);
	free(fix);
}

static void test_refuses_world_writable_directory(void **state)
{
	struct fixture *f = *state;
	char *fix = NULL;

	put_credential(f->st, "h", "u", "hunter2");
	assert_int_equal(chmod(f->dir, 0777), 0);
	fix = xasprintf("chmod 700 '%s'", f->dir);
	assert_refused(f, f->path, CST_ERR_INSECURE, fix);
	assert_int_equal(chmod(f->dir, 0720), 0);
	assert_refused(f, f->path, CST_ERR_INSECURE, fix);
	/* readable by others is fine for a directory: the file is what is guarded */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(count_items(f->st, NULL), 1);
	free(fix);
}

static void test_refuses_corrupt_file(void **state)
{
	static const char *const bad[] = {
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"secret\":\"hunter2\"",
	    "{\"version\":1,\"items\":[]} trailing",
	    "[1,2,3]",
	    "{\"items\":[]}",
	    "{\"version\":0,\"items\":[]}",
	    "{\"version\":1.5,\"items\":[]}",
	    "{\"version\":1}",
	    "{\"version\":1,\"items\":{}}",
	    "{\"version\":1,\"items\":[{\"host\":\"h\",\"secret\":\"hunter2\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"bogus\",\"secret\":\"hunter2\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":5}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"expiry\":1.5}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"expiry\":\"12x\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"expiry\":1e300}]}",
	    "{\"version\":1,\"items\":[\"hunter2\"]}",
	    "\x01\x02 hunter2",
	};
	struct fixture *f = *state;
	size_t i;

	put_credential(f->st, "h", "u", "s"); /* creates the directory */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(f->path, bad[i], strlen(bad[i]), 0600);
		assert_refused(f, f->path, CST_ERR_STORE, "corrupt");
	}
	/* a NUL byte inside */
	write_text(f->path, "{\"version\":1,\"items\":[]}\0x", 26, 0600);
	assert_refused(f, f->path, CST_ERR_STORE, f->path);
}

/* Files another JSON writer laid out (cJSON's tabs, keys in any order) read as before. */
static void test_reads_any_layout(void **state)
{
	static const char text[] =
	    "{\n\t\"items\":\t[{\n\t\t\t\"secret\":\t\"s1\",\n\t\t\t\"future\":\t{\"x\": [1, "
	    "true, null]},\n\t\t\t\"host\":\t\"a.example\",\n\t\t\t\"kind\":\t\"credential\",\n"
	    "\t\t\t\"created\":\t\"5\"\n\t\t}, {\"kind\": \"credential\", \"h\\u006fst\": "
	    "\"caf\\u00e9 \\ud83d\\ude00\", \"secret\": \"tab\\there \\\"q\\\" \\\\\"}],\n"
	    "\t\"version\":\t1\n}\n";
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item pat = CST_ITEM_INIT, got;

	put_credential(f->st, "x", "u", "s"); /* creates the directory */
	write_text(f->path, text, sizeof(text) - 1, 0600);
	pat.host = xstrdup("a.example");
	assert_int_equal(cst_store_get(f->st, &pat, &got, &e), 0);
	assert_string_equal(got.secret, "s1");
	assert_true(got.created == 5);
	cst_item_release(&got);
	free(pat.host);
	pat.host = xstrdup("caf\xc3\xa9 \xf0\x9f\x98\x80");
	assert_int_equal(cst_store_get(f->st, &pat, &got, &e), 0);
	assert_string_equal(got.secret, "tab\there \"q\" \\");
	cst_item_release(&got);
	cst_item_release(&pat);
	assert_int_equal(count_items(f->st, NULL), 2);
}

/*
 * A write keeps the items it does not change as they were, keys it does not know
 * included, and lays the file out one item per line.
 */
static void test_write_keeps_other_items(void **state)
{
	static const char text[] =
	    "{\"version\": 1, \"items\": [\n  {\"kind\": \"credential\", \"host\": \"a\", "
	    "\"secret\": \"s1\", \"future\": {\"x\": [1, \"y z\"]}},\n  {\"kind\": "
	    "\"credential\", \"host\": \"b\", \"secret\": \"s2\"}]}";
	struct fixture *f = *state;
	struct cst_item pat = CST_ITEM_INIT;
	char *after, *line;
	size_t len, lines = 0;

	put_credential(f->st, "x", "u", "s");
	write_text(f->path, text, sizeof(text) - 1, 0600);
	put_credential(f->st, "c", "u", "s3");
	after = read_text(f->path, &len);
	assert_non_null(strstr(after, "{\"kind\":\"credential\",\"host\":\"a\",\"secret\":\"s1\","
				      "\"future\":{\"x\":[1,\"y z\"]}}"));
	assert_true(strncmp(after, "{\"version\":1,\"items\":[\n", 23) == 0);
	for (line = strchr(after, '\n'); line; line = strchr(line + 1, '\n'))
		lines += line[1] == '{';
	assert_int_equal(lines, 3);
	free(after);
	assert_int_equal(count_items(f->st, NULL), 3);
	/* erasing one leaves the others' text alone too */
	pat.host = xstrdup("b");
	assert_int_equal(cst_store_erase(f->st, &pat, NULL, &(struct cst_error){0}), 0);
	after = read_text(f->path, &len);
	assert_non_null(strstr(after, "\"future\":{\"x\":[1,\"y z\"]}"));
	assert_null(strstr(after, "\"s2\""));
	free(after);
	cst_item_release(&pat);
	assert_int_equal(count_items(f->st, NULL), 2);
}

/* Escapes JSON forbids, or that would cut a string short, make the file corrupt. */
static void test_refuses_bad_escapes(void **state)
{
	static const char *const bad[] = {
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"a\\u0000b\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"\\ud83d\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"\\ude00\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"\\u12g4\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"\\x\"}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"a\",}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\"},]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"expiry\":01}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"x\":tru}]}",
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"x\":[[[[[",
	};
	struct fixture *f = *state;
	size_t i;

	put_credential(f->st, "h", "u", "s");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(f->path, bad[i], strlen(bad[i]), 0600);
		assert_refused(f, f->path, CST_ERR_STORE, "corrupt");
	}
}

/* Numbers past plain integers: an exponent, a fraction, 16 digits. */
static void check_numbers(struct fixture *f)
{
	static const char frac[] =
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"h\",\"expiry\":1.5}]}";
	static const char exp[] =
	    "{\"version\":1,\"items\":[{\"kind\":\"credential\",\"host\":\"h\","
	    "\"secret\":\"s\",\"expiry\":1.5e3,\"created\":1234567890123456}]}";
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item pat = CST_ITEM_INIT, got;

	write_text(f->path, frac, sizeof(frac) - 1, 0600);
	assert_refused(f, f->path, CST_ERR_STORE, "corrupt");
	write_text(f->path, exp, sizeof(exp) - 1, 0600);
	pat.host = xstrdup("h");
	assert_int_equal(cst_store_get(f->st, &pat, &got, &e), 0);
	assert_true(got.expiry == 1500);
	assert_true(got.created == 1234567890123456LL);
	cst_item_release(&got);
	cst_item_release(&pat);
}

/* ... read the same whatever the locale's decimal point (where one with a comma exists). */
static void test_numbers_ignore_locale(void **state)
{
	static const char *const comma[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR"};
	struct fixture *f = *state;
	size_t i;

	put_credential(f->st, "x", "u", "s");
	check_numbers(f);
	for (i = 0; i < sizeof(comma) / sizeof(comma[0]); i++)
		if (setlocale(LC_NUMERIC, comma[i]) && *localeconv()->decimal_point == ',')
			break;
	if (i < sizeof(comma) / sizeof(comma[0]))
		check_numbers(f);
	setlocale(LC_NUMERIC, "C");
}

static void test_refuses_oversized_file(void **state)
{
	struct fixture *f = *state;
	size_t len = ((size_t)8 << 20) + 1;
	char *big = xmalloc(len);
	struct stat sb;

	put_credential(f->st, "h", "u", "s");
	memset(big, ' ', len);
	memcpy(big, "{\"version\":1,\"items\":[]}", 24);
	write_text(f->path, big, len, 0600);
	assert_refused(f, NULL, CST_ERR_TOO_LARGE, f->path);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true((size_t)sb.st_size == len);
	/* just under the cap is a store */
	write_text(f->path, big, len - 1, 0600);
	assert_int_equal(count_items(f->st, NULL), 0);
	free(big);
}

static void test_refuses_to_grow_past_cap(void **state)
{
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	size_t len = (size_t)8 << 20, blen, alen;
	char *before, *after;
	struct cst_item it;

	put_credential(f->st, "h", "u", "s");
	before = read_text(f->path, &blen);
	store_credential(&it, "big", "u", "");
	free(it.secret);
	it.secret = xmalloc(len + 1);
	memset(it.secret, 'x', len);
	it.secret[len] = '\0';
	assert_int_equal(cst_store_put(f->st, &it, NULL, &e), CST_ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "8 MiB"));
	after = read_text(f->path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	/* a big but fitting item goes in */
	it.secret[len / 2] = '\0';
	put_ok(f->st, &it, false);
	assert_int_equal(count_items(f->st, NULL), 2);
	cst_item_release(&it);
	free(before);
	free(after);
}

static void test_refuses_foreign_owner(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	put_credential(f->st, "h", "u", "hunter2");
	assert_int_equal(chown(f->path, 65534, 65534), 0);
	assert_refused(f, f->path, CST_ERR_INSECURE, "owned by uid 65534");
	assert_int_equal(chown(f->path, 0, 0), 0);
	assert_int_equal(chown(f->dir, 65534, 65534), 0);
	assert_refused(f, f->path, CST_ERR_INSECURE, "owned by uid 65534");
	assert_int_equal(chown(f->dir, 0, 0), 0);
	assert_int_equal(count_items(f->st, NULL), 1);
}

static void test_newer_version_read_only(void **state)
{
	static const char text[] =
	    "{\"version\":2,\"items\":[{\"kind\":\"credential\",\"host\":\"h\",\"secret\":"
	    "\"s\",\"future\":{\"x\":1}},{\"kind\":\"passkey\",\"host\":\"h\"}]}";
	struct fixture *f = *state;
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item pat = CST_ITEM_INIT, got, it;
	char *after;
	size_t len;

	put_credential(f->st, "x", "u", "s");
	write_text(f->path, text, sizeof(text) - 1, 0600);
	pat.host = xstrdup("h");
	assert_int_equal(cst_store_get(f->st, &pat, &got, &e), 0);
	assert_string_equal(got.secret, "s");
	cst_item_release(&got);
	assert_int_equal(count_items(f->st, NULL), 1);
	assert_int_equal(cst_store_erase(f->st, &pat, NULL, &e), CST_ERR_STORE);
	assert_non_null(strstr(e.msg, "newer cstoken"));
	store_credential(&it, "h", NULL, "s");
	assert_int_equal(cst_store_put(f->st, &it, NULL, &e), CST_ERR_STORE);
	cst_item_release(&it);
	after = read_text(f->path, &len); /* nothing was written */
	assert_string_equal(after, text);
	free(after);
	cst_item_release(&pat);
}

static void test_empty_file_is_empty_store(void **state)
{
	struct fixture *f = *state;

	put_credential(f->st, "x", "u", "s");
	write_text(f->path, "", 0, 0600);
	assert_int_equal(count_items(f->st, NULL), 0);
	put_credential(f->st, "h", "u", "s");
	assert_int_equal(count_items(f->st, NULL), 1);
}

static void test_stale_temp_files_removed(void **state)
{
	struct fixture *f = *state;
	char *stale = xasprintf("%s.tmp.0123456789abcdef", f->path);
	char *other = xasprintf("%s.tmp.keepme", f->path);

	put_credential(f->st, "x", "u", "s");
	write_text(stale, "{\"ver", 5, 0600);
	write_text(other, "mine", 4, 0600);
	put_credential(f->st, "h", "u", "s");
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(count_items(f->st, NULL), 2);
	free(stale);
	free(other);
}

static void test_bad_paths(void **state)
{
	struct cst_store_options opt = {.kind = CST_STORE_FILE, .file = "/tmp/"};
	struct cst_error e = CST_ERROR_INIT;
	struct cst_store *st = NULL;

	(void)state;
	assert_int_equal(cst_store_open(&st, &opt, &e), CST_ERR_INVALID);
	assert_null(st);
	opt.file = "/tmp/..";
	assert_int_equal(cst_store_open(&st, &opt, &e), CST_ERR_INVALID);
	opt.file = "";
	assert_int_equal(cst_store_open(&st, &opt, &e), CST_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_private_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_path_under_xdg_data_home, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unchanged_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erase_writes_only_when_it_removes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_symlinked_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_symlinked_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_group_readable_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_world_writable_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_corrupt_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reads_any_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_keeps_other_items, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_bad_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_numbers_ignore_locale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_oversized_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_to_grow_past_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_foreign_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_version_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_file_is_empty_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_temp_files_removed, setup, teardown),
	    cmocka_unit_test(test_bad_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
