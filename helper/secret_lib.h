/*
 * The libsecret half of the Secret Service store (store_secret.c), as the GDBus half
 * (store_dbus.c) calls it. In the program these live in the cstoken-secret module and are
 * reached through forwarders (lazy.c), so that a keyring miss never loads libsecret.
 * No GLib types here: the program includes this without GLib.
 */
#ifndef CSTOKEN_SECRET_LIB_H
#define CSTOKEN_SECRET_LIB_H

#include <stdbool.h>
#include <stddef.h>

#include "cstoken/error.h"
#include "cstoken/store.h"

struct ss;

/* Builds ss's SecretService, starting an activatable service; fails when none answers. */
int cst_secret_lib_connect(struct ss *ss, struct cst_error *e);
/* Reads the secret of the item at D-Bus object path into out (opens the session). */
int cst_secret_lib_load_at(struct ss *ss, const char *path, struct cst_item *out,
			   struct cst_error *e);
/* The store operations (store_impl.h contracts), within the deadline set by ss_start. */
int cst_secret_lib_get(struct ss *ss, const struct cst_item *pattern, struct cst_item *out,
		       struct cst_error *e);
int cst_secret_lib_put(struct ss *ss, const struct cst_item *item, bool *unchanged,
		       struct cst_error *e);
int cst_secret_lib_erase(struct ss *ss, const struct cst_item *pattern, size_t *removed,
			 struct cst_error *e);
int cst_secret_lib_list(struct ss *ss, const struct cst_item *pattern, struct cst_item **items,
			size_t *n, struct cst_error *e);

#endif
