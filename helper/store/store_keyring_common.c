/* What both halves of the Secret Service store share (store_keyring.h): names, formats, errors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cstoken/util.h"
#include "store_keyring.h"

#define OAUTH_LINE "\noauth_refresh_token="

const char *cst_keyring_bus_name(void)
{
	const char *name = getenv_nonempty("SECRET_SERVICE_BUS_NAME");

	return name ? name : "org.freedesktop.secrets";
}

int64_t cst_keyring_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int cst_keyring_attrs_each(const struct cst_item *it, cst_keyring_attr_fn *add, void *ctx,
			   struct cst_error *e)
{
	char num[24];
	int64_t v;
	size_t i;
	int ret = 0;

	if (it->kind != CST_ITEM_ANY)
		ret = add(ctx, "kind", cst_item_kind_name(it->kind), e);
	for (i = 0; !ret && i < CST_ITEM_NATTRS; i++) {
		const char *s = cst_item_field_get(it, &cst_item_strings[i]);

		if (s)
			ret = add(ctx, cst_item_strings[i].name, s, e);
	}
	for (i = 0; !ret && i < CST_ITEM_NNUMBERS; i++) {
		v = cst_item_number_get(it, &cst_item_numbers[i]);
		if (v) {
			snprintf(num, sizeof(num), "%" PRId64, v);
			ret = add(ctx, cst_item_numbers[i].name, num, e);
		}
	}
	return ret;
}

void cst_keyring_attr_set(struct cst_item *out, const char *name, const char *value)
{
	int64_t n;
	size_t i;

	if (!strcmp(name, "kind")) {
		if (cst_item_kind_parse(value, &out->kind))
			out->kind = CST_ITEM_ANY;
		return;
	}
	for (i = 0; i < CST_ITEM_NATTRS; i++)
		if (!strcmp(name, cst_item_strings[i].name)) {
			set_str(cst_item_field(out, &cst_item_strings[i]), value);
			return;
		}
	for (i = 0; i < CST_ITEM_NNUMBERS; i++)
		if (!strcmp(name, cst_item_numbers[i].name)) {
			if (!parse_int64(value, INT64_MIN, INT64_MAX, &n))
				*cst_item_number(out, &cst_item_numbers[i]) = n;
			return;
		}
}

int cst_keyring_attr_not_text(const char *name, struct cst_error *e)
{
	return cst_error_set(e, CST_ERR_INVALID,
			     "'%s' is not valid UTF-8; the Secret Service stores only text "
			     "attributes (use 'store = file')",
			     name);
}

int cst_keyring_secret_encode(const struct cst_item *it, struct strbuf *sb, struct cst_error *e)
{
	if ((it->secret && strchr(it->secret, '\n')) ||
	    (it->oauth_refresh_token && strchr(it->oauth_refresh_token, '\n')))
		return cst_error_set(e, CST_ERR_INVALID,
				     "refusing to store a secret with a newline");
	strbuf_addstr(sb, it->secret ? it->secret : "");
	if (it->oauth_refresh_token) {
		strbuf_addstr(sb, OAUTH_LINE);
		strbuf_addstr(sb, it->oauth_refresh_token);
	}
	return 0;
}

int cst_keyring_secret_decode(const char *data, size_t len, struct cst_item *out,
			      struct cst_error *e)
{
	const char *nl;
	size_t klen = strlen(OAUTH_LINE) - 1;

	if (memchr(data, '\0', len))
		return cst_error_set(e, CST_ERR_STORE, "a stored secret is not text");
	nl = memchr(data, '\n', len);
	set_secret(&out->secret, NULL);
	set_secret(&out->oauth_refresh_token, NULL);
	out->secret = xstrndup(data, nl ? (size_t)(nl - data) : len);
	while (nl) {
		const char *line = nl + 1, *end;

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

int cst_keyring_timeout(struct cst_error *e, const char *what, int timeout_ms)
{
	return cst_error_set(e, CST_ERR_TIMEOUT,
			     "the Secret Service did not answer (%s) within %d ms; check that the "
			     "keyring daemon runs, or set 'store = file'",
			     what, timeout_ms);
}

int cst_keyring_unavailable(struct cst_error *e)
{
	return cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
			     "no Secret Service answers for '%s' on the session bus; start "
			     "gnome-keyring (or another provider) or set 'store = file'",
			     cst_keyring_bus_name());
}

int cst_keyring_unreachable(struct cst_error *e, const char *why)
{
	return cst_error_set(e, CST_ERR_STORE_UNAVAILABLE,
			     "cannot reach the Secret Service: %s; start gnome-keyring (or "
			     "another provider) or set 'store = file'",
			     why ? why : "unknown error");
}

int cst_keyring_failed(struct cst_error *e, const char *what, const char *why)
{
	return cst_error_set(e, CST_ERR_STORE, "secret service: %s failed: %s", what,
			     why ? why : "unknown error");
}

int cst_keyring_not_found(struct cst_error *e)
{
	return cst_error_set(e, CST_ERR_NOT_FOUND, "no matching item in the Secret Service");
}

/*
 * gnome-keyring-daemon --unlock alone starts a second daemon beside the running one, and a
 * trailing newline is taken as part of the password: --replace hands the bus name to a
 * daemon that unlocks with exactly what was typed.
 */
#define UNLOCK_COMMAND                                                                             \
	"read -rs P && printf %s \"$P\" | gnome-keyring-daemon --replace --unlock; unset P"

int cst_store_locked_error(struct cst_error *e, const char *what)
{
	return cst_error_set(e, CST_ERR_STORE_LOCKED,
			     "the keyring is locked (%s), so its items cannot be read; unlock it "
			     "(log in to the desktop, or unlock 'login' in Passwords and Keys), or "
			     "without a desktop run '%s' and type the keyring password",
			     what, UNLOCK_COMMAND);
}
