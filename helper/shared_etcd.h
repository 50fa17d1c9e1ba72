/* The shared store's etcd backend as module cstoken-etcd exports it; lazy.c reaches it. */
#ifndef CSTOKEN_SHARED_ETCD_H
#define CSTOKEN_SHARED_ETCD_H

#include "cstoken/shared.h"
#include "module.h"

struct cst_shared_etcd_module {
	struct cst_module_head head;
	const struct cst_shared_ops *ops; /* shared.h's contract */
};

#endif
