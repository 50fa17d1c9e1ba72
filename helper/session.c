/* The Contentstack session a profile works under: its stored authtoken. */
#include <stdlib.h>

#include "cstoken/mint.h"
#include "cstoken/util.h"

int cst_authtoken_get(const struct cst_profile *p, struct cst_store *st, char **authtoken,
		      char **email, struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT, it = CST_ITEM_INIT;
	int ret;

	*authtoken = NULL;
	if (email)
		*email = NULL;
	if (!p->host || !*p->host)
		return cst_error_set(e, CST_ERR_CONFIG,
				     "profile '%s' has no host: set region or host", p->name);
	pattern.kind = CST_ITEM_AUTHTOKEN;
	pattern.host = p->host;
	/* with no email configured, the newest session for the host is the one */
	pattern.email = p->email;
	ret = cst_store_get(st, &pattern, &it, e);
	if (ret == CST_ERR_NOT_FOUND || (!ret && (!it.secret || !*it.secret))) {
		ret = cst_error_set(e, CST_ERR_NOT_LOGGED_IN,
				    "not logged in to '%s'%s%s%s: run 'cstoken login -p %s'",
				    p->host, p->email ? " as '" : "", p->email ? p->email : "",
				    p->email ? "'" : "", p->name);
		goto out;
	}
	if (ret)
		goto out;
	/* planted in the store, it would become headers of its own: never send it */
	if (!cst_plain_token(it.secret)) {
		ret =
		    cst_error_set(e, CST_ERR_AUTH,
				  "the stored authtoken for '%s' is malformed, so cstoken will not "
				  "send it; run 'cstoken login -p %s' again",
				  p->host, p->name);
		goto out;
	}
	*authtoken = it.secret;
	it.secret = NULL;
	if (email) {
		*email = it.email;
		it.email = NULL;
	}
out:
	cst_item_release(&it);
	return ret;
}
