/* Stub: replaced by the per-profile lock. */
#include "cstoken/util.h"
