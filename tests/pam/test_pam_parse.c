/* Unit tests of pam_cstoken's argument and porcelain parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "cstoken/error.h"
#include "token.h"

static int parse(const char *text, struct pcs_token *t, char *buf, size_t size, const char **why)
{
	strncpy(buf, text, size - 1);
	buf[size - 1] = '\0';
	return pcs_token_parse(buf, strlen(buf), t, why);
}

static void test_token_ok(void **state)
{
	char buf[256];
	struct pcs_token t;
	const char *why = NULL;

	(void)state;
	assert_int_equal(parse("api_key=blt1\ntoken=cs2\nuid=blt3\nexpiry=1700000000\nminted=1\n",
			       &t, buf, sizeof(buf), &why),
			 0);
	assert_string_equal(t.api_key, "blt1");
	assert_string_equal(t.token, "cs2");
	assert_string_equal(t.uid, "blt3");
	assert_string_equal(t.expiry, "1700000000");
	assert_true(t.minted);

	/* order is free but for minted= last, unknown keys are ignored, uid may be empty */
	assert_int_equal(parse("new=x\nuid=\nexpiry=0\ntoken=cs2\napi_key=blt1\nminted=0\n", &t,
			       buf, sizeof(buf), &why),
			 0);
	assert_string_equal(t.uid, "");
	assert_false(t.minted);
}

static void test_token_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "api_key=k\ntoken=t\nuid=u\nexpiry=0\nminted=0",		/* no final newline */
	    "api_key=k\ntoken=t\nuid=u\nexpiry=0\n",			/* minted missing */
	    "api_key=k\ntoken=t\ntoken=t\nuid=u\nexpiry=0\nminted=0\n", /* twice */
	    "api_key=k\ntoken=\nuid=u\nexpiry=0\nminted=0\n",		/* empty token */
	    "api_key=k\ntoken=a b\nuid=u\nexpiry=0\nminted=0\n",	/* space */
	    "api_key=k\ntoken=t\nuid=-x\nexpiry=0\nminted=0\n",		/* uid like an option */
	    "api_key=k\ntoken=t\nuid=u\nexpiry=-1\nminted=0\n",
	    "api_key=k\ntoken=t\nuid=u\nexpiry=0\nminted=2\n",
	    "api_key=k\ntoken=t\nuid=u\nexpiry=0\nminted=0\ngarbage\n",
	    "minted=0\napi_key=k\ntoken=t\nuid=u\nexpiry=0\n",		/* minted= not last */
	    "api_key=k\ntoken=t\nuid=u\nexpiry=0\nminted=0\nlater=x\n", /* a line after it */
	};
	char buf[256];
	struct pcs_token t;
	const char *why = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(parse(bad[i], &t, buf, sizeof(buf), &why), CST_ERR_INVALID);
		assert_non_null(why);
	}
	/* a NUL byte inside the output */
	memcpy(buf, "api_key=k\0token=t\n", 19);
	assert_int_equal(pcs_token_parse(buf, 18, &t, &why), CST_ERR_INVALID);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(pcs_valid_env_name("CONTENTSTACK_MANAGEMENT_TOKEN"));
	assert_true(pcs_valid_env_name("_x1"));
	assert_false(pcs_valid_env_name("1X"));
	assert_false(pcs_valid_env_name("A=B"));
	assert_false(pcs_valid_env_name(""));
	assert_false(pcs_valid_env_name("A-B"));
	assert_true(pcs_valid_word("default"));
	assert_true(pcs_valid_word("prod.eu_2-x"));
	assert_false(pcs_valid_word("-p"));
	assert_false(pcs_valid_word("a b"));
	assert_false(pcs_valid_word("a/b"));
	assert_false(pcs_valid_word(""));
}

static void test_argv(void **state)
{
	const char *argv[8];

	(void)state;
	pcs_token_argv("/bin/cstoken", "work", false, argv);
	assert_string_equal(argv[1], "token");
	assert_string_equal(argv[2], "--porcelain");
	assert_string_equal(argv[3], "-p");
	assert_string_equal(argv[4], "work");
	assert_string_equal(argv[5], "--no-mint");
	assert_null(argv[6]);
	pcs_token_argv("/bin/cstoken", NULL, true, argv);
	assert_null(argv[3]);
	pcs_revoke_argv("/bin/cstoken", NULL, "blt1", argv);
	assert_string_equal(argv[1], "revoke");
	assert_string_equal(argv[2], "--uid");
	assert_string_equal(argv[3], "blt1");
	assert_null(argv[4]);
}

static void test_cfg(void **state)
{
	const char *ok[] = {"profile=work", "env=MY_TOKEN", "mint", "revoke",
			    "timeout=2",    "debug",	    "bogus"};
	const char *bad_env[] = {"env=1X"};
	const char *bad_timeout[] = {"timeout=0"};
	const char *bad_timeout2[] = {"timeout=5s"};
	const char *bad_profile[] = {"profile=--help"};
	struct pcs_cfg cfg;

	(void)state;
	assert_int_equal(pcs_cfg_parse(NULL, 0, NULL, &cfg), 0);
	assert_null(cfg.profile);
	assert_string_equal(cfg.env, PCS_DEFAULT_ENV);
	assert_int_equal(cfg.timeout, PCS_DEFAULT_TIMEOUT);
	assert_false(cfg.mint || cfg.revoke || cfg.debug);

	assert_int_equal(pcs_cfg_parse(NULL, 7, ok, &cfg), 0);
	assert_string_equal(cfg.profile, "work");
	assert_string_equal(cfg.env, "MY_TOKEN");
	assert_int_equal(cfg.timeout, 2);
	assert_true(cfg.mint && cfg.revoke && cfg.debug);

	assert_int_equal(pcs_cfg_parse(NULL, 1, bad_env, &cfg), CST_ERR_CONFIG);
	assert_int_equal(pcs_cfg_parse(NULL, 1, bad_timeout, &cfg), CST_ERR_CONFIG);
	assert_int_equal(pcs_cfg_parse(NULL, 1, bad_timeout2, &cfg), CST_ERR_CONFIG);
	assert_int_equal(pcs_cfg_parse(NULL, 1, bad_profile, &cfg), CST_ERR_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_ok), cmocka_unit_test(test_token_bad),
	    cmocka_unit_test(test_names),    cmocka_unit_test(test_argv),
	    cmocka_unit_test(test_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
