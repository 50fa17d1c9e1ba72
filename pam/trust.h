/* Whether the program the module runs as root's choice is root's alone to change. */
#ifndef PAM_CSTOKEN_TRUST_H
#define PAM_CSTOKEN_TRUST_H

#include <sys/types.h>

#include <security/pam_modules.h>

/*
 * Resolves path (symlinks included) and checks the file and every directory from it up
 * to "/": each must be owned by root (or by `owner`, a test hook; 0 normally) and
 * writable by no group and no others, sticky or not. Returns 0 with the canonical path
 * to exec in *resolved (free it), or an error, logged with the path and the reason.
 */
int pcs_program_trusted(pam_handle_t *pamh, const char *path, uid_t owner, char **resolved);

#endif
