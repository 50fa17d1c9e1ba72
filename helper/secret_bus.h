/*
 * What the two halves of the Secret Service store share (store_dbus.c talks to the service
 * through GDBus alone, store_secret.c through libsecret): the store's state, the deadline
 * machinery every call goes through, and the item <-> attribute mapping. Not part of the
 * public API; both halves link their own copy.
 */
#ifndef CSTOKEN_SECRET_BUS_H
#define CSTOKEN_SECRET_BUS_H

#include <gio/gio.h>
#include <stdbool.h>

#include "secret_lib.h"
#include "store_impl.h"

#define SS_SCHEMA_NAME "io.cstoken.Item"
#define SS_SERVICE_PATH "/org/freedesktop/secrets"
#define SS_SERVICE_IFACE "org.freedesktop.Secret.Service"
#define SS_ITEM_IFACE "org.freedesktop.Secret.Item"

#pragma GCC visibility push(hidden)

struct ss {
	GMainContext *ctx;
	GDBusConnection *bus; /* GIO's shared session bus connection */
	char *owner;	      /* the running service's unique bus name; NULL: not known to run */
	GObject *service;     /* libsecret's SecretService, built on first need */
	int timeout_ms;
	gint64 deadline; /* monotonic microseconds: end of the current store operation */
};

/* One pending async call (refcounted: one abandoned at its deadline is freed by its callback). */
struct ss_op {
	int refs;
	bool done;
	GAsyncResult *res;
};

struct ss_call {
	struct ss *ss;
	GCancellable *cancel;
	struct ss_op *op;
};

/* Starts a store operation: its calls share one deadline, timeout_ms from now. */
void ss_start(struct ss *ss);

/*
 * An async call on ss's private context: ss_call_begin, then the GIO/libsecret function
 * with c->cancel, ss_op_done and c->op, then ss_call_wait (CST_ERR_TIMEOUT, the call
 * cancelled, once the deadline has passed), the result in c->op->res, then ss_call_end.
 */
void ss_call_begin(struct ss_call *c, struct ss *ss);
void ss_op_done(GObject *source, GAsyncResult *res, gpointer data);
int ss_call_wait(struct ss_call *c, const char *what, struct cst_error *e);
void ss_call_end(struct ss_call *c);

/*
 * Calls method on bus; 0 with *reply set, or an error. args is consumed. Split in two, the
 * call runs while the caller does something else: each begin needs its finish.
 */
void ss_dbus_call_begin(struct ss_call *c, struct ss *ss, GDBusConnection *bus, const char *dest,
			const char *path, const char *iface, const char *method, GVariant *args,
			const char *reply_type, GDBusCallFlags flags);
int ss_dbus_call_finish(struct ss_call *c, GDBusConnection *bus, const char *what, GVariant **reply,
			struct cst_error *e);
int ss_dbus_call(struct ss *ss, GDBusConnection *bus, const char *dest, const char *path,
		 const char *iface, const char *method, GVariant *args, const char *reply_type,
		 GDBusCallFlags flags, const char *what, GVariant **reply, struct cst_error *e);

/* Maps a libsecret/D-Bus failure to a store error; consumes err. */
int ss_gerror(GError *err, const char *what, struct cst_error *e);
/* The error domain of a prompt cstoken refused to show. */
GQuark ss_prompt_refused_quark(void);

/* The bus name of the Secret Service ($SECRET_SERVICE_BUS_NAME or the standard one). */
const char *ss_bus_name(void);

/* Attributes of it (pattern or item); every non-NULL field, kind unless ANY. */
int ss_item_attributes(const struct cst_item *it, GHashTable **out, struct cst_error *e);
/* Fills out (initialised) from a stored item's attributes; false if it is not ours. */
bool ss_item_from_attrs(GHashTable *attrs, struct cst_item *out);

#pragma GCC visibility pop

#endif
