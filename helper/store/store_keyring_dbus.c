/*
 * The Secret Service store's read path (store_keyring.h), module cstoken-dbus: whether a
 * service is there (store = auto), the bus connection, and get. A get asks the service's
 * SearchItems and reads the found items' attributes over the bus connection itself, so a
 * miss never opens the encrypted session; a hit opens it (store_keyring_crypt.h) and reads
 * its secret with the item's GetSecret. What it cannot answer (locked matches, a provider
 * without the encrypted session) it hands back to the store layer, which asks the
 * libsecret half.
 *
 * Why libdbus-1 and not GDBus or libsecret here: a keyring miss is one connection and
 * three method calls, and loading GLib and GIO (ten libraries, GType set-up, GDBus's
 * worker thread) costs more than that whole exchange; a hit is two more calls, and
 * libsecret's proxies add round trips and memory of their own. libdbus-1 is the
 * freedesktop.org reference implementation, one small library that every system with a
 * D-Bus daemon already has; it marshals and authenticates for us (no hand-written wire
 * protocol) and gives each call a timeout.
 *
 * Every call is bounded by the store operation's deadline: a method call's reply by the
 * libdbus timeout of the time left, and the connection's authentication by driving it
 * here (sd_connect), since libdbus itself would wait for it without a bound. The socket's
 * connect() is blocking in libdbus and cannot be bounded; on a local socket it does not
 * wait for the server to answer.
 */
#include <dbus/dbus.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cstoken/util.h"
#include "store_keyring.h"
#include "store_keyring_crypt.h"

struct cst_keyring_dbus {
	DBusConnection *bus; /* private connection to the session bus */
	char *owner;	     /* the running service's unique bus name; NULL: not known to run */
	char *session;	     /* the encrypted session's object path, once opened */
	unsigned char key[CST_SS_KEY_LEN]; /* and its key */
	int timeout_ms;
	int64_t deadline; /* CLOCK_MONOTONIC microseconds: end of the current store operation */
};

/*
 * The session bus connection of the last successful probe (cst_secret_service_available),
 * handed to the store that follows: it connects once, not twice. probed_owner: the unique
 * name of the running service the probe saw, so opening the store needs no further question.
 */
static DBusConnection *probed_bus;
static char *probed_owner;

/* libdbus returns FALSE or NULL only when out of memory: like xmalloc, abort */
static void oom_check(bool ok)
{
	if (!ok)
		cst_oom();
}

/* Milliseconds to the deadline, at least 1 (libdbus takes 0 as "no timeout" in places). */
static int remaining_ms(const struct cst_keyring_dbus *sd)
{
	int64_t ms = (sd->deadline - cst_keyring_now_us() + 999) / 1000;

	if (ms < 1)
		return 1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static DBusMessage *method_call(const char *dest, const char *path, const char *iface,
				const char *method)
{
	DBusMessage *m = dbus_message_new_method_call(dest, path, iface, method);

	oom_check(m);
	return m;
}

/* A call to the bus itself, which never starts a service for it. */
static DBusMessage *bus_call(const char *method)
{
	DBusMessage *m =
	    method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS, method);

	dbus_message_set_auto_start(m, FALSE);
	return m;
}

/* Maps a D-Bus failure to a store error; frees err. */
static int sd_error(const struct cst_keyring_dbus *sd, DBusError *err, const char *what,
		    struct cst_error *e)
{
	int ret;

	if (dbus_error_has_name(err, DBUS_ERROR_NO_REPLY) ||
	    dbus_error_has_name(err, DBUS_ERROR_TIMEOUT))
		ret = cst_keyring_timeout(e, what, sd->timeout_ms);
	else if (dbus_error_has_name(err, DBUS_ERROR_SERVICE_UNKNOWN) ||
		 dbus_error_has_name(err, DBUS_ERROR_NAME_HAS_NO_OWNER))
		ret = cst_keyring_unavailable(e);
	else if (dbus_error_has_name(err, CST_KEYRING_LOCKED_ERROR))
		ret = cst_store_locked_error(e, what);
	else
		ret = cst_keyring_failed(e, what, err->message);
	dbus_error_free(err);
	return ret;
}

/* Sends m (consumed) with the time left as its timeout; NULL when the bus has gone. */
static DBusPendingCall *call_begin(struct cst_keyring_dbus *sd, DBusMessage *m)
{
	DBusPendingCall *pending = NULL;

	oom_check(dbus_connection_send_with_reply(sd->bus, m, &pending, remaining_ms(sd)));
	dbus_message_unref(m);
	return pending;
}

/*
 * Waits for pending's reply (at most its timeout); *reply has signature sig, or an error.
 * soft, if not NULL: a D-Bus error name the caller handles; *got is set instead of e when
 * the service answered with it.
 */
static int call_finish(struct cst_keyring_dbus *sd, DBusPendingCall *pending, const char *sig,
		       const char *what, DBusMessage **reply, const char *soft, bool *got,
		       struct cst_error *e)
{
	DBusError err = DBUS_ERROR_INIT;
	DBusMessage *r = NULL;
	int ret;

	*reply = NULL;
	if (!pending)
		return cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
				     "the session bus closed the connection (%s); check that the "
				     "keyring daemon runs, or set 'store = file'",
				     what);
	dbus_pending_call_block(pending);
	r = dbus_pending_call_steal_reply(pending);
	dbus_pending_call_unref(pending);
	if (!r)
		ret = cst_keyring_timeout(e, what, sd->timeout_ms);
	else if (dbus_set_error_from_message(&err, r)) {
		if (soft && dbus_error_has_name(&err, soft)) {
			*got = true;
			e = NULL;
		}
		ret = sd_error(sd, &err, what, e);
	} else if (!dbus_message_has_signature(r, sig))
		ret = cst_error_set(e, CST_ERR_STORE,
				    "secret service: %s failed: a reply of type '%s', not '%s'",
				    what, dbus_message_get_signature(r), sig);
	else {
		*reply = r;
		r = NULL;
		ret = 0;
	}
	if (r)
		dbus_message_unref(r);
	return ret;
}

static int call(struct cst_keyring_dbus *sd, DBusMessage *m, const char *sig, const char *what,
		DBusMessage **reply, struct cst_error *e)
{
	return call_finish(sd, call_begin(sd, m), sig, what, reply, NULL, NULL, e);
}

/* The unique name owning name (a running service), or NULL. Never starts a service. */
static char *name_owner(struct cst_keyring_dbus *sd, const char *name)
{
	DBusMessage *m = bus_call("GetNameOwner"), *reply = NULL;
	const char *owner = NULL;
	char *ret = NULL;

	oom_check(dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID));
	if (call(sd, m, "s", "GetNameOwner", &reply, NULL))
		return NULL;
	if (dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &owner, DBUS_TYPE_INVALID))
		ret = xstrdup(owner);
	dbus_message_unref(reply);
	return ret;
}

/* Can the bus start a service for name? Starts nothing. */
static bool name_activatable(struct cst_keyring_dbus *sd, const char *name)
{
	DBusMessage *reply = NULL;
	char **names = NULL;
	int i, n = 0;
	bool ok = false;

	if (call(sd, bus_call("ListActivatableNames"), "as", "ListActivatableNames", &reply, NULL))
		return false;
	if (dbus_message_get_args(reply, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &names, &n,
				  DBUS_TYPE_INVALID)) {
		for (i = 0; i < n && !ok; i++)
			ok = !strcmp(names[i], name);
		dbus_free_string_array(names);
	}
	dbus_message_unref(reply);
	return ok;
}

static void dict_add(DBusMessageIter *dict, const char *k, const char *v)
{
	DBusMessageIter entry;

	oom_check(dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry));
	oom_check(dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &k));
	oom_check(dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &v));
	oom_check(dbus_message_iter_close_container(dict, &entry));
}

/* cst_keyring_attr_fn: into an a{ss} being built, text only. */
static int dict_add_text(void *ctx, const char *name, const char *value, struct cst_error *e)
{
	if (!dbus_validate_utf8(value, NULL))
		return cst_keyring_attr_not_text(name, e);
	dict_add(ctx, name, value);
	return 0;
}

/* Appends pattern's attributes to m as the a{ss} SearchItems takes, after our schema's. */
static int append_attributes(DBusMessage *m, const struct cst_item *pattern, struct cst_error *e)
{
	DBusMessageIter args, dict;
	int ret;

	dbus_message_iter_init_append(m, &args);
	oom_check(dbus_message_iter_open_container(&args, DBUS_TYPE_ARRAY, "{ss}", &dict));
	/* as libsecret searches with a schema: only items of ours */
	dict_add(&dict, "xdg:schema", CST_KEYRING_SCHEMA);
	ret = cst_keyring_attrs_each(pattern, dict_add_text, &dict, e);
	if (ret)
		dbus_message_iter_abandon_container(&args, &dict);
	else
		oom_check(dbus_message_iter_close_container(&args, &dict));
	return ret;
}

/*
 * SearchItems for pattern's attributes: the object paths of unlocked and locked items.
 *
 * Asked twice when the first answer is UnknownMethod: gnome-keyring registers a caller in
 * an idle callback its message filter queues, which its main loop can run after the
 * caller's first method call (a race in its GLib main loop that a quick client such as
 * this one meets now and then); it then fails that call as not implemented. Searching is
 * read-only, and the retry comes after that idle callback has run.
 */
static int search_paths(struct cst_keyring_dbus *sd, const struct cst_item *pattern,
			char ***unlocked, int *n_unlocked, char ***locked, int *n_locked,
			struct cst_error *e)
{
	DBusMessage *m = NULL, *reply = NULL;
	bool unknown = false;
	int attempt, ret = CST_ERR_STORE;

	*unlocked = *locked = NULL;
	*n_unlocked = *n_locked = 0;
	for (attempt = 0; attempt < 2; attempt++) {
		m = method_call(cst_keyring_bus_name(), CST_KEYRING_SERVICE_PATH,
				CST_KEYRING_SERVICE_IFACE, "SearchItems");
		ret = append_attributes(m, pattern, e);
		if (ret) {
			dbus_message_unref(m);
			return ret;
		}
		unknown = false;
		ret = call_finish(sd, call_begin(sd, m), "aoao", "search", &reply,
				  attempt ? NULL : DBUS_ERROR_UNKNOWN_METHOD, &unknown, e);
		if (!unknown)
			break;
		cst_debug("search: UnknownMethod from the service, asking once more");
	}
	if (ret)
		return ret;
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_ARRAY, DBUS_TYPE_OBJECT_PATH, unlocked,
				   n_unlocked, DBUS_TYPE_ARRAY, DBUS_TYPE_OBJECT_PATH, locked,
				   n_locked, DBUS_TYPE_INVALID))
		ret = cst_keyring_failed(e, "search", "a bad reply");
	dbus_message_unref(reply);
	return ret;
}

/* The variant that is reply's first argument: *v inside it, *args on it; its signature. */
static char *reply_variant(DBusMessage *reply, DBusMessageIter *args, DBusMessageIter *v)
{
	char *sig;

	dbus_message_iter_init(reply, args);
	dbus_message_iter_recurse(args, v);
	sig = dbus_message_iter_get_signature(v);
	oom_check(sig);
	return sig;
}

/*
 * Is the default collection locked? A keyring locked since the daemon loaded it shows its
 * items' attributes only hashed, so a search for ours finds nothing at all: a miss or an
 * empty listing asks this to tell "locked" from "nothing stored". No answer (no alias,
 * another provider, the deadline) counts as not locked.
 */
static bool default_locked(struct cst_keyring_dbus *sd)
{
	DBusMessage *m = method_call(cst_keyring_bus_name(), CST_KEYRING_DEFAULT_PATH,
				     DBUS_INTERFACE_PROPERTIES, "Get"),
		    *reply = NULL;
	const char *iface = CST_KEYRING_COLLECTION_IFACE, *prop = "Locked";
	DBusMessageIter args, v;
	dbus_bool_t locked = FALSE;
	char *sig;

	oom_check(dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
					   DBUS_TYPE_INVALID));
	if (call(sd, m, "v", "asking whether the keyring is locked", &reply, NULL))
		return false;
	sig = reply_variant(reply, &args, &v);
	if (!strcmp(sig, "b"))
		dbus_message_iter_get_basic(&v, &locked);
	dbus_free(sig);
	dbus_message_unref(reply);
	cst_debug("default collection: %s", locked ? "locked" : "unlocked");
	return locked;
}

/* Asks for the attributes of the item at path; item_at_finish reads the answer. */
static DBusPendingCall *item_at_begin(struct cst_keyring_dbus *sd, const char *path)
{
	DBusMessage *m =
	    method_call(cst_keyring_bus_name(), path, DBUS_INTERFACE_PROPERTIES, "Get");
	const char *iface = CST_KEYRING_ITEM_IFACE, *prop = "Attributes";

	oom_check(dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
					   DBUS_TYPE_INVALID));
	return call_begin(sd, m);
}

/* The item (initialised) as far as its attributes tell; *ours false when it is not one of ours. */
static int item_at_finish(struct cst_keyring_dbus *sd, DBusPendingCall *pending,
			  struct cst_item *out, bool *ours, struct cst_error *e)
{
	DBusMessageIter args, v, dict, entry;
	DBusMessage *reply = NULL;
	const char *k, *val;
	char *sig = NULL;
	int ret;

	cst_item_init(out);
	*ours = false;
	ret = call_finish(sd, pending, "v", "reading an item", &reply, NULL, NULL, e);
	if (ret)
		return ret;
	sig = reply_variant(reply, &args, &v);
	if (!strcmp(sig, "a{ss}")) {
		dbus_message_iter_recurse(&v, &dict);
		while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
			dbus_message_iter_recurse(&dict, &entry);
			dbus_message_iter_get_basic(&entry, &k);
			dbus_message_iter_next(&entry);
			dbus_message_iter_get_basic(&entry, &val);
			cst_keyring_attr_set(out, k, val);
			dbus_message_iter_next(&dict);
		}
	}
	*ours = out->kind != CST_ITEM_ANY;
	dbus_free(sig);
	dbus_message_unref(reply);
	return 0;
}

/* The byte array at it (positioned on one) without copying. */
static void get_bytes(DBusMessageIter *it, const unsigned char **data, int *len)
{
	DBusMessageIter sub;

	dbus_message_iter_recurse(it, &sub);
	*data = NULL;
	*len = 0;
	dbus_message_iter_get_fixed_array(&sub, data, len);
}

/*
 * Opens the encrypted session: its path and key in sd. *unsupported (nothing in e) when
 * the service does not offer the algorithm.
 */
static int open_session(struct cst_keyring_dbus *sd, bool *unsupported, struct cst_error *e)
{
	DBusMessageIter args, v, bytes;
	DBusMessage *m = NULL, *reply = NULL;
	struct cst_ss_dh *dh = NULL;
	const char *alg = CST_SS_ALGORITHM, *path = NULL;
	const unsigned char *peer = NULL;
	unsigned char *pub = NULL;
	char *sig = NULL;
	size_t len = 0;
	int n = 0, ret;

	cst_debug("opening an encrypted session (%s)", CST_SS_ALGORITHM);
	ret = cst_ss_dh_new(&dh, &pub, &len, e);
	if (ret)
		return ret;
	m = method_call(cst_keyring_bus_name(), CST_KEYRING_SERVICE_PATH, CST_KEYRING_SERVICE_IFACE,
			"OpenSession");
	dbus_message_iter_init_append(m, &args);
	oom_check(dbus_message_iter_append_basic(&args, DBUS_TYPE_STRING, &alg));
	oom_check(dbus_message_iter_open_container(&args, DBUS_TYPE_VARIANT, "ay", &v));
	oom_check(dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "y", &bytes));
	oom_check(dbus_message_iter_append_fixed_array(&bytes, DBUS_TYPE_BYTE, &pub, (int)len));
	oom_check(dbus_message_iter_close_container(&v, &bytes));
	oom_check(dbus_message_iter_close_container(&args, &v));
	free(pub);
	ret = call_finish(sd, call_begin(sd, m), "vo", "opening a session", &reply,
			  DBUS_ERROR_NOT_SUPPORTED, unsupported, e);
	if (ret)
		goto out;
	sig = reply_variant(reply, &args, &v);
	if (strcmp(sig, "ay")) {
		ret = cst_keyring_failed(e, "opening a session", "a bad reply");
		goto out;
	}
	get_bytes(&v, &peer, &n);
	ret = cst_ss_dh_derive(dh, peer, (size_t)n, sd->key, e);
	if (ret)
		goto out;
	dbus_message_iter_next(&args);
	dbus_message_iter_get_basic(&args, &path);
	sd->session = xstrdup(path);
out:
	dbus_free(sig);
	if (reply)
		dbus_message_unref(reply);
	cst_ss_dh_free(dh);
	return ret;
}

/* Asks for the secret of the item at path in the open session; secret_finish reads it. */
static DBusPendingCall *secret_begin(struct cst_keyring_dbus *sd, const char *path)
{
	DBusMessage *m =
	    method_call(cst_keyring_bus_name(), path, CST_KEYRING_ITEM_IFACE, "GetSecret");

	oom_check(
	    dbus_message_append_args(m, DBUS_TYPE_OBJECT_PATH, &sd->session, DBUS_TYPE_INVALID));
	return call_begin(sd, m);
}

/* The secret (oayays: session, IV, ciphertext, content type), decrypted into out's secrets. */
static int secret_finish(struct cst_keyring_dbus *sd, DBusPendingCall *pending,
			 struct cst_item *out, struct cst_error *e)
{
	DBusMessageIter args, st;
	DBusMessage *reply = NULL;
	const unsigned char *iv = NULL, *data = NULL;
	char *plain = NULL;
	size_t plain_len = 0;
	int iv_len = 0, len = 0, ret;

	ret = call_finish(sd, pending, "(oayays)", "reading a secret", &reply, NULL, NULL, e);
	if (ret)
		return ret;
	dbus_message_iter_init(reply, &args);
	dbus_message_iter_recurse(&args, &st);
	dbus_message_iter_next(&st);
	get_bytes(&st, &iv, &iv_len);
	dbus_message_iter_next(&st);
	get_bytes(&st, &data, &len);
	ret = cst_ss_decrypt(sd->key, iv, (size_t)iv_len, data, (size_t)len, &plain, &plain_len, e);
	if (!ret)
		ret = cst_keyring_secret_decode(plain, plain_len, out, e);
	freezero(plain, plain_len + 1);
	dbus_message_unref(reply);
	return ret;
}

/*
 * Reads the secret of the item at path into out's secrets, opening the session on first
 * need. *unsupported when the service offers no encrypted session of our kind (libsecret
 * then reads it).
 */
static int load_at(struct cst_keyring_dbus *sd, const char *path, struct cst_item *out,
		   bool *unsupported, struct cst_error *e)
{
	int ret = 0;

	if (!sd->session)
		ret = open_session(sd, unsupported, e);
	return ret ? ret : secret_finish(sd, secret_begin(sd, path), out, e);
}

/*
 * The only match: its attributes are asked for together with the session, which saves a
 * round trip on the usual hit.
 */
static int get_only_match(struct cst_keyring_dbus *sd, const struct cst_item *pattern,
			  const char *path, struct cst_item *out, bool *unsupported,
			  struct cst_error *e)
{
	struct cst_item item = CST_ITEM_INIT, sec = CST_ITEM_INIT;
	DBusPendingCall *pending = item_at_begin(sd, path);
	bool ours = false;
	int ret, attrs_ret;

	ret = load_at(sd, path, &sec, unsupported, e);
	attrs_ret = item_at_finish(sd, pending, &item, &ours, ret ? NULL : e);
	if (!ret)
		ret = attrs_ret;
	if (!ret && (!ours || !cst_item_match(pattern, &item)))
		ret = cst_keyring_not_found(e);
	if (!ret) {
		item.secret = sec.secret;
		item.oauth_refresh_token = sec.oauth_refresh_token;
		sec.secret = sec.oauth_refresh_token = NULL;
		*out = item;
		cst_item_init(&item);
	}
	cst_item_release(&item);
	cst_item_release(&sec);
	return ret;
}

/*
 * get through the bus alone, as long as every match is unlocked: *fallback when locked
 * items need libsecret's unlocking (which never shows a prompt), or when the service
 * offers no session of our kind.
 */
static int get_direct(struct cst_keyring_dbus *sd, const struct cst_item *pattern,
		      struct cst_item *out, bool *fallback, struct cst_error *e)
{
	struct cst_item best = CST_ITEM_INIT, cur = CST_ITEM_INIT;
	char **unlocked = NULL, **locked = NULL;
	const char *best_path = NULL;
	int n_unlocked = 0, n_locked = 0, i;
	bool ours, unsupported = false;
	int ret;

	*fallback = false;
	ret = search_paths(sd, pattern, &unlocked, &n_unlocked, &locked, &n_locked, e);
	if (ret)
		goto out;
	if (n_locked) {
		*fallback = true;
		goto out;
	}
	/* attributes only: a miss never opens the encrypted session */
	if (!n_unlocked) {
		ret = cst_keyring_not_found(e);
		goto out;
	}
	if (n_unlocked == 1) {
		ret = get_only_match(sd, pattern, unlocked[0], out, &unsupported, e);
		goto out;
	}
	/* several: the newest that matches */
	for (i = 0; i < n_unlocked; i++) {
		ret = item_at_finish(sd, item_at_begin(sd, unlocked[i]), &cur, &ours, e);
		if (ret)
			goto out;
		if (ours && cst_item_newer_match(pattern, &cur, best_path != NULL, best.created)) {
			cst_item_release(&best);
			best = cur;
			cst_item_init(&cur);
			best_path = unlocked[i];
		}
		cst_item_release(&cur);
	}
	if (!best_path) {
		ret = cst_keyring_not_found(e);
		goto out;
	}
	ret = load_at(sd, best_path, &best, &unsupported, e);
	if (ret)
		goto out;
	*out = best;
	cst_item_init(&best);
out:
	if (unsupported) {
		cst_debug("no %s session: libsecret reads the secret", CST_SS_ALGORITHM);
		*fallback = true;
		ret = 0;
	}
	cst_item_release(&best);
	cst_item_release(&cur);
	dbus_free_string_array(unlocked);
	dbus_free_string_array(locked);
	return ret;
}

static int dbus_get(struct cst_keyring_dbus *sd, int64_t deadline, const struct cst_item *pattern,
		    struct cst_item *out, bool *fallback, struct cst_error *e)
{
	sd->deadline = deadline;
	return get_direct(sd, pattern, out, fallback, e);
}

static bool dbus_locked(struct cst_keyring_dbus *sd, int64_t deadline)
{
	sd->deadline = deadline;
	return default_locked(sd);
}

static void bus_close(DBusConnection *bus)
{
	if (!bus)
		return;
	dbus_connection_close(bus);
	dbus_connection_unref(bus);
}

static void sd_free(struct cst_keyring_dbus *sd)
{
	if (!sd)
		return;
	bus_close(sd->bus);
	free(sd->owner);
	free(sd->session);
	explicit_bzero(sd->key, sizeof(sd->key));
	free(sd);
}

static const char no_bus_msg[] = "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and "
				 "$XDG_RUNTIME_DIR/bus is missing); run inside a login session "
				 "or set 'store = file'";

/*
 * The session bus's address, as GLib finds it: $DBUS_SESSION_BUS_ADDRESS, else the
 * socket $XDG_RUNTIME_DIR/bus; NULL when neither is there (no X11 autolaunch, which
 * spawns dbus-launch and can only fail slowly or start a stray bus).
 */
static char *session_bus_address(void)
{
	const char *addr = getenv_nonempty("DBUS_SESSION_BUS_ADDRESS");
	const char *runtime = getenv_nonempty("XDG_RUNTIME_DIR");
	char *path = NULL, *escaped = NULL, *ret = NULL;
	struct stat sb;

	if (addr)
		return xstrdup(addr);
	if (!runtime)
		return NULL;
	path = xasprintf("%s/bus", runtime);
	if (stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		escaped = dbus_address_escape_value(path);
		oom_check(escaped);
		ret = xasprintf("unix:path=%s", escaped);
		dbus_free(escaped);
	}
	free(path);
	return ret;
}

/*
 * A private connection to the session bus, authenticated and registered with Hello within
 * the deadline. CST_ERR_STORE_UNAVAILABLE without a bus.
 */
static int sd_connect(struct cst_keyring_dbus *sd, struct cst_error *e)
{
	DBusError err = DBUS_ERROR_INIT;
	DBusMessage *reply = NULL;
	char *addr = session_bus_address();
	int ret = CST_ERR_STORE_UNAVAILABLE;

	if (!addr)
		return cst_error_set(e, CST_ERR_STORE_UNAVAILABLE, "%s", no_bus_msg);
	sd->bus = dbus_connection_open_private(addr, &err);
	if (!sd->bus) {
		ret = cst_keyring_unreachable(e, err.message);
		dbus_error_free(&err);
		goto out;
	}
	dbus_connection_set_exit_on_disconnect(sd->bus, FALSE);
	/*
	 * libdbus would authenticate inside the first blocking call and wait for that without
	 * the call's timeout (poll with none): a bus that accepts and never answers would hang
	 * us. So the handshake is driven here, each wait bounded by the time left.
	 */
	while (!dbus_connection_get_is_authenticated(sd->bus)) {
		if (cst_keyring_now_us() >= sd->deadline) {
			ret = cst_error_set(
			    e, CST_ERR_TIMEOUT,
			    "the session bus did not answer (connecting) within %d ms; "
			    "check DBUS_SESSION_BUS_ADDRESS, or set 'store = file'",
			    sd->timeout_ms);
			goto out;
		}
		if (!dbus_connection_read_write(sd->bus, remaining_ms(sd))) {
			ret =
			    cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
					  "the session bus closed the connection while connecting; "
					  "check DBUS_SESSION_BUS_ADDRESS, or set 'store = file'");
			goto out;
		}
	}
	ret = call(sd, bus_call("Hello"), "s", "connecting to the session bus", &reply, e);
	if (reply)
		dbus_message_unref(reply);
out:
	free(addr);
	return ret;
}

static int dbus_open(int timeout_ms, int64_t deadline, struct cst_keyring_dbus **out, bool *running,
		     struct cst_error *e)
{
	struct cst_keyring_dbus *sd = xcalloc(1, sizeof(*sd));
	int ret = 0;

	*out = NULL;
	*running = false;
	sd->timeout_ms = timeout_ms;
	sd->deadline = deadline;
	if (probed_bus) {
		sd->bus = probed_bus;
		sd->owner = probed_owner;
		probed_bus = NULL;
		probed_owner = NULL;
	} else {
		ret = sd_connect(sd, e);
		if (ret)
			goto out;
		sd->owner = name_owner(sd, cst_keyring_bus_name());
	}
	*running = sd->owner != NULL;
	*out = sd;
	sd = NULL;
out:
	sd_free(sd);
	return ret;
}

static bool dbus_available(int timeout_ms)
{
	struct cst_keyring_dbus probe = {0};
	const char *name = cst_keyring_bus_name();
	bool ok = false;

	probe.timeout_ms = timeout_ms;
	probe.deadline = cst_keyring_now_us() + (int64_t)timeout_ms * 1000;
	if (sd_connect(&probe, NULL)) {
		cst_debug("no session bus to ask: Secret Service unavailable");
		goto out;
	}
	probe.owner = name_owner(&probe, name);
	ok = probe.owner || name_activatable(&probe, name);
	cst_debug("secret service '%s': %s", name,
		  ok ? (probe.owner ? "running" : "activatable") : "unavailable");
	/* the store opened next takes this connection instead of making its own */
	if (ok && !probed_bus) {
		probed_bus = probe.bus;
		probed_owner = probe.owner;
		probe.bus = NULL;
		probe.owner = NULL;
	}
out:
	bus_close(probe.bus);
	free(probe.owner);
	return ok;
}

const struct cst_keyring_dbus_module cst_keyring_dbus_module = {
    .head = CST_MODULE_HEAD(struct cst_keyring_dbus_module, cst_module_adopt),
    .available = dbus_available,
    .open = dbus_open,
    .get = dbus_get,
    .locked = dbus_locked,
    .close = sd_free,
};
