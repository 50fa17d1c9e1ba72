/* cstoken.conf(5): the INI configuration, parsed and validated in one go. */
#ifndef CSTOKEN_CONFIG_H
#define CSTOKEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cstoken/error.h"
#include "cstoken/store.h"

enum cst_lifetime_kind {
	CST_LIFETIME_DURATION, /* lifetime_seconds from the time of minting */
	CST_LIFETIME_DATE,     /* lifetime_date, YYYY-MM-DD */
	CST_LIFETIME_NEVER,
};

/* Seconds per HTTP request when the configuration sets none (the API client's default too). */
#define CST_DEFAULT_TIMEOUT 10

/* Where a team's shared token lives (shared.h): none, or an etcd v3 cluster. */
enum cst_shared_kind { CST_SHARED_NONE, CST_SHARED_ETCD };

/* The shared = and etcd_* keys of a profile (config_shared.c). */
struct cst_shared_conf {
	enum cst_shared_kind kind;
	char **endpoints; /* http(s)://host:port, http only to loopback */
	size_t nendpoints;
	char *prefix;	 /* keys: PREFIX<cma host>/<api_key>/<scope digest> */
	char *ca_file;	 /* NULL: system trust */
	char *cert_file; /* TLS client certificate, with key_file; NULL: none */
	char *key_file;
	char *user;	       /* etcd user (roles); its password in the local store */
	int64_t cache_seconds; /* shared_cache: how long a local copy is trusted */
	int64_t claim_ttl;     /* etcd_claim_ttl: lease of a minting claim, seconds */
};

struct cst_profile {
	char *name;
	char *region;  /* canonical region id ("na", "eu", ...) */
	char *host;    /* CMA host[:port]: the host key, else the region's host */
	bool host_set; /* host came from the host key */
	char *ca_file; /* NULL: system trust only */
	char *api_key; /* NULL when not configured */
	char *email;
	char **branches; /* exactly one of branches/aliases is non-empty */
	size_t nbranches;
	char **aliases;
	size_t naliases;
	bool write; /* permissions = read,write */
	enum cst_lifetime_kind lifetime;
	int64_t lifetime_seconds;
	char lifetime_date[11];
	int64_t renew_before; /* seconds */
	bool notify;
	char *name_template; /* {user} {hostname} {profile} expanded by mint */
	char *description;
	bool region_set; /* region came from the region key */
	bool mint;
	int stack_token_limit; /* refuse to mint when the stack holds this many (1-30) */
	int line;	       /* line of the [profile] header, 0 for a built-in default */
	struct cst_shared_conf shared;
	bool oauth;	    /* auth = oauth: `login` makes an OAuth session */
	char *oauth_app_id; /* the OAuth app: Contentstack CLI's public one by default */
	char *oauth_client_id;
	char *oauth_redirect;
	char *app_host;		  /* NULL: derived from host (cst_profile_app_host) */
	char *developer_hub_host; /* NULL: derived from host */
};

/* The public OAuth app of Contentstack's CLI, which its SDKs use when none is registered. */
#define CST_OAUTH_APP_ID "6400aa06db64de001a31c8a9"
#define CST_OAUTH_CLIENT_ID "Ie0FEfTzlfAHL4xM"
#define CST_OAUTH_REDIRECT "http://localhost:8184"

struct cst_config {
	char *path; /* the file looked for (owned) */
	bool found; /* it existed */
	enum cst_store_kind store;
	char *store_file; /* expanded; NULL means the default path */
	char *default_profile;
	int timeout; /* seconds per HTTP request; CST_DEFAULT_TIMEOUT unless set */
	struct cst_profile *profiles;
	size_t nprofiles;
	struct cst_profile builtin; /* the unconfigured default, see cst_config_profile */
};
#define CST_CONFIG_INIT                                                                            \
	{                                                                                          \
		0                                                                                  \
	}

/*
 * Loads path, or when NULL $CSTOKEN_CONFIG, else $XDG_CONFIG_HOME/cstoken/config.
 * A missing file gives the defaults (found = false). CSTOKEN_STORE and
 * CSTOKEN_STORE_FILE override the file. Any unknown section or key, bad value, or a
 * profile with both branches and aliases fails with CST_ERR_CONFIG and e saying
 * "FILE:LINE: key 'KEY': why". cfg is released on error. Caller releases.
 */
int cst_config_load(struct cst_config *cfg, const char *path, struct cst_error *e);
void cst_config_release(struct cst_config *cfg);

/* A profile with all defaults and the given name (caller releases). */
void cst_profile_defaults(struct cst_profile *p, const char *name);
void cst_profile_release(struct cst_profile *p);

/*
 * The profile called name, or NULL. When name is NULL: $CSTOKEN_PROFILE, then
 * default_profile, then "default". A name that is not configured but is the default
 * yields a built-in default profile held in cfg (so a plain store still works).
 */
const struct cst_profile *cst_config_profile(struct cst_config *cfg, const char *name);
/* The name the lookup above would use. */
const char *cst_config_profile_name(const struct cst_config *cfg, const char *name);

/*
 * The profile a git request is for: protocol "https", host equal to the profile's
 * CMA host, and username (when not NULL) equal to its api_key. NULL when none.
 * When several match, the default profile wins, then the first in the file.
 */
const struct cst_profile *cst_config_profile_for(const struct cst_config *cfg, const char *protocol,
						 const char *host, const char *username);

/*
 * Whether two CMA hosts (host[:port]) are the same one: case-insensitive, ":443" (which
 * git leaves out for https) the same as none. False when either is NULL. The one test
 * of host equality: profiles, stored items and git requests are all compared with it.
 */
bool cst_host_equal(const char *a, const char *b);

/* Region id (aliases, case and '_' accepted) to canonical id and CMA host. */
int cst_region_lookup(const char *region, const char **id, const char **host);
/*
 * The region p's host belongs to: the host of a known region gives that region, else
 * the region key when set, else (host set, no region) NULL. Owned by p or static.
 */
const char *cst_profile_region(const struct cst_profile *p);

/* The known regions, i from 0 to cst_region_count() - 1: id and CMA host (static). */
size_t cst_region_count(void);
void cst_region_at(size_t i, const char **id, const char **host);

/* Whether s can name a [profile NAME] section. */
bool cst_profile_name_valid(const char *s);
/* Why h is not a host[:port] or [IPv6][:port] the host key accepts; NULL when it is one. */
const char *cst_host_problem(const char *h);
/* Whether v is an e-mail address the email key accepts. */
bool cst_valid_email(const char *v);
/*
 * A ca_file value (absolute or ~/) as the ca_file key accepts it: the expanded path
 * (caller frees), or NULL with the reason in why (n bytes).
 */
char *cst_ca_file_path(const char *v, char *why, size_t n);

/*
 * Puts section (the text of "[profile name]" and its keys, ending in a newline) into the
 * file at path: appended, or with replace in place of an existing [profile name]; every
 * other byte of the file stays as it was. The file and missing directories above it are
 * created 0600 / 0700; an existing file is refused as a load refuses it, and a symlink is
 * never replaced. The result is written to a temporary file, loaded as a check, then
 * renamed over path. CST_ERR_USAGE when the profile exists and replace is false.
 */
int cst_config_write_profile(const char *path, const char *name, const char *section, bool replace,
			     struct cst_error *e);

/*
 * The host of p's authorize page and of its developer hub (OAuth tokens): app_host and
 * developer_hub_host when set, else derived from the CMA host as Contentstack's SDK does
 * (api.contentstack.io -> app.contentstack.com, developerhub-api.contentstack.com; a host
 * without "api" stays itself). Caller frees.
 */
char *cst_profile_app_host(const struct cst_profile *p);
char *cst_profile_developer_hub_host(const struct cst_profile *p);
/* 0 when p has an api_key; else CST_ERR_CONFIG saying cstoken cannot do what without one. */
int cst_profile_need_api_key(const struct cst_config *cfg, const struct cst_profile *p,
			     const char *what, struct cst_error *e);
/* Whether v is an http:// or https:// URL the oauth_redirect key accepts. */
bool cst_oauth_redirect_valid(const char *v);

/* "30d", "2w", "12h", "45m", "90s" or a bare number of seconds; CST_ERR_INVALID else. */
int cst_parse_duration(const char *s, int64_t *seconds);

#endif
