/*
 * What both HTTP clients (cma.c, shared_etcd.c) do alike with libcurl: a handle, a
 * request's common options with TLS always verified, a capped body and wiped headers.
 * Each module that uses it links its own copy.
 */
#ifndef CSTOKEN_HTTP_TRANSPORT_H
#define CSTOKEN_HTTP_TRANSPORT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "cstoken/error.h"
#include "cstoken/util.h"

/* A response body gathered in memory, at most max bytes (buf is wiped by its release). */
struct cst_http_body {
	struct strbuf buf;
	size_t max;
	bool too_large; /* the transfer was ended for going over max */
};

/* libcurl's write callback into a struct cst_http_body: more than max ends the transfer. */
size_t cst_http_on_body(char *data, size_t size, size_t nmemb, void *userp);

/* A new easy handle, libcurl initialised for it; 0 or the error. */
int cst_http_handle(CURL **out, struct cst_error *e);
/* Frees a handle of cst_http_handle (NULL: nothing). */
void cst_http_handle_free(CURL *curl);

/* The options of one request, everything else libcurl's defaults. */
struct cst_http_setup {
	const char *url;
	const char *protocols; /* allowed schemes, libcurl's list: "https" */
	const char *user_agent;
	long timeout_ms;	    /* the whole transfer */
	long connect_timeout_ms;    /* the most the connect may take of timeout_ms */
	const char *ca_file;	    /* added trust, PEM; NULL: the system's */
	const char *cert_file;	    /* client certificate; NULL: none */
	const char *key_file;	    /* its key */
	struct cst_http_body *body; /* where the answer goes */
};

/*
 * Resets curl (its connection and TLS session caches stay) and sets s: no redirects,
 * no signals, the peer's certificate and name verified.
 */
void cst_http_setup(CURL *curl, const struct cst_http_setup *s);

/* Appends "name: value" (value may be a secret: the temporary copy is wiped). */
int cst_http_header_add(struct curl_slist **l, const char *name, const char *value);
/* Wipes and frees a header list. */
void cst_http_headers_free(struct curl_slist *l);

#endif
