/*
 * Test driver: opens and closes one PAM session and prints what a login would see.
 *   pam_driver SERVICE USER [--no-close]
 * prints "open=PAM_X", then "env:NAME=VALUE" for the PAM environment, then "close=PAM_X".
 * Run under pam_wrapper (PAM_WRAPPER_SERVICE_DIR) so that SERVICE comes from the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

static const char *rc_name(int rc)
{
	static char buf[32];

	switch (rc) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_IGNORE:
		return "PAM_IGNORE";
	case PAM_PERM_DENIED:
		return "PAM_PERM_DENIED";
	case PAM_SESSION_ERR:
		return "PAM_SESSION_ERR";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	case PAM_BUF_ERR:
		return "PAM_BUF_ERR";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	default:
		snprintf(buf, sizeof(buf), "PAM_%d", rc);
		return buf;
	}
}

/* A session module must not talk to the user: any prompt is an error. */
static int no_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)data;
	return PAM_CONV_ERR;
}

static void print_env(pam_handle_t *pamh)
{
	char **env = pam_getenvlist(pamh);
	size_t i;

	if (!env)
		return;
	for (i = 0; env[i]; i++) {
		printf("env:%s\n", env[i]);
		explicit_bzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}

int main(int argc, char **argv)
{
	struct pam_conv conv = {no_conv, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--no-close"))) {
		fprintf(stderr, "usage: pam_driver SERVICE USER [--no-close]\n");
		return 2;
	}
	rc = pam_start(argv[1], argv[2], &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_driver: pam_start: %s\n", rc_name(rc));
		return 1;
	}
	rc = pam_open_session(pamh, 0);
	printf("open=%s\n", rc_name(rc));
	print_env(pamh);
	if (argc == 3) {
		rc = pam_close_session(pamh, 0);
		printf("close=%s\n", rc_name(rc));
	}
	fflush(stdout);
	pam_end(pamh, rc);
	return 0;
}
