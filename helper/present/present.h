/* Presentation: text made safe for a terminal, times, aligned tables, JSON documents. */
#ifndef CSTOKEN_PRESENT_H
#define CSTOKEN_PRESENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cstoken/error.h"
#include "cstoken/util.h"

/* Longest server- or store-supplied value shown in a table cell or message. */
#define CST_MAX_SHOWN 80

/*
 * Appends s (server- or store-supplied text) made safe for a terminal: control bytes,
 * C1 controls and invalid UTF-8 become '?'; past max bytes "..." ends it. NULL adds
 * nothing.
 */
void cst_add_shown(struct strbuf *sb, const char *s, size_t max);
/* s made safe by cst_add_shown, capped at CST_MAX_SHOWN; "-" for NULL or "" (caller frees). */
char *cst_shown(const char *s);

/* ISO 8601 UTC ("2026-12-31T00:00:00Z") into out, or "never" for 0. */
void cst_format_time(int64_t t, char out[32]);

/*
 * An aligned table: row 0 is the header, every cell made safe by cst_shown(). It is
 * printed to fit the output's width (COLUMNS, else the terminal, else 80); cells cut short
 * end in an ellipsis, except in column keep (the uid, which revoke --uid needs whole) and
 * the header.
 */
struct cst_table {
	size_t ncols;
	size_t nrows;
	char **cells;
	size_t keep;
};
void cst_table_init(struct cst_table *t, size_t ncols, size_t keep);
/* Adds a row of ncols values (NULL shows as "-"). */
void cst_table_add(struct cst_table *t, const char *const *vals);
void cst_table_print(const struct cst_table *t, FILE *fp);
/* Frees the cells; t can take rows again. */
void cst_table_release(struct cst_table *t);

/* j, or out of memory (cst_oom) when a cJSON builder returned NULL. */
cJSON *cst_json_ok(cJSON *j);
/* Adds key: v, or key: null for NULL. */
void cst_json_add_str(cJSON *obj, const char *key, const char *v);
/*
 * Prints the document and a newline on stdout, with DEL, C1 controls and invalid UTF-8
 * escaped. 0, or CST_ERR_SYSTEM when stdout fails.
 */
int cst_json_print(cJSON *root, struct cst_error *e);

#endif
