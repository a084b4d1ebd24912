/* status.h - the status document the agent PUTs to the provisioning server
 * (<status-url>status.xml). Format: docs/status.md. Pure: no I/O, no libxml2. */
#ifndef DSA_PROVISIONING_STATUS_H
#define DSA_PROVISIONING_STATUS_H

#include <stddef.h>
#include <time.h>

enum status_state {
	STATUS_PROVISIONING = 0,   /* no usable config yet, fetching */
	STATUS_PROVISIONED,        /* config applied */
	STATUS_REGISTERED,         /* config applied and SIP registered */
	STATUS_FAILED,             /* see reason */
};

#define STATUS_MAX_ADDRS 8

struct status_info {
	const char *mac;            /* "02:00:5e:10:00:01" */
	const char *model;
	const char *version;        /* agent version (NULL: this build's) */
	const char *etag_common;    /* ETags of the config in force (NULL or "": none) */
	const char *etag_mac;
	enum status_state state;
	const char *reason;         /* why, for FAILED (and optional detail otherwise) */
	time_t since;               /* when the state was entered (wall clock) */
	const char *registrar;      /* name in use ("east") or NULL */
	const char *registrar_host;
	const char *transport;      /* "udp" ... */
	const char *addrs[STATUS_MAX_ADDRS];  /* "eth0 192.168.50.100/24", NULL-terminated */
	const char *selftest_xml;   /* latest self-test report (an XML document) or NULL */
	size_t selftest_len;
	const char *selftest_href;  /* or a URL where the report was uploaded */
	time_t now;                 /* time of the report (0: time(NULL)) */
};

/* Name of a state ("provisioning", "provisioned", "registered", "failed"). */
const char *status_state_name(enum status_state s);

/* Build the document (malloc'd, NUL-terminated) into out and len, without
 * libxml2. The self-test report is this agent's own diag_report_xml() text,
 * embedded as it is less its XML declaration; one with a DOCTYPE, an entity,
 * a NUL, over 256 KiB or not an element is left out and noted in the
 * document. 0 or -ENOMEM/-EINVAL. */
int status_build(const struct status_info *si, char **out, size_t *len);

#endif
