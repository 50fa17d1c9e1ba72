/* git's credential protocol (git-credential(1)): key=value blocks on stdin and stdout. */
#include <stdlib.h>
#include <string.h>

#include "cstoken/credential.h"
#include "cstoken/util.h"

void credential_init(struct credential *c)
{
	memset(c, 0, sizeof(*c));
}

static void free_multi(char ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

void credential_release(struct credential *c)
{
	free(c->protocol);
	free(c->host);
	free(c->path);
	free(c->username);
	free_secret(c->password);
	free_secret(c->oauth_refresh_token);
	free_multi(&c->wwwauth, &c->nwwwauth);
	free_multi(&c->capability, &c->ncapability);
	credential_init(c);
}

/* Everything a url= line sets: it replaces all of it, as in git. */
static void clear_url_parts(struct credential *c)
{
	set_str(&c->protocol, NULL);
	set_str(&c->host, NULL);
	set_str(&c->path, NULL);
	set_str(&c->username, NULL);
	set_secret(&c->password, NULL);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes s[0..n) like git's url_decode_mem: "%XY" becomes the byte,
 * anything else (including a malformed escape) is kept as is. A decoded LF, CR
 * or NUL could smuggle a key into the protocol, so it is refused (git refuses
 * LF since 2.26.1).
 */
int credential_url_decode(const char *s, size_t n, const char *what, char **out,
			  struct cst_error *e)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int ret = CST_ERR_INVALID;

	*out = NULL;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		int hi, lo;

		if (ch == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == '\n' || ch == '\r' || ch == '\0') {
			cst_error_set(e, CST_ERR_INVALID,
				      "url %s holds an encoded newline, CR or NUL; refusing it",
				      what);
			goto out;
		}
		strbuf_addch(&sb, ch);
	}
	*out = strbuf_detach(&sb, NULL);
	ret = 0;
out:
	strbuf_release(&sb);
	return ret;
}

int credential_from_url(struct credential *c, const char *url, struct cst_error *e)
{
	const char *proto_end, *auth, *auth_end, *at, *colon, *host, *p;
	char *user = NULL, *pass = NULL, *hostname = NULL, *path = NULL;
	int ret = CST_ERR_INVALID;

	proto_end = strstr(url, "://");
	if (!proto_end || proto_end == url) {
		cst_error_set(e, CST_ERR_INVALID, "url has no scheme (want 'scheme://host/path')");
		goto out;
	}
	auth = proto_end + 3;
	auth_end = auth + strcspn(auth, "/?#");
	/* the last '@' of the authority: a raw '@' in a password must not end up in
	 * host */
	at = memrchr(auth, '@', (size_t)(auth_end - auth));
	host = auth;
	if (at) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			ret = credential_url_decode(auth, (size_t)(colon - auth), "username", &user,
						    e);
			if (!ret)
				ret = credential_url_decode(colon + 1, (size_t)(at - colon - 1),
							    "password", &pass, e);
		} else {
			ret =
			    credential_url_decode(auth, (size_t)(at - auth), "username", &user, e);
		}
		if (ret)
			goto out;
		host = at + 1;
	}
	/* "[::1]:8443" stays as git sends it: brackets and port are part of host */
	ret = credential_url_decode(host, (size_t)(auth_end - host), "host", &hostname, e);
	if (ret)
		goto out;
	/* git trims the slashes around the path */
	p = auth_end;
	while (*p == '/')
		p++;
	if (*p) {
		size_t n = strlen(p);

		while (n > 1 && p[n - 1] == '/')
			n--;
		ret = credential_url_decode(p, n, "path", &path, e);
		if (ret)
			goto out;
	}

	clear_url_parts(c);
	c->protocol = xstrndup(url, (size_t)(proto_end - url));
	c->host = hostname;
	c->path = path;
	c->username = user;
	c->password = pass;
	hostname = path = user = pass = NULL;
	ret = 0;
out:
	free(user);
	free_secret(pass);
	free(hostname);
	free(path);
	return ret;
}

static void add_multi(char ***v, size_t *n, const char *value)
{
	/* an empty value clears the list, as git does for its array keys */
	if (!*value) {
		free_multi(v, n);
		return;
	}
	if (*n >= CREDENTIAL_MAX_MULTI) {
		cst_debug("credential: more than %d values for one key; ignoring the rest",
			  CREDENTIAL_MAX_MULTI);
		return;
	}
	if (!*v)
		*v = xcalloc(CREDENTIAL_MAX_MULTI, sizeof(**v));
	(*v)[(*n)++] = xstrdup(value);
}

/* Applies one key=value; value has been checked for CR and NUL. */
static int apply_pair(struct credential *c, const char *key, const char *value, struct cst_error *e)
{
	int64_t t;

	if (!strcmp(key, "protocol")) {
		set_str(&c->protocol, value);
	} else if (!strcmp(key, "host")) {
		set_str(&c->host, value);
	} else if (!strcmp(key, "path")) {
		set_str(&c->path, value);
	} else if (!strcmp(key, "username")) {
		set_str(&c->username, value);
	} else if (!strcmp(key, "password")) {
		set_secret(&c->password, value);
	} else if (!strcmp(key, "oauth_refresh_token")) {
		set_secret(&c->oauth_refresh_token, value);
	} else if (!strcmp(key, "password_expiry_utc")) {
		/* git treats an unparsable expiry as "never expires": ignore it */
		if (parse_int64(value, 1, INT64_MAX, &t) == 0)
			c->password_expiry_utc = t;
		else
			c->password_expiry_utc = 0;
	} else if (!strcmp(key, "url")) {
		return credential_from_url(c, value, e);
	} else if (!strcmp(key, "wwwauth[]")) {
		add_multi(&c->wwwauth, &c->nwwwauth, value);
	} else if (!strcmp(key, "capability[]")) {
		add_multi(&c->capability, &c->ncapability, value);
	}
	/* unknown keys are ignored: newer git may send more */
	return 0;
}

int credential_read(struct credential *c, FILE *fp, struct cst_error *e)
{
	struct strbuf line = STRBUF_INIT;
	char *eq;
	int ret, r;

	for (;;) {
		r = strbuf_getline(&line, fp, CREDENTIAL_MAX_LINE);
		if (r == 0)
			break;
		if (r == CST_ERR_TOO_LARGE) {
			ret = cst_error_set(e, CST_ERR_TOO_LARGE,
					    "credential line longer than %d bytes; refusing it",
					    CREDENTIAL_MAX_LINE);
			goto out;
		}
		if (r < 0) {
			ret = cst_error_errno(e, CST_ERR_SYSTEM,
					      "cannot read the credential request");
			goto out;
		}
		if (line.len == 0)
			break;
		eq = strchr(line.buf, '=');
		if (!eq || eq == line.buf) {
			/* never echo the line: it may be a secret */
			ret = cst_error_set(e, CST_ERR_INVALID,
					    "invalid credential line (want 'key=value')");
			goto out;
		}
		*eq = '\0';
		if (strlen(eq + 1) != line.len - (size_t)(eq + 1 - line.buf)) {
			ret = cst_error_set(e, CST_ERR_INVALID,
					    "value of '%.64s' contains a NUL byte; refusing it",
					    line.buf);
			goto out;
		}
		if (strlen(line.buf) != (size_t)(eq - line.buf)) {
			ret = cst_error_set(e, CST_ERR_INVALID,
					    "credential key contains a NUL byte; refusing it");
			goto out;
		}
		if (strchr(line.buf, '\r')) {
			ret =
			    cst_error_set(e, CST_ERR_INVALID,
					  "credential key contains a carriage return; refusing it");
			goto out;
		}
		if (strchr(eq + 1, '\r')) {
			ret = cst_error_set(
			    e, CST_ERR_INVALID,
			    "value of '%.64s' contains a carriage return; refusing it", line.buf);
			goto out;
		}
		ret = apply_pair(c, line.buf, eq + 1, e);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	strbuf_release(&line);
	if (ret)
		credential_release(c);
	return ret;
}

static bool bad_value(const char *v)
{
	return v && v[strcspn(v, "\r\n")] != '\0';
}

static int check_value(const char *key, const char *v, struct cst_error *e)
{
	if (bad_value(v))
		return cst_error_set(e, CST_ERR_INVALID,
				     "value of '%s' contains a newline or CR; not writing it", key);
	return 0;
}

static void write_pair(FILE *fp, const char *key, const char *v)
{
	if (v)
		fprintf(fp, "%s=%s\n", key, v);
}

int credential_write(const struct credential *c, FILE *fp, struct cst_error *e)
{
	size_t i;
	int ret;

	if ((ret = check_value("protocol", c->protocol, e)) ||
	    (ret = check_value("host", c->host, e)) || (ret = check_value("path", c->path, e)) ||
	    (ret = check_value("username", c->username, e)) ||
	    (ret = check_value("password", c->password, e)) ||
	    (ret = check_value("oauth_refresh_token", c->oauth_refresh_token, e)))
		return ret;
	for (i = 0; i < c->nwwwauth; i++)
		if ((ret = check_value("wwwauth[]", c->wwwauth[i], e)))
			return ret;
	for (i = 0; i < c->ncapability; i++)
		if ((ret = check_value("capability[]", c->capability[i], e)))
			return ret;

	for (i = 0; i < c->ncapability; i++)
		write_pair(fp, "capability[]", c->capability[i]);
	write_pair(fp, "protocol", c->protocol);
	write_pair(fp, "host", c->host);
	write_pair(fp, "path", c->path);
	write_pair(fp, "username", c->username);
	write_pair(fp, "password", c->password);
	if (c->password_expiry_utc)
		fprintf(fp, "password_expiry_utc=%lld\n", (long long)c->password_expiry_utc);
	write_pair(fp, "oauth_refresh_token", c->oauth_refresh_token);
	for (i = 0; i < c->nwwwauth; i++)
		write_pair(fp, "wwwauth[]", c->wwwauth[i]);
	if (ferror(fp))
		return cst_error_errno(e, CST_ERR_SYSTEM, "cannot write the credential");
	return 0;
}
