/*
 * The Secret Service store's contract with its two halves, and what both share. The store
 * layer (store_keyring.c) composes them: the libdbus-1 half (store_keyring_dbus.c, module
 * cstoken-dbus) is the read path, a get over the bus with its own encrypted session; the
 * libsecret half (store_keyring_secret.c, module cstoken-secret) is the write path: writes,
 * erases, listings, unlocking without a prompt, and any read the first cannot finish. Each
 * half exports one table; neither calls the other. Not part of the public API.
 */
#ifndef CSTOKEN_STORE_KEYRING_H
#define CSTOKEN_STORE_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cstoken/error.h"
#include "cstoken/util.h"
#include "module.h"
#include "store_impl.h"

/* The names both halves use (the freedesktop.org Secret Service API). */
#define CST_KEYRING_SCHEMA "io.cstoken.Item"
#define CST_KEYRING_SERVICE_PATH "/org/freedesktop/secrets"
#define CST_KEYRING_SERVICE_IFACE "org.freedesktop.Secret.Service"
#define CST_KEYRING_ITEM_IFACE "org.freedesktop.Secret.Item"
#define CST_KEYRING_COLLECTION_IFACE "org.freedesktop.Secret.Collection"
/* the collection new items go to, by its alias */
#define CST_KEYRING_DEFAULT_PATH "/org/freedesktop/secrets/aliases/default"
/* the service's answer to a call on a locked item or collection */
#define CST_KEYRING_LOCKED_ERROR "org.freedesktop.Secret.Error.IsLocked"

/*
 * The bus name of the Secret Service: $SECRET_SERVICE_BUS_NAME (which libsecret reads
 * too) or the standard one.
 */
const char *cst_keyring_bus_name(void);

/* CLOCK_MONOTONIC in microseconds (as GLib's g_get_monotonic_time): deadlines are in it. */
int64_t cst_keyring_now_us(void);

/*
 * An item's attributes as the Secret Service keeps them: kind unless ANY, every attribute
 * string that is set, every number that is not 0 (decimal). each hands them to add, which
 * may refuse one (cst_keyring_attr_not_text); its error ends the walk.
 */
typedef int cst_keyring_attr_fn(void *ctx, const char *name, const char *value,
				struct cst_error *e);
int cst_keyring_attrs_each(const struct cst_item *it, cst_keyring_attr_fn *add, void *ctx,
			   struct cst_error *e);
/*
 * One stored attribute into out (initialised); other names are ignored. A stored item is
 * one of ours when its kind was set (out->kind no longer CST_ITEM_ANY).
 */
void cst_keyring_attr_set(struct cst_item *out, const char *name, const char *value);
/* The error for an attribute value that is not UTF-8: the service keeps text only. */
int cst_keyring_attr_not_text(const char *name, struct cst_error *e);

/*
 * An item's secret value: "SECRET", or "SECRET\noauth_refresh_token=TOKEN" (as git's
 * libsecret helper keeps it). encode fills sb (CST_ERR_INVALID for a secret with a
 * newline); decode sets out's secrets from the len bytes at data.
 */
int cst_keyring_secret_encode(const struct cst_item *it, struct strbuf *sb, struct cst_error *e);
int cst_keyring_secret_decode(const char *data, size_t len, struct cst_item *out,
			      struct cst_error *e);

/* The store's errors, one text each, whichever half meets them. */
/* The service did not answer (what) within timeout_ms: CST_ERR_TIMEOUT. */
int cst_keyring_timeout(struct cst_error *e, const char *what, int timeout_ms);
/* Nobody owns the service's name: CST_ERR_STORE_UNAVAILABLE. */
int cst_keyring_unavailable(struct cst_error *e);
/* The bus or the service cannot be reached, for why: CST_ERR_STORE_UNAVAILABLE. */
int cst_keyring_unreachable(struct cst_error *e, const char *why);
/* Any other failure of what, as the service or the bus said (why): CST_ERR_STORE. */
int cst_keyring_failed(struct cst_error *e, const char *what, const char *why);
/* No item matches: CST_ERR_NOT_FOUND. */
int cst_keyring_not_found(struct cst_error *e);
/*
 * The keyring is locked: CST_ERR_STORE_LOCKED, naming what failed and a command that
 * unlocks the running daemon.
 */
int cst_store_locked_error(struct cst_error *e, const char *what);

/*
 * The libdbus-1 half, the read path: exported by cstoken-dbus as cst_keyring_dbus_module.
 * deadline: CLOCK_MONOTONIC microseconds, the end of the store operation a call is part of.
 */
struct cst_keyring_dbus;
struct cst_keyring_dbus_module {
	struct cst_module_head head;
	/*
	 * Does a session bus answer for the service (running or activatable) within
	 * timeout_ms? Starts nothing; the next open reuses the connection.
	 */
	bool (*available)(int timeout_ms);
	/*
	 * Connects to the session bus: *running when the service runs now (if not, the
	 * libsecret half can start an activatable one). Caller frees with close.
	 */
	int (*open)(int timeout_ms, int64_t deadline, struct cst_keyring_dbus **out, bool *running,
		    struct cst_error *e);
	/*
	 * get (store_impl.h contract) over the bus alone: *fallback (0 returned, nothing in
	 * out) when locked matches or the lack of an encrypted session of its kind need the
	 * libsecret half.
	 */
	int (*get)(struct cst_keyring_dbus *d, int64_t deadline, const struct cst_item *pattern,
		   struct cst_item *out, bool *fallback, struct cst_error *e);
	/* Is the default collection locked? No answer counts as not locked. */
	bool (*locked)(struct cst_keyring_dbus *d, int64_t deadline);
	void (*close)(struct cst_keyring_dbus *d);
};

/* The libsecret half, the write path: exported by cstoken-secret as cst_keyring_secret_module. */
struct cst_keyring_secret;
struct cst_keyring_secret_module {
	struct cst_module_head head;
	/* Its state; connects nothing yet. Caller frees with close. */
	int (*open)(int timeout_ms, struct cst_keyring_secret **out, struct cst_error *e);
	/* Builds libsecret's service, starting an activatable one; fails when none answers. */
	int (*connect)(struct cst_keyring_secret *s, int64_t deadline, struct cst_error *e);
	/* The store operations (store_impl.h contracts), unlocking without a prompt. */
	int (*get)(struct cst_keyring_secret *s, int64_t deadline, const struct cst_item *pattern,
		   struct cst_item *out, struct cst_error *e);
	int (*put)(struct cst_keyring_secret *s, int64_t deadline, const struct cst_item *item,
		   bool *unchanged, struct cst_error *e);
	int (*erase)(struct cst_keyring_secret *s, int64_t deadline, const struct cst_item *pattern,
		     size_t *removed, struct cst_error *e);
	int (*list)(struct cst_keyring_secret *s, int64_t deadline, const struct cst_item *pattern,
		    struct cst_item **items, size_t *n, struct cst_error *e);
	void (*close)(struct cst_keyring_secret *s);
};

#endif
