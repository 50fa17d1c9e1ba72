/*
 * The libsecret half of the Secret Service store (store_secret.c), as the libdbus-1 half
 * (store_dbus.c) calls it. In the program these live in the cstoken-secret module and are
 * reached through forwarders (lazy.c), so that a keyring miss never loads libsecret.
 * No GLib types here: the program and store_dbus.c include this without GLib.
 */
#ifndef CSTOKEN_SECRET_LIB_H
#define CSTOKEN_SECRET_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cstoken/error.h"
#include "cstoken/store.h"
#include "cstoken/util.h"

/* What both halves of the store name the same way. */
#define SS_SCHEMA_NAME "io.cstoken.Item"
#define SS_SERVICE_PATH "/org/freedesktop/secrets"
#define SS_SERVICE_IFACE "org.freedesktop.Secret.Service"
#define SS_ITEM_IFACE "org.freedesktop.Secret.Item"
#define SS_COLLECTION_IFACE "org.freedesktop.Secret.Collection"
/* the collection new items go to, by its alias */
#define SS_DEFAULT_PATH "/org/freedesktop/secrets/aliases/default"

/*
 * The bus name of the Secret Service: $SECRET_SERVICE_BUS_NAME (which libsecret reads
 * too) or the standard one.
 */
static inline const char *ss_bus_name(void)
{
	const char *name = getenv_nonempty("SECRET_SERVICE_BUS_NAME");

	return name ? name : "org.freedesktop.secrets";
}

struct ss;

/*
 * The libsecret half's state, for a store operation ending at deadline (CLOCK_MONOTONIC
 * microseconds, as g_get_monotonic_time); connects nothing yet. Freed by cst_secret_lib_close.
 */
int cst_secret_lib_open(int timeout_ms, int64_t deadline, struct ss **out, struct cst_error *e);
/* Starts its next store operation, ending at deadline. */
void cst_secret_lib_deadline(struct ss *ss, int64_t deadline);
void cst_secret_lib_close(struct ss *ss);
/* Builds ss's SecretService, starting an activatable service; fails when none answers. */
int cst_secret_lib_connect(struct ss *ss, struct cst_error *e);
/* The store operations (store_impl.h contracts), within the deadline last given. */
int cst_secret_lib_get(struct ss *ss, const struct cst_item *pattern, struct cst_item *out,
		       struct cst_error *e);
int cst_secret_lib_put(struct ss *ss, const struct cst_item *item, bool *unchanged,
		       struct cst_error *e);
int cst_secret_lib_erase(struct ss *ss, const struct cst_item *pattern, size_t *removed,
			 struct cst_error *e);
int cst_secret_lib_list(struct ss *ss, const struct cst_item *pattern, struct cst_item **items,
			size_t *n, struct cst_error *e);

#endif
