/*
 * The CMA client's token calls against the local emulator (run by
 * tests/integration/http_faults.sh, which exports CST_EMU_HOST, CST_EMU_CA, CST_EMU_URL,
 * CST_EMU_EMAIL, CST_EMU_API_KEY and pipes the password on stdin). Faults are set through
 * the emulator's control API with libcurl directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "cstoken/cma.h"
#include "cstoken/util.h"

static const char *host, *ca, *url, *email, *api_key;
static char *password, *authtoken;

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
	strbuf_add(userp, data, size * nmemb);
	return size * nmemb;
}

/* METHOD on the emulator's control API; returns the body (caller frees). */
static char *emu(const char *method, const char *path, const char *json)
{
	struct strbuf sb = STRBUF_INIT;
	struct curl_slist *h = NULL;
	char *u = xasprintf("%s%s", url, path);
	CURL *curl = curl_easy_init();
	long status = 0;

	assert_non_null(curl);
	curl_easy_setopt(curl, CURLOPT_URL, u);
	curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sb);
	if (json) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
	}
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	free(u);
	strbuf_addstr(&sb, "");
	return strbuf_detach(&sb, NULL);
}

static void emu_fault(const char *method, const char *path, const char *responses)
{
	char *json = xasprintf("{\"method\":\"%s\",\"path\":\"%s\",\"responses\":%s}", method, path,
			       responses);

	free(emu("POST", "/_emu/faults", json));
	free(json);
}

/* How many requests the emulator logged for METHOD PATH (a prefix). */
static int emu_count(const char *method, const char *path)
{
	char *q = xasprintf("/_emu/requests?method=%s&path=%s", method, path);
	char *body = emu("GET", q, NULL), *p;
	int n = 0;

	for (p = body; (p = strstr(p, "\"method\"")); p++)
		n++;
	free(body);
	free(q);
	return n;
}

static void client(struct cma_client *c)
{
	cma_client_init(c, host, ca, 10);
}

static int setup_login(void **state)
{
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;
	int ret;

	(void)state;
	client(&c);
	ret = cma_login(&c, email, password, NULL, &authtoken, &e);
	cma_client_release(&c);
	if (ret)
		fprintf(stderr, "login: %s\n", cst_error_msg(&e, ret));
	return ret;
}

static void test_lazy_init(void **state)
{
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	client(&c);
	assert_null(c.curl); /* a stored hit never pays for libcurl */
	assert_int_equal(cma_check_authtoken(&c, authtoken, &e), 0);
	assert_non_null(c.curl);
	cma_client_release(&c);
	assert_null(c.curl);
}

static void test_bad_authtoken(void **state)
{
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	client(&c);
	assert_int_equal(cma_check_authtoken(&c, "bltnotarealtoken", &e), CST_ERR_AUTH);
	assert_non_null(strstr(e.msg, "run 'cstoken login'"));
	assert_null(strstr(e.msg, "bltnotarealtoken"));
	cma_client_release(&c);
}

/* A value that is no plain word never reaches a header or the path: nothing is sent. */
static void test_hostile_values_not_sent(void **state)
{
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;
	int before = emu_count("GET", "/v3/") + emu_count("DELETE", "/v3/");

	(void)state;
	client(&c);
	assert_int_equal(cma_check_authtoken(&c, "blt1\r\nX-Injected: 1", &e), CST_ERR_AUTH);
	assert_non_null(strstr(e.msg, "the stored authtoken for"));
	assert_null(strstr(e.msg, "X-Injected"));
	assert_int_equal(cma_logout(&c, "blt1 2", &e), CST_ERR_AUTH);
	assert_int_equal(cma_check_token(&c, api_key, "cs1\nX-Injected: 1", &e), CST_ERR_AUTH);
	assert_non_null(strstr(e.msg, "management token"));
	assert_int_equal(cma_check_token(&c, api_key, "Bearer cs1\r\nX: 1", &e), CST_ERR_AUTH);
	assert_non_null(strstr(e.msg, "OAuth access token"));
	assert_int_equal(cma_check_token(&c, api_key, "Bearer ", &e), CST_ERR_AUTH);
	assert_int_equal(cma_check_token(&c, "blt1\r\nX: 1", "cs1", &e), CST_ERR_CONFIG);
	assert_int_equal(cma_token_delete(&c, api_key, authtoken, "../../user-session", &e),
			 CST_ERR_INVALID);
	assert_int_equal(cma_token_delete(&c, api_key, authtoken, "blt1\r\nX: 1", &e),
			 CST_ERR_INVALID);
	assert_null(c.curl); /* refused before libcurl was even set up */
	assert_int_equal(emu_count("GET", "/v3/") + emu_count("DELETE", "/v3/"), before);
	cma_client_release(&c);
}

static void test_token_lifecycle(void **state)
{
	static const char *const branches[] = {"main"};
	struct cma_token_spec spec = {.name = "cstoken test",
				      .description = "minted by test_cma",
				      .branches = branches,
				      .nbranches = 1,
				      .expires_on = "2099-01-01"};
	struct cma_token tok = {0}, *list = NULL;
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;
	size_t n = 0, i;
	bool found = false;
	int ret;

	(void)state;
	client(&c);
	ret = cma_token_create(&c, api_key, authtoken, &spec, &tok, &e);
	assert_int_equal(ret, 0);
	assert_non_null(tok.uid);
	assert_non_null(tok.secret);
	assert_true(!strncmp(tok.secret, "cs", 2));
	assert_string_equal(tok.name, "cstoken test");
	assert_int_equal(tok.expiry, 4070908800); /* 2099-01-01T00:00:00Z */

	assert_int_equal(cma_check_token(&c, api_key, tok.secret, &e), 0);

	assert_int_equal(cma_tokens_list(&c, api_key, authtoken, &list, &n, &e), 0);
	for (i = 0; i < n; i++) {
		assert_null(list[i].secret);
		if (!strcmp(list[i].uid, tok.uid))
			found = true;
	}
	assert_true(found);
	cma_token_array_free(list, n);

	assert_int_equal(cma_token_delete(&c, api_key, authtoken, tok.uid, &e), 0);
	assert_int_equal(cma_check_token(&c, api_key, tok.secret, &e), CST_ERR_AUTH);
	assert_null(strstr(e.msg, tok.secret));
	assert_int_equal(cma_token_delete(&c, api_key, authtoken, tok.uid, &e), CST_ERR_NOT_FOUND);
	cma_token_release(&tok);
	assert_null(tok.secret);
	cma_client_release(&c);
}

static void test_never_expiring_and_aliases(void **state)
{
	static const char *const aliases[] = {"deploy"};
	struct cma_token_spec spec = {.name = "cstoken alias",
				      .aliases = aliases,
				      .naliases = 1,
				      .write = true,
				      .notify = true};
	struct cma_token tok = {0};
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;
	char *reqs;

	(void)state;
	client(&c);
	free(emu("DELETE", "/_emu/requests", NULL));
	assert_int_equal(cma_token_create(&c, api_key, authtoken, &spec, &tok, &e), 0);
	assert_null(tok.expires_on);
	assert_int_equal(tok.expiry, 0);
	reqs = emu("GET", "/_emu/requests?method=POST&path=/v3/stacks/management_tokens", NULL);
	assert_non_null(strstr(reqs, "\"module\": \"branch_alias\""));
	assert_non_null(strstr(reqs, "\"branch_aliases\": [\"deploy\"]"));
	assert_non_null(strstr(reqs, "\"write\": true"));
	assert_non_null(strstr(reqs, "\"is_email_notification_enabled\": true"));
	assert_null(strstr(reqs, "expires_on"));
	free(reqs);
	assert_int_equal(cma_token_delete(&c, api_key, authtoken, tok.uid, &e), 0);
	cma_token_release(&tok);
	cma_client_release(&c);
}

static void test_api_errors(void **state)
{
	static const char *const bad_branch[] = {"no-such-branch"};
	struct cma_token_spec spec = {.name = "x", .branches = bad_branch, .nbranches = 1};
	struct cma_token tok = {0}, *list = NULL;
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;
	size_t n = 0;
	char *want;

	(void)state;
	client(&c);
	assert_int_equal(cma_tokens_list(&c, "bltnosuchstack", authtoken, &list, &n, &e),
			 CST_ERR_API);
	want = xasprintf("stack 'bltnosuchstack' not found on %s: check api_key and region", host);
	assert_string_equal(e.msg, want);
	free(want);
	assert_null(list);

	assert_int_equal(cma_token_create(&c, api_key, authtoken, &spec, &tok, &e), CST_ERR_API);
	assert_non_null(strstr(e.msg, "unknown branch or alias"));
	assert_null(tok.uid);

	spec.nbranches = 0; /* neither branches nor aliases: refused before sending */
	assert_int_equal(cma_token_create(&c, api_key, authtoken, &spec, &tok, &e),
			 CST_ERR_INVALID);
	cma_client_release(&c);
}

/* POST management_tokens: a 5xx or a reset may have created the token, so no retry. */
static void test_create_not_retried(void **state)
{
	static const char *const branches[] = {"main"};
	struct cma_token_spec spec = {
	    .name = "cstoken retry", .branches = branches, .nbranches = 1};
	struct cma_token tok = {0};
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;
	const char *path = "/v3/stacks/management_tokens";

	(void)state;
	client(&c);
	free(emu("DELETE", "/_emu/requests", NULL));
	emu_fault("POST", path, "[{\"status\":500},{\"status\":500}]");
	assert_int_equal(cma_token_create(&c, api_key, authtoken, &spec, &tok, &e), CST_ERR_HTTP);
	assert_non_null(strstr(e.msg, "HTTP 500"));
	assert_non_null(strstr(e.msg, "may have been created"));
	assert_int_equal(emu_count("POST", path), 1);

	free(emu("DELETE", "/_emu/faults", NULL)); /* the second 500 was never asked for */
	emu_fault("POST", path, "[{\"reset\":true}]");
	assert_int_equal(cma_token_create(&c, api_key, authtoken, &spec, &tok, &e),
			 CST_ERR_NETWORK);
	assert_non_null(strstr(e.msg, "may have been created"));
	assert_int_equal(emu_count("POST", path), 2);

	/* a 429 was not processed: that one is retried */
	emu_fault("POST", path, "[{\"status\":429,\"headers\":{\"Retry-After\":\"0\"}}]");
	assert_int_equal(cma_token_create(&c, api_key, authtoken, &spec, &tok, &e), 0);
	assert_int_equal(emu_count("POST", path), 4);
	assert_int_equal(cma_token_delete(&c, api_key, authtoken, tok.uid, &e), 0);
	cma_token_release(&tok);

	/* GET is retried on 5xx */
	free(emu("DELETE", "/_emu/requests", NULL));
	emu_fault("GET", path, "[{\"status\":502}]");
	{
		struct cma_token *list = NULL;
		size_t n = 0;

		assert_int_equal(cma_tokens_list(&c, api_key, authtoken, &list, &n, &e), 0);
		cma_token_array_free(list, n);
	}
	assert_int_equal(emu_count("GET", path), 2);
	cma_client_release(&c);
}

static void test_logout(void **state)
{
	struct cma_client c;
	struct cst_error e = CST_ERROR_INIT;

	(void)state;
	client(&c);
	assert_int_equal(cma_logout(&c, authtoken, &e), 0);
	assert_int_equal(cma_check_authtoken(&c, authtoken, &e), CST_ERR_AUTH);
	cma_client_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lazy_init),
	    cmocka_unit_test(test_bad_authtoken),
	    cmocka_unit_test(test_hostile_values_not_sent),
	    cmocka_unit_test(test_token_lifecycle),
	    cmocka_unit_test(test_never_expiring_and_aliases),
	    cmocka_unit_test(test_api_errors),
	    cmocka_unit_test(test_create_not_retried),
	    cmocka_unit_test(test_logout),
	};
	struct strbuf pw = STRBUF_INIT;
	int ret;

	host = getenv_nonempty("CST_EMU_HOST");
	ca = getenv_nonempty("CST_EMU_CA");
	url = getenv_nonempty("CST_EMU_URL");
	email = getenv_nonempty("CST_EMU_EMAIL");
	api_key = getenv_nonempty("CST_EMU_API_KEY");
	cst_verbose = getenv_nonempty("CST_TEST_VERBOSE") ? 1 : 0;
	if (!host || !ca || !url || !email || !api_key || strbuf_getline(&pw, stdin, 4096) != 1) {
		fputs("test_cma: run by tests/integration/http_faults.sh\n", stderr);
		return 2;
	}
	password = strbuf_detach(&pw, NULL);
	ret = cmocka_run_group_tests(tests, setup_login, NULL);
	free_secret(password);
	free_secret(authtoken);
	return ret;
}
