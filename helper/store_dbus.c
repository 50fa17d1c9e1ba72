/*
 * The Secret Service store, the part that needs only GDBus: whether a service is there
 * (store = auto), opening the store, and get. A get asks the service's SearchItems and
 * reads the found items' attributes over the bus connection itself, so a miss loads
 * neither libsecret nor its crypto, and never opens the encrypted session; a hit hands
 * only the reading of its secret to libsecret (secret_lib.h). Locked matches, writes,
 * erases and listings go to libsecret as a whole.
 *
 * Every call runs asynchronously on a private GMainContext iterated only until the store
 * operation's deadline, then cancelled (secret_bus.h): a provider that D-Bus starts and
 * that stalls costs at most timeout_ms, never a hang.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cstoken/util.h"
#include "secret_bus.h"

/* bounds the last iterations of the store's context (there are a few idle callbacks) */
#define CLOSE_MAX_DISPATCH 64

/*
 * The session bus connection of the last successful probe (cst_secret_service_available),
 * handed to the store that follows: it connects once, not twice. probed_owner: the unique
 * name of the running service the probe saw, so opening the store needs no further question.
 */
static GDBusConnection *probed_bus;
static char *probed_owner;

/* The unique name owning name (a running service), or NULL. Never starts a service. */
static char *name_owner(struct ss *ss, GDBusConnection *bus, const char *name)
{
	GVariant *reply = NULL;
	char *owner = NULL;

	if (ss_dbus_call(ss, bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			 "org.freedesktop.DBus", "GetNameOwner", g_variant_new("(s)", name), "(s)",
			 G_DBUS_CALL_FLAGS_NO_AUTO_START, "GetNameOwner", &reply, NULL))
		return NULL;
	g_variant_get(reply, "(s)", &owner);
	g_variant_unref(reply);
	return owner;
}

/* SearchItems for pattern's attributes: the object paths of unlocked and locked items. */
static int ss_search_paths(struct ss *ss, const struct cst_item *pattern, GVariant **unlocked,
			   GVariant **locked, struct cst_error *e)
{
	GHashTable *attrs = NULL;
	GHashTableIter iter;
	gpointer k, v;
	GVariantBuilder b;
	GVariant *reply = NULL;
	int ret;

	*unlocked = *locked = NULL;
	ret = ss_item_attributes(pattern, &attrs, e);
	if (ret)
		return ret;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
	/* as libsecret searches with a schema: only items of ours */
	g_variant_builder_add(&b, "{ss}", "xdg:schema", SS_SCHEMA_NAME);
	g_hash_table_iter_init(&iter, attrs);
	while (g_hash_table_iter_next(&iter, &k, &v))
		g_variant_builder_add(&b, "{ss}", k, v);
	ret = ss_dbus_call(ss, ss->bus, ss_bus_name(), SS_SERVICE_PATH, SS_SERVICE_IFACE,
			   "SearchItems", g_variant_new("(a{ss})", &b), "(aoao)",
			   G_DBUS_CALL_FLAGS_NONE, "search", &reply, e);
	if (!ret) {
		g_variant_get(reply, "(@ao@ao)", unlocked, locked);
		g_variant_unref(reply);
	}
	g_hash_table_unref(attrs);
	return ret;
}

/* Asks for the attributes of the item at path; item_at_finish reads the answer. */
static void item_at_begin(struct ss_call *c, struct ss *ss, const char *path)
{
	ss_dbus_call_begin(c, ss, ss->bus, ss_bus_name(), path, "org.freedesktop.DBus.Properties",
			   "Get", g_variant_new("(ss)", SS_ITEM_IFACE, "Attributes"), "(v)",
			   G_DBUS_CALL_FLAGS_NONE);
}

/* The item as far as its attributes tell; *ours false when it is not one of ours. */
static int item_at_finish(struct ss_call *c, struct cst_item *out, bool *ours, struct cst_error *e)
{
	GHashTable *attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GVariant *reply = NULL, *v = NULL;
	GVariantIter iter;
	char *k, *val;
	int ret;

	*ours = false;
	ret = ss_dbus_call_finish(c, c->ss->bus, "reading an item", &reply, e);
	if (ret)
		goto out;
	g_variant_get(reply, "(v)", &v);
	if (g_variant_is_of_type(v, G_VARIANT_TYPE("a{ss}"))) {
		g_variant_iter_init(&iter, v);
		while (g_variant_iter_next(&iter, "{ss}", &k, &val))
			g_hash_table_insert(attrs, k, val);
	}
	*ours = ss_item_from_attrs(attrs, out);
out:
	if (v)
		g_variant_unref(v);
	if (reply)
		g_variant_unref(reply);
	g_hash_table_unref(attrs);
	return ret;
}

/*
 * The only match: its secret is read (libsecret loaded, the session opened) while its
 * attributes are on their way, which saves a round trip on the usual hit.
 */
static int get_only_match(struct ss *ss, const struct cst_item *pattern, const char *path,
			  struct cst_item *out, struct cst_error *e)
{
	struct cst_item item = CST_ITEM_INIT, sec = CST_ITEM_INIT;
	struct ss_call c = {0};
	bool ours = false;
	int ret, attrs_ret;

	item_at_begin(&c, ss, path);
	ret = cst_secret_lib_load_at(ss, path, &sec, e);
	attrs_ret = item_at_finish(&c, &item, &ours, ret ? NULL : e);
	if (!ret)
		ret = attrs_ret;
	if (ret)
		goto out;
	if (!ours || !cst_item_match(pattern, &item)) {
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "no matching item in the Secret Service");
		goto out;
	}
	item.secret = sec.secret;
	item.oauth_refresh_token = sec.oauth_refresh_token;
	sec.secret = sec.oauth_refresh_token = NULL;
	*out = item;
	cst_item_init(&item);
out:
	cst_item_release(&item);
	cst_item_release(&sec);
	return ret;
}

/*
 * get through the bus alone, as long as every match is unlocked: *fallback when locked
 * items need libsecret's unlocking (which never shows a prompt).
 */
static int ss_get_direct(struct ss *ss, const struct cst_item *pattern, struct cst_item *out,
			 bool *fallback, struct cst_error *e)
{
	struct cst_item best = CST_ITEM_INIT, cur = CST_ITEM_INIT;
	GVariant *unlocked = NULL, *locked = NULL;
	const char *path, *best_path = NULL;
	struct ss_call c = {0};
	GVariantIter iter;
	bool ours;
	int ret;

	*fallback = false;
	ret = ss_search_paths(ss, pattern, &unlocked, &locked, e);
	if (ret)
		goto out;
	if (g_variant_n_children(locked)) {
		*fallback = true;
		goto out;
	}
	/* attributes only: a miss never opens the encrypted session */
	if (!g_variant_n_children(unlocked)) {
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "no matching item in the Secret Service");
		goto out;
	}
	if (g_variant_n_children(unlocked) == 1) {
		g_variant_get_child(unlocked, 0, "&o", &path);
		ret = get_only_match(ss, pattern, path, out, e);
		goto out;
	}
	/* several: the newest that matches */
	g_variant_iter_init(&iter, unlocked);
	while (g_variant_iter_next(&iter, "&o", &path)) {
		item_at_begin(&c, ss, path);
		ret = item_at_finish(&c, &cur, &ours, e);
		if (ret)
			goto out;
		if (ours && cst_item_match(pattern, &cur) &&
		    (!best_path || cur.created > best.created)) {
			cst_item_release(&best);
			best = cur;
			cst_item_init(&cur);
			best_path = path;
		}
		cst_item_release(&cur);
	}
	if (!best_path) {
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "no matching item in the Secret Service");
		goto out;
	}
	ret = cst_secret_lib_load_at(ss, best_path, &best, e);
	if (ret)
		goto out;
	*out = best;
	cst_item_init(&best);
out:
	cst_item_release(&best);
	cst_item_release(&cur);
	if (unlocked)
		g_variant_unref(unlocked);
	if (locked)
		g_variant_unref(locked);
	return ret;
}

static int ss_get(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		  struct cst_error *e)
{
	struct ss *ss = st->priv;
	bool fallback = false;
	int ret;

	ss_start(ss);
	ret = ss_get_direct(ss, pattern, out, &fallback, e);
	if (!ret && fallback)
		ret = cst_secret_lib_get(ss, pattern, out, e);
	return ret;
}

static int ss_put(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		  struct cst_error *e)
{
	ss_start(st->priv);
	return cst_secret_lib_put(st->priv, item, unchanged, e);
}

static int ss_erase(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
		    struct cst_error *e)
{
	ss_start(st->priv);
	return cst_secret_lib_erase(st->priv, pattern, removed, e);
}

static int ss_list(struct cst_store *st, const struct cst_item *pattern, struct cst_item **items,
		   size_t *n, struct cst_error *e)
{
	ss_start(st->priv);
	return cst_secret_lib_list(st->priv, pattern, items, n, e);
}

static void ss_close(struct cst_store *st)
{
	struct ss *ss = st->priv;
	int i;

	if (!ss)
		return;
	if (ss->service)
		g_object_unref(ss->service);
	/* GDBus frees a dead proxy's signal subscriptions in idle callbacks on our context */
	for (i = 0; ss->ctx && i < CLOSE_MAX_DISPATCH; i++)
		if (!g_main_context_iteration(ss->ctx, FALSE))
			break;
	if (ss->bus)
		g_object_unref(ss->bus);
	g_free(ss->owner);
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

/* The session bus: the probe's connection when there was one (and the owner it saw). */
static int ss_connect(struct ss *ss, struct cst_error *e)
{
	struct ss_call c = {0};
	GError *err = NULL;
	int ret;

	if (probed_bus) {
		ss->bus = probed_bus;
		ss->owner = probed_owner;
		probed_bus = NULL;
		probed_owner = NULL;
		return 0;
	}
	ss_call_begin(&c, ss);
	g_bus_get(G_BUS_TYPE_SESSION, c.cancel, ss_op_done, c.op);
	ret = ss_call_wait(&c, "connecting to the session bus", e);
	if (ret)
		goto out;
	ss->bus = g_bus_get_finish(c.op->res, &err);
	if (!ss->bus)
		ret = cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
				    "cannot reach the Secret Service: %s; start gnome-keyring (or "
				    "another provider) or set 'store = file'",
				    err ? err->message : "unknown error");
	g_clear_error(&err);
out:
	ss_call_end(&c);
	return ret;
}

int cst_store_secret_open(struct cst_store *st, int timeout_ms, struct cst_error *e)
{
	struct ss *ss = NULL;
	int ret = CST_ERR_STORE_UNAVAILABLE;

	if (!session_bus_present())
		return cst_error_set(e, CST_ERR_STORE_UNAVAILABLE, "%s", no_bus_msg);
	ss = xcalloc(1, sizeof(*ss));
	ss->ctx = g_main_context_new();
	ss->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	ss_start(ss);
	ret = ss_connect(ss, e);
	if (ret)
		goto out;
	if (!ss->owner)
		ss->owner = name_owner(ss, ss->bus, ss_bus_name());
	/* a service that is not running yet: libsecret starts it now, or says why not */
	if (!ss->owner) {
		ret = cst_secret_lib_connect(ss, e);
		if (ret)
			goto out;
	}
	st->ops = &secret_ops;
	st->priv = ss;
	ss = NULL;
	free(st->describe);
	st->describe = xstrdup("Secret Service");
	ret = 0;
out:
	if (ss) {
		struct cst_store tmp = {.priv = ss};

		ss_close(&tmp);
	}
	return ret;
}

bool cst_secret_service_available(int timeout_ms)
{
	struct ss probe = {0};
	struct ss_call c = {0};
	GDBusConnection *bus = NULL;
	GVariant *reply = NULL;
	const char *name = ss_bus_name();
	char *owner = NULL;
	bool ok = false;

	if (!session_bus_present()) {
		cst_debug("no session bus: Secret Service unavailable");
		return false;
	}
	probe.ctx = g_main_context_new();
	probe.timeout_ms = timeout_ms > 0 ? timeout_ms : 500;
	ss_start(&probe);
	ss_call_begin(&c, &probe);
	g_bus_get(G_BUS_TYPE_SESSION, c.cancel, ss_op_done, c.op);
	if (!ss_call_wait(&c, "connecting to the session bus", NULL))
		bus = g_bus_get_finish(c.op->res, NULL);
	ss_call_end(&c);
	if (!bus)
		goto out;
	owner = name_owner(&probe, bus, name);
	if (owner) {
		ok = true;
		goto out;
	}
	if (!ss_dbus_call(&probe, bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			  "org.freedesktop.DBus", "ListActivatableNames", NULL, "(as)",
			  G_DBUS_CALL_FLAGS_NO_AUTO_START, "ListActivatableNames", &reply, NULL)) {
		GVariantIter *iter = NULL;
		const char *s;

		g_variant_get(reply, "(as)", &iter);
		while (!ok && g_variant_iter_loop(iter, "&s", &s))
			ok = !strcmp(s, name);
		g_variant_iter_free(iter);
	}
out:
	cst_debug("secret service '%s': %s", name,
		  ok ? (owner ? "running" : "activatable") : "unavailable");
	if (reply)
		g_variant_unref(reply);
	/* the store opened next takes this shared connection instead of making its own */
	if (ok && bus && !probed_bus) {
		probed_bus = g_object_ref(bus);
		probed_owner = owner;
		owner = NULL;
	}
	g_free(owner);
	if (bus)
		g_object_unref(bus);
	g_main_context_unref(probe.ctx);
	return ok;
}
