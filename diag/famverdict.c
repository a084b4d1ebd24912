/* famverdict.c - the IP family the phone uses for the platform (pure, table-driven). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "diag/famverdict.h"

/* Row conditions: ANY matches everything. */
enum { ANY = -1 };
enum { R_OK = 1, R_NOT_OK = 2, R_NONE = 3, R_TESTED = 4 };

/* One row per situation, first match wins. reach: R_*; v6: DIAG_V6_GLOBAL or ANY;
 * v4 (an IPv4 address), aaaa, cgnat: 1, 0 or ANY. No pointers (a relocation each): row i's
 * words are fields 4i..4i+3 of fam_text. */
static const struct {
	unsigned char kind;                  /* enum diag_fam_kind */
	signed char v4, reach4, reach6, v6, aaaa, cgnat;
	unsigned char family;
	unsigned char verdict;               /* enum diag_verdict */
} rows[DIAG_FAM_KIND_COUNT] = {
	{ DIAG_FAM_UNTESTED, ANY, ANY, ANY, ANY, ANY, ANY, 0, DIAG_SKIP },
	{ DIAG_FAM_V6_CGNAT, ANY, R_OK, R_OK, ANY, ANY, 1, AF_INET6, DIAG_PASS },
	{ DIAG_FAM_DUAL, ANY, R_OK, R_OK, ANY, ANY, ANY, AF_INET6, DIAG_PASS },
	{ DIAG_FAM_NO_V4, 0, ANY, R_OK, ANY, ANY, ANY, AF_INET6, DIAG_WARN },
	{ DIAG_FAM_V6_ONLY, ANY, R_NOT_OK, R_OK, ANY, ANY, ANY, AF_INET6, DIAG_WARN },
	{ DIAG_FAM_V6_NO_ROUTE, ANY, R_OK, R_NONE, DIAG_V6_GLOBAL, 1, ANY, AF_INET, DIAG_WARN },
	{ DIAG_FAM_V6_NO_AAAA, ANY, R_OK, ANY, DIAG_V6_GLOBAL, 0, ANY, AF_INET, DIAG_PASS },
	{ DIAG_FAM_V4_CGNAT, ANY, R_OK, ANY, ANY, ANY, 1, AF_INET, DIAG_PASS },
	{ DIAG_FAM_V4_ONLY, ANY, R_OK, ANY, ANY, ANY, ANY, AF_INET, DIAG_PASS },
	{ DIAG_FAM_NONE, ANY, R_NOT_OK, R_NOT_OK, ANY, ANY, ANY, 0, DIAG_FAIL },
};

/* Per row: "name\0situation\0brief\0advice" (utl_field), in the rows' order. */
static const char fam_text[] =
	/* DIAG_FAM_UNTESTED */
	"untested\0not tested: no registrar was probed\0"
	"not tested\0not tested: no registrar was probed (see dns and the SIP rows)\0"
	/* DIAG_FAM_V6_CGNAT */
	"ipv6+cgnat\0IPv4 behind carrier-grade NAT, IPv6 native: the phone uses IPv6\0"
	"IPv6 (IPv4 CGNAT)\0the phone registers and calls over IPv6, which needs no NAT; IPv4 "
	"through the ISP's carrier-grade NAT is the fall-back; nothing to change\0"
	/* DIAG_FAM_DUAL */
	"dual\0dual stack, both reach the platform: the phone uses IPv6\0"
	"IPv6 (dual stack)\0the phone registers over IPv6 and falls back to IPv4 within 2 s; "
	"nothing to change\0"
	/* DIAG_FAM_NO_V4 */
	"no-ipv4\0IPv6 only: the phone has no IPv4 address; it registers over IPv6\0"
	"IPv6 only (no IPv4)\0every check ran over IPv6; without IPv4 there is no fall-back if "
	"IPv6 fails: give the phones IPv4 too (DHCP)\0"
	/* DIAG_FAM_V6_ONLY */
	"ipv6-only\0IPv6 only: the phone uses IPv6\0"
	"IPv6 only\0only IPv6 reaches the platform: calls work over IPv6, but there is no IPv4 "
	"fall-back; allow outbound SIP over IPv4 too (see the SIP rows)\0"
	/* DIAG_FAM_V6_NO_ROUTE */
	"ipv6-no-route\0IPv6 address but no IPv6 route to the platform: the phone uses IPv4\0"
	"IPv4 (no IPv6 route)\0the phone has a global IPv6 address but no registrar answers over "
	"IPv6, so each registration tries IPv6 first and falls back to IPv4 after 2 s: give the "
	"site an IPv6 route to the platform (allow outbound SIP over IPv6) or turn IPv6 off for "
	"the phones\0"
	/* DIAG_FAM_V6_NO_AAAA */
	"ipv6-no-aaaa\0IPv6 address, but the platform's names have no IPv6 address: the phone uses IPv4\0"
	"IPv4\0the registrars' names have no AAAA record, so IPv6 is not used; nothing to change\0"
	/* DIAG_FAM_V4_CGNAT */
	"ipv4+cgnat\0IPv4 only, behind carrier-grade NAT: the phone uses IPv4\0"
	"IPv4 (CGNAT)\0no IPv6 on the site: IPv6 from the ISP would avoid its carrier-grade NAT "
	"(see nat)\0"
	/* DIAG_FAM_V4_ONLY */
	"ipv4-only\0IPv4 only: the phone uses IPv4\0"
	"IPv4\0the platform is reached over IPv4; nothing to change\0"
	/* DIAG_FAM_NONE */
	"none\0no route to the platform on any family the phone has\0"
	"no route\0no registrar answers: allow outbound SIP (see the SIP rows)";

static bool reach_is(enum diag_fam_reach r, int want)
{
	switch (want) {
	case R_OK: return r == DIAG_REACH_OK;
	case R_NOT_OK: return r != DIAG_REACH_OK;
	case R_NONE: return r == DIAG_REACH_NONE;
	case R_TESTED: return r != DIAG_REACH_UNTESTED;
	default: return true;
	}
}

static bool is_cgnat(enum diag_nat_kind k)
{
	return k == DIAG_NAT_CGNAT || k == DIAG_NAT_CGNAT_DOUBLE;
}

void diag_fam_judge(const struct diag_fam_evidence *ev, struct diag_fam_judgement *j)
{
	bool cgnat = is_cgnat(ev->nat);
	size_t i = 0;

	memset(j, 0, sizeof(*j));
	if (ev->reach4 != DIAG_REACH_UNTESTED || ev->reach6 != DIAG_REACH_UNTESTED)
		i = 1; /* the untested row only when nothing was probed */
	for (; i < ARRAY_SIZE(rows) - 1; i++) {
		if (!reach_is(ev->reach4, rows[i].reach4) || !reach_is(ev->reach6, rows[i].reach6))
			continue;
		if (rows[i].v4 != ANY && ev->v4 != (rows[i].v4 == 1))
			continue;
		if (rows[i].v6 != ANY && (int)ev->v6 != rows[i].v6)
			continue;
		if (rows[i].aaaa != ANY && ev->aaaa != (rows[i].aaaa == 1))
			continue;
		if (rows[i].cgnat != ANY && cgnat != (rows[i].cgnat == 1))
			continue;
		break;
	}
	j->kind = rows[i].kind;
	j->family = rows[i].family;
	j->verdict = rows[i].verdict;
	utl_strlcpy(j->situation, utl_field(fam_text, 4 * i + 1), sizeof(j->situation));
	utl_strlcpy(j->brief, utl_field(fam_text, 4 * i + 2), sizeof(j->brief));
	utl_strlcpy(j->advice, utl_field(fam_text, 4 * i + 3), sizeof(j->advice));
	/* IPv6 in use or wanted, IPv4 behind CGNAT: say so where the row does not */
	if (cgnat && (j->kind == DIAG_FAM_V6_NO_ROUTE || j->kind == DIAG_FAM_V6_NO_AAAA)) {
		size_t l = strlen(j->situation);

		snprintf(j->situation + l, sizeof(j->situation) - l, " (behind carrier-grade NAT)");
	}
}

const char *diag_fam_kind_name(enum diag_fam_kind k)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].kind == k)
			return utl_field(fam_text, 4 * i);
	return "?";
}

const char *diag_fam_name(int family)
{
	return family == AF_INET6 ? "IPv6" : family == AF_INET ? "IPv4" : "none";
}
