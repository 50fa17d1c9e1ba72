/* Stub: replaced by the stored-authtoken lookup. */
#include "cstoken/mint.h"

int cst_authtoken_get(const struct cst_profile *p, struct cst_store *st, char **authtoken,
		      char **email, struct cst_error *e)
{
	(void)p;
	(void)st;
	*authtoken = NULL;
	if (email)
		*email = NULL;
	return cst_error_set(e, CST_ERR_NOT_LOGGED_IN, "not logged in");
}
