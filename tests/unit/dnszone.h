/* dnszone.h - a DNS server for unit tests: UDP on 127.0.0.1 (ephemeral port), on the
 * loop, answering from a table of A/AAAA/SRV/NAPTR records (compressed owner names).
 * A name not in the table: NXDOMAIN; in it without the type: NOERROR, no answer.
 * "servfail.test": SERVFAIL; "drop.test": never answered (counted in dropped). */
#ifndef DSA_TEST_DNSZONE_H
#define DSA_TEST_DNSZONE_H

#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"

enum { T_A = 1, T_AAAA = 28, T_SRV = 33, T_NAPTR = 35 };

struct dz_rr {
	const char *name;
	int type;
	uint32_t ttl;
	const char *a;                 /* A / AAAA text */
	uint16_t p1, p2, port;         /* SRV prio/weight/port, NAPTR order/pref */
	const char *flags, *service, *target;
};

struct dz {
	struct ev_fd w;
	int port;
	unsigned queries, dropped;
	const struct dz_rr *zone;
	size_t n;
};

extern struct dz dz;

/* Serve zone (n records; kept by reference) on 127.0.0.1:dz.port. 0 or -1. */
int dz_start(const struct dz_rr *zone, size_t n);

/* Stop serving. */
void dz_stop(void);

/* Write name as DNS labels at b + n; the new offset. */
size_t dz_put_name(uint8_t *b, size_t n, const char *name);

#endif
