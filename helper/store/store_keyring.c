/*
 * The Secret Service store (store_keyring.h): composes its read path (cstoken-dbus) and
 * its write path (cstoken-secret) and decides which answers what. A get goes to the read
 * path, and to the write path only for what the first hands back; a miss, or a listing,
 * asks the read path whether the keyring is locked, so that "locked" is never mistaken for
 * "nothing stored". Writes, erases and listings go to the write path, loaded then.
 */
#include <stdlib.h>

#include "cstoken/util.h"
#include "module.h"
#include "store_keyring.h"

#define READ_MODULE "cstoken-dbus"
#define WRITE_MODULE "cstoken-secret"

struct keyring {
	const struct cst_keyring_dbus_module *read;
	struct cst_keyring_dbus *r;
	const struct cst_keyring_secret_module *write; /* loaded on first need */
	struct cst_keyring_secret *w;
	int timeout_ms;
	int64_t deadline; /* of the current store operation */
};

static const struct cst_keyring_dbus_module *read_path(struct cst_error *e)
{
	return cst_module_table(READ_MODULE, "cst_keyring_dbus_module",
				sizeof(struct cst_keyring_dbus_module), e);
}

/* Starts a store operation: its calls, on both paths, share one deadline. */
static void start(struct keyring *k)
{
	k->deadline = cst_keyring_now_us() + (int64_t)k->timeout_ms * 1000;
}

static int write_path(struct keyring *k, struct cst_error *e)
{
	if (k->w)
		return 0;
	k->write = cst_module_table(WRITE_MODULE, "cst_keyring_secret_module",
				    sizeof(struct cst_keyring_secret_module), e);
	if (!k->write)
		return CST_ERR_SYSTEM;
	return k->write->open(k->timeout_ms, &k->w, e);
}

/* Starts an operation that only the write path answers: store, erase, list. */
static int start_write(struct cst_store *st, struct keyring **k, struct cst_error *e)
{
	*k = st->priv;
	start(*k);
	return write_path(*k, e);
}

static int keyring_get(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		       struct cst_error *e)
{
	struct keyring *k = st->priv;
	bool fallback = false;
	int ret;

	start(k);
	ret = k->read->get(k->r, k->deadline, pattern, out, &fallback, e);
	if (!ret && fallback) {
		ret = write_path(k, e);
		if (!ret)
			ret = k->write->get(k->w, k->deadline, pattern, out, e);
	}
	/* the miss path only: a hit pays nothing for this */
	if (ret == CST_ERR_NOT_FOUND && k->read->locked(k->r, k->deadline))
		ret = cst_store_locked_error(e, "looking an item up");
	return ret;
}

static int keyring_put(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		       struct cst_error *e)
{
	struct keyring *k;
	int ret = start_write(st, &k, e);

	return ret ? ret : k->write->put(k->w, k->deadline, item, unchanged, e);
}

static int keyring_erase(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
			 struct cst_error *e)
{
	struct keyring *k;
	int ret = start_write(st, &k, e);

	return ret ? ret : k->write->erase(k->w, k->deadline, pattern, removed, e);
}

static int keyring_list(struct cst_store *st, const struct cst_item *pattern,
			struct cst_item **items, size_t *n, struct cst_error *e)
{
	struct keyring *k;
	int ret = start_write(st, &k, e);

	if (!ret)
		ret = k->write->list(k->w, k->deadline, pattern, items, n, e);
	/* what a locked collection holds cannot be told: never "nothing stored" */
	if (!ret && k->read->locked(k->r, k->deadline)) {
		cst_item_array_free(*items, *n);
		*items = NULL;
		*n = 0;
		ret = cst_store_locked_error(e, "listing items");
	}
	return ret;
}

static void keyring_free(struct keyring *k)
{
	if (!k)
		return;
	if (k->w)
		k->write->close(k->w);
	if (k->r)
		k->read->close(k->r);
	free(k);
}

static void keyring_close(struct cst_store *st)
{
	keyring_free(st->priv);
	st->priv = NULL;
}

static const struct cst_store_ops keyring_ops = {
    .get = keyring_get,
    .put = keyring_put,
    .erase = keyring_erase,
    .list = keyring_list,
    .close = keyring_close,
};

int cst_store_secret_open(struct cst_store *st, int timeout_ms, struct cst_error *e)
{
	struct keyring *k = xcalloc(1, sizeof(*k));
	bool running = false;
	int ret;

	k->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	start(k);
	k->read = read_path(e);
	if (!k->read) {
		ret = CST_ERR_STORE_UNAVAILABLE;
		goto out;
	}
	ret = k->read->open(k->timeout_ms, k->deadline, &k->r, &running, e);
	if (ret)
		goto out;
	/* a service that is not running yet: libsecret starts it now, or says why not */
	if (!running) {
		ret = write_path(k, e);
		if (!ret)
			ret = k->write->connect(k->w, k->deadline, e);
		if (ret)
			goto out;
	}
	st->ops = &keyring_ops;
	st->priv = k;
	k = NULL;
	free(st->describe);
	st->describe = xstrdup("Secret Service");
out:
	keyring_free(k);
	return ret;
}

bool cst_secret_service_available(int timeout_ms)
{
	struct cst_error err = CST_ERROR_INIT;
	const struct cst_keyring_dbus_module *read = read_path(&err);

	if (!read) {
		cst_debug("Secret Service store unusable: %s", cst_error_msg(&err, CST_ERR_SYSTEM));
		return false;
	}
	return read->available(timeout_ms > 0 ? timeout_ms : 500);
}
