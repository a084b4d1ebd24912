/* natverdict.c - NAT situations from TTL hops and STUN (pure, table-driven). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "diag/natverdict.h"

/* The guide's keepalive ceiling: a CGNAT's UDP timeout is often 30 s, 20 s stays inside it. */
#define CGNAT_KEEPALIVE_MAX_S 20

/* One row per situation, in enum diag_nat_kind's order: its verdict, and "name\0brief\0advice"
 * as fields 3k..3k+2 of nat_text (no pointers: a relocation each). The advice may use
 * {public} {customer} {cgnat} {ka} {kamax}. */
static const unsigned char nat_verdict[DIAG_NAT_KIND_COUNT] = {
	[DIAG_NAT_NONE] = DIAG_PASS,
	[DIAG_NAT_ONE] = DIAG_PASS,
	[DIAG_NAT_DOUBLE] = DIAG_WARN,
	[DIAG_NAT_CGNAT] = DIAG_WARN,
	[DIAG_NAT_CGNAT_DOUBLE] = DIAG_WARN,
	[DIAG_NAT_UNKNOWN] = DIAG_WARN,
};
static const char nat_text[] =
	/* DIAG_NAT_NONE */
	"none\0no NAT {public}\0"
	"no NAT: the phone has the public address {public}; nothing to change\0"
	/* DIAG_NAT_ONE */
	"one\0NAT {public}\0"
	"one NAT (the site's router), public address {public}; nothing to change\0"
	/* DIAG_NAT_DOUBLE */
	"double\0double NAT\0"
	"double NAT: {customer} are two private hops of the site, each doing NAT; put the ISP "
	"modem into bridge mode (or connect the phones to the device doing NAT) so only one "
	"device does NAT (if the inner hop only routes, without NAT, nothing to change)\0"
	/* DIAG_NAT_CGNAT */
	"cgnat\0carrier-grade NAT\0"
	"carrier-grade NAT: the ISP shares public addresses ({cgnat} is in 100.64.0.0/10), the "
	"site cannot turn it off: ask the ISP for a public IPv4 address or use IPv6; keep the "
	"NAT keepalive short ({kamax} s or less, now {ka} s)\0"
	/* DIAG_NAT_CGNAT_DOUBLE */
	"cgnat+double\0CGNAT + double NAT\0"
	"carrier-grade NAT behind a double NAT: {customer} both do NAT on the site (put the ISP "
	"modem into bridge mode), and the ISP adds carrier-grade NAT ({cgnat} is in "
	"100.64.0.0/10): ask it for a public IPv4 address or use IPv6; keep the keepalive "
	"{kamax} s or less (now {ka} s)\0"
	/* DIAG_NAT_UNKNOWN */
	"unknown\0STUN no answer\0"
	"the STUN server does not answer: allow outbound UDP 3478; NAT type unknown";

bool diag_ip_rfc1918(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) == 10 || (h >> 20) == (172u << 4 | 1) || (h >> 16) == (192u << 8 | 168);
}

bool diag_ip_shared(struct in_addr a)
{
	return (ntohl(a.s_addr) & 0xffc00000u) == 0x64400000u;
}

const char *diag_nat_kind_name(enum diag_nat_kind k)
{
	return (unsigned)k < DIAG_NAT_KIND_COUNT ? utl_field(nat_text, 3 * k) : "?";
}

/* Expand the row's template into out: {name} -> its value. */
static void expand(char *out, size_t cap, const char *tpl, const char *const vars[][2], size_t nvars)
{
	size_t o = 0;

	for (const char *p = tpl; *p && o + 1 < cap; p++) {
		size_t i;

		if (*p == '{') {
			for (i = 0; i < nvars; i++) {
				size_t l = strlen(vars[i][0]);

				if (!strncmp(p + 1, vars[i][0], l) && p[1 + l] == '}') {
					o += (size_t)snprintf(out + o, cap - o, "%s", vars[i][1]);
					if (o >= cap)
						o = cap - 1;
					p += l + 1;
					break;
				}
			}
			if (i < nvars)
				continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

void diag_nat_judge(const struct diag_nat_evidence *ev, unsigned keepalive_s, struct diag_nat_judgement *j)
{
	char pub[INET_ADDRSTRLEN] = "?", ip[INET_ADDRSTRLEN], ka[12], kamax[12];
	bool nat = ev->stun && ev->mapped.s_addr != ev->local.s_addr;
	bool seen_cgnat = false;
	unsigned n = ev->nhops < DIAG_NAT_MAX_HOPS ? ev->nhops : DIAG_NAT_MAX_HOPS;

	memset(j, 0, sizeof(*j));
	/* the hops of the site: RFC 1918 routers from the phone outwards, up to the first hop of
	 * the ISP (a shared 100.64/10 address or a public one); private hops beyond are the ISP's */
	for (unsigned i = 0; i < n && ev->hops[i].kind == DIAG_HOP_ROUTER; i++) {
		struct in_addr a = ev->hops[i].addr;

		if (diag_ip_shared(a)) {
			if (!j->cgnat[0])
				snprintf(j->cgnat, sizeof(j->cgnat), "hop %s", inet_ntop(AF_INET, &a, ip, sizeof(ip)));
			seen_cgnat = true;
			continue;
		}
		if (!diag_ip_rfc1918(a))
			break;
		if (!seen_cgnat && diag_ip_rfc1918(ev->local)) {
			size_t l = strlen(j->customer);

			snprintf(j->customer + l, sizeof(j->customer) - l, "%s%s", j->customer_hops ? " and " : "",
				 inet_ntop(AF_INET, &a, ip, sizeof(ip)));
			j->customer_hops++;
		}
	}
	if (!j->cgnat[0] && diag_ip_shared(ev->local))
		snprintf(j->cgnat, sizeof(j->cgnat), "the phone's own address %s",
			 inet_ntop(AF_INET, &ev->local, ip, sizeof(ip)));
	if (!j->cgnat[0] && ev->stun && diag_ip_shared(ev->mapped))
		snprintf(j->cgnat, sizeof(j->cgnat), "the STUN-mapped address %s",
			 inet_ntop(AF_INET, &ev->mapped, ip, sizeof(ip)));
	if (ev->stun)
		inet_ntop(AF_INET, &ev->mapped, pub, sizeof(pub));

	if (j->cgnat[0])
		j->kind = j->customer_hops >= 2 ? DIAG_NAT_CGNAT_DOUBLE : DIAG_NAT_CGNAT;
	else if (ev->stun && !nat)
		j->kind = DIAG_NAT_NONE;
	else if (j->customer_hops >= 2)
		j->kind = DIAG_NAT_DOUBLE;
	else if (!ev->stun)
		j->kind = DIAG_NAT_UNKNOWN;
	else
		j->kind = DIAG_NAT_ONE;
	j->verdict = nat_verdict[j->kind];
	snprintf(ka, sizeof(ka), "%u", keepalive_s);
	snprintf(kamax, sizeof(kamax), "%u", CGNAT_KEEPALIVE_MAX_S);
	{
		const char *const vars[][2] = {
			{ "public", pub }, { "customer", j->customer }, { "cgnat", j->cgnat }, { "ka", ka },
			{ "kamax", kamax },
		};

		expand(j->brief, sizeof(j->brief), utl_field(nat_text, 3 * j->kind + 1), vars, ARRAY_SIZE(vars));
		expand(j->advice, sizeof(j->advice), utl_field(nat_text, 3 * j->kind + 2), vars, ARRAY_SIZE(vars));
	}
}

/* IPv6: one row per situation; the advice ends with the mapped address (the STUN port when silent). */
/* Per kind (enum diag_nat6_kind): its verdict, and "name\0brief\0advice" as fields 3k..3k+2
 * of text6 (no pointers: a relocation each). */
static const unsigned char verdict6[DIAG_NAT6_KIND_COUNT] = { DIAG_PASS, DIAG_PASS, DIAG_WARN, DIAG_WARN };
static const char text6[] =
	"native\0native IPv6\0no NAT (native IPv6): nothing to change\0"
	"nptv6\0NPTv6\0NPTv6 (prefix translated, ports kept): works as one NAT; public \0"
	"nat66\0NAT66\0NAT66 (ports rewritten): route IPv6 to the phones without it; public \0"
	"unknown\0STUN no answer (IPv6)\0STUN does not answer over IPv6: allow "
	"outbound UDP over IPv6 to port ";

const char *diag_nat6_kind_name(enum diag_nat6_kind k)
{
	return (unsigned)k < DIAG_NAT6_KIND_COUNT ? utl_field(text6, 3 * k) : "?";
}

void diag_nat6_judge(const struct sockaddr_in6 *local, const struct sockaddr_in6 *mapped, unsigned stun_port,
		     struct diag_nat6_judgement *j)
{
	char tail[INET6_ADDRSTRLEN] = "";

	memset(j, 0, sizeof(*j));
	if (!mapped) {
		j->kind = DIAG_NAT6_UNKNOWN;
		snprintf(tail, sizeof(tail), "%u", stun_port);
	} else {
		if (mapped->sin6_port != local->sin6_port)
			j->kind = DIAG_NAT6_NAT66;
		else if (memcmp(&mapped->sin6_addr, &local->sin6_addr, 16))
			j->kind = DIAG_NAT6_NPT;
		if (j->kind)
			inet_ntop(AF_INET6, &mapped->sin6_addr, tail, sizeof(tail));
	}
	j->verdict = verdict6[j->kind];
	utl_strlcpy(j->brief, utl_field(text6, 3 * j->kind + 1), sizeof(j->brief));
	snprintf(j->advice, sizeof(j->advice), "%s%s", utl_field(text6, 3 * j->kind + 2), tail);
}
