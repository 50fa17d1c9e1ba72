/* The contract between store.c and its backends; not part of the public API. */
#ifndef CSTOKEN_STORE_IMPL_H
#define CSTOKEN_STORE_IMPL_H

#include "cstoken/store.h"

struct cst_store_ops {
	/* Same contracts as cst_store_get/put/erase/list in store.h. */
	int (*get)(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		   struct cst_error *e);
	int (*put)(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		   struct cst_error *e);
	int (*erase)(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
		     struct cst_error *e);
	int (*list)(struct cst_store *st, const struct cst_item *pattern, struct cst_item **items,
		    size_t *n, struct cst_error *e);
	/* Frees priv. */
	void (*close)(struct cst_store *st);
};

struct cst_store {
	const struct cst_store_ops *ops;
	enum cst_store_kind kind;
	char *describe; /* owned; "Secret Service" or the file path */
	void *priv;	/* backend state */
};

/* store_file.c: fills st for the JSON file at path (created on first write). */
int cst_store_file_open(struct cst_store *st, const char *path, struct cst_error *e);

/* store_dbus.c: fills st for the Secret Service; CST_ERR_STORE_UNAVAILABLE if none. */
int cst_store_secret_open(struct cst_store *st, int timeout_ms, struct cst_error *e);

/*
 * store_dbus.c: does a session bus answer for org.freedesktop.secrets (running or
 * activatable) within timeout_ms? Never starts a service; never blocks longer.
 */
bool cst_secret_service_available(int timeout_ms);

/*
 * The one "the keyring is locked" error (CST_ERR_STORE_LOCKED), naming what failed and a
 * command that unlocks the running daemon.
 */
int cst_store_locked_error(struct cst_error *e, const char *what);

/* Same attributes and secrets (created excluded). */
bool cst_item_identical(const struct cst_item *a, const struct cst_item *b);
/*
 * A keyring item's secret: "SECRET", or "SECRET\noauth_refresh_token=TOKEN" (as git's
 * libsecret helper keeps it). decode sets out's secrets from the len bytes at data.
 */
#define CST_ITEM_OAUTH_LINE "\noauth_refresh_token="
int cst_item_secret_decode(const char *data, size_t len, struct cst_item *out, struct cst_error *e);
/*
 * An item's attributes as the Secret Service keeps them (both halves of that store): kind
 * unless ANY, every attribute field that is set, expiry and created when not 0 (decimal).
 * each hands them to add, which may refuse one; its error ends the walk.
 */
typedef int cst_item_attr_fn(void *ctx, const char *name, const char *value, struct cst_error *e);
int cst_item_attrs_each(const struct cst_item *it, cst_item_attr_fn *add, void *ctx,
			struct cst_error *e);
/*
 * One stored attribute into out (initialised); other names are ignored. A stored item is
 * one of ours when its kind was set (out->kind no longer CST_ITEM_ANY).
 */
void cst_item_attr_set(struct cst_item *out, const char *name, const char *value);
/* The error for an attribute value that is not UTF-8: the service keeps text only. */
int cst_item_attr_not_text(const char *name, struct cst_error *e);
/* "credential", "authtoken", "token"; parse returns CST_ERR_INVALID otherwise. */
const char *cst_item_kind_name(enum cst_item_kind k);
int cst_item_kind_parse(const char *s, enum cst_item_kind *out);

/*
 * The string fields of struct cst_item under the names both stores keep them by: the
 * CST_ITEM_NATTRS non-secret attributes first, then the secrets (CST_ITEM_NSTRINGS in all).
 */
struct cst_item_field {
	const char *name;
	size_t offset;
};
extern const struct cst_item_field cst_item_strings[];
#define CST_ITEM_NATTRS 10
#define CST_ITEM_NSTRINGS 12

static inline char **cst_item_field(struct cst_item *it, const struct cst_item_field *f)
{
	return (char **)(void *)((char *)it + f->offset);
}

static inline const char *cst_item_field_get(const struct cst_item *it,
					     const struct cst_item_field *f)
{
	return *(char *const *)(const void *)((const char *)it + f->offset);
}

#endif
