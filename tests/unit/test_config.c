/* cstoken.conf(5): every key's good and bad values, errors naming file, line and key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cstoken/config.h"
#include "cstoken/util.h"

static char tmpdir[] = "/tmp/cstoken-config-test.XXXXXX";
static char *home;
static int nfiles;

static const char *const env_vars[] = {"CSTOKEN_CONFIG", "CSTOKEN_PROFILE", "CSTOKEN_STORE",
				       "CSTOKEN_STORE_FILE"};

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* A fresh config file holding text; caller frees the path. */
static char *write_conf(const char *text)
{
	char *path = xasprintf("%s/conf-%d", tmpdir, ++nfiles);

	write_file(path, text);
	return path;
}

static int group_setup(void **state)
{
	char *p;

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	home = xasprintf("%s/home", tmpdir);
	if (mkdir(home, 0700))
		return -1;
	setenv("HOME", home, 1);
	p = xasprintf("%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", p, 1);
	free(p);
	p = xasprintf("%s/ca.pem", home);
	write_file(p, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
	free(p);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	free(home);
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int test_setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	return 0;
}

static void load_ok(struct cst_config *cfg, const char *text)
{
	struct cst_error e = CST_ERROR_INIT;
	char *path = write_conf(text);
	int ret = cst_config_load(cfg, path, &e);

	if (ret)
		fail_msg("load of:\n%s\nfailed: %s", text, cst_error_msg(&e, ret));
	assert_true(cfg->found);
	assert_string_equal(cfg->path, path);
	free(path);
}

/* The error for text must be "PATH:LINE: " followed by something containing what. */
static void expect_error(const char *text, int line, const char *what)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	struct cst_error e = CST_ERROR_INIT;
	char *path = write_conf(text);
	char *prefix = xasprintf("%s:%d: ", path, line);
	int ret = cst_config_load(&cfg, path, &e);

	if (ret != CST_ERR_CONFIG || e.code != CST_ERR_CONFIG ||
	    strncmp(e.msg, prefix, strlen(prefix)) || !strstr(e.msg + strlen(prefix), what))
		fail_msg("config:\n%s\nwanted error '%s...%s', got %d '%s'", text, prefix, what,
			 ret, e.msg);
	/* released on error */
	assert_null(cfg.path);
	assert_null(cfg.profiles);
	assert_int_equal(cfg.nprofiles, 0);
	free(prefix);
	free(path);
}

static const struct cst_profile *only_profile(struct cst_config *cfg)
{
	assert_int_equal(cfg->nprofiles, 1);
	return &cfg->profiles[0];
}

static void assert_default_profile(const struct cst_profile *p, const char *name)
{
	assert_string_equal(p->name, name);
	assert_string_equal(p->region, "na");
	assert_string_equal(p->host, "api.contentstack.io");
	assert_false(p->host_set);
	assert_null(p->ca_file);
	assert_null(p->api_key);
	assert_null(p->email);
	assert_int_equal(p->nbranches, 1);
	assert_string_equal(p->branches[0], "main");
	assert_int_equal(p->naliases, 0);
	assert_false(p->write);
	assert_int_equal(p->lifetime, CST_LIFETIME_DURATION);
	assert_int_equal(p->lifetime_seconds, 30 * 86400);
	assert_int_equal(p->renew_before, 2 * 86400);
	assert_false(p->notify);
	assert_string_equal(p->name_template, "cstoken {user}@{hostname} {profile}");
	assert_string_equal(p->description, "minted by cstoken");
	assert_true(p->mint);
	assert_int_equal(p->stack_token_limit, 10);
}

static void test_no_file_defaults(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	struct cst_error e = CST_ERROR_INIT;
	const struct cst_profile *p;
	char *want = xasprintf("%s/xdg/cstoken/config", tmpdir);

	(void)state;
	assert_int_equal(cst_config_load(&cfg, NULL, &e), 0);
	assert_false(cfg.found);
	assert_string_equal(cfg.path, want);
	assert_int_equal(cfg.store, CST_STORE_AUTO);
	assert_null(cfg.store_file);
	assert_string_equal(cfg.default_profile, "default");
	assert_int_equal(cfg.timeout, 10);
	assert_int_equal(cfg.nprofiles, 0);

	/* a plain store still has its built-in default profile */
	p = cst_config_profile(&cfg, NULL);
	assert_non_null(p);
	assert_default_profile(p, "default");
	assert_int_equal(p->line, 0);
	assert_ptr_equal(cst_config_profile(&cfg, "default"), p);
	assert_null(cst_config_profile(&cfg, "work"));
	assert_null(cst_config_profile_for(&cfg, "https", "api.contentstack.io", NULL));
	cst_config_release(&cfg);
	assert_null(cfg.path);
	cst_config_release(&cfg); /* twice is harmless */
	free(want);
}

static void test_xdg_and_env_path(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	struct cst_error e = CST_ERROR_INIT;
	char *dir = xasprintf("%s/xdg/cstoken", tmpdir);
	char *xdg = xasprintf("%s/config", dir);
	char *other;

	(void)state;
	other = xasprintf("%s/xdg", tmpdir);
	mkdir(other, 0700);
	mkdir(dir, 0700);
	free(other);
	assert_int_equal(access(dir, F_OK), 0);
	write_file(xdg, "[cstoken]\ntimeout = 11\n");
	assert_int_equal(cst_config_load(&cfg, NULL, &e), 0);
	assert_true(cfg.found);
	assert_string_equal(cfg.path, xdg);
	assert_int_equal(cfg.timeout, 11);
	cst_config_release(&cfg);

	/* CSTOKEN_CONFIG wins over the XDG path */
	other = write_conf("[cstoken]\ntimeout = 12\n");
	setenv("CSTOKEN_CONFIG", other, 1);
	assert_int_equal(cst_config_load(&cfg, NULL, &e), 0);
	assert_string_equal(cfg.path, other);
	assert_int_equal(cfg.timeout, 12);
	cst_config_release(&cfg);

	/* an explicit path wins over both */
	assert_int_equal(cst_config_load(&cfg, xdg, &e), 0);
	assert_int_equal(cfg.timeout, 11);
	cst_config_release(&cfg);

	/* a missing file named by CSTOKEN_CONFIG is the defaults, not found */
	setenv("CSTOKEN_CONFIG", "~/nonexistent.conf", 1);
	assert_int_equal(cst_config_load(&cfg, NULL, &e), 0);
	assert_false(cfg.found);
	free(other);
	other = xasprintf("%s/nonexistent.conf", home);
	assert_string_equal(cfg.path, other);
	cst_config_release(&cfg);

	assert_int_equal(unlink(xdg), 0);
	free(other);
	free(xdg);
	free(dir);
}

/* The example configuration of cstoken.conf(5), inline comments and all. */
static void test_product_example(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	const struct cst_profile *p;
	char *text, *creds;

	(void)state;
	text = xasprintf(
	    "[cstoken]\n"
	    "store = auto                 ; auto | secret-service | file\n"
	    "store_file = ~/.local/share/cstoken/credentials\n"
	    "default_profile = default\n"
	    "timeout = 10                 ; seconds per HTTP request\n"
	    "\n"
	    "[profile default]\n"
	    "region = eu                  ; na (default) | eu | au | azure-na | azure-eu | gcp-na "
	    "| "
	    "gcp-eu\n"
	    "host = eu-api.contentstack.com   ; optional, overrides region; may carry :port\n"
	    "ca_file = %s/ca.pem       ; optional extra trust for a proxy or a test server\n"
	    "api_key = blt0123456789abcdef   ; the stack\n"
	    "email = alice@example.com    ; for `cstoken login`\n"
	    "branches = main, development ; scope: branches ...\n"
	    "aliases =                    ; ... or branch aliases (exactly one of the two)\n"
	    "permissions = read           ; read | read,write\n"
	    "lifetime = 30d               ; Nd | Nw | YYYY-MM-DD | never\n"
	    "renew_before = 2d            ; re-mint when less than this remains\n"
	    "notify = no                  ; e-mail 7 days before expiry\n"
	    "name = cstoken {user}@{hostname} {profile}   ; token name template\n"
	    "description = minted by cstoken\n"
	    "mint = yes                   ; may `get` mint when nothing usable is stored\n"
	    "stack_token_limit = 10       ; refuse to mint when the stack holds this many (1-30)\n",
	    home);
	load_ok(&cfg, text);
	creds = xasprintf("%s/.local/share/cstoken/credentials", home);
	assert_int_equal(cfg.store, CST_STORE_AUTO);
	assert_string_equal(cfg.store_file, creds);
	assert_string_equal(cfg.default_profile, "default");
	assert_int_equal(cfg.timeout, 10);
	p = only_profile(&cfg);
	assert_int_equal(p->line, 7);
	assert_string_equal(p->name, "default");
	assert_string_equal(p->region, "eu");
	assert_string_equal(p->host, "eu-api.contentstack.com");
	assert_true(p->host_set);
	assert_non_null(p->ca_file);
	assert_non_null(strstr(p->ca_file, "/home/ca.pem"));
	assert_string_equal(p->api_key, "blt0123456789abcdef");
	assert_string_equal(p->email, "alice@example.com");
	assert_int_equal(p->nbranches, 2);
	assert_string_equal(p->branches[0], "main");
	assert_string_equal(p->branches[1], "development");
	assert_int_equal(p->naliases, 0);
	assert_false(p->write);
	assert_int_equal(p->lifetime, CST_LIFETIME_DURATION);
	assert_int_equal(p->lifetime_seconds, 30 * 86400);
	assert_int_equal(p->renew_before, 2 * 86400);
	assert_false(p->notify);
	assert_string_equal(p->name_template, "cstoken {user}@{hostname} {profile}");
	assert_string_equal(p->description, "minted by cstoken");
	assert_true(p->mint);
	assert_ptr_equal(cst_config_profile(&cfg, NULL), p);
	cst_config_release(&cfg);
	free(creds);
	free(text);
}

static void test_empty_profile_defaults(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;

	(void)state;
	load_ok(&cfg, "; nothing but a comment\n# and another\n\n[profile work]\n");
	assert_default_profile(only_profile(&cfg), "work");
	assert_int_equal(cfg.profiles[0].line, 4);
	cst_config_release(&cfg);
}

static void test_regions(void **state)
{
	static const struct {
		const char *in, *id, *host;
	} cases[] = {
	    {"na", "na", "api.contentstack.io"},
	    {"US", "na", "api.contentstack.io"},
	    {"aws_na", "na", "api.contentstack.io"},
	    {"EU", "eu", "eu-api.contentstack.com"},
	    {"aws-eu", "eu", "eu-api.contentstack.com"},
	    {"Aws_Au", "au", "au-api.contentstack.com"},
	    {"au", "au", "au-api.contentstack.com"},
	    {"azure_na", "azure-na", "azure-na-api.contentstack.com"},
	    {"AZURE-EU", "azure-eu", "azure-eu-api.contentstack.com"},
	    {"gcp-na", "gcp-na", "gcp-na-api.contentstack.com"},
	    {"gcp_eu", "gcp-eu", "gcp-eu-api.contentstack.com"},
	};
	struct cst_config cfg = CST_CONFIG_INIT;
	const char *id, *host;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cst_region_lookup(cases[i].in, &id, &host), 0);
		assert_string_equal(id, cases[i].id);
		assert_string_equal(host, cases[i].host);
		text = xasprintf("[profile p]\nregion = %s\n", cases[i].in);
		load_ok(&cfg, text);
		assert_string_equal(cfg.profiles[0].region, cases[i].id);
		assert_string_equal(cfg.profiles[0].host, cases[i].host);
		assert_false(cfg.profiles[0].host_set);
		cst_config_release(&cfg);
		free(text);
	}
	assert_int_equal(cst_region_lookup("mars", &id, &host), CST_ERR_INVALID);
	assert_int_equal(cst_region_lookup("", &id, &host), CST_ERR_INVALID);
	assert_int_equal(cst_region_lookup("aws", &id, &host), CST_ERR_INVALID);
	assert_int_equal(cst_region_lookup("eu-api.contentstack.com", &id, &host), CST_ERR_INVALID);
}

/* The region exec exports: known from the region key or a region's own host, else none. */
static void test_profile_region(void **state)
{
	static const struct {
		const char *text, *region;
	} cases[] = {
	    {"", "na"},
	    {"region = gcp-eu\n", "gcp-eu"},
	    {"host = eu-api.contentstack.com\n", "eu"},
	    {"host = AU-API.contentstack.com\n", "au"},
	    {"host =\n", "na"},
	    {"host = proxy.example:8443\n", NULL},
	    {"host = proxy.example:8443\nregion = azure-na\n", "azure-na"},
	    {"region = eu\nhost = proxy.example\n", "eu"},
	};
	struct cst_config cfg = CST_CONFIG_INIT;
	const char *r;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = xasprintf("[profile p]\n%s", cases[i].text);
		load_ok(&cfg, text);
		r = cst_profile_region(&cfg.profiles[0]);
		if (!str_equal(r, cases[i].region))
			fail_msg("%s: region %s, wanted %s", text, r ? r : "NULL",
				 cases[i].region ? cases[i].region : "NULL");
		cst_config_release(&cfg);
		free(text);
	}
}

static void test_hosts(void **state)
{
	static const char *const good[] = {
	    "localhost:8443",	     "[::1]:8443",  "[::1]",	     "127.0.0.1:1",
	    "API.Example.com:65535", "a-b.example", "[2001:db8::7]", "eu-api.contentstack.com",
	};
	struct cst_config cfg = CST_CONFIG_INIT;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		text = xasprintf("[profile p]\nhost = %s\n", good[i]);
		load_ok(&cfg, text);
		assert_string_equal(cfg.profiles[0].host, good[i]);
		assert_true(cfg.profiles[0].host_set);
		assert_string_equal(cfg.profiles[0].region, "na");
		cst_config_release(&cfg);
		free(text);
	}
	/* host overrides the region whichever comes first */
	load_ok(&cfg, "[profile a]\nhost = localhost:8443\nregion = eu\n"
		      "[profile b]\nregion = au\nhost = localhost:9443\n"
		      "[profile c]\nregion = au\nhost =\n");
	assert_string_equal(cfg.profiles[0].region, "eu");
	assert_string_equal(cfg.profiles[0].host, "localhost:8443");
	assert_string_equal(cfg.profiles[1].region, "au");
	assert_string_equal(cfg.profiles[1].host, "localhost:9443");
	assert_string_equal(cfg.profiles[2].host, "au-api.contentstack.com");
	assert_false(cfg.profiles[2].host_set);
	cst_config_release(&cfg);
}

static void test_good_values(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	const struct cst_profile *p;
	char *path;

	(void)state;
	load_ok(&cfg, "[cstoken]\n"
		      "STORE = secret-service\n"
		      "timeout = 300\n"
		      "default_profile = my.work_1\n"
		      "store_file = /var/tmp/creds\n"
		      "[profile a]\n"
		      "aliases = deploy , live-1\n"
		      "permissions = Read , Write\n"
		      "lifetime = 2w\n"
		      "renew_before = 12h\n"
		      "notify = ON\n"
		      "mint = false\n"
		      "name = {profile}-{user}-{hostname}\n"
		      "description =\n"
		      "api_key = blt_abc-123\n"
		      "email = bob+cs@example.co.uk\n"
		      "[profile b]\n"
		      "branches = \n"
		      "lifetime = never\n"
		      "renew_before = 3600\n"
		      "notify = 1\n"
		      "mint = off\n"
		      "[profile c]\n"
		      "lifetime = 2028-02-29\n"
		      "renew_before = 0\n"
		      "notify = true\n"
		      "mint = 0\n"
		      "permissions = write,read\n"
		      "[profile d]\n"
		      "lifetime = NEVER\n"
		      "renew_before = 45m\n"
		      "notify = yes\n"
		      "permissions = read\n"
		      "[profile e]\n"
		      "lifetime = 1d\n"
		      "renew_before = 90s\n"
		      "notify = off\n"
		      "mint = no\n"
		      "stack_token_limit = 30\n");
	assert_int_equal(cfg.store, CST_STORE_SECRET_SERVICE);
	assert_int_equal(cfg.timeout, 300);
	assert_string_equal(cfg.default_profile, "my.work_1");
	assert_string_equal(cfg.store_file, "/var/tmp/creds");
	assert_int_equal(cfg.nprofiles, 5);

	p = &cfg.profiles[0];
	assert_int_equal(p->nbranches, 0);
	assert_null(p->branches);
	assert_int_equal(p->naliases, 2);
	assert_string_equal(p->aliases[0], "deploy");
	assert_string_equal(p->aliases[1], "live-1");
	assert_true(p->write);
	assert_int_equal(p->lifetime, CST_LIFETIME_DURATION);
	assert_int_equal(p->lifetime_seconds, 14 * 86400);
	assert_int_equal(p->renew_before, 12 * 3600);
	assert_true(p->notify);
	assert_false(p->mint);
	assert_string_equal(p->name_template, "{profile}-{user}-{hostname}");
	assert_string_equal(p->description, "");
	assert_string_equal(p->api_key, "blt_abc-123");
	assert_string_equal(p->email, "bob+cs@example.co.uk");

	p = &cfg.profiles[1];
	assert_int_equal(p->nbranches, 1); /* an empty scope falls back to main */
	assert_string_equal(p->branches[0], "main");
	assert_int_equal(p->lifetime, CST_LIFETIME_NEVER);
	assert_int_equal(p->renew_before, 3600);
	assert_true(p->notify);
	assert_false(p->mint);

	p = &cfg.profiles[2];
	assert_int_equal(p->lifetime, CST_LIFETIME_DATE);
	assert_string_equal(p->lifetime_date, "2028-02-29");
	assert_int_equal(p->renew_before, 0);
	assert_true(p->notify);
	assert_false(p->mint);
	assert_true(p->write);

	p = &cfg.profiles[3];
	assert_int_equal(p->lifetime, CST_LIFETIME_NEVER);
	assert_int_equal(p->renew_before, 45 * 60);
	assert_true(p->notify);
	assert_false(p->write);

	p = &cfg.profiles[4];
	assert_int_equal(p->lifetime_seconds, 86400);
	assert_int_equal(p->renew_before, 90);
	assert_false(p->notify);
	assert_false(p->mint);
	assert_int_equal(p->stack_token_limit, 30);
	assert_int_equal(cfg.profiles[0].stack_token_limit, 10);
	cst_config_release(&cfg);

	/* ~ expands to $HOME in store_file and ca_file */
	load_ok(&cfg, "[cstoken]\nstore = file\nstore_file = ~/creds.json\n"
		      "[profile p]\nca_file = ~/ca.pem\n");
	assert_int_equal(cfg.store, CST_STORE_FILE);
	path = xasprintf("%s/creds.json", home);
	assert_string_equal(cfg.store_file, path);
	free(path);
	path = xasprintf("%s/ca.pem", home);
	assert_string_equal(cfg.profiles[0].ca_file, path);
	free(path);
	cst_config_release(&cfg);
}

static void test_syntax_tolerance(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	const struct cst_profile *p;

	(void)state;
	/* CRLF, a BOM, indentation (not a continuation line), ':' and spaces in headers */
	load_ok(&cfg, "\xEF\xBB\xBF[profile p]\r\n"
		      "region = eu\r\n"
		      "    host = x.example.com\r\n"
		      "\tapi_key: blt1\r\n"
		      "  [ profile q ]   ; comment\n"
		      "description = a;b ; c\n"
		      "name = x # y\n");
	assert_int_equal(cfg.nprofiles, 2);
	p = &cfg.profiles[0];
	assert_string_equal(p->region, "eu");
	assert_string_equal(p->host, "x.example.com");
	assert_string_equal(p->api_key, "blt1");
	p = &cfg.profiles[1];
	assert_string_equal(p->name, "q");
	assert_int_equal(p->line, 5);
	assert_string_equal(p->description, "a;b");
	assert_string_equal(p->name_template, "x # y");
	cst_config_release(&cfg);
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *what;
	} cases[] = {
	    /* [cstoken] */
	    {"[cstoken]\nstore = keyring\n", 2, "key 'store': 'keyring' is not a store"},
	    {"[cstoken]\nstore = File\n", 2, "key 'store'"},
	    {"[cstoken]\nstore =\n", 2, "key 'store'"},
	    {"[cstoken]\nstore_file = relative/creds\n", 2, "key 'store_file': 'relative/creds'"},
	    {"[cstoken]\ndefault_profile = two words\n", 2, "key 'default_profile'"},
	    {"[cstoken]\ndefault_profile =\n", 2, "key 'default_profile'"},
	    {"[cstoken]\ntimeout = 0\n", 2, "key 'timeout': '0'"},
	    {"[cstoken]\ntimeout = 301\n", 2, "key 'timeout'"},
	    {"[cstoken]\ntimeout = -5\n", 2, "key 'timeout'"},
	    {"[cstoken]\ntimeout = 10s\n", 2, "key 'timeout'"},
	    {"[cstoken]\ntimeout = ten\n", 2, "key 'timeout'"},
	    {"[cstoken]\ntimeout =\n", 2, "key 'timeout'"},
	    /* region and host */
	    {"[profile p]\nregion = mars\n", 2, "key 'region': unknown region 'mars'"},
	    {"[profile p]\nregion =\n", 2, "key 'region'"},
	    {"[profile p]\nhost = https://eu-api.contentstack.com\n", 2, "key 'host': 'https://"},
	    {"[profile p]\nhost = eu-api.contentstack.com/v3\n", 2, "without a path"},
	    {"[profile p]\nhost = example.com:0\n", 2, "key 'host': 'example.com:0': the port"},
	    {"[profile p]\nhost = example.com:65536\n", 2, "the port"},
	    {"[profile p]\nhost = example.com:\n", 2, "the port"},
	    {"[profile p]\nhost = example.com:+443\n", 2, "the port"},
	    {"[profile p]\nhost = example.com:https\n", 2, "the port"},
	    {"[profile p]\nhost = ::1\n", 2, "brackets"},
	    {"[profile p]\nhost = [::1\n", 2, "closing ']'"},
	    {"[profile p]\nhost = [zz::1]:443\n", 2, "not a valid IPv6 address"},
	    {"[profile p]\nhost = [::1]8443\n", 2, "key 'host'"},
	    {"[profile p]\nhost = [::1]:0\n", 2, "the port"},
	    {"[profile p]\nhost = -bad.example.com\n", 2, "not a valid host name"},
	    {"[profile p]\nhost = a..example.com\n", 2, "not a valid host name"},
	    {"[profile p]\nhost = user@example.com\n", 2, "not a valid host name"},
	    {"[profile p]\nhost = example.com.\n", 2, "not a valid host name"},
	    /* files */
	    {"[profile p]\nca_file = /nonexistent/ca.pem\n", 2,
	     "key 'ca_file': cannot read '/nonexistent/ca.pem'"},
	    {"[profile p]\nca_file = ca.pem\n", 2, "key 'ca_file': 'ca.pem' must be an absolute"},
	    {"[profile p]\nca_file = /tmp\n", 2, "key 'ca_file': '/tmp' is not a file"},
	    /* identity */
	    {"[profile p]\napi_key = blt 123\n", 2, "key 'api_key': 'blt 123'"},
	    {"[profile p]\napi_key = blt/123\n", 2, "key 'api_key'"},
	    {"[profile p]\nemail = alice\n", 2, "key 'email': 'alice' is not an e-mail"},
	    {"[profile p]\nemail = a@b@c\n", 2, "key 'email'"},
	    {"[profile p]\nemail = a b@c\n", 2, "key 'email'"},
	    {"[profile p]\nemail = @example.com\n", 2, "key 'email'"},
	    {"[profile p]\nemail = alice@\n", 2, "key 'email'"},
	    /* scope */
	    {"[profile p]\nbranches = main,,dev\n", 2, "key 'branches': empty name"},
	    {"[profile p]\nbranches = main,\n", 2, "key 'branches': empty name"},
	    {"[profile p]\nbranches = main, dev/x\n", 2, "key 'branches': 'dev/x' is not a valid"},
	    {"[profile p]\nbranches = main, main\n", 2, "key 'branches': 'main' is listed twice"},
	    {"[profile p]\naliases = dep loy\n", 2, "key 'aliases': 'dep loy'"},
	    {"[profile p]\nbranches = main # comment\n", 2, "key 'branches'"},
	    {"[profile p]\npermissions = write\n", 2, "key 'permissions': 'write'"},
	    {"[profile p]\npermissions = read,write,delete\n", 2, "key 'permissions'"},
	    {"[profile p]\npermissions = admin\n", 2, "key 'permissions'"},
	    {"[profile p]\npermissions = read,read\n", 2, "key 'permissions'"},
	    {"[profile p]\npermissions =\n", 2, "key 'permissions'"},
	    /* lifetime */
	    {"[profile p]\nlifetime = 30\n", 2, "key 'lifetime': '30' is not a lifetime"},
	    {"[profile p]\nlifetime = 0d\n", 2, "key 'lifetime'"},
	    {"[profile p]\nlifetime = 30h\n", 2, "key 'lifetime'"},
	    {"[profile p]\nlifetime = d\n", 2, "key 'lifetime'"},
	    {"[profile p]\nlifetime = -3d\n", 2, "key 'lifetime'"},
	    {"[profile p]\nlifetime = 36501d\n", 2, "key 'lifetime'"},
	    {"[profile p]\nlifetime = forever\n", 2, "key 'lifetime'"},
	    {"[profile p]\nlifetime = 2027-02-29\n", 2,
	     "key 'lifetime': '2027-02-29' is not a cal"},
	    {"[profile p]\nlifetime = 2100-02-29\n", 2, "not a calendar date"},
	    {"[profile p]\nlifetime = 2026-13-01\n", 2, "not a calendar date"},
	    {"[profile p]\nlifetime = 2026-00-10\n", 2, "not a calendar date"},
	    {"[profile p]\nlifetime = 2026-04-31\n", 2, "not a calendar date"},
	    {"[profile p]\nlifetime = 1969-12-31\n", 2, "not a calendar date"},
	    {"[profile p]\nlifetime = 2026/01/01\n", 2, "key 'lifetime'"},
	    {"[profile p]\nlifetime =\n", 2, "key 'lifetime'"},
	    {"[profile p]\nrenew_before = 2x\n", 2, "key 'renew_before': '2x' is not a duration"},
	    {"[profile p]\nrenew_before = -1d\n", 2, "key 'renew_before'"},
	    {"[profile p]\nrenew_before = 1y\n", 2, "key 'renew_before'"},
	    {"[profile p]\nrenew_before = 2dd\n", 2, "key 'renew_before'"},
	    {"[profile p]\nrenew_before =\n", 2, "key 'renew_before'"},
	    /* flags and texts */
	    {"[profile p]\nnotify = maybe\n", 2, "key 'notify': 'maybe' is not yes or no"},
	    {"[profile p]\nnotify =\n", 2, "key 'notify'"},
	    {"[profile p]\nmint = 2\n", 2, "key 'mint': '2'"},
	    {"[profile p]\nstack_token_limit = 0\n", 2,
	     "key 'stack_token_limit': '0' is not a number of tokens from 1 to 30"},
	    {"[profile p]\nstack_token_limit = 31\n", 2, "key 'stack_token_limit': '31'"},
	    {"[profile p]\nstack_token_limit = -5\n", 2, "key 'stack_token_limit': '-5'"},
	    {"[profile p]\nstack_token_limit = ten\n", 2, "key 'stack_token_limit': 'ten'"},
	    {"[profile p]\nstack_token_limit =\n", 2, "key 'stack_token_limit'"},
	    {"[cstoken]\nstack_token_limit = 30\n", 2,
	     "key 'stack_token_limit': belongs in a [profile NAME] section"},
	    {"[profile p]\nname =\n", 2, "key 'name': the token name must not be empty"},
	    {"[profile p]\nname = cstoken {usr}\n", 2, "key 'name': unknown placeholder '{usr}'"},
	    {"[profile p]\nname = cstoken {user\n", 2, "key 'name': '{' without '}'"},
	    /* structure */
	    {"[profile p]\ncolour = red\n", 2, "key 'colour': unknown key"},
	    {"[cstoken]\ncolour = red\n", 2, "key 'colour': unknown key"},
	    {"[profile p]\ntimeout = 5\n", 2, "key 'timeout': belongs in [cstoken]"},
	    {"[cstoken]\nregion = eu\n", 2, "key 'region': belongs in a [profile NAME]"},
	    {"region = eu\n", 1, "key 'region': outside any section"},
	    {"[cstoken]\n\n[prolife x]\n", 3, "unknown section '[prolife x]'"},
	    {"[profile]\n", 1, "needs a name"},
	    {"[profile a b]\n", 1, "profile name 'a b'"},
	    {"[profile a/b]\n", 1, "profile name 'a/b'"},
	    {"[profile p]\n[profile p]\n", 2, "duplicate profile 'p' (first on line 1)"},
	    {"[cstoken]\n[cstoken]\n", 2, "duplicate section '[cstoken]' (first on line 1)"},
	    {"[profile p]\nregion = eu\nregion = na\n", 3, "key 'region': already set on line 2"},
	    {"[profile p]\nregion = eu\nRegion = eu\n", 3, "key 'Region': already set on line 2"},
	    {"[profile p]\naliases =\naliases = x\n", 3, "key 'aliases': already set on line 2"},
	    {"[cstoken]\nstore auto\n", 2, "expected '[section]' or 'key = value'"},
	    {"[cstoken\n", 1, "section header without ']'"},
	    {"[cstoken] junk\n", 1, "unexpected text after section header '[cstoken]'"},
	    {"[cstoken]\nbogus\ntimeout = 0\n", 2, "expected"},
	    {"[cstoken]\ntimeout = 0\nbogus\n", 2, "key 'timeout'"},
	    /* cross-key rules, reported at the later line */
	    {"[profile p]\nbranches = main\naliases = deploy\n", 3,
	     "key 'aliases': set either branches or aliases, not both"},
	    {"[profile p]\naliases = deploy\nemail = a@b\nbranches = dev\n", 4,
	     "key 'branches': set either branches or aliases, not both"},
	    {"[profile p]\nlifetime = 7d\nrenew_before = 7d\n", 3,
	     "key 'renew_before': 7d must be shorter than lifetime (7d)"},
	    {"[profile p]\nrenew_before = 1w\nlifetime = 3d\n", 2, "key 'renew_before'"},
	    {"[profile p]\nlifetime = 1d\n", 2,
	     "key 'lifetime': 1d must be longer than renew_before (2d)"},
	    {"[profile p]\nrenew_before = 31d\n", 2, "key 'renew_before'"},
	    /* line numbers past comments, blank lines and earlier profiles */
	    {"; comment\n# c\n\n[profile a]\nregion = eu ; inline\n\n[profile b]\n  region = "
	     "moon\n",
	     8, "key 'region': unknown region 'moon'"},
	    {"[profile a]\nmint = yes\n[profile b]\nlifetime = 1d\n", 4, "key 'lifetime'"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].text, cases[i].line, cases[i].what);
}

static void test_long_line(void **state)
{
	char value[400];
	char *text;

	(void)state;
	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	text = xasprintf("[profile p]\ndescription = %s\nregion = eu\n", value);
	expect_error(text, 2, "line longer than");
	free(text);
}

static void test_file_checks(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	struct cst_error e = CST_ERROR_INIT;
	char *path;

	(void)state;
	/* a directory */
	assert_int_equal(cst_config_load(&cfg, tmpdir, &e), CST_ERR_CONFIG);
	assert_non_null(strstr(e.msg, tmpdir));
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_null(cfg.path);

	/* writable by anyone */
	path = write_conf("[cstoken]\n");
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(cst_config_load(&cfg, path, &e), CST_ERR_CONFIG);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "chmod go-w"));

	/* unreadable: only meaningful when permissions bind us */
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(cst_config_load(&cfg, path, &e), CST_ERR_CONFIG);
		assert_non_null(strstr(e.msg, path));
		assert_non_null(strstr(e.msg, "cannot read"));
	}
	free(path);

	/* a path through a regular file is not "missing" */
	path = write_conf("");
	{
		char *below = xasprintf("%s/config", path);

		assert_int_equal(cst_config_load(&cfg, below, &e), CST_ERR_CONFIG);
		assert_non_null(strstr(e.msg, below));
		free(below);
	}
	free(path);

	/* an empty file is found and all defaults */
	path = write_conf("");
	assert_int_equal(cst_config_load(&cfg, path, &e), 0);
	assert_true(cfg.found);
	assert_int_equal(cfg.nprofiles, 0);
	cst_config_release(&cfg);
	free(path);
}

static void test_env_overrides(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	struct cst_error e = CST_ERROR_INIT;
	char *path, *want;

	(void)state;
	path = write_conf("[cstoken]\nstore = secret-service\nstore_file = /var/tmp/a\n");
	setenv("CSTOKEN_STORE", "file", 1);
	setenv("CSTOKEN_STORE_FILE", "~/b.json", 1);
	assert_int_equal(cst_config_load(&cfg, path, &e), 0);
	assert_int_equal(cfg.store, CST_STORE_FILE);
	want = xasprintf("%s/b.json", home);
	assert_string_equal(cfg.store_file, want);
	free(want);
	cst_config_release(&cfg);

	/* empty variables do not override */
	setenv("CSTOKEN_STORE", "", 1);
	setenv("CSTOKEN_STORE_FILE", "", 1);
	assert_int_equal(cst_config_load(&cfg, path, &e), 0);
	assert_int_equal(cfg.store, CST_STORE_SECRET_SERVICE);
	assert_string_equal(cfg.store_file, "/var/tmp/a");
	cst_config_release(&cfg);

	/* without a file too */
	setenv("CSTOKEN_STORE", "secret-service", 1);
	setenv("CSTOKEN_STORE_FILE", "/srv/c", 1);
	setenv("CSTOKEN_CONFIG", "/nonexistent/config", 1);
	assert_int_equal(cst_config_load(&cfg, NULL, &e), 0);
	assert_false(cfg.found);
	assert_int_equal(cfg.store, CST_STORE_SECRET_SERVICE);
	assert_string_equal(cfg.store_file, "/srv/c");
	cst_config_release(&cfg);

	/* a bad CSTOKEN_STORE is a configuration error naming the variable */
	setenv("CSTOKEN_STORE", "keyring", 1);
	assert_int_equal(cst_config_load(&cfg, path, &e), CST_ERR_CONFIG);
	assert_int_equal(e.code, CST_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "CSTOKEN_STORE"));
	assert_non_null(strstr(e.msg, "'keyring'"));
	assert_null(cfg.path);
	free(path);
}

static void test_profile_selection(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	const struct cst_profile *p;

	(void)state;
	load_ok(&cfg, "[cstoken]\ndefault_profile = b\n[profile a]\n[profile b]\n");
	assert_string_equal(cst_config_profile_name(&cfg, NULL), "b");
	assert_string_equal(cst_config_profile(&cfg, NULL)->name, "b");
	assert_string_equal(cst_config_profile(&cfg, "a")->name, "a");
	assert_null(cst_config_profile(&cfg, "default"));

	setenv("CSTOKEN_PROFILE", "a", 1);
	assert_string_equal(cst_config_profile_name(&cfg, NULL), "a");
	assert_string_equal(cst_config_profile(&cfg, NULL)->name, "a");
	assert_string_equal(cst_config_profile(&cfg, "b")->name, "b"); /* -p beats the env */
	assert_string_equal(cst_config_profile_name(&cfg, "b"), "b");

	/* explicitly wanted but missing */
	setenv("CSTOKEN_PROFILE", "zzz", 1);
	assert_null(cst_config_profile(&cfg, NULL));
	assert_null(cst_config_profile(&cfg, "zzz"));
	unsetenv("CSTOKEN_PROFILE");
	cst_config_release(&cfg);

	/* the default name, unconfigured, is a built-in default profile */
	load_ok(&cfg, "[cstoken]\ndefault_profile = work\n[profile other]\nregion = eu\n");
	p = cst_config_profile(&cfg, NULL);
	assert_non_null(p);
	assert_default_profile(p, "work");
	assert_ptr_equal(cst_config_profile(&cfg, "work"), p);
	assert_ptr_equal(&cfg.builtin, p);
	assert_null(cst_config_profile(&cfg, "default"));
	assert_string_equal(cst_config_profile(&cfg, "other")->region, "eu");
	cst_config_release(&cfg);

	/* no default_profile: "default" */
	load_ok(&cfg, "[profile default]\nregion = au\n");
	assert_string_equal(cst_config_profile_name(&cfg, NULL), "default");
	assert_string_equal(cst_config_profile(&cfg, NULL)->region, "au");
	cst_config_release(&cfg);

	/* a zeroed config is usable for lookups */
	assert_string_equal(cst_config_profile_name(&cfg, NULL), "default");
}

static void test_profile_for(void **state)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	const struct cst_profile *p;

	(void)state;
	load_ok(&cfg, "[profile a]\nregion = eu\napi_key = k1\n"
		      "[profile b]\nhost = localhost:8443\napi_key = k2\n"
		      "[profile c]\nhost = LocalHost:8443\napi_key = k3\n"
		      "[profile d]\nregion = au\n"
		      "[profile e]\nhost = [::1]:9443\napi_key = k5\n"
		      "[profile f]\napi_key = k6\n"
		      "[profile g]\nhost = example.com:443\napi_key = k7\n");
#define FOR(proto, host, user) cst_config_profile_for(&cfg, proto, host, user)
	assert_string_equal(FOR("https", "eu-api.contentstack.com", NULL)->name, "a");
	assert_string_equal(FOR("https", "EU-API.Contentstack.COM", NULL)->name, "a");
	assert_string_equal(FOR("https", "eu-api.contentstack.com:443", NULL)->name, "a");
	assert_string_equal(FOR("https", "eu-api.contentstack.com", "k1")->name, "a");
	assert_null(FOR("https", "eu-api.contentstack.com", "k9"));
	assert_null(FOR("https", "eu-api.contentstack.com", ""));
	assert_null(FOR("http", "eu-api.contentstack.com", NULL));
	assert_null(FOR(NULL, "eu-api.contentstack.com", NULL));
	assert_null(FOR("https", NULL, NULL));
	assert_null(FOR("https", "eu-api.contentstack.com:8443", NULL));
	assert_null(FOR("https", "eu-api.contentstack.co", NULL));

	/* several match: the first in the file, or the one the username names */
	assert_string_equal(FOR("https", "localhost:8443", NULL)->name, "b");
	assert_string_equal(FOR("https", "localhost:8443", "k3")->name, "c");
	assert_null(FOR("https", "localhost", NULL));
	assert_null(FOR("https", "localhost:8444", NULL));

	/* no api_key never matches */
	assert_null(FOR("https", "au-api.contentstack.com", NULL));

	assert_string_equal(FOR("https", "[::1]:9443", "k5")->name, "e");
	assert_null(FOR("https", "[::1]", NULL));
	assert_string_equal(FOR("https", "api.contentstack.io", NULL)->name, "f");
	assert_string_equal(FOR("https", "example.com", NULL)->name, "g");
	assert_string_equal(FOR("https", "example.com:443", NULL)->name, "g");

	/* the default profile wins */
	setenv("CSTOKEN_PROFILE", "c", 1);
	p = FOR("https", "localhost:8443", NULL);
	assert_string_equal(p->name, "c");
	unsetenv("CSTOKEN_PROFILE");
	cst_config_release(&cfg);

	load_ok(&cfg, "[cstoken]\ndefault_profile = y\n"
		      "[profile x]\nhost = localhost:8443\napi_key = k\n"
		      "[profile y]\nhost = localhost:8443\napi_key = k\n");
	assert_string_equal(FOR("https", "localhost:8443", "k")->name, "y");
#undef FOR
	cst_config_release(&cfg);
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *in;
		int64_t want;
	} good[] = {
	    {"0", 0},	     {"90", 90},     {"90s", 90},
	    {"45m", 2700},   {"12h", 43200}, {"30d", 2592000},
	    {"2w", 1209600}, {"2D", 172800}, {"36500d", 3153600000LL},
	};
	static const char *const bad_in[] = {"",     "d",    "-1",     "+1",
					     " 1",   "1 ",   "1y",     "1dd",
					     "1.5d", "0x10", "36501d", "99999999999999999999"};
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		assert_int_equal(cst_parse_duration(good[i].in, &v), 0);
		assert_int_equal(v, good[i].want);
	}
	for (i = 0; i < sizeof(bad_in) / sizeof(bad_in[0]); i++) {
		v = 7;
		if (cst_parse_duration(bad_in[i], &v) != CST_ERR_INVALID)
			fail_msg("'%s' parsed as a duration", bad_in[i]);
		assert_int_equal(v, 7);
	}
	assert_int_equal(cst_parse_duration(NULL, &v), CST_ERR_INVALID);
}

static void test_profile_defaults(void **state)
{
	struct cst_profile p;

	(void)state;
	cst_profile_defaults(&p, "x");
	assert_default_profile(&p, "x");
	cst_profile_release(&p);
	assert_null(p.name);
	cst_profile_release(&p);
	cst_profile_release(NULL);
}

/* The shared store's keys: values kept, defaults, and every refusal naming its line. */
static void test_shared_keys(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *what;
	} bad[] = {
	    {"[profile a]\nshared = vault\n", 2, "key 'shared': 'vault' is not none or etcd"},
	    {"[profile a]\nshared = etcd\n", 2, "needs etcd_endpoints"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = http://etcd.example:2379\n", 3,
	     "http:// is only for loopback"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = ftp://127.0.0.1:2379\n", 3,
	     "not an http:// or https:// URL"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://e1:2379/v3?x\n", 3,
	     "only a host and a port"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://user@e1:2379\n", 3,
	     "only a host and a port"},
	    {"[profile a]\netcd_endpoints = https://e1:2379\n", 1, "shared is not etcd"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://e1:2379\netcd_prefix = "
	     "cstoken/\n",
	     4, "key 'etcd_prefix'"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://e1:2379\netcd_user = a b\n", 4,
	     "key 'etcd_user'"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://e1:2379\nshared_cache = 2d\n", 4,
	     "key 'shared_cache'"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://e1:2379\netcd_claim_ttl = 1s\n",
	     4, "key 'etcd_claim_ttl'"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://e1:2379\netcd_cert_file = "
	     "/nonexistent/c.pem\n",
	     4, "cannot read '/nonexistent/c.pem'"},
	    {"[profile a]\nshared = etcd\netcd_endpoints = https://e1:2379\netcd_prefix = /team\n",
	     4, "starts and ends with '/'"},
	    {"[cstoken]\nshared = etcd\n", 2, "belongs in a [profile NAME] section"},
	};
	struct cst_config cfg = CST_CONFIG_INIT;
	const struct cst_profile *p;
	size_t i;

	(void)state;
	load_ok(&cfg,
		"[profile a]\nshared = etcd\n"
		"etcd_endpoints = https://e1:2379, https://[fd00::1]:2379,http://127.0.0.1:1\n"
		"etcd_prefix = /team/\netcd_user = alice@x\nshared_cache = 10m\n"
		"etcd_claim_ttl = 5s\n[profile b]\n");
	p = &cfg.profiles[0];
	assert_int_equal(p->shared.kind, CST_SHARED_ETCD);
	assert_int_equal(p->shared.nendpoints, 3);
	assert_string_equal(p->shared.endpoints[0], "https://e1:2379");
	assert_string_equal(p->shared.endpoints[1], "https://[fd00::1]:2379");
	assert_string_equal(p->shared.endpoints[2], "http://127.0.0.1:1");
	assert_string_equal(p->shared.prefix, "/team/");
	assert_string_equal(p->shared.user, "alice@x");
	assert_int_equal(p->shared.cache_seconds, 600);
	assert_int_equal(p->shared.claim_ttl, 5);
	p = &cfg.profiles[1];
	assert_int_equal(p->shared.kind, CST_SHARED_NONE);
	assert_string_equal(p->shared.prefix, "/cstoken/");
	assert_int_equal(p->shared.cache_seconds, 300);
	assert_int_equal(p->shared.claim_ttl, 60);
	cst_config_release(&cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].text, bad[i].line, bad[i].what);
}

/* The OAuth keys: the CLI's public app by default, the hosts derived as the SDK does. */
static void test_oauth(void **state)
{
	static const struct {
		const char *region, *app, *hub;
	} derived[] = {
	    {"na", "app.contentstack.com", "developerhub-api.contentstack.com"},
	    {"eu", "eu-app.contentstack.com", "eu-developerhub-api.contentstack.com"},
	    {"au", "au-app.contentstack.com", "au-developerhub-api.contentstack.com"},
	    {"azure-na", "azure-na-app.contentstack.com",
	     "azure-na-developerhub-api.contentstack.com"},
	    {"gcp-eu", "gcp-eu-app.contentstack.com", "gcp-eu-developerhub-api.contentstack.com"},
	};
	struct cst_config cfg = CST_CONFIG_INIT;
	const struct cst_profile *p;
	char *text, *app, *hub;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
		text = xasprintf("[profile p]\nregion = %s\n", derived[i].region);
		load_ok(&cfg, text);
		p = cst_config_profile(&cfg, "p");
		assert_false(p->oauth);
		assert_string_equal(p->oauth_app_id, "6400aa06db64de001a31c8a9");
		assert_string_equal(p->oauth_client_id, "Ie0FEfTzlfAHL4xM");
		assert_string_equal(p->oauth_redirect, "http://localhost:8184");
		app = cst_profile_app_host(p);
		hub = cst_profile_developer_hub_host(p);
		assert_string_equal(app, derived[i].app);
		assert_string_equal(hub, derived[i].hub);
		free(app);
		free(hub);
		free(text);
		cst_config_release(&cfg);
	}
	load_ok(&cfg, "[profile p]\nhost = cma.example.test:8443\nauth = OAuth\n"
		      "oauth_app_id = blt1\noauth_client_id = c-1\n"
		      "oauth_redirect = https://sso.example.test/cb?x=1\n"
		      "developer_hub_host = hub.example.test\n");
	p = cst_config_profile(&cfg, "p");
	assert_true(p->oauth);
	assert_string_equal(p->oauth_app_id, "blt1");
	assert_string_equal(p->oauth_client_id, "c-1");
	assert_string_equal(p->oauth_redirect, "https://sso.example.test/cb?x=1");
	app = cst_profile_app_host(p);
	hub = cst_profile_developer_hub_host(p);
	assert_string_equal(app, "cma.example.test:8443"); /* no "api" in it: itself */
	assert_string_equal(hub, "hub.example.test");
	free(app);
	free(hub);
	cst_config_release(&cfg);
	expect_error("[profile p]\nauth = sso\n", 2, "key 'auth': 'sso' is not password or oauth");
	expect_error("[profile p]\noauth_app_id = a b\n", 2, "key 'oauth_app_id'");
	expect_error("[profile p]\noauth_client_id = a\"b\n", 2, "key 'oauth_client_id'");
	expect_error("[profile p]\noauth_redirect = localhost:8184\n", 2, "key 'oauth_redirect'");
	expect_error("[profile p]\noauth_redirect = http://x/#frag\n", 2, "key 'oauth_redirect'");
	expect_error("[profile p]\noauth_redirect = http:///path\n", 2, "key 'oauth_redirect'");
	expect_error("[profile p]\napp_host = a/b\n", 2, "key 'app_host'");
	expect_error("[profile p]\ndeveloper_hub_host = a b\n", 2, "key 'developer_hub_host'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_no_file_defaults, test_setup),
	    cmocka_unit_test_setup(test_xdg_and_env_path, test_setup),
	    cmocka_unit_test_setup(test_product_example, test_setup),
	    cmocka_unit_test_setup(test_empty_profile_defaults, test_setup),
	    cmocka_unit_test_setup(test_regions, test_setup),
	    cmocka_unit_test_setup(test_profile_region, test_setup),
	    cmocka_unit_test_setup(test_hosts, test_setup),
	    cmocka_unit_test_setup(test_good_values, test_setup),
	    cmocka_unit_test_setup(test_syntax_tolerance, test_setup),
	    cmocka_unit_test_setup(test_bad_values, test_setup),
	    cmocka_unit_test_setup(test_long_line, test_setup),
	    cmocka_unit_test_setup(test_file_checks, test_setup),
	    cmocka_unit_test_setup(test_env_overrides, test_setup),
	    cmocka_unit_test_setup(test_profile_selection, test_setup),
	    cmocka_unit_test_setup(test_profile_for, test_setup),
	    cmocka_unit_test_setup(test_parse_duration, test_setup),
	    cmocka_unit_test_setup(test_profile_defaults, test_setup),
	    cmocka_unit_test_setup(test_shared_keys, test_setup),
	    cmocka_unit_test_setup(test_oauth, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
