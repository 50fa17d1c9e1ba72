/*
 * A team's shared store (cstoken.conf(5), "Shared store"): one management token per scope
 * for every machine, minted once. The policy (shared.c) talks to a backend through one
 * table, struct cst_shared_ops; etcd v3 (shared_etcd.c, the cstoken-etcd module) is the
 * first, a KV store with compare-and-set and expiring entries (Vault/OpenBao KV v2 with
 * cas and a TTL'd claim) fits the same contract.
 *
 * Under one key (PREFIX<cma host>/<api_key>/<scope digest>) a backend keeps three records:
 * the token (JSON, the secret in it), the claim of the member minting now (expires with
 * its lease when the member dies) and the intent that member left (gone once it
 * publishes: one left behind names the mint a dead member may have completed).
 */
#ifndef CSTOKEN_SHARED_H
#define CSTOKEN_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cstoken/config.h"
#include "cstoken/error.h"
#include "cstoken/store.h"
#include "cstoken/util.h"

/* One record as read: value NULL when absent. value may hold a secret (free_secret). */
struct cst_shared_rec {
	char *value;
	int64_t version; /* changes on every write (etcd: mod_revision); 0 when absent */
	int64_t lease;	 /* the claim's lease, 0 for none */
};

/* The three records of a key, read at one revision. */
struct cst_shared_snap {
	struct cst_shared_rec token, claim, intent;
	int64_t revision; /* the store's revision of the read: watch from after it */
};
/* Inline: the backend, in its module, and the policy both release one. */
static inline void cst_shared_snap_release(struct cst_shared_snap *s)
{
	free_secret(s->token.value);
	free(s->claim.value);
	free(s->intent.value);
	memset(s, 0, sizeof(*s));
}

struct cst_shared_conn; /* a backend's connection */
struct strbuf;

/*
 * A backend. Every call is bounded by the profile's timeout, tries the configured
 * endpoints in turn (a dead one is skipped) and names those it tried when all fail
 * (CST_ERR_NETWORK, CST_ERR_TIMEOUT, CST_ERR_TLS). A refusal by the store's access
 * control is CST_ERR_FORBIDDEN, a lost compare CST_ERR_INVALID with no message.
 */
struct cst_shared_ops {
	const char *name; /* "etcd" */
	/* Connects lazily: nothing goes out before the first call. password may be NULL. */
	int (*open)(const struct cst_shared_conf *conf, const char *password, int timeout,
		    struct cst_shared_conn **out, struct cst_error *e);
	void (*close)(struct cst_shared_conn *c);
	/* The records under key. */
	int (*read)(struct cst_shared_conn *c, const char *key, struct cst_shared_snap *out,
		    struct cst_error *e);
	/*
	 * Takes the claim under key, with value claim expiring after ttl seconds, and writes
	 * intent, in one step and only when no claim exists: 0 with *lease set and the intent
	 * found there before in *prev (NULL for none; caller frees), or CST_ERR_INVALID
	 * (someone else holds it). The claim is kept alive while this process holds it, until
	 * publish, release or close: it expires ttl after its holder died, however long the
	 * mint takes.
	 */
	int (*claim)(struct cst_shared_conn *c, const char *key, const char *claim,
		     const char *intent, int64_t ttl, int64_t *lease, char **prev,
		     struct cst_error *e);
	/*
	 * Writes the token record (value: secret) and drops the intent and the claim, only
	 * while the claim of lease is still held (lease 0: only while the token record's
	 * version is still expect, 0 meaning absent). CST_ERR_INVALID when that no longer
	 * holds.
	 */
	int (*publish)(struct cst_shared_conn *c, const char *key, const char *value, int64_t lease,
		       int64_t expect, struct cst_error *e);
	/* Drops the claim of lease (and the lease). */
	int (*release)(struct cst_shared_conn *c, const char *key, int64_t lease,
		       struct cst_error *e);
	/* Deletes the token record while its version is expect. */
	int (*remove)(struct cst_shared_conn *c, const char *key, int64_t expect,
		      struct cst_error *e);
	/* Returns once a record under key changed after revision, CST_ERR_TIMEOUT at deadline
	 * (Unix milliseconds). */
	int (*watch)(struct cst_shared_conn *c, const char *key, int64_t revision,
		     int64_t deadline_ms, struct cst_error *e);
	/* One line per endpoint for `status`: "URL: healthy" or what is wrong. Always 0. */
	int (*health)(struct cst_shared_conn *c, struct strbuf *out);
	/* The endpoints as configured, comma-separated, for messages (static to c). */
	const char *(*endpoints)(const struct cst_shared_conn *c);
};

/* The etcd backend's table, from the cstoken-etcd module; NULL with e set when it cannot load. */
const struct cst_shared_ops *cst_shared_etcd_ops(struct cst_error *e);

/*
 * cst_token_obtain_for for a profile with a shared store: the local copy while it has
 * been fetched within shared_cache (no network); else the shared token; else, when this
 * member may mint (logged in, mint allowed), a claim, one mint, a publish for everyone;
 * else a wait for the member who holds the claim. Flags and results as mint.h.
 */
int cst_shared_obtain(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, unsigned flags, int64_t min_ttl, struct cst_item *out,
		      bool *minted, struct cst_error *e);

struct cst_rotated;
struct cst_revoked;
/*
 * cst_token_rotate for everyone: a new shared token published; the old one stays in the
 * shared value until no cache can hold it (out->old_due), then a member who may mint
 * revokes it.
 */
int cst_shared_rotate(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, struct cst_rotated *out, struct cst_error *e);

/*
 * cst_token_revoke of the profile's token for everyone: the shared token (and those
 * replaced, still waiting) deleted on the server and in the shared store, this machine's
 * copy forgotten.
 */
int cst_shared_revoke(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, struct cst_revoked *out, struct cst_error *e);

/*
 * The local store's item for the etcd user's password (`cstoken login --etcd`): a
 * credential for protocol "etcd", the first endpoint's host and etcd_user. Caller
 * releases.
 */
void cst_shared_password_pattern(const struct cst_profile *p, struct cst_item *pattern);

/*
 * `cstoken login --etcd`: logs in to the cluster as etcd_user with password (a secret)
 * and, when the cluster takes it, keeps the password in the local store.
 */
int cst_shared_login(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, const char *password, struct cst_error *e);

/*
 * `status` lines about p's shared store (endpoints' health, the token, who minted it and
 * when, an interrupted mint): appended to out. 0 when the store answered, else the
 * reason in e.
 */
int cst_shared_status(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, struct strbuf *out, struct cst_error *e);

/* The uid of the shared token and of those retired, for `list --remote` (caller frees). */
int cst_shared_uids(const struct cst_config *cfg, const struct cst_profile *p, struct cst_store *st,
		    char ***uids, size_t *n, struct cst_error *e);

#endif
