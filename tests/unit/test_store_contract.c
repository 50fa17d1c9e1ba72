/*
 * The contract of include/cstoken/store.h, one suite for every store backend.
 *
 * Run only through tests/integration/store_contract.sh, which prepares a backend in a
 * throwaway sandbox and runs this program there (CTest: store.contract_BACKEND). The store is
 * opened as cstoken opens it, from the configuration (CSTOKEN_STORE and the rest), and must be
 * of the kind CSTOKEN_STORE names. Every case starts on an empty store and empties it again.
 *
 * Adding a backend: one line in tests/store_contract.cmake, `cst_store_contract(NAME)`, and
 * a hook `contract_NAME` in store_contract.sh that starts what the backend needs and
 * configures cstoken for it. Nothing here names a backend: what differs between them (an
 * attribute one backend cannot keep) is allowed only as the contract allows it, a refusal
 * with CST_ERR_INVALID that stores nothing. Behaviour of one backend alone (file modes and
 * locking, keyring labels and locking, the D-Bus session) stays in that backend's tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cstoken/config.h"
#include "cstoken/store.h"
#include "cstoken/util.h"
#include "store_items.h"

#define SECRET1 "Pa55-w0rd-for-contract-9f2c"
#define SECRET2 "cs-mgmt-token-71aa0c3e"
#define OAUTH1 "oauth-refresh-5e1d77"

static struct cst_store *st;

/* The store cstoken would open here; NULL when it is not the kind CSTOKEN_STORE names. */
static struct cst_store *open_configured(void)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	struct cst_store_options opt = {0};
	struct cst_error e = CST_ERROR_INIT;
	const char *want = getenv_nonempty("CSTOKEN_STORE");
	struct cst_store *s = NULL;
	int ret;

	ret = cst_config_load(&cfg, NULL, &e);
	if (!ret) {
		opt.kind = cfg.store;
		opt.file = cfg.store_file;
		ret = cst_store_open(&s, &opt, &e);
		cst_config_release(&cfg);
	}
	if (ret) {
		fprintf(stderr, "open: %s\n", cst_error_msg(&e, ret));
		return NULL;
	}
	if (!want || strcmp(want, cst_store_kind_name(cst_store_kind(s)))) {
		fprintf(stderr, "opened %s, not the store CSTOKEN_STORE names\n",
			cst_store_kind_name(cst_store_kind(s)));
		cst_store_close(s);
		return NULL;
	}
	return s;
}

static int group_setup(void **state)
{
	/* every case empties the store: never run that on a user's own */
	if (!getenv_nonempty("CST_CONTRACT_SANDBOX")) {
		fprintf(stderr, "refusing to run outside the sandbox of store_contract.sh\n");
		return -1;
	}
	st = open_configured();
	if (!st)
		return -1;
	fprintf(stderr, "store contract on %s (%s)\n", cst_store_kind_name(cst_store_kind(st)),
		cst_store_describe(st));
	*state = st;
	return 0;
}

static size_t count(const struct cst_item *pattern)
{
	struct cst_item any = CST_ITEM_INIT, *items = NULL;
	struct cst_error e = CST_ERROR_INIT;
	size_t n = 0;
	int ret = cst_store_list(st, pattern ? pattern : &any, &items, &n, &e);

	if (ret)
		fail_msg("list: %s", cst_error_msg(&e, ret));
	cst_item_array_free(items, n);
	return n;
}

/* Erases every item, each by its own attributes, and checks the store is empty. */
static void erase_all(void)
{
	struct cst_item any = CST_ITEM_INIT, *items = NULL;
	struct cst_error e = CST_ERROR_INIT;
	size_t n = 0, i;
	int ret;

	assert_int_equal(cst_store_list(st, &any, &items, &n, &e), 0);
	for (i = 0; i < n; i++) {
		ret = cst_store_erase(st, &items[i], NULL, &e);
		if (ret)
			fail_msg("erase: %s", cst_error_msg(&e, ret));
	}
	cst_item_array_free(items, n);
	assert_int_equal(count(NULL), 0);
}

static int empty_store(void **state)
{
	(void)state;
	if (count(NULL)) {
		fprintf(stderr, "the store is not empty before a case\n");
		return -1;
	}
	return 0;
}

static int empty_again(void **state)
{
	(void)state;
	erase_all();
	return 0;
}

/* Puts it; *unchanged must come back as want_unchanged. */
static void put_ok(const struct cst_item *it, bool want_unchanged)
{
	struct cst_error e = CST_ERROR_INIT;
	bool unchanged = !want_unchanged;
	int ret = cst_store_put(st, it, &unchanged, &e);

	if (ret)
		fail_msg("put: %s", cst_error_msg(&e, ret));
	assert_true(unchanged == want_unchanged);
}

static void put_cred(const char *host, const char *user, const char *secret)
{
	struct cst_item it;

	store_credential(&it, host, user, secret);
	put_ok(&it, false);
	cst_item_release(&it);
}

/* get with pattern; out is released by the caller when this returns 0. */
static int get(const struct cst_item *pattern, struct cst_item *out)
{
	struct cst_error e = CST_ERROR_INIT;
	int ret = cst_store_get(st, pattern, out, &e);

	if (ret && ret != CST_ERR_NOT_FOUND)
		fail_msg("get: %s", cst_error_msg(&e, ret));
	return ret;
}

/* The item of that kind and host (and username when not NULL). */
static int get_host(enum cst_item_kind kind, const char *host, const char *user,
		    struct cst_item *out)
{
	struct cst_item p = CST_ITEM_INIT;

	p.kind = kind;
	p.host = (char *)(uintptr_t)host;
	p.username = (char *)(uintptr_t)user;
	return get(&p, out);
}

static void assert_same_string(const char *want, const char *got)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* Every field but created, the secrets included. */
static void assert_same_item(const struct cst_item *want, const struct cst_item *got)
{
	assert_int_equal(got->kind, want->kind);
	assert_same_string(want->protocol, got->protocol);
	assert_same_string(want->host, got->host);
	assert_same_string(want->path, got->path);
	assert_same_string(want->username, got->username);
	assert_true(got->expiry == want->expiry);
	assert_same_string(want->profile, got->profile);
	assert_same_string(want->api_key, got->api_key);
	assert_same_string(want->email, got->email);
	assert_same_string(want->uid, got->uid);
	assert_same_string(want->name, got->name);
	assert_same_string(want->scope_fp, got->scope_fp);
	assert_same_string(want->secret, got->secret);
	assert_same_string(want->oauth_refresh_token, got->oauth_refresh_token);
}

static void test_round_trip_every_field(void **state)
{
	struct cst_item cred_in, auth, tok, p, got;
	struct cst_store *again;

	(void)state;
	store_credential(&cred_in, "git.example.com:8443", "al\"ice\\", "pa ss\twörd\x01\x7f");
	cred_in.path = xstrdup("org/repo.git");
	cred_in.expiry = INT64_MAX; /* past 2^53: no double on the way */
	cred_in.oauth_refresh_token = xstrdup(OAUTH1 "-\u00e9");
	cred_in.created = -((int64_t)1 << 60);
	cst_item_init(&auth);
	auth.kind = CST_ITEM_AUTHTOKEN;
	auth.host = xstrdup("eu-api.contentstack.com");
	auth.email = xstrdup("alice@example.com");
	auth.secret = xstrdup("blt-authtoken");
	auth.expiry = 1700000000;
	cst_item_init(&tok);
	tok.kind = CST_ITEM_TOKEN;
	tok.protocol = xstrdup("https");
	tok.host = xstrdup("api.contentstack.io");
	tok.path = xstrdup("v3/stacks");
	tok.username = xstrdup(""); /* empty is a value, not absence */
	tok.profile = xstrdup("default");
	tok.api_key = xstrdup("blt0123456789abcdef");
	tok.email = xstrdup("dev@example.com");
	tok.uid = xstrdup("blt9999");
	tok.name = xstrdup("cstoken alice@host default ünïcode");
	tok.scope_fp = xstrdup("v2:branches=main");
	tok.expiry = ((int64_t)1 << 53) + 1;
	tok.created = 1700000000;
	tok.secret = xstrdup(SECRET2);
	put_ok(&cred_in, false);
	put_ok(&auth, false);
	put_ok(&tok, false);

	/* another handle on the same store sees every field */
	again = open_configured();
	assert_non_null(again);
	cst_item_init(&p);
	p.kind = CST_ITEM_CREDENTIAL;
	p.host = cred_in.host;
	assert_int_equal(cst_store_get(again, &p, &got, NULL), 0);
	assert_same_item(&cred_in, &got);
	assert_true(got.created == cred_in.created);
	cst_item_release(&got);

	cst_item_init(&p);
	p.kind = CST_ITEM_AUTHTOKEN;
	p.email = auth.email;
	assert_int_equal(cst_store_get(again, &p, &got, NULL), 0);
	assert_same_item(&auth, &got);
	assert_true(got.created > 0); /* 0 means: the store sets it */
	assert_null(got.username);    /* absent stays absent */
	assert_null(got.path);
	assert_null(got.profile);
	assert_null(got.oauth_refresh_token);
	cst_item_release(&got);

	cst_item_init(&p);
	p.kind = CST_ITEM_TOKEN;
	p.profile = tok.profile;
	assert_int_equal(cst_store_get(again, &p, &got, NULL), 0);
	assert_same_item(&tok, &got);
	assert_non_null(got.username);
	assert_true(got.created == tok.created);
	cst_item_release(&got);

	cst_store_close(again);
	assert_int_equal(count(NULL), 3);
	cst_item_release(&cred_in);
	cst_item_release(&auth);
	cst_item_release(&tok);
}

static void test_identity_replacement(void **state)
{
	const char *h = "replace.example.com";
	struct cst_item a, p = CST_ITEM_INIT, got;

	(void)state;
	/* a credential's identity: protocol, host, path, username */
	store_credential(&a, h, "alice", SECRET1);
	put_ok(&a, false);
	set_secret(&a.secret, SECRET2);
	put_ok(&a, false);
	assert_int_equal(count(NULL), 1);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, h, "alice", &got), 0);
	assert_string_equal(got.secret, SECRET2);
	cst_item_release(&got);
	set_str(&a.username, "bob");
	put_ok(&a, false);
	assert_int_equal(count(NULL), 2);
	set_str(&a.path, "repo.git");
	put_ok(&a, false);
	assert_int_equal(count(NULL), 3);
	/* oauth_refresh_token alone changes the item: replaced, not added */
	set_secret(&a.oauth_refresh_token, OAUTH1);
	put_ok(&a, false);
	assert_int_equal(count(NULL), 3);
	cst_item_release(&a);

	/* a token's identity is its profile alone */
	cst_item_init(&a);
	a.kind = CST_ITEM_TOKEN;
	a.profile = xstrdup("p");
	a.host = xstrdup(h);
	a.api_key = xstrdup("stack-a");
	a.secret = xstrdup("tok-a");
	put_ok(&a, false);
	set_str(&a.api_key, "stack-b");
	set_str(&a.host, "other.example.com");
	set_secret(&a.secret, "tok-b");
	put_ok(&a, false);
	p.kind = CST_ITEM_TOKEN;
	assert_int_equal(count(&p), 1);
	assert_int_equal(get(&p, &got), 0);
	assert_string_equal(got.api_key, "stack-b");
	assert_string_equal(got.secret, "tok-b");
	cst_item_release(&got);
	cst_item_release(&a);

	/* an authtoken's identity is host + email */
	cst_item_init(&a);
	a.kind = CST_ITEM_AUTHTOKEN;
	a.host = xstrdup("api");
	a.email = xstrdup("a@x");
	a.secret = xstrdup("s1");
	put_ok(&a, false);
	set_str(&a.email, "b@x");
	put_ok(&a, false);
	set_secret(&a.secret, "s2");
	put_ok(&a, false);
	p.kind = CST_ITEM_AUTHTOKEN;
	assert_int_equal(count(&p), 2);
	cst_item_release(&a);
	assert_int_equal(count(NULL), 6);
}

static void test_unchanged(void **state)
{
	struct cst_item a, got;

	(void)state;
	store_credential(&a, "unchanged.example.com", "carol", SECRET1);
	a.expiry = 1900000000;
	a.created = 100;
	put_ok(&a, false);
	put_ok(&a, true);
	/* created is not part of "identical": still unchanged, and nothing was rewritten */
	a.created = 42;
	put_ok(&a, true);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, a.host, NULL, &got), 0);
	assert_true(got.created == 100);
	cst_item_release(&got);
	/* any other change is written */
	a.expiry++;
	put_ok(&a, false);
	set_secret(&a.secret, SECRET2);
	put_ok(&a, false);
	put_ok(&a, true);
	set_secret(&a.oauth_refresh_token, OAUTH1);
	put_ok(&a, false);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, a.host, NULL, &got), 0);
	assert_same_item(&a, &got);
	assert_true(got.created == 42);
	cst_item_release(&got);
	assert_int_equal(count(NULL), 1);
	cst_item_release(&a);
}

static void test_get_newest_and_miss(void **state)
{
	const char *h = "newest.example.com";
	struct cst_item a, p = CST_ITEM_INIT, got;

	(void)state;
	store_credential(&a, h, "old", "old-secret");
	a.created = 1000;
	put_ok(&a, false);
	set_str(&a.username, "new");
	set_secret(&a.secret, "new-secret");
	a.created = 2000;
	put_ok(&a, false);
	set_str(&a.username, "middle");
	set_secret(&a.secret, "middle-secret");
	a.created = 1500;
	put_ok(&a, false);
	cst_item_release(&a);

	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, h, NULL, &got), 0);
	assert_string_equal(got.username, "new");
	assert_string_equal(got.secret, "new-secret");
	assert_true(got.created == 2000);
	cst_item_release(&got);
	/* ANY kind matches too */
	p.host = (char *)(uintptr_t)h;
	assert_int_equal(get(&p, &got), 0);
	assert_string_equal(got.username, "new");
	cst_item_release(&got);

	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, h, "nobody", &got), CST_ERR_NOT_FOUND);
	assert_null(got.secret);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "missing.example.com", NULL, &got),
			 CST_ERR_NOT_FOUND);
	/* the kind is part of the match */
	assert_int_equal(get_host(CST_ITEM_TOKEN, h, NULL, &got), CST_ERR_NOT_FOUND);
	/* a pattern's value is matched whole: no prefix, no case folding, no wildcard */
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "newest.example", NULL, &got),
			 CST_ERR_NOT_FOUND);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "NEWEST.example.com", NULL, &got),
			 CST_ERR_NOT_FOUND);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "*", NULL, &got), CST_ERR_NOT_FOUND);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "%", NULL, &got), CST_ERR_NOT_FOUND);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "", NULL, &got), CST_ERR_NOT_FOUND);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, h, "", &got), CST_ERR_NOT_FOUND);
}

static void test_erase_by_fields(void **state)
{
	struct cst_item p = CST_ITEM_INIT, got;
	size_t removed = 99;

	(void)state;
	/* on an empty store: success, nothing removed */
	p.host = (char *)(uintptr_t) "erase-x.example.com";
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), 0);
	assert_int_equal(removed, 0);

	put_cred("erase-x.example.com", "u1", SECRET1);
	put_cred("erase-x.example.com", "u2", SECRET1);
	put_cred("erase-y.example.com", "u1", SECRET1);

	/* host and username: that one item */
	p.kind = CST_ITEM_CREDENTIAL;
	p.username = (char *)(uintptr_t) "u1";
	removed = 99;
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, p.host, "u1", &got), CST_ERR_NOT_FOUND);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, p.host, "u2", &got), 0);
	cst_item_release(&got);
	/* again: nothing matches, success, nothing removed */
	removed = 99;
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), 0);
	assert_int_equal(removed, 0);
	/* a kind mismatch removes nothing */
	p.kind = CST_ITEM_TOKEN;
	p.username = NULL;
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), 0);
	assert_int_equal(removed, 0);
	/* ANY kind and the host alone: every item of that host */
	put_cred("erase-x.example.com", "u3", SECRET1);
	p.kind = CST_ITEM_ANY;
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(count(&p), 0);
	assert_int_equal(count(NULL), 1);
	/* an empty pattern is refused and removes nothing, whatever its kind */
	cst_item_init(&p);
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), CST_ERR_INVALID);
	p.kind = CST_ITEM_CREDENTIAL;
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), CST_ERR_INVALID);
	assert_int_equal(removed, 0);
	assert_int_equal(count(NULL), 1);
	/* the username alone, across hosts */
	put_cred("erase-z.example.com", "u1", SECRET1);
	put_cred("erase-z.example.com", "u9", SECRET1);
	p.username = (char *)(uintptr_t) "u1";
	assert_int_equal(cst_store_erase(st, &p, &removed, NULL), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(count(NULL), 1);
}

/* git's erase of a refused password: only the items that carry it, and never a wider one. */
static void test_erase_with_secret(void **state)
{
	const char *h = "refused.example.com";
	struct cst_item req = CST_ITEM_INIT, got;
	size_t removed = 99;

	(void)state;
	put_cred(h, "alice", "pw-alice");
	put_cred(h, "bob", "pw-bob");
	put_cred("other.example.com", "alice", "pw-alice");
	req.kind = CST_ITEM_CREDENTIAL;
	req.protocol = (char *)(uintptr_t) "https";
	req.host = (char *)(uintptr_t)h;

	/* a password nothing carries removes nothing */
	assert_int_equal(cst_store_erase_with_secret(st, &req, "pw-wrong", &removed, NULL), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(count(NULL), 3);
	/* alice's password on that host takes alice's item there, and only it */
	assert_int_equal(cst_store_erase_with_secret(st, &req, "pw-alice", &removed, NULL), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, h, "alice", &got), CST_ERR_NOT_FOUND);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, h, "bob", &got), 0);
	cst_item_release(&got);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "other.example.com", "alice", &got), 0);
	cst_item_release(&got);

	/*
	 * An item without a username would, erased, take every item of its host: it goes only
	 * once every one of them carries the refused password too.
	 */
	put_cred(h, NULL, "pw-shared");
	put_cred(h, "carol", "pw-shared");
	assert_int_equal(cst_store_erase_with_secret(st, &req, "pw-shared", &removed, NULL), 0);
	assert_int_equal(removed, 1); /* carol's; bob's password differs */
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, h, "carol", &got), CST_ERR_NOT_FOUND);
	assert_int_equal(count(NULL), 3);
	assert_int_equal(cst_store_erase_with_secret(st, &req, "pw-bob", &removed, NULL), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(cst_store_erase_with_secret(st, &req, "pw-shared", &removed, NULL), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(count(NULL), 1);
}

static void test_list_has_no_secrets(void **state)
{
	struct cst_item a, p = CST_ITEM_INIT, *items = NULL;
	size_t n = 0, i;

	(void)state;
	store_credential(&a, "list.example.com", "dave", SECRET1);
	a.oauth_refresh_token = xstrdup(OAUTH1);
	put_ok(&a, false);
	set_str(&a.username, "erin");
	put_ok(&a, false);
	set_str(&a.host, "other.example.com");
	put_ok(&a, false);
	cst_item_release(&a);

	p.host = (char *)(uintptr_t) "list.example.com";
	assert_int_equal(cst_store_list(st, &p, &items, &n, NULL), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(items[i].kind, CST_ITEM_CREDENTIAL);
		assert_string_equal(items[i].protocol, "https");
		assert_string_equal(items[i].host, "list.example.com");
		assert_non_null(items[i].username);
		assert_true(items[i].created != 0);
		assert_null(items[i].secret);
		assert_null(items[i].oauth_refresh_token);
	}
	assert_true(strcmp(items[0].username, items[1].username) != 0);
	cst_item_array_free(items, n);
	p.host = (char *)(uintptr_t) "nothing.example.com";
	assert_int_equal(cst_store_list(st, &p, &items, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_null(items);
	assert_int_equal(count(NULL), 3);
}

/* An item with an empty password, and one with none, are items like any other. */
static void test_with_and_without_password(void **state)
{
	struct cst_item a, got;

	(void)state;
	put_cred("nopass.example.com", "u", NULL);
	put_cred("emptypass.example.com", "u", "");
	assert_int_equal(count(NULL), 2);

	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "emptypass.example.com", NULL, &got), 0);
	assert_non_null(got.secret);
	assert_string_equal(got.secret, "");
	cst_item_release(&got);
	/* no password comes back as no password or an empty one, never as anything else */
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "nopass.example.com", NULL, &got), 0);
	assert_true(!got.secret || !*got.secret);
	assert_string_equal(got.username, "u");
	cst_item_release(&got);

	/* a password added later replaces the item */
	store_credential(&a, "nopass.example.com", "u", SECRET1);
	put_ok(&a, false);
	assert_int_equal(count(NULL), 2);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, a.host, NULL, &got), 0);
	assert_string_equal(got.secret, SECRET1);
	cst_item_release(&got);
	cst_item_release(&a);
}

/*
 * Hostile values, in the secret and in an attribute: each is kept byte for byte, or refused
 * with CST_ERR_INVALID, storing nothing and with no secret in the message. A value must never
 * come back changed, nor a refusal leave something behind.
 */
static const char *const hostile[] = {
    "\xff\xfe\x80",		   /* not UTF-8 */
    "\xc0\x80",			   /* overlong NUL */
    "\xed\xa0\x80",		   /* a surrogate */
    "two\nlines",		   /* a line break */
    "cr\rhere",			   /* a carriage return */
    "x\noauth_refresh_token=evil", /* what a keyring secret's second line looks like */
    "\x01\x02\x1b[31m\x7f",	   /* controls and an escape */
    "\\u0000\"'{}[],:",		   /* JSON */
    "%00%0a%s%n",		   /* escapes and formats */
    " lead and trail ",
    "=",
    "*",
    "pässwörd ✓",
};

static void try_hostile(struct cst_item *it, char **field, const char *value, const char *what)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cst_item p = CST_ITEM_INIT, got;
	bool unchanged = true;
	int ret;

	set_secret(field, value);
	ret = cst_store_put(st, it, &unchanged, &e);
	if (ret) {
		if (ret != CST_ERR_INVALID)
			fail_msg("%s %s: put failed with %d: %s", what, value, ret, e.msg);
		assert_false(unchanged);
		assert_null(strstr(e.msg, SECRET1));
		if (field == &it->secret)
			assert_null(strstr(e.msg, value));
		assert_int_equal(count(NULL), 1);
		return;
	}
	p.kind = CST_ITEM_CREDENTIAL;
	p.host = it->host;
	p.username = it->username;
	assert_int_equal(cst_store_get(st, &p, &got, &e), 0);
	assert_same_item(it, &got);
	cst_item_release(&got);
	assert_int_equal(count(NULL), 2);
	assert_int_equal(cst_store_erase(st, &p, NULL, &e), 0);
	assert_int_equal(count(NULL), 1);
}

static void test_hostile_values(void **state)
{
	struct cst_item a, got;
	size_t i;

	(void)state;
	put_cred("bystander.example.com", "u", SECRET1);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		store_credential(&a, "hostile.example.com", "u", "s");
		try_hostile(&a, &a.secret, hostile[i], "secret");
		cst_item_release(&a);
		store_credential(&a, "hostile.example.com", "u", "s");
		try_hostile(&a, &a.username, hostile[i], "username");
		cst_item_release(&a);
		store_credential(&a, "hostile.example.com", "u", SECRET2);
		try_hostile(&a, &a.host, hostile[i], "host");
		cst_item_release(&a);
	}
	/* a big secret is a secret like any other */
	store_credential(&a, "big.example.com", "u", NULL);
	a.secret = xmalloc(60001);
	memset(a.secret, 'p', 60000);
	a.secret[60000] = '\0';
	put_ok(&a, false);
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, a.host, NULL, &got), 0);
	assert_string_equal(got.secret, a.secret);
	cst_item_release(&got);
	cst_item_release(&a);
	/* and the bystander is as it was */
	assert_int_equal(get_host(CST_ITEM_CREDENTIAL, "bystander.example.com", NULL, &got), 0);
	assert_string_equal(got.secret, SECRET1);
	cst_item_release(&got);
	assert_int_equal(count(NULL), 2);
}

int main(void)
{
#define CASE(f) cmocka_unit_test_setup_teardown(f, empty_store, empty_again)
	const struct CMUnitTest tests[] = {
	    CASE(test_round_trip_every_field),
	    CASE(test_identity_replacement),
	    CASE(test_unchanged),
	    CASE(test_get_newest_and_miss),
	    CASE(test_erase_by_fields),
	    CASE(test_erase_with_secret),
	    CASE(test_list_has_no_secrets),
	    CASE(test_with_and_without_password),
	    CASE(test_hostile_values),
	};
#undef CASE

	return cmocka_run_group_tests_name("store_contract", tests, group_setup,
					   store_group_teardown);
}
