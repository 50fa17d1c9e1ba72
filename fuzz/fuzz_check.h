/* What the fuzz targets of fuzz_oauth.c and fuzz_shared.c check with. */
#ifndef CSTOKEN_FUZZ_CHECK_H
#define CSTOKEN_FUZZ_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cstoken/util.h"

static inline void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* Whether s is printable ASCII only (high: bytes >= 0x80 allowed too, as shown text). */
static inline bool fuzz_printable(const char *s, bool high)
{
	const unsigned char *m = (const unsigned char *)s;

	for (; *m; m++)
		if (*m < 0x20 || *m == 0x7f || (!high && *m > 0x7f))
			return false;
	return true;
}

/* The n bytes at data as a C string (caller frees): what a parser of text is given. */
static inline char *fuzz_text(const uint8_t *data, size_t n)
{
	char *text = xmalloc(n + 1);

	if (n)
		memcpy(text, data, n);
	text[n] = '\0';
	return text;
}

#endif
