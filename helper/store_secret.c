/* Stub: replaced by the Secret Service store. */
#include "store_impl.h"

int cst_store_secret_open(struct cst_store *st, int timeout_ms, struct cst_error *e)
{
	(void)st;
	(void)timeout_ms;
	return cst_error_set(e, CST_ERR_STORE_UNAVAILABLE, "secret service store not implemented");
}

bool cst_secret_service_available(int timeout_ms)
{
	(void)timeout_ms;
	return false;
}
