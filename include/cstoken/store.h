/* Where secrets live: one interface over the Secret Service and the private file. */
#ifndef CSTOKEN_STORE_H
#define CSTOKEN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cstoken/error.h"

enum cst_item_kind {
	CST_ITEM_ANY = 0,    /* in patterns only */
	CST_ITEM_CREDENTIAL, /* a plain git credential stored through `store` */
	CST_ITEM_AUTHTOKEN,  /* a Contentstack session: host + email */
	CST_ITEM_TOKEN,	     /* a management token minted (or adopted) for a profile */
	CST_ITEM_OAUTH,	     /* an OAuth session (access and refresh token): host + email */
};

/*
 * One stored item. Every field but the secrets is an attribute: non-confidential,
 * searchable, listed by `cstoken list`. NULL / 0 means "absent" (in a pattern:
 * "any value"), except where a pattern says match_empty.
 */
struct cst_item {
	enum cst_item_kind kind;
	/* git credential attributes */
	char *protocol;
	char *host;
	char *path;
	char *username;
	int64_t expiry; /* password_expiry_utc / token expiry, unix seconds; 0 none */
	/* Contentstack attributes */
	char *profile;	 /* CST_ITEM_TOKEN */
	char *api_key;	 /* CST_ITEM_TOKEN: the stack */
	char *email;	 /* CST_ITEM_AUTHTOKEN, CST_ITEM_OAUTH */
	char *uid;	 /* CST_ITEM_TOKEN: token uid on the server */
	char *name;	 /* CST_ITEM_TOKEN: token name on the server */
	char *scope_fp;	 /* CST_ITEM_TOKEN: fingerprint of the scope it was minted with */
	int64_t created; /* unix seconds, set by the store on write when 0 */
	/* secrets */
	char *secret;		   /* password, authtoken, management token or OAuth session */
	char *oauth_refresh_token; /* git's oauth_refresh_token, CST_ITEM_CREDENTIAL only */
};
#define CST_ITEM_INIT                                                                              \
	{                                                                                          \
		0                                                                                  \
	}

void cst_item_init(struct cst_item *it);
/* Frees every field, wiping the secrets. */
void cst_item_release(struct cst_item *it);
/* Deep copy of src into dst (dst initialised by the call). */
void cst_item_copy(struct cst_item *dst, const struct cst_item *src);
/* Frees an array from cst_store_list. */
void cst_item_array_free(struct cst_item *items, size_t n);

/*
 * Does item match pattern: kind (unless CST_ITEM_ANY) and every non-NULL string
 * attribute of the pattern equal. Secrets and numbers are not compared.
 */
bool cst_item_match(const struct cst_item *pattern, const struct cst_item *item);

/*
 * Do a and b name the same stored item: the identity cst_store_put replaces (kind, and
 * protocol, host, path, username / host, email / profile by kind)?
 */
bool cst_item_same_identity(const struct cst_item *a, const struct cst_item *b);

enum cst_store_kind {
	CST_STORE_AUTO = 0,
	CST_STORE_SECRET_SERVICE,
	CST_STORE_FILE,
};
/* "auto", "secret-service", "file"; parse returns CST_ERR_INVALID for anything else. */
const char *cst_store_kind_name(enum cst_store_kind k);
int cst_store_kind_parse(const char *s, enum cst_store_kind *out);

struct cst_store;

struct cst_store_options {
	enum cst_store_kind kind;
	const char *file; /* file store path; NULL = default under $XDG_DATA_HOME */
	int timeout_ms;	  /* bound on every Secret Service call; 0 = default (5000) */
};

/*
 * Opens the store. auto picks secret-service when a session bus answers for
 * org.freedesktop.secrets within a short timeout, else file; it never hangs.
 * Caller frees with cst_store_close.
 */
int cst_store_open(struct cst_store **out, const struct cst_store_options *opt,
		   struct cst_error *e);
void cst_store_close(struct cst_store *st);
/* Which backend was opened, and a human description (file path or "Secret Service"). */
enum cst_store_kind cst_store_kind(const struct cst_store *st);
const char *cst_store_describe(const struct cst_store *st);

/*
 * Finds the best item matching pattern (the newest, by created) and copies it with
 * its secrets into *out. CST_ERR_NOT_FOUND when none matches.
 */
int cst_store_get(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		  struct cst_error *e);

/*
 * Stores item, replacing every item with the same identity: kind, protocol, host,
 * path, username (CST_ITEM_CREDENTIAL); kind, host, email (AUTHTOKEN, OAUTH); kind, profile
 * (TOKEN). When an identical item (same attributes and secrets) is already there,
 * nothing is written and *unchanged (if not NULL) is set to true.
 */
int cst_store_put(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		  struct cst_error *e);

/*
 * Removes every item matching pattern (see cst_item_match). A pattern with no
 * attribute set is refused with CST_ERR_INVALID. *removed (if not NULL) gets the count.
 */
int cst_store_erase(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
		    struct cst_error *e);

/*
 * Removes the git credentials matching request whose secret is secret (git erases a
 * password it was refused; another stored for the same host may still be good). Patterns
 * treat absent attributes as wildcards, so an item goes only when every item its identity
 * would take carries that secret too; an item whose secret cannot be read alone stays.
 * *removed gets the count.
 */
int cst_store_erase_with_secret(struct cst_store *st, const struct cst_item *request,
				const char *secret, size_t *removed, struct cst_error *e);

/*
 * All items matching pattern, attributes only (secrets NULL). Caller frees with
 * cst_item_array_free.
 */
int cst_store_list(struct cst_store *st, const struct cst_item *pattern, struct cst_item **items,
		   size_t *n, struct cst_error *e);

#endif
