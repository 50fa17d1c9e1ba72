/* The libcurl transport both HTTP clients share: handle, verified TLS, capped body, headers. */
#include <string.h>

#include "http_transport.h"

size_t cst_http_on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct cst_http_body *b = userp;
	size_t n = size * nmemb;

	if (n > b->max - b->buf.len) {
		b->too_large = true;
		return 0; /* aborts the transfer */
	}
	strbuf_add(&b->buf, data, n);
	return n;
}

int cst_http_handle(CURL **out, struct cst_error *e)
{
	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return cst_error_set(e, CST_ERR_SYSTEM, "cannot initialise libcurl");
	*out = curl_easy_init();
	if (!*out) {
		curl_global_cleanup();
		return cst_error_set(e, CST_ERR_NOMEM, "cannot create a libcurl handle");
	}
	return 0;
}

void cst_http_handle_free(CURL *curl)
{
	if (!curl)
		return;
	curl_easy_cleanup(curl);
	curl_global_cleanup(); /* libcurl counts its initialisations */
}

void cst_http_setup(CURL *curl, const struct cst_http_setup *s)
{
	long connect =
	    s->connect_timeout_ms < s->timeout_ms ? s->connect_timeout_ms : s->timeout_ms;

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, s->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, s->protocols);
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, s->protocols);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, s->user_agent);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
	if (s->cert_file) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, s->cert_file);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, s->key_file);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cst_http_on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, s->body);
}

int cst_http_header_add(struct curl_slist **l, const char *name, const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	struct curl_slist *n;

	strbuf_addf(&sb, "%s: %s", name, value);
	n = curl_slist_append(*l, sb.buf);
	strbuf_release(&sb);
	if (!n)
		return CST_ERR_NOMEM;
	*l = n;
	return 0;
}

void cst_http_headers_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}
