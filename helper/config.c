/* Stub: replaced by the inih-based loader. */
#include <stdlib.h>
#include <string.h>

#include "cstoken/config.h"
#include "cstoken/util.h"

int cst_config_load(struct cst_config *cfg, const char *path, struct cst_error *e)
{
	(void)path;
	(void)e;
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout = 10;
	return 0;
}

void cst_config_release(struct cst_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void cst_profile_defaults(struct cst_profile *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	(void)name;
}

void cst_profile_release(struct cst_profile *p)
{
	memset(p, 0, sizeof(*p));
}

const struct cst_profile *cst_config_profile(struct cst_config *cfg, const char *name)
{
	(void)cfg;
	(void)name;
	return NULL;
}

const char *cst_config_profile_name(const struct cst_config *cfg, const char *name)
{
	(void)cfg;
	return name ? name : "default";
}

const struct cst_profile *cst_config_profile_for(const struct cst_config *cfg,
						 const char *protocol, const char *host,
						 const char *username)
{
	(void)cfg;
	(void)protocol;
	(void)host;
	(void)username;
	return NULL;
}

int cst_region_lookup(const char *region, const char **id, const char **host)
{
	(void)region;
	(void)id;
	(void)host;
	return CST_ERR_INVALID;
}

int cst_parse_duration(const char *s, int64_t *seconds)
{
	(void)s;
	(void)seconds;
	return CST_ERR_INVALID;
}
