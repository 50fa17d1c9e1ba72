/* `cstoken login --oauth` and the OAuth half of `cstoken logout` (oauth_login.c). */
#ifndef CSTOKEN_OAUTH_LOGIN_H
#define CSTOKEN_OAUTH_LOGIN_H

#include "cli.h"
#include "cstoken/cma.h"
#include "cstoken/config.h"

/*
 * Logs p in with OAuth (PKCE S256): prints the authorize URL on stderr, opens $BROWSER
 * (else xdg-open with a display), and takes the code from the loopback listener of
 * oauth_redirect or from the redirected address pasted on the terminal, whichever comes
 * first, within 60 s; exchanges it and stores the session for (host, the user's e-mail).
 * Nothing is stored on any failure; cli->err says what to do.
 */
int oauth_login(struct cli *cli, const struct cst_profile *p);

/*
 * Revokes the app's authorization of the OAuth session stored for (p's host, email),
 * whose session credential is cred (from cst_authtoken_get). An authorization the
 * developer hub no longer lists is no error.
 */
int oauth_logout(struct cli *cli, const struct cst_profile *p, const char *cred, char *email);

/*
 * The authorize URL exactly as Contentstack's SDK builds it (caller frees):
 * https://APP_HOST/?response_type=code&client_id=ID&code_challenge=C&code_challenge_method=S256#!/apps/APP_ID/authorize
 */
char *oauth_authorize_url(const char *app_host, const struct cma_oauth_app *app,
			  const char *challenge);

/* The port of a loopback http:// redirect (localhost, 127.0.0.1), 0 for any other. */
int oauth_redirect_port(const char *redirect);

#endif
