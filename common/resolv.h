/* resolv.h - the agent's one DNS resolver: c-ares on the event loop, and RFC 3263.
 *
 * Lookups (A+AAAA, SRV, NAPTR) run on a c-ares channel per lookup whose
 * sockets are watched by the loop (ares_sock_state_cb); nothing blocks and
 * no thread is used. c-ares reads /etc/resolv.conf (name servers, search,
 * ndots, options timeout/attempts/rotate), /etc/hosts (addresses only),
 * encodes and parses the messages and falls back to TCP on truncation.
 * Timing is ours, on the loop's clock: c-ares is given a timeout it never
 * reaches and one try per server; each try of ours re-sends the query to the
 * next server (timeout from resolv.conf, clamped to 200..5000 ms, +0-10 %
 * jitter; attempts clamped to 1..4), and the lookup fails with -ETIMEDOUT
 * after the last try. Results always arrive through the callback, from the
 * loop, never from inside the call that started the lookup.
 * DSA_RESOLV_CONF and DSA_HOSTS override the two file names, DSA_DNS_SERVERS
 * ("127.0.0.1:5353,...") resolv.conf's servers (tests).
 *
 * rsv_sip_resolve applies RFC 3263 to a registrar: NAPTR (SIP+D2U, SIP+D2T,
 * SIPS+D2T, filtered by the provisioned transports), SRV (RFC 2782 order),
 * then A/AAAA; a literal host, a name in the hosts file or an explicit port
 * skips NAPTR and SRV.
 * The pure steps (NAPTR choice, SRV order, address order, the target list)
 * are exported for tests and the fuzz target.
 */
#ifndef DSA_COMMON_RESOLV_H
#define DSA_COMMON_RESOLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RSV_NAME_MAX   256
#define RSV_MAX_RR     16      /* records kept per answer */
#define RSV_MAX_ADDR   8       /* addresses kept per name */
#define RSV_MAX_TARGETS 16     /* RFC 3263 targets kept */
#define RSV_TTL_MIN    30      /* seconds: TTLs are clamped to [RSV_TTL_MIN, RSV_TTL_MAX] */
#define RSV_TTL_MAX    86400

/* Transports, numbered as enum sip_tp_kind; masks are 1u << RSV_TP_x. */
enum rsv_tp { RSV_TP_UDP = 0, RSV_TP_TCP, RSV_TP_TLS };

enum rsv_type { RSV_ADDR = 0, RSV_SRV, RSV_NAPTR };

struct rsv_srv {
	uint16_t prio, weight, port;
	char target[RSV_NAME_MAX];
};

struct rsv_naptr {
	uint16_t order, pref;
	char flags[8];
	char service[32];
	char replacement[RSV_NAME_MAX];
};

struct rsv_result {
	int err;                   /* 0 or negative: see rsv_strerror */
	uint32_t ttl;              /* smallest TTL of the answer, clamped; literals and hosts: RSV_TTL_MAX */
	size_t n;                  /* records in the array of the type asked for */
	struct sockaddr_storage addr[RSV_MAX_ADDR];  /* RSV_ADDR: port 0, in RFC 6724-ish order */
	struct rsv_srv srv[RSV_MAX_RR];              /* RSV_SRV: in the answer's order */
	struct rsv_naptr naptr[RSV_MAX_RR];          /* RSV_NAPTR: in the answer's order */
};

struct rsv_opts {
	const char *servers;       /* "ip[:port],..." (c-ares CSV) instead of resolv.conf's; NULL: resolv.conf */
	const char *resolv_conf;   /* NULL: $DSA_RESOLV_CONF or /etc/resolv.conf */
	unsigned timeout_ms;       /* per try; 0: resolv.conf's (clamped 200..5000) */
	unsigned tries;            /* 0: resolv.conf's attempts (clamped 1..4) */
	int family;                /* RSV_ADDR: AF_UNSPEC (both), AF_INET or AF_INET6 */
	int prefer;                /* address order: AF_INET6 (RFC 6724 default) or AF_INET */
};

struct rsv_query;
typedef void (*rsv_cb)(struct rsv_query *q, const struct rsv_result *res, void *arg);

/* Start a lookup of name; cb runs once from the loop unless cancelled. o may be NULL. 0 or -errno. */
int rsv_lookup(const char *name, enum rsv_type type, const struct rsv_opts *o, rsv_cb cb, void *arg,
	       struct rsv_query **out);

/* Cancel a lookup; its callback will not run. NULL is harmless. */
void rsv_cancel(struct rsv_query *q);

/* Queries sent so far by this lookup (every try, every server; tests). */
unsigned rsv_query_sent(const struct rsv_query *q);

/* A failure in words, naming the cause and the fix where there is one. */
const char *rsv_strerror(int err);

/* ------------------------------------------------------------ RFC 3263 */

struct rsv_target {
	struct sockaddr_storage addr;  /* with the port */
	enum rsv_tp tp;
	uint16_t prio, weight;         /* from SRV; 0 without */
	uint32_t ttl;                  /* smallest TTL on the way (NAPTR, SRV, address), clamped */
	char host[RSV_NAME_MAX];       /* the SRV target (or the name itself) */
	char via[12];                  /* how it was found: "NAPTR", "SRV", "A/AAAA", "hosts", "literal" */
};

struct rsv_targets {
	int err;                       /* 0 (n >= 1) or negative */
	size_t n;
	struct rsv_target t[RSV_MAX_TARGETS];
};

struct rsv_sip;
typedef void (*rsv_sip_cb)(struct rsv_sip *s, const struct rsv_targets *res, void *arg);

/* Resolve a registrar: host (name or literal), port (0: none given), the provisioned
 * transports as a mask (1u << RSV_TP_x) and the preferred one. cb runs once from
 * the loop unless cancelled. o may be NULL. 0 or -errno. */
int rsv_sip_resolve(const char *host, int port, unsigned tp_mask, enum rsv_tp tp_pref,
		    const struct rsv_opts *o, rsv_sip_cb cb, void *arg, struct rsv_sip **out);

/* Cancel; its callback will not run. NULL is harmless. */
void rsv_sip_cancel(struct rsv_sip *s);

/* ------------------------------------------------------------ pure steps */

/* Random numbers for SRV weighting: returns a value in [0, bound) (bound >= 1). */
typedef uint32_t (*rsv_rng)(uint32_t bound, void *arg);

/* RFC 2782 order: by priority, within a priority weighted random (weight 0 records
 * first in the running sum, as the RFC says); a target "." drops the record.
 * Sorts rr in place, returns the number kept. rng NULL: utl_random. */
size_t rsv_srv_order(struct rsv_srv *rr, size_t n, rsv_rng rng, void *rng_arg);

/* RFC 3263 4.1: the NAPTR records usable for the transports in tp_mask (flag "s",
 * services SIP+D2U, SIP+D2T, SIPS+D2T), by order then preference (stable).
 * Writes the indexes into rr to idx and the transport of each to tp; the count. */
size_t rsv_naptr_pick(const struct rsv_naptr *rr, size_t n, unsigned tp_mask, size_t *idx,
		      enum rsv_tp *tp, size_t max);

/* Order addresses (RFC 6724 in brief, RFC 8305 interleaving): the preferred family
 * first, then alternate families; within a family global before ULA/private,
 * before link-local; loopback last; otherwise the answer's order. In place. */
void rsv_addr_order(struct sockaddr_storage *a, size_t n, int prefer);

/* The smallest TTL of the answer records of a DNS message (clamped), or -EBADMSG.
 * Every length checked; compression pointers bounded. */
int rsv_msg_ttl(const unsigned char *msg, size_t len, uint32_t *ttl);

/* Parse an answer of type (RSV_SRV, RSV_NAPTR; c-ares parsers plus rsv_msg_ttl) into r.
 * 0 or negative (as in rsv_result.err). */
int rsv_parse(enum rsv_type type, const unsigned char *msg, size_t len, struct rsv_result *r);

/* Clamp a TTL from a server to [RSV_TTL_MIN, RSV_TTL_MAX]. */
uint32_t rsv_ttl_clamp(uint32_t ttl);

/* Default port of a transport (5060, 5061 for TLS). */
int rsv_default_port(enum rsv_tp tp);

#endif
