/* Token policy for revoke and rotate: which token may go, and its deletion on the server. */
#include <stdlib.h>
#include <string.h>

#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "present.h"

/* Deletes token uid of stack api_key; *gone when the server had no such token. */
static int delete_on_server(const struct cst_config *cfg, const struct cst_profile *p,
			    struct cst_store *st, const char *api_key, const char *uid, bool *gone,
			    struct cst_error *e)
{
	struct cma_client c;
	char *authtoken = NULL;
	int ret;

	*gone = false;
	ret = cst_session_for(cfg, p, st, "revoking a token", &authtoken, e);
	if (ret)
		return ret;
	cma_client_init(&c, p->host, p->ca_file, cfg ? cfg->timeout : 0);
	ret = cma_token_delete(&c, api_key, authtoken, uid, e);
	if (ret == CST_ERR_NOT_FOUND) {
		cst_debug("token uid %s was already gone on the server", uid);
		*gone = true;
		ret = 0;
	}
	cma_client_release(&c);
	free_secret(authtoken);
	return ret;
}

/* Removes every stored token item with this uid; *removed says how many. */
static int forget_uid(struct cst_store *st, const char *uid, size_t *removed, struct cst_error *e)
{
	struct cst_item pattern = CST_ITEM_INIT;
	int ret;

	pattern.kind = CST_ITEM_TOKEN;
	pattern.uid = xstrdup(uid);
	ret = cst_store_erase(st, &pattern, removed, e);
	cst_item_release(&pattern);
	return ret;
}

/*
 * Finds token uid on the profile's stack (out->name its name as shown, NULL when the
 * stack has no such token) and decides whether it may go: cstoken's own does, another
 * only with CST_REVOKE_FORCE or a yes from confirm (out->foreign says which).
 */
static int may_delete(const struct cst_config *cfg, const struct cst_profile *p,
		      struct cst_store *st, const char *uid, unsigned flags,
		      cst_confirm_fn *confirm, void *ctx, struct cst_revoked *out,
		      struct cst_error *e)
{
	struct cma_token *toks = NULL;
	struct cma_client c;
	char *authtoken = NULL, *suid = NULL;
	size_t n = 0, i;
	int ret;

	ret = cst_session_for(cfg, p, st, "revoking a token", &authtoken, e);
	if (ret)
		return ret;
	cma_client_init(&c, p->host, p->ca_file, cfg ? cfg->timeout : 0);
	ret = cma_tokens_list(&c, p->api_key, authtoken, &toks, &n, e);
	cma_client_release(&c);
	free_secret(authtoken);
	for (i = 0; !ret && i < n && !str_equal(toks[i].uid, uid); i++)
		;
	if (ret || i == n)
		goto out;
	out->name = cst_shown(toks[i].name);
	out->foreign = !cst_token_ours(cfg, p, st, uid, toks[i].name);
	if ((flags & CST_REVOKE_FORCE) || !out->foreign)
		goto out;
	suid = cst_shown(uid);
	if (!confirm) {
		ret = cst_error_set(e, CST_ERR_INVALID,
				    "token '%s' (uid %s) on stack '%s' was not minted by cstoken, "
				    "so nothing was deleted; add --force to delete it",
				    out->name, suid, p->api_key);
		goto out;
	}
	if (confirm(ctx, out->name, suid))
		goto out;
	ret = cst_error_set(e, CST_ERR_INVALID,
			    "token '%s' (uid %s) was not minted by cstoken and is not deleted",
			    out->name, suid);
out:
	cma_token_array_free(toks, n);
	free(suid);
	return ret;
}

/* The stored token of p, checked to be one cstoken can revoke on p's host. */
static int stored_to_revoke(const struct cst_config *cfg, const struct cst_profile *p,
			    struct cst_store *st, struct cst_item *it, struct cst_error *e)
{
	char *suid;
	int ret = cst_token_stored(st, p, it, e);

	if (ret == CST_ERR_NOT_FOUND)
		return cst_error_set(e, ret,
				     "no token stored for profile '%s'; see 'cstoken list' or "
				     "'cstoken list --remote', and give --uid UID",
				     p->name);
	if (ret)
		return ret;
	if (!it->uid || !*it->uid)
		return cst_error_set(e, CST_ERR_NOT_FOUND,
				     "the stored token of profile '%s' has no uid, so cstoken "
				     "cannot revoke it; delete it in the Contentstack web UI",
				     p->name);
	if (cst_token_other_host(p, it)) {
		suid = cst_shown(it->uid);
		ret =
		    cst_error_set(e, CST_ERR_INVALID,
				  "the stored token of profile '%s' (uid %s) belongs to '%s', not "
				  "to the profile's host '%s'; revoke it there, e.g. in the "
				  "Contentstack web UI",
				  p->name, suid, it->host, p->host);
		free(suid);
		return ret;
	}
	if (!(it->api_key && *it->api_key))
		return cst_profile_need_api_key(cfg, p, "revoke its token", e);
	return 0;
}

int cst_token_revoke(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, const char *uid, unsigned flags, cst_confirm_fn *confirm,
		     void *ctx, struct cst_revoked *out, struct cst_error *e)
{
	struct cst_item it = CST_ITEM_INIT;
	const char *api_key;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!uid && p->shared.kind != CST_SHARED_NONE)
		return cst_shared_revoke(cfg, p, st, out, e);
	if (uid) {
		ret = cst_profile_need_api_key(cfg, p, "revoke a token of its stack", e);
		if (ret)
			goto out;
		api_key = p->api_key;
		ret = may_delete(cfg, p, st, uid, flags, confirm, ctx, out, e);
		if (ret)
			goto out;
		/* not on the stack: nothing there to delete, whoever made it */
		out->gone = !out->name;
	} else {
		ret = stored_to_revoke(cfg, p, st, &it, e);
		if (ret)
			goto out;
		uid = it.uid;
		api_key = it.api_key && *it.api_key ? it.api_key : p->api_key;
	}
	if (!out->gone)
		ret = delete_on_server(cfg, p, st, api_key, uid, &out->gone, e);
	if (ret)
		goto out;
	ret = forget_uid(st, uid, &out->removed, e);
	if (ret)
		goto out;
	out->uid = cst_shown(uid);
	/* a call that talks to the API for the profile clears cstoken's dead tokens too */
	cst_tokens_tidy(cfg, p, st);
	if (!out->name && it.name)
		out->name = cst_shown(it.name);
out:
	if (ret)
		cst_revoked_release(out);
	cst_item_release(&it);
	return ret;
}

void cst_revoked_release(struct cst_revoked *r)
{
	free(r->name);
	free(r->uid);
	memset(r, 0, sizeof(*r));
}

int cst_token_rotate(const struct cst_config *cfg, const struct cst_profile *p,
		     struct cst_store *st, struct cst_rotated *out, struct cst_error *e)
{
	struct cst_item old = CST_ITEM_INIT;
	struct cst_error why = CST_ERROR_INIT, del = CST_ERROR_INIT;
	char *oname = NULL, *nname = NULL, *nuid = NULL;
	bool have_old;
	int ret;

	memset(out, 0, sizeof(*out));
	cst_item_init(&out->fresh);
	ret = cst_profile_need_api_key(cfg, p, "mint a token for it", e);
	if (ret)
		return ret;
	if (p->shared.kind != CST_SHARED_NONE)
		return cst_shared_rotate(cfg, p, st, out, e);
	ret = cst_token_stored(st, p, &old, e);
	if (ret && ret != CST_ERR_NOT_FOUND)
		goto out;
	have_old = !ret && old.uid && *old.uid;
	/* the old token stays stored and valid until the new one is stored */
	ret =
	    cst_token_obtain(cfg, p, st, CST_TOKEN_MINT | CST_TOKEN_FORCE, &out->fresh, NULL, &why);
	if (ret) {
		cst_error_set(e, ret, "cannot rotate the token of profile '%s'%s: %s", p->name,
			      have_old ? " (the old token is still stored and in use)" : "",
			      cst_error_msg(&why, ret));
		goto out;
	}
	if (!have_old || str_equal(old.uid, out->fresh.uid))
		goto out;
	out->old_uid = cst_shown(old.uid);
	oname = cst_shown(old.name);
	nname = cst_shown(out->fresh.name);
	nuid = cst_shown(out->fresh.uid);
	if (cst_token_other_host(p, &old)) {
		ret =
		    cst_error_set(e, CST_ERR_INVALID,
				  "new token '%s' (uid %s) is stored, but the old token '%s' (uid "
				  "%s) lives on '%s' and is still valid there; revoke it in the "
				  "Contentstack web UI",
				  nname, nuid, oname, out->old_uid, old.host);
		goto out;
	}
	ret = delete_on_server(cfg, p, st, old.api_key && *old.api_key ? old.api_key : p->api_key,
			       old.uid, &out->old_gone, &del);
	if (ret)
		cst_error_set(e, ret,
			      "new token '%s' (uid %s) is stored and in use, but the old token "
			      "'%s' (uid %s) is still valid on the server; run 'cstoken revoke "
			      "-p %s --uid %s' (deleting it failed: %s)",
			      nname, nuid, oname, out->old_uid, p->name, out->old_uid,
			      cst_error_msg(&del, ret));
out:
	if (ret)
		cst_rotated_release(out);
	cst_item_release(&old);
	free(oname);
	free(nname);
	free(nuid);
	return ret;
}

void cst_rotated_release(struct cst_rotated *r)
{
	cst_item_release(&r->fresh);
	free(r->old_uid);
	r->old_uid = NULL;
	r->old_gone = false;
}
