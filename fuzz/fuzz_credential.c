/*
 * git's credential protocol: credential_read on arbitrary bytes, then the round trip a
 * helper makes (what it writes must read back the same), and credential_from_url on the
 * input as one URL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cstoken/credential.h"
#include "cstoken/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_str(const char *a, const char *b)
{
	check(str_equal(a, b));
}

static void check_multi(char **a, size_t na, char **b, size_t nb)
{
	size_t i;

	check(na == nb);
	for (i = 0; i < na; i++)
		check_str(a[i], b[i]);
}

/* Every line written is key=value with no CR or NUL, and reads back to the same fields. */
static void round_trip(const struct credential *c)
{
	struct credential back = CREDENTIAL_INIT;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;
	int ret;

	fp = open_memstream(&out, &len);
	if (!fp)
		return;
	ret = credential_write(c, fp, NULL);
	fclose(fp);
	if (ret) {
		free(out);
		return;
	}
	check(strlen(out) == len);
	check(!strchr(out, '\r'));
	check(len == 0 || out[len - 1] == '\n');
	/* nothing written reads back as nothing: fmemopen wants a non-empty buffer */
	fp = len ? fmemopen(out, len, "r") : NULL;
	if (fp) {
		check(credential_read(&back, fp, NULL) == 0);
		fclose(fp);
		check_str(c->protocol, back.protocol);
		check_str(c->host, back.host);
		check_str(c->path, back.path);
		check_str(c->username, back.username);
		check(secret_equal(c->password, back.password));
		check(secret_equal(c->oauth_refresh_token, back.oauth_refresh_token));
		check(c->password_expiry_utc == back.password_expiry_utc);
		check_multi(c->wwwauth, c->nwwwauth, back.wwwauth, back.nwwwauth);
		check_multi(c->capability, c->ncapability, back.capability, back.ncapability);
		credential_release(&back);
	}
	freezero(out, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct credential c = CREDENTIAL_INIT;
	struct cst_error e = CST_ERROR_INIT;
	char *copy;
	FILE *fp;

	if (size == 0)
		return 0;
	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';

	fp = fmemopen(copy, size, "r");
	if (fp) {
		if (credential_read(&c, fp, &e) == 0)
			round_trip(&c);
		else
			check(e.msg[0] != '\0' && !strchr(e.msg, '\n'));
		fclose(fp);
		credential_release(&c);
	}

	/* the whole input (up to its first NUL) as a url= value */
	if (credential_from_url(&c, copy, NULL) == 0) {
		check(c.protocol && c.host);
		check(!c.host[strcspn(c.host, "\r\n")]);
		check(!c.password || !c.password[strcspn(c.password, "\r\n")]);
	}
	credential_release(&c);
	free(copy);
	return 0;
}
