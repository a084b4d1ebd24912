/* natverdict.h - the NAT situation from the evidence (TTL hops, STUN), one verdict per situation.
 *
 * Pure (no I/O): the NAT check records what it saw, this decides which of the
 * situations it is and words the advice an IT lead can act on. Table-driven
 * (natverdict.c), unit-tested from recorded hop lists (tests/unit/test_diag_nat.c).
 */
#ifndef DSA_DIAG_NATVERDICT_H
#define DSA_DIAG_NATVERDICT_H

#include <netinet/in.h>
#include <stdbool.h>

#include "diag/verdict.h"

#define DIAG_NAT_MAX_HOPS 6

/* What answered a probe sent with TTL n (n = index + 1). */
enum diag_hop_kind {
	DIAG_HOP_SILENT = 0,                 /* nothing came back: the hop list ends here */
	DIAG_HOP_ROUTER,                     /* ICMP time exceeded from addr */
	DIAG_HOP_TARGET,                     /* the probe reached the server */
};

struct diag_nat_hop {
	enum diag_hop_kind kind;
	struct in_addr addr;                 /* DIAG_HOP_ROUTER only */
};

/* The evidence the NAT check gathered. */
struct diag_nat_evidence {
	struct in_addr local;                /* the phone's own address */
	struct diag_nat_hop hops[DIAG_NAT_MAX_HOPS];
	unsigned nhops;                      /* TTL 1..nhops, in order */
	bool stun;                           /* a STUN binding answered */
	struct in_addr mapped;               /* its mapped (public) address */
};

enum diag_nat_kind {
	DIAG_NAT_NONE = 0,                   /* the phone has a public address */
	DIAG_NAT_ONE,                        /* one NAT: the normal case */
	DIAG_NAT_DOUBLE,                     /* two private hops the customer owns */
	DIAG_NAT_CGNAT,                      /* the ISP's carrier-grade NAT (100.64.0.0/10) */
	DIAG_NAT_CGNAT_DOUBLE,               /* CGNAT and a customer double NAT */
	DIAG_NAT_UNKNOWN,                    /* STUN silent, no other evidence */
	DIAG_NAT_KIND_COUNT
};

/* The judgement: situation, verdict and the words for the report. */
struct diag_nat_judgement {
	enum diag_nat_kind kind;
	enum diag_verdict verdict;
	unsigned customer_hops;              /* private (RFC 1918) hops before the ISP */
	char customer[64];                   /* "192.168.50.1 and 192.168.1.1" */
	char cgnat[48];                      /* the CGNAT evidence: "hop 100.64.0.1", "" if none */
	char brief[48];
	char advice[320];
};

/* Judge the evidence; keepalive_s is the provisioned NAT keepalive (named in the CGNAT advice). */
void diag_nat_judge(const struct diag_nat_evidence *ev, unsigned keepalive_s, struct diag_nat_judgement *j);

/* IPv6 (one STUN Binding from the phone's global address): is the address translated? */
enum diag_nat6_kind {
	DIAG_NAT6_NATIVE = 0,                /* mapped == local: no NAT (native IPv6) */
	DIAG_NAT6_NPT,                       /* the address differs, the port kept: NPTv6 (RFC 6296) */
	DIAG_NAT6_NAT66,                     /* the port rewritten too: a stateful NAT66 */
	DIAG_NAT6_UNKNOWN,                   /* STUN silent over IPv6 */
	DIAG_NAT6_KIND_COUNT
};

struct diag_nat6_judgement {
	enum diag_nat6_kind kind;
	enum diag_verdict verdict;
	char brief[48];
	char advice[224];
};

/* Judge IPv6 from the probe socket's own address and STUN's mapping of it (mapped NULL: STUN
 * did not answer); stun_port is named when it is silent. */
void diag_nat6_judge(const struct sockaddr_in6 *local, const struct sockaddr_in6 *mapped, unsigned stun_port,
		     struct diag_nat6_judgement *j);

/* "native", "nptv6", "nat66", "unknown". */
const char *diag_nat6_kind_name(enum diag_nat6_kind k);

/* "none", "one", "double", "cgnat", "cgnat+double", "unknown". */
const char *diag_nat_kind_name(enum diag_nat_kind k);

/* RFC 1918 private (not the shared 100.64.0.0/10). */
bool diag_ip_rfc1918(struct in_addr a);

/* RFC 6598 shared address space 100.64.0.0/10 (carrier-grade NAT). */
bool diag_ip_shared(struct in_addr a);

#endif
