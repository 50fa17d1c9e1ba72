/*
 * The shared store on etcd v3 (shared.h): etcd's JSON gateway (/v3/kv/range, /v3/kv/txn,
 * /v3/lease/grant, /v3/lease/keepalive, /v3/lease/revoke, /v3/watch, /v3/auth/authenticate)
 * over libcurl. Keys and values travel in base64; 64-bit numbers as JSON strings. Any member
 * answers: a call tries the endpoints in turn, starting with the last one that answered.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config_shared.h"
#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "http_transport.h"
#include "shared_etcd.h"

#define ETCD_MAX_RESPONSE (1024 * 1024)
#define ETCD_CONNECT_TIMEOUT_MS 2000
#define ETCD_USER_AGENT "cstoken"
/* gRPC codes in the gateway's error bodies */
#define GRPC_DEADLINE_EXCEEDED 4
#define GRPC_PERMISSION_DENIED 7
#define GRPC_UNAVAILABLE 14
#define GRPC_UNAUTHENTICATED 16

struct cst_shared_conn {
	char **endpoints;
	size_t n;
	size_t cur; /* the member that answered last */
	char *ca_file, *cert_file, *key_file, *user;
	char *password;	  /* secret */
	char *auth_token; /* secret: etcd's token for user */
	int timeout_ms;
	CURL *curl;
	struct strbuf list;    /* "URL, URL" for messages */
	struct keeper *keeper; /* the claim's lease kept alive, NULL when none */
};

/*
 * While this process holds a claim, a thread of its own keeps the claim's lease alive on a
 * connection of its own, every third of the lease's TTL: a mint may take longer than the
 * TTL, and the claim must expire only when its holder has died. It ends when the claim is
 * published or released.
 */
struct keeper {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int64_t lease, ttl;
	struct cst_shared_conn *conn;
};

static void keeper_stop(struct cst_shared_conn *c);

struct body {
	struct cst_http_body http; /* wiped: values hold the token */
	bool stop_on_event;	   /* watch: stop at the first event */
	bool event;
};
#define BODY_INIT(stop)                                                                            \
	{                                                                                          \
		{STRBUF_INIT, ETCD_MAX_RESPONSE, false}, stop, false                               \
	}

static void conn_close(struct cst_shared_conn *c)
{
	size_t i;

	if (!c)
		return;
	keeper_stop(c);
	cst_http_handle_free(c->curl);
	for (i = 0; i < c->n; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->user);
	free_secret(c->password);
	free_secret(c->auth_token);
	strbuf_release(&c->list);
	free(c);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int conn_open(const struct cst_shared_conf *conf, const char *password, int timeout,
		     struct cst_shared_conn **out, struct cst_error *e)
{
	struct cst_shared_conn *c = xcalloc(1, sizeof(*c));
	size_t i;

	*out = NULL;
	if (!conf->nendpoints) {
		free(c);
		return cst_error_set(e, CST_ERR_CONFIG, "no etcd_endpoints configured");
	}
	c->endpoints = xcalloc(conf->nendpoints, sizeof(char *));
	for (i = 0; i < conf->nendpoints; i++) {
		c->endpoints[i] = xstrdup(conf->endpoints[i]);
		strbuf_addf(&c->list, "%s%s", i ? ", " : "", conf->endpoints[i]);
	}
	c->n = conf->nendpoints;
	c->ca_file = dup_or_null(conf->ca_file);
	c->cert_file = dup_or_null(conf->cert_file);
	c->key_file = dup_or_null(conf->key_file);
	c->user = dup_or_null(conf->user);
	c->password = dup_or_null(password);
	c->timeout_ms = (timeout > 0 ? timeout : CST_DEFAULT_TIMEOUT) * 1000;
	/* spread the members' load: each process starts with one of them */
	c->cur = (size_t)getpid() % c->n;
	*out = c;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct body *b = userp;
	size_t n = cst_http_on_body(data, size, nmemb, &b->http);
	const char *got = b->http.buf.buf;

	if (b->http.too_large)
		return n;
	if (b->stop_on_event && (strstr(got, "\"events\"") || strstr(got, "\"canceled\"") ||
				 strstr(got, "\"error\""))) {
		b->event = true;
		return 0; /* ends the stream: the caller reads again */
	}
	return n;
}

static int curl_ready(struct cst_shared_conn *c, struct cst_error *e)
{
	return c->curl ? 0 : cst_http_handle(&c->curl, e);
}

/* One POST (body NULL: GET) to one endpoint; the transport's result. */
static CURLcode perform(struct cst_shared_conn *c, const char *url, const char *body,
			bool with_auth, long timeout_ms, struct body *out, long *status)
{
	struct curl_slist *hdrs = NULL;
	CURL *curl = c->curl;
	const struct cst_http_setup setup = {.url = url,
					     .protocols = "http,https",
					     .user_agent = ETCD_USER_AGENT,
					     .timeout_ms = timeout_ms,
					     .connect_timeout_ms = ETCD_CONNECT_TIMEOUT_MS,
					     .ca_file = c->ca_file,
					     .cert_file = c->cert_file,
					     .key_file = c->key_file,
					     .body = &out->http};
	CURLcode cc;

	cst_http_setup(curl, &setup);
	if (cst_url_loopback(url))
		curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		if (cst_http_header_add(&hdrs, "Content-Type", "application/json"))
			cst_oom();
	}
	if (with_auth && c->auth_token &&
	    cst_http_header_add(&hdrs, "Authorization", c->auth_token))
		cst_oom();
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(curl);
	*status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	cst_http_headers_free(hdrs);
	return cc;
}

static bool tls_failure(CURLcode cc)
{
	return cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION ||
	       cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CACERT_BADFILE ||
	       cc == CURLE_SSL_CIPHER || cc == CURLE_SSL_ISSUER_ERROR ||
	       cc == CURLE_SSL_CRL_BADFILE;
}

/* The gateway's error body: {"error": "...", "code": N}; code 0 when not one. */
static long grpc_error(const cJSON *j, char *msg, size_t n)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	size_t i;

	if (!cJSON_IsNumber(code) || code->valuedouble == 0)
		return 0;
	snprintf(msg, n, "%s", cJSON_IsString(err) ? err->valuestring : "error");
	for (i = 0; msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] >= 0x7f)
			msg[i] = '?';
	/* cJSON's int saturates where a cast of the double could not be done */
	return (long)code->valueint;
}

long cst_etcd_grpc_error(const cJSON *j, char *msg, size_t n)
{
	return grpc_error(j, msg, n);
}

static int authenticate(struct cst_shared_conn *c, struct cst_error *e);

/*
 * POSTs body to path on the members in turn until one answers; *out is its JSON
 * (caller deletes). A member that is down, hangs, or has lost its quorum is skipped.
 */
static int call(struct cst_shared_conn *c, const char *path, const char *body, cJSON **out,
		struct cst_error *e)
{
	struct strbuf tried = STRBUF_INIT;
	int64_t deadline = cst_monotonic_ms() + c->timeout_ms, left;
	char msg[160];
	size_t k, idx;
	long status, code;
	int ret, kind = CST_ERR_NETWORK, reauth = 0;
	bool all_tls = true;

	*out = NULL;
	ret = curl_ready(c, e);
	if (ret)
		return ret;
	if (c->user && !c->auth_token && strcmp(path, "/v3/auth/authenticate")) {
		ret = authenticate(c, e);
		if (ret)
			return ret;
	}
again:
	for (k = 0; k < c->n; k++) {
		struct body b = BODY_INIT(false);
		cJSON *j;
		CURLcode cc;

		idx = (c->cur + k) % c->n;
		left = deadline - cst_monotonic_ms();
		if (left <= 0) {
			strbuf_addf(&tried, "%s%s: no time left", tried.len ? "; " : "",
				    c->endpoints[idx]);
			kind = CST_ERR_TIMEOUT;
			break;
		}
		/* each member gets its share of the time, so that a hung one leaves some */
		if (k + 1 < c->n && left > c->timeout_ms / (int64_t)c->n)
			left = c->timeout_ms / (int64_t)c->n;
		{
			char *url = xasprintf("%s%s", c->endpoints[idx], path);

			cc = perform(c, url, body, true, (long)left, &b, &status);
			free(url);
		}
		if (cc != CURLE_OK) {
			if (!tls_failure(cc))
				all_tls = false;
			if (cc == CURLE_OPERATION_TIMEDOUT)
				kind = CST_ERR_TIMEOUT;
			strbuf_addf(&tried, "%s%s: %s", tried.len ? "; " : "", c->endpoints[idx],
				    b.http.too_large ? "answer too large" : curl_easy_strerror(cc));
			cst_debug("etcd %s%s: %s; trying the next member", c->endpoints[idx], path,
				  curl_easy_strerror(cc));
			strbuf_release(&b.http.buf);
			continue;
		}
		all_tls = false;
		j = b.http.buf.len ? cJSON_ParseWithLength(b.http.buf.buf, b.http.buf.len) : NULL;
		strbuf_release(&b.http.buf);
		if (!j || !cJSON_IsObject(j)) {
			cJSON_Delete(j);
			strbuf_addf(&tried, "%s%s: HTTP %ld without a JSON answer",
				    tried.len ? "; " : "", c->endpoints[idx], status);
			continue;
		}
		code = grpc_error(j, msg, sizeof(msg));
		if (code == GRPC_PERMISSION_DENIED) {
			cJSON_Delete(j);
			strbuf_release(&tried);
			return cst_error_set(e, CST_ERR_FORBIDDEN,
					     "etcd refused %s for user '%s': %s; ask the cluster's "
					     "admin for a role that grants it",
					     path, c->user ? c->user : "(none)", msg);
		}
		if (code == GRPC_UNAUTHENTICATED && c->user && !reauth &&
		    strcmp(path, "/v3/auth/authenticate")) {
			/* etcd's tokens expire: one more login */
			cJSON_Delete(j);
			free_secret(c->auth_token);
			c->auth_token = NULL;
			reauth = 1;
			ret = authenticate(c, e);
			if (ret) {
				strbuf_release(&tried);
				return ret;
			}
			goto again;
		}
		if (code == GRPC_UNAVAILABLE || code == GRPC_DEADLINE_EXCEEDED || status >= 500) {
			cJSON_Delete(j);
			strbuf_addf(&tried, "%s%s: %s", tried.len ? "; " : "", c->endpoints[idx],
				    code ? msg : "server error");
			continue;
		}
		if (code || status != 200) {
			cJSON_Delete(j);
			strbuf_release(&tried);
			if (code == GRPC_UNAUTHENTICATED)
				return cst_error_set(e, CST_ERR_AUTH,
						     "etcd at %s refused the login of user '%s': "
						     "%s; run 'cstoken login --etcd'",
						     c->endpoints[idx], c->user ? c->user : "",
						     msg);
			return cst_error_set(e, CST_ERR_HTTP, "etcd at %s answered %s: %s",
					     c->endpoints[idx], path, code ? msg : "an error");
		}
		cst_debug("etcd %s%s: answered", c->endpoints[idx], path);
		c->cur = idx;
		*out = j;
		strbuf_release(&tried);
		return 0;
	}
	if (all_tls && tried.len)
		kind = CST_ERR_TLS;
	ret = cst_error_set(
	    e, kind,
	    "no etcd member answered (%s); check that the cluster is up and has a "
	    "quorum%s",
	    tried.buf,
	    kind == CST_ERR_TLS ? ", and etcd_ca_file, etcd_cert_file, etcd_key_file" : "");
	strbuf_release(&tried);
	return ret;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A 64-bit number the gateway sends as a string (or a number); 0 when absent. */
static int64_t jint(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	int64_t n = 0;

	if (cJSON_IsString(v) && !parse_int64(v->valuestring, INT64_MIN, INT64_MAX, &n))
		return n;
	/* a number past int64_t (the gateway's are strings) is none, not undefined */
	if (cJSON_IsNumber(v) && v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18)
		return (int64_t)v->valuedouble;
	return 0;
}

static int authenticate(struct cst_shared_conn *c, struct cst_error *e)
{
	cJSON *req = cJSON_CreateObject(), *j = NULL;
	char *body;
	const char *tok;
	int ret;

	if (!req || !cJSON_AddStringToObject(req, "name", c->user) ||
	    !cJSON_AddStringToObject(req, "password", c->password ? c->password : ""))
		cst_oom();
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!body)
		cst_oom();
	if (!c->password) {
		free_secret(body);
		return cst_error_set(e, CST_ERR_NOT_LOGGED_IN,
				     "no etcd password stored for user '%s'; run 'cstoken login "
				     "--etcd'",
				     c->user);
	}
	ret = call(c, "/v3/auth/authenticate", body, &j, e);
	free_secret(body);
	if (ret == CST_ERR_HTTP || ret == CST_ERR_FORBIDDEN)
		ret = cst_error_set(e, CST_ERR_AUTH,
				    "etcd refused the password of user '%s'; run 'cstoken login "
				    "--etcd' again",
				    c->user);
	if (ret)
		return ret;
	tok = jstr(j, "token");
	if (!tok || !*tok || cst_has_control(tok)) {
		cJSON_Delete(j);
		return cst_error_set(e, CST_ERR_HTTP, "etcd's login answer holds no token");
	}
	set_secret(&c->auth_token, tok);
	cJSON_Delete(j);
	return 0;
}

/* JSON string of the base64 of s. */
static char *b64(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	cst_base64_encode(&sb, s, strlen(s));
	return strbuf_detach(&sb, NULL);
}

/* The end of the range of keys starting with key: its last byte plus one. */
static char *prefix_end(const char *key)
{
	char *end = xstrdup(key);
	size_t n = strlen(end);

	while (n && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n)
		end[n - 1] = (char)(end[n - 1] + 1);
	return end;
}

static char *sub_key(const char *key, const char *what)
{
	return xasprintf("%s/%s", key, what);
}

static void add_b64(cJSON *o, const char *field, const char *s)
{
	char *v = b64(s);

	if (!cJSON_AddStringToObject(o, field, v))
		cst_oom();
	free_secret(v);
}

static void add_int(cJSON *o, const char *field, int64_t n)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, n);
	if (!cJSON_AddStringToObject(o, field, buf))
		cst_oom();
}

static cJSON *jobj(cJSON *parent, const char *name)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		cst_oom();
	if (parent && !cJSON_AddItemToObject(parent, name, o))
		cst_oom();
	return o;
}

static cJSON *jarr(cJSON *parent, const char *name)
{
	cJSON *a = cJSON_AddArrayToObject(parent, name);

	if (!a)
		cst_oom();
	return a;
}

/* Appends {"request_KIND": {}} to arr and returns the inner object. */
static cJSON *op(cJSON *arr, const char *kind)
{
	cJSON *wrap = jobj(NULL, NULL), *inner = jobj(wrap, kind);

	if (!cJSON_AddItemToArray(arr, wrap))
		cst_oom();
	return inner;
}

static cJSON *compare(cJSON *arr, const char *key, const char *target, const char *field, int64_t n)
{
	cJSON *c = jobj(NULL, NULL);

	add_b64(c, "key", key);
	if (!cJSON_AddStringToObject(c, "target", target) ||
	    !cJSON_AddStringToObject(c, "result", "EQUAL"))
		cst_oom();
	add_int(c, field, n);
	if (!cJSON_AddItemToArray(arr, c))
		cst_oom();
	return c;
}

/* Posts j (deleted here) to path: the answer in *out. */
static int post(struct cst_shared_conn *c, const char *path, cJSON *j, cJSON **out,
		struct cst_error *e)
{
	char *body = cJSON_PrintUnformatted(j);
	int ret;

	cJSON_Delete(j);
	if (!body)
		cst_oom();
	ret = call(c, path, body, out, e);
	free_secret(body);
	return ret;
}

/* The decoded value of kv into rec. */
static int rec_from_kv(const cJSON *kv, struct cst_shared_rec *rec)
{
	struct strbuf sb = STRBUF_INIT;
	const char *v = jstr(kv, "value");

	/* the gateway leaves "value" out of an empty one: empty text, nothing to look into */
	if (cst_base64_decode(&sb, v ? v : "") || (sb.buf && strlen(sb.buf) != sb.len)) {
		strbuf_release(&sb);
		return CST_ERR_INVALID;
	}
	free_secret(rec->value);
	rec->value = strbuf_detach(&sb, NULL);
	rec->version = jint(kv, "mod_revision");
	rec->lease = jint(kv, "lease");
	return 0;
}

int cst_etcd_rec_from_kv(const cJSON *kv, struct cst_shared_rec *rec)
{
	return rec_from_kv(kv, rec);
}

static bool kv_is(const cJSON *kv, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	const char *k = jstr(kv, "key");
	bool is = k && !cst_base64_decode(&sb, k) && str_equal(sb.buf, key);

	strbuf_release(&sb);
	return is;
}

static int etcd_read(struct cst_shared_conn *c, const char *key, struct cst_shared_snap *out,
		     struct cst_error *e)
{
	cJSON *req = jobj(NULL, NULL), *j = NULL, *kv;
	char *end = prefix_end(key), *ck = sub_key(key, "claim"), *ik = sub_key(key, "intent");
	int ret;

	memset(out, 0, sizeof(*out));
	add_b64(req, "key", key);
	add_b64(req, "range_end", end);
	ret = post(c, "/v3/kv/range", req, &j, e);
	if (ret)
		goto out;
	out->revision = jint(cJSON_GetObjectItemCaseSensitive(j, "header"), "revision");
	cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(j, "kvs"))
	{
		struct cst_shared_rec *rec = kv_is(kv, key)  ? &out->token
					     : kv_is(kv, ck) ? &out->claim
					     : kv_is(kv, ik) ? &out->intent
							     : NULL;

		if (rec && rec_from_kv(kv, rec)) {
			ret = cst_error_set(e, CST_ERR_HTTP, "etcd's value under '%s' is not text",
					    key);
			cst_shared_snap_release(out);
			goto out;
		}
	}
out:
	cJSON_Delete(j);
	free(end);
	free(ck);
	free(ik);
	return ret;
}

static int lease_revoke(struct cst_shared_conn *c, int64_t lease, struct cst_error *e)
{
	cJSON *req = jobj(NULL, NULL), *j = NULL;
	int ret;

	add_int(req, "ID", lease);
	ret = post(c, "/v3/lease/revoke", req, &j, e);
	cJSON_Delete(j);
	return ret;
}

/* 1 when etcd renewed the lease, 0 when it is gone (expired, revoked), -1 when no member
 * answered. */
static int lease_keepalive(struct cst_shared_conn *c, int64_t lease)
{
	cJSON *req = jobj(NULL, NULL), *j = NULL;
	int ret;

	add_int(req, "ID", lease);
	if (post(c, "/v3/lease/keepalive", req, &j, NULL))
		return -1;
	/* the gateway streams: each answer is {"result": {"ID", "TTL"}} */
	ret = jint(cJSON_GetObjectItemCaseSensitive(j, "result"), "TTL") > 0;
	cJSON_Delete(j);
	return ret;
}

static void *keeper_run(void *arg)
{
	struct keeper *k = arg;
	struct timespec at;
	int64_t every_ms = k->ttl * 1000 / 3;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += (time_t)(every_ms / 1000);
		at.tv_nsec += (long)(every_ms % 1000) * 1000000;
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		while (!k->stop && pthread_cond_timedwait(&k->cv, &k->mu, &at) != ETIMEDOUT)
			;
		if (k->stop)
			break;
		pthread_mutex_unlock(&k->mu);
		/* a member that does not answer now may later: only a lease that is gone ends it */
		if (!lease_keepalive(k->conn, k->lease)) {
			pthread_mutex_lock(&k->mu);
			break;
		}
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

/* A connection like c, for the keeper's thread; its libcurl handle made here, in the caller's. */
static struct cst_shared_conn *conn_clone(const struct cst_shared_conn *c)
{
	struct cst_shared_conn *k = xcalloc(1, sizeof(*k));
	size_t i;

	k->endpoints = xcalloc(c->n, sizeof(char *));
	for (i = 0; i < c->n; i++)
		k->endpoints[i] = xstrdup(c->endpoints[i]);
	k->n = c->n;
	k->cur = c->cur;
	k->ca_file = dup_or_null(c->ca_file);
	k->cert_file = dup_or_null(c->cert_file);
	k->key_file = dup_or_null(c->key_file);
	k->user = dup_or_null(c->user);
	k->password = dup_or_null(c->password);
	k->auth_token = dup_or_null(c->auth_token);
	k->timeout_ms = c->timeout_ms;
	strbuf_addstr(&k->list, c->list.buf ? c->list.buf : "");
	if (curl_ready(k, NULL)) {
		conn_close(k);
		return NULL;
	}
	return k;
}

/* Starts keeping lease alive; without a thread the claim still holds for its TTL. */
static void keeper_start(struct cst_shared_conn *c, int64_t lease, int64_t ttl)
{
	struct keeper *k = xcalloc(1, sizeof(*k));
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	keeper_stop(c);
	k->lease = lease;
	k->ttl = ttl;
	k->conn = conn_clone(c);
	if (!k->conn) {
		free(k);
		return;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* signals stay the caller's: the thread blocks them all */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&k->thread, NULL, keeper_run, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		cst_debug("cannot start keeping the claim alive: %s", strerror(r));
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		conn_close(k->conn);
		free(k);
		return;
	}
	c->keeper = k;
}

static void keeper_stop(struct cst_shared_conn *c)
{
	struct keeper *k = c->keeper;

	if (!k)
		return;
	c->keeper = NULL;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	conn_close(k->conn);
	free(k);
}

static int etcd_claim(struct cst_shared_conn *c, const char *key, const char *claim,
		      const char *intent, int64_t ttl, int64_t *lease, char **prev,
		      struct cst_error *e)
{
	cJSON *req = jobj(NULL, NULL), *j = NULL, *cmp, *ok, *o, *resp, *kv;
	char *ck = sub_key(key, "claim"), *ik = sub_key(key, "intent");
	struct cst_shared_rec rec = {0};
	int64_t id;
	int ret;

	*lease = 0;
	*prev = NULL;
	add_int(req, "TTL", ttl);
	ret = post(c, "/v3/lease/grant", req, &j, e);
	if (ret)
		goto out;
	id = jint(j, "ID");
	cJSON_Delete(j);
	j = NULL;
	if (!id) {
		ret = cst_error_set(e, CST_ERR_HTTP, "etcd granted no lease for the claim");
		goto out;
	}
	req = jobj(NULL, NULL);
	cmp = jarr(req, "compare");
	compare(cmp, ck, "CREATE", "create_revision", 0);
	ok = jarr(req, "success");
	o = op(ok, "request_range");
	add_b64(o, "key", ik);
	o = op(ok, "request_put");
	add_b64(o, "key", ck);
	add_b64(o, "value", claim);
	add_int(o, "lease", id);
	o = op(ok, "request_put");
	add_b64(o, "key", ik);
	add_b64(o, "value", intent);
	ret = post(c, "/v3/kv/txn", req, &j, e);
	if (ret)
		goto revoke;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "succeeded"))) {
		ret = CST_ERR_INVALID;
		goto revoke;
	}
	resp = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "responses"), 0);
	kv =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
				   cJSON_GetObjectItemCaseSensitive(resp, "response_range"), "kvs"),
			       0);
	if (kv && !rec_from_kv(kv, &rec))
		*prev = rec.value;
	*lease = id;
	keeper_start(c, id, ttl);
	ret = 0;
	goto out;
revoke:
	/* a lease without keys expires by itself: a lost claim costs no third write */
	if (ret != CST_ERR_INVALID)
		lease_revoke(c, id, NULL);
out:
	cJSON_Delete(j);
	free(ck);
	free(ik);
	return ret;
}

static int etcd_publish(struct cst_shared_conn *c, const char *key, const char *value,
			int64_t lease, int64_t expect, struct cst_error *e)
{
	cJSON *req = jobj(NULL, NULL), *j = NULL, *cmp, *ok, *o;
	char *ck = sub_key(key, "claim"), *ik = sub_key(key, "intent");
	int ret;

	cmp = jarr(req, "compare");
	if (lease)
		compare(cmp, ck, "LEASE", "lease", lease);
	else
		compare(cmp, key, "MOD", "mod_revision", expect);
	ok = jarr(req, "success");
	o = op(ok, "request_put");
	add_b64(o, "key", key);
	add_b64(o, "value", value);
	if (lease) {
		/* done with the claim: its lease, without keys now, expires by itself */
		o = op(ok, "request_delete_range");
		add_b64(o, "key", ik);
		o = op(ok, "request_delete_range");
		add_b64(o, "key", ck);
	}
	ret = post(c, "/v3/kv/txn", req, &j, e);
	if (lease)
		keeper_stop(c);
	if (!ret && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "succeeded")))
		ret = CST_ERR_INVALID;
	cJSON_Delete(j);
	free(ck);
	free(ik);
	return ret;
}

/* The intent goes while the claim is ours (a failed mint left nothing), the claim with its lease.
 */
static int etcd_release(struct cst_shared_conn *c, const char *key, int64_t lease,
			struct cst_error *e)
{
	cJSON *req, *j = NULL, *o;
	char *ck = sub_key(key, "claim"), *ik = sub_key(key, "intent");

	if (!lease) {
		free(ck);
		free(ik);
		return 0;
	}
	keeper_stop(c);
	req = jobj(NULL, NULL);
	compare(jarr(req, "compare"), ck, "LEASE", "lease", lease);
	o = op(jarr(req, "success"), "request_delete_range");
	add_b64(o, "key", ik);
	if (post(c, "/v3/kv/txn", req, &j, NULL))
		cst_debug("cannot drop the intent under the claim");
	cJSON_Delete(j);
	free(ck);
	free(ik);
	return lease_revoke(c, lease, e);
}

static int etcd_remove(struct cst_shared_conn *c, const char *key, int64_t expect,
		       struct cst_error *e)
{
	cJSON *req = jobj(NULL, NULL), *j = NULL, *o;
	int ret;

	compare(jarr(req, "compare"), key, "MOD", "mod_revision", expect);
	o = op(jarr(req, "success"), "request_delete_range");
	add_b64(o, "key", key);
	ret = post(c, "/v3/kv/txn", req, &j, e);
	if (!ret && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "succeeded")))
		ret = CST_ERR_INVALID;
	cJSON_Delete(j);
	return ret;
}

/*
 * A watch on the key's range from revision + 1: the stream ends at its first event.
 * A member that goes away mid-watch is replaced by the next one.
 */
static int etcd_watch(struct cst_shared_conn *c, const char *key, int64_t revision,
		      int64_t deadline_ms, struct cst_error *e)
{
	cJSON *req = jobj(NULL, NULL), *cr = jobj(req, "create_request");
	char *end = prefix_end(key), *body, *url;
	int64_t left;
	long status;
	size_t k = 0;
	int ret;

	add_b64(cr, "key", key);
	add_b64(cr, "range_end", end);
	add_int(cr, "start_revision", revision + 1);
	free(end);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!body)
		cst_oom();
	ret = curl_ready(c, e);
	if (!ret && c->user && !c->auth_token)
		ret = authenticate(c, e);
	while (!ret) {
		struct body b = BODY_INIT(true);
		size_t idx = (c->cur + k) % c->n;
		CURLcode cc;

		left = deadline_ms - cst_monotonic_ms();
		if (left <= 0) {
			ret = cst_error_set(e, CST_ERR_TIMEOUT, "timed out watching etcd");
			break;
		}
		url = xasprintf("%s/v3/watch", c->endpoints[idx]);
		cc = perform(c, url, body, true, (long)left, &b, &status);
		free(url);
		strbuf_release(&b.http.buf);
		if (b.event)
			break;
		if (cc == CURLE_OPERATION_TIMEDOUT && deadline_ms - cst_monotonic_ms() <= 0) {
			ret = cst_error_set(e, CST_ERR_TIMEOUT, "timed out watching etcd");
			break;
		}
		/* this member is gone or refused: the next one; after a round, read again */
		if (++k % c->n == 0)
			break;
	}
	free(body);
	return ret;
}

static int etcd_health(struct cst_shared_conn *c, struct strbuf *out)
{
	size_t i;

	if (curl_ready(c, NULL)) {
		strbuf_addstr(out, "cannot initialise libcurl\n");
		return 0;
	}
	for (i = 0; i < c->n; i++) {
		struct body b = BODY_INIT(false);
		char *url = xasprintf("%s/health", c->endpoints[i]);
		long status = 0;
		CURLcode cc = perform(c, url, NULL, false, c->timeout_ms, &b, &status);
		cJSON *j =
		    cc == CURLE_OK ? cJSON_ParseWithLength(b.http.buf.buf, b.http.buf.len) : NULL;
		const char *h = jstr(j, "health");

		if (cc != CURLE_OK)
			strbuf_addf(out, "         %s: %s\n", c->endpoints[i],
				    curl_easy_strerror(cc));
		else if (h && !strcmp(h, "true"))
			strbuf_addf(out, "         %s: healthy\n", c->endpoints[i]);
		else
			strbuf_addf(out, "         %s: unhealthy (HTTP %ld)\n", c->endpoints[i],
				    status);
		cJSON_Delete(j);
		strbuf_release(&b.http.buf);
		free(url);
	}
	return 0;
}

static const char *etcd_endpoints(const struct cst_shared_conn *c)
{
	return c->list.buf ? c->list.buf : "";
}

static const struct cst_shared_ops etcd_ops = {
    .name = "etcd",
    .open = conn_open,
    .close = conn_close,
    .read = etcd_read,
    .claim = etcd_claim,
    .publish = etcd_publish,
    .release = etcd_release,
    .remove = etcd_remove,
    .watch = etcd_watch,
    .health = etcd_health,
    .endpoints = etcd_endpoints,
};

/* The backend, as the unit tests link it; the program's cst_shared_etcd_ops is lazy.c's. */
const struct cst_shared_ops *cst_shared_etcd_ops(struct cst_error *e)
{
	(void)e;
	return &etcd_ops;
}

/* The module's table (module.h). */
const struct cst_shared_etcd_module cst_shared_etcd_module = {
    .head = CST_MODULE_HEAD(struct cst_shared_etcd_module, cst_module_adopt),
    .ops = &etcd_ops,
};
