/* The write path's calls on GIO (store_keyring_gio.h): deadline, errors, attribute tables. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* for the SecretError codes only: nothing here calls into libsecret */
#include <libsecret/secret.h>

#include "cstoken/util.h"
#include "store_keyring_gio.h"

/* after a cancel GIO reports at once; this only guards against a lost callback */
#define CANCEL_GRACE_MS 1000
/* libsecret's error domain (SECRET_ERROR), by name: this file does not link libsecret */
#define SECRET_ERROR_DOMAIN "secret-error"

GQuark ss_prompt_refused_quark(void)
{
	return g_quark_from_static_string("cstoken-prompt-refused");
}

static void op_unref(struct ss_op *op)
{
	if (!op || --op->refs > 0)
		return;
	if (op->res)
		g_object_unref(op->res);
	free(op);
}

void ss_op_done(GObject *source, GAsyncResult *res, gpointer data)
{
	struct ss_op *op = data;

	(void)source;
	op->res = g_object_ref(res);
	op->done = true;
	op_unref(op);
}

/* Prepares a call: pass c->cancel, ss_op_done and c->op to the libsecret async function. */
void ss_call_begin(struct ss_call *c, struct cst_keyring_secret *ss)
{
	c->ss = ss;
	c->cancel = g_cancellable_new();
	c->op = xcalloc(1, sizeof(*c->op));
	c->op->refs = 2; /* ours and the callback's */
	g_main_context_push_thread_default(ss->ctx);
}

void ss_call_end(struct ss_call *c)
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
static void iterate_until(struct ss_call *c, gint64 ms)
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
int ss_call_wait(struct ss_call *c, const char *what, struct cst_error *e)
{
	iterate_until(c, (c->ss->deadline - g_get_monotonic_time() + 999) / 1000);
	if (c->op->done)
		return 0;
	g_cancellable_cancel(c->cancel);
	iterate_until(c, CANCEL_GRACE_MS);
	return cst_keyring_timeout(e, what, c->ss->timeout_ms);
}

/* The service's "is locked", as libsecret maps it or, before it is loaded, as sent. */
static bool is_locked_error(const GError *err)
{
	char *remote;
	bool locked;

	if (err->domain == g_quark_try_string(SECRET_ERROR_DOMAIN))
		return err->code == SECRET_ERROR_IS_LOCKED;
	remote = g_dbus_error_get_remote_error(err);
	locked = remote && !strcmp(remote, CST_KEYRING_LOCKED_ERROR);
	g_free(remote);
	return locked;
}

/* Maps a libsecret/D-Bus failure to a store error; consumes err. */
int ss_gerror(GError *err, const char *what, struct cst_error *e)
{
	int ret;

	/* unlocking needs a prompt, which cstoken never shows */
	if (err && err->domain == ss_prompt_refused_quark())
		ret = cst_store_locked_error(e, what);
	else if (err && (g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
			 g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)))
		ret = cst_keyring_unavailable(e);
	else if (err && is_locked_error(err))
		ret = cst_store_locked_error(e, what);
	else
		ret = cst_keyring_failed(e, what, err ? err->message : NULL);
	g_clear_error(&err);
	return ret;
}

/* cst_keyring_attr_fn: into a GHashTable, text only. */
static int attrs_add(void *ctx, const char *name, const char *value, struct cst_error *e)
{
	if (!g_utf8_validate(value, -1, NULL))
		return cst_keyring_attr_not_text(name, e);
	g_hash_table_insert(ctx, g_strdup(name), g_strdup(value));
	return 0;
}

int ss_item_attributes(const struct cst_item *it, GHashTable **out, struct cst_error *e)
{
	GHashTable *attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	int ret = cst_keyring_attrs_each(it, attrs_add, attrs, e);

	*out = NULL;
	if (ret)
		g_hash_table_unref(attrs);
	else
		*out = attrs;
	return ret;
}

bool ss_item_from_attrs(GHashTable *attrs, struct cst_item *out)
{
	GHashTableIter iter;
	gpointer k, v;

	cst_item_init(out);
	if (!attrs)
		return false;
	g_hash_table_iter_init(&iter, attrs);
	while (g_hash_table_iter_next(&iter, &k, &v))
		cst_keyring_attr_set(out, k, v);
	return out->kind != CST_ITEM_ANY;
}
