/* The shared store's keys: which etcd cluster, how to reach it, how long a copy is trusted. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_shared.h"
#include "cstoken/util.h"

#define DEFAULT_PREFIX "/cstoken/"
#define DEFAULT_CACHE (5 * 60)
#define DEFAULT_CLAIM_TTL 60
/* etcd refuses leases much below its election timeout; an hour covers any mint */
#define MIN_CLAIM_TTL 2
#define MAX_CLAIM_TTL 3600
#define MAX_CACHE (24 * 3600)
#define MAX_ENDPOINTS 16
#define MAX_URL 256
#define MAX_PREFIX 128
#define MAX_USER 64

void cst_shared_conf_defaults(struct cst_shared_conf *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->prefix = xstrdup(DEFAULT_PREFIX);
	sc->cache_seconds = DEFAULT_CACHE;
	sc->claim_ttl = DEFAULT_CLAIM_TTL;
}

static void free_endpoints(struct cst_shared_conf *sc)
{
	size_t i;

	for (i = 0; i < sc->nendpoints; i++)
		free(sc->endpoints[i]);
	free(sc->endpoints);
	sc->endpoints = NULL;
	sc->nendpoints = 0;
}

void cst_shared_conf_release(struct cst_shared_conf *sc)
{
	free_endpoints(sc);
	free(sc->prefix);
	free(sc->ca_file);
	free(sc->cert_file);
	free(sc->key_file);
	free(sc->user);
	memset(sc, 0, sizeof(*sc));
}

/* One endpoint: http(s)://host:port and nothing else, http only to loopback. */
static int check_endpoint(const char *u, char *why, size_t n)
{
	bool tls = !strncmp(u, "https://", 8);
	const char *rest = u + (tls ? 8 : 7);
	char host[MAX_URL];
	size_t i;

	if (!tls && strncmp(u, "http://", 7)) {
		snprintf(why, n, "'%s' is not an http:// or https:// URL (e.g. https://etcd1:2379)",
			 u);
		return -1;
	}
	if (strlen(u) >= MAX_URL || !cst_url_host(u, host, sizeof(host)) || !*rest) {
		snprintf(why, n, "'%s' is not a URL of the form https://HOST:PORT", u);
		return -1;
	}
	for (i = 0; rest[i]; i++)
		if (!isalnum((unsigned char)rest[i]) && !strchr(".-:[]", rest[i])) {
			snprintf(why, n,
				 "'%s' may hold only a host and a port (no path, user or query)",
				 u);
			return -1;
		}
	if (!tls && !cst_url_loopback(u)) {
		snprintf(why, n,
			 "'%s' is plain http to another machine, which would carry the token "
			 "unencrypted; use https:// (http:// is only for loopback)",
			 u);
		return -1;
	}
	return 0;
}

static int set_endpoints(struct cst_shared_conf *sc, const char *v, char *why, size_t n)
{
	const char *s = v, *end;
	char *u;

	free_endpoints(sc);
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			break;
		end = s + strcspn(s, ", \t");
		u = xstrndup(s, (size_t)(end - s));
		if (check_endpoint(u, why, n)) {
			free(u);
			return -1;
		}
		if (sc->nendpoints == MAX_ENDPOINTS) {
			free(u);
			snprintf(why, n, "more than %d endpoints", MAX_ENDPOINTS);
			return -1;
		}
		sc->endpoints = realloc(sc->endpoints, (sc->nendpoints + 1) * sizeof(char *));
		if (!sc->endpoints)
			cst_oom();
		sc->endpoints[sc->nendpoints++] = u;
		s = end;
	}
	return 0;
}

/* A readable regular file at v (absolute or ~/); the expanded path into *dst. */
static int set_file(char **dst, const char *v, bool secret, char *why, size_t n)
{
	struct stat st;
	char *path;

	if (!*v) {
		set_str(dst, NULL);
		return 0;
	}
	if (v[0] != '/' && !(v[0] == '~' && v[1] == '/')) {
		snprintf(why, n, "'%s' must be an absolute path or start with '~/'", v);
		return -1;
	}
	path = expand_home(v);
	if (stat(path, &st) || access(path, R_OK)) {
		snprintf(why, n, "cannot read '%s': %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, n, "'%s' is not a regular file", path);
	} else if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(why, n, "the private key '%s' is readable by others; run 'chmod 600 %s'",
			 path, path);
	} else {
		free(*dst);
		*dst = path;
		return 0;
	}
	free(path);
	return -1;
}

static int set_duration(int64_t *dst, const char *v, int64_t min, int64_t max, char *why, size_t n)
{
	int64_t s;

	if (cst_parse_duration(v, &s) || s < min || s > max) {
		snprintf(why, n,
			 "'%s' is not a duration from %llds to %llds (Nh, Nm, Ns or seconds)", v,
			 (long long)min, (long long)max);
		return -1;
	}
	*dst = s;
	return 0;
}

int cst_shared_conf_set(struct cst_shared_conf *sc, const char *key, const char *v, char *why,
			size_t n)
{
	size_t i;

	if (!strcasecmp(key, "shared")) {
		if (!strcasecmp(v, "none"))
			sc->kind = CST_SHARED_NONE;
		else if (!strcasecmp(v, "etcd"))
			sc->kind = CST_SHARED_ETCD;
		else {
			snprintf(why, n, "'%s' is not none or etcd", v);
			return -1;
		}
		return 0;
	}
	if (!strcasecmp(key, "etcd_endpoints"))
		return set_endpoints(sc, v, why, n);
	if (!strcasecmp(key, "etcd_prefix")) {
		for (i = 0; v[i]; i++)
			if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
				break;
		if (v[0] != '/' || v[i] || i > MAX_PREFIX || v[i - 1] != '/') {
			snprintf(why, n,
				 "'%s' is not a key prefix that starts and ends with '/' (no "
				 "spaces, at most %d characters)",
				 v, MAX_PREFIX);
			return -1;
		}
		set_str(&sc->prefix, v);
		return 0;
	}
	if (!strcasecmp(key, "etcd_ca_file")) {
		char *path;

		if (!*v) {
			set_str(&sc->ca_file, NULL);
			return 0;
		}
		path = cst_ca_file_path(v, why, n);
		if (!path)
			return -1;
		free(sc->ca_file);
		sc->ca_file = path;
		return 0;
	}
	if (!strcasecmp(key, "etcd_cert_file"))
		return set_file(&sc->cert_file, v, false, why, n);
	if (!strcasecmp(key, "etcd_key_file"))
		return set_file(&sc->key_file, v, true, why, n);
	if (!strcasecmp(key, "etcd_user")) {
		for (i = 0; v[i]; i++)
			if (!isalnum((unsigned char)v[i]) && !strchr("._@-", v[i]))
				break;
		if (v[i] || i > MAX_USER) {
			snprintf(why, n,
				 "'%s' is not an etcd user name (letters, digits, '.', '_', '@' "
				 "or '-')",
				 v);
			return -1;
		}
		set_str(&sc->user, *v ? v : NULL);
		return 0;
	}
	if (!strcasecmp(key, "shared_cache"))
		return set_duration(&sc->cache_seconds, v, 0, MAX_CACHE, why, n);
	if (!strcasecmp(key, "etcd_claim_ttl"))
		return set_duration(&sc->claim_ttl, v, MIN_CLAIM_TTL, MAX_CLAIM_TTL, why, n);
	snprintf(why, n, "not a shared-store key");
	return -1;
}

int cst_shared_conf_check(const struct cst_shared_conf *sc, char *why, size_t n)
{
	if (sc->kind == CST_SHARED_NONE) {
		if (sc->nendpoints || sc->user || sc->cert_file || sc->key_file || sc->ca_file) {
			snprintf(why, n,
				 "etcd_* keys are set but shared is not etcd; set shared = "
				 "etcd or remove them");
			return -1;
		}
		return 0;
	}
	if (!sc->nendpoints) {
		snprintf(why, n, "shared = etcd needs etcd_endpoints (e.g. https://etcd1:2379)");
		return -1;
	}
	if (!sc->cert_file != !sc->key_file) {
		snprintf(why, n,
			 "etcd_cert_file and etcd_key_file go together: set both or neither");
		return -1;
	}
	return 0;
}
