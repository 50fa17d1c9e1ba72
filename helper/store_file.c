/* Stub: replaced by the JSON file store. */
#include "store_impl.h"

int cst_store_file_open(struct cst_store *st, const char *path, struct cst_error *e)
{
	(void)st;
	(void)path;
	return cst_error_set(e, CST_ERR_STORE, "file store not implemented");
}
