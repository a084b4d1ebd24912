/* dns.h - non-blocking resolution of registrar names on the event loop.
 *
 * IP literals are used as they are; names are looked up in /etc/hosts and
 * then with a UDP DNS query (type A, IPv4) to the name servers of
 * /etc/resolv.conf, retried over up to three servers with a 2 s timeout
 * each. getaddrinfo would block the loop, getaddrinfo_a uses threads.
 * The results always arrive through the callback, from the loop, never
 * from inside sip_dns_resolve. DSA_RESOLV_CONF and DSA_HOSTS override the
 * two file names (tests).
 */
#ifndef DSA_SIP_DNS_H
#define DSA_SIP_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sip_dns;

/* err is 0 (addr set, port 0) or negative: see sip_dns_strerror. */
typedef void (*sip_dns_cb)(struct sip_dns *d, int err, const struct sockaddr_storage *addr, void *arg);

/* Start resolving host; the callback runs once unless cancelled. 0 or -errno. */
int sip_dns_resolve(const char *host, sip_dns_cb cb, void *arg, struct sip_dns **out);

/* Cancel a lookup; its callback will not run. */
void sip_dns_cancel(struct sip_dns *d);

/* A failure in words ("name not found (NXDOMAIN)", ...). */
const char *sip_dns_strerror(int err);

/* Build an A/AAAA query for name with id into buf. 0 or -EINVAL/-ENOSPC. Pure. */
int sip_dns_build_query(const char *name, uint16_t id, uint16_t qtype, unsigned char *buf,
			size_t size, size_t *len);

/* Take the first IPv4 address from an answer to query id. 0, -ENOENT (NXDOMAIN),
 * -ENODATA (no address), -EBADMSG (malformed, wrong id, truncated). Pure. */
int sip_dns_parse_answer(const unsigned char *buf, size_t len, uint16_t id,
			 struct sockaddr_storage *addr);

#endif
