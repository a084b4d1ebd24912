/* chk_dns.c - the DNS check: our own A queries over UDP to resolv.conf's servers, on the loop.
 *
 * Names given as IPv4 literals are taken as they are. Each name has its own
 * socket; a query is retried every second, rotating through the servers, and
 * given up after DNS_BUDGET_MS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "diag/check.h"
#include "diag/dnsmsg.h"
#include "diag/probe.h"

#define DNS_RETRY_MS 1000
#define DNS_BUDGET_MS 4000

struct dns_q {
	struct dns_state *st;
	int h;                     /* enum diag_host */
	struct ev_fd w;
	uint16_t id;
	unsigned tries;
	bool done;
	int rcode;                 /* last rcode, -1: no answer */
	char err[64];
};

struct dns_state {
	struct diag_check *c;
	struct dns_q q[DIAG_H_COUNT];
	struct ev_timer retry;
	struct ev_timer budget;
	unsigned pending;
};

static void q_close(struct dns_q *q)
{
	if (q->w.fd >= 0) {
		ev_fd_del(&q->w);
		close(q->w.fd);
		q->w.fd = -1;
	}
}

static void dns_finish(struct dns_state *st)
{
	struct diag_check *c = st->c;
	struct diag_ctx *x = c->ctx;
	struct diag_result *r = &c->res;
	char ip[INET_ADDRSTRLEN], bad[160] = "";
	unsigned nbad = 0, nok = 0;

	ev_timer_cancel(&st->retry);
	ev_timer_cancel(&st->budget);
	for (int h = 0; h < DIAG_H_COUNT; h++) {
		struct dns_q *q = &st->q[h];

		q_close(q);
		if (!x->host[h][0])
			continue;
		if (x->resolved[h]) {
			diag_value_add(r, x->host[h], "", "%s", diag_ntoa(x->addr[h], ip));
			nok++;
			continue;
		}
		diag_value_add(r, x->host[h], "", "%s",
			       q->err[0] ? q->err : q->rcode > 0 ? dnsmsg_rcode_name(q->rcode) : "no answer");
		if (!nbad++)
			snprintf(bad, sizeof(bad), "%s (%s)", x->host[h],
				 q->err[0] ? q->err : q->rcode > 0 ? dnsmsg_rcode_name(q->rcode) : "no answer");
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

static void q_send(struct dns_state *st, struct dns_q *q)
{
	struct diag_ctx *x = st->c->ctx;
	struct sockaddr_in ns;
	uint8_t buf[512];
	int n;

	q_close(q);
	diag_sin(&ns, x->ns[q->tries % x->nns], 53);
	q->tries++;
	utl_random(&q->id, sizeof(q->id));
	n = dnsmsg_build_query(buf, sizeof(buf), q->id, x->host[q->h], DNSMSG_TYPE_A);
	if (n < 0) {
		snprintf(q->err, sizeof(q->err), "not a valid host name");
		goto fail;
	}
	q->w.fd = diag_udp_open(&ns, -1, 0);
	if (q->w.fd < 0) {
		snprintf(q->err, sizeof(q->err), "socket: %s", strerror(-q->w.fd));
		goto fail;
	}
	if (send(q->w.fd, buf, (size_t)n, 0) < 0 && errno != ECONNREFUSED) {
		snprintf(q->err, sizeof(q->err), "send: %s", strerror(errno));
		goto fail;
	}
	ev_fd_add(&q->w, EV_READ);
	return;
fail:
	q_close(q);
	q->done = true;
	st->pending--;
}

static void q_on_read(struct ev_fd *w, unsigned ev)
{
	struct dns_q *q = container_of(w, struct dns_q, w);
	struct dns_state *st = q->st;
	struct diag_ctx *x = st->c->ctx;
	uint8_t buf[DNSMSG_MAX_UDP];
	struct diag_rx rx;
	ssize_t n;

	while ((n = diag_udp_recv(w->fd, buf, sizeof(buf), &rx)) != -EAGAIN) {
		struct in_addr a[4];
		size_t na;
		int rc, rcode;

		if (n < 0) { /* e.g. ICMP port unreachable: wait for the retry */
			snprintf(q->err, sizeof(q->err), "server %s", strerror((int)-n));
			q_close(q);
			return;
		}
		rc = dnsmsg_parse_a(buf, (size_t)n, q->id, x->host[q->h], a, 4, &na, &rcode);
		if (rc == -ESRCH)
			continue;
		q->err[0] = '\0';
		if (rc < 0) {
			snprintf(q->err, sizeof(q->err), "malformed answer");
			continue;
		}
		q->rcode = rcode;
		if (rcode == 2) /* SERVFAIL: try the next server on retry */
			continue;
		if (rcode == 0 && na > 0) {
			x->addr[q->h] = a[0];
			x->resolved[q->h] = true;
		} else if (rcode == 0) {
			snprintf(q->err, sizeof(q->err), "no IPv4 address");
		}
		q->done = true;
		q_close(q);
		if (--st->pending == 0)
			dns_finish(st);
		return;
	}
}

static void dns_on_retry(struct ev_timer *t)
{
	struct dns_state *st = container_of(t, struct dns_state, retry);

	for (int h = 0; h < DIAG_H_COUNT; h++)
		if (st->c->ctx->host[h][0] && !st->q[h].done)
			q_send(st, &st->q[h]);
	if (st->pending == 0) {
		dns_finish(st);
		return;
	}
	ev_timer_set(&st->retry, DNS_RETRY_MS);
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
				DIAG_CHECK_BIT(DIAG_C_EAST_TLS) | DIAG_CHECK_BIT(DIAG_C_SIP_ALG),
		[DIAG_H_WEST] = DIAG_CHECK_BIT(DIAG_C_WEST_UDP) | DIAG_CHECK_BIT(DIAG_C_WEST_TCP) |
				DIAG_CHECK_BIT(DIAG_C_WEST_TLS) | DIAG_CHECK_BIT(DIAG_C_SIP_ALG),
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

	if (!x->have_addr) {
		diag_verdict_set(&c->res, DIAG_SKIP, "not tested: the phone has no network address (see address)");
		diag_check_done(c);
		return 0;
	}
	if (!x->nns)
		diag_read_resolv(x, x->opts->resolv_conf);
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->retry.cb = dns_on_retry;
	st->budget.cb = dns_on_budget;
	for (int h = 0; h < DIAG_H_COUNT; h++) {
		struct dns_q *q = &st->q[h];

		q->st = st;
		q->h = h;
		q->w.fd = -1;
		q->w.cb = q_on_read;
		q->rcode = -1;
		if (x->host[h][0] && !host_needed(x->opts, h))
			x->host[h][0] = '\0'; /* not asked for: neither resolved nor shown */
		if (!x->host[h][0])
			continue;
		if (inet_pton(AF_INET, x->host[h], &x->addr[h]) == 1) {
			x->resolved[h] = true;
			q->done = true;
			continue;
		}
		if (!x->nns) {
			snprintf(q->err, sizeof(q->err), "no DNS server");
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
	dns_on_retry(&st->retry);
	return 0;
}

static void dns_cancel(struct diag_check *c)
{
	struct dns_state *st = c->priv;

	if (!st)
		return;
	ev_timer_cancel(&st->retry);
	ev_timer_cancel(&st->budget);
	for (int h = 0; h < DIAG_H_COUNT; h++)
		q_close(&st->q[h]);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_dns = {
	DIAG_C_DNS, "dns", "DNS", 1, false, DIAG_H_NONE, 0, dns_start, dns_cancel,
};
