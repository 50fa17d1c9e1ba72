/* cst_config_write_profile: one profile in, every other byte of the file as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cstoken/config.h"
#include "cstoken/util.h"

static char tmpdir[] = "/tmp/cstoken-config-write-test.XXXXXX";
static int nfiles;

static const char section[] = "[profile new]\nregion = eu\napi_key = blt1\n";

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The whole file; caller frees. */
static char *read_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[512];
	size_t n;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	strbuf_addstr(&sb, "");
	return strbuf_detach(&sb, NULL);
}

/* A fresh path under the test directory, with text in it unless text is NULL. */
static char *conf(const char *text)
{
	char *path = xasprintf("%s/d%d/config", tmpdir, ++nfiles);

	if (text) {
		char *dir = xasprintf("%s/d%d", tmpdir, nfiles);

		assert_int_equal(mkdir(dir, 0700), 0);
		free(dir);
		write_file(path, text, 0600);
	}
	return path;
}

/* Writes section for profile name into a file holding before; expects after. */
static void check(const char *before, const char *name, const char *text, bool replace,
		  const char *after)
{
	struct cst_error e = CST_ERROR_INIT;
	char *path = conf(before), *got;

	assert_int_equal(cst_config_write_profile(path, name, text, replace, &e), 0);
	got = read_file(path);
	assert_string_equal(got, after);
	free(got);
	free(path);
}

static void test_new_file(void **state)
{
	char *path = conf(NULL), *dir = xstrdup(path), *got;
	struct cst_error e = CST_ERROR_INIT;
	struct stat st;

	(void)state;
	*strrchr(dir, '/') = '\0';
	assert_int_equal(cst_config_write_profile(path, "new", section, false, &e), 0);
	got = read_file(path);
	assert_string_equal(got, section);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	free(got);
	free(dir);
	free(path);
}

static void test_append(void **state)
{
	(void)state;
	check("; mine\n[cstoken]\ntimeout = 5\n", "new", section, false,
	      "; mine\n[cstoken]\ntimeout = 5\n\n[profile new]\nregion = eu\napi_key = blt1\n");
	/* a last line without its newline gets one */
	check("[cstoken]\ntimeout = 5", "new", section, false,
	      "[cstoken]\ntimeout = 5\n\n[profile new]\nregion = eu\napi_key = blt1\n");
	/* another profile's name that starts the same is another profile */
	check("[profile newer]\nregion = na\n", "new", section, false,
	      "[profile newer]\nregion = na\n\n[profile new]\nregion = eu\napi_key = blt1\n");
}

static void test_replace(void **state)
{
	(void)state;
	/* in the middle: the comment before the next section stays with it */
	check("[profile a]\nregion = na\n\n[ Profile  new ] ; old\nregion = au\napi_key = old\n"
	      "\n; b is for work\n[profile b]\nregion = eu\n",
	      "new", section, true,
	      "[profile a]\nregion = na\n\n[profile new]\nregion = eu\napi_key = blt1\n"
	      "\n; b is for work\n[profile b]\nregion = eu\n");
	/* the last section, and one followed directly by the next header */
	check("[profile a]\nregion = na\n[profile new]\nregion = au\n", "new", section, true,
	      "[profile a]\nregion = na\n[profile new]\nregion = eu\napi_key = blt1\n");
	check("[profile new]\nregion = au\n[profile b]\nregion = eu\n", "new", section, true,
	      "[profile new]\nregion = eu\napi_key = blt1\n\n[profile b]\nregion = eu\n");
}

static void test_refusals(void **state)
{
	struct cst_error e = CST_ERROR_INIT;
	const char *before = "[profile new]\nregion = au\n";
	char *path = conf(before), *got, *link;

	(void)state;
	/* an existing profile without replace */
	assert_int_equal(cst_config_write_profile(path, "new", section, false, &e), CST_ERR_USAGE);
	assert_non_null(strstr(e.msg, "give --force"));
	/* a section that would not load leaves the file alone */
	assert_int_equal(
	    cst_config_write_profile(path, "new", "[profile new]\nbogus = 1\n", true, &e),
	    CST_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "would not load"));
	got = read_file(path);
	assert_string_equal(got, before);
	free(got);
	/* a file others may write */
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(cst_config_write_profile(path, "other", section, false, &e),
			 CST_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "chmod go-w"));
	assert_int_equal(chmod(path, 0600), 0);
	/* a symlink is not replaced */
	link = xasprintf("%s.link", path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(cst_config_write_profile(link, "other", section, false, &e),
			 CST_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "symbolic link"));
	got = read_file(path);
	assert_string_equal(got, before);
	free(got);
	free(link);
	free(path);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	unsetenv("CSTOKEN_STORE");
	unsetenv("CSTOKEN_STORE_FILE");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_file),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
