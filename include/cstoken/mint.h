/* Policy: which management token a profile gets, and when to mint a new one. */
#ifndef CSTOKEN_MINT_H
#define CSTOKEN_MINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cstoken/config.h"
#include "cstoken/error.h"
#include "cstoken/store.h"

enum cst_token_flags {
	CST_TOKEN_MINT = 1 << 0,  /* may mint when nothing usable is stored (and profile->mint) */
	CST_TOKEN_FORCE = 1 << 1, /* mint even when a usable token is stored (rotate) */
	CST_TOKEN_LOCAL = 1 << 2, /* this machine's store only, shared = etcd or not (shared.c) */
};

/*
 * The profile's management token: the stored one while it has more than renew_before
 * left and its scope fingerprint matches the profile, else (with CST_TOKEN_MINT) a new
 * one minted under a per-profile lock, stored, and the replaced one revoked when its
 * scope changed. *out is a CST_ITEM_TOKEN with secret set. *minted (may be NULL) tells
 * whether this call minted. CST_ERR_NOT_LOGGED_IN when minting needs an authtoken that
 * is not stored; CST_ERR_NOT_FOUND when nothing is stored and minting is not allowed.
 */
int cst_token_obtain(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, unsigned flags, struct cst_item *out, bool *minted,
		     struct cst_error *e);
/*
 * The same, for a job that needs the token for min_ttl seconds (0: any time left): a
 * stored token that expires sooner is renewed first, and the answer never expires
 * within min_ttl. When that cannot be (minting not allowed or not logged in, or the
 * profile's lifetime shorter than min_ttl) it fails (CST_ERR_NOT_FOUND,
 * CST_ERR_NOT_LOGGED_IN, CST_ERR_INVALID) instead of handing out a shorter-lived one.
 */
int cst_token_obtain_for(const struct cst_config *cfg, const struct cst_profile *p,
			 struct cst_store *st, unsigned flags, int64_t min_ttl,
			 struct cst_item *out, bool *minted, struct cst_error *e);

/* The token stored for p: 0 with *out set, CST_ERR_NOT_FOUND when none, or the store's error. */
int cst_token_stored(struct cst_store *st, const struct cst_profile *p, struct cst_item *out,
		     struct cst_error *e);

/* Was it minted for another host than p's (it records one, and not p's)? Never sent there. */
bool cst_token_other_host(const struct cst_profile *p, const struct cst_item *it);
/* The api_key that goes with token it: its own, else p's, else "" (borrowed). */
const char *cst_token_api_key(const struct cst_profile *p, const struct cst_item *it);
/*
 * The one check of what the store (or anyone who can write to it) gave, before any of it
 * leaves in any form: the token one opaque word, the api_key a stack API key, the uid
 * (when known) a uid. 0, or CST_ERR_INVALID naming the fix.
 */
int cst_token_check(const struct cst_profile *p, const struct cst_item *it, struct cst_error *e);
/* Is secret the token stored for p? */
bool cst_token_holds(struct cst_store *st, const struct cst_profile *p, const char *secret);

/* What a stored token is worth to p at now, by the rules cst_token_obtain applies. */
struct cst_token_state {
	bool usable;  /* handed out as it is: a value, p's scope, more than renew_before left */
	bool expired; /* past its expiry: the server no longer takes it */
	bool renew;   /* not expired, but within renew_before: renewed on next use */
	bool minted;  /* minted by cstoken (it has a scope fingerprint) */
	bool scope_matches; /* minted for p's current scope (else re-minted on next use) */
	int64_t left;	    /* seconds until it expires; 0 when it never does or has */
	bool other_host;    /* minted for another host (cst_token_other_host) */
};
void cst_token_state(const struct cst_profile *p, const struct cst_item *it, int64_t now,
		     struct cst_token_state *out);

enum cst_revoke_flags {
	CST_REVOKE_FORCE = 1 << 0, /* delete a token cstoken did not mint without asking */
};
/*
 * Asked before a token cstoken did not mint is deleted (name and uid as shown on a
 * terminal): true to delete it.
 */
typedef bool cst_confirm_fn(void *ctx, const char *name, const char *uid);
/* What cst_token_revoke did; strings made safe for a terminal. */
struct cst_revoked {
	char *name;	/* the token's name, NULL when unknown */
	char *uid;	/* its uid */
	bool gone;	/* the server no longer had it */
	bool foreign;	/* cstoken did not mint it */
	size_t removed; /* store items removed */
	bool shared;	/* the shared store's token (shared.h), revoked for everyone */
};
/*
 * Revokes token uid on p's stack, or p's stored token when uid is NULL, and removes it
 * from the store; then tidies p's dead tokens. A token cstoken did not mint goes only with
 * CST_REVOKE_FORCE or when confirm (NULL: no one to ask, refused) says yes. A stored token
 * of another host is refused. On success *out is set (caller frees with
 * cst_revoked_release); on failure it is empty.
 */
int cst_token_revoke(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, const char *uid, unsigned flags, cst_confirm_fn *confirm,
		     void *ctx, struct cst_revoked *out, struct cst_error *e);
void cst_revoked_release(struct cst_revoked *r);

/* What cst_token_rotate did. */
struct cst_rotated {
	struct cst_item fresh; /* the new token, stored (secret set) */
	char *old_uid;	       /* the replaced token's uid as shown; NULL when none was stored */
	bool old_gone;	       /* the server had already forgotten the replaced token */
	int64_t old_due;       /* shared store: when the replaced one goes (0: now) */
};
/*
 * Mints a new token for p whatever is stored, stores it, then revokes the one it replaced.
 * The old token stays stored and valid until the new one is stored. When the old one
 * cannot be revoked the new one stays stored and the error names the revoke to run. On
 * success *out is set (caller frees with cst_rotated_release); on failure it is empty.
 */
int cst_token_rotate(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, struct cst_rotated *out, struct cst_error *e);
void cst_rotated_release(struct cst_rotated *r);

/*
 * Did cstoken mint the token uid (name as the server lists it, may be NULL) for p: a
 * name of p's template, a uid some profile stores, or a token p replaced that is still
 * waiting for deletion. A minted token is named cst_token_name() followed by the
 * UTC time of the mint ("... 2026-12-01 18:20:05 UTC").
 */
bool cst_token_ours(const struct cst_config *cfg, const struct cst_profile *p, struct cst_store *st,
		    const char *uid, const char *name);

/*
 * Deletes cstoken's dead tokens of p from its stack: the replaced ones that are due and
 * its own expired ones (never one a profile stores). Does nothing when not logged in; a
 * failure only leaves them for the next call.
 */
void cst_tokens_tidy(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st);

/*
 * Fingerprint of the scope of p: "v2:" and the canonical scope text on one line, no
 * control characters (caller frees).
 */
char *cst_scope_fingerprint(const struct cst_profile *p);

/*
 * Does the stored fingerprint match p, whose fingerprint is fp? Also the older form (a
 * SHA-256 in hex), so a token minted before is not taken for one of another scope.
 */
bool cst_scope_matches(const struct cst_profile *p, const char *fp, const char *stored);

/*
 * The session credential (cma.h) of p's host (and email when set): a stored authtoken, or
 * a stored OAuth session (which of the two first: the profile's auth key), its access
 * token refreshed first when it expires within CST_OAUTH_REFRESH_BEFORE seconds, one
 * process at a time. *authtoken freed by free_secret, *email (may be NULL) by free.
 * CST_ERR_NOT_LOGGED_IN when none is stored; CST_ERR_RELOGIN when the developer hub
 * refused the refresh (e says to run 'cstoken login --oauth -p P').
 */
int cst_authtoken_get(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, char **authtoken, char **email, struct cst_error *e);
/* cst_authtoken_get for doing (e.g. "revoking a token"): not logged in names doing and the fix. */
int cst_session_for(const struct cst_config *cfg, const struct cst_profile *p, struct cst_store *st,
		    const char *doing, char **authtoken, struct cst_error *e);

/* Seconds before its expiry at which an OAuth access token is refreshed (as the SDK does). */
#define CST_OAUTH_REFRESH_BEFORE 60

/* What a CST_ITEM_OAUTH item's secret holds. */
struct cst_oauth_session {
	char *access_token;  /* secret */
	char *refresh_token; /* secret */
	char *organization_uid;
	char *user_uid;
	int64_t expires; /* unix seconds: the access token's end */
};
void cst_oauth_session_release(struct cst_oauth_session *s);
/* The secret text of s (caller frees with free_secret). */
char *cst_oauth_session_encode(const struct cst_oauth_session *s);
/* Reads a stored secret; CST_ERR_INVALID when it is not a well-formed session. */
int cst_oauth_session_decode(const char *secret, struct cst_oauth_session *s);
/* The session credential of s: CMA_BEARER "ACCESS ORG" (caller frees with free_secret). */
char *cst_oauth_credential(const struct cst_oauth_session *s);
/*
 * Stores the OAuth session s for (p's host, email) as one item, replacing one there was.
 */
int cst_oauth_session_store(struct cst_store *st, const struct cst_profile *p, const char *email,
			    const struct cst_oauth_session *s, struct cst_error *e);
/* The app p logs in with (its strings). */
struct cma_oauth_app;
void cst_profile_oauth_app(const struct cst_profile *p, struct cma_oauth_app *app);

/* Expands the name template ({user}, {hostname}, {profile}); caller frees. */
char *cst_token_name(const struct cst_profile *p);

struct cma_token;
/*
 * Did cstoken mint t, the one rule minting uses: its name starts with name (the profile's
 * cst_token_name), or its uid is that of one of the nmine stored tokens in mine.
 */
bool cst_token_is_ours(const struct cma_token *t, const char *name, const struct cst_item *mine,
		       size_t nmine);

/* A token Contentstack evicted from a full stack when cstoken minted. */
struct cst_eviction {
	int64_t when; /* Unix seconds of the mint */
	char *uid;    /* as shown on a terminal */
	char *name;   /* as shown on a terminal */
};

/*
 * The evictions recorded for the profile (oldest first, the last few), kept beside the
 * minting lock. Always 0; *n is 0 when none are recorded. Caller frees with
 * cst_evictions_free.
 */
int cst_evictions_read(const struct cst_config *cfg, const char *profile, struct cst_eviction **out,
		       size_t *n);
void cst_evictions_free(struct cst_eviction *v, size_t n);

#endif
