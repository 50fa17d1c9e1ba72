/* The store layer: the backend the configuration picks, and what every backend shares. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cstoken/util.h"
#include "store_impl.h"

#define DEFAULT_TIMEOUT_MS 5000
/* auto only asks the bus whether the service exists: that must be quick */
#define PROBE_TIMEOUT_MS 500

void cst_item_init(struct cst_item *it)
{
	memset(it, 0, sizeof(*it));
}

const struct cst_item_field cst_item_strings[CST_ITEM_NSTRINGS] = {
    {"protocol", offsetof(struct cst_item, protocol)},
    {"host", offsetof(struct cst_item, host)},
    {"path", offsetof(struct cst_item, path)},
    {"username", offsetof(struct cst_item, username)},
    {"profile", offsetof(struct cst_item, profile)},
    {"api_key", offsetof(struct cst_item, api_key)},
    {"email", offsetof(struct cst_item, email)},
    {"uid", offsetof(struct cst_item, uid)},
    {"name", offsetof(struct cst_item, name)},
    {"scope_fp", offsetof(struct cst_item, scope_fp)},
    /* the secrets, from CST_ITEM_NATTRS on */
    {"secret", offsetof(struct cst_item, secret)},
    {"oauth_refresh_token", offsetof(struct cst_item, oauth_refresh_token)},
};

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
	dst->expiry = src->expiry;
	dst->created = src->created;
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

bool cst_item_same_identity(const struct cst_item *a, const struct cst_item *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case CST_ITEM_CREDENTIAL:
		return str_equal(a->protocol, b->protocol) && str_equal(a->host, b->host) &&
		       str_equal(a->path, b->path) && str_equal(a->username, b->username);
	case CST_ITEM_AUTHTOKEN:
		return str_equal(a->host, b->host) && str_equal(a->email, b->email);
	case CST_ITEM_TOKEN:
		return str_equal(a->profile, b->profile);
	case CST_ITEM_ANY:
		break;
	}
	return false;
}

bool cst_item_identical(const struct cst_item *a, const struct cst_item *b)
{
	return a->kind == b->kind && str_equal(a->protocol, b->protocol) &&
	       str_equal(a->host, b->host) && str_equal(a->path, b->path) &&
	       str_equal(a->username, b->username) && a->expiry == b->expiry &&
	       str_equal(a->profile, b->profile) && str_equal(a->api_key, b->api_key) &&
	       str_equal(a->email, b->email) && str_equal(a->uid, b->uid) &&
	       str_equal(a->name, b->name) && str_equal(a->scope_fp, b->scope_fp) &&
	       secret_equal(a->secret, b->secret) &&
	       secret_equal(a->oauth_refresh_token, b->oauth_refresh_token);
}

int cst_item_secret_decode(const char *data, size_t len, struct cst_item *out, struct cst_error *e)
{
	const char *nl;
	size_t klen = strlen(CST_ITEM_OAUTH_LINE) - 1;

	if (memchr(data, '\0', len))
		return cst_error_set(e, CST_ERR_STORE, "a stored secret is not text");
	nl = memchr(data, '\n', len);
	set_secret(&out->secret, NULL);
	set_secret(&out->oauth_refresh_token, NULL);
	out->secret = xstrndup(data, nl ? (size_t)(nl - data) : len);
	while (nl) {
		const char *line = nl + 1, *end;

		nl = memchr(line, '\n', len - (size_t)(line - data));
		end = nl ? nl : data + len;
		if ((size_t)(end - line) >= klen && !memcmp(line, &CST_ITEM_OAUTH_LINE[1], klen)) {
			free_secret(out->oauth_refresh_token);
			out->oauth_refresh_token =
			    xstrndup(line + klen, (size_t)(end - line) - klen);
		}
	}
	return 0;
}

int cst_item_attrs_each(const struct cst_item *it, cst_item_attr_fn *add, void *ctx,
			struct cst_error *e)
{
	char num[24];
	size_t i;
	int ret = 0;

	if (it->kind != CST_ITEM_ANY)
		ret = add(ctx, "kind", cst_item_kind_name(it->kind), e);
	for (i = 0; !ret && i < CST_ITEM_NATTRS; i++) {
		const char *v = cst_item_field_get(it, &cst_item_strings[i]);

		if (v)
			ret = add(ctx, cst_item_strings[i].name, v, e);
	}
	if (!ret && it->expiry) {
		snprintf(num, sizeof(num), "%lld", (long long)it->expiry);
		ret = add(ctx, "expiry", num, e);
	}
	if (!ret && it->created) {
		snprintf(num, sizeof(num), "%lld", (long long)it->created);
		ret = add(ctx, "created", num, e);
	}
	return ret;
}

void cst_item_attr_set(struct cst_item *out, const char *name, const char *value)
{
	int64_t n;
	size_t i;

	if (!strcmp(name, "kind")) {
		if (cst_item_kind_parse(value, &out->kind))
			out->kind = CST_ITEM_ANY;
		return;
	}
	for (i = 0; i < CST_ITEM_NATTRS; i++)
		if (!strcmp(name, cst_item_strings[i].name)) {
			set_str(cst_item_field(out, &cst_item_strings[i]), value);
			return;
		}
	if (!strcmp(name, "expiry") && !parse_int64(value, INT64_MIN, INT64_MAX, &n))
		out->expiry = n;
	else if (!strcmp(name, "created") && !parse_int64(value, INT64_MIN, INT64_MAX, &n))
		out->created = n;
}

int cst_item_attr_not_text(const char *name, struct cst_error *e)
{
	return cst_error_set(e, CST_ERR_INVALID,
			     "'%s' is not valid UTF-8; the Secret Service stores only text "
			     "attributes (use 'store = file')",
			     name);
}

/*
 * gnome-keyring-daemon --unlock alone starts a second daemon beside the running one, and a
 * trailing newline is taken as part of the password: --replace hands the bus name to a
 * daemon that unlocks with exactly what was typed.
 */
#define UNLOCK_COMMAND                                                                             \
	"read -rs P && printf %s \"$P\" | gnome-keyring-daemon --replace --unlock; unset P"

int cst_store_locked_error(struct cst_error *e, const char *what)
{
	return cst_error_set(e, CST_ERR_STORE_LOCKED,
			     "the keyring is locked (%s), so its items cannot be read; unlock it "
			     "(log in to the desktop, or unlock 'login' in Passwords and Keys), or "
			     "without a desktop run '%s' and type the keyring password",
			     what, UNLOCK_COMMAND);
}

static const char *const item_kind_names[] = {
    [CST_ITEM_ANY] = "any",
    [CST_ITEM_CREDENTIAL] = "credential",
    [CST_ITEM_AUTHTOKEN] = "authtoken",
    [CST_ITEM_TOKEN] = "token",
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
