/* Stub: replaced by the git credential protocol implementation. */
#include <stdlib.h>
#include <string.h>

#include "cstoken/credential.h"
#include "cstoken/util.h"

void credential_init(struct credential *c)
{
	memset(c, 0, sizeof(*c));
}

void credential_release(struct credential *c)
{
	credential_init(c);
}

int credential_read(struct credential *c, FILE *fp, struct cst_error *e)
{
	(void)c;
	(void)fp;
	return cst_error_set(e, CST_ERR_INVALID, "not implemented");
}

int credential_from_url(struct credential *c, const char *url, struct cst_error *e)
{
	(void)c;
	(void)url;
	return cst_error_set(e, CST_ERR_INVALID, "not implemented");
}

int credential_write(const struct credential *c, FILE *fp, struct cst_error *e)
{
	(void)c;
	(void)fp;
	return cst_error_set(e, CST_ERR_INVALID, "not implemented");
}
