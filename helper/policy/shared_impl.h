/*
 * The shared value as shared.c reads and writes it: not part of the public API, exposed
 * so that fuzz/fuzz_shared.c can feed the parser any bytes a member may have written.
 */
#ifndef CSTOKEN_SHARED_IMPL_H
#define CSTOKEN_SHARED_IMPL_H

#include <stddef.h>
#include <stdint.h>

#define MAX_RETIRED 8
/* The longest shared value read: anything longer is not cstoken's. */
#define MAX_VALUE 16384

struct retired {
	char *uid;
	int64_t since; /* when it was replaced */
};

/* The shared value: the token and what every member needs to judge it. */
struct shared_token {
	char *token; /* secret */
	char *uid;
	char *name;
	int64_t expiry; /* 0: never */
	char *scope;	/* the scope fingerprint it was minted for */
	char *minted_by;
	int64_t minted_at;
	struct retired retired[MAX_RETIRED];
	size_t nretired;
};

void cst_shared_value_release(struct shared_token *t);
/* text parsed and checked into t (release it), or CST_ERR_INVALID with t empty. */
int cst_shared_value_parse(const char *text, struct shared_token *t);
/* The JSON of t (caller frees with free_secret: it holds the token). */
char *cst_shared_value_print(const struct shared_token *t);

#endif
