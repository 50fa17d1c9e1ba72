/*
 * The contract between the program and its optional modules: each module exports exactly
 * one table, loaded by name on first use, and reaches nothing in the program or in another
 * module. The Secret Service store's two halves (libdbus-1; GLib and libsecret), the HTTP
 * client (libcurl, TLS) and the digest (libcrypto) are modules, so a file-store hit loads
 * none of them and a keyring hit only the libdbus-1 half.
 */
#ifndef CSTOKEN_MODULE_H
#define CSTOKEN_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "cstoken/error.h"
#include "cstoken/util.h"

/*
 * Bumped whenever a table's layout or meaning changes: a program and modules of different
 * builds refuse each other instead of calling through a table they read differently.
 */
#define CST_MODULE_ABI 1

/*
 * What the program hands a module once, before its first call. A module links its own
 * copy of the util and error code (hidden), so the process-wide settings those read are
 * given to it here rather than looked up in the program: a setting added there is added
 * here and taken over in cst_module_adopt.
 */
struct cst_module_env {
	int verbose;	 /* cst_verbose */
	cst_say_fn *say; /* where the module's warnings and diagnostics go (error.h) */
};

/* Every table starts with this. */
struct cst_module_head {
	unsigned abi; /* CST_MODULE_ABI of the module's build */
	size_t size;  /* sizeof the whole table */
	/* takes env; the program calls it once, before anything else in the table */
	void (*init)(const struct cst_module_env *env);
};
#define CST_MODULE_HEAD(table_type, init_fn)                                                       \
	{                                                                                          \
		CST_MODULE_ABI, sizeof(table_type), init_fn                                        \
	}

/*
 * The part of an init every module shares: the settings into its copy of util. The init
 * of a module that needs nothing more.
 */
static inline void cst_module_adopt(const struct cst_module_env *env)
{
	cst_verbose = env->verbose;
	cst_say_sink(env->say);
}

/*
 * The table exported as symbol by module (e.g. "cstoken-http", "cst_http_module"), which
 * must start with a head of CST_MODULE_ABI and be at least size bytes; loads and
 * initialises the module once. NULL with e set (CST_ERR_SYSTEM) when it cannot load or
 * does not match; the message names the file and says to reinstall.
 */
const void *cst_module_table(const char *module, const char *symbol, size_t size,
			     struct cst_error *e);

/* Has module been loaded by this process? (Nothing it allocates exists before.) */
bool cst_module_loaded(const char *module);

#endif
