/* famverdict.h - which IP family the phone uses for the platform, and why (dual stack).
 *
 * Pure (no I/O): the address, DNS, SIP and NAT checks record what they saw; this picks
 * the row of a table (famverdict.c) and words it for the IT lead: "IPv4 behind
 * carrier-grade NAT, IPv6 native: the phone uses IPv6". Unit-tested row by row
 * (tests/unit/test_diag_family.c).
 */
#ifndef DSA_DIAG_FAMVERDICT_H
#define DSA_DIAG_FAMVERDICT_H

#include <stdbool.h>

#include "diag/natverdict.h"
#include "diag/verdict.h"

/* What IPv6 the phone has on its interface. */
enum diag_fam_v6 {
	DIAG_V6_NONE = 0,                    /* no IPv6 address at all */
	DIAG_V6_LINKLOCAL,                   /* fe80:: only: no router advertises a prefix */
	DIAG_V6_GLOBAL,                      /* a global address (SLAAC, DHCPv6 or static) */
};

/* Whether a registrar answered SIP over a family. */
enum diag_fam_reach {
	DIAG_REACH_UNTESTED = 0,             /* not probed over this family */
	DIAG_REACH_NONE,                     /* probed, no registrar answered */
	DIAG_REACH_OK,                       /* at least one registrar answered */
};

/* The evidence, from the other checks' results. */
struct diag_fam_evidence {
	bool v4;                             /* a usable IPv4 address */
	enum diag_fam_v6 v6;
	bool aaaa;                           /* a registrar's name has an AAAA record */
	enum diag_nat_kind nat;              /* the NAT check's situation; DIAG_NAT_KIND_COUNT: not run */
	enum diag_fam_reach reach4, reach6;
};

enum diag_fam_kind {
	DIAG_FAM_V6_CGNAT = 0,               /* both work, IPv4 behind CGNAT: IPv6 */
	DIAG_FAM_DUAL,                       /* both work: IPv6, IPv4 the fall-back */
	DIAG_FAM_NO_V4,                      /* the phone has no IPv4 address, IPv6 works */
	DIAG_FAM_V6_ONLY,                    /* only IPv6 reaches the platform */
	DIAG_FAM_V6_NO_ROUTE,                /* IPv6 address, AAAA, no IPv6 answer: IPv4 */
	DIAG_FAM_V6_NO_AAAA,                 /* IPv6 address, the names have no AAAA: IPv4 */
	DIAG_FAM_V4_CGNAT,                   /* IPv4 only, behind CGNAT */
	DIAG_FAM_V4_ONLY,                    /* IPv4 only */
	DIAG_FAM_NONE,                       /* neither family reaches the platform */
	DIAG_FAM_UNTESTED,                   /* no registrar was probed */
	DIAG_FAM_KIND_COUNT
};

/* The judgement: the family the phone uses and the words for the report. */
struct diag_fam_judgement {
	enum diag_fam_kind kind;
	int family;                          /* AF_INET6, AF_INET, or 0 (none) */
	enum diag_verdict verdict;
	char situation[112];                 /* "IPv4 behind carrier-grade NAT, IPv6 native: ..." */
	char brief[48];
	char advice[320];
};

/* Judge the evidence (first matching row of the table). */
void diag_fam_judge(const struct diag_fam_evidence *ev, struct diag_fam_judgement *j);

/* "ipv6+cgnat", "dual", "no-ipv4", "ipv6-only", "ipv6-no-route", "ipv6-no-aaaa", "ipv4+cgnat",
 * "ipv4-only", "none", "untested". */
const char *diag_fam_kind_name(enum diag_fam_kind k);

/* "IPv6", "IPv4" or "none" for an address family (AF_INET6, AF_INET, 0). */
const char *diag_fam_name(int family);

#endif
