/*
 * Test: the module exports the PAM entry points and nothing of its insides.
 *   pam_exports MODULE.so
 */
#include <dlfcn.h>
#include <stdio.h>

static const char *const wanted[] = {"pam_sm_open_session", "pam_sm_close_session"};
static const char *const hidden[] = {"pcs_cfg_parse",	   "pcs_run",	    "pcs_drop_privs",
				     "pcs_token_parse",	   "pcs_env_build", "pcs_ids_load",
				     "pam_sm_authenticate"};

int main(int argc, char **argv)
{
	void *h;
	size_t i;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: pam_exports MODULE\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
		return 1;
	}
	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (!dlsym(h, wanted[i])) {
			fprintf(stderr, "FAIL: '%s' is not exported\n", wanted[i]);
			bad = 1;
		}
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (dlsym(h, hidden[i])) {
			fprintf(stderr, "FAIL: '%s' is visible\n", hidden[i]);
			bad = 1;
		}
	dlclose(h);
	if (!bad)
		printf("ok: only the pam_sm_* entry points are visible\n");
	return bad;
}
