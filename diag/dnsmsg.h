/* dnsmsg.h - DNS query building and answer parsing for the self-test (pure, RFC 1035).
 *
 * Only what the DNS check needs: one question, class IN, type A; answers are
 * checked against the query (ID, QR, question) and CNAME chains are followed
 * inside the message. Compression pointers are bounded; every length is checked.
 */
#ifndef DSA_DIAG_DNSMSG_H
#define DSA_DIAG_DNSMSG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define DNSMSG_MAX_UDP 1232
#define DNSMSG_TYPE_A 1
#define DNSMSG_TYPE_CNAME 5

/* Build a recursive query for name/qtype with id into buf; length or -EINVAL / -ENOSPC. */
int dnsmsg_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype);

/* Parse the answer msg to an A query for qname with id. Stores up to max addresses in
 * out (*n of them) and the response code in *rcode. Returns 0 (possibly *n == 0: no
 * A record), -EBADMSG (malformed), -ESRCH (not the answer to this query). */
int dnsmsg_parse_a(const uint8_t *msg, size_t len, uint16_t id, const char *qname,
		   struct in_addr *out, size_t max, size_t *n, int *rcode);

/* Text for a DNS response code ("NXDOMAIN", "SERVFAIL", ...). */
const char *dnsmsg_rcode_name(int rcode);

#endif
