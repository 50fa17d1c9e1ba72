/* The porcelain contract with cstoken: argv out, key=value lines back. */
#include <string.h>

#include "cfg.h"
#include "cstoken/error.h"
#include "token.h"

void pcs_token_argv(const char *path, const char *profile, bool mint, const char *argv[8])
{
	int n = 0;

	argv[n++] = path;
	argv[n++] = "token";
	argv[n++] = "--porcelain";
	if (profile) {
		argv[n++] = "-p";
		argv[n++] = profile;
	}
	if (!mint)
		argv[n++] = "--no-mint";
	argv[n] = NULL;
}

void pcs_revoke_argv(const char *path, const char *profile, const char *uid, const char *argv[8])
{
	int n = 0;

	argv[n++] = path;
	argv[n++] = "revoke";
	if (profile) {
		argv[n++] = "-p";
		argv[n++] = profile;
	}
	argv[n++] = "--uid";
	argv[n++] = uid;
	argv[n] = NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Printable ASCII without spaces: what tokens, keys and uids are made of. */
static bool plain(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

int pcs_token_parse(char *buf, size_t len, struct pcs_token *t, const char **why)
{
	const char *minted = NULL;
	char *line = buf, *end = buf + len;
	bool final = false; /* the last line read was minted= */

	memset(t, 0, sizeof(*t));
	*why = NULL;
	if (strlen(buf) != len) {
		*why = "output holds a NUL byte";
		return CST_ERR_INVALID;
	}
	if (len == 0 || buf[len - 1] != '\n') {
		*why = "output is empty or does not end with a newline";
		return CST_ERR_INVALID;
	}
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *eq;
		const char **slot = NULL;

		*nl = '\0';
		eq = strchr(line, '=');
		if (!eq) {
			*why = "a line without '='";
			return CST_ERR_INVALID;
		}
		*eq = '\0';
		if (!strcmp(line, "api_key"))
			slot = &t->api_key;
		else if (!strcmp(line, "token"))
			slot = &t->token;
		else if (!strcmp(line, "uid"))
			slot = &t->uid;
		else if (!strcmp(line, "expiry"))
			slot = &t->expiry;
		else if (!strcmp(line, "minted"))
			slot = &minted;
		if (slot) {
			if (*slot) {
				*why = "a field appears twice";
				return CST_ERR_INVALID;
			}
			*slot = eq + 1;
		}
		final = slot == &minted;
		line = nl + 1;
	}
	if (!final) {
		/* cstoken writes minted= last: without it the answer is not complete */
		*why = "the answer does not end with its minted= line";
		return CST_ERR_INVALID;
	}
	if (!t->api_key || !t->token || !t->uid || !t->expiry || !minted) {
		*why = "a field is missing";
		return CST_ERR_INVALID;
	}
	if (!*t->api_key || !plain(t->api_key)) {
		*why = "bad api_key";
		return CST_ERR_INVALID;
	}
	if (!*t->token || !plain(t->token)) {
		*why = "bad token";
		return CST_ERR_INVALID;
	}
	if (*t->uid && !pcs_valid_word(t->uid)) {
		*why = "bad uid";
		return CST_ERR_INVALID;
	}
	if (!all_digits(t->expiry)) {
		*why = "bad expiry";
		return CST_ERR_INVALID;
	}
	if (strcmp(minted, "0") && strcmp(minted, "1")) {
		*why = "bad minted";
		return CST_ERR_INVALID;
	}
	t->minted = minted[0] == '1';
	return 0;
}
