/* probe.h - socket helpers shared by the self-test's checks (internal to diag/). */
#ifndef DSA_DIAG_PROBE_H
#define DSA_DIAG_PROBE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The reflector's reply header (tests/lab/reflector.c, 32 bytes). */
#define DIAG_REFL_HDR 32
#define DIAG_REFL_MAX_ECHO 1400

struct diag_refl {
	int tos;             /* TOS byte the reflector received, -1 if unknown */
	unsigned orig_port;  /* destination port the probe was sent to, 0 if unknown */
	uint32_t delay_us;   /* delay the reflector applied */
	int64_t rx_ns;       /* its receive time (kernel's when rx_kernel), CLOCK_REALTIME */
	int64_t tx_ns;       /* its send time (read just before sending) */
	bool rx_kernel;
	bool truncated;
	const uint8_t *payload;
	size_t plen;
};

/* What came with a datagram. */
struct diag_rx {
	int64_t ts_ns;       /* CLOCK_REALTIME, the kernel's (SO_TIMESTAMPNS) when given */
	int tos;             /* IP_RECVTOS, -1 if none */
};

/* A non-blocking UDP socket connected to dst (a sockaddr_in or sockaddr_in6, by its family),
 * marked with dscp (< 0: unmarked; IPV6_TCLASS on IPv6), with kernel receive timestamps and
 * IP_RECVTOS / IPV6_RECVTCLASS; ttl > 0 sets IP_TTL / IPV6_UNICAST_HOPS and IP(V6)_RECVERR.
 * The fd, or -errno. */
int diag_udp_open(const void *dst, int dscp, int ttl);

/* Receive one datagram into buf; its length, -EAGAIN when none, or -errno (e.g.
 * -ECONNREFUSED from an ICMP port unreachable). */
ssize_t diag_udp_recv(int fd, void *buf, size_t cap, struct diag_rx *rx);

/* The reflector's own time between receiving and answering, beyond the delay it was asked for
 * (its scheduling lateness, not the network's); 0 when unknown or negative. */
int64_t diag_refl_overshoot_ns(const struct diag_refl *h);

/* Parse a reflector reply; 0 or -EBADMSG. */
int diag_refl_parse(const uint8_t *buf, size_t len, struct diag_refl *h);

/* A DSCP value both ways, "46/EF", "34/AF41", "0/CS0", "7" (no name), into buf (>= 12). */
const char *diag_dscp_name(int dscp, char *buf, size_t cap);

/* CLOCK_REALTIME in ns. */
int64_t diag_realtime_ns(void);

/* sin from an address and port. */
void diag_sin(struct sockaddr_in *sin, struct in_addr a, unsigned port);

struct diag_ctx;
struct diag_check;

/* Take one token of the budget of server h (enum diag_host, or DIAG_BGT_DNS: the resolvers)
 * for c: 0, or -EDQUOT (nothing may be sent; counted in c->refused). Before a sendto(), a
 * connect(), a probe handed to a job, or (its worst case, one token at a time) a request whose
 * datagrams another module sends (c-ares). */
int diag_take(struct diag_check *c, int h);

/* The one way a check's datagram or request leaves a connected socket: a token of server h's
 * budget, then send(). The bytes sent, -EDQUOT when the budget refused (nothing sent), or
 * -errno. */
ssize_t diag_send(struct diag_check *c, int h, int fd, const void *buf, size_t len, int flags);

/* strerror(-err), but a budget's refusal (-EDQUOT) in words a technician reads right. */
const char *diag_strerror(int err);

/* ms jittered by +-20 % (utl_random_range): every retransmission interval of a probe. */
uint32_t diag_jitter(uint32_t ms);

/* Runner hook: when c's server budgets refused probes, say so in its result (value
 * budget_refused, the advice) and make a FAIL or WARN INCONCLUSIVE: a kept-back probe is not
 * loss on the network. */
void diag_budget_note(struct diag_check *c);

/* Where the checks probe host h on port: over IPv4 when the phone and h have IPv4 addresses,
 * else over IPv6 (a global address, an AAAA) -- the family media use (IPv4 first today).
 * dst is a sockaddr_in or a sockaddr_in6; 4, 6, or 0 when neither family can reach h. */
int diag_dst(const struct diag_ctx *x, int h, unsigned port, struct sockaddr_in6 *dst);

/* "a.b.c.d" of a (static buffer per call site is not used: caller's buf, >= 16). */
const char *diag_ntoa(struct in_addr a, char *buf);

/* RFC 1918 private, or carrier-grade NAT 100.64.0.0/10. */
bool diag_ip_private(struct in_addr a);
bool diag_ip_cgnat(struct in_addr a);

/* The address of sa (a sockaddr_in or sockaddr_in6) as a URI host: "a.b.c.d", or "[v6]" (RFC 3986,
 * RFC 5118) into buf (>= INET6_ADDRSTRLEN + 2); buf. */
const char *diag_host_str(const void *sa, char *buf);

/* The local address of a connected socket fd as a URI host (diag_host_str) and its port;
 * 0 or -errno. */
int diag_local_host(int fd, char *buf, unsigned *port);

#endif
