/*
 * Loads a module's table (module.h): from the directory the build put the modules in,
 * relative to the program's real path (like $ORIGIN: the build tree, a relocated
 * installation), else from the installed location (a copy of the program on its own).
 */
#include <dlfcn.h>
#include <stdarg.h>
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
	const struct cst_module_head *table;
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

/* The table symbol of the module at path, checked against the program's build. */
static const struct cst_module_head *open_table(const char *path, const char *symbol, size_t size,
						struct cst_error *e)
{
	const struct cst_module_head *t;
	const char *why;
	void *handle;

	/* RTLD_NOW: a broken installation fails here, with the file named, not mid-request */
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		why = dlerror();
		cst_error_set(e, CST_ERR_SYSTEM, "cannot load '%s': %s; reinstall cstoken", path,
			      why ? why : "unknown error");
		return NULL;
	}
	t = dlsym(handle, symbol);
	if (!t) {
		cst_error_set(e, CST_ERR_SYSTEM, "'%s' lacks '%s'; reinstall cstoken", path,
			      symbol);
	} else if (t->abi != CST_MODULE_ABI || t->size < size) {
		cst_error_set(e, CST_ERR_SYSTEM,
			      "'%s' is from another build of cstoken (module interface %u, "
			      "table of %zu bytes; want %u, at least %zu); reinstall cstoken",
			      path, t->abi, t->size, CST_MODULE_ABI, size);
		t = NULL;
	}
	if (!t)
		dlclose(handle);
	return t;
}

static void say(enum cst_say kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(enum cst_say kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cst_vsay(kind, fmt, ap);
	va_end(ap);
}

/* A module's messages: into the program's channel, to whatever sink main installed. */
static void say_for_module(enum cst_say kind, const char *msg)
{
	say(kind, "%s", msg);
}

const void *cst_module_table(const char *module, const char *symbol, size_t size,
			     struct cst_error *e)
{
	struct cst_module_env env = {.verbose = cst_verbose, .say = say_for_module};
	struct loaded *l = find(module);
	const struct cst_module_head *t;
	char *path;
	size_t i;

	if (l)
		return l->table;
	for (i = 0; i < MAX_MODULES && loaded[i].name; i++)
		;
	if (i == MAX_MODULES) {
		cst_error_set(e, CST_ERR_SYSTEM, "too many modules (loading '%s')", module);
		return NULL;
	}
	path = module_path(module);
	t = open_table(path, symbol, size, e);
	if (t)
		cst_debug("loaded '%s'", path);
	free(path);
	if (!t)
		return NULL;
	t->init(&env);
	loaded[i].name = module;
	loaded[i].table = t;
	return t;
}
