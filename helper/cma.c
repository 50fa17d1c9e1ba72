/* Stub: replaced by the libcurl client. */
#include <stdlib.h>
#include <string.h>

#include "cstoken/cma.h"
#include "cstoken/util.h"

void cma_client_init(struct cma_client *c, const char *host, const char *ca_file, int timeout)
{
	memset(c, 0, sizeof(*c));
	c->host = host ? xstrdup(host) : NULL;
	c->ca_file = ca_file ? xstrdup(ca_file) : NULL;
	c->timeout = timeout;
}

void cma_client_release(struct cma_client *c)
{
	free(c->host);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
}
