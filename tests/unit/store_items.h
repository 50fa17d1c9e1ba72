/* Items for the store tests (test_store_contract.c and each backend's own). */
#ifndef CST_TEST_STORE_ITEMS_H
#define CST_TEST_STORE_ITEMS_H

#include "cstoken/store.h"
#include "cstoken/util.h"

/* A git credential for https://host, user and secret NULL for none; it is initialised. */
static inline void store_credential(struct cst_item *it, const char *host, const char *user,
				    const char *secret)
{
	cst_item_init(it);
	it->kind = CST_ITEM_CREDENTIAL;
	it->protocol = xstrdup("https");
	it->host = xstrdup(host);
	it->username = user ? xstrdup(user) : NULL;
	it->secret = secret ? xstrdup(secret) : NULL;
}

/* A cmocka group teardown for a group whose setup left its open store in *state. */
static inline int store_group_teardown(void **state)
{
	cst_store_close(*state);
	*state = NULL;
	return 0;
}

#endif
