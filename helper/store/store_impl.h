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

/*
 * store_keyring.c: fills st for the Secret Service (its two halves loaded as modules);
 * CST_ERR_STORE_UNAVAILABLE if none.
 */
int cst_store_secret_open(struct cst_store *st, int timeout_ms, struct cst_error *e);

/*
 * store_keyring.c: does a session bus answer for org.freedesktop.secrets (running or
 * activatable) within timeout_ms? Never starts a service; never blocks longer.
 */
bool cst_secret_service_available(int timeout_ms);

/* Same attributes and secrets (created excluded), as the field tables below say. */
bool cst_item_identical(const struct cst_item *a, const struct cst_item *b);
/*
 * Does it match pattern and come after the best match so far (have: there is one; its
 * created)? The newest match is what a get answers.
 */
bool cst_item_newer_match(const struct cst_item *pattern, const struct cst_item *it, bool have,
			  int64_t best_created);
/*
 * p (initialised here) as the pattern of its identity: its kind and the attributes its
 * kind's identity is made of, borrowed from it (p is not to be released).
 */
void cst_item_identity_pattern(const struct cst_item *it, struct cst_item *p);
/* "credential", "authtoken", "token"; parse returns CST_ERR_INVALID otherwise. */
const char *cst_item_kind_name(enum cst_item_kind k);
int cst_item_kind_parse(const char *s, enum cst_item_kind *out);

/*
 * The string fields of struct cst_item under the names every store keeps them by: the
 * CST_ITEM_NATTRS non-secret attributes first, then the secrets (CST_ITEM_NSTRINGS in all).
 * identity: the kinds (CST_ITEM_BIT) whose identity the attribute is part of, that is,
 * what cst_store_put replaces.
 */
#define CST_ITEM_BIT(kind) (1u << (kind))
struct cst_item_field {
	const char *name;
	size_t offset;
	unsigned identity;
};
extern const struct cst_item_field cst_item_strings[];
#define CST_ITEM_NATTRS 10
#define CST_ITEM_NSTRINGS 12

/* The numbers (unix seconds, 0: none): compared, or, for created, not part of what it holds. */
struct cst_item_number {
	const char *name;
	size_t offset;
	bool compared;
};
extern const struct cst_item_number cst_item_numbers[];
#define CST_ITEM_NNUMBERS 2

static inline char **cst_item_field(struct cst_item *it, const struct cst_item_field *f)
{
	return (char **)(void *)((char *)it + f->offset);
}

static inline const char *cst_item_field_get(const struct cst_item *it,
					     const struct cst_item_field *f)
{
	return *(char *const *)(const void *)((const char *)it + f->offset);
}

static inline int64_t *cst_item_number(struct cst_item *it, const struct cst_item_number *n)
{
	return (int64_t *)(void *)((char *)it + n->offset);
}

static inline int64_t cst_item_number_get(const struct cst_item *it,
					  const struct cst_item_number *n)
{
	return *(const int64_t *)(const void *)((const char *)it + n->offset);
}

#endif
