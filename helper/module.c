/*
 * Loads cstoken's optional parts from the directory the build put them in, relative to
 * the program's real path (like $ORIGIN: the build tree, a relocated installation), else
 * from the installed location (a copy of the program on its own).
 */
#include <dlfcn.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cstoken/util.h"
#include "module.h"

#ifndef CSTOKEN_MODULE_RELDIR
#define CSTOKEN_MODULE_RELDIR "../lib/cstoken"
#endif
#ifndef CSTOKEN_MODULE_DIR
#define CSTOKEN_MODULE_DIR "/usr/local/lib/cstoken"
#endif

#define MAX_MODULES 8

static struct loaded {
	const char *name; /* a string literal of the caller */
	void *handle;
} loaded[MAX_MODULES];

static struct loaded *find(const char *name)
{
	size_t i;

	for (i = 0; i < MAX_MODULES && loaded[i].name; i++)
		if (!strcmp(loaded[i].name, name))
			return &loaded[i];
	return NULL;
}

bool cst_module_loaded(const char *module)
{
	return find(module) != NULL;
}

/* NAME.so in the module directory next to the program's real path, if it is there. */
static char *module_next_to_program(const char *name)
{
	char *exe = realpath("/proc/self/exe", NULL);
	char *path;

	if (!exe)
		return NULL;
	path = xasprintf("%s/%s/%s.so", dirname(exe), CSTOKEN_MODULE_RELDIR, name);
	free(exe);
	if (!access(path, F_OK))
		return path;
	free(path);
	return NULL;
}

/* Next to the running program, else in the installed module directory. */
static char *module_path(const char *name)
{
	char *path = module_next_to_program(name);

	return path ? path : xasprintf("%s/%s.so", CSTOKEN_MODULE_DIR, name);
}

static void *load(const char *name, struct cst_error *e)
{
	struct loaded *l = find(name);
	char *path = NULL;
	const char *why;
	void *handle;
	size_t i;

	if (l)
		return l->handle;
	for (i = 0; i < MAX_MODULES && loaded[i].name; i++)
		;
	if (i == MAX_MODULES) {
		cst_error_set(e, CST_ERR_SYSTEM, "too many modules (loading '%s')", name);
		return NULL;
	}
	path = module_path(name);
	/* RTLD_NOW: a broken installation fails here, with the file named, not mid-request */
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		why = dlerror();
		cst_error_set(e, CST_ERR_SYSTEM, "cannot load '%s': %s; reinstall cstoken", path,
			      why ? why : "unknown error");
		free(path);
		return NULL;
	}
	cst_debug("loaded '%s'", path);
	free(path);
	loaded[i].name = name;
	loaded[i].handle = handle;
	return handle;
}

void *cst_module_symbol(const char *module, const char *symbol, struct cst_error *e)
{
	void *handle = load(module, e);
	void *sym;

	if (!handle)
		return NULL;
	sym = dlsym(handle, symbol);
	if (!sym)
		cst_error_set(e, CST_ERR_SYSTEM, "module '%s' lacks '%s'; reinstall cstoken",
			      module, symbol);
	return sym;
}
