/* The stored item (store.h, store_impl.h): its field table and what is derived from it. */
#include <stdlib.h>
#include <string.h>

#include "cstoken/util.h"
#include "store_impl.h"

#define CRED CST_ITEM_BIT(CST_ITEM_CREDENTIAL)
#define AUTH CST_ITEM_BIT(CST_ITEM_AUTHTOKEN)
#define TOKEN CST_ITEM_BIT(CST_ITEM_TOKEN)
#define OAUTH CST_ITEM_BIT(CST_ITEM_OAUTH)

const struct cst_item_field cst_item_strings[CST_ITEM_NSTRINGS] = {
    {"protocol", offsetof(struct cst_item, protocol), CRED},
    {"host", offsetof(struct cst_item, host), CRED | AUTH | OAUTH},
    {"path", offsetof(struct cst_item, path), CRED},
    {"username", offsetof(struct cst_item, username), CRED},
    {"profile", offsetof(struct cst_item, profile), TOKEN},
    {"api_key", offsetof(struct cst_item, api_key), 0},
    {"email", offsetof(struct cst_item, email), AUTH | OAUTH},
    {"uid", offsetof(struct cst_item, uid), 0},
    {"name", offsetof(struct cst_item, name), 0},
    {"scope_fp", offsetof(struct cst_item, scope_fp), 0},
    /* the secrets, from CST_ITEM_NATTRS on */
    {"secret", offsetof(struct cst_item, secret), 0},
    {"oauth_refresh_token", offsetof(struct cst_item, oauth_refresh_token), 0},
};

const struct cst_item_number cst_item_numbers[CST_ITEM_NNUMBERS] = {
    {"expiry", offsetof(struct cst_item, expiry), true},
    /* set by the store on write: when an item was stored, not what it holds */
    {"created", offsetof(struct cst_item, created), false},
};

void cst_item_init(struct cst_item *it)
{
	memset(it, 0, sizeof(*it));
}

void cst_item_release(struct cst_item *it)
{
	size_t i;

	if (!it)
		return;
	for (i = 0; i < CST_ITEM_NATTRS; i++)
		free(*cst_item_field(it, &cst_item_strings[i]));
	for (; i < CST_ITEM_NSTRINGS; i++)
		free_secret(*cst_item_field(it, &cst_item_strings[i]));
	cst_item_init(it);
}

void cst_item_copy(struct cst_item *dst, const struct cst_item *src)
{
	const char *v;
	size_t i;

	cst_item_init(dst);
	dst->kind = src->kind;
	for (i = 0; i < CST_ITEM_NNUMBERS; i++)
		*cst_item_number(dst, &cst_item_numbers[i]) =
		    cst_item_number_get(src, &cst_item_numbers[i]);
	for (i = 0; i < CST_ITEM_NSTRINGS; i++) {
		v = cst_item_field_get(src, &cst_item_strings[i]);
		*cst_item_field(dst, &cst_item_strings[i]) = v ? xstrdup(v) : NULL;
	}
}

void cst_item_array_free(struct cst_item *items, size_t n)
{
	size_t i;

	if (!items)
		return;
	for (i = 0; i < n; i++)
		cst_item_release(&items[i]);
	free(items);
}

bool cst_item_match(const struct cst_item *p, const struct cst_item *it)
{
	const char *want;
	size_t i;

	if (p->kind != CST_ITEM_ANY && p->kind != it->kind)
		return false;
	for (i = 0; i < CST_ITEM_NATTRS; i++) {
		want = cst_item_field_get(p, &cst_item_strings[i]);
		if (want && !str_equal(want, cst_item_field_get(it, &cst_item_strings[i])))
			return false;
	}
	return true;
}

bool cst_item_newer_match(const struct cst_item *pattern, const struct cst_item *it, bool have,
			  int64_t best_created)
{
	return cst_item_match(pattern, it) && (!have || it->created > best_created);
}

bool cst_item_same_identity(const struct cst_item *a, const struct cst_item *b)
{
	const struct cst_item_field *f;
	size_t i;

	if (a->kind != b->kind || a->kind == CST_ITEM_ANY)
		return false;
	for (i = 0; i < CST_ITEM_NATTRS; i++) {
		f = &cst_item_strings[i];
		if ((f->identity & CST_ITEM_BIT(a->kind)) &&
		    !str_equal(cst_item_field_get(a, f), cst_item_field_get(b, f)))
			return false;
	}
	return true;
}

void cst_item_identity_pattern(const struct cst_item *it, struct cst_item *p)
{
	const struct cst_item_field *f;
	size_t i;

	cst_item_init(p);
	p->kind = it->kind;
	if (it->kind == CST_ITEM_ANY)
		return;
	for (i = 0; i < CST_ITEM_NATTRS; i++) {
		f = &cst_item_strings[i];
		if (f->identity & CST_ITEM_BIT(it->kind))
			*cst_item_field(p, f) = (char *)(uintptr_t)cst_item_field_get(it, f);
	}
}

bool cst_item_identical(const struct cst_item *a, const struct cst_item *b)
{
	const struct cst_item_field *f;
	const struct cst_item_number *n;
	bool same = a->kind == b->kind;
	size_t i;

	for (i = 0; i < CST_ITEM_NNUMBERS; i++) {
		n = &cst_item_numbers[i];
		if (n->compared && cst_item_number_get(a, n) != cst_item_number_get(b, n))
			same = false;
	}
	for (i = 0; i < CST_ITEM_NATTRS; i++) {
		f = &cst_item_strings[i];
		if (!str_equal(cst_item_field_get(a, f), cst_item_field_get(b, f)))
			same = false;
	}
	/* every secret compared, in constant time, whatever came before */
	for (; i < CST_ITEM_NSTRINGS; i++) {
		f = &cst_item_strings[i];
		if (!secret_equal(cst_item_field_get(a, f), cst_item_field_get(b, f)))
			same = false;
	}
	return same;
}

static const char *const item_kind_names[] = {
    [CST_ITEM_ANY] = "any",
    [CST_ITEM_CREDENTIAL] = "credential",
    [CST_ITEM_AUTHTOKEN] = "authtoken",
    [CST_ITEM_TOKEN] = "token",
    [CST_ITEM_OAUTH] = "oauth",
};

const char *cst_item_kind_name(enum cst_item_kind k)
{
	if ((size_t)k < sizeof(item_kind_names) / sizeof(item_kind_names[0]))
		return item_kind_names[k];
	return "unknown";
}

int cst_item_kind_parse(const char *s, enum cst_item_kind *out)
{
	size_t i;

	for (i = 1; i < sizeof(item_kind_names) / sizeof(item_kind_names[0]); i++)
		if (s && !strcmp(s, item_kind_names[i])) {
			*out = (enum cst_item_kind)i;
			return 0;
		}
	return CST_ERR_INVALID;
}
