/*
 * Contentstack's Content Management API over libcurl: one request path with the
 * retry policy, error bodies turned into one-line messages, and the calls cstoken makes.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cma_impl.h"
#include "cstoken/cma.h"
#include "cstoken/config.h"
#include "cstoken/util.h"
#include "http_transport.h"

#ifndef CSTOKEN_VERSION
#define CSTOKEN_VERSION "0.0.0"
#endif

#define CMA_USER_AGENT "cstoken/" CSTOKEN_VERSION
#define CMA_MAX_CONNECT_TIMEOUT 10
/* Longest single wait a Retry-After may ask for, and the most one call waits in all. */
#define CMA_MAX_RETRY_AFTER_MS 30000
#define CMA_MAX_TOTAL_WAIT_MS 60000
#define CMA_BACKOFF_MS 500
/* A call quiet for longer than this says on a terminal what it is waiting for. */
#define CMA_QUIET_MS 1000
/* Bytes of a server-supplied text quoted in a message. */
#define CMA_MAX_QUOTE 160
#define CMA_MAX_LOCATION 2048

struct cma_response {
	long status;
	struct cst_http_body body; /* wiped: it may hold an authtoken or a token */
	int64_t retry_after_ms;	   /* -1 when absent */
	char *location;
	char errbuf[CURL_ERROR_SIZE];
};

enum transport {
	T_OK,
	T_TIMEOUT,
	T_CONNECT, /* the request never left: safe to repeat */
	T_RESET,
	T_TLS,
	T_CA_FILE,
	T_TOO_LARGE,
	T_OTHER,
};

static char *path_escape(const char *s);

static cJSON *jcheck(cJSON *j)
{
	if (!j)
		cst_oom();
	return j;
}

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Prints j into a buffer sized up front: cJSON's own printer grows its buffer with
 * realloc, which would leave copies of a secret behind. Caller frees with free_secret.
 */
static char *json_print_secret(cJSON *j, size_t secret_bytes)
{
	size_t len = 6 * secret_bytes + 4096;
	char *buf = xmalloc(len);

	if (len > INT32_MAX || !cJSON_PrintPreallocated(j, buf, (int)len, false)) {
		freezero(buf, len);
		return NULL;
	}
	return buf;
}

/* Copies server-supplied text for a message: printable ASCII only, capped. */
static void quote_text(char *out, size_t outsz, const char *in)
{
	size_t i = 0;

	if (!outsz)
		return;
	for (; in && *in && i + 1 < outsz; in++) {
		unsigned char ch = (unsigned char)*in;

		out[i++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		if (i >= CMA_MAX_QUOTE) {
			if (i + 4 < outsz) {
				memcpy(out + i, "...", 3);
				i += 3;
			}
			break;
		}
	}
	out[i] = '\0';
}

static int64_t random_below(int64_t n)
{
	uint64_t r = 0;

	if (n <= 0)
		return 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)time(NULL) ^ (uint64_t)clock();
	return (int64_t)(r % (uint64_t)n);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * The trust store of every connection, built once per process: the system CA bundle
 * and directory libcurl would use, plus the profile's ca_file. libcurl would parse the
 * bundle again for each connection (its CA cache does not apply with a CA directory, as
 * Debian's libcurl has), and a mint makes two; the store is shared by reference instead.
 * It stays for the life of the process, for the next client too: only another ca_file
 * replaces it. (Freeing it with the client also upsets LeakSanitizer's view of the
 * thread-local storage of the libraries libcurl loads, in the sanitizer build.)
 */
static struct {
	X509_STORE *store;
	char *ca_file; /* the ca_file it holds; NULL for the system store only */
} trust;

static void trust_drop(void)
{
	X509_STORE_free(trust.store);
	free(trust.ca_file);
	trust.store = NULL;
	trust.ca_file = NULL;
}

/* ca_file adds trust: its certificates join the system store. False if it has none. */
static bool trust_add_file(X509_STORE *store, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int n = 0;

	if (!bio)
		return false;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		/* a certificate already in the store counts as added */
		if (X509_STORE_add_cert(store, x) == 1)
			n++;
		X509_free(x);
	}
	BIO_free(bio);
	return n > 0;
}

static X509_STORE *trust_get(CURL *curl, const char *ca_file)
{
	char *cainfo = NULL, *capath = NULL;
	X509_STORE *store;
	bool ok;

	if (trust.store && str_equal(trust.ca_file, ca_file))
		return trust.store;
	trust_drop();
	store = X509_STORE_new();
	if (!store)
		return NULL;
	/* libcurl's built-in CA file and directory, loaded as libcurl would, failing alike */
	curl_easy_getinfo(curl, CURLINFO_CAINFO, &cainfo);
	curl_easy_getinfo(curl, CURLINFO_CAPATH, &capath);
	ok = (!cainfo || X509_STORE_load_file(store, cainfo) == 1) &&
	     (!capath || X509_STORE_load_path(store, capath) == 1) &&
	     (!ca_file || trust_add_file(store, ca_file));
	/* libcurl's default too: a trusted intermediate anchors a chain */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	ERR_clear_error(); /* a PEM read loop ends on a "no start line" error */
	if (!ok) {
		X509_STORE_free(store);
		return NULL;
	}
	trust.store = store;
	trust.ca_file = ca_file ? xstrdup(ca_file) : NULL;
	return store;
}

/* libcurl's SSL_CTX hook, for each new connection: the shared store replaces its own. */
static CURLcode use_trust(CURL *curl, void *sslctx, void *userp)
{
	const struct cma_client *c = userp;
	X509_STORE *store = trust_get(curl, c->ca_file);

	if (!store || !X509_STORE_up_ref(store))
		return CURLE_SSL_CACERT_BADFILE;
	SSL_CTX_set_cert_store(sslctx, store); /* takes the reference */
	return CURLE_OK;
}

void cma_client_init(struct cma_client *c, const char *host, const char *ca_file, int timeout)
{
	memset(c, 0, sizeof(*c));
	c->host = host ? xstrdup(host) : NULL;
	c->ca_file = ca_file ? xstrdup(ca_file) : NULL;
	c->timeout = timeout;
}

void cma_client_release(struct cma_client *c)
{
	cst_http_handle_free(c->curl);
	free(c->host);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}

/* The first request pays for libcurl and TLS; a stored hit never gets here. */
static int client_open(struct cma_client *c, struct cst_error *e)
{
	FILE *fp;

	if (c->curl)
		return 0;
	if (!c->host || !*c->host)
		return cst_error_set(e, CST_ERR_CONFIG,
				     "no Contentstack host: set region or host in the profile");
	/* host[:port] only: nothing that could turn the URL into another one */
	if (c->host[strspn(c->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789.-:[]")])
		return cst_error_set(e, CST_ERR_CONFIG,
				     "host '%s' is not a host name with an optional port; fix host "
				     "in the profile",
				     c->host);
	if (c->ca_file) {
		fp = fopen(c->ca_file, "re");
		if (!fp)
			return cst_error_errno(
			    e, CST_ERR_CONFIG,
			    "cannot read ca_file '%s' (fix ca_file in the profile)", c->ca_file);
		fclose(fp);
	}
	return cst_http_handle(&c->curl, e);
}

/* The value of header "name: value" in a raw header line, trimmed; NULL if another. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *vlen)
{
	size_t nl = strlen(name), end;
	const char *v;

	if (n <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return NULL;
	v = line + nl + 1;
	end = n - nl - 1;
	while (end && (*v == ' ' || *v == '\t')) {
		v++;
		end--;
	}
	while (end && (v[end - 1] == '\r' || v[end - 1] == '\n' || v[end - 1] == ' '))
		end--;
	*vlen = end;
	return v;
}

/* Retry-After: delay-seconds or an HTTP-date. -1 when unusable. */
static int64_t parse_retry_after(const char *v, size_t n)
{
	char buf[64];
	int64_t secs;
	time_t when;

	if (!n || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (!parse_int64(buf, 0, 86400, &secs))
		return secs * 1000;
	when = curl_getdate(buf, NULL);
	if (when == -1)
		return -1;
	when -= time(NULL);
	return when > 0 ? (int64_t)when * 1000 : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct cma_response *rs = userp;
	size_t n = size * nmemb, vlen;
	const char *v;

	if (n >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (after 100 Continue): forget the previous one's headers */
		rs->retry_after_ms = -1;
		free(rs->location);
		rs->location = NULL;
	} else if ((v = header_value(data, n, "retry-after", &vlen))) {
		rs->retry_after_ms = parse_retry_after(v, vlen);
	} else if ((v = header_value(data, n, "location", &vlen))) {
		free(rs->location);
		rs->location = xstrndup(v, vlen < CMA_MAX_LOCATION ? vlen : CMA_MAX_LOCATION);
	}
	return n;
}

static void response_reset(struct cma_response *rs)
{
	rs->status = 0;
	strbuf_reset(&rs->body.buf);
	rs->body.too_large = false;
	rs->retry_after_ms = -1;
	free(rs->location);
	rs->location = NULL;
	rs->errbuf[0] = '\0';
}

static void response_release(struct cma_response *rs)
{
	response_reset(rs);
	strbuf_release(&rs->body.buf);
}

/* Calls that name the organisation of an OAuth session: token management, the developer hub. */
static bool wants_organization(const struct cma_request *rq)
{
	return !strncmp(rq->path, "/v3/stacks/management_tokens", 28) ||
	       !strncmp(rq->path, "/manifests/", 11);
}

/*
 * The session's own header, the one place it is chosen: "authtoken: T" for a password
 * session, "authorization: Bearer ACCESS" (and "organization_uid: ORG" where the call
 * wants it) for an OAuth session, whose credential is CMA_BEARER "ACCESS ORG".
 */
static int session_headers(struct curl_slist **l, const struct cma_request *rq)
{
	struct strbuf sb = STRBUF_INIT;
	const char *cred = rq->authtoken, *org;
	int ret;

	if (strncmp(cred, CMA_BEARER, strlen(CMA_BEARER)))
		return cst_http_header_add(l, "authtoken", cred);
	org = strchr(cred + strlen(CMA_BEARER), ' ');
	strbuf_add(&sb, cred, org ? (size_t)(org - cred) : strlen(cred));
	ret = cst_http_header_add(l, "authorization", sb.buf);
	strbuf_release(&sb);
	if (!ret && org && wants_organization(rq))
		ret = cst_http_header_add(l, "organization_uid", org + 1);
	return ret;
}

static int build_headers(const struct cma_request *rq, struct curl_slist **out, struct cst_error *e)
{
	struct curl_slist *l = NULL;
	int ret = CST_ERR_NOMEM;

	*out = NULL;
	if (cst_http_header_add(&l, "Accept", "application/json"))
		goto out;
	/* no 100-continue round trip: the bodies are small */
	l = curl_slist_append(l, "Expect:");
	if (!l)
		goto out;
	if (rq->body &&
	    cst_http_header_add(&l, "Content-Type",
				rq->content_type ? rq->content_type : "application/json"))
		goto out;
	if (rq->api_key && cst_http_header_add(&l, "api_key", rq->api_key))
		goto out;
	if (rq->authtoken && session_headers(&l, rq))
		goto out;
	if (rq->authorization && cst_http_header_add(&l, "authorization", rq->authorization))
		goto out;
	*out = l;
	l = NULL;
	ret = 0;
out:
	cst_http_headers_free(l);
	if (ret)
		cst_error_set(e, ret, "out of memory building a request");
	return ret;
}

/*
 * What one call has waited for so far: on a terminal, a call that stays quiet for more
 * than CMA_QUIET_MS says whom it is waiting for, once, and then before every retry.
 */
struct cma_wait {
	const char *host;
	int64_t start; /* cst_monotonic_ms() when the call began */
	bool tty;      /* stderr is a terminal */
	bool said;
};

static void wait_say(struct cma_wait *w, int attempt, int max, int64_t wait)
{
	char host[CMA_MAX_QUOTE + 8];

	quote_text(host, sizeof(host), w->host);
	if (wait >= 0)
		cst_progress("waiting for %s\u2026 (retry %d of %d in %lld s)", host, attempt, max,
			     (long long)((wait + 999) / 1000));
	else
		cst_progress("waiting for %s\u2026", host);
	w->said = true;
}

/* libcurl's progress callback: about once a second even while nothing arrives. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct cma_wait *w = userp;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (w->tty && !w->said && cst_monotonic_ms() - w->start >= CMA_QUIET_MS)
		wait_say(w, 0, 0, -1);
	return 0;
}

static CURLcode perform(struct cma_client *c, const struct cma_request *rq, const char *url,
			struct curl_slist *headers, struct cma_response *rs, struct cma_wait *w)
{
	CURL *curl = c->curl;
	long timeout = c->timeout > 0 ? c->timeout : CST_DEFAULT_TIMEOUT;
	const struct cst_http_setup setup = {.url = url,
					     .protocols = "https",
					     .user_agent = CMA_USER_AGENT,
					     .timeout_ms = timeout * 1000,
					     .connect_timeout_ms = CMA_MAX_CONNECT_TIMEOUT * 1000L,
					     .body = &rs->body};
	CURLcode cc;

	cst_http_setup(curl, &setup);
	/* trust comes from use_trust alone: libcurl loads no CA file or directory itself */
	curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, use_trust);
	curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, c);
	curl_easy_setopt(curl, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CMA_MAX_RESPONSE);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, rs->errbuf);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	if (rq->body) {
		/* not COPYPOSTFIELDS: that copy could not be wiped */
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->body));
	}
	/*
	 * libcurl silently re-sends a request whose reused connection died unanswered:
	 * a request that must not run twice gets a connection of its own.
	 */
	if (rq->unsafe)
		curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
	if (strcmp(rq->method, rq->body ? "POST" : "GET"))
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &rs->status);
	/* the error buffer and the caller's strings must not outlive this call */
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	return cc;
}

static enum transport transport_kind(CURLcode cc, const struct cma_response *rs)
{
	switch (cc) {
	case CURLE_OK:
		return T_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return T_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		return T_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return T_RESET;
	case CURLE_SSL_CACERT_BADFILE:
		return T_CA_FILE;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return T_TLS;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return rs->body.too_large || cc == CURLE_FILESIZE_EXCEEDED ? T_TOO_LARGE : T_OTHER;
	default:
		return T_OTHER;
	}
}

static bool server_trouble(long status)
{
	return status == 500 || status == 502 || status == 503 || status == 504;
}

/* Milliseconds to wait before the next attempt, or -1 when this outcome is final. */
static int64_t retry_wait(const struct cma_request *rq, const struct cma_response *rs, CURLcode cc,
			  int attempt)
{
	enum transport t = transport_kind(cc, rs);
	int64_t base = (int64_t)CMA_BACKOFF_MS << (attempt - 1 < 6 ? attempt - 1 : 6);
	bool again;

	if (t == T_OK && rs->status == 429 && rs->retry_after_ms >= 0)
		return rs->retry_after_ms < CMA_MAX_RETRY_AFTER_MS ? rs->retry_after_ms
								   : CMA_MAX_RETRY_AFTER_MS;
	if (t == T_OK)
		again = rs->status == 429 || (!rq->unsafe && server_trouble(rs->status));
	else
		again = t == T_CONNECT || (!rq->unsafe && (t == T_TIMEOUT || t == T_RESET));
	if (!again)
		return -1;
	/* exponential backoff with jitter: [base/2, base) */
	return base / 2 + random_below(base / 2);
}

static void debug_attempt(const struct cma_request *rq, const struct cma_response *rs, CURLcode cc,
			  int attempt, int max, int64_t wait)
{
	char what[64];

	if (cst_verbose <= 0)
		return;
	if (cc == CURLE_OK)
		snprintf(what, sizeof(what), "HTTP %ld", rs->status);
	else
		snprintf(what, sizeof(what), "%s", curl_easy_strerror(cc));
	if (wait >= 0)
		cst_debug("%s %s: %s (attempt %d of %d); retrying in %.1f s", rq->method, rq->path,
			  what, attempt, max, (double)wait / 1000.0);
	else
		cst_debug("%s %s: %s (attempt %d of %d)", rq->method, rq->path, what, attempt, max);
}

static const char *maybe_created(const struct cma_request *rq)
{
	return rq->unsafe ? "; the token may have been created anyway: check "
			    "'cstoken list --remote' before trying again"
			  : "";
}

static int transport_error(const struct cma_client *c, const struct cma_request *rq,
			   const struct cma_response *rs, CURLcode cc, int attempts,
			   struct cst_error *e)
{
	char why[CMA_MAX_QUOTE + 8], tries[64] = "";
	long timeout = c->timeout > 0 ? c->timeout : CST_DEFAULT_TIMEOUT;

	quote_text(why, sizeof(why), rs->errbuf[0] ? rs->errbuf : curl_easy_strerror(cc));
	if (attempts > 1)
		snprintf(tries, sizeof(tries), " (%d attempts in %.1f s)", attempts,
			 (double)c->spent_ms / 1000.0);
	switch (transport_kind(cc, rs)) {
	case T_TIMEOUT:
		return cst_error_set(e, CST_ERR_TIMEOUT,
				     "'%s' did not answer %s %s in %.1f s (%d attempt%s of at most "
				     "%ld s)%s; try again later or raise timeout in the config",
				     c->host, rq->method, rq->path, (double)c->spent_ms / 1000.0,
				     attempts, attempts > 1 ? "s" : "", timeout, maybe_created(rq));
	case T_CONNECT:
		return cst_error_set(e, CST_ERR_NETWORK,
				     "cannot connect to '%s'%s: %s; check the network and the "
				     "profile's host or region",
				     c->host, tries, why);
	case T_RESET:
		return cst_error_set(e, CST_ERR_NETWORK,
				     "connection to '%s' failed during %s %s%s: %s%s; check the "
				     "network and try again",
				     c->host, rq->method, rq->path, tries, why, maybe_created(rq));
	case T_TLS:
		return cst_error_set(e, CST_ERR_TLS,
				     "cannot verify the TLS certificate of '%s' (%s); set ca_file "
				     "in the profile if a proxy or test server signs it",
				     c->host, why);
	case T_CA_FILE:
		return cst_error_set(e, CST_ERR_TLS,
				     "cannot load trusted certificates for '%s' (ca_file '%s'): "
				     "%s; fix ca_file in the profile",
				     c->host, c->ca_file ? c->ca_file : "none", why);
	case T_TOO_LARGE:
		return cst_error_set(e, CST_ERR_TOO_LARGE,
				     "'%s' sent more than %d MiB for %s %s; check the profile's "
				     "host",
				     c->host, CMA_MAX_RESPONSE / (1024 * 1024), rq->method,
				     rq->path);
	case T_OK:
	case T_OTHER:
		break;
	}
	return cst_error_set(e, CST_ERR_NETWORK, "request %s %s to '%s' failed%s: %s", rq->method,
			     rq->path, c->host, tries, why);
}

static int redirect_error(struct cma_client *c, const struct cma_request *rq,
			  const struct cma_response *rs, struct cst_error *e)
{
	char where[CMA_MAX_QUOTE + 8] = "an unnamed place";
	char *target = NULL, *host = NULL;
	CURLU *u;

	curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &target);
	u = curl_url();
	if (u && (target || rs->location) &&
	    !curl_url_set(u, CURLUPART_URL, target ? target : rs->location,
			  CURLU_NON_SUPPORT_SCHEME) &&
	    !curl_url_get(u, CURLUPART_HOST, &host, 0))
		quote_text(where, sizeof(where), host);
	else if (rs->location)
		quote_text(where, sizeof(where), rs->location);
	curl_free(host);
	curl_url_cleanup(u);
	return cst_error_set(e, CST_ERR_HTTP,
			     "'%s' redirected %s %s to '%s' (HTTP %ld); cstoken never follows "
			     "redirects, so no credentials went there: check host and region in "
			     "the profile",
			     c->host, rq->method, rq->path, where, rs->status);
}

/* ": server message (field: detail)" from a Contentstack error body, or "". */
static void error_detail(const cJSON *j, char *out, size_t outsz)
{
	char msg[CMA_MAX_QUOTE + 8] = "", key[64] = "", val[CMA_MAX_QUOTE + 8] = "";
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j, "errors"), *first, *item;
	size_t n;

	quote_text(msg, sizeof(msg), json_str(j, "error_message"));
	/* the message goes mid-sentence: no full stop of its own */
	for (n = strlen(msg); n && (msg[n - 1] == '.' || msg[n - 1] == ' '); n--)
		msg[n - 1] = '\0';
	first = cJSON_IsObject(errors) ? errors->child : NULL;
	item = cJSON_IsArray(first) ? first->child : first;
	if (first && first->string && cJSON_IsString(item)) {
		quote_text(key, sizeof(key), first->string);
		quote_text(val, sizeof(val), item->valuestring);
	}
	if (msg[0] && key[0])
		snprintf(out, outsz, ": %s (%s: %s)", msg, key, val);
	else if (msg[0])
		snprintf(out, outsz, ": %s", msg);
	else if (key[0])
		snprintf(out, outsz, ": %s: %s", key, val);
	else
		out[0] = '\0';
}

/* A request about one token: .../management_tokens/UID. */
static bool names_token(const struct cma_request *rq)
{
	static const char prefix[] = "/v3/stacks/management_tokens/";

	return rq->path && !strncmp(rq->path, prefix, sizeof(prefix) - 1) &&
	       rq->path[sizeof(prefix) - 1];
}

/*
 * The documented ways of saying that a token is not there (deleted, evicted, never
 * existed): error 141, or for a request naming a token HTTP 404 or a 422 whose message
 * says it was not found or does not exist. The one rule for "already gone".
 */
static bool token_not_found(const struct cma_request *rq, long status, long code, const char *msg)
{
	if (code == 141 || (status == 404 && names_token(rq)))
		return true;
	return status == 422 && names_token(rq) && msg &&
	       (strcasestr(msg, "not found") || strcasestr(msg, "does not exist"));
}

/* The error body's error_code, -1 when absent or not a sane number. */
static long error_code_of(const cJSON *j)
{
	const cJSON *code_item = cJSON_GetObjectItemCaseSensitive(j, "error_code");

	/* a double out of long's range (or NaN) must not be converted: that is undefined */
	return cJSON_IsNumber(code_item) && code_item->valuedouble >= -1e9 &&
		       code_item->valuedouble <= 1e9
		   ? (long)code_item->valuedouble
		   : -1;
}

static int api_error(const struct cma_client *c, const struct cma_request *rq, long status,
		     const char *body, size_t len, int attempts, struct cst_error *e)
{
	cJSON *j = len ? cJSON_ParseWithLength(body, len) : NULL;
	long code = error_code_of(j);
	char detail[2 * CMA_MAX_QUOTE + 96], tries[64] = "";
	bool gone = token_not_found(rq, status, code, json_str(j, "error_message"));
	int ret;

	error_detail(j, detail, sizeof(detail));
	cJSON_Delete(j);
	if (attempts > 1)
		snprintf(tries, sizeof(tries), " after %d attempts in %.1f s", attempts,
			 (double)c->spent_ms / 1000.0);

	if (code == 294)
		ret = cst_error_set(e, CST_ERR_TFA_REQUIRED,
				    "'%s' wants a two-factor code for this account%s; give "
				    "--tfa-token, set CONTENTSTACK_MFA_SECRET or use --sms",
				    c->host, detail);
	else if (code == 109)
		ret = cst_error_set(e, CST_ERR_API,
				    "stack '%s' not found on %s: check api_key and region",
				    rq->api_key ? rq->api_key : "", c->host);
	else if (code == 900)
		ret = cst_error_set(e, CST_ERR_API,
				    "unknown branch or alias on '%s'%s; check branches or aliases "
				    "in the profile",
				    c->host, detail);
	else if (status == 429)
		ret = cst_error_set(e, CST_ERR_RATE_LIMITED,
				    "'%s' is rate limiting requests (HTTP 429%s)%s; try again in a "
				    "minute",
				    c->host, tries, detail);
	else if (gone)
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "'%s' has no such token%s", c->host,
				    detail);
	else if (code == 105 || code == 104 || status == 401) {
		if (rq->cred == CRED_PASSWORD)
			ret = cst_error_set(e, CST_ERR_AUTH,
					    "'%s' refused the login%s; check the e-mail, password "
					    "and two-factor code",
					    c->host, detail);
		else if (rq->cred == CRED_AUTHTOKEN && rq->authtoken &&
			 !strncmp(rq->authtoken, CMA_BEARER, strlen(CMA_BEARER)))
			ret = cst_error_set(e, CST_ERR_AUTH,
					    "'%s' refused the OAuth session%s; run 'cstoken login "
					    "--oauth'",
					    c->host, detail);
		else if (rq->cred == CRED_AUTHTOKEN)
			ret = cst_error_set(e, CST_ERR_AUTH,
					    "'%s' refused the session's authtoken%s; run 'cstoken "
					    "login'",
					    c->host, detail);
		else
			ret = cst_error_set(e, CST_ERR_AUTH,
					    "'%s' refused the management token%s; run 'cstoken "
					    "rotate' or 'cstoken revoke'",
					    c->host, detail);
	} else if (status == 403)
		ret = cst_error_set(e, CST_ERR_FORBIDDEN,
				    "'%s' refused %s %s (HTTP 403)%s; only a stack owner or admin "
				    "can manage tokens",
				    c->host, rq->method, rq->path, detail);
	else if (status == 404)
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "'%s' has no %s (HTTP 404)%s", c->host,
				    rq->path, detail);
	else if (status >= 500)
		ret = cst_error_set(e, CST_ERR_HTTP, "'%s' answered HTTP %ld to %s %s%s%s%s%s",
				    c->host, status, rq->method, rq->path, tries, detail,
				    maybe_created(rq),
				    rq->unsafe ? "" : "; the service has trouble, try again later");
	else if (status >= 400)
		ret =
		    cst_error_set(e, CST_ERR_API,
				  "'%s' rejected %s %s (HTTP %ld, error %ld)%s; check the profile",
				  c->host, rq->method, rq->path, status, code, detail);
	else
		ret = cst_error_set(e, CST_ERR_HTTP, "'%s' answered HTTP %ld to %s %s%s", c->host,
				    status, rq->method, rq->path, detail);
	return ret;
}

bool cma_session_valid(const char *cred)
{
	size_t n = strlen(CMA_BEARER);
	const char *sp;
	char *access;
	bool ok;

	if (!cred || strncmp(cred, CMA_BEARER, n))
		return cst_plain_token(cred);
	sp = strchr(cred + n, ' ');
	if (!sp || !cst_plain_uid(sp + 1))
		return false;
	access = xstrndup(cred + n, (size_t)(sp - (cred + n)));
	ok = cst_plain_token(access);
	free_secret(access);
	return ok;
}

/*
 * The values rq puts into headers and the path, checked before anything is sent: a
 * stored or server-sent value with a CR or LF would become a header of its own.
 */
static int check_request(const struct cma_client *c, const struct cma_request *rq,
			 struct cst_error *e)
{
	if (rq->api_key && !cst_plain_uid(rq->api_key))
		return cst_error_set(e, CST_ERR_CONFIG,
				     "the stack api_key for '%s' is malformed, so cstoken sent "
				     "nothing; fix api_key in the profile",
				     c->host);
	if (rq->authtoken && !cma_session_valid(rq->authtoken))
		return cst_error_set(e, CST_ERR_AUTH,
				     "the stored %s for '%s' is malformed, so cstoken sent "
				     "nothing; run 'cstoken login' again",
				     strncmp(rq->authtoken, CMA_BEARER, strlen(CMA_BEARER))
					 ? "authtoken"
					 : "OAuth session",
				     c->host);
	/* a management token, or "Bearer " and an OAuth access token */
	if (rq->authorization && !strncmp(rq->authorization, "Bearer ", 7) &&
	    !cst_plain_token(rq->authorization + 7))
		return cst_error_set(e, CST_ERR_AUTH,
				     "the stored OAuth access token for '%s' is malformed, so "
				     "cstoken sent nothing; run 'cstoken login' again",
				     c->host);
	if (rq->authorization && strncmp(rq->authorization, "Bearer ", 7) &&
	    !cst_plain_token(rq->authorization))
		return cst_error_set(e, CST_ERR_AUTH,
				     "the stored management token for '%s' is malformed, so "
				     "cstoken sent nothing; run 'cstoken rotate'",
				     c->host);
	return 0;
}

/*
 * Sends rq with the retry policy. When an answer came (not a redirect) its status, body
 * (caller wipes it with strbuf_release) and the attempts it took are handed back for one
 * of the cma_parse_* functions to judge; a transport failure or redirect is an error.
 */
int cma_exchange(struct cma_client *c, const struct cma_request *rq, long *status,
		 struct strbuf *body, int *attempts, struct cst_error *e)
{
	struct cma_response rs = {.body = {.max = CMA_MAX_RESPONSE}};
	struct cma_wait w = {
	    .host = c->host, .start = cst_monotonic_ms(), .tty = isatty(STDERR_FILENO)};
	struct curl_slist *headers = NULL;
	char *url = NULL;
	int64_t waited = 0, wait;
	int ret, attempt, max;
	CURLcode cc;

	c->spent_ms = 0;
	*status = 0;
	*attempts = 0;
	strbuf_init(body);
	strbuf_init(&rs.body.buf);
	ret = check_request(c, rq, e);
	if (ret)
		goto out;
	ret = client_open(c, e);
	if (ret)
		goto out;
	ret = build_headers(rq, &headers, e);
	if (ret)
		goto out;
	url = xasprintf("https://%s%s", c->host, rq->path);
	max = c->max_attempts > 0 ? c->max_attempts : CMA_MAX_ATTEMPTS;
	for (attempt = 1;; attempt++) {
		response_reset(&rs);
		cc = perform(c, rq, url, headers, &rs, &w);
		wait = retry_wait(rq, &rs, cc, attempt);
		if (attempt >= max || waited + wait > CMA_MAX_TOTAL_WAIT_MS)
			wait = -1;
		debug_attempt(rq, &rs, cc, attempt, max, wait);
		if (wait < 0)
			break;
		if (w.tty && cst_monotonic_ms() + wait - w.start >= CMA_QUIET_MS)
			wait_say(&w, attempt + 1, max, wait);
		sleep_ms(wait);
		waited += wait;
	}
	c->spent_ms = cst_monotonic_ms() - w.start;
	if (cc != CURLE_OK) {
		ret = transport_error(c, rq, &rs, cc, attempt, e);
		goto out;
	}
	if (rs.status >= 300 && rs.status < 400) {
		ret = redirect_error(c, rq, &rs, e);
		goto out;
	}
	*status = rs.status;
	*attempts = attempt;
	*body = rs.body.buf;
	strbuf_init(&rs.body.buf);
	ret = 0;
out:
	cst_http_headers_free(headers);
	free(url);
	response_release(&rs);
	return ret;
}

/*
 * A 2xx answer's body as a JSON object in *json (an empty object for an empty body;
 * caller frees with cJSON_Delete); any other status is the error it means for rq.
 */
static int parse_answer(const struct cma_client *c, const struct cma_request *rq, long status,
			const char *body, size_t len, int attempts, cJSON **json,
			struct cst_error *e)
{
	*json = NULL;
	if (status < 200 || status >= 300)
		return api_error(c, rq, status, body, len, attempts, e);
	*json = len ? cJSON_ParseWithLength(body, len) : jcheck(cJSON_CreateObject());
	if (!cJSON_IsObject(*json)) {
		char start[48] = "";
		/* JSON may start with white space: so may a truncated token */
		bool json_like = body[strspn(body, " \t\r\n")] == '{';

		cJSON_Delete(*json);
		*json = NULL;
		/* quote a stray page (a proxy's HTML), never broken JSON: it may hold a secret */
		if (!json_like)
			quote_text(start, sizeof(start), body);
		return cst_error_set(e, CST_ERR_HTTP,
				     "'%s' answered %s %s with %s (HTTP %ld%s%s%s); check host and "
				     "region in the profile",
				     c->host, rq->method, rq->path,
				     json_like ? "truncated or malformed JSON"
					       : "something that is not JSON",
				     status, start[0] ? ": '" : "", start, start[0] ? "'" : "");
	}
	return 0;
}

const char *cma_json_str(const cJSON *obj, const char *key)
{
	return json_str(obj, key);
}

void cma_quote(char *out, size_t outsz, const char *in)
{
	quote_text(out, outsz, in);
}

char *cma_escape(const char *s)
{
	return path_escape(s);
}

/* cma_exchange, then cma_parse_reply: for the calls whose answer carries nothing to keep. */
static int cma_call(struct cma_client *c, const struct cma_request *rq, struct cst_error *e)
{
	struct strbuf body = STRBUF_INIT;
	long status;
	int attempts, ret;

	ret = cma_exchange(c, rq, &status, &body, &attempts, e);
	if (!ret)
		ret = cma_parse_reply(c, rq, status, body.buf, body.len, attempts, e);
	strbuf_release(&body);
	return ret;
}

int cma_parse_reply(const struct cma_client *c, const struct cma_request *rq, long status,
		    const char *body, size_t len, int attempts, struct cst_error *e)
{
	cJSON *resp = NULL;
	int ret;

	ret = parse_answer(c, rq, status, body, len, attempts, &resp, e);
	cJSON_Delete(resp);
	return ret;
}

/* {"user":{"email","password","tfa_token"?}}; NULL when it cannot be encoded. */
static char *login_body(const char *email, const char *password, const char *tfa)
{
	cJSON *req = jcheck(cJSON_CreateObject()), *user;
	char *body;

	user = jcheck(cJSON_AddObjectToObject(req, "user"));
	jcheck(cJSON_AddStringToObject(user, "email", email));
	jcheck(cJSON_AddStringToObject(user, "password", password));
	if (tfa)
		jcheck(cJSON_AddStringToObject(user, "tfa_token", tfa));
	body = json_print_secret(req, strlen(email) + strlen(password) + (tfa ? strlen(tfa) : 0));
	cJSON_Delete(req);
	return body;
}

int cma_login(struct cma_client *c, const char *email, const char *password, const char *tfa,
	      char **authtoken, struct cst_error *e)
{
	struct cma_request rq = {
	    .method = "POST", .path = "/v3/user-session", .cred = CRED_PASSWORD};
	struct strbuf answer = STRBUF_INIT;
	char *body = NULL;
	int ret = CST_ERR_NOMEM, attempts;
	long status;

	*authtoken = NULL;
	body = login_body(email, password, tfa);
	if (!body) {
		ret = cst_error_set(e, CST_ERR_NOMEM, "cannot encode the login request");
		goto out;
	}
	rq.body = body;
	ret = cma_exchange(c, &rq, &status, &answer, &attempts, e);
	if (!ret)
		ret =
		    cma_parse_login(c, &rq, status, answer.buf, answer.len, attempts, authtoken, e);
out:
	free_secret(body);
	strbuf_release(&answer);
	return ret;
}

int cma_request_sms(struct cma_client *c, const char *email, const char *password,
		    struct cst_error *e)
{
	/* a repeat would send a second SMS */
	struct cma_request rq = {.method = "POST",
				 .path = "/v3/user/request_token_sms",
				 .cred = CRED_PASSWORD,
				 .unsafe = true};
	char *body = login_body(email, password, NULL);
	int ret;

	if (!body)
		return cst_error_set(e, CST_ERR_NOMEM, "cannot encode the SMS request");
	rq.body = body;
	ret = cma_call(c, &rq, e);
	free_secret(body);
	return ret;
}

int cma_parse_login(const struct cma_client *c, const struct cma_request *rq, long status,
		    const char *body, size_t len, int attempts, char **authtoken,
		    struct cst_error *e)
{
	cJSON *resp = NULL;
	const char *tok;
	int ret;

	*authtoken = NULL;
	ret = parse_answer(c, rq, status, body, len, attempts, &resp, e);
	if (ret)
		goto out;
	tok = json_str(cJSON_GetObjectItemCaseSensitive(resp, "user"), "authtoken");
	if (!tok || !*tok) {
		ret = cst_error_set(e, CST_ERR_API,
				    "'%s' accepted the login but sent no authtoken; SSO accounts "
				    "get none: log in as the stack owner or an SSO-bypass user",
				    c->host);
		goto out;
	}
	/* it goes into a header of every later request: one plain word or nothing */
	if (!cst_plain_token(tok)) {
		ret = cst_error_set(e, CST_ERR_HTTP,
				    "'%s' accepted the login but sent a malformed authtoken, so "
				    "nothing was stored; check host and region in the profile",
				    c->host);
		goto out;
	}
	*authtoken = xstrdup(tok);
	ret = 0;
out:
	cJSON_Delete(resp);
	return ret;
}

int cma_check_authtoken(struct cma_client *c, const char *authtoken, struct cst_error *e)
{
	struct cma_request rq = {
	    .method = "GET", .path = "/v3/user", .authtoken = authtoken, .cred = CRED_AUTHTOKEN};
	return cma_call(c, &rq, e);
}

/* Contentstack's error 109: the api_key (arg) names no stack this session may see. */
static int no_such_stack(const struct cma_client *c, long status, const cJSON *answer,
			 const void *arg, struct cst_error *e)
{
	(void)status;
	if (error_code_of(answer) != 109)
		return 0;
	return cst_error_set(e, CST_ERR_NOT_FOUND,
			     "'%s' knows no stack with api_key '%s' that this session may see",
			     c->host, (const char *)arg);
}

int cma_stack_check(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cst_error *e)
{
	struct cma_request rq = {.method = "GET",
				 .path = "/v3/stacks",
				 .api_key = api_key,
				 .authtoken = authtoken,
				 .cred = CRED_AUTHTOKEN};
	cJSON *j = NULL;
	int ret;

	ret = cma_get_json_refused(c, &rq, no_such_stack, api_key, &j, e);
	cJSON_Delete(j);
	return ret;
}

int cma_logout(struct cma_client *c, const char *authtoken, struct cst_error *e)
{
	struct cma_request rq = {.method = "DELETE",
				 .path = "/v3/user-session",
				 .authtoken = authtoken,
				 .cred = CRED_AUTHTOKEN};
	return cma_call(c, &rq, e);
}

void cma_token_release(struct cma_token *t)
{
	if (!t)
		return;
	free(t->uid);
	free(t->name);
	free(t->description);
	free(t->expires_on);
	free(t->created_at);
	free(t->scope);
	free_secret(t->secret);
	memset(t, 0, sizeof(*t));
}

void cma_token_array_free(struct cma_token *t, size_t n)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < n; i++)
		cma_token_release(&t[i]);
	free(t);
}

/* "YYYY-MM-DD..." to 00:00 UTC of that day: an expired token is never handed out. */
static int parse_expiry(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char *end;

	*out = 0;
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || (*end && *end != 'T' && *end != ' '))
		return CST_ERR_INVALID;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static void set_opt_str(char **dst, const cJSON *obj, const char *key)
{
	const char *v = json_str(obj, key);

	*dst = v ? xstrdup(v) : NULL;
}

static void add_names(struct strbuf *sb, const char *key, const cJSON *arr)
{
	const cJSON *v;
	bool first = true;

	if (!cJSON_IsArray(arr))
		return;
	strbuf_addf(sb, "%s%s=", sb->len ? " " : "", key);
	cJSON_ArrayForEach(v, arr)
	{
		if (!cJSON_IsString(v))
			continue;
		strbuf_addf(sb, "%s%s", first ? "" : ",", v->valuestring);
		first = false;
	}
}

/* What a token's scope array grants, in one line for `cstoken list --remote`. */
static char *scope_summary(const cJSON *scope)
{
	struct strbuf sb = STRBUF_INIT;
	const cJSON *s, *acl;
	const char *module;
	size_t others = 0;

	if (!cJSON_IsArray(scope))
		return NULL;
	cJSON_ArrayForEach(s, scope)
	{
		module = json_str(s, "module");
		acl = cJSON_GetObjectItemCaseSensitive(s, "acl");
		if (module && !strcmp(module, "$all"))
			strbuf_addf(&sb, "%s%s", sb.len ? " " : "",
				    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acl, "write"))
					? "read,write"
					: "read");
		else if (module && !strcmp(module, "branch"))
			add_names(&sb, "branches", cJSON_GetObjectItemCaseSensitive(s, "branches"));
		else if (module && !strcmp(module, "branch_alias"))
			add_names(&sb, "aliases",
				  cJSON_GetObjectItemCaseSensitive(s, "branch_aliases"));
		else
			others++;
	}
	if (others)
		strbuf_addf(&sb, "%s+%zu module%s", sb.len ? " " : "", others,
			    others == 1 ? "" : "s");
	return strbuf_detach(&sb, NULL);
}

static int token_from_json(const struct cma_client *c, const cJSON *j, struct cma_token *t,
			   bool with_secret, struct cst_error *e)
{
	const char *uid = json_str(j, "uid"), *secret = json_str(j, "token");

	memset(t, 0, sizeof(*t));
	if (!uid || !*uid || (with_secret && (!secret || !*secret)))
		return cst_error_set(e, CST_ERR_HTTP,
				     "'%s' sent a management token without %s; check the profile's "
				     "host",
				     c->host, uid && *uid ? "its value" : "a uid");
	t->uid = xstrdup(uid);
	set_opt_str(&t->name, j, "name");
	set_opt_str(&t->description, j, "description");
	set_opt_str(&t->expires_on, j, "expires_on");
	set_opt_str(&t->created_at, j, "created_at");
	t->scope = scope_summary(cJSON_GetObjectItemCaseSensitive(j, "scope"));
	if (t->expires_on && parse_expiry(t->expires_on, &t->expiry)) {
		char q[CMA_MAX_QUOTE + 8], u[CMA_MAX_QUOTE + 8];

		/* both are the server's text: no control characters into a terminal */
		quote_text(q, sizeof(q), t->expires_on);
		quote_text(u, sizeof(u), uid);
		cma_token_release(t);
		return cst_error_set(e, CST_ERR_HTTP,
				     "'%s' sent an unreadable expires_on '%s' for token '%s'",
				     c->host, q, u);
	}
	if (with_secret)
		t->secret = xstrdup(secret);
	return 0;
}

int cma_tokens_list(struct cma_client *c, const char *api_key, const char *authtoken,
		    struct cma_token **tokens, size_t *n, struct cst_error *e)
{
	struct cma_request rq = {.method = "GET",
				 .path = "/v3/stacks/management_tokens",
				 .api_key = api_key,
				 .authtoken = authtoken,
				 .cred = CRED_AUTHTOKEN};
	struct strbuf answer = STRBUF_INIT;
	long status;
	int attempts, ret;

	*tokens = NULL;
	*n = 0;
	ret = cma_exchange(c, &rq, &status, &answer, &attempts, e);
	if (!ret)
		ret = cma_parse_tokens_list(c, &rq, status, answer.buf, answer.len, attempts,
					    tokens, n, e);
	strbuf_release(&answer);
	return ret;
}

int cma_parse_tokens_list(const struct cma_client *c, const struct cma_request *rq, long status,
			  const char *body, size_t len, int attempts, struct cma_token **tokens,
			  size_t *n, struct cst_error *e)
{
	struct cma_token *list = NULL;
	const cJSON *arr, *it;
	cJSON *resp = NULL;
	size_t count = 0, i = 0;
	int ret;

	*tokens = NULL;
	*n = 0;
	ret = parse_answer(c, rq, status, body, len, attempts, &resp, e);
	if (ret)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(resp, "tokens");
	if (!cJSON_IsArray(arr)) {
		ret = cst_error_set(e, CST_ERR_HTTP,
				    "'%s' listed management tokens without a 'tokens' array; check "
				    "the profile's host",
				    c->host);
		goto out;
	}
	count = (size_t)cJSON_GetArraySize(arr);
	list = xcalloc(count ? count : 1, sizeof(*list));
	cJSON_ArrayForEach(it, arr)
	{
		ret = token_from_json(c, it, &list[i], false, e);
		if (ret)
			goto out;
		i++;
	}
	*tokens = list;
	*n = i;
	list = NULL;
	ret = 0;
out:
	cma_token_array_free(list, i);
	cJSON_Delete(resp);
	return ret;
}

static void add_string_array(cJSON *obj, const char *key, const char *const *v, size_t n)
{
	cJSON *arr = jcheck(cJSON_AddArrayToObject(obj, key));
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, jcheck(cJSON_CreateString(v[i])));
}

static cJSON *token_body(const struct cma_token_spec *spec)
{
	cJSON *root = jcheck(cJSON_CreateObject());
	cJSON *tok = jcheck(cJSON_AddObjectToObject(root, "token"));
	cJSON *scope, *all, *acl, *branch;

	jcheck(cJSON_AddStringToObject(tok, "name", spec->name));
	jcheck(cJSON_AddStringToObject(tok, "description",
				       spec->description ? spec->description : ""));
	scope = jcheck(cJSON_AddArrayToObject(tok, "scope"));
	all = jcheck(cJSON_CreateObject());
	cJSON_AddItemToArray(scope, all);
	jcheck(cJSON_AddStringToObject(all, "module", "$all"));
	acl = jcheck(cJSON_AddObjectToObject(all, "acl"));
	jcheck(cJSON_AddBoolToObject(acl, "read", true));
	jcheck(cJSON_AddBoolToObject(acl, "write", spec->write));
	branch = jcheck(cJSON_CreateObject());
	cJSON_AddItemToArray(scope, branch);
	if (spec->nbranches) {
		jcheck(cJSON_AddStringToObject(branch, "module", "branch"));
		add_string_array(branch, "branches", spec->branches, spec->nbranches);
	} else {
		jcheck(cJSON_AddStringToObject(branch, "module", "branch_alias"));
		add_string_array(branch, "branch_aliases", spec->aliases, spec->naliases);
	}
	acl = jcheck(cJSON_AddObjectToObject(branch, "acl"));
	jcheck(cJSON_AddBoolToObject(acl, "read", true));
	if (spec->expires_on)
		jcheck(cJSON_AddStringToObject(tok, "expires_on", spec->expires_on));
	jcheck(cJSON_AddBoolToObject(tok, "is_email_notification_enabled", spec->notify));
	return root;
}

int cma_token_create(struct cma_client *c, const char *api_key, const char *authtoken,
		     const struct cma_token_spec *spec, struct cma_token *out, struct cst_error *e)
{
	struct cma_request rq = {.method = "POST",
				 .path = "/v3/stacks/management_tokens",
				 .api_key = api_key,
				 .authtoken = authtoken,
				 .cred = CRED_AUTHTOKEN,
				 .unsafe = true};
	struct strbuf answer = STRBUF_INIT;
	cJSON *req = NULL;
	char *body = NULL;
	int ret = CST_ERR_INVALID, attempts;
	long status;

	memset(out, 0, sizeof(*out));
	if (!spec->name || !*spec->name || (!spec->nbranches == !spec->naliases)) {
		ret = cst_error_set(e, CST_ERR_INVALID,
				    "a token needs a name and either branches or aliases");
		goto out;
	}
	req = token_body(spec);
	body = cJSON_PrintUnformatted(req);
	if (!body)
		cst_oom();
	rq.body = body;
	ret = cma_exchange(c, &rq, &status, &answer, &attempts, e);
	if (!ret)
		ret = cma_parse_token_create(c, &rq, status, answer.buf, answer.len, attempts, out,
					     e);
out:
	cJSON_Delete(req);
	free(body);
	strbuf_release(&answer);
	return ret;
}

int cma_parse_token_create(const struct cma_client *c, const struct cma_request *rq, long status,
			   const char *body, size_t len, int attempts, struct cma_token *out,
			   struct cst_error *e)
{
	cJSON *resp = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = parse_answer(c, rq, status, body, len, attempts, &resp, e);
	if (!ret)
		ret = token_from_json(c, cJSON_GetObjectItemCaseSensitive(resp, "token"), out, true,
				      e);
	cJSON_Delete(resp);
	return ret;
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static char *path_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			strbuf_addch(&sb, (char)ch);
		} else {
			strbuf_addch(&sb, '%');
			strbuf_addch(&sb, hex[ch >> 4]);
			strbuf_addch(&sb, hex[ch & 15]);
		}
	}
	return strbuf_detach(&sb, NULL);
}

int cma_token_delete(struct cma_client *c, const char *api_key, const char *authtoken,
		     const char *uid, struct cst_error *e)
{
	struct cma_request rq = {
	    .method = "DELETE", .api_key = api_key, .authtoken = authtoken, .cred = CRED_AUTHTOKEN};
	char *esc = NULL, *path = NULL;
	int ret;

	if (!cst_plain_uid(uid))
		return cst_error_set(e, CST_ERR_INVALID,
				     "no usable token uid to delete: a uid is letters, digits, "
				     "'.', '_' and '-'");
	esc = path_escape(uid);
	path = xasprintf("/v3/stacks/management_tokens/%s", esc);
	rq.path = path;
	ret = cma_call(c, &rq, e);
	free(esc);
	free(path);
	return ret;
}

int cma_check_token(struct cma_client *c, const char *api_key, const char *token,
		    struct cst_error *e)
{
	struct cma_request rq = {.method = "GET",
				 .path = "/v3/environments?limit=1",
				 .api_key = api_key,
				 .authorization = token,
				 .cred = CRED_TOKEN};
	return cma_call(c, &rq, e);
}

int cma_get_json_refused(struct cma_client *c, const struct cma_request *rq,
			 cma_refusal_fn *refused, const void *arg, cJSON **resp,
			 struct cst_error *e)
{
	struct strbuf body = STRBUF_INIT;
	long status;
	int attempts, ret;

	*resp = NULL;
	ret = cma_exchange(c, rq, &status, &body, &attempts, e);
	if (!ret)
		ret = cma_parse_refused(c, rq, status, body.buf, body.len, attempts, refused, arg,
					resp, e);
	strbuf_release(&body);
	return ret;
}

int cma_parse_refused(const struct cma_client *c, const struct cma_request *rq, long status,
		      const char *body, size_t len, int attempts, cma_refusal_fn *refused,
		      const void *arg, cJSON **resp, struct cst_error *e)
{
	cJSON *answer;
	int ret = 0;

	*resp = NULL;
	if (refused && status >= 400) {
		answer = len ? cJSON_ParseWithLength(body, len) : NULL;
		ret = refused(c, status, answer, arg, e);
		cJSON_Delete(answer);
	}
	if (!ret)
		ret = parse_answer(c, rq, status, body, len, attempts, resp, e);
	return ret;
}

int cma_get_json(struct cma_client *c, const struct cma_request *rq, cJSON **resp,
		 struct cst_error *e)
{
	return cma_get_json_refused(c, rq, NULL, NULL, resp, e);
}

/* An array the answer must hold: NULL with e set when it is missing. */
static const cJSON *answer_array(const struct cma_client *c, const cJSON *resp, const char *key,
				 const char *what, struct cst_error *e)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(resp, key);

	if (!cJSON_IsArray(arr)) {
		cst_error_set(e, CST_ERR_HTTP,
			      "'%s' listed %s without a '%s' array; check the profile's host",
			      c->host, what, key);
		return NULL;
	}
	return arr;
}

void cma_stack_array_free(struct cma_stack *s, size_t n)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < n; i++) {
		free(s[i].api_key);
		free(s[i].name);
	}
	free(s);
}

/* Whether the collaborator entry of user uid holds an admin role (include_collaborators). */
static bool stack_admin(const cJSON *stack, const char *uid)
{
	const cJSON *collaborators = cJSON_GetObjectItemCaseSensitive(stack, "collaborators");
	const cJSON *who, *roles, *role;
	const char *name;

	if (!cJSON_IsArray(collaborators))
		return false;
	cJSON_ArrayForEach(who, collaborators)
	{
		if (!str_equal(json_str(who, "uid"), uid))
			continue;
		roles = cJSON_GetObjectItemCaseSensitive(who, "roles");
		if (!cJSON_IsArray(roles))
			continue;
		cJSON_ArrayForEach(role, roles)
		{
			name = json_str(role, "name");
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(role, "admin")) ||
			    (name && !strcasecmp(name, "admin")))
				return true;
		}
	}
	return false;
}

int cma_stacks_list(struct cma_client *c, const char *authtoken, struct cma_stack **stacks,
		    size_t *n, struct cst_error *e)
{
	struct cma_request user = {
	    .method = "GET", .path = "/v3/user", .authtoken = authtoken, .cred = CRED_AUTHTOKEN};
	struct cma_request list = {.method = "GET",
				   .path = "/v3/stacks?include_collaborators=true",
				   .authtoken = authtoken,
				   .cred = CRED_AUTHTOKEN};
	cJSON *me = NULL, *resp = NULL;
	const cJSON *arr, *it;
	struct cma_stack *out = NULL;
	const char *uid, *key;
	size_t count = 0;
	int ret;

	*stacks = NULL;
	*n = 0;
	ret = cma_get_json(c, &user, &me, e);
	if (ret)
		goto out;
	uid = json_str(cJSON_GetObjectItemCaseSensitive(me, "user"), "uid");
	if (!uid || !*uid) {
		ret = cst_error_set(
		    e, CST_ERR_HTTP,
		    "'%s' described the user without a uid; check the profile's host", c->host);
		goto out;
	}
	ret = cma_get_json(c, &list, &resp, e);
	if (ret)
		goto out;
	arr = answer_array(c, resp, "stacks", "stacks", e);
	if (!arr) {
		ret = CST_ERR_HTTP;
		goto out;
	}
	out = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*out));
	cJSON_ArrayForEach(it, arr)
	{
		key = json_str(it, "api_key");
		if (!cst_plain_uid(key))
			continue;
		out[count].api_key = xstrdup(key);
		set_opt_str(&out[count].name, it, "name");
		out[count].owner = str_equal(json_str(it, "owner_uid"), uid);
		out[count].admin = stack_admin(it, uid);
		count++;
	}
	*stacks = out;
	*n = count;
	out = NULL;
	ret = 0;
out:
	cma_stack_array_free(out, count);
	cJSON_Delete(me);
	cJSON_Delete(resp);
	return ret;
}

void cma_branch_array_free(struct cma_branch *b, size_t n)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < n; i++) {
		free(b[i].uid);
		free(b[i].target);
	}
	free(b);
}

static void branch_add(struct cma_branch *out, size_t *count, const char *uid, const char *target)
{
	if (!cst_plain_uid(uid) || (target && !cst_plain_uid(target)))
		return;
	out[*count].uid = xstrdup(uid);
	out[*count].target = target ? xstrdup(target) : NULL;
	(*count)++;
}

int cma_branches_list(struct cma_client *c, const char *api_key, const char *authtoken,
		      bool aliases, struct cma_branch **out, size_t *n, struct cst_error *e)
{
	struct cma_request rq = {.method = "GET",
				 .path =
				     aliases ? "/v3/stacks/branch_aliases" : "/v3/stacks/branches",
				 .api_key = api_key,
				 .authtoken = authtoken,
				 .cred = CRED_AUTHTOKEN};
	const char *key = aliases ? "branch_aliases" : "branches";
	struct cma_branch *list = NULL;
	const cJSON *arr, *it, *alias, *a;
	cJSON *resp = NULL;
	size_t count = 0, room;
	int ret;

	*out = NULL;
	*n = 0;
	ret = cma_get_json(c, &rq, &resp, e);
	if (ret)
		goto out;
	arr = answer_array(c, resp, key, aliases ? "branch aliases" : "branches", e);
	if (!arr) {
		ret = CST_ERR_HTTP;
		goto out;
	}
	room = 1;
	cJSON_ArrayForEach(it, arr)
	{
		alias = cJSON_GetObjectItemCaseSensitive(it, "alias");
		room += cJSON_IsArray(alias) ? (size_t)cJSON_GetArraySize(alias) : 1;
	}
	list = xcalloc(room, sizeof(*list));
	cJSON_ArrayForEach(it, arr)
	{
		if (!aliases) {
			branch_add(list, &count, json_str(it, "uid"), NULL);
			continue;
		}
		/* an alias entry is its target branch ("uid") with the alias name ("alias") */
		alias = cJSON_GetObjectItemCaseSensitive(it, "alias");
		if (cJSON_IsString(alias))
			branch_add(list, &count, alias->valuestring, json_str(it, "uid"));
		else if (cJSON_IsArray(alias))
			cJSON_ArrayForEach(a, alias)
			    branch_add(list, &count, json_str(a, "uid"), json_str(it, "uid"));
	}
	*out = list;
	*n = count;
	list = NULL;
	ret = 0;
out:
	cma_branch_array_free(list, count);
	cJSON_Delete(resp);
	return ret;
}

/*
 * The module's entry (module.h): the trees this client parses hold secrets, and the
 * process-wide hook wipes every block cJSON frees (idempotent, so it holds even where the
 * program has not set it).
 */
static void http_init(const struct cst_module_env *env)
{
	cst_module_adopt(env);
	cst_json_wipe_on_free();
}

const struct cst_http_module cst_http_module = {
    .head = CST_MODULE_HEAD(struct cst_http_module, http_init),
    .client_init = cma_client_init,
    .client_release = cma_client_release,
    .login = cma_login,
    .request_sms = cma_request_sms,
    .check_authtoken = cma_check_authtoken,
    .stack_check = cma_stack_check,
    .logout = cma_logout,
    .token_release = cma_token_release,
    .token_array_free = cma_token_array_free,
    .tokens_list = cma_tokens_list,
    .token_create = cma_token_create,
    .token_delete = cma_token_delete,
    .check_token = cma_check_token,
    .stack_array_free = cma_stack_array_free,
    .stacks_list = cma_stacks_list,
    .branch_array_free = cma_branch_array_free,
    .branches_list = cma_branches_list,
    .totp_code = totp_code,
    .oauth_grant_release = cma_oauth_grant_release,
    .oauth_exchange = cma_oauth_exchange,
    .oauth_refresh = cma_oauth_refresh,
    .oauth_revoke = cma_oauth_revoke,
    .user_email = cma_user_email,
};
