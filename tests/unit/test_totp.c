/* RFC 6238 TOTP: the SHA1 test vectors of appendix B, and Base32 input handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cstoken/cma.h"

/* "12345678901234567890", the RFC's SHA1 seed, in Base32 */
#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static void test_rfc6238_vectors(void **state)
{
	/* the RFC prints 8 digits; a 6-digit code is their last six */
	static const struct {
		int64_t t;
		const char *code;
	} v[] = {
	    {59, "287082"},	    {1111111109, "081804"}, {1111111111, "050471"},
	    {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	};
	char out[7];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(totp_code(RFC_SECRET, v[i].t, out), 0);
		assert_string_equal(out, v[i].code);
	}
}

static void test_same_step_same_code(void **state)
{
	char a[7], b[7], c[7];

	(void)state;
	assert_int_equal(totp_code(RFC_SECRET, 1111111110, a), 0); /* step start */
	assert_int_equal(totp_code(RFC_SECRET, 1111111139, b), 0); /* same 30 s step */
	assert_int_equal(totp_code(RFC_SECRET, 1111111140, c), 0); /* next step */
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
}

static void test_base32_forms(void **state)
{
	char want[7], out[7];

	(void)state;
	assert_int_equal(totp_code(RFC_SECRET, 59, want), 0);
	/* lower case, spaces, dashes and padding are all the same secret */
	assert_int_equal(totp_code("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 59, out), 0);
	assert_string_equal(out, want);
	assert_int_equal(totp_code("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", 59, out), 0);
	assert_string_equal(out, want);
	assert_int_equal(totp_code("gezd-gnbv-gy3t-qojq-gezd-gnbv-gy3t-qojq", 59, out), 0);
	assert_string_equal(out, want);
	/* "12345" is GEZDGNBV exactly; padding after it is tolerated */
	assert_int_equal(totp_code("GEZDGNBV", 59, want), 0);
	assert_int_equal(totp_code("GEZDGNBV========", 59, out), 0);
	assert_string_equal(out, want);
}

static void test_base32_invalid(void **state)
{
	static const char *bad[] = {
	    "",		       /* nothing */
	    "   ",	       /* nothing but spaces */
	    "GEZDGNB1",	       /* '1' is not Base32 */
	    "GEZDGNB8",	       /* nor '8' */
	    "GEZD=GNBV",       /* data after padding */
	    "GEZDGNBV!",       /* punctuation */
	    "G\xc3\xa9ZDGNBV", /* non-ASCII */
	};
	char out[7];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(totp_code(bad[i], 59, out), CST_ERR_INVALID);
		assert_int_equal(out[0], '\0');
	}
	assert_int_equal(totp_code(NULL, 59, out), CST_ERR_INVALID);
	assert_int_equal(totp_code(RFC_SECRET, -1, out), CST_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc6238_vectors),
	    cmocka_unit_test(test_same_step_same_code),
	    cmocka_unit_test(test_base32_forms),
	    cmocka_unit_test(test_base32_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
