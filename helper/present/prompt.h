/* Prompting: a question on the controlling terminal, echo off for secrets, Ctrl-Z safe. */
#ifndef CSTOKEN_PROMPT_H
#define CSTOKEN_PROMPT_H

#include <stdbool.h>

#include "cstoken/util.h"

/* Longest answer read; Contentstack's own limits for a password or code are far lower. */
#define CST_PROMPT_MAX_LINE 4096

/*
 * Asks on the controlling terminal (echo as given; with echo off a signal that stops or
 * ends cstoken puts it back). 0 with the answer in sb, without its line end;
 * CST_ERR_NOT_FOUND when there is no terminal, CST_ERR_TOO_LARGE / CST_ERR_SYSTEM
 * otherwise (sb then empty).
 */
int cli_tty_ask(const char *prompt, bool echo, struct strbuf *sb);

#endif
