/*
 * A Secret Service provider that misbehaves on purpose, for tests/integration/
 * store_secret_provider.sh. It holds one credential (https://fake.example, alice) and
 * answers what cstoken and libsecret ask to read it, in one of these modes:
 *
 *   ok           the encrypted session done right, its side computed with OpenSSL
 *                (ss_service_side.h)
 *   badkey       OpenSession answers with the public key 1
 *   badpad       the secret is sent with broken padding
 *   badtype      GetSecret answers with a reply of the wrong type
 *   unsupported  only the "plain" session is offered (as some providers do)
 *
 *   fake_secrets MODE BUS_NAME
 *
 * It prints "ready" once it owns BUS_NAME on the session bus, and serves until the bus
 * goes away. Test code: it aborts on anything it does not expect.
 */
#include <dbus/dbus.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_service_side.h"

#define SERVICE_PATH "/org/freedesktop/secrets"
#define ITEM_PATH "/org/freedesktop/secrets/collection/login/1"
#define SESSION_PATH "/org/freedesktop/secrets/session/1"
#define SERVICE_IFACE "org.freedesktop.Secret.Service"
#define ITEM_IFACE "org.freedesktop.Secret.Item"
#define SECRET "s3cret-fake\noauth_refresh_token=rt-fake"

static const char *mode;
static unsigned char key[16];
static bool plain_session;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void dict_entry(DBusMessageIter *dict, const char *k, const char *v)
{
	DBusMessageIter e;

	check(dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
	check(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &k));
	check(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &v));
	check(dbus_message_iter_close_container(dict, &e));
}

static void append_attributes(DBusMessageIter *it)
{
	DBusMessageIter dict;

	check(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "{ss}", &dict));
	dict_entry(&dict, "xdg:schema", "io.cstoken.Item");
	dict_entry(&dict, "kind", "credential");
	dict_entry(&dict, "protocol", "https");
	dict_entry(&dict, "host", "fake.example");
	dict_entry(&dict, "username", "alice");
	dict_entry(&dict, "created", "1700000000");
	check(dbus_message_iter_close_container(it, &dict));
}

static void append_bytes(DBusMessageIter *it, const unsigned char *data, int len)
{
	DBusMessageIter a;

	check(dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "y", &a));
	check(dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &data, len));
	check(dbus_message_iter_close_container(it, &a));
}

/* The variant v holding {key: value} for the item's properties. */
static void variant_entry(DBusMessageIter *dict, const char *k, int type, const void *v)
{
	DBusMessageIter e, var;
	char sig[2] = {(char)type, 0};

	check(dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e));
	check(dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &k));
	check(dbus_message_iter_open_container(&e, DBUS_TYPE_VARIANT,
					       type == DBUS_TYPE_ARRAY ? "a{ss}" : sig, &var));
	if (type == DBUS_TYPE_ARRAY)
		append_attributes(&var);
	else
		check(dbus_message_iter_append_basic(&var, type, v));
	check(dbus_message_iter_close_container(&e, &var));
	check(dbus_message_iter_close_container(dict, &e));
}

/* The secret as a (oayays) struct in the session's form. */
static void append_secret(DBusMessageIter *it)
{
	DBusMessageIter st;
	const char *session = SESSION_PATH, *type = "text/plain";
	unsigned char iv[16], ct[64];
	int n1 = 0, n2 = 0;
	EVP_CIPHER_CTX *ctx;

	check(dbus_message_iter_open_container(it, DBUS_TYPE_STRUCT, NULL, &st));
	check(dbus_message_iter_append_basic(&st, DBUS_TYPE_OBJECT_PATH, &session));
	if (plain_session) {
		append_bytes(&st, iv, 0);
		append_bytes(&st, (const unsigned char *)SECRET, (int)strlen(SECRET));
	} else {
		check(RAND_bytes(iv, sizeof(iv)) == 1);
		ctx = EVP_CIPHER_CTX_new();
		check(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv));
		check(EVP_EncryptUpdate(ctx, ct, &n1, (const unsigned char *)SECRET,
					(int)strlen(SECRET)));
		check(EVP_EncryptFinal_ex(ctx, ct + n1, &n2));
		EVP_CIPHER_CTX_free(ctx);
		if (!strcmp(mode, "badpad"))
			ct[n1 + n2 - 1] ^= 0x5a; /* garbles the last block's padding */
		append_bytes(&st, iv, sizeof(iv));
		append_bytes(&st, ct, n1 + n2);
	}
	check(dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &type));
	check(dbus_message_iter_close_container(it, &st));
}

/* OpenSession(s algorithm, v input) -> (v output, o session) */
static DBusMessage *open_session(DBusMessage *m)
{
	DBusMessageIter args, v, a;
	DBusMessage *r;
	const char *alg = NULL, *session = SESSION_PATH;
	const unsigned char *client = NULL;
	unsigned char pub[128];
	size_t pub_len = 0;
	int client_len = 0;

	dbus_message_iter_init(m, &args);
	dbus_message_iter_get_basic(&args, &alg);
	if (!strcmp(alg, "plain")) {
		r = dbus_message_new_method_return(m);
		dbus_message_iter_init_append(r, &args);
		check(dbus_message_iter_open_container(&args, DBUS_TYPE_VARIANT, "s", &v));
		check(dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &(const char *){""}));
		check(dbus_message_iter_close_container(&args, &v));
		check(dbus_message_iter_append_basic(&args, DBUS_TYPE_OBJECT_PATH, &session));
		plain_session = true;
		return r;
	}
	if (strcmp(alg, "dh-ietf1024-sha256-aes128-cbc-pkcs7") || !strcmp(mode, "unsupported"))
		return dbus_message_new_error(m, DBUS_ERROR_NOT_SUPPORTED, "no such algorithm");
	dbus_message_iter_next(&args);
	dbus_message_iter_recurse(&args, &v);
	dbus_message_iter_recurse(&v, &a);
	dbus_message_iter_get_fixed_array(&a, &client, &client_len);

	check(ss_service_side(client, (size_t)client_len, pub, &pub_len, key));
	if (!strcmp(mode, "badkey")) {
		pub[0] = 1;
		pub_len = 1;
	}

	r = dbus_message_new_method_return(m);
	dbus_message_iter_init_append(r, &args);
	check(dbus_message_iter_open_container(&args, DBUS_TYPE_VARIANT, "ay", &v));
	append_bytes(&v, pub, (int)pub_len);
	check(dbus_message_iter_close_container(&args, &v));
	check(dbus_message_iter_append_basic(&args, DBUS_TYPE_OBJECT_PATH, &session));
	return r;
}

static DBusMessage *handle(DBusMessage *m)
{
	const char *path = dbus_message_get_path(m), *iface = dbus_message_get_interface(m);
	const char *member = dbus_message_get_member(m), *item = ITEM_PATH, *s1, *s2;
	DBusMessageIter args, a, d, v;
	DBusMessage *r = NULL;

	if (!path || !member)
		return NULL;
	if (!strcmp(path, SERVICE_PATH) && !strcmp(member, "SearchItems")) {
		r = dbus_message_new_method_return(m);
		dbus_message_iter_init_append(r, &args);
		check(dbus_message_iter_open_container(&args, DBUS_TYPE_ARRAY, "o", &a));
		check(dbus_message_iter_append_basic(&a, DBUS_TYPE_OBJECT_PATH, &item));
		check(dbus_message_iter_close_container(&args, &a));
		check(dbus_message_iter_open_container(&args, DBUS_TYPE_ARRAY, "o", &a));
		check(dbus_message_iter_close_container(&args, &a));
	} else if (!strcmp(path, SERVICE_PATH) && !strcmp(member, "OpenSession")) {
		r = open_session(m);
	} else if (!strcmp(path, SERVICE_PATH) && !strcmp(member, "GetSecrets")) {
		/* a{o(oayays)} for the one item */
		r = dbus_message_new_method_return(m);
		dbus_message_iter_init_append(r, &args);
		check(dbus_message_iter_open_container(&args, DBUS_TYPE_ARRAY, "{o(oayays)}", &a));
		check(dbus_message_iter_open_container(&a, DBUS_TYPE_DICT_ENTRY, NULL, &d));
		check(dbus_message_iter_append_basic(&d, DBUS_TYPE_OBJECT_PATH, &item));
		append_secret(&d);
		check(dbus_message_iter_close_container(&a, &d));
		check(dbus_message_iter_close_container(&args, &a));
	} else if (!strcmp(path, ITEM_PATH) && !strcmp(member, "GetSecret")) {
		r = dbus_message_new_method_return(m);
		dbus_message_iter_init_append(r, &args);
		if (!strcmp(mode, "badtype"))
			check(dbus_message_iter_append_basic(&args, DBUS_TYPE_STRING, &item));
		else
			append_secret(&args);
	} else if (!strcmp(path, ITEM_PATH) && iface && !strcmp(iface, DBUS_INTERFACE_PROPERTIES) &&
		   !strcmp(member, "Get")) {
		check(dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &s1, DBUS_TYPE_STRING, &s2,
					    DBUS_TYPE_INVALID));
		if (strcmp(s2, "Attributes"))
			return dbus_message_new_error(m, DBUS_ERROR_INVALID_ARGS,
						      "no such property");
		r = dbus_message_new_method_return(m);
		dbus_message_iter_init_append(r, &args);
		check(dbus_message_iter_open_container(&args, DBUS_TYPE_VARIANT, "a{ss}", &v));
		append_attributes(&v);
		check(dbus_message_iter_close_container(&args, &v));
	} else if (!strcmp(path, ITEM_PATH) && !strcmp(member, "GetAll")) {
		dbus_bool_t locked = FALSE;
		dbus_uint64_t when = 1700000000;
		const char *label = "cstoken: https://fake.example (alice)";

		r = dbus_message_new_method_return(m);
		dbus_message_iter_init_append(r, &args);
		check(dbus_message_iter_open_container(&args, DBUS_TYPE_ARRAY, "{sv}", &a));
		variant_entry(&a, "Attributes", DBUS_TYPE_ARRAY, NULL);
		variant_entry(&a, "Label", DBUS_TYPE_STRING, &label);
		variant_entry(&a, "Locked", DBUS_TYPE_BOOLEAN, &locked);
		variant_entry(&a, "Created", DBUS_TYPE_UINT64, &when);
		variant_entry(&a, "Modified", DBUS_TYPE_UINT64, &when);
		check(dbus_message_iter_close_container(&args, &a));
	} else if (!strcmp(member, "GetAll")) {
		/* the service's and collections' properties: none worth telling */
		r = dbus_message_new_method_return(m);
		dbus_message_iter_init_append(r, &args);
		check(dbus_message_iter_open_container(&args, DBUS_TYPE_ARRAY, "{sv}", &a));
		check(dbus_message_iter_close_container(&args, &a));
	} else {
		r = dbus_message_new_error(m, DBUS_ERROR_UNKNOWN_METHOD, member);
	}
	check(r != NULL);
	return r;
}

int main(int argc, char **argv)
{
	DBusError err = DBUS_ERROR_INIT;
	DBusConnection *bus;
	DBusMessage *m, *r;

	if (argc != 3) {
		fprintf(stderr, "usage: fake_secrets MODE BUS_NAME\n");
		return 2;
	}
	mode = argv[1];
	bus = dbus_bus_get(DBUS_BUS_SESSION, &err);
	if (!bus || dbus_bus_request_name(bus, argv[2], DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
			DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		fprintf(stderr, "fake_secrets: %s\n", err.message ? err.message : "no name");
		return 1;
	}
	dbus_connection_set_exit_on_disconnect(bus, FALSE);
	printf("ready\n");
	fflush(stdout);
	while (dbus_connection_read_write(bus, -1)) {
		while ((m = dbus_connection_pop_message(bus))) {
			if (dbus_message_get_type(m) == DBUS_MESSAGE_TYPE_METHOD_CALL &&
			    (r = handle(m))) {
				check(dbus_connection_send(bus, r, NULL));
				dbus_message_unref(r);
			}
			dbus_message_unref(m);
		}
	}
	return 0;
}
