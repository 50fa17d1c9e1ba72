/*
 * What the shared store reads from outside: the shared value any member may have
 * written (cst_shared_value_parse), the etcd gateway's error body (cst_etcd_grpc_error),
 * its kvs entries (cst_etcd_rec_from_kv) and the base64 they carry (cst_base64_decode).
 * The first byte picks the parser, the rest is the input. Whatever comes, a value the
 * parser accepts holds only what passes the syntax checks (a plain token and uids, text
 * fit for a terminal) and prints back to the same value; a message is printable ASCII;
 * base64 decodes to what it encodes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cstoken/shared.h"
#include "cstoken/util.h"
#include "fuzz_check.h"
#include "shared_etcd.h"
#include "shared_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const struct shared_token *t)
{
	size_t i;

	check(cst_plain_token(t->token) && cst_plain_uid(t->uid) && t->scope);
	check(t->expiry >= 0 && t->minted_at >= 0 && t->nretired <= MAX_RETIRED);
	/* name and minted_by are shown in messages and tables */
	check(t->name && fuzz_printable(t->name, true) && t->minted_by &&
	      fuzz_printable(t->minted_by, true));
	for (i = 0; i < t->nretired; i++)
		check(cst_plain_uid(t->retired[i].uid) && t->retired[i].since >= 0);
}

static void fuzz_value(const char *text)
{
	struct shared_token t, again;
	char *printed;
	size_t i;

	if (cst_shared_value_parse(text, &t)) {
		check(!t.token && !t.uid && !t.scope && !t.nretired);
		return;
	}
	check_value(&t);
	/* what retire_due writes back is read the same by every member */
	printed = cst_shared_value_print(&t);
	if (strlen(printed) < MAX_VALUE) {
		check(cst_shared_value_parse(printed, &again) == 0);
		check_value(&again);
		check(!strcmp(t.token, again.token) && !strcmp(t.uid, again.uid) &&
		      !strcmp(t.scope, again.scope) && t.expiry == again.expiry &&
		      t.minted_at == again.minted_at && t.nretired == again.nretired);
		for (i = 0; i < t.nretired; i++)
			check(!strcmp(t.retired[i].uid, again.retired[i].uid) &&
			      t.retired[i].since == again.retired[i].since);
		cst_shared_value_release(&again);
	}
	free_secret(printed);
	cst_shared_value_release(&t);
}

static void fuzz_base64(const char *text, const uint8_t *raw, size_t len)
{
	struct strbuf dec = STRBUF_INIT, enc = STRBUF_INIT, back = STRBUF_INIT;
	size_t n = strlen(text);

	/* what cstoken encodes comes back byte for byte */
	cst_base64_encode(&enc, raw, len);
	check(enc.len == (len + 2) / 3 * 4);
	check(cst_base64_decode(&back, enc.buf ? enc.buf : "") == 0);
	check(back.len == len && (!len || !memcmp(back.buf, raw, len)));
	strbuf_release(&enc);
	strbuf_release(&back);
	/* what it accepts from etcd has the length the text says */
	if (!cst_base64_decode(&dec, text)) {
		size_t pad = n && text[n - 1] == '=' ? (n >= 2 && text[n - 2] == '=' ? 2 : 1) : 0;

		check(n % 4 == 0 && dec.len == n / 4 * 3 - pad);
		cst_base64_encode(&enc, dec.buf, dec.len);
		check(enc.len == n);
		check(cst_base64_decode(&back, enc.buf ? enc.buf : "") == 0);
		check(back.len == dec.len && (!dec.len || !memcmp(back.buf, dec.buf, dec.len)));
	}
	strbuf_release(&dec);
	strbuf_release(&enc);
	strbuf_release(&back);
}

static void fuzz_grpc_error(const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	char msg[256];

	msg[0] = '\0';
	if (cst_etcd_grpc_error(j, msg, sizeof(msg)))
		check(fuzz_printable(msg, false));
	cJSON_Delete(j);
}

/* A range answer: every kvs entry, as etcd_read takes them. */
static void fuzz_range(const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const cJSON *kv;

	cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(j, "kvs"))
	{
		struct cst_shared_rec rec = {0};
		struct strbuf sb = STRBUF_INIT;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");

		if (!cst_etcd_rec_from_kv(kv, &rec)) {
			/* a value is C text: the decoded bytes hold no NUL */
			check(rec.value != NULL);
			check(!cst_base64_decode(&sb, cJSON_IsString(v) ? v->valuestring : ""));
			check(sb.len == strlen(rec.value) &&
			      !memcmp(sb.buf ? sb.buf : "", rec.value, sb.len));
		} else {
			check(rec.value == NULL);
		}
		strbuf_release(&sb);
		free_secret(rec.value);
	}
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	text = fuzz_text(data + 1, len);
	switch (data[0] % 4) {
	case 0:
		fuzz_value(text);
		break;
	case 1:
		fuzz_base64(text, data + 1, len);
		break;
	case 2:
		fuzz_grpc_error(text, len);
		break;
	default:
		fuzz_range(text, len);
		break;
	}
	free(text);
	return 0;
}
