/* The shared store's etcd backend as module cstoken-etcd exports it; lazy.c reaches it. */
#ifndef CSTOKEN_SHARED_ETCD_H
#define CSTOKEN_SHARED_ETCD_H

#include "cstoken/shared.h"
#include "module.h"

struct cst_shared_etcd_module {
	struct cst_module_head head;
	const struct cst_shared_ops *ops; /* shared.h's contract */
};

/*
 * The etcd gateway's answers as shared_etcd.c reads them, for fuzz/fuzz_shared.c: the
 * error body's gRPC code (0: not an error) with its message, printable, in msg; and one
 * kvs entry's value base64-decoded into rec (CST_ERR_INVALID when it is not text).
 */
struct cJSON;
long cst_etcd_grpc_error(const struct cJSON *j, char *msg, size_t n);
int cst_etcd_rec_from_kv(const struct cJSON *kv, struct cst_shared_rec *rec);

#endif
