/* chk_dns.c - the DNS check: the common resolver (common/resolv.h) on the loop.
 *
 * Names given as IPv4 literals are taken as they are. Each name is one lookup
 * (A and AAAA, the servers of the configured resolv.conf, DNS_TRY_MS per try rotating
 * through the servers, DNS_TRIES tries), and the whole check is given up after
 * DNS_BUDGET_MS. The other checks run over IPv4: a name's first A record feeds
 * them; its first AAAA is shown beside it ("IPv6 only, no IPv4 address" when
 * there is no A).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/resolv.h"
#include "diag/check.h"
#include "diag/famverdict.h"
#include "diag/probe.h"

#define DNS_TRY_MS 1000
#define DNS_TRIES 4
#define DNS_BUDGET_MS 4500

struct dns_q {
	struct dns_state *st;
	int h;                     /* enum diag_host */
	struct rsv_query *rq;
	bool done;
	char err[64];
	char v6[INET6_ADDRSTRLEN];  /* the first AAAA, shown beside the IPv4 address */
};

struct dns_state {
	struct diag_check *c;
	struct dns_q q[DIAG_H_COUNT];
	struct ev_timer budget;
	unsigned pending;
};

static void q_close(struct dns_q *q)
{
	rsv_cancel(q->rq);
	q->rq = NULL;
}

/* The failure in a few words for the value column. */
static const char *dns_short(int err)
{
	switch (err) {
	case -ENOENT: return "NXDOMAIN";
	case -ENODATA: return "no IPv4 address";
	case -EIO: return "SERVFAIL";
	case -ECONNREFUSED: return "REFUSED or unreachable";
	case -ETIMEDOUT: return "no answer";
	case -ENXIO: return "no DNS server";
	case -EBADMSG: return "malformed answer";
	case -EINVAL: return "not a valid host name";
	default: return "lookup failed";
	}
}

static void dns_finish(struct dns_state *st)
{
	struct diag_check *c = st->c;
	struct diag_ctx *x = c->ctx;
	struct diag_result *r = &c->res;
	char ip[INET_ADDRSTRLEN], bad[160] = "";
	unsigned nbad = 0, nok = 0;

	ev_timer_cancel(&st->budget);
	for (int h = 0; h < DIAG_H_COUNT; h++) {
		struct dns_q *q = &st->q[h];

		q_close(q);
		if (!x->host[h][0])
			continue;
		if (x->resolved[h] || (x->resolved6[h] && x->v6 == DIAG_V6_GLOBAL)) {
			diag_value_add(r, x->host[h], "", "%s%s%s", x->resolved[h] ? diag_ntoa(x->addr[h], ip) : "",
				       x->resolved[h] && q->v6[0] ? ", " : "", q->v6);
			nok++;
			continue;
		}
		diag_value_add(r, x->host[h], "", "%s",
			       q->err[0] ? q->err : "no answer");
		if (!nbad++)
			snprintf(bad, sizeof(bad), "%s (%s)", x->host[h],
				 q->err[0] ? q->err : "no answer");
	}
	diag_threshold_set(r, "every server name resolves within %d s", DNS_BUDGET_MS / 1000);
	if (nbad) {
		snprintf(r->brief, sizeof(r->brief), "%u of %u failed", nbad, nbad + nok);
		diag_verdict_set(r, DIAG_FAIL,
				 "%s does not resolve%s: check the DNS servers DHCP hands out and that they "
				 "reach the internet", bad, nbad > 1 ? " (and others)" : "");
	} else {
		snprintf(r->brief, sizeof(r->brief), "%u names resolve", nok);
		diag_verdict_set(r, DIAG_PASS, "all server names resolve");
	}
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static void q_done(struct rsv_query *rq, const struct rsv_result *res, void *arg)
{
	struct dns_q *q = arg;
	struct dns_state *st = q->st;
	struct diag_ctx *x = st->c->ctx;

	q->rq = NULL;
	q->done = true;
	for (size_t i = 0; !res->err && i < res->n; i++) {
		if (res->addr[i].ss_family == AF_INET && !x->resolved[q->h]) {
			x->addr[q->h] = ((const struct sockaddr_in *)&res->addr[i])->sin_addr;
			x->resolved[q->h] = true;
		} else if (res->addr[i].ss_family == AF_INET6 && !q->v6[0]) {
			x->addr6[q->h] = ((const struct sockaddr_in6 *)&res->addr[i])->sin6_addr;
			x->resolved6[q->h] = true;   /* the SIP checks probe it over IPv6 too */
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&res->addr[i])->sin6_addr, q->v6,
				  sizeof(q->v6));
		}
	}
	if (!x->resolved[q->h])
		snprintf(q->err, sizeof(q->err), "%s%s", q->v6[0] ? "IPv6 only, " : "",
			 dns_short(res->err ? res->err : -ENODATA));
	if (--st->pending == 0)
		dns_finish(st);
}

static void dns_on_budget(struct ev_timer *t)
{
	dns_finish(container_of(t, struct dns_state, budget));
}

/* Which hosts the enabled checks need. */
static bool host_needed(const struct diag_opts *o, int h)
{
	static const uint32_t by_host[DIAG_H_COUNT] = {
		[DIAG_H_PROV] = DIAG_CHECK_BIT(DIAG_C_HTTPS),
		[DIAG_H_EAST] = DIAG_CHECK_BIT(DIAG_C_EAST_UDP) | DIAG_CHECK_BIT(DIAG_C_EAST_TCP) |
				DIAG_CHECK_BIT(DIAG_C_EAST_TLS) | DIAG_CHECK_BIT(DIAG_C_SIP_ALG) |
				DIAG_CHECK_BIT(DIAG_C_CALL),   /* the call's family: its A / AAAA */
		[DIAG_H_WEST] = DIAG_CHECK_BIT(DIAG_C_WEST_UDP) | DIAG_CHECK_BIT(DIAG_C_WEST_TCP) |
				DIAG_CHECK_BIT(DIAG_C_WEST_TLS) | DIAG_CHECK_BIT(DIAG_C_SIP_ALG) |
				DIAG_CHECK_BIT(DIAG_C_CALL),
		[DIAG_H_STUN] = DIAG_CHECK_BIT(DIAG_C_NAT),
		[DIAG_H_REFLECTOR] = DIAG_CHECK_BIT(DIAG_C_RTP_PORTS) | DIAG_CHECK_BIT(DIAG_C_VOICE) |
				     DIAG_CHECK_BIT(DIAG_C_DSCP) | DIAG_CHECK_BIT(DIAG_C_MTU) |
				     DIAG_CHECK_BIT(DIAG_C_UDP_LIFETIME),
	};

	return o->checks & by_host[h];
}

static int dns_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	struct dns_state *st;

	if (!x->have_addr && x->v6 != DIAG_V6_GLOBAL) {   /* an IPv6-only phone asks over IPv6 */
		diag_verdict_set(&c->res, DIAG_SKIP, "not tested: the phone has no network address (see address)");
		diag_check_done(c);
		return 0;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->budget.cb = dns_on_budget;
	for (int h = 0; h < DIAG_H_COUNT; h++) {
		struct dns_q *q = &st->q[h];

		q->st = st;
		q->h = h;
		if (x->host[h][0] && !host_needed(x->opts, h))
			x->host[h][0] = '\0'; /* not asked for: neither resolved nor shown */
		if (!x->host[h][0])
			continue;
		if (inet_pton(AF_INET, x->host[h], &x->addr[h]) == 1) {
			x->resolved[h] = true;
			q->done = true;
			continue;
		}
		st->pending++;
	}
	if (!st->pending) {
		dns_finish(st);
		return 0;
	}
	ev_timer_set(&st->budget, DNS_BUDGET_MS);
	/* c-ares sends the queries, rotating over the resolvers: they share one budget
	 * (DIAG_BGT_DNS), and each lookup takes its worst case first, A and AAAA DNS_TRIES times;
	 * a lookup the budget refuses is not asked (the tokens it got stay spent: stricter) */
	for (int h = 0; h < DIAG_H_COUNT; h++) {
		struct dns_q *q = &st->q[h];
		struct rsv_opts o = { .resolv_conf = x->opts->resolv_conf, .timeout_ms = DNS_TRY_MS,
				      .tries = DNS_TRIES, .family = AF_UNSPEC, .prefer = AF_INET };
		int err;

		if (!x->host[h][0] || q->done)
			continue;
		err = 0;
		for (int k = 0; k < 2 * DNS_TRIES && !err; k++)
			err = diag_take(c, DIAG_BGT_DNS);
		if (!err)
			err = rsv_lookup(x->host[h], RSV_ADDR, &o, q_done, q, &q->rq);
		if (err) {
			q->rq = NULL;
			q->done = true;
			snprintf(q->err, sizeof(q->err), "%s", dns_short(err));
			if (--st->pending == 0) {
				dns_finish(st);
				return 0;
			}
		}
	}
	return 0;
}

static void dns_cancel(struct diag_check *c)
{
	struct dns_state *st = c->priv;

	if (!st)
		return;
	ev_timer_cancel(&st->budget);
	for (int h = 0; h < DIAG_H_COUNT; h++)
		q_close(&st->q[h]);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_dns = {
	DIAG_C_DNS, "dns", "DNS", 1, false, DIAG_H_NONE, 0, dns_start, dns_cancel,
};
