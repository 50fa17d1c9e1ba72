/*
 * The write path's calls on GIO (store_keyring_secret.c): its state, the deadline every
 * call is bounded by, errors mapped to the store's, and items as GHashTables of attributes.
 */
#ifndef CSTOKEN_STORE_KEYRING_GIO_H
#define CSTOKEN_STORE_KEYRING_GIO_H

#include <gio/gio.h>
#include <stdbool.h>

#include "store_keyring.h"

#pragma GCC visibility push(hidden)

struct cst_keyring_secret {
	GMainContext *ctx;
	GObject *service; /* libsecret's SecretService, built on first need */
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
	struct cst_keyring_secret *ss;
	GCancellable *cancel;
	struct ss_op *op;
};

/*
 * An async call on ss's private context: ss_call_begin, then the GIO/libsecret function
 * with c->cancel, ss_op_done and c->op, then ss_call_wait (CST_ERR_TIMEOUT, the call
 * cancelled, once the deadline has passed), the result in c->op->res, then ss_call_end.
 */
void ss_call_begin(struct ss_call *c, struct cst_keyring_secret *ss);
void ss_op_done(GObject *source, GAsyncResult *res, gpointer data);
int ss_call_wait(struct ss_call *c, const char *what, struct cst_error *e);
void ss_call_end(struct ss_call *c);

/* Maps a libsecret/D-Bus failure to a store error; consumes err. */
int ss_gerror(GError *err, const char *what, struct cst_error *e);
/* The error domain of a prompt cstoken refused to show. */
GQuark ss_prompt_refused_quark(void);

/* Attributes of it (pattern or item), as cst_keyring_attrs_each gives them. */
int ss_item_attributes(const struct cst_item *it, GHashTable **out, struct cst_error *e);
/* Fills out (initialised) from a stored item's attributes; false if it is not ours. */
bool ss_item_from_attrs(GHashTable *attrs, struct cst_item *out);

#pragma GCC visibility pop

#endif
