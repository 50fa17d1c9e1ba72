/* Presentation: text made safe for a terminal, times, aligned tables, JSON documents. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "present.h"

/* Length of the UTF-8 sequence at s that is valid and no C1 control, else 0. */
static size_t printable_utf8(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	/* overlong forms, surrogates, past U+10FFFF, and U+0080..U+009F (C1: CSI is one) */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return n;
}

void cst_add_shown(struct strbuf *sb, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (u && u[i] && i < max) {
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			strbuf_addch(sb, (char)u[i++]);
		} else if (u[i] >= 0x80 && (n = printable_utf8(u + i))) {
			strbuf_add(sb, u + i, n);
			i += n;
		} else if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) {
			strbuf_addch(sb, '?'); /* one C1 control, one mark */
			i += 2;
		} else {
			strbuf_addch(sb, '?');
			i++;
		}
	}
	if (u && u[i])
		strbuf_addstr(sb, "...");
}

cJSON *cst_json_ok(cJSON *j)
{
	if (!j)
		cst_oom();
	return j;
}

void cst_json_add_str(cJSON *obj, const char *key, const char *v)
{
	if (v)
		cst_json_ok(cJSON_AddStringToObject(obj, key, v));
	else
		cst_json_ok(cJSON_AddNullToObject(obj, key));
}

/*
 * cJSON escapes only C0 controls: DEL and C1 controls (CSI is U+009B) from the server
 * would reach a terminal raw, and invalid UTF-8 would make the document invalid. Both can
 * only stand inside strings, where an escape means the same.
 */
static void json_add_safe(struct strbuf *sb, const char *text)
{
	const unsigned char *u = (const unsigned char *)text;
	struct strbuf one = STRBUF_INIT;
	char seq[5];
	size_t i = 0, n;

	while (u[i]) {
		if (u[i] < 0x7f) {
			strbuf_addch(sb, (char)u[i++]);
			continue;
		}
		if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) {
			strbuf_addf(sb, "\\u%04x", u[i + 1]);
			i += 2;
			continue;
		}
		if (u[i] == 0x7f) {
			strbuf_addstr(sb, "\\u007f");
			i++;
			continue;
		}
		/* a valid sequence comes back from the filter unchanged */
		for (n = 1; n < 4 && (u[i + n] & 0xc0) == 0x80; n++)
			;
		memcpy(seq, u + i, n);
		seq[n] = '\0';
		strbuf_reset(&one);
		cst_add_shown(&one, seq, sizeof(seq));
		if (one.len == n && !memcmp(one.buf, seq, n)) {
			strbuf_add(sb, u + i, n);
			i += n;
		} else {
			strbuf_addstr(sb, "\\ufffd");
			i++;
		}
	}
	strbuf_release(&one);
}

int cst_json_print(cJSON *root, struct cst_error *e)
{
	struct strbuf sb = STRBUF_INIT;
	char *text = cJSON_Print(root);

	if (!text)
		cst_oom();
	json_add_safe(&sb, text);
	puts(sb.buf);
	strbuf_release(&sb);
	free(text);
	if (ferror(stdout))
		return cst_error_errno(e, CST_ERR_SYSTEM, "cannot write to stdout");
	return 0;
}

void cst_format_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		strcpy(out, "never");
		return;
	}
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%" PRId64, t);
}

char *cst_shown(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	if (!s || !*s)
		return xstrdup("-");
	cst_add_shown(&sb, s, CST_MAX_SHOWN);
	return strbuf_detach(&sb, NULL);
}

void cst_table_init(struct cst_table *t, size_t ncols, size_t keep)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
	t->keep = keep;
}

void cst_table_add(struct cst_table *t, const char *const *vals)
{
	char **cells = xcalloc((t->nrows + 1) * t->ncols, sizeof(*cells));
	size_t i;

	if (t->cells)
		memcpy(cells, t->cells, t->nrows * t->ncols * sizeof(*cells));
	for (i = 0; i < t->ncols; i++)
		cells[t->nrows * t->ncols + i] = cst_shown(vals[i]);
	free(t->cells);
	t->cells = cells;
	t->nrows++;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* COLUMNS when set, else the width of the terminal on stdout, else 80. */
static size_t output_width(void)
{
	const char *env = getenv_nonempty("COLUMNS");
	struct winsize ws;
	int64_t n;

	if (env && !parse_int64(env, 20, 10000, &n))
		return (size_t)n;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* Narrows the widest cuttable column, one column at a time, until the rows fit limit. */
static void fit_widths(const struct cst_table *t, size_t *width, size_t limit)
{
	size_t total = 2 * (t->ncols - 1), c, widest, min;

	for (c = 0; c < t->ncols; c++)
		total += width[c];
	while (total > limit) {
		widest = t->ncols;
		for (c = 0; c < t->ncols; c++) {
			min = c == t->keep ? width[c] : text_width(t->cells[c]);
			if (width[c] > min && (widest == t->ncols || width[c] > width[widest]))
				widest = c;
		}
		if (widest == t->ncols)
			return;
		width[widest]--;
		total--;
	}
}

/* cell in at most w columns: cut short, it ends in an ellipsis. Returns the columns used. */
static size_t put_cell(const char *cell, size_t w, FILE *fp)
{
	size_t n = text_width(cell), used = 0;

	if (n <= w) {
		fputs(cell, fp);
		return n;
	}
	for (; *cell; cell++) {
		bool starts = ((unsigned char)*cell & 0xc0) != 0x80;

		if (starts && used + 1 >= w)
			break;
		used += starts;
		fputc(*cell, fp);
	}
	fputs("\u2026", fp);
	return used + 1;
}

void cst_table_print(const struct cst_table *t, FILE *fp)
{
	size_t *width = xcalloc(t->ncols, sizeof(*width));
	size_t r, c, w;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			w = text_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	fit_widths(t, width, output_width());
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			w = put_cell(t->cells[r * t->ncols + c], width[c], fp);
			if (c + 1 == t->ncols)
				break;
			for (; w < width[c] + 2; w++)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	free(width);
}

void cst_table_release(struct cst_table *t)
{
	size_t i;

	for (i = 0; t->cells && i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	cst_table_init(t, t->ncols, t->keep);
}
