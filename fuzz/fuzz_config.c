/*
 * cstoken.conf(5): the input is written to a config file and loaded with cst_config_load.
 * A load either fails with a one-line message or yields profiles that keep the loader's
 * promises (exactly one of branches/aliases, a host, and found by the git lookup).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cstoken/config.h"
#include "cstoken/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *config_dir, *config_path;

static void cleanup(void)
{
	unlink(config_path);
	rmdir(config_dir);
}

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char *dir;

	(void)argc;
	(void)argv;
	dir = xasprintf("%s/cstoken-fuzz-config.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	config_path = xasprintf("%s/config", dir);
	/* the loader reads these; a fuzz run must not depend on the caller's */
	setenv("HOME", dir, 1);
	setenv("XDG_CONFIG_HOME", dir, 1);
	setenv("XDG_DATA_HOME", dir, 1);
	unsetenv("CSTOKEN_CONFIG");
	unsetenv("CSTOKEN_PROFILE");
	unsetenv("CSTOKEN_STORE");
	unsetenv("CSTOKEN_STORE_FILE");
	config_dir = dir;
	atexit(cleanup);
	return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0)
		return -1;
	while (size) {
		w = write(fd, data, size);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		data += w;
		size -= (size_t)w;
	}
	return close(fd);
}

static void check_profile(const struct cst_config *cfg, const struct cst_profile *p)
{
	const struct cst_profile *q;
	size_t i;

	check(p->name && p->host && p->region);
	check(!p->nbranches != !p->naliases);
	for (i = 0; i < p->nbranches; i++)
		check(p->branches[i] && p->branches[i][0]);
	for (i = 0; i < p->naliases; i++)
		check(p->aliases[i] && p->aliases[i][0]);
	if (p->lifetime == CST_LIFETIME_DURATION)
		check(p->renew_before < p->lifetime_seconds);
	if (p->api_key) {
		q = cst_config_profile_for(cfg, "https", p->host, p->api_key);
		check(q && q->api_key && !strcmp(q->api_key, p->api_key));
	}
	check(!cst_config_profile_for(cfg, "http", p->host, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cst_config cfg = CST_CONFIG_INIT;
	struct cst_error e = CST_ERROR_INIT;
	const struct cst_profile *p;
	const char *id = NULL, *host = NULL;
	int64_t secs;
	char *text;
	size_t i;

	if (write_file(config_path, data, size))
		abort();
	if (cst_config_load(&cfg, config_path, &e)) {
		check(e.code == CST_ERR_CONFIG && e.msg[0] && !strchr(e.msg, '\n'));
		/* released on error: a second release must be harmless */
		cst_config_release(&cfg);
	} else {
		check(cfg.found && cfg.timeout > 0 && cfg.default_profile);
		for (i = 0; i < cfg.nprofiles; i++)
			check_profile(&cfg, &cfg.profiles[i]);
		p = cst_config_profile(&cfg, NULL);
		check(p != NULL);
		check_profile(&cfg, p);
		cst_config_release(&cfg);
	}

	/* the value parsers on the raw input too */
	text = xstrndup((const char *)data, size);
	if (cst_parse_duration(text, &secs) == 0)
		check(secs >= 0);
	if (cst_region_lookup(text, &id, &host) == 0)
		check(id && host);
	free(text);
	return 0;
}
