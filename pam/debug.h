/* Logging of pam_cstoken: syslog through pam_syslog (LOG_AUTHPRIV), never a secret. */
#ifndef PAM_CSTOKEN_DEBUG_H
#define PAM_CSTOKEN_DEBUG_H

#include <syslog.h>

#include <security/pam_ext.h>

/* Details for administrators, only with the `debug` argument; with file and line. */
#define pcs_debug(pamh, on, fmt, ...)                                                              \
	do {                                                                                       \
		if (on)                                                                            \
			pam_syslog(pamh, LOG_DEBUG, "%s:%d: " fmt, __FILE__, __LINE__,             \
				   ##__VA_ARGS__);                                                 \
	} while (0)

#endif
