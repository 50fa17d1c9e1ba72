/* Stub: replaced by the minting policy. */
#include "cstoken/mint.h"
