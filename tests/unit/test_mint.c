/* The pure parts of the minting policy (helper/policy/mint.c) and the minting lock
 * (helper/policy/lock.c). */
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

#include "cstoken/mint.h"
#include "cstoken/util.h"
#include "lock.h"

static char *branches_a[] = {"main", "development"};
static char *branches_b[] = {"development", "main"};
static char *branches_c[] = {"main"};

static void profile(struct cst_profile *p, char **branches, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->name = (char *)(uintptr_t) "default";
	p->host = (char *)(uintptr_t) "eu-api.contentstack.com";
	p->api_key = (char *)(uintptr_t) "blt0123";
	p->branches = branches;
	p->nbranches = n;
}

static void test_fingerprint(void **state)
{
	struct cst_profile a, b;
	char *fa, *fb;

	(void)state;
	profile(&a, branches_a, 2);
	profile(&b, branches_b, 2);
	fa = cst_scope_fingerprint(&a);
	fb = cst_scope_fingerprint(&b);
	/* the scope text itself, versioned, on one line */
	assert_string_equal(fa, "v2:host=eu-api.contentstack.com;api_key=blt0123;"
				"branches=development,main;aliases=;acl=read");
	assert_false(cst_has_control(fa));
	assert_string_equal(fa, fb); /* order of branches carries no meaning */
	assert_true(cst_scope_matches(&a, fa, fb));
	free(fb);
	b.host = (char *)(uintptr_t) "EU-API.contentstack.com";
	fb = cst_scope_fingerprint(&b);
	assert_string_equal(fa, fb);
	free(fb);

	profile(&b, branches_c, 1);
	fb = cst_scope_fingerprint(&b);
	assert_string_not_equal(fa, fb);
	free(fb);

	/* the same names as aliases are a different scope */
	profile(&b, NULL, 0);
	b.aliases = branches_a;
	b.naliases = 2;
	fb = cst_scope_fingerprint(&b);
	assert_string_not_equal(fa, fb);
	free(fb);

	profile(&b, branches_a, 2);
	b.write = true;
	fb = cst_scope_fingerprint(&b);
	assert_string_not_equal(fa, fb);
	free(fb);

	profile(&b, branches_a, 2);
	b.api_key = (char *)(uintptr_t) "blt0124";
	fb = cst_scope_fingerprint(&b);
	assert_string_not_equal(fa, fb);
	free(fb);

	profile(&b, branches_a, 2);
	b.host = (char *)(uintptr_t) "api.contentstack.io";
	fb = cst_scope_fingerprint(&b);
	assert_string_not_equal(fa, fb);
	assert_false(cst_scope_matches(&a, fa, fb));
	free(fb);
	free(fa);
}

/* SHA-256 of "cstoken-scope-v1\nhost=eu-api.contentstack.com\n...acl=read\n", as stored before */
#define V1_FP_A "a10f302c45368af15f52a366bcd9ab43b59d5b0f9d40704aea897eeb786f27f1"

static void test_fingerprint_v1(void **state)
{
	struct cst_profile a, b;
	char *fa, *fb;

	(void)state;
	profile(&a, branches_a, 2);
	profile(&b, branches_b, 2);
	b.host = (char *)(uintptr_t) "EU-API.contentstack.com";
	fa = cst_scope_fingerprint(&a);
	fb = cst_scope_fingerprint(&b);
	/* the old form of the same scope is recognised, whatever the order and case */
	assert_true(cst_scope_matches(&a, fa, V1_FP_A));
	assert_true(cst_scope_matches(&b, fb, V1_FP_A));
	free(fb);
	/* ... and of another scope is not */
	profile(&b, branches_a, 2);
	b.write = true;
	fb = cst_scope_fingerprint(&b);
	assert_false(cst_scope_matches(&b, fb, V1_FP_A));
	free(fb);
	profile(&b, branches_c, 1);
	fb = cst_scope_fingerprint(&b);
	assert_false(cst_scope_matches(&b, fb, V1_FP_A));
	free(fb);
	/* not quite the old form: never a match */
	assert_false(cst_scope_matches(
	    &a, fa, "A10F302C45368AF15F52A366BCD9AB43B59D5B0F9D40704AEA897EEB786F27F1"));
	assert_false(cst_scope_matches(&a, fa, V1_FP_A "0"));
	assert_false(cst_scope_matches(&a, fa, ""));
	assert_false(cst_scope_matches(&a, fa, NULL));
	assert_false(cst_scope_matches(&a, "", ""));
	free(fa);
}

static void test_token_name(void **state)
{
	struct cst_profile p;
	char host[256] = "", *dot, *name;

	(void)state;
	profile(&p, branches_c, 1);
	p.name_template = (char *)(uintptr_t) "x {profile} {user} {nope} {";
	name = cst_token_name(&p);
	assert_true(!strncmp(name, "x default ", 10));
	assert_non_null(strstr(name, " {nope} {"));
	assert_null(strstr(name, "{user}"));
	free(name);

	p.name_template = (char *)(uintptr_t) "{hostname}";
	name = cst_token_name(&p);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	dot = strchr(host, '.');
	if (dot && dot != host)
		*dot = '\0';
	assert_string_equal(name, host);
	free(name);

	p.name_template = NULL;
	name = cst_token_name(&p);
	assert_true(!strncmp(name, "cstoken ", 8));
	assert_non_null(strstr(name, " default"));
	assert_non_null(strchr(name, '@'));
	free(name);
}

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/cst-test-mint.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void test_lock_excludes(void **state)
{
	struct cst_error e = CST_ERROR_INIT;
	char *dir = tmpdir(), *sub = xasprintf("%s/a/cstoken", dir), *file;
	struct stat sb;
	int fd1 = -1, fd2 = -1;

	(void)state;
	assert_int_equal(cst_lock_acquire(sub, "we/ird name", 0, &fd1, &e), 0);
	assert_true(fd1 >= 0);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	file = xasprintf("%s/mint-we_ird_name.lock", sub);
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* flock is per open file: a second open in this process is excluded too */
	assert_int_equal(cst_lock_acquire(sub, "we/ird name", 0, &fd2, &e), CST_ERR_TIMEOUT);
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(e.msg, "mint-we_ird_name.lock"));
	cst_lock_release(fd1);
	assert_int_equal(cst_lock_acquire(sub, "we/ird name", 0, &fd2, &e), 0);
	cst_lock_release(fd2);
	unlink(file);
	free(file);
	rmdir(sub);
	file = xasprintf("%s/a", dir);
	rmdir(file);
	free(file);
	rmdir(dir);
	free(sub);
	free(dir);
}

static void test_lock_refuses_insecure(void **state)
{
	struct cst_error e = CST_ERROR_INIT;
	char *dir = tmpdir(), *file = xasprintf("%s/mint-p.lock", dir);
	char *target = xasprintf("%s/target", dir);
	int fd = -1;

	(void)state;
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(cst_lock_acquire(dir, "p", 0, &fd, &e), CST_ERR_INSECURE);
	assert_int_equal(fd, -1);
	/* readable is fine (the store's directory may be 0755), writable by others is not */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(cst_lock_acquire(dir, "p", 0, &fd, &e), 0);
	cst_lock_release(fd);
	unlink(file);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(symlink(target, file), 0);
	assert_int_equal(cst_lock_acquire(dir, "p", 0, &fd, &e), CST_ERR_INSECURE);
	assert_int_equal(access(target, F_OK), -1);
	unlink(file);
	rmdir(dir);
	free(target);
	free(file);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint),
	    cmocka_unit_test(test_fingerprint_v1),
	    cmocka_unit_test(test_token_name),
	    cmocka_unit_test(test_lock_excludes),
	    cmocka_unit_test(test_lock_refuses_insecure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
