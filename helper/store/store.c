/* The store layer: the backend the configuration picks, and what every backend shares. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cstoken/util.h"
#include "store_impl.h"

#define DEFAULT_TIMEOUT_MS 5000
/* auto only asks the bus whether the service exists: that must be quick */
#define PROBE_TIMEOUT_MS 500

static const char *const store_kind_names[] = {
    [CST_STORE_AUTO] = "auto",
    [CST_STORE_SECRET_SERVICE] = "secret-service",
    [CST_STORE_FILE] = "file",
};

const char *cst_store_kind_name(enum cst_store_kind k)
{
	if ((size_t)k < sizeof(store_kind_names) / sizeof(store_kind_names[0]))
		return store_kind_names[k];
	return "unknown";
}

int cst_store_kind_parse(const char *s, enum cst_store_kind *out)
{
	size_t i;

	for (i = 0; i < sizeof(store_kind_names) / sizeof(store_kind_names[0]); i++)
		if (s && !strcmp(s, store_kind_names[i])) {
			*out = (enum cst_store_kind)i;
			return 0;
		}
	return CST_ERR_INVALID;
}

int cst_store_open(struct cst_store **out, const struct cst_store_options *opt, struct cst_error *e)
{
	int timeout = opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
	enum cst_store_kind kind = opt->kind;
	struct cst_store *st;
	char *path = NULL;
	int ret;

	*out = NULL;
	if (kind == CST_STORE_AUTO) {
		kind = cst_secret_service_available(PROBE_TIMEOUT_MS) ? CST_STORE_SECRET_SERVICE
								      : CST_STORE_FILE;
		cst_debug("store auto: using %s", cst_store_kind_name(kind));
	}
	st = xcalloc(1, sizeof(*st));
	st->kind = kind;
	if (kind == CST_STORE_SECRET_SERVICE) {
		ret = cst_store_secret_open(st, timeout, e);
	} else {
		path = opt->file ? expand_home(opt->file) : xdg_data_path("cstoken/credentials");
		ret = cst_store_file_open(st, path, e);
	}
	free(path);
	if (ret) {
		cst_store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

void cst_store_close(struct cst_store *st)
{
	if (!st)
		return;
	if (st->ops && st->ops->close)
		st->ops->close(st);
	free(st->describe);
	free(st);
}

enum cst_store_kind cst_store_kind(const struct cst_store *st)
{
	return st->kind;
}

const char *cst_store_describe(const struct cst_store *st)
{
	return st->describe ? st->describe : cst_store_kind_name(st->kind);
}

static bool pattern_empty(const struct cst_item *p)
{
	size_t i;

	for (i = 0; i < CST_ITEM_NATTRS; i++)
		if (cst_item_field_get(p, &cst_item_strings[i]))
			return false;
	return true;
}

int cst_store_get(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		  struct cst_error *e)
{
	cst_item_init(out);
	return st->ops->get(st, pattern, out, e);
}

int cst_store_put(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		  struct cst_error *e)
{
	if (unchanged)
		*unchanged = false;
	if (item->kind == CST_ITEM_ANY)
		return cst_error_set(e, CST_ERR_INVALID,
				     "refusing to store an item without a kind");
	return st->ops->put(st, item, unchanged, e);
}

int cst_store_erase(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
		    struct cst_error *e)
{
	if (removed)
		*removed = 0;
	if (pattern_empty(pattern))
		return cst_error_set(e, CST_ERR_INVALID, "refusing to erase with an empty pattern");
	return st->ops->erase(st, pattern, removed, e);
}

int cst_store_list(struct cst_store *st, const struct cst_item *pattern, struct cst_item **items,
		   size_t *n, struct cst_error *e)
{
	*items = NULL;
	*n = 0;
	return st->ops->list(st, pattern, items, n, e);
}

/* The pattern of it's identity as a git credential (borrowed, not copied). */
static struct cst_item identity_pattern(const struct cst_item *it)
{
	struct cst_item p = CST_ITEM_INIT;

	p.kind = CST_ITEM_CREDENTIAL;
	p.protocol = it->protocol;
	p.host = it->host;
	p.path = it->path;
	p.username = it->username;
	return p;
}

int cst_store_erase_with_secret(struct cst_store *st, const struct cst_item *request,
				const char *secret, size_t *removed, struct cst_error *e)
{
	struct cst_item *items = NULL, got = CST_ITEM_INIT, pattern;
	bool *known = NULL, *gone = NULL;
	size_t n = 0, i, j, count;
	int ret;

	*removed = 0;
	ret = cst_store_list(st, request, &items, &n, e);
	if (ret)
		goto out;
	known = xcalloc(n, sizeof(*known));
	gone = xcalloc(n, sizeof(*gone));
	for (i = 0; i < n; i++) {
		pattern = identity_pattern(&items[i]);
		ret = cst_store_get(st, &pattern, &got, e);
		if (ret == CST_ERR_NOT_FOUND)
			continue;
		if (ret)
			goto out;
		/* the secret is known only when the get found this very item */
		known[i] =
		    cst_item_same_identity(&got, &items[i]) && secret_equal(got.secret, secret);
		cst_item_release(&got);
	}
	for (i = 0; i < n; i++) {
		bool ok = known[i] && !gone[i];

		pattern = identity_pattern(&items[i]);
		for (j = 0; ok && j < n; j++)
			if (cst_item_match(&pattern, &items[j]) && !known[j])
				ok = false;
		if (!ok)
			continue;
		ret = cst_store_erase(st, &pattern, &count, e);
		if (ret)
			goto out;
		*removed += count;
		for (j = 0; j < n; j++)
			if (cst_item_match(&pattern, &items[j]))
				gone[j] = true;
	}
	ret = 0;
out:
	cst_item_release(&got);
	free(known);
	free(gone);
	cst_item_array_free(items, n);
	return ret;
}
