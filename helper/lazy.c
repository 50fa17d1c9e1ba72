/*
 * The program's side of its optional parts (module.h): each function here has the
 * signature of the real one and calls it in its module, loaded on the first call.
 * The real code stays in store_dbus.c, store_secret.c, cma.c, totp.c and digest.c, which
 * the unit tests link directly. Linked into the program, these definitions come first, so
 * the linker never pulls those objects (and their libraries) from the static components;
 * a new function in those files needs its forwarder here, or the link fails loudly.
 */
#include <string.h>

#include "cstoken/cma.h"
#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "digest.h"
#include "module.h"
#include "secret_lib.h"
#include "store_impl.h"

#define DBUS "cstoken-dbus"
#define SECRET "cstoken-secret"
#define HTTP "cstoken-http"
#define DIGEST "cstoken-digest"
#define ETCD "cstoken-etcd"

/* fn = the real function, or return fail (with e set) when its module cannot load. */
#define FORWARD(mod, name, e, fail)                                                                \
	__typeof__(&name) fn = (__typeof__(&name))cst_module_symbol(mod, #name, e);                \
	if (!fn)                                                                                   \
		return fail;

/* ---- the Secret Service store over libdbus-1 ---- */

int cst_store_secret_open(struct cst_store *st, int timeout_ms, struct cst_error *e)
{
	FORWARD(DBUS, cst_store_secret_open, e, CST_ERR_STORE_UNAVAILABLE)
	return fn(st, timeout_ms, e);
}

bool cst_secret_service_available(int timeout_ms)
{
	struct cst_error err = CST_ERROR_INIT;
	FORWARD(DBUS, cst_secret_service_available, &err, false)
	return fn(timeout_ms);
}

/* ---- its libsecret half (secret_lib.h), called by the libdbus-1 half: GLib, libsecret ---- */

int cst_secret_lib_open(int timeout_ms, int64_t deadline, struct ss **out, struct cst_error *e)
{
	*out = NULL;
	FORWARD(SECRET, cst_secret_lib_open, e, CST_ERR_SYSTEM)
	return fn(timeout_ms, deadline, out, e);
}

void cst_secret_lib_deadline(struct ss *ss, int64_t deadline)
{
	FORWARD(SECRET, cst_secret_lib_deadline, NULL, )
	fn(ss, deadline);
}

/* Nothing of the libsecret half exists before its module is loaded. */
void cst_secret_lib_close(struct ss *ss)
{
	if (!cst_module_loaded(SECRET))
		return;
	FORWARD(SECRET, cst_secret_lib_close, NULL, )
	fn(ss);
}

int cst_secret_lib_connect(struct ss *ss, struct cst_error *e)
{
	FORWARD(SECRET, cst_secret_lib_connect, e, CST_ERR_SYSTEM)
	return fn(ss, e);
}

int cst_secret_lib_get(struct ss *ss, const struct cst_item *pattern, struct cst_item *out,
		       struct cst_error *e)
{
	FORWARD(SECRET, cst_secret_lib_get, e, CST_ERR_SYSTEM)
	return fn(ss, pattern, out, e);
}

int cst_secret_lib_put(struct ss *ss, const struct cst_item *item, bool *unchanged,
		       struct cst_error *e)
{
	FORWARD(SECRET, cst_secret_lib_put, e, CST_ERR_SYSTEM)
	return fn(ss, item, unchanged, e);
}

int cst_secret_lib_erase(struct ss *ss, const struct cst_item *pattern, size_t *removed,
			 struct cst_error *e)
{
	FORWARD(SECRET, cst_secret_lib_erase, e, CST_ERR_SYSTEM)
	return fn(ss, pattern, removed, e);
}

int cst_secret_lib_list(struct ss *ss, const struct cst_item *pattern, struct cst_item **items,
			size_t *n, struct cst_error *e)
{
	FORWARD(SECRET, cst_secret_lib_list, e, CST_ERR_SYSTEM)
	return fn(ss, pattern, items, n, e);
}

/* ---- the HTTP client: libcurl, OpenSSL ---- */

void cma_client_init(struct cma_client *c, const char *host, const char *ca_file, int timeout)
{
	struct cst_error err = CST_ERROR_INIT;
	__typeof__(&cma_client_init) fn =
	    (__typeof__(&cma_client_init))cst_module_symbol(HTTP, "cma_client_init", &err);

	if (!fn) {
		/* the first request reports the failure with its detail */
		memset(c, 0, sizeof(*c));
		return;
	}
	fn(c, host, ca_file, timeout);
}

/* Nothing the HTTP module allocates exists before it is loaded. */
void cma_client_release(struct cma_client *c)
{
	if (!cst_module_loaded(HTTP))
		return;
	FORWARD(HTTP, cma_client_release, NULL, )
	fn(c);
}

int cma_login(struct cma_client *c, const char *email, const char *password, const char *tfa,
	      char **authtoken, struct cst_error *e)
{
	*authtoken = NULL;
	FORWARD(HTTP, cma_login, e, CST_ERR_SYSTEM)
	return fn(c, email, password, tfa, authtoken, e);
}

int cma_request_sms(struct cma_client *c, const char *email, const char *password,
		    struct cst_error *e)
{
	FORWARD(HTTP, cma_request_sms, e, CST_ERR_SYSTEM)
	return fn(c, email, password, e);
}

int cma_check_authtoken(struct cma_client *c, const char *authtoken, struct cst_error *e)
{
	FORWARD(HTTP, cma_check_authtoken, e, CST_ERR_SYSTEM)
	return fn(c, authtoken, e);
}

int cma_stack_check(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cst_error *e)
{
	FORWARD(HTTP, cma_stack_check, e, CST_ERR_SYSTEM)
	return fn(c, api_key, authtoken, e);
}

int cma_logout(struct cma_client *c, const char *authtoken, struct cst_error *e)
{
	FORWARD(HTTP, cma_logout, e, CST_ERR_SYSTEM)
	return fn(c, authtoken, e);
}

void cma_token_release(struct cma_token *t)
{
	if (!cst_module_loaded(HTTP))
		return;
	FORWARD(HTTP, cma_token_release, NULL, )
	fn(t);
}

void cma_token_array_free(struct cma_token *t, size_t n)
{
	if (!cst_module_loaded(HTTP))
		return;
	FORWARD(HTTP, cma_token_array_free, NULL, )
	fn(t, n);
}

int cma_tokens_list(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cma_token **tokens, size_t *n, struct cst_error *e)
{
	*tokens = NULL;
	*n = 0;
	FORWARD(HTTP, cma_tokens_list, e, CST_ERR_SYSTEM)
	return fn(c, api_key, authtoken, tokens, n, e);
}

int cma_token_create(struct cma_client *c, const char *api_key, const char *authtoken,
		     const struct cma_token_spec *spec, struct cma_token *out, struct cst_error *e)
{
	FORWARD(HTTP, cma_token_create, e, CST_ERR_SYSTEM)
	return fn(c, api_key, authtoken, spec, out, e);
}

int cma_token_delete(struct cma_client *c, const char *api_key, const char *authtoken,
		     const char *uid, struct cst_error *e)
{
	FORWARD(HTTP, cma_token_delete, e, CST_ERR_SYSTEM)
	return fn(c, api_key, authtoken, uid, e);
}

int cma_check_token(struct cma_client *c, const char *api_key, const char *token,
		    struct cst_error *e)
{
	FORWARD(HTTP, cma_check_token, e, CST_ERR_SYSTEM)
	return fn(c, api_key, token, e);
}

void cma_stack_array_free(struct cma_stack *s, size_t n)
{
	if (!s)
		return;
	FORWARD(HTTP, cma_stack_array_free, NULL, )
	fn(s, n);
}

int cma_stacks_list(struct cma_client *c, const char *authtoken, struct cma_stack **stacks,
		    size_t *n, struct cst_error *e)
{
	*stacks = NULL;
	*n = 0;
	FORWARD(HTTP, cma_stacks_list, e, CST_ERR_SYSTEM)
	return fn(c, authtoken, stacks, n, e);
}

void cma_branch_array_free(struct cma_branch *b, size_t n)
{
	if (!b)
		return;
	FORWARD(HTTP, cma_branch_array_free, NULL, )
	fn(b, n);
}

int cma_branches_list(struct cma_client *c, const char *api_key, const char *authtoken,
		      bool aliases, struct cma_branch **out, size_t *n, struct cst_error *e)
{
	*out = NULL;
	*n = 0;
	FORWARD(HTTP, cma_branches_list, e, CST_ERR_SYSTEM)
	return fn(c, api_key, authtoken, aliases, out, n, e);
}

int totp_code(const char *base32_secret, int64_t t, char out[7])
{
	struct cst_error err = CST_ERROR_INIT;

	out[0] = '\0';
	FORWARD(HTTP, totp_code, &err, CST_ERR_SYSTEM)
	return fn(base32_secret, t, out);
}

/* ---- the digest: libcrypto ---- */

int cst_sha256(const void *data, size_t len, unsigned char out[CST_SHA256_LEN], struct cst_error *e)
{
	FORWARD(DIGEST, cst_sha256, e, CST_ERR_SYSTEM)
	return fn(data, len, out, e);
}

/* ---- the shared store's etcd client: libcurl (one table, shared.h) ---- */

const struct cst_shared_ops *cst_shared_etcd_ops(struct cst_error *e)
{
	FORWARD(ETCD, cst_shared_etcd_ops, e, NULL)
	return fn(e);
}
