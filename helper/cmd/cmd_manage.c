/* Commands that look after stored tokens: list, revoke, rotate, status. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cstoken/cma.h"
#include "cstoken/mint.h"
#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "present.h"
#include "prompt.h"

#define DAY_SECONDS 86400
/* status asks the store it does not use only when that answers quickly */
#define OTHER_STORE_TIMEOUT_MS 1000
/* what status reads of git's answer */
#define MAX_GIT_OUTPUT 65536

extern char **environ;

/* ---------------------------------------------------------------- helpers */

static const char *kind_name(enum cst_item_kind k)
{
	switch (k) {
	case CST_ITEM_CREDENTIAL:
		return "credential";
	case CST_ITEM_AUTHTOKEN:
		return "authtoken";
	case CST_ITEM_TOKEN:
		return "token";
	case CST_ITEM_OAUTH:
		return "oauth";
	case CST_ITEM_ANY:
	default:
		return "unknown";
	}
}

/* How the item came to be stored: minted by cstoken, by `cstoken login`, or by hand. */
static const char *item_source(const struct cst_item *it)
{
	if (it->kind == CST_ITEM_TOKEN)
		return it->scope_fp && *it->scope_fp ? "minted" : "stored";
	if (it->kind == CST_ITEM_AUTHTOKEN || it->kind == CST_ITEM_OAUTH)
		return "login";
	return "stored";
}

static bool is_session(enum cst_item_kind k)
{
	return k == CST_ITEM_AUTHTOKEN || k == CST_ITEM_OAUTH;
}

static const char *item_user(const struct cst_item *it)
{
	return is_session(it->kind) ? it->email : it->username;
}

/* The selected profile; an unknown name is a configuration error naming the fix. */
static int need_profile(struct cli *cli, const struct cst_profile **pp)
{
	const char *name;
	int ret;

	*pp = NULL;
	ret = cli_config(cli);
	if (ret)
		return ret;
	*pp = cli_profile(cli);
	if (*pp)
		return 0;
	name = cst_config_profile_name(&cli->cfg, cli->profile);
	return cst_error_set(&cli->err, CST_ERR_CONFIG,
			     "profile '%s' is not configured in '%s'; add a [profile %s] section "
			     "or choose another with -p",
			     name, cli->cfg.path ? cli->cfg.path : "the configuration", name);
}

static void client_for(struct cli *cli, const struct cst_profile *p, struct cma_client *c)
{
	cma_client_init(c, p->host, p->ca_file, cli->cfg.timeout);
}

/* ------------------------------------------------------------------- list */

/* Tokens first, then sessions, then git credentials. */
static int kind_rank(enum cst_item_kind k)
{
	return k == CST_ITEM_TOKEN ? 0 : is_session(k) ? 1 : k == CST_ITEM_CREDENTIAL ? 2 : 3;
}

static int item_order(const void *a, const void *b)
{
	const struct cst_item *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return kind_rank(x->kind) - kind_rank(y->kind);
	c = strcmp(x->profile ? x->profile : "", y->profile ? y->profile : "");
	if (c)
		return c;
	c = strcmp(x->host ? x->host : "", y->host ? y->host : "");
	if (c)
		return c;
	return strcmp(item_user(x) ? item_user(x) : "", item_user(y) ? item_user(y) : "");
}

static void list_local_json(const struct cst_item *items, size_t n, cJSON *root)
{
	cJSON *arr = cst_json_ok(cJSON_AddArrayToObject(root, "items")), *o;
	char when[32];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct cst_item *it = &items[i];

		o = cst_json_ok(cJSON_CreateObject());
		cJSON_AddItemToArray(arr, o);
		cst_json_add_str(o, "kind", kind_name(it->kind));
		cst_json_add_str(o, "source", item_source(it));
		cst_json_add_str(o, "profile", it->profile);
		cst_json_add_str(o, "protocol", it->protocol);
		cst_json_add_str(o, "host", it->host);
		cst_json_add_str(o, "path", it->path);
		cst_json_add_str(o, "stack", it->api_key);
		cst_json_add_str(o, "user", item_user(it));
		cst_json_add_str(o, "name", it->name);
		cst_json_add_str(o, "uid", it->uid);
		cst_format_time(it->expiry, when);
		cst_json_add_str(o, "expires", when);
		cst_json_ok(cJSON_AddNumberToObject(o, "expiry", (double)it->expiry));
		if (it->created) {
			cst_format_time(it->created, when);
			cst_json_add_str(o, "created", when);
		} else {
			cst_json_add_str(o, "created", NULL);
		}
	}
}

static void list_local_table(const struct cst_item *items, size_t n, int64_t now)
{
	static const char *const header[] = {"KIND", "PROFILE", "HOST",	   "STACK", "USER",
					     "NAME", "UID",	"EXPIRES", "SOURCE"};
	struct cst_table t;
	char when[48];
	size_t i;

	cst_table_init(&t, sizeof(header) / sizeof(header[0]), 6);
	cst_table_add(&t, header);
	for (i = 0; i < n; i++) {
		const struct cst_item *it = &items[i];
		const char *row[9];

		cst_format_time(it->expiry, when);
		/* an OAuth session's access token is renewed when it is next used */
		if (it->expiry && it->expiry <= now)
			strcat(when, it->kind == CST_ITEM_OAUTH ? " (renews)" : " (expired)");
		row[0] = kind_name(it->kind);
		row[1] = it->profile;
		row[2] = it->host;
		row[3] = it->api_key;
		row[4] = item_user(it);
		row[5] = it->name;
		row[6] = it->uid;
		row[7] = when;
		row[8] = item_source(it);
		cst_table_add(&t, row);
	}
	cst_table_print(&t, stdout);
	cst_table_release(&t);
}

static int list_local(struct cli *cli, bool json)
{
	struct cst_item pattern = CST_ITEM_INIT, *items = NULL;
	cJSON *root = NULL;
	size_t n = 0;
	int ret;

	ret = cli_store(cli);
	if (ret)
		return ret;
	pattern.kind = CST_ITEM_ANY;
	ret = cst_store_list(cli->store, &pattern, &items, &n, &cli->err);
	if (ret)
		return ret;
	if (n)
		qsort(items, n, sizeof(*items), item_order);
	if (json) {
		root = cst_json_ok(cJSON_CreateObject());
		cst_json_add_str(root, "store", cst_store_kind_name(cst_store_kind(cli->store)));
		list_local_json(items, n, root);
		ret = cst_json_print(root, &cli->err);
	} else if (!n) {
		fprintf(stderr, "cstoken: nothing stored in %s\n", cst_store_describe(cli->store));
	} else {
		list_local_table(items, n, (int64_t)time(NULL));
	}
	cJSON_Delete(root);
	cst_item_array_free(items, n);
	return ret;
}

/* The stored token item with this uid, if any. */
static const struct cst_item *find_uid(const struct cst_item *mine, size_t n, const char *uid)
{
	size_t i;

	for (i = 0; uid && i < n; i++)
		if (str_equal(mine[i].uid, uid))
			return &mine[i];
	return NULL;
}

static bool uid_in(char **uids, size_t n, const char *uid)
{
	size_t i;

	for (i = 0; uid && i < n; i++)
		if (str_equal(uids[i], uid))
			return true;
	return false;
}

static int list_remote(struct cli *cli, bool json)
{
	const struct cst_profile *p = NULL;
	struct cst_item pattern = CST_ITEM_INIT, *mine = NULL;
	struct cma_token *toks = NULL;
	struct cma_client c;
	struct cst_table t;
	cJSON *root = NULL, *arr = NULL, *o;
	char *authtoken = NULL, *ours = NULL, **shared = NULL;
	char when[48];
	size_t nmine = 0, ntoks = 0, nshared = 0, i;
	int64_t now = (int64_t)time(NULL);
	bool client = false;
	int ret;

	cst_table_init(&t, 6, 1);
	ret = need_profile(cli, &p);
	if (ret)
		goto out;
	ret = cst_profile_need_api_key(&cli->cfg, p, "list its stack's tokens", &cli->err);
	if (ret)
		goto out;
	ret = cli_store(cli);
	if (ret)
		goto out;
	ret = cst_session_for(&cli->cfg, p, cli->store, "listing the stack's tokens", &authtoken,
			      &cli->err);
	if (ret)
		goto out;
	client_for(cli, p, &c);
	client = true;
	ret = cma_tokens_list(&c, p->api_key, authtoken, &toks, &ntoks, &cli->err);
	if (ret)
		goto out;
	pattern.kind = CST_ITEM_TOKEN;
	ret = cst_store_list(cli->store, &pattern, &mine, &nmine, &cli->err);
	if (ret)
		goto out;
	ours = cst_token_name(p);
	if (p->shared.kind != CST_SHARED_NONE) {
		struct cst_error se = CST_ERROR_INIT;
		int sret = cst_shared_uids(&cli->cfg, p, cli->store, &shared, &nshared, &se);

		if (sret)
			cst_warn("%s", cst_error_msg(&se, sret));
	}

	if (json) {
		root = cst_json_ok(cJSON_CreateObject());
		cst_json_add_str(root, "profile", p->name);
		cst_json_add_str(root, "host", p->host);
		cst_json_add_str(root, "stack", p->api_key);
		arr = cst_json_ok(cJSON_AddArrayToObject(root, "tokens"));
	} else {
		static const char *const header[] = {"NAME",  "UID",   "EXPIRES",
						     "SCOPE", "OWNER", "STORED"};

		cst_table_add(&t, header);
	}
	for (i = 0; i < ntoks; i++) {
		const struct cma_token *tk = &toks[i];
		const struct cst_item *st = find_uid(mine, nmine, tk->uid);
		bool is_ours = cst_token_is_ours(tk, ours, mine, nmine);
		bool is_shared = uid_in(shared, nshared, tk->uid);

		cst_format_time(tk->expires_on ? tk->expiry : 0, when);
		if (json) {
			o = cst_json_ok(cJSON_CreateObject());
			cJSON_AddItemToArray(arr, o);
			cst_json_add_str(o, "uid", tk->uid);
			cst_json_add_str(o, "name", tk->name);
			cst_json_add_str(o, "description", tk->description);
			cst_json_add_str(o, "expires", when);
			cst_json_add_str(o, "expires_on", tk->expires_on);
			cst_json_ok(
			    cJSON_AddBoolToObject(o, "expired", tk->expiry && tk->expiry <= now));
			cst_json_add_str(o, "created_at", tk->created_at);
			cst_json_add_str(o, "scope", tk->scope);
			cst_json_ok(cJSON_AddBoolToObject(o, "cstoken", is_ours || is_shared));
			if (p->shared.kind != CST_SHARED_NONE)
				cst_json_ok(cJSON_AddBoolToObject(o, "shared", is_shared));
			cst_json_add_str(o, "stored_profile", st ? st->profile : NULL);
		} else {
			const char *row[6];

			if (tk->expiry && tk->expiry <= now)
				strcat(when, " (expired)");
			row[0] = tk->name;
			row[1] = tk->uid;
			row[2] = when;
			row[3] = tk->scope;
			row[4] = is_shared ? "shared" : is_ours ? "cstoken" : "foreign";
			row[5] = st ? st->profile : NULL;
			cst_table_add(&t, row);
		}
	}
	if (json)
		ret = cst_json_print(root, &cli->err);
	else if (!ntoks)
		fprintf(stderr, "cstoken: stack '%s' on %s has no management tokens\n", p->api_key,
			p->host);
	else
		cst_table_print(&t, stdout);
out:
	cst_table_release(&t);
	cJSON_Delete(root);
	if (client)
		cma_client_release(&c);
	cma_token_array_free(toks, ntoks);
	cst_item_array_free(mine, nmine);
	for (i = 0; i < nshared; i++)
		free(shared[i]);
	free(shared);
	free_secret(authtoken);
	free(ours);
	return ret;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	bool remote = false, json = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--remote"))
			remote = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-')
			return cli_usage_error(cli, "list", "unknown option '%s'", argv[i]);
		else
			return cli_usage_error(cli, "list", "unexpected argument '%s'", argv[i]);
	}
	if (remote)
		return list_remote(cli, json);
	return list_local(cli, json);
}

/* ----------------------------------------------------------------- revoke */

/* Asks on the terminal before a token cstoken did not mint is deleted. */
static bool ask_foreign(void *ctx, const char *name, const char *uid)
{
	struct strbuf answer = STRBUF_INIT;
	char *prompt;
	bool yes;
	int ret;

	(void)ctx;
	prompt =
	    xasprintf("Delete token '%s' (uid %s), which cstoken did not mint? [y/N] ", name, uid);
	ret = cli_tty_ask(prompt, true, &answer);
	yes = !ret && (!strcasecmp(answer.buf, "y") || !strcasecmp(answer.buf, "yes"));
	free(prompt);
	strbuf_release(&answer);
	return yes;
}

int cmd_revoke(struct cli *cli, int argc, char **argv)
{
	const struct cst_profile *p = NULL;
	struct cst_revoked r;
	const char *uid = NULL;
	unsigned flags = 0;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force")) {
			flags |= CST_REVOKE_FORCE;
		} else if (!strcmp(argv[i], "--uid")) {
			if (i + 1 >= argc)
				return cli_usage_error(cli, "revoke",
						       "option '--uid' needs a value");
			uid = argv[++i];
		} else if (!strncmp(argv[i], "--uid=", 6)) {
			uid = argv[i] + 6;
		} else if (argv[i][0] == '-') {
			return cli_usage_error(cli, "revoke", "unknown option '%s'", argv[i]);
		} else {
			return cli_usage_error(cli, "revoke", "unexpected argument '%s'", argv[i]);
		}
	}
	if (uid && (!*uid || strpbrk(uid, "/?#% \t\r\n")))
		return cli_usage_error(cli, "revoke", "'--uid' takes a token uid such as blt...");
	ret = need_profile(cli, &p);
	if (ret)
		return ret;
	ret = cli_store(cli);
	if (ret)
		return ret;
	ret = cst_token_revoke(&cli->cfg, p, cli->store, uid, flags,
			       isatty(STDIN_FILENO) ? ask_foreign : NULL, NULL, &r, &cli->err);
	if (ret)
		return ret;
	if (r.shared)
		fprintf(stderr,
			"cstoken: revoked the shared token %s%s%s(uid %s) of profile '%s' for "
			"everyone; machines that fetched it within shared_cache hold a dead copy "
			"until it runs out\n",
			r.name ? "'" : "", r.name ? r.name : "", r.name ? "' " : "", r.uid,
			p->name);
	else
		fprintf(stderr, "cstoken: %stoken %s%s%s(uid %s%s) %s %s; %s\n",
			r.gone ? "" : "revoked ", r.name ? "'" : "", r.name ? r.name : "",
			r.name ? "' " : "", r.uid, r.foreign ? ", not minted by cstoken" : "",
			r.gone ? "was already gone on" : "on", p->host,
			r.removed ? "removed it from the store" : "it was not in the store");
	cst_revoked_release(&r);
	return 0;
}

/* ----------------------------------------------------------------- rotate */

int cmd_rotate(struct cli *cli, int argc, char **argv)
{
	const struct cst_profile *p = NULL;
	struct cst_rotated r;
	char *name, *uid, when[32], due[32];
	int ret;

	if (argc > 1) {
		if (argv[1][0] == '-')
			return cli_usage_error(cli, "rotate", "unknown option '%s'", argv[1]);
		return cli_usage_error(cli, "rotate", "unexpected argument '%s'", argv[1]);
	}
	ret = need_profile(cli, &p);
	if (ret)
		return ret;
	ret = cli_store(cli);
	if (ret)
		return ret;
	ret = cst_token_rotate(&cli->cfg, p, cli->store, &r, &cli->err);
	if (ret)
		return ret;
	name = cst_shown(r.fresh.name);
	uid = cst_shown(r.fresh.uid);
	cst_format_time(r.fresh.expiry, when);
	if (r.old_due) {
		cst_format_time(r.old_due, due);
		fprintf(stderr,
			"cstoken: rotated the shared token of profile '%s' for everyone: new token "
			"'%s' (uid %s, expires %s); the one it replaces%s%s%s goes at %s, once no "
			"machine's copy can hold it\n",
			p->name, name, uid, when, r.old_uid ? " (uid " : "",
			r.old_uid ? r.old_uid : "", r.old_uid ? ")" : "", due);
	} else if (!r.old_uid)
		fprintf(stderr,
			"cstoken: minted token '%s' (uid %s, expires %s) for profile '%s'\n", name,
			uid, when, p->name);
	else
		fprintf(stderr,
			"cstoken: rotated profile '%s': new token '%s' (uid %s, expires %s) "
			"replaces uid %s, %s\n",
			p->name, name, uid, when, r.old_uid,
			r.old_gone ? "which the server had already forgotten" : "now revoked");
	free(name);
	free(uid);
	cst_rotated_release(&r);
	return 0;
}

/* ----------------------------------------------------------------- status */

/* Collects the problems found; each is printed as one "cstoken:" line at the end. */
struct findings {
	struct strbuf problems;
	int count;
};

static void problem(struct findings *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct findings *f, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strbuf_addf(&f->problems, "cstoken: %s\n", msg);
	f->count++;
}

static void row(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void row(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%-9s", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A row that could not be read: shown as unknown, and a finding naming what and whose. */
static void unreadable(struct findings *f, const char *label, const char *what,
		       const struct cst_profile *p, const struct cst_error *e, int ret)
{
	row(label, "unknown: %s", cst_error_msg(e, ret));
	problem(f, "cannot read the %s of profile '%s': %s", what, p->name, cst_error_msg(e, ret));
}

static void add_list(struct strbuf *sb, char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? "," : "", v[i]);
}

static void profile_rows(const struct cst_profile *p)
{
	struct strbuf sb = STRBUF_INIT;

	row("profile", "%s%s", p->name, p->line ? "" : " (built-in defaults)");
	if (p->host_set || !p->region)
		row("host", "%s", p->host ? p->host : "-");
	else
		row("host", "%s (region %s)", p->host ? p->host : "-", p->region);
	row("stack", "%s", p->api_key ? p->api_key : "- (no api_key: a plain credential store)");
	strbuf_addstr(&sb, p->write ? "read,write " : "read ");
	if (p->nbranches) {
		strbuf_addstr(&sb, "branches=");
		add_list(&sb, p->branches, p->nbranches);
	} else {
		strbuf_addstr(&sb, "aliases=");
		add_list(&sb, p->aliases, p->naliases);
	}
	switch (p->lifetime) {
	case CST_LIFETIME_NEVER:
		strbuf_addstr(&sb, ", lifetime never");
		break;
	case CST_LIFETIME_DATE:
		strbuf_addf(&sb, ", until %s", p->lifetime_date);
		break;
	case CST_LIFETIME_DURATION:
	default:
		strbuf_addf(&sb, ", lifetime %" PRId64 "d", p->lifetime_seconds / DAY_SECONDS);
		break;
	}
	strbuf_addf(&sb, ", mint %s", p->mint ? "yes" : "no");
	row("scope", "%s", sb.buf);
	strbuf_release(&sb);
}

/* Which kind of session the profile has, and until when it is valid. */
static void status_session_kind(struct cli *cli, const struct cst_profile *p, const char *cred,
				char *email)
{
	struct cst_item pattern = CST_ITEM_INIT, it = CST_ITEM_INIT;
	struct cst_error ignored = CST_ERROR_INIT;
	char when[32];

	if (strncmp(cred, CMA_BEARER, strlen(CMA_BEARER))) {
		row("session", "authtoken (valid until logout; a user holds at most 20)");
		return;
	}
	pattern.kind = CST_ITEM_OAUTH;
	pattern.host = p->host;
	pattern.email = email;
	if (!cst_store_get(cli->store, &pattern, &it, &ignored)) {
		cst_format_time(it.expiry, when);
		row("session", "OAuth, access token valid until %s, renewed with its refresh token",
		    when);
	}
	cst_item_release(&it);
}

/*
 * Login state: a stored authtoken and whether GET /v3/user accepts it. The session the
 * server accepted goes to *session (free_secret) and its e-mail, as shown, to *who.
 */
static void status_login(struct cli *cli, const struct cst_profile *p, bool minting,
			 struct findings *f, char **session, char **who)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cma_client c;
	char *authtoken = NULL, *email = NULL, *semail = NULL;
	int ret;

	*session = *who = NULL;
	ret = cst_authtoken_get(&cli->cfg, p, cli->store, &authtoken, &email, &e);
	if (ret == CST_ERR_NOT_LOGGED_IN) {
		row("login", "not logged in to %s", p->host);
		if (minting)
			problem(f,
				"profile '%s' mints tokens but is not logged in to %s; run "
				"'cstoken login%s -p %s'",
				p->name, p->host, p->oauth ? " --oauth" : "", p->name);
		goto out;
	}
	if (ret) {
		unreadable(f, "login", "session", p, &e, ret);
		goto out;
	}
	semail = cst_shown(email);
	status_session_kind(cli, p, authtoken, email);
	client_for(cli, p, &c);
	ret = cma_check_authtoken(&c, authtoken, &e);
	cma_client_release(&c);
	if (!ret) {
		row("login", "%s on %s (session accepted)", semail, p->host);
		*session = authtoken;
		*who = semail;
		authtoken = semail = NULL;
	} else if (ret == CST_ERR_AUTH) {
		row("login", "%s on %s (session refused by the server)", semail, p->host);
		problem(f,
			"the session of '%s' on %s is no longer valid; run 'cstoken login%s -p %s'",
			semail, p->host, p->oauth ? " --oauth" : "", p->name);
	} else {
		/* offline is not a fault of the setup */
		row("login", "%s on %s (cannot check: %s)", semail, p->host,
		    cst_error_msg(&e, ret));
	}
out:
	free_secret(authtoken);
	free(email);
	free(semail);
}

static void status_token(struct cli *cli, const struct cst_profile *p, bool minting,
			 struct findings *f)
{
	struct cst_item it = CST_ITEM_INIT;
	struct cst_error e = CST_ERROR_INIT;
	struct cst_token_state state;
	struct cma_client c;
	char *name = NULL, *uid = NULL, *host = NULL;
	char when[32], left[64] = "";
	int ret;

	ret = cst_token_stored(cli->store, p, &it, &e);
	if (ret == CST_ERR_NOT_FOUND) {
		row("token", "none stored%s", minting ? " (minted on first use)" : "");
		if (p->api_key && !p->mint)
			problem(f,
				"no token stored for profile '%s' and minting is off; set mint = "
				"yes in [profile %s] or run 'cstoken rotate -p %s'",
				p->name, p->name, p->name);
		goto out;
	}
	if (ret) {
		unreadable(f, "token", "token", p, &e, ret);
		goto out;
	}
	name = cst_shown(it.name);
	uid = cst_shown(it.uid);
	cst_token_state(p, &it, (int64_t)time(NULL), &state);
	cst_format_time(it.expiry, when);
	if (state.left)
		snprintf(left, sizeof(left), ", %" PRId64 " days left", state.left / DAY_SECONDS);
	row("token", "'%s' (uid %s)", name, uid);
	row("expires", "%s%s%s", when, left,
	    state.expired ? " (expired)"
	    : state.renew ? " (renewed on next use)"
			  : "");
	row("minted", "%s",
	    !it.scope_fp	  ? "no (stored by hand)"
	    : state.scope_matches ? "yes, with the profile's current scope"
				  : "yes, with another scope (re-minted on next use)");
	if (state.expired) {
		if (!minting)
			problem(f,
				"the token of profile '%s' expired on %s and minting is off; run "
				"'cstoken rotate -p %s'",
				p->name, when, p->name);
		goto out;
	}
	if (!it.secret || !it.api_key)
		goto out;
	/* a token goes only to the host it was minted for */
	if (state.other_host) {
		host = cst_shown(it.host);
		row("server", "not asked: the token is for %s, the profile now names %s", host,
		    p->host);
		goto out;
	}
	client_for(cli, p, &c);
	ret = cma_check_token(&c, it.api_key, it.secret, &e);
	cma_client_release(&c);
	if (!ret) {
		row("server", "accepts the token");
	} else if (ret == CST_ERR_AUTH) {
		row("server", "refuses the token");
		problem(f,
			"%s refuses the stored token of profile '%s' (uid %s); run 'cstoken "
			"rotate -p %s'",
			p->host, p->name, uid, p->name);
	} else {
		row("server", "cannot check: %s", cst_error_msg(&e, ret));
	}
out:
	cst_item_release(&it);
	free(name);
	free(uid);
	free(host);
}

/* cstoken's own tokens on the stack that are expired or that no profile stores any more. */
static void status_stale(struct cli *cli, const struct cst_profile *p, const struct cma_token *toks,
			 size_t n)
{
	struct cst_item pattern = CST_ITEM_INIT, *mine = NULL;
	char *ours = cst_token_name(p), *name, *uid, when[32];
	int64_t now = (int64_t)time(NULL);
	size_t nmine = 0, i;
	bool expired;

	pattern.kind = CST_ITEM_TOKEN;
	if (cst_store_list(cli->store, &pattern, &mine, &nmine, NULL)) {
		mine = NULL;
		nmine = 0;
	}
	for (i = 0; i < n; i++) {
		expired = toks[i].expiry && toks[i].expiry <= now;
		if (!toks[i].uid || !cst_token_is_ours(&toks[i], ours, mine, nmine) ||
		    (!expired && find_uid(mine, nmine, toks[i].uid)))
			continue;
		name = cst_shown(toks[i].name);
		uid = cst_shown(toks[i].uid);
		cst_format_time(toks[i].expiry, when);
		/* the server's uid goes into a shell command: only a plain one */
		if (cst_plain_uid(toks[i].uid))
			row("stale",
			    "'%s' (uid %s), %s%s: 'cstoken revoke -p %s --uid %s' deletes it", name,
			    uid, expired ? "expired " : "no longer stored", expired ? when : "",
			    p->name, toks[i].uid);
		else
			row("stale", "'%s' (uid %s), %s%s: delete it in the Contentstack web UI",
			    name, uid, expired ? "expired " : "no longer stored",
			    expired ? when : "");
		free(name);
		free(uid);
	}
	cst_item_array_free(mine, nmine);
	free(ours);
}

/*
 * What the server says of the profile's stack for the logged-in user: does the api_key name
 * a stack the user belongs to, and may the user create tokens there (only owners and admins
 * may list them, and listing creates nothing)?
 */
static void status_access(struct cli *cli, const struct cst_profile *p, bool minting,
			  const char *session, const char *who, struct findings *f)
{
	struct cst_error e = CST_ERROR_INIT;
	struct cma_token *toks = NULL;
	struct cma_client c;
	char *key = cst_shown(p->api_key), *where;
	size_t ntoks = 0;
	int ret;

	where = p->region && !p->host_set ? xasprintf("in region %s (%s)", p->region, p->host)
					  : xasprintf("on %s", p->host);
	client_for(cli, p, &c);
	ret = cma_stack_check(&c, p->api_key, session, &e);
	if (ret == CST_ERR_NOT_FOUND) {
		row("access", "no stack with api_key %s %s for %s", key, where, who);
		problem(f,
			"api_key '%s' names no stack %s that %s belongs to; check api_key in "
			"[profile %s] of '%s' (the stack's Settings > API Credentials in the web "
			"UI), or the region",
			key, where, who, p->name,
			cli->cfg.path ? cli->cfg.path : "the configuration");
		goto out;
	}
	if (ret) {
		row("access", "cannot check: %s", cst_error_msg(&e, ret));
		goto out;
	}
	ret = cma_tokens_list(&c, p->api_key, session, &toks, &ntoks, &e);
	if (ret == CST_ERR_FORBIDDEN) {
		row("access",
		    "%s belongs to the stack but is not its owner or an admin, so may "
		    "not create tokens",
		    who);
		if (minting)
			problem(
			    f,
			    "%s is not owner or admin of stack '%s' %s, and only they may create "
			    "management tokens; ask an admin of the stack to make you one, or set "
			    "mint = no in [profile %s] and store a token an admin made",
			    who, key, where, p->name);
		goto out;
	}
	if (ret) {
		row("access", "cannot check: %s", cst_error_msg(&e, ret));
		goto out;
	}
	row("access", "%s may create tokens on the stack (owner or admin; %zu of %d slots used)",
	    who, ntoks, p->stack_token_limit);
	status_stale(cli, p, toks, ntoks);
out:
	cma_client_release(&c);
	cma_token_array_free(toks, ntoks);
	free(key);
	free(where);
}

/* Is the item one of profile p's: its token, or a session for its host? */
static bool profile_item(const struct cst_profile *p, const struct cst_item *it)
{
	if (it->kind == CST_ITEM_TOKEN)
		return str_equal(it->profile, p->name);
	return is_session(it->kind) && it->host && p->host && cst_host_equal(it->host, p->host);
}

/*
 * Items of the profile in the store cstoken does not use now: the file when it uses the
 * keyring, the keyring (only when a bus answers quickly) when it uses the file.
 */
static void status_other_store(struct cli *cli, const struct cst_profile *p, struct findings *f)
{
	enum cst_store_kind now = cli->store ? cst_store_kind(cli->store) : cli->cfg.store;
	struct cst_store_options opt = {0};
	struct cst_item pattern = CST_ITEM_INIT, *items = NULL;
	struct cst_store *other = NULL;
	struct strbuf fix = STRBUF_INIT;
	const char *name, *what;
	size_t n = 0, i, ntok = 0, nsession = 0;

	if (now == CST_STORE_AUTO)
		return;
	opt.kind = now == CST_STORE_SECRET_SERVICE ? CST_STORE_FILE : CST_STORE_AUTO;
	opt.file = cli->cfg.store_file;
	opt.timeout_ms = OTHER_STORE_TIMEOUT_MS;
	if (cst_store_open(&other, &opt, NULL) || cst_store_kind(other) == now)
		goto out;
	pattern.kind = CST_ITEM_ANY;
	if (cst_store_list(other, &pattern, &items, &n, NULL))
		goto out;
	for (i = 0; i < n; i++)
		if (profile_item(p, &items[i]))
			*(items[i].kind == CST_ITEM_TOKEN ? &ntok : &nsession) += 1;
	if (!ntok && !nsession)
		goto out;
	name = cst_store_kind_name(cst_store_kind(other));
	what = ntok && nsession ? "a token and a session" : ntok ? "a token" : "a session";
	if (ntok)
		strbuf_addf(&fix, "'CSTOKEN_STORE=%s cstoken revoke -p %s'", name, p->name);
	if (nsession)
		strbuf_addf(&fix, "%s'CSTOKEN_STORE=%s cstoken logout -p %s'", ntok ? " and " : "",
			    name, p->name);
	row("elsewhere", "%s of this profile in the %s store (%s), which cstoken does not use now",
	    what, name, cst_store_describe(other));
	problem(f,
		"profile '%s' also has %s in the %s store (%s), which cstoken does not read while "
		"it uses the %s store; to use them set store = %s in the configuration, else "
		"remove them with %s",
		p->name, what, name, cst_store_describe(other), cst_store_kind_name(now), name,
		fix.buf);
out:
	strbuf_release(&fix);
	cst_item_array_free(items, n);
	cst_store_close(other);
}

/* Tokens Contentstack evicted from the stack when cstoken minted for the profile. */
/* The shared store: its endpoints' health, the token, who minted it and when (shared.c). */
static void status_shared(struct cli *cli, const struct cst_profile *p, struct findings *f)
{
	struct cst_error why = CST_ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	int ret = cst_shared_status(&cli->cfg, p, cli->store, &sb, &why);

	fputs(sb.buf ? sb.buf : "", stdout);
	if (ret)
		problem(f, "the shared store of profile '%s': %s", p->name,
			cst_error_msg(&why, ret));
	strbuf_release(&sb);
}

static void status_evictions(struct cli *cli, const struct cst_profile *p)
{
	struct cst_eviction *v = NULL;
	char when[32], *name, *uid;
	size_t n = 0, i;

	cst_evictions_read(&cli->cfg, p->name, &v, &n);
	for (i = 0; i < n; i++) {
		/* recorded already made safe; shown again, since the file is read back */
		name = cst_shown(v[i].name);
		uid = cst_shown(v[i].uid);
		cst_format_time(v[i].when, when);
		row("evicted",
		    "'%s' (uid %s): Contentstack expired it to make room when cstoken minted at "
		    "%s (stack_token_limit %d)",
		    name, uid, when, p->stack_token_limit);
		free(name);
		free(uid);
	}
	cst_evictions_free(v, n);
}

/*
 * Runs git with argv, never through a shell, and appends what it prints (capped) to out;
 * its exit status, or -1 when it could not be run.
 */
static int git_output(char *const *argv, struct strbuf *out)
{
	posix_spawn_file_actions_t fa;
	int fds[2], status = 0, ret = -1;
	char buf[4096];
	ssize_t r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (r) {
		close(fds[0]);
		return -1;
	}
	while ((r = read(fds[0], buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (out->len + (size_t)r <= MAX_GIT_OUTPUT)
			strbuf_add(out, buf, (size_t)r);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	return ret;
}

/* Does a credential.helper value run cstoken: "cstoken" or a path to git-credential-cstoken? */
static bool helper_is_cstoken(const char *v, size_t len)
{
	size_t word = 0, base = 0;

	if (len && v[0] == '!')
		v++, len--;
	while (word < len && v[word] != ' ' && v[word] != '\t')
		if (v[word++] == '/')
			base = word;
	return (word - base == 7 && !strncmp(v + base, "cstoken", 7)) ||
	       (word - base == 22 && !strncmp(v + base, "git-credential-cstoken", 22));
}

/* Is cstoken among the helpers of sb's lines (an empty value resets the list, as in git)? */
static bool helpers_have_cstoken(const struct strbuf *sb)
{
	const char *line = sb->buf, *nl;
	bool found = false;

	while (line && *line) {
		nl = strchr(line, '\n');
		if (nl == line)
			found = false;
		else if (helper_is_cstoken(line, nl ? (size_t)(nl - line) : strlen(line)))
			found = true;
		line = nl ? nl + 1 : NULL;
	}
	return found;
}

/*
 * Whether git asks cstoken for the profile's host: the helpers for every URL, then the one
 * most specific to https://HOST. Not a fault when it does not: token, exec and curl need no git.
 */
static void status_git(const struct cst_profile *p)
{
	char *url = xasprintf("https://%s", p->host);
	char *all[] = {"git", "config", "--get-all", "credential.helper", NULL};
	char *match[] = {"git", "config", "--get-urlmatch", "credential.helper", url, NULL};
	struct strbuf sb = STRBUF_INIT;
	int ret;

	ret = git_output(all, &sb);
	if (ret >= 0 && git_output(match, &sb) >= 0 && helpers_have_cstoken(&sb))
		row("git", "%s uses cstoken as credential helper", url);
	else if (ret < 0)
		row("git", "not found, so not checked");
	else
		row("git",
		    "%s does not use cstoken as credential helper; 'git config --global "
		    "credential.%s.helper cstoken' makes it",
		    url, url);
	strbuf_release(&sb);
	free(url);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct findings f = {STRBUF_INIT, 0};
	struct cst_item pattern = CST_ITEM_INIT, *items = NULL;
	const struct cst_profile *p = NULL;
	char *session = NULL, *who = NULL;
	const char *pname;
	size_t n = 0;
	bool minting;
	int ret;

	if (argc > 1) {
		if (argv[1][0] == '-')
			return cli_usage_error(cli, "status", "unknown option '%s'", argv[1]);
		return cli_usage_error(cli, "status", "unexpected argument '%s'", argv[1]);
	}
	ret = cli_config(cli);
	if (ret) {
		/* a diagnosis, not a usage error: say what is wrong and exit 1 */
		row("config", "broken");
		problem(&f, "%s; fix the configuration and run 'cstoken status' again",
			cst_error_msg(&cli->err, ret));
		goto out;
	}
	row("config", "%s (%s)", cli->cfg.path ? cli->cfg.path : "-",
	    cli->cfg.found ? "found" : "not found: defaults, a plain credential store");

	ret = cli_store(cli);
	if (!ret) {
		pattern.kind = CST_ITEM_TOKEN;
		ret = cst_store_list(cli->store, &pattern, &items, &n, &cli->err);
		cst_item_array_free(items, n);
	}
	if (ret == CST_ERR_STORE_LOCKED) {
		row("store", "%s: %s (locked)", cst_store_kind_name(cst_store_kind(cli->store)),
		    cst_store_describe(cli->store));
		problem(&f, "%s", cst_error_msg(&cli->err, ret));
	} else if (ret) {
		row("store", "%s (does not answer)", cst_store_kind_name(cli->cfg.store));
		if (cli->cfg.store == CST_STORE_FILE)
			problem(&f, "the store does not answer: %s", cst_error_msg(&cli->err, ret));
		else
			problem(&f,
				"the store does not answer: %s; start a Secret Service (e.g. "
				"gnome-keyring), or use the file store: store = file in the "
				"configuration or CSTOKEN_STORE=file",
				cst_error_msg(&cli->err, ret));
	} else {
		row("store", "%s: %s (answers)", cst_store_kind_name(cst_store_kind(cli->store)),
		    cst_store_describe(cli->store));
	}

	p = cli_profile(cli);
	if (!p) {
		pname = cst_config_profile_name(&cli->cfg, cli->profile);
		row("profile", "%s (not configured)", pname);
		problem(&f,
			"profile '%s' is not configured in '%s'; add a [profile %s] section or "
			"choose another with -p",
			pname, cli->cfg.path ? cli->cfg.path : "the configuration", pname);
		goto out;
	}
	profile_rows(p);
	if (!ret) {
		minting = p->mint && p->api_key && *p->api_key;
		status_login(cli, p, minting, &f, &session, &who);
		if (session && p->api_key && *p->api_key)
			status_access(cli, p, minting, session, who, &f);
		status_token(cli, p, minting, &f);
		if (p->shared.kind != CST_SHARED_NONE)
			status_shared(cli, p, &f);
		status_evictions(cli, p);
	}
	status_other_store(cli, p, &f);
	if (p->api_key && *p->api_key)
		status_git(p);
out:
	free_secret(session);
	free(who);
	fflush(stdout);
	fputs(f.problems.buf ? f.problems.buf : "", stderr);
	strbuf_release(&f.problems);
	return f.count ? 1 : 0;
}
