/*
 * The secret-service store: items in the user's keyring through libsecret.
 *
 * Every libsecret call runs asynchronously on a private GMainContext that is iterated only
 * until the operation's deadline, then cancelled: a provider that D-Bus starts and that
 * stalls costs at most timeout_ms, never a hang. Attributes are public in the Secret
 * Service, so secrets go only into the secret value.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libsecret/secret.h>

#include "cstoken/util.h"
#include "store_impl.h"

#define SCHEMA_NAME "io.cstoken.Item"
#define DEFAULT_BUS_NAME "org.freedesktop.secrets"
/* after a cancel libsecret reports at once; this only guards against a lost callback */
#define CANCEL_GRACE_MS 1000
/* git's libsecret helper keeps oauth_refresh_token in the secret the same way */
#define OAUTH_LINE "\noauth_refresh_token="

static const SecretSchema item_schema = {
    SCHEMA_NAME,
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

/* The string attributes of struct cst_item, by attribute name. */
static const struct str_attr {
	const char *name;
	size_t off;
} str_attrs[] = {
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
};
#define N_STR_ATTRS (sizeof(str_attrs) / sizeof(str_attrs[0]))

static const char *item_str(const struct cst_item *it, size_t i)
{
	return *(char *const *)((const char *)it + str_attrs[i].off);
}

static char **item_str_slot(struct cst_item *it, size_t i)
{
	return (char **)((char *)it + str_attrs[i].off);
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

static GQuark prompt_refused_quark(void)
{
	return g_quark_from_static_string("cstoken-prompt-refused");
}

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
	g_set_error_literal(error, prompt_refused_quark(), 1, "unlocking needs a prompt");
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
				prompt_refused_quark(), 1, "unlocking needs a prompt");
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

/*
 * The session bus connection of the last successful probe (cst_secret_service_available),
 * held until the store closes: libsecret takes GIO's shared connection, so the store that
 * follows a probe connects once, not twice.
 */
static GDBusConnection *probed_bus;

struct ss {
	GMainContext *ctx;
	SecretService *service;
	int timeout_ms;
	gint64 deadline; /* monotonic microseconds: end of the current store operation */
};

/* One pending async call. Refcounted: a call abandoned at its deadline is freed by its callback. */
struct op {
	int refs;
	bool done;
	GAsyncResult *res;
};

static void op_unref(struct op *op)
{
	if (!op || --op->refs > 0)
		return;
	if (op->res)
		g_object_unref(op->res);
	free(op);
}

static void op_done(GObject *source, GAsyncResult *res, gpointer data)
{
	struct op *op = data;

	(void)source;
	op->res = g_object_ref(res);
	op->done = true;
	op_unref(op);
}

struct call {
	struct ss *ss;
	GCancellable *cancel;
	struct op *op;
};

static void ss_start(struct ss *ss)
{
	ss->deadline = g_get_monotonic_time() + (gint64)ss->timeout_ms * 1000;
}

/* Prepares a call: pass c->cancel, op_done and c->op to the libsecret async function. */
static void call_begin(struct call *c, struct ss *ss)
{
	c->ss = ss;
	c->cancel = g_cancellable_new();
	c->op = xcalloc(1, sizeof(*c->op));
	c->op->refs = 2; /* ours and the callback's */
	g_main_context_push_thread_default(ss->ctx);
}

static void call_end(struct call *c)
{
	if (!c->ss)
		return;
	g_main_context_pop_thread_default(c->ss->ctx);
	g_object_unref(c->cancel);
	op_unref(c->op);
	c->ss = NULL;
}

static gboolean on_deadline(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* Iterates the private context until the call finished or until ms passed. */
static void iterate_until(struct call *c, gint64 ms)
{
	bool expired = false;
	GSource *timer;

	if (c->op->done)
		return;
	timer = g_timeout_source_new((guint)(ms > 0 ? ms : 0));
	g_source_set_callback(timer, on_deadline, &expired, NULL);
	g_source_attach(timer, c->ss->ctx);
	while (!c->op->done && !expired)
		g_main_context_iteration(c->ss->ctx, TRUE);
	g_source_destroy(timer);
	g_source_unref(timer);
}

/* Waits for the call; CST_ERR_TIMEOUT (call cancelled) once the deadline has passed. */
static int call_wait(struct call *c, const char *what, struct cst_error *e)
{
	iterate_until(c, (c->ss->deadline - g_get_monotonic_time() + 999) / 1000);
	if (c->op->done)
		return 0;
	g_cancellable_cancel(c->cancel);
	iterate_until(c, CANCEL_GRACE_MS);
	return cst_error_set(e, CST_ERR_TIMEOUT,
			     "the Secret Service did not answer (%s) within %d ms; check that the "
			     "keyring daemon runs, or set 'store = file'",
			     what, c->ss->timeout_ms);
}

/* Maps a libsecret/D-Bus failure to a store error; consumes err. */
static int gerror_to_cst(GError *err, const char *what, struct cst_error *e)
{
	int ret;

	if (err && err->domain == prompt_refused_quark())
		ret =
		    cst_error_set(e, CST_ERR_STORE,
				  "the keyring is locked and unlocking it needs a prompt, which "
				  "cstoken never shows; unlock the keyring (log in to the desktop "
				  "or run 'gnome-keyring-daemon --unlock') and retry");
	else if (err && (g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
			 g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)))
		ret = cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
				    "no Secret Service on the session bus; start gnome-keyring (or "
				    "another provider) or set 'store = file'");
	else if (err && g_error_matches(err, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
		ret = cst_error_set(e, CST_ERR_STORE,
				    "the keyring is locked; unlock it and retry (%s)", what);
	else
		ret = cst_error_set(e, CST_ERR_STORE, "secret service: %s failed: %s", what,
				    err ? err->message : "unknown error");
	g_clear_error(&err);
	return ret;
}

static const char *bus_name(void)
{
	const char *name = getenv_nonempty("SECRET_SERVICE_BUS_NAME");

	return name ? name : DEFAULT_BUS_NAME;
}

/*
 * Is there a session bus to talk to at all? GLib would otherwise try X11 autolaunch,
 * which spawns dbus-launch and can only fail slowly or start a stray bus.
 */
static bool session_bus_present(void)
{
	const char *runtime = getenv_nonempty("XDG_RUNTIME_DIR");
	char *path = NULL;
	struct stat sb;
	bool ok;

	if (getenv_nonempty("DBUS_SESSION_BUS_ADDRESS"))
		return true;
	if (!runtime)
		return false;
	path = xasprintf("%s/bus", runtime);
	ok = stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
	free(path);
	return ok;
}

static int check_utf8(const char *name, const char *value, struct cst_error *e)
{
	if (value && !g_utf8_validate(value, -1, NULL))
		return cst_error_set(e, CST_ERR_INVALID,
				     "'%s' is not valid UTF-8; the Secret Service stores only text "
				     "attributes (use 'store = file')",
				     name);
	return 0;
}

/* Attributes of it (pattern or item); every non-NULL field, kind unless ANY. */
static int item_attributes(const struct cst_item *it, GHashTable **out, struct cst_error *e)
{
	GHashTable *attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	size_t i;
	int ret;

	*out = NULL;
	if (it->kind != CST_ITEM_ANY)
		g_hash_table_insert(attrs, g_strdup("kind"),
				    g_strdup(cst_item_kind_name(it->kind)));
	for (i = 0; i < N_STR_ATTRS; i++) {
		const char *v = item_str(it, i);

		if (!v)
			continue;
		ret = check_utf8(str_attrs[i].name, v, e);
		if (ret) {
			g_hash_table_unref(attrs);
			return ret;
		}
		g_hash_table_insert(attrs, g_strdup(str_attrs[i].name), g_strdup(v));
	}
	if (it->expiry)
		g_hash_table_insert(attrs, g_strdup("expiry"),
				    g_strdup_printf("%lld", (long long)it->expiry));
	if (it->created)
		g_hash_table_insert(attrs, g_strdup("created"),
				    g_strdup_printf("%lld", (long long)it->created));
	*out = attrs;
	return 0;
}

/* Fills out (initialised) with the attributes of a stored item; false if it is not ours. */
static bool item_from_secret_item(SecretItem *si, struct cst_item *out)
{
	GHashTable *attrs = secret_item_get_attributes(si);
	const char *v;
	int64_t n;
	size_t i;
	bool ok = false;

	cst_item_init(out);
	if (!attrs)
		return false;
	v = g_hash_table_lookup(attrs, "kind");
	if (!v || cst_item_kind_parse(v, &out->kind))
		goto out;
	for (i = 0; i < N_STR_ATTRS; i++) {
		v = g_hash_table_lookup(attrs, str_attrs[i].name);
		if (v)
			*item_str_slot(out, i) = xstrdup(v);
	}
	v = g_hash_table_lookup(attrs, "expiry");
	if (v && !parse_int64(v, INT64_MIN, INT64_MAX, &n))
		out->expiry = n;
	v = g_hash_table_lookup(attrs, "created");
	if (v && !parse_int64(v, INT64_MIN, INT64_MAX, &n))
		out->created = n;
	ok = true;
out:
	g_hash_table_unref(attrs);
	if (!ok)
		cst_item_release(out);
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

/* The secret value: "SECRET" or "SECRET\noauth_refresh_token=TOKEN". */
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
		strbuf_addstr(&sb, OAUTH_LINE);
		strbuf_addstr(&sb, it->oauth_refresh_token);
	}
	/* libsecret copies the bytes into its own (wiped) memory */
	*out = secret_value_new(sb.buf ? sb.buf : "", (gssize)sb.len, "text/plain");
	strbuf_release(&sb);
	return 0;
}

static int decode_secret(SecretValue *value, struct cst_item *out, struct cst_error *e)
{
	const char *data, *nl;
	gsize len = 0;

	data = value ? secret_value_get(value, &len) : NULL;
	if (!data)
		return cst_error_set(e, CST_ERR_STORE, "the Secret Service returned no secret");
	if (memchr(data, '\0', len))
		return cst_error_set(e, CST_ERR_STORE, "a stored secret is not text");
	nl = memchr(data, '\n', len);
	set_secret(&out->secret, NULL);
	set_secret(&out->oauth_refresh_token, NULL);
	out->secret = xstrndup(data, nl ? (size_t)(nl - data) : len);
	while (nl) {
		const char *line = nl + 1, *end;
		size_t klen = strlen(OAUTH_LINE) - 1;

		nl = memchr(line, '\n', len - (size_t)(line - data));
		end = nl ? nl : data + len;
		if ((size_t)(end - line) >= klen && !memcmp(line, &OAUTH_LINE[1], klen)) {
			free_secret(out->oauth_refresh_token);
			out->oauth_refresh_token =
			    xstrndup(line + klen, (size_t)(end - line) - klen);
		}
	}
	return 0;
}

/* Items of our schema matching pattern's attributes; caller frees with g_list_free_full. */
static int ss_search(struct ss *ss, const struct cst_item *pattern, SecretSearchFlags flags,
		     GList **out, struct cst_error *e)
{
	struct call c = {0};
	GHashTable *attrs = NULL;
	GError *err = NULL;
	int ret;

	*out = NULL;
	ret = item_attributes(pattern, &attrs, e);
	if (ret)
		return ret;
	call_begin(&c, ss);
	secret_service_search(ss->service, &item_schema, attrs, flags | SECRET_SEARCH_ALL, c.cancel,
			      op_done, c.op);
	ret = call_wait(&c, "search", e);
	if (ret)
		goto out;
	*out = secret_service_search_finish(ss->service, c.op->res, &err);
	if (err)
		ret = gerror_to_cst(err, "search", e);
out:
	call_end(&c);
	g_hash_table_unref(attrs);
	return ret;
}

/* Loads si's secret into out->secret / out->oauth_refresh_token. */
static int ss_load_secret(struct ss *ss, SecretItem *si, struct cst_item *out, struct cst_error *e)
{
	struct call c = {0};
	SecretValue *value = NULL;
	GError *err = NULL;
	int ret;

	call_begin(&c, ss);
	secret_item_load_secret(si, c.cancel, op_done, c.op);
	ret = call_wait(&c, "reading a secret", e);
	if (ret)
		goto out;
	if (!secret_item_load_secret_finish(si, c.op->res, &err)) {
		ret = gerror_to_cst(err, "reading a secret", e);
		goto out;
	}
	value = secret_item_get_secret(si);
	ret = decode_secret(value, out, e);
out:
	if (value)
		secret_value_unref(value);
	call_end(&c);
	return ret;
}

static int ss_delete(struct ss *ss, SecretItem *si, struct cst_error *e)
{
	struct call c = {0};
	GError *err = NULL;
	int ret;

	call_begin(&c, ss);
	secret_item_delete(si, c.cancel, op_done, c.op);
	ret = call_wait(&c, "deleting an item", e);
	if (!ret && !secret_item_delete_finish(si, c.op->res, &err))
		ret = gerror_to_cst(err, "deleting an item", e);
	call_end(&c);
	return ret;
}

/* The default collection, unlocked (without a prompt). */
static int ss_default_collection(struct ss *ss, SecretCollection **out, struct cst_error *e)
{
	struct call c = {0};
	SecretCollection *coll = NULL;
	GList *objects = NULL;
	GError *err = NULL;
	int ret;

	*out = NULL;
	call_begin(&c, ss);
	secret_collection_for_alias(ss->service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE,
				    c.cancel, op_done, c.op);
	ret = call_wait(&c, "finding the default collection", e);
	if (ret)
		goto out;
	coll = secret_collection_for_alias_finish(c.op->res, &err);
	if (err) {
		ret = gerror_to_cst(err, "finding the default collection", e);
		goto out;
	}
	if (!coll) {
		ret = cst_error_set(e, CST_ERR_STORE,
				    "the Secret Service has no default collection; create one (for "
				    "example with seahorse) or set 'store = file'");
		goto out;
	}
	if (secret_collection_get_locked(coll)) {
		call_end(&c);
		call_begin(&c, ss);
		objects = g_list_append(NULL, coll);
		secret_service_unlock(ss->service, objects, c.cancel, op_done, c.op);
		ret = call_wait(&c, "unlocking the default collection", e);
		if (ret)
			goto out;
		if (secret_service_unlock_finish(ss->service, c.op->res, NULL, &err) < 1) {
			ret = err ? gerror_to_cst(err, "unlocking the default collection", e)
				  : cst_error_set(e, CST_ERR_STORE,
						  "the default keyring collection stays locked; "
						  "unlock it and retry");
			goto out;
		}
	}
	*out = coll;
	coll = NULL;
out:
	g_list_free(objects);
	if (coll)
		g_object_unref(coll);
	call_end(&c);
	return ret;
}

static int ss_create(struct ss *ss, const struct cst_item *it, SecretItem **out,
		     struct cst_error *e)
{
	struct call c = {0};
	SecretCollection *coll = NULL;
	SecretValue *value = NULL;
	GHashTable *attrs = NULL;
	GError *err = NULL;
	char *label = NULL;
	int ret;

	*out = NULL;
	ret = item_attributes(it, &attrs, e);
	if (ret)
		goto out;
	ret = encode_secret(it, &value, e);
	if (ret)
		goto out;
	ret = ss_default_collection(ss, &coll, e);
	if (ret)
		goto out;
	label = item_label(it);
	call_begin(&c, ss);
	secret_item_create(coll, &item_schema, attrs, label, value, SECRET_ITEM_CREATE_NONE,
			   c.cancel, op_done, c.op);
	ret = call_wait(&c, "storing an item", e);
	if (ret)
		goto out;
	*out = secret_item_create_finish(c.op->res, &err);
	if (!*out)
		ret = gerror_to_cst(err, "storing an item", e);
out:
	call_end(&c);
	free(label);
	if (value)
		secret_value_unref(value);
	if (coll)
		g_object_unref(coll);
	if (attrs)
		g_hash_table_unref(attrs);
	return ret;
}

static int ss_get(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		  struct cst_error *e)
{
	struct ss *ss = st->priv;
	struct cst_item best = CST_ITEM_INIT, cur = CST_ITEM_INIT;
	SecretItem *best_si = NULL;
	GList *found = NULL, *l;
	int ret;

	ss_start(ss);
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

static int ss_put(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		  struct cst_error *e)
{
	struct ss *ss = st->priv;
	struct cst_item pattern, cur = CST_ITEM_INIT, want = CST_ITEM_INIT;
	SecretItem *created = NULL;
	GList *found = NULL, *same = NULL, *l;
	int ret;

	ss_start(ss);
	identity_pattern(item, &pattern);
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

static int ss_erase(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
		    struct cst_error *e)
{
	struct ss *ss = st->priv;
	struct cst_item cur = CST_ITEM_INIT;
	GList *found = NULL, *l;
	size_t n = 0;
	int ret;

	ss_start(ss);
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

static int ss_list(struct cst_store *st, const struct cst_item *pattern, struct cst_item **items,
		   size_t *n, struct cst_error *e)
{
	struct ss *ss = st->priv;
	struct cst_item *arr = NULL;
	GList *found = NULL, *l;
	size_t count = 0;
	int ret;

	ss_start(ss);
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

static void ss_close(struct cst_store *st)
{
	struct ss *ss = st->priv;

	if (!ss)
		return;
	if (ss->service)
		g_object_unref(ss->service);
	g_clear_object(&probed_bus);
	if (ss->ctx)
		g_main_context_unref(ss->ctx);
	free(ss);
	st->priv = NULL;
}

static const struct cst_store_ops secret_ops = {
    .get = ss_get,
    .put = ss_put,
    .erase = ss_erase,
    .list = ss_list,
    .close = ss_close,
};

static const char no_bus_msg[] = "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and "
				 "$XDG_RUNTIME_DIR/bus is missing); run inside a login session "
				 "or set 'store = file'";

int cst_store_secret_open(struct cst_store *st, int timeout_ms, struct cst_error *e)
{
	struct ss *ss = NULL;
	struct call c = {0};
	GError *err = NULL;
	char *owner = NULL;
	int ret = CST_ERR_STORE_UNAVAILABLE;

	if (!session_bus_present())
		return cst_error_set(e, CST_ERR_STORE_UNAVAILABLE, "%s", no_bus_msg);
	ss = xcalloc(1, sizeof(*ss));
	ss->ctx = g_main_context_new();
	ss->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	ss_start(ss);
	call_begin(&c, ss);
	/* a private instance (not libsecret's shared one) bound to our context; no session yet */
	secret_service_open(cst_service_get_type(), bus_name(), SECRET_SERVICE_NONE, c.cancel,
			    op_done, c.op);
	ret = call_wait(&c, "connecting", e);
	if (ret)
		goto out;
	ss->service = secret_service_open_finish(c.op->res, &err);
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
		ret = cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
				    "no Secret Service answers for '%s' on the session bus; start "
				    "gnome-keyring (or another provider) or set 'store = file'",
				    bus_name());
		goto out;
	}
	st->ops = &secret_ops;
	st->priv = ss;
	ss = NULL;
	free(st->describe);
	st->describe = xstrdup("Secret Service");
	ret = 0;
out:
	call_end(&c);
	g_free(owner);
	if (ss) {
		struct cst_store tmp = {.priv = ss};

		ss_close(&tmp);
	}
	return ret;
}

/* Calls an org.freedesktop.DBus method on bus; the reply or NULL (error or timeout). */
static GVariant *bus_call(struct ss *ss, GDBusConnection *bus, const char *method, GVariant *args,
			  const char *reply_type)
{
	struct call c = {0};
	GVariant *reply = NULL;
	gint64 left_ms = (ss->deadline - g_get_monotonic_time()) / 1000;

	if (left_ms <= 0) {
		if (args)
			g_variant_unref(g_variant_ref_sink(args));
		return NULL;
	}
	call_begin(&c, ss);
	/* NO_AUTO_START: asking must never start the service */
	g_dbus_connection_call(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", method, args, G_VARIANT_TYPE(reply_type),
			       G_DBUS_CALL_FLAGS_NO_AUTO_START, (int)left_ms, c.cancel, op_done,
			       c.op);
	if (!call_wait(&c, method, NULL))
		reply = g_dbus_connection_call_finish(bus, c.op->res, NULL);
	call_end(&c);
	return reply;
}

bool cst_secret_service_available(int timeout_ms)
{
	struct ss probe = {0};
	struct call c = {0};
	GDBusConnection *bus = NULL;
	GVariant *reply = NULL;
	const char *name = bus_name();
	gboolean owned = FALSE;
	bool ok = false;

	if (!session_bus_present()) {
		cst_debug("no session bus: Secret Service unavailable");
		return false;
	}
	probe.ctx = g_main_context_new();
	probe.timeout_ms = timeout_ms > 0 ? timeout_ms : 500;
	ss_start(&probe);
	call_begin(&c, &probe);
	g_bus_get(G_BUS_TYPE_SESSION, c.cancel, op_done, c.op);
	if (!call_wait(&c, "connecting to the session bus", NULL))
		bus = g_bus_get_finish(c.op->res, NULL);
	call_end(&c);
	if (!bus)
		goto out;
	reply = bus_call(&probe, bus, "NameHasOwner", g_variant_new("(s)", name), "(b)");
	if (!reply)
		goto out;
	g_variant_get(reply, "(b)", &owned);
	g_variant_unref(reply);
	reply = NULL;
	if (owned) {
		ok = true;
		goto out;
	}
	reply = bus_call(&probe, bus, "ListActivatableNames", NULL, "(as)");
	if (reply) {
		GVariantIter *iter = NULL;
		const char *s;

		g_variant_get(reply, "(as)", &iter);
		while (!ok && g_variant_iter_loop(iter, "&s", &s))
			ok = !strcmp(s, name);
		g_variant_iter_free(iter);
	}
out:
	cst_debug("secret service '%s': %s", name,
		  ok ? (owned ? "running" : "activatable") : "unavailable");
	if (reply)
		g_variant_unref(reply);
	/* the store opened next reuses this shared connection instead of making its own */
	if (ok && bus && !probed_bus)
		probed_bus = g_object_ref(bus);
	if (bus)
		g_object_unref(bus);
	g_main_context_unref(probe.ctx);
	return ok;
}
