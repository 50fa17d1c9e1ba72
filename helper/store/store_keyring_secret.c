/*
 * The Secret Service store's write path (store_keyring.h), module cstoken-secret, on
 * libsecret: writing, erasing and listing items, unlocking (never with a prompt), starting
 * an activatable service, and the reads the libdbus-1 read path hands back (locked
 * matches, a provider without its encrypted session). The store layer loads it only when a
 * request gets this far.
 *
 * Attributes are public in the Secret Service, so secrets go only into the secret value.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* secret-paths.h: reading a secret by its item's D-Bus path (stable since libsecret 0.16) */
#define SECRET_API_SUBJECT_TO_CHANGE
#include <libsecret/secret.h>

#include "cstoken/util.h"
#include "store_keyring_gio.h"

/* Our schema: kind and every attribute of the item's field tables, all text. */
static SecretSchema schema;
/* libsecret ends the list at the first unnamed entry */
_Static_assert(1 + CST_ITEM_NATTRS + CST_ITEM_NNUMBERS <
		   sizeof(schema.attributes) / sizeof(schema.attributes[0]),
	       "the schema has room for every attribute");

static void schema_init(void)
{
	size_t n = 0, i;

	schema.name = CST_KEYRING_SCHEMA;
	schema.flags = SECRET_SCHEMA_NONE;
	schema.attributes[n++].name = "kind";
	for (i = 0; i < CST_ITEM_NATTRS; i++)
		schema.attributes[n++].name = cst_item_strings[i].name;
	for (i = 0; i < CST_ITEM_NNUMBERS; i++)
		schema.attributes[n++].name = cst_item_numbers[i].name;
	for (i = 0; i < n; i++)
		schema.attributes[i].type = SECRET_SCHEMA_ATTRIBUTE_STRING;
}

/*
 * A SecretService that refuses every prompt: libsecret asks its service class to run
 * prompts (to unlock a collection), and cstoken must never wait for a human.
 */
typedef struct {
	SecretService parent;
} CstService;
typedef struct {
	SecretServiceClass parent_class;
} CstServiceClass;
GType cst_service_get_type(void);
G_DEFINE_TYPE(CstService, cst_service, SECRET_TYPE_SERVICE)

static void prompt_dismiss(SecretPrompt *prompt)
{
	/* fire and forget: the service drops the prompt, nobody is asked */
	g_dbus_proxy_call(G_DBUS_PROXY(prompt), "Dismiss", NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
			  1000, NULL, NULL, NULL);
}

static GVariant *noprompt_sync(SecretService *self, SecretPrompt *prompt, GCancellable *cancellable,
			       const GVariantType *return_type, GError **error)
{
	(void)self;
	(void)cancellable;
	(void)return_type;
	prompt_dismiss(prompt);
	g_set_error_literal(error, ss_prompt_refused_quark(), 1, "unlocking needs a prompt");
	return NULL;
}

static void noprompt_async(SecretService *self, SecretPrompt *prompt,
			   const GVariantType *return_type, GCancellable *cancellable,
			   GAsyncReadyCallback callback, gpointer user_data)
{
	(void)return_type;
	(void)cancellable;
	prompt_dismiss(prompt);
	g_task_report_new_error(self, callback, user_data, (gpointer)noprompt_async,
				ss_prompt_refused_quark(), 1, "unlocking needs a prompt");
}

static GVariant *noprompt_finish(SecretService *self, GAsyncResult *result, GError **error)
{
	(void)self;
	return g_task_propagate_pointer(G_TASK(result), error);
}

static void cst_service_init(CstService *self)
{
	(void)self;
}

static void cst_service_class_init(CstServiceClass *klass)
{
	SecretServiceClass *service_class = SECRET_SERVICE_CLASS(klass);

	service_class->prompt_sync = noprompt_sync;
	service_class->prompt_async = noprompt_async;
	service_class->prompt_finish = noprompt_finish;
}

static SecretService *service(struct cst_keyring_secret *ss)
{
	return SECRET_SERVICE(ss->service);
}

static bool item_from_secret_item(SecretItem *si, struct cst_item *out)
{
	GHashTable *attrs = secret_item_get_attributes(si);
	bool ok = ss_item_from_attrs(attrs, out);

	if (attrs)
		g_hash_table_unref(attrs);
	return ok;
}

static char *item_label(const struct cst_item *it)
{
	switch (it->kind) {
	case CST_ITEM_CREDENTIAL:
		return xasprintf("cstoken: %s%s%s%s%s%s%s%s", it->protocol ? it->protocol : "",
				 it->protocol ? "://" : "", it->host ? it->host : "",
				 it->path ? "/" : "", it->path ? it->path : "",
				 it->username ? " (" : "", it->username ? it->username : "",
				 it->username ? ")" : "");
	case CST_ITEM_AUTHTOKEN:
		return xasprintf("cstoken session for '%s' on %s", it->email ? it->email : "",
				 it->host ? it->host : "");
	case CST_ITEM_TOKEN:
		return xasprintf("cstoken token for profile '%s'", it->profile ? it->profile : "");
	case CST_ITEM_OAUTH:
		return xasprintf("cstoken OAuth session for '%s' on %s", it->email ? it->email : "",
				 it->host ? it->host : "");
	case CST_ITEM_ANY:
		break;
	}
	return xstrdup("cstoken item");
}

/* The secret value (decode_secret reads it back). */
static int encode_secret(const struct cst_item *it, SecretValue **out, struct cst_error *e)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	*out = NULL;
	ret = cst_keyring_secret_encode(it, &sb, e);
	/* libsecret copies the bytes into its own (wiped) memory */
	if (!ret)
		*out = secret_value_new(sb.buf ? sb.buf : "", (gssize)sb.len, "text/plain");
	strbuf_release(&sb);
	return ret;
}

static int decode_secret(SecretValue *value, struct cst_item *out, struct cst_error *e)
{
	const char *data;
	gsize len = 0;

	data = value ? secret_value_get(value, &len) : NULL;
	if (!data)
		return cst_error_set(e, CST_ERR_STORE, "the Secret Service returned no secret");
	return cst_keyring_secret_decode(data, len, out, e);
}

/* bounds the last iterations of the context at close (there are a few idle callbacks) */
#define CLOSE_MAX_DISPATCH 64

static int lib_open(int timeout_ms, struct cst_keyring_secret **out, struct cst_error *e)
{
	struct cst_keyring_secret *ss = xcalloc(1, sizeof(*ss));

	(void)e;
	ss->ctx = g_main_context_new();
	ss->timeout_ms = timeout_ms;
	*out = ss;
	return 0;
}

static void lib_close(struct cst_keyring_secret *ss)
{
	int i;

	if (!ss)
		return;
	if (ss->service)
		g_object_unref(ss->service);
	/* GDBus frees a dead proxy's signal subscriptions in idle callbacks on our context */
	for (i = 0; i < CLOSE_MAX_DISPATCH; i++)
		if (!g_main_context_iteration(ss->ctx, FALSE))
			break;
	g_main_context_unref(ss->ctx);
	free(ss);
}

/* libsecret's SecretService for what needs it (secrets, writes, unlocking); built once. */
static int service_connect(struct cst_keyring_secret *ss, struct cst_error *e)
{
	struct ss_call c = {0};
	GError *err = NULL;
	char *owner = NULL;
	int ret;

	if (ss->service)
		return 0;
	ss_call_begin(&c, ss);
	/*
	 * A private instance (not libsecret's shared one) bound to our context, with no
	 * session yet; it asks D-Bus to start an activatable service. (libsecret's service
	 * always loads its properties and watches its signals, whatever GDBusProxy flags it
	 * is given: that round trip is why a get asks the bus itself first.)
	 */
	secret_service_open(cst_service_get_type(), cst_keyring_bus_name(), SECRET_SERVICE_NONE,
			    c.cancel, ss_op_done, c.op);
	ret = ss_call_wait(&c, "connecting", e);
	if (ret)
		goto out;
	ss->service = (GObject *)secret_service_open_finish(c.op->res, &err);
	if (!ss->service) {
		ret = cst_keyring_unreachable(e, err ? err->message : NULL);
		g_clear_error(&err);
		goto out;
	}
	/* the proxy exists even when nobody owns the name (activation failed): check */
	owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(ss->service));
	if (!owner) {
		g_clear_object(&ss->service);
		ret = cst_keyring_unavailable(e);
	}
out:
	g_free(owner);
	ss_call_end(&c);
	return ret;
}

/* Items of our schema matching pattern's attributes; caller frees with g_list_free_full. */
static int ss_search(struct cst_keyring_secret *ss, const struct cst_item *pattern,
		     SecretSearchFlags flags, GList **out, struct cst_error *e)
{
	struct ss_call c = {0};
	GHashTable *attrs = NULL;
	GError *err = NULL;
	int ret;

	*out = NULL;
	ret = ss_item_attributes(pattern, &attrs, e);
	if (ret)
		return ret;
	ss_call_begin(&c, ss);
	secret_service_search(service(ss), &schema, attrs, flags | SECRET_SEARCH_ALL, c.cancel,
			      ss_op_done, c.op);
	ret = ss_call_wait(&c, "search", e);
	if (ret)
		goto out;
	*out = secret_service_search_finish(service(ss), c.op->res, &err);
	if (err)
		ret = ss_gerror(err, "search", e);
out:
	ss_call_end(&c);
	g_hash_table_unref(attrs);
	return ret;
}

/* Connects within deadline and searches for pattern's items (ss_search). */
static int ss_find(struct cst_keyring_secret *ss, int64_t deadline, const struct cst_item *pattern,
		   SecretSearchFlags flags, GList **out, struct cst_error *e)
{
	int ret;

	*out = NULL;
	ss->deadline = deadline;
	ret = service_connect(ss, e);
	if (ret)
		return ret;
	return ss_search(ss, pattern, flags, out, e);
}

/* The first node from l on whose item matches pattern, read into cur (released by the
 * caller); NULL at the end, cur released. */
static GList *ss_next_match(GList *l, const struct cst_item *pattern, struct cst_item *cur)
{
	for (; l; l = l->next) {
		if (item_from_secret_item(l->data, cur) && cst_item_match(pattern, cur))
			return l;
		cst_item_release(cur);
	}
	return NULL;
}

/* Loads si's secret into out->secret / out->oauth_refresh_token. */
static int ss_load_secret(struct cst_keyring_secret *ss, SecretItem *si, struct cst_item *out,
			  struct cst_error *e)
{
	struct ss_call c = {0};
	SecretValue *value = NULL;
	GError *err = NULL;
	int ret;

	ss_call_begin(&c, ss);
	secret_item_load_secret(si, c.cancel, ss_op_done, c.op);
	ret = ss_call_wait(&c, "reading a secret", e);
	if (ret)
		goto out;
	if (!secret_item_load_secret_finish(si, c.op->res, &err)) {
		ret = ss_gerror(err, "reading a secret", e);
		goto out;
	}
	value = secret_item_get_secret(si);
	ret = decode_secret(value, out, e);
out:
	if (value)
		secret_value_unref(value);
	ss_call_end(&c);
	return ret;
}

static int ss_delete(struct cst_keyring_secret *ss, SecretItem *si, struct cst_error *e)
{
	struct ss_call c = {0};
	GError *err = NULL;
	int ret;

	ss_call_begin(&c, ss);
	secret_item_delete(si, c.cancel, ss_op_done, c.op);
	ret = ss_call_wait(&c, "deleting an item", e);
	if (!ret && !secret_item_delete_finish(si, c.op->res, &err))
		ret = ss_gerror(err, "deleting an item", e);
	ss_call_end(&c);
	return ret;
}

/* The default collection, unlocked (without a prompt). */
static int ss_default_collection(struct cst_keyring_secret *ss, SecretCollection **out,
				 struct cst_error *e)
{
	struct ss_call c = {0};
	SecretCollection *coll = NULL;
	GList *objects = NULL;
	GError *err = NULL;
	int ret;

	*out = NULL;
	ss_call_begin(&c, ss);
	secret_collection_for_alias(service(ss), SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE,
				    c.cancel, ss_op_done, c.op);
	ret = ss_call_wait(&c, "finding the default collection", e);
	if (ret)
		goto out;
	coll = secret_collection_for_alias_finish(c.op->res, &err);
	if (err) {
		ret = ss_gerror(err, "finding the default collection", e);
		goto out;
	}
	if (!coll) {
		ret = cst_error_set(e, CST_ERR_STORE,
				    "the Secret Service has no default collection; create one (for "
				    "example with seahorse) or set 'store = file'");
		goto out;
	}
	if (secret_collection_get_locked(coll)) {
		ss_call_end(&c);
		ss_call_begin(&c, ss);
		objects = g_list_append(NULL, coll);
		secret_service_unlock(service(ss), objects, c.cancel, ss_op_done, c.op);
		ret = ss_call_wait(&c, "unlocking the default collection", e);
		if (ret)
			goto out;
		if (secret_service_unlock_finish(service(ss), c.op->res, NULL, &err) < 1) {
			ret = err ? ss_gerror(err, "unlocking the default collection", e)
				  : cst_store_locked_error(e, "unlocking the default collection");
			goto out;
		}
	}
	*out = coll;
	coll = NULL;
out:
	g_list_free(objects);
	if (coll)
		g_object_unref(coll);
	ss_call_end(&c);
	return ret;
}

static int ss_create(struct cst_keyring_secret *ss, const struct cst_item *it, SecretItem **out,
		     struct cst_error *e)
{
	struct ss_call c = {0};
	SecretCollection *coll = NULL;
	SecretValue *value = NULL;
	GHashTable *attrs = NULL;
	GError *err = NULL;
	char *label = NULL;
	int ret;

	*out = NULL;
	ret = ss_item_attributes(it, &attrs, e);
	if (ret)
		goto out;
	ret = encode_secret(it, &value, e);
	if (ret)
		goto out;
	ret = ss_default_collection(ss, &coll, e);
	if (ret)
		goto out;
	label = item_label(it);
	ss_call_begin(&c, ss);
	secret_item_create(coll, &schema, attrs, label, value, SECRET_ITEM_CREATE_NONE, c.cancel,
			   ss_op_done, c.op);
	ret = ss_call_wait(&c, "storing an item", e);
	if (ret)
		goto out;
	*out = secret_item_create_finish(c.op->res, &err);
	if (!*out)
		ret = ss_gerror(err, "storing an item", e);
out:
	ss_call_end(&c);
	free(label);
	if (value)
		secret_value_unref(value);
	if (coll)
		g_object_unref(coll);
	if (attrs)
		g_hash_table_unref(attrs);
	return ret;
}

/* get through libsecret, which unlocks locked matches first (never with a prompt). */
static int lib_get(struct cst_keyring_secret *ss, int64_t deadline, const struct cst_item *pattern,
		   struct cst_item *out, struct cst_error *e)
{
	struct cst_item best = CST_ITEM_INIT, cur = CST_ITEM_INIT;
	SecretItem *best_si = NULL;
	GList *found = NULL, *l;
	int ret;

	/* attributes only: a miss never opens the encrypted session */
	ret = ss_find(ss, deadline, pattern, SECRET_SEARCH_UNLOCK, &found, e);
	if (ret)
		goto out;
	for (l = found; (l = ss_next_match(l, pattern, &cur)); l = l->next) {
		if (cst_item_newer_match(pattern, &cur, best_si != NULL, best.created)) {
			cst_item_release(&best);
			best = cur;
			cst_item_init(&cur);
			best_si = l->data;
		}
		cst_item_release(&cur);
	}
	if (!best_si) {
		ret = cst_keyring_not_found(e);
		goto out;
	}
	ret = ss_load_secret(ss, best_si, &best, e);
	if (ret)
		goto out;
	*out = best;
	cst_item_init(&best);
out:
	cst_item_release(&best);
	cst_item_release(&cur);
	g_list_free_full(found, g_object_unref);
	return ret;
}

static int lib_put(struct cst_keyring_secret *ss, int64_t deadline, const struct cst_item *item,
		   bool *unchanged, struct cst_error *e)
{
	struct cst_item pattern, cur = CST_ITEM_INIT, want = CST_ITEM_INIT;
	SecretItem *created = NULL;
	GList *found = NULL, *same = NULL, *l;
	int ret;

	cst_item_identity_pattern(item, &pattern);
	ret = ss_find(ss, deadline, &pattern, SECRET_SEARCH_UNLOCK, &found, e);
	if (ret)
		goto out;
	for (l = found; l; l = l->next) {
		if (item_from_secret_item(l->data, &cur) && cst_item_same_identity(item, &cur))
			same = g_list_prepend(same, l->data);
		cst_item_release(&cur);
	}
	if (same && !same->next) {
		item_from_secret_item(same->data, &cur);
		ret = ss_load_secret(ss, same->data, &cur, e);
		if (ret)
			goto out;
		if (cst_item_identical(item, &cur)) {
			if (unchanged)
				*unchanged = true;
			goto out;
		}
	}
	cst_item_copy(&want, item);
	if (!want.created)
		want.created = (int64_t)time(NULL);
	/* the new item first, then the old ones: a failure never loses the credential */
	ret = ss_create(ss, &want, &created, e);
	if (ret)
		goto out;
	for (l = same; l; l = l->next) {
		ret = ss_delete(ss, l->data, e);
		if (ret)
			goto out;
	}
out:
	if (created)
		g_object_unref(created);
	cst_item_release(&want);
	cst_item_release(&cur);
	g_list_free(same);
	g_list_free_full(found, g_object_unref);
	return ret;
}

static int lib_erase(struct cst_keyring_secret *ss, int64_t deadline,
		     const struct cst_item *pattern, size_t *removed, struct cst_error *e)
{
	struct cst_item cur = CST_ITEM_INIT;
	GList *found = NULL, *l;
	size_t n = 0;
	int ret;

	ret = ss_find(ss, deadline, pattern, SECRET_SEARCH_UNLOCK, &found, e);
	if (ret)
		goto out;
	for (l = found; (l = ss_next_match(l, pattern, &cur)); l = l->next) {
		cst_item_release(&cur);
		ret = ss_delete(ss, l->data, e);
		if (ret)
			goto out;
		n++;
	}
out:
	if (removed)
		*removed = n;
	g_list_free_full(found, g_object_unref);
	return ret;
}

static int lib_list(struct cst_keyring_secret *ss, int64_t deadline, const struct cst_item *pattern,
		    struct cst_item **items, size_t *n, struct cst_error *e)
{
	struct cst_item *arr = NULL;
	GList *found = NULL, *l;
	size_t count = 0;
	int ret;

	/* attributes are readable without unlocking: listing never asks for anything */
	ret = ss_find(ss, deadline, pattern, SECRET_SEARCH_NONE, &found, e);
	if (ret)
		goto out;
	arr = xcalloc(g_list_length(found) + 1, sizeof(*arr));
	for (l = found; (l = ss_next_match(l, pattern, &arr[count])); l = l->next)
		count++;
	if (count) {
		*items = arr;
		*n = count;
		arr = NULL;
	}
out:
	free(arr);
	g_list_free_full(found, g_object_unref);
	return ret;
}

static int lib_connect(struct cst_keyring_secret *ss, int64_t deadline, struct cst_error *e)
{
	ss->deadline = deadline;
	return service_connect(ss, e);
}

static void lib_init(const struct cst_module_env *env)
{
	cst_module_adopt(env);
	schema_init();
}

const struct cst_keyring_secret_module cst_keyring_secret_module = {
    .head = CST_MODULE_HEAD(struct cst_keyring_secret_module, lib_init),
    .open = lib_open,
    .connect = lib_connect,
    .get = lib_get,
    .put = lib_put,
    .erase = lib_erase,
    .list = lib_list,
    .close = lib_close,
};
