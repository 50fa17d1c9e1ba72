/* What pam_cstoken asks cstoken, and what it understands of the answer. */
#ifndef PAM_CSTOKEN_TOKEN_H
#define PAM_CSTOKEN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The answer of `cstoken token --porcelain`, written in one piece on success only:
 *   api_key=K\ntoken=T\nuid=U\nexpiry=SECONDS\nminted=0|1\n
 * The minted= line is its last: an answer that does not end with it is incomplete.
 * Fields point into the parsed buffer (which the caller wipes); uid may be empty.
 */
struct pcs_token {
	const char *api_key;
	const char *token; /* secret */
	const char *uid;
	const char *expiry;
	bool minted;
};

/*
 * Parses buf (len bytes, NUL-terminated, modified in place) into t. Every field must
 * appear exactly once, minted= last; unknown keys before it are ignored. Returns 0 or
 * CST_ERR_INVALID with a static reason (never a value) in *why.
 */
int pcs_token_parse(char *buf, size_t len, struct pcs_token *t, const char **why);

/* argv of `cstoken token --porcelain [-p P] [--no-mint]` (at most 8 words with NULL). */
void pcs_token_argv(const char *path, const char *profile, bool mint, const char *argv[8]);
/* argv of `cstoken revoke [-p P] --uid UID`. */
void pcs_revoke_argv(const char *path, const char *profile, const char *uid, const char *argv[8]);

#endif
