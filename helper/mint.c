/* Stub: replaced by the minting policy. */
#include "cstoken/mint.h"
#include "cstoken/util.h"

int cst_token_obtain(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, unsigned flags, struct cst_item *out, bool *minted,
		     struct cst_error *e)
{
	(void)cfg;
	(void)p;
	(void)st;
	(void)flags;
	(void)out;
	if (minted)
		*minted = false;
	return cst_error_set(e, CST_ERR_NOT_FOUND, "minting is not implemented yet");
}

char *cst_scope_fingerprint(const struct cst_profile *p)
{
	(void)p;
	return xstrdup("");
}

char *cst_token_name(const struct cst_profile *p)
{
	(void)p;
	return xstrdup("cstoken");
}
