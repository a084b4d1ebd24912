/* chk_family.c - the family check: which IP family the phone uses for the platform, and why.
 * It runs after the network checks (phase 3) and judges what they recorded
 * (diag/famverdict.c): the addresses, the AAAA records, the SIP rows per family, the NAT. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "diag/check.h"
#include "diag/famverdict.h"
#include "diag/report.h"

/* The NAT check's situation, DIAG_NAT_KIND_COUNT when it did not run or said nothing. */
static enum diag_nat_kind nat_kind(const struct diag_result *r)
{
	const char *s = r->done ? diag_result_value(r, "situation") : NULL;

	for (int k = 0; s && k < DIAG_NAT_KIND_COUNT; k++)
		if (!strcmp(s, diag_nat_kind_name((enum diag_nat_kind)k)))
			return (enum diag_nat_kind)k;
	return DIAG_NAT_KIND_COUNT;
}

/* The bits set in a mask of SIP rows (a loop: libgcc's popcount is 40 bytes on armhf). */
static int nbits(unsigned m)
{
	int n = 0;

	for (; m; m &= m - 1)
		n++;
	return n;
}

/* "3 of 6 answered" over a family's SIP rows (bit masks of answered, of probed; probed != 0). */
static void rows_words(unsigned answered, unsigned probed, char *buf, size_t cap)
{
	snprintf(buf, cap, "%d of %d SIP rows answered", nbits(answered), nbits(probed));
}

static int family_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	struct diag_result *r = &c->res;
	struct diag_fam_evidence ev = { 0 };
	struct diag_fam_judgement j;
	char w[72];

	ev.v4 = x->have_addr;
	ev.v6 = (enum diag_fam_v6)x->v6;
	ev.aaaa = x->resolved6[DIAG_H_EAST] || x->resolved6[DIAG_H_WEST];
	ev.nat = nat_kind(&x->results[DIAG_C_NAT]);
	ev.reach4 = x->reach4 ? DIAG_REACH_OK : x->tried4 ? DIAG_REACH_NONE : DIAG_REACH_UNTESTED;
	ev.reach6 = x->reach6 ? DIAG_REACH_OK : x->tried6 ? DIAG_REACH_NONE : DIAG_REACH_UNTESTED;
	diag_fam_judge(&ev, &j);
	diag_value_add(r, "uses", "", "%s", diag_fam_name(j.family));
	diag_value_add(r, "situation", "", "%s", diag_fam_kind_name(j.kind));
	if (x->tried4)
		rows_words(x->reach4, x->tried4, w, sizeof(w));
	else
		snprintf(w, sizeof(w), "not probed (%s)", x->have_addr ? "no A record" : "no IPv4 address");
	diag_value_add(r, "ipv4", "", "%s", w);
	if (x->tried6)
		rows_words(x->reach6, x->tried6, w, sizeof(w));
	else
		snprintf(w, sizeof(w), "not probed (%s)", x->v6 == DIAG_V6_GLOBAL ? "no AAAA record" :
			 x->v6 == DIAG_V6_LINKLOCAL ? "link-local address only" : "no IPv6 address");
	diag_value_add(r, "ipv6", "", "%s", w);
	diag_value_add(r, "nat", "", "%s", ev.nat < DIAG_NAT_KIND_COUNT ? diag_nat_kind_name(ev.nat) : "not tested");
	diag_threshold_set(r, "a registrar answers SIP over the family the phone uses (IPv6 first, IPv4 as fall-back)");
	utl_strlcpy(r->brief, j.brief, sizeof(r->brief));
	diag_verdict_set(r, j.verdict, "%s; %s", j.situation, j.advice);
	diag_check_done(c);
	return 0;
}

static void family_cancel(struct diag_check *c)
{
}

const struct diag_check_type diag_chk_family = {
	DIAG_C_FAMILY, "family", "IP family", 3, false, DIAG_H_NONE, 0, family_start, family_cancel,
};
