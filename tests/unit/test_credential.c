/* git's credential protocol: the parser and writer of helper/credential.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cstoken/credential.h"
#include "cstoken/util.h"

/* Parses len bytes of data; the stream is returned in *rest (may be NULL) for more reads. */
static int parse(struct credential *c, const char *data, size_t len, struct cst_error *e,
		 FILE **rest)
{
	FILE *fp = fmemopen((void *)(uintptr_t)data, len, "r");
	int ret;

	assert_non_null(fp);
	credential_init(c);
	ret = credential_read(c, fp, e);
	if (rest)
		*rest = fp;
	else
		fclose(fp);
	return ret;
}

static int parse_str(struct credential *c, const char *s, struct cst_error *e)
{
	return parse(c, s, strlen(s), e, NULL);
}

/* Writes c into a string the caller frees; returns credential_write's result. */
static int write_str(const struct credential *c, char **out, struct cst_error *e)
{
	size_t len = 0;
	FILE *fp = open_memstream(out, &len);
	int ret;

	assert_non_null(fp);
	ret = credential_write(c, fp, e);
	fclose(fp);
	return ret;
}

static void test_basic_fields(void **state)
{
	struct credential c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	assert_int_equal(parse_str(&c,
				   "protocol=https\nhost=example.com:8443\npath=a/b.git\n"
				   "username=alice\npassword=s3cret=x\noauth_refresh_token=rt\n"
				   "password_expiry_utc=1700000000\n\n",
				   &e),
			 0);
	assert_string_equal(c.protocol, "https");
	assert_string_equal(c.host, "example.com:8443");
	assert_string_equal(c.path, "a/b.git");
	assert_string_equal(c.username, "alice");
	/* only the first '=' separates key and value */
	assert_string_equal(c.password, "s3cret=x");
	assert_string_equal(c.oauth_refresh_token, "rt");
	assert_int_equal(c.password_expiry_utc, 1700000000);
	credential_release(&c);
	assert_null(c.protocol);
	assert_null(c.password);
}

static void test_blank_line_ends_request(void **state)
{
	static const char in[] = "protocol=https\n\nhost=after.blank\n";
	struct credential c;
	char rest[64] = "";
	FILE *fp;

	(void)state;
	assert_int_equal(parse(&c, in, sizeof(in) - 1, NULL, &fp), 0);
	assert_string_equal(c.protocol, "https");
	assert_null(c.host);
	/* nothing after the blank line was consumed */
	assert_non_null(fgets(rest, sizeof(rest), fp));
	assert_string_equal(rest, "host=after.blank\n");
	fclose(fp);
	credential_release(&c);
}

static void test_eof_without_blank_line(void **state)
{
	struct credential c;

	(void)state;
	/* the last line has no LF either */
	assert_int_equal(parse_str(&c, "protocol=https\nhost=example.com", NULL), 0);
	assert_string_equal(c.protocol, "https");
	assert_string_equal(c.host, "example.com");
	credential_release(&c);

	assert_int_equal(parse_str(&c, "", NULL), 0);
	assert_null(c.protocol);
	credential_release(&c);
}

static void test_unknown_keys_ignored(void **state)
{
	struct credential c;

	(void)state;
	assert_int_equal(parse_str(&c,
				   "protocol=https\nstate[]=foo\nephemeral=1\nauthtype=Bearer\n"
				   "credential=xyz\nhost=h\n\n",
				   NULL),
			 0);
	assert_string_equal(c.protocol, "https");
	assert_string_equal(c.host, "h");
	assert_null(c.password);
	credential_release(&c);
}

static void test_empty_vs_absent(void **state)
{
	struct credential c;
	char *out = NULL;

	(void)state;
	assert_int_equal(
	    parse_str(&c, "protocol=https\nhost=sso.tld\nusername=\npassword=\n", NULL), 0);
	assert_non_null(c.username);
	assert_string_equal(c.username, "");
	assert_non_null(c.password);
	assert_string_equal(c.password, "");
	assert_null(c.path);
	/* an empty value is written back, an absent one is not */
	assert_int_equal(write_str(&c, &out, NULL), 0);
	assert_string_equal(out, "protocol=https\nhost=sso.tld\nusername=\npassword=\n");
	free(out);
	credential_release(&c);
}

static void test_later_key_wins(void **state)
{
	struct credential c;

	(void)state;
	assert_int_equal(
	    parse_str(&c, "username=a\npassword=one\nusername=b\npassword=two\n", NULL), 0);
	assert_string_equal(c.username, "b");
	assert_string_equal(c.password, "two");
	credential_release(&c);
}

static void test_multi_valued(void **state)
{
	struct credential c;
	struct strbuf sb = STRBUF_INIT;
	int i;

	(void)state;
	assert_int_equal(parse_str(&c,
				   "capability[]=authtype\nwwwauth[]=Basic realm=\"x\"\n"
				   "wwwauth[]=Bearer\ncapability[]=state\n\n",
				   NULL),
			 0);
	assert_int_equal(c.nwwwauth, 2);
	assert_string_equal(c.wwwauth[0], "Basic realm=\"x\"");
	assert_string_equal(c.wwwauth[1], "Bearer");
	assert_int_equal(c.ncapability, 2);
	assert_string_equal(c.capability[1], "state");
	credential_release(&c);

	/* an empty value clears the list */
	assert_int_equal(parse_str(&c, "wwwauth[]=a\nwwwauth[]=\nwwwauth[]=b\n", NULL), 0);
	assert_int_equal(c.nwwwauth, 1);
	assert_string_equal(c.wwwauth[0], "b");
	credential_release(&c);

	/* at most CREDENTIAL_MAX_MULTI values are kept; the rest are dropped */
	for (i = 0; i < CREDENTIAL_MAX_MULTI + 10; i++)
		strbuf_addf(&sb, "wwwauth[]=v%d\n", i);
	assert_int_equal(parse_str(&c, sb.buf, NULL), 0);
	assert_int_equal(c.nwwwauth, CREDENTIAL_MAX_MULTI);
	assert_string_equal(c.wwwauth[CREDENTIAL_MAX_MULTI - 1], "v63");
	credential_release(&c);
	strbuf_release(&sb);
}

static void test_cr_refused(void **state)
{
	struct credential c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	assert_int_equal(parse_str(&c, "protocol=https\npassword=hunter2\r\n\n", &e),
			 CST_ERR_INVALID);
	assert_non_null(strstr(e.msg, "'password'"));
	assert_null(strstr(e.msg, "hunter2"));
	/* released on error */
	assert_null(c.protocol);
	assert_null(c.password);

	assert_int_equal(parse_str(&c, "host=a\rb.example\n", &e), CST_ERR_INVALID);
	assert_null(c.host);
}

static void test_nul_refused(void **state)
{
	static const char in[] = "protocol=https\nhost=evil.com\0.example.com\npassword=x\n";
	static const char in_key[] = "ho\0st=x\n";
	struct credential c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	assert_int_equal(parse(&c, in, sizeof(in) - 1, &e, NULL), CST_ERR_INVALID);
	assert_non_null(strstr(e.msg, "NUL"));
	assert_non_null(strstr(e.msg, "'host'"));
	assert_null(c.host);
	assert_null(c.protocol);

	assert_int_equal(parse(&c, in_key, sizeof(in_key) - 1, &e, NULL), CST_ERR_INVALID);
	assert_null(c.host);
}

static void test_line_without_equals(void **state)
{
	struct credential c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	assert_int_equal(parse_str(&c, "protocol=https\nsecretgarbage\n", &e), CST_ERR_INVALID);
	assert_null(strstr(e.msg, "secretgarbage"));
	assert_null(c.protocol);
	assert_int_equal(parse_str(&c, "=value\n", &e), CST_ERR_INVALID);
}

static void test_long_lines(void **state)
{
	struct credential c;
	struct cst_error e = CST_ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t n;

	(void)state;
	/* well over the 1024 and 8192 byte buffers of old helpers */
	strbuf_addstr(&sb, "protocol=https\npassword=");
	for (n = 0; n < 20000; n++)
		strbuf_addch(&sb, (char)('a' + n % 26));
	strbuf_addstr(&sb, "\nhost=example.com\n\n");
	assert_int_equal(parse_str(&c, sb.buf, NULL), 0);
	assert_int_equal(strlen(c.password), 20000);
	assert_string_equal(c.host, "example.com");
	credential_release(&c);

	/* exactly at the limit is fine */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "password=");
	while (sb.len < CREDENTIAL_MAX_LINE)
		strbuf_addch(&sb, 'x');
	strbuf_addch(&sb, '\n');
	assert_int_equal(parse_str(&c, sb.buf, NULL), 0);
	assert_int_equal(strlen(c.password), CREDENTIAL_MAX_LINE - strlen("password="));
	credential_release(&c);

	/* one byte over is refused, even with more input after it */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "protocol=https\npassword=");
	while (sb.len < 15 + CREDENTIAL_MAX_LINE + 1)
		strbuf_addch(&sb, 'x');
	strbuf_addstr(&sb, "\nhost=example.com\n");
	assert_int_equal(parse_str(&c, sb.buf, &e), CST_ERR_TOO_LARGE);
	assert_null(c.protocol);
	assert_null(c.password);
	assert_null(strstr(e.msg, "xxxx"));

	/* a 1 MiB line */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "host=");
	while (sb.len < 1024 * 1024)
		strbuf_addch(&sb, 'h');
	assert_int_equal(parse_str(&c, sb.buf, &e), CST_ERR_TOO_LARGE);
	strbuf_release(&sb);
}

static void test_url_simple(void **state)
{
	struct credential c;

	(void)state;
	assert_int_equal(parse_str(&c, "url=https://example.com\n", NULL), 0);
	assert_string_equal(c.protocol, "https");
	assert_string_equal(c.host, "example.com");
	assert_null(c.username);
	assert_null(c.password);
	assert_null(c.path);
	credential_release(&c);

	assert_int_equal(parse_str(&c, "url=https://bob@example.com:8443//org/repo.git//\n", NULL),
			 0);
	assert_string_equal(c.host, "example.com:8443");
	assert_string_equal(c.username, "bob");
	assert_null(c.password);
	/* slashes around the path are trimmed, as git does */
	assert_string_equal(c.path, "org/repo.git");
	credential_release(&c);
}

static void test_url_percent_encoding(void **state)
{
	struct credential c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	assert_int_equal(
	    parse_str(&c, "url=https://al%69ce%40corp:p%40ss%3Aw%2fd@example.com/a%20b\n", NULL),
	    0);
	assert_string_equal(c.username, "alice@corp");
	assert_string_equal(c.password, "p@ss:w/d");
	assert_string_equal(c.host, "example.com");
	assert_string_equal(c.path, "a b");
	credential_release(&c);

	/* a malformed escape is kept as is */
	assert_int_equal(parse_str(&c, "url=https://u%zz:%4@h\n", NULL), 0);
	assert_string_equal(c.username, "u%zz");
	assert_string_equal(c.password, "%4");
	credential_release(&c);

	/* a raw '@' in the password: the host is what follows the last one */
	assert_int_equal(parse_str(&c, "url=https://u:p@ss@example.com/x\n", NULL), 0);
	assert_string_equal(c.password, "p@ss");
	assert_string_equal(c.host, "example.com");
	credential_release(&c);

	/* an '@' in the path is not user info */
	assert_int_equal(parse_str(&c, "url=https://example.com/a@b\n", NULL), 0);
	assert_null(c.username);
	assert_string_equal(c.host, "example.com");
	assert_string_equal(c.path, "a@b");
	credential_release(&c);

	/* encoded LF, CR, NUL would inject keys: refused, without echoing the value */
	assert_int_equal(parse_str(&c, "url=https://example.com%0ahost=evil.com\n", &e),
			 CST_ERR_INVALID);
	assert_null(strstr(e.msg, "evil"));
	assert_int_equal(parse_str(&c, "url=https://u:pa%0dss@example.com\n", &e), CST_ERR_INVALID);
	assert_int_equal(parse_str(&c, "url=https://u:pa%00ss@example.com\n", &e), CST_ERR_INVALID);
	assert_null(c.password);
}

static void test_url_ipv6(void **state)
{
	struct credential c;

	(void)state;
	assert_int_equal(parse_str(&c, "url=https://[::1]:8443/repo.git\n", NULL), 0);
	assert_string_equal(c.host, "[::1]:8443");
	assert_null(c.username);
	assert_string_equal(c.path, "repo.git");
	credential_release(&c);

	assert_int_equal(parse_str(&c, "url=http://user@[fe80::1%25eth0]/\n", NULL), 0);
	assert_string_equal(c.username, "user");
	assert_string_equal(c.host, "[fe80::1%eth0]");
	assert_null(c.path);
	credential_release(&c);

	assert_int_equal(parse_str(&c, "url=https://u:p@[2001:db8::2]:1\n", NULL), 0);
	assert_string_equal(c.username, "u");
	assert_string_equal(c.password, "p");
	assert_string_equal(c.host, "[2001:db8::2]:1");
	credential_release(&c);

	/* host= as git sends it for IPv6 is kept verbatim */
	assert_int_equal(parse_str(&c, "protocol=https\nhost=[::1]:8443\n", NULL), 0);
	assert_string_equal(c.host, "[::1]:8443");
	credential_release(&c);
}

static void test_url_replaces_and_is_overridden(void **state)
{
	struct credential c;

	(void)state;
	/* url= replaces the parts read before it ... */
	assert_int_equal(parse_str(&c,
				   "username=old\npassword=old\npath=old\nwwwauth[]=Basic\n"
				   "url=https://example.com\n",
				   NULL),
			 0);
	assert_null(c.username);
	assert_null(c.password);
	assert_null(c.path);
	assert_int_equal(c.nwwwauth, 1);
	credential_release(&c);
	/* ... and keys after it override it */
	assert_int_equal(parse_str(&c, "url=https://a@example.com/p\nusername=b\n", NULL), 0);
	assert_string_equal(c.username, "b");
	assert_string_equal(c.path, "p");
	credential_release(&c);
}

static void test_url_malformed(void **state)
{
	struct credential c = CREDENTIAL_INIT;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	assert_int_equal(parse_str(&c, "url=example.com/x\n", &e), CST_ERR_INVALID);
	assert_non_null(strstr(e.msg, "scheme"));
	assert_int_equal(parse_str(&c, "url=://example.com\n", &e), CST_ERR_INVALID);
	/* credential_from_url leaves c alone on error */
	credential_init(&c);
	assert_int_equal(credential_from_url(&c, "nope", &e), CST_ERR_INVALID);
	assert_null(c.protocol);
	assert_int_equal(credential_from_url(&c, "file:///srv/repo.git", &e), 0);
	assert_string_equal(c.protocol, "file");
	assert_string_equal(c.host, "");
	assert_string_equal(c.path, "srv/repo.git");
	credential_release(&c);
}

static void test_expiry(void **state)
{
	struct credential c;

	(void)state;
	assert_int_equal(parse_str(&c, "password_expiry_utc=4102444800\n", NULL), 0);
	assert_int_equal(c.password_expiry_utc, 4102444800LL);
	credential_release(&c);
	/* git treats a bad value as "never expires": ignored, not an error */
	assert_int_equal(parse_str(&c, "password=p\npassword_expiry_utc=soon\n", NULL), 0);
	assert_int_equal(c.password_expiry_utc, 0);
	assert_string_equal(c.password, "p");
	credential_release(&c);
	assert_int_equal(parse_str(&c, "password_expiry_utc=12x\n", NULL), 0);
	assert_int_equal(c.password_expiry_utc, 0);
	credential_release(&c);
	assert_int_equal(parse_str(&c, "password_expiry_utc=-5\n", NULL), 0);
	assert_int_equal(c.password_expiry_utc, 0);
	credential_release(&c);
	assert_int_equal(parse_str(&c, "password_expiry_utc=99999999999999999999999\n", NULL), 0);
	assert_int_equal(c.password_expiry_utc, 0);
	credential_release(&c);
}

static void test_write_all_fields(void **state)
{
	struct credential c = CREDENTIAL_INIT;
	char *out = NULL;

	(void)state;
	c.username = xstrdup("alice");
	c.password = xstrdup("pw");
	c.password_expiry_utc = 1700000000;
	c.oauth_refresh_token = xstrdup("rt");
	assert_int_equal(write_str(&c, &out, NULL), 0);
	assert_string_equal(out, "username=alice\npassword=pw\npassword_expiry_utc=1700000000\n"
				 "oauth_refresh_token=rt\n");
	free(out);
	/* expiry 0 is absent */
	c.password_expiry_utc = 0;
	assert_int_equal(write_str(&c, &out, NULL), 0);
	assert_null(strstr(out, "expiry"));
	free(out);
	credential_release(&c);
}

static void test_write_refuses_newlines(void **state)
{
	struct credential c = CREDENTIAL_INIT;
	struct cst_error e = CST_ERROR_INIT;
	char *out = NULL;

	(void)state;
	c.protocol = xstrdup("https");
	c.host = xstrdup("example.com");
	c.username = xstrdup("alice");
	c.password = xstrdup("pw\nhost=evil.com");
	assert_int_equal(write_str(&c, &out, &e), CST_ERR_INVALID);
	/* nothing at all was written, not even the valid fields before it */
	assert_string_equal(out, "");
	assert_non_null(strstr(e.msg, "'password'"));
	assert_null(strstr(e.msg, "evil"));
	free(out);

	set_secret(&c.password, "pw\r");
	assert_int_equal(write_str(&c, &out, &e), CST_ERR_INVALID);
	assert_string_equal(out, "");
	free(out);

	set_secret(&c.password, "pw");
	set_str(&c.username, "al\nice");
	assert_int_equal(write_str(&c, &out, &e), CST_ERR_INVALID);
	assert_string_equal(out, "");
	free(out);
	credential_release(&c);
}

static void test_round_trip(void **state)
{
	static const char in[] = "capability[]=authtype\nprotocol=https\nhost=[::1]:8443\n"
				 "path=r.git\nusername=\npassword=p=w\n"
				 "password_expiry_utc=42\noauth_refresh_token=t\n"
				 "wwwauth[]=Basic realm=\"r\"\n";
	struct credential c;
	char *out = NULL;

	(void)state;
	assert_int_equal(parse_str(&c, in, NULL), 0);
	assert_int_equal(write_str(&c, &out, NULL), 0);
	assert_string_equal(out, in);
	free(out);
	credential_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_fields),
	    cmocka_unit_test(test_blank_line_ends_request),
	    cmocka_unit_test(test_eof_without_blank_line),
	    cmocka_unit_test(test_unknown_keys_ignored),
	    cmocka_unit_test(test_empty_vs_absent),
	    cmocka_unit_test(test_later_key_wins),
	    cmocka_unit_test(test_multi_valued),
	    cmocka_unit_test(test_cr_refused),
	    cmocka_unit_test(test_nul_refused),
	    cmocka_unit_test(test_line_without_equals),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_url_simple),
	    cmocka_unit_test(test_url_percent_encoding),
	    cmocka_unit_test(test_url_ipv6),
	    cmocka_unit_test(test_url_replaces_and_is_overridden),
	    cmocka_unit_test(test_url_malformed),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_write_all_fields),
	    cmocka_unit_test(test_write_refuses_newlines),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
