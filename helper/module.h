/*
 * Optional parts of the cstoken program, loaded on first use: the Secret Service store
 * (libsecret, GLib), the HTTP client (libcurl, TLS) and the digest (libcrypto, for an older
 * scope fingerprint only). A stored hit in the file store loads none of them, a stored
 * profile token neither; a keyring hit never loads the HTTP client.
 */
#ifndef CSTOKEN_MODULE_H
#define CSTOKEN_MODULE_H

#include <stdbool.h>

#include "cstoken/error.h"

/*
 * The address of symbol in module (e.g. "cstoken-http"), loading the module once.
 * NULL with e set (CST_ERR_SYSTEM) when it cannot be loaded; the message names the file.
 */
void *cst_module_symbol(const char *module, const char *symbol, struct cst_error *e);

/* Has module been loaded by this process? (Nothing it allocates exists before.) */
bool cst_module_loaded(const char *module);

#endif
