/*
 * What the secret-service store adds to the store contract (test_store_contract.c), against a
 * real gnome-keyring: an unchanged put rewrites no item, secrets stay out of labels and
 * attributes, what the service cannot keep is refused, a locked collection never prompts.
 * Run only through tests/integration/store_secret.sh, inside in_keyring (a private bus
 * and keyring):
 *   test_store_secret          the keyring's own cases
 *   test_store_secret locked   behaviour with the login collection locked
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libsecret/secret.h>

#include "cstoken/store.h"
#include "cstoken/util.h"
#include "store_items.h"

#define SECRET1 "Pa55-w0rd-for-roundtrip-9f2c"
#define SECRET2 "cs-mgmt-token-71aa0c3e"
#define OAUTH1 "oauth-refresh-5e1d77"

static struct cst_store *st;

static int group_setup(void **state)
{
	struct cst_store_options opt = {.kind = CST_STORE_SECRET_SERVICE, .timeout_ms = 20000};
	struct cst_error err = CST_ERROR_INIT;
	int ret;

	if (!getenv_nonempty("CSTOKEN_TEST_KEYRING")) {
		fprintf(stderr, "refusing to run outside the private keyring of store_secret.sh\n");
		return -1;
	}
	ret = cst_store_open(&st, &opt, &err);
	if (ret) {
		fprintf(stderr, "open: %s\n", cst_error_msg(&err, ret));
		return -1;
	}
	*state = st;
	return 0;
}

static void put_ok(const struct cst_item *it, bool *unchanged)
{
	struct cst_error err = CST_ERROR_INIT;
	int ret = cst_store_put(st, it, unchanged, &err);

	if (ret)
		fail_msg("put: %s", cst_error_msg(&err, ret));
}

static int get_host_user(const char *host, const char *user, struct cst_item *out)
{
	struct cst_item p = CST_ITEM_INIT;
	int ret;

	p.kind = CST_ITEM_CREDENTIAL;
	p.host = (char *)(uintptr_t)host;
	p.username = (char *)(uintptr_t)user;
	ret = cst_store_get(st, &p, out, NULL);
	return ret;
}

static size_t count_host(const char *host)
{
	struct cst_item p = CST_ITEM_INIT, *items = NULL;
	size_t n = 0;

	p.host = (char *)(uintptr_t)host;
	assert_int_equal(cst_store_list(st, &p, &items, &n, NULL), 0);
	cst_item_array_free(items, n);
	return n;
}

static void erase_host(const char *host)
{
	struct cst_item p = CST_ITEM_INIT;

	p.host = (char *)(uintptr_t)host;
	assert_int_equal(cst_store_erase(st, &p, NULL, NULL), 0);
}

/* The one stored item with host h, through libsecret directly. */
static SecretItem *raw_item(const char *host)
{
	GHashTable *attrs = g_hash_table_new(g_str_hash, g_str_equal);
	GError *err = NULL;
	SecretItem *si;
	GList *found;

	g_hash_table_insert(attrs, (gpointer) "host", (gpointer)(uintptr_t)host);
	found = secret_service_search_sync(NULL, NULL, attrs, SECRET_SEARCH_ALL, NULL, &err);
	g_hash_table_unref(attrs);
	assert_null(err);
	assert_int_equal(g_list_length(found), 1);
	si = g_object_ref(found->data);
	g_list_free_full(found, g_object_unref);
	return si;
}

static void test_unchanged_put_writes_nothing(void **state)
{
	const char *h = "unchanged.example.com";
	struct cst_item a = CST_ITEM_INIT;
	bool unchanged = false;
	SecretItem *si;
	GError *err = NULL;
	char *label;

	(void)state;
	store_credential(&a, h, "carol", SECRET1);
	a.expiry = 1900000000;
	put_ok(&a, &unchanged);
	assert_false(unchanged);
	/* mark the stored item: any rewrite would replace the label */
	si = raw_item(h);
	assert_true(secret_item_set_label_sync(si, "marker", NULL, &err));
	g_object_unref(si);

	put_ok(&a, &unchanged);
	assert_true(unchanged);
	si = raw_item(h);
	label = secret_item_get_label(si);
	assert_string_equal(label, "marker");
	g_free(label);
	g_object_unref(si);

	/* and the marker check can fail: a changed expiry rewrites */
	a.expiry++;
	put_ok(&a, &unchanged);
	assert_false(unchanged);
	si = raw_item(h);
	label = secret_item_get_label(si);
	assert_string_not_equal(label, "marker");
	g_free(label);
	g_object_unref(si);
	cst_item_release(&a);
	erase_host(h);
}

/* The service keeps text only, and the secret's second line is the refresh token's. */
static void test_refuses_what_it_cannot_store(void **state)
{
	struct cst_item a = CST_ITEM_INIT;

	(void)state;
	store_credential(&a, "bad\xff.example.com", "u", SECRET1);
	assert_int_equal(cst_store_put(st, &a, NULL, NULL), CST_ERR_INVALID);
	set_str(&a.host, "newline.example.com");
	set_secret(&a.secret, "two\nlines");
	assert_int_equal(cst_store_put(st, &a, NULL, NULL), CST_ERR_INVALID);
	assert_int_equal(count_host("newline.example.com"), 0);
	cst_item_release(&a);
}

static bool contains_any_secret(const char *s)
{
	return s && (strstr(s, SECRET1) || strstr(s, SECRET2) || strstr(s, OAUTH1));
}

/* Every item of every collection: no label or attribute holds a secret; the values do. */
static void test_no_secret_in_attributes_or_labels(void **state)
{
	struct cst_item a = CST_ITEM_INIT;
	SecretService *service;
	GList *colls, *c, *items, *i;
	GError *err = NULL;
	size_t seen = 0, in_values = 0;

	(void)state;
	store_credential(&a, "leak.example.com", "frank", SECRET1);
	a.oauth_refresh_token = xstrdup(OAUTH1);
	put_ok(&a, NULL);
	cst_item_release(&a);
	a.kind = CST_ITEM_TOKEN;
	a.profile = xstrdup("leak");
	a.host = xstrdup("leak.example.com");
	a.secret = xstrdup(SECRET2);
	put_ok(&a, NULL);
	cst_item_release(&a);

	service = secret_service_get_sync(SECRET_SERVICE_LOAD_COLLECTIONS, NULL, &err);
	assert_null(err);
	colls = secret_service_get_collections(service);
	for (c = colls; c; c = c->next) {
		assert_true(secret_collection_load_items_sync(c->data, NULL, &err));
		items = secret_collection_get_items(c->data);
		for (i = items; i; i = i->next) {
			GHashTable *attrs = secret_item_get_attributes(i->data);
			char *label = secret_item_get_label(i->data);
			GHashTableIter it;
			gpointer k, v;
			SecretValue *value;

			assert_false(contains_any_secret(label));
			g_hash_table_iter_init(&it, attrs);
			while (g_hash_table_iter_next(&it, &k, &v)) {
				assert_false(contains_any_secret(k));
				assert_false(contains_any_secret(v));
			}
			assert_true(secret_item_load_secret_sync(i->data, NULL, &err));
			value = secret_item_get_secret(i->data);
			if (value && contains_any_secret(secret_value_get_text(value)))
				in_values++;
			if (value)
				secret_value_unref(value);
			g_free(label);
			g_hash_table_unref(attrs);
			seen++;
		}
		g_list_free_full(items, g_object_unref);
	}
	g_list_free_full(colls, g_object_unref);
	g_object_unref(service);
	assert_true(seen >= 2);
	assert_int_equal(in_values, 2); /* the check above would have seen them */
	erase_host("leak.example.com");
}

/* Locks the login collection the way a screen lock would (no prompt needed). */
static void lock_login(void)
{
	SecretService *service;
	SecretCollection *coll;
	GList *objs, *locked = NULL;
	GError *err = NULL;

	service = secret_service_get_sync(SECRET_SERVICE_NONE, NULL, &err);
	assert_null(err);
	coll = secret_collection_for_alias_sync(service, SECRET_COLLECTION_DEFAULT,
						SECRET_COLLECTION_NONE, NULL, &err);
	assert_non_null(coll);
	objs = g_list_append(NULL, coll);
	assert_int_equal(secret_service_lock_sync(service, objs, NULL, &locked, &err), 1);
	g_list_free(objs);
	g_list_free_full(locked, g_object_unref);
	g_object_unref(coll);
	g_object_unref(service);
}

static void test_locked_never_prompts(void **state)
{
	struct cst_item a = CST_ITEM_INIT, out = CST_ITEM_INIT;
	struct cst_error err = CST_ERROR_INIT;
	int ret;

	(void)state;
	store_credential(&a, "locked.example.com", "gina", SECRET1);
	put_ok(&a, NULL);
	lock_login();

	/* a hit needs the secret: unlocking needs a prompt, which is refused */
	ret = get_host_user("locked.example.com", "gina", &out);
	assert_int_equal(ret, CST_ERR_STORE_LOCKED);
	assert_null(out.secret);
	ret = cst_store_get(st, &a, &out, &err);
	assert_int_equal(ret, CST_ERR_STORE_LOCKED);
	assert_non_null(strstr(err.msg, "locked"));
	assert_null(strstr(err.msg, SECRET1));
	/* so does a write */
	set_secret(&a.secret, SECRET2);
	assert_int_equal(cst_store_put(st, &a, NULL, NULL), CST_ERR_STORE_LOCKED);
	/* a miss, decided without unlocking, is "locked" too: a locked keyring may hide it */
	assert_int_equal(get_host_user("nothing-here.example.com", NULL, &out),
			 CST_ERR_STORE_LOCKED);
	cst_item_release(&a);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unchanged_put_writes_nothing),
	    cmocka_unit_test(test_refuses_what_it_cannot_store),
	    cmocka_unit_test(test_no_secret_in_attributes_or_labels),
	};
	const struct CMUnitTest locked[] = {
	    cmocka_unit_test(test_locked_never_prompts),
	};

	if (argc > 1 && !strcmp(argv[1], "locked"))
		return cmocka_run_group_tests_name("store_secret_locked", locked, group_setup,
						   store_group_teardown);
	return cmocka_run_group_tests_name("store_secret", tests, group_setup,
					   store_group_teardown);
}
