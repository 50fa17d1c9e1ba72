/*
 * The shared = and etcd_* keys of a profile (cstoken.conf(5), "Shared store"): parsed and
 * checked here, called by config.c's key table. Not part of the public API.
 */
#ifndef CSTOKEN_CONFIG_SHARED_H
#define CSTOKEN_CONFIG_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#include "cstoken/config.h"

/* The defaults: shared = none, etcd_prefix = /cstoken/, shared_cache = 5m, etcd_claim_ttl = 60s. */
void cst_shared_conf_defaults(struct cst_shared_conf *sc);
void cst_shared_conf_release(struct cst_shared_conf *sc);

/*
 * Sets key (one of shared, etcd_endpoints, etcd_prefix, etcd_ca_file, etcd_cert_file,
 * etcd_key_file, etcd_user, shared_cache, etcd_claim_ttl; case ignored) to v. 0, or -1
 * with the reason in why (n bytes).
 */
int cst_shared_conf_set(struct cst_shared_conf *sc, const char *key, const char *v, char *why,
			size_t n);

/*
 * The rules across keys, once the profile is read: shared = etcd needs etcd_endpoints,
 * certificate and key go together, etcd keys need shared = etcd. 0, or -1 with why.
 */
int cst_shared_conf_check(const struct cst_shared_conf *sc, char *why, size_t n);

#endif
