/*
 * The Secret Service store, the part that needs libsecret (secret_lib.h): reading a secret
 * in the encrypted session, unlocking (never with a prompt), writing, erasing and listing
 * items. store_dbus.c opens the store and answers what the bus alone can; in the program
 * this file is its own module, loaded only when a request gets this far.
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
#include "secret_bus.h"

static const SecretSchema item_schema = {
    SS_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    {
	{"kind", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"protocol", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"host", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"path", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"username", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"profile", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"api_key", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"email", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"uid", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"name", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"scope_fp", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"expiry", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{"created", SECRET_SCHEMA_ATTRIBUTE_STRING},
	{NULL, 0},
    },
};

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

static SecretService *service(struct ss *ss)
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
	case CST_ITEM_ANY:
		break;
	}
	return xstrdup("cstoken item");
}

/* The secret value (cst_item_secret_decode reads it back). */
static int encode_secret(const struct cst_item *it, SecretValue **out, struct cst_error *e)
{
	struct strbuf sb = STRBUF_INIT;

	*out = NULL;
	if ((it->secret && strchr(it->secret, '\n')) ||
	    (it->oauth_refresh_token && strchr(it->oauth_refresh_token, '\n')))
		return cst_error_set(e, CST_ERR_INVALID,
				     "refusing to store a secret with a newline");
	strbuf_addstr(&sb, it->secret ? it->secret : "");
	if (it->oauth_refresh_token) {
		strbuf_addstr(&sb, CST_ITEM_OAUTH_LINE);
		strbuf_addstr(&sb, it->oauth_refresh_token);
	}
	/* libsecret copies the bytes into its own (wiped) memory */
	*out = secret_value_new(sb.buf ? sb.buf : "", (gssize)sb.len, "text/plain");
	strbuf_release(&sb);
	return 0;
}

static int decode_secret(SecretValue *value, struct cst_item *out, struct cst_error *e)
{
	const char *data;
	gsize len = 0;

	data = value ? secret_value_get(value, &len) : NULL;
	if (!data)
		return cst_error_set(e, CST_ERR_STORE, "the Secret Service returned no secret");
	return cst_item_secret_decode(data, len, out, e);
}

/* bounds the last iterations of the context at close (there are a few idle callbacks) */
#define CLOSE_MAX_DISPATCH 64

int cst_secret_lib_open(int timeout_ms, int64_t deadline, struct ss **out, struct cst_error *e)
{
	struct ss *ss = xcalloc(1, sizeof(*ss));

	(void)e;
	ss->ctx = g_main_context_new();
	ss->timeout_ms = timeout_ms;
	ss->deadline = deadline;
	*out = ss;
	return 0;
}

void cst_secret_lib_deadline(struct ss *ss, int64_t deadline)
{
	ss->deadline = deadline;
}

void cst_secret_lib_close(struct ss *ss)
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
int cst_secret_lib_connect(struct ss *ss, struct cst_error *e)
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
	secret_service_open(cst_service_get_type(), ss_bus_name(), SECRET_SERVICE_NONE, c.cancel,
			    ss_op_done, c.op);
	ret = ss_call_wait(&c, "connecting", e);
	if (ret)
		goto out;
	ss->service = (GObject *)secret_service_open_finish(c.op->res, &err);
	if (!ss->service) {
		ret = cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
				    "cannot reach the Secret Service: %s; start gnome-keyring (or "
				    "another provider) or set 'store = file'",
				    err ? err->message : "unknown error");
		g_clear_error(&err);
		goto out;
	}
	/* the proxy exists even when nobody owns the name (activation failed): check */
	owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(ss->service));
	if (!owner) {
		g_clear_object(&ss->service);
		ret = cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
				    "no Secret Service answers for '%s' on the session bus; start "
				    "gnome-keyring (or another provider) or set 'store = file'",
				    ss_bus_name());
	}
out:
	g_free(owner);
	ss_call_end(&c);
	return ret;
}

/* Items of our schema matching pattern's attributes; caller frees with g_list_free_full. */
static int ss_search(struct ss *ss, const struct cst_item *pattern, SecretSearchFlags flags,
		     GList **out, struct cst_error *e)
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
	secret_service_search(service(ss), &item_schema, attrs, flags | SECRET_SEARCH_ALL, c.cancel,
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

/* Loads si's secret into out->secret / out->oauth_refresh_token. */
static int ss_load_secret(struct ss *ss, SecretItem *si, struct cst_item *out, struct cst_error *e)
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

static int ss_delete(struct ss *ss, SecretItem *si, struct cst_error *e)
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
static int ss_default_collection(struct ss *ss, SecretCollection **out, struct cst_error *e)
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

static int ss_create(struct ss *ss, const struct cst_item *it, SecretItem **out,
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
	secret_item_create(coll, &item_schema, attrs, label, value, SECRET_ITEM_CREATE_NONE,
			   c.cancel, ss_op_done, c.op);
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
int cst_secret_lib_get(struct ss *ss, const struct cst_item *pattern, struct cst_item *out,
		       struct cst_error *e)
{
	struct cst_item best = CST_ITEM_INIT, cur = CST_ITEM_INIT;
	SecretItem *best_si = NULL;
	GList *found = NULL, *l;
	int ret;

	ret = cst_secret_lib_connect(ss, e);
	if (ret)
		goto out;
	/* attributes only: a miss never opens the encrypted session */
	ret = ss_search(ss, pattern, SECRET_SEARCH_UNLOCK, &found, e);
	if (ret)
		goto out;
	for (l = found; l; l = l->next) {
		if (!item_from_secret_item(l->data, &cur))
			continue;
		if (cst_item_match(pattern, &cur) && (!best_si || cur.created > best.created)) {
			cst_item_release(&best);
			best = cur;
			cst_item_init(&cur);
			best_si = l->data;
		}
		cst_item_release(&cur);
	}
	if (!best_si) {
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "no matching item in the Secret Service");
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

/* A pattern that finds every item with its identity (and maybe a few more). */
static void identity_pattern(const struct cst_item *it, struct cst_item *p)
{
	cst_item_init(p);
	p->kind = it->kind;
	switch (it->kind) {
	case CST_ITEM_CREDENTIAL:
		p->protocol = it->protocol;
		p->host = it->host;
		p->path = it->path;
		p->username = it->username;
		break;
	case CST_ITEM_AUTHTOKEN:
		p->host = it->host;
		p->email = it->email;
		break;
	case CST_ITEM_TOKEN:
		p->profile = it->profile;
		break;
	case CST_ITEM_ANY:
		break;
	}
}

int cst_secret_lib_put(struct ss *ss, const struct cst_item *item, bool *unchanged,
		       struct cst_error *e)
{
	struct cst_item pattern, cur = CST_ITEM_INIT, want = CST_ITEM_INIT;
	SecretItem *created = NULL;
	GList *found = NULL, *same = NULL, *l;
	int ret;

	identity_pattern(item, &pattern);
	ret = cst_secret_lib_connect(ss, e);
	if (ret)
		goto out;
	ret = ss_search(ss, &pattern, SECRET_SEARCH_UNLOCK, &found, e);
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

int cst_secret_lib_erase(struct ss *ss, const struct cst_item *pattern, size_t *removed,
			 struct cst_error *e)
{
	struct cst_item cur = CST_ITEM_INIT;
	GList *found = NULL, *l;
	size_t n = 0;
	int ret;

	ret = cst_secret_lib_connect(ss, e);
	if (ret)
		goto out;
	ret = ss_search(ss, pattern, SECRET_SEARCH_UNLOCK, &found, e);
	if (ret)
		goto out;
	for (l = found; l; l = l->next) {
		bool match = item_from_secret_item(l->data, &cur) && cst_item_match(pattern, &cur);

		cst_item_release(&cur);
		if (!match)
			continue;
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

int cst_secret_lib_list(struct ss *ss, const struct cst_item *pattern, struct cst_item **items,
			size_t *n, struct cst_error *e)
{
	struct cst_item *arr = NULL;
	GList *found = NULL, *l;
	size_t count = 0;
	int ret;

	ret = cst_secret_lib_connect(ss, e);
	if (ret)
		goto out;
	/* attributes are readable without unlocking: listing never asks for anything */
	ret = ss_search(ss, pattern, SECRET_SEARCH_NONE, &found, e);
	if (ret)
		goto out;
	arr = xcalloc(g_list_length(found) + 1, sizeof(*arr));
	for (l = found; l; l = l->next) {
		if (!item_from_secret_item(l->data, &arr[count]))
			continue;
		if (!cst_item_match(pattern, &arr[count])) {
			cst_item_release(&arr[count]);
			continue;
		}
		count++;
	}
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
