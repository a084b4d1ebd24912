/* chk_nat.c - NAT (STUN mapping, RFC 5780 mapping behaviour, double NAT, CGNAT) and SIP ALG.
 *
 * Double NAT / CGNAT: STUN requests with TTL 1..6 (IP_RECVERR, read from
 * MSG_ERRQUEUE): each hop that answers "time exceeded" names itself; the
 * situation (no NAT, one NAT, double NAT, CGNAT, CGNAT + double NAT) is
 * judged from those hops and the STUN mapping by diag/natverdict.c. SIP ALG: an OPTIONS with known Via, Contact and SDP and the
 * echo header; the registrar returns what it received, base64-encoded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "diag/check.h"
#include "diag/natverdict.h"
#include "diag/probe.h"
#include "diag/sipprobe.h"
#include "diag/stun.h"

#define STUN_RETX_MS 400
#define STUN_TRIES 6
#define NAT_BUDGET_MS 5000
#define TTL_PROBES DIAG_NAT_MAX_HOPS  /* the site and the ISP's first hops */

enum stun_step { ST_TEST1 = 0, ST_TEST2, ST_TEST3, ST_DONE };

struct ttl_probe {
	struct ev_fd w;
	struct nat_state *st;
	int ttl;
	uint8_t txid[12];
	bool hop_known, reached;
	struct in_addr hop;
};

struct nat_state {
	struct diag_check *c;
	struct ev_fd w;                 /* the STUN socket (unconnected) */
	struct ev_timer retx, budget;
	enum stun_step step;
	unsigned tries;
	uint8_t txid[12];
	struct sockaddr_in dest;
	struct stun_binding b[3];
	bool have[3];
	struct ttl_probe tp[TTL_PROBES];
	unsigned ttl_tries;
};

static void nat_release(struct nat_state *st)
{
	ev_timer_cancel(&st->retx);
	ev_timer_cancel(&st->budget);
	if (st->w.fd >= 0) {
		ev_fd_del(&st->w);
		close(st->w.fd);
		st->w.fd = -1;
	}
	for (int i = 0; i < TTL_PROBES; i++) {
		if (st->tp[i].w.fd >= 0) {
			ev_fd_del(&st->tp[i].w);
			close(st->tp[i].w.fd);
			st->tp[i].w.fd = -1;
		}
	}
}

static const char *mapping_name(const struct nat_state *st)
{
	if (!st->have[1])
		return "unknown";
	if (st->b[1].mapped.sin_addr.s_addr == st->b[0].mapped.sin_addr.s_addr &&
	    st->b[1].mapped.sin_port == st->b[0].mapped.sin_port)
		return "endpoint-independent";
	if (!st->have[2])
		return "endpoint-dependent";
	if (st->b[2].mapped.sin_port == st->b[1].mapped.sin_port &&
	    st->b[2].mapped.sin_addr.s_addr == st->b[1].mapped.sin_addr.s_addr)
		return "address-dependent";
	return "address-and-port-dependent";
}

static void nat_end(struct nat_state *st)
{
	struct diag_check *c = st->c;
	struct diag_ctx *x = c->ctx;
	struct diag_result *r = &c->res;
	struct diag_nat_evidence ev = { .local = x->local };
	struct diag_nat_judgement j;
	char ip[INET_ADDRSTRLEN], hops[128] = "";

	nat_release(st);
	for (int i = 0; i < TTL_PROBES; i++) {
		const struct ttl_probe *p = &st->tp[i];
		size_t l = strlen(hops);

		ev.nhops = (unsigned)i + 1;
		if (p->reached) {
			ev.hops[i].kind = DIAG_HOP_TARGET;
			snprintf(hops + l, sizeof(hops) - l, "%s%d:server", l ? " " : "", p->ttl);
			break;
		}
		if (!p->hop_known) {
			ev.hops[i].kind = DIAG_HOP_SILENT;
			snprintf(hops + l, sizeof(hops) - l, "%s%d:?", l ? " " : "", p->ttl);
			break;
		}
		ev.hops[i].kind = DIAG_HOP_ROUTER;
		ev.hops[i].addr = p->hop;
		snprintf(hops + l, sizeof(hops) - l, "%s%d:%s", l ? " " : "", p->ttl, diag_ntoa(p->hop, ip));
		if (!diag_ip_private(p->hop))
			break;
	}
	if (st->have[0]) {
		ev.stun = true;
		ev.mapped = st->b[0].mapped.sin_addr;
	}
	diag_nat_judge(&ev, x->opts->keepalive_s, &j);
	diag_value_add(r, "local", "", "%s", diag_ntoa(x->local, ip));
	diag_value_add(r, "hops", "", "%s", hops);
	if (st->have[0]) {
		diag_value_add(r, "public", "", "%s:%u", diag_ntoa(st->b[0].mapped.sin_addr, ip),
			       ntohs(st->b[0].mapped.sin_port));
		diag_value_add(r, "nat", "", "%s", ev.mapped.s_addr != ev.local.s_addr ? "yes" : "no");
		diag_value_add(r, "mapping", "", "%s", st->b[0].have_other ? mapping_name(st) : "unknown (no RFC 5780)");
	}
	diag_value_add(r, "situation", "", "%s", diag_nat_kind_name(j.kind));
	diag_value_add(r, "site_private_hops", "", "%u%s%s", j.customer_hops, j.customer_hops ? ": " : "",
		       j.customer);
	diag_value_add(r, "double_nat", "", "%s", j.customer_hops >= 2 ? "yes" : "no");
	diag_value_add(r, "cgnat", "", "%s%s", j.cgnat[0] ? "yes: " : "no", j.cgnat);
	diag_threshold_set(r, "one NAT between the phone and the internet, no carrier-grade NAT");
	snprintf(r->brief, sizeof(r->brief), "%s", j.brief);
	if (j.kind == DIAG_NAT_UNKNOWN)
		diag_verdict_set(r, j.verdict, "STUN server %s:%u does not answer: allow outbound UDP %u; "
				 "NAT type unknown", x->host[DIAG_H_STUN], x->opts->stun_port, x->opts->stun_port);
	else
		diag_verdict_set(r, j.verdict, "%s", j.advice);
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static void stun_send(struct nat_state *st)
{
	uint8_t buf[STUN_HDR];
	size_t n = stun_build_binding(buf, st->txid);

	(void)sendto(st->w.fd, buf, n, 0, (struct sockaddr *)&st->dest, sizeof(st->dest));
}

static bool nat_all_done(const struct nat_state *st)
{
	if (st->step != ST_DONE)
		return false;
	for (int i = 0; i < TTL_PROBES; i++) {
		if (st->tp[i].reached)
			return true;
		if (!st->tp[i].hop_known)
			return false;
		if (!diag_ip_private(st->tp[i].hop))
			return true;
	}
	return true;
}

static void stun_next(struct nat_state *st)
{
	const struct stun_binding *b0 = &st->b[0];

	st->step++;
	st->tries = 0;
	if (st->step == ST_TEST2 && !(st->have[0] && b0->have_other))
		st->step = ST_DONE;
	if (st->step == ST_TEST2) {
		st->dest.sin_addr = b0->other.sin_addr; /* other address, primary port */
	} else if (st->step == ST_TEST3) {
		if (!st->have[1] || (st->b[1].mapped.sin_port == b0->mapped.sin_port &&
				     st->b[1].mapped.sin_addr.s_addr == b0->mapped.sin_addr.s_addr))
			st->step = ST_DONE; /* no need: independent mapping (or no answer) */
		else
			st->dest = b0->other;
	}
	if (st->step != ST_DONE) {
		utl_random(st->txid, sizeof(st->txid));
		stun_send(st);
	}
}

static void nat_on_read(struct ev_fd *w, unsigned ev)
{
	struct nat_state *st = container_of(w, struct nat_state, w);
	uint8_t buf[STUN_MAX];
	struct diag_rx rx;
	ssize_t n;

	while (st->w.fd >= 0 && (n = diag_udp_recv(w->fd, buf, sizeof(buf), &rx)) != -EAGAIN) {
		struct stun_binding b;

		if (n < 0 || st->step == ST_DONE)
			continue;
		if (stun_parse_binding(buf, (size_t)n, st->txid, &b) < 0 || !b.have_mapped)
			continue;
		st->b[st->step] = b;
		st->have[st->step] = true;
		stun_next(st);
		if (nat_all_done(st)) {
			nat_end(st);
			return;
		}
	}
}

static void ttl_send(struct ttl_probe *p)
{
	uint8_t buf[STUN_HDR];
	size_t n = stun_build_binding(buf, p->txid);

	(void)send(p->w.fd, buf, n, 0);
}

static void ttl_on_read(struct ev_fd *w, unsigned ev)
{
	struct ttl_probe *p = container_of(w, struct ttl_probe, w);
	struct nat_state *st = p->st;
	uint8_t buf[STUN_MAX];

	for (int guard = 0; guard < 16; guard++) {
		union {
			char b[512];
			struct cmsghdr align;
		} cb;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
				     .msg_controllen = sizeof(cb.b) };

		if (recvmsg(w->fd, &mh, MSG_ERRQUEUE) < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			struct sock_extended_err ee;
			struct sockaddr_in off;

			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ICMP || ee.ee_type != 11) /* time exceeded */
				continue;
			memcpy(&off, (const char *)CMSG_DATA(c) + sizeof(ee), sizeof(off));
			if (off.sin_family == AF_INET) {
				p->hop = off.sin_addr;
				p->hop_known = true;
			}
		}
	}
	for (int guard = 0; guard < 16; guard++) {
		struct stun_binding b;
		ssize_t n = recv(w->fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			continue; /* the socket error that came with the ICMP */
		}
		if (stun_parse_binding(buf, (size_t)n, p->txid, &b) == 0)
			p->reached = true;
	}
	if (nat_all_done(st))
		nat_end(st);
}

static void nat_on_retx(struct ev_timer *t)
{
	struct nat_state *st = container_of(t, struct nat_state, retx);

	if (st->step != ST_DONE) {
		if (++st->tries >= STUN_TRIES)
			stun_next(st); /* give this step up */
		else
			stun_send(st);
	}
	if (++st->ttl_tries < STUN_TRIES)
		for (int i = 0; i < TTL_PROBES; i++)
			if (!st->tp[i].hop_known && !st->tp[i].reached)
				ttl_send(&st->tp[i]);
	if (nat_all_done(st) || (st->step == ST_DONE && st->ttl_tries >= STUN_TRIES)) {
		nat_end(st);
		return;
	}
	ev_timer_set(&st->retx, STUN_RETX_MS);
}

static void nat_on_budget(struct ev_timer *t)
{
	nat_end(container_of(t, struct nat_state, budget));
}

static int nat_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	struct nat_state *st = calloc(1, sizeof(*st));
	struct sockaddr_in any = { .sin_family = AF_INET };
	int one = 1;

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->w.fd = -1;
	for (int i = 0; i < TTL_PROBES; i++)
		st->tp[i].w.fd = -1;
	st->w.cb = nat_on_read;
	st->retx.cb = nat_on_retx;
	st->budget.cb = nat_on_budget;
	diag_sin(&st->dest, x->addr[DIAG_H_STUN], x->opts->stun_port);
	st->w.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->w.fd < 0)
		return -errno;
	setsockopt(st->w.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(st->w.fd, (struct sockaddr *)&any, sizeof(any)) < 0)
		return -errno;
	ev_fd_add(&st->w, EV_READ);
	for (int i = 0; i < TTL_PROBES; i++) {
		struct ttl_probe *p = &st->tp[i];

		p->st = st;
		p->ttl = i + 1;
		p->w.cb = ttl_on_read;
		utl_random(p->txid, sizeof(p->txid));
		p->w.fd = diag_udp_open(&st->dest, -1, p->ttl);
		if (p->w.fd < 0)
			return p->w.fd;
		ev_fd_add(&p->w, EV_READ);
		ttl_send(p);
	}
	utl_random(st->txid, sizeof(st->txid));
	stun_send(st);
	ev_timer_set(&st->retx, STUN_RETX_MS);
	ev_timer_set(&st->budget, NAT_BUDGET_MS);
	return 0;
}

static void nat_cancel(struct diag_check *c)
{
	struct nat_state *st = c->priv;

	if (!st)
		return;
	nat_release(st);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_nat = {
	DIAG_C_NAT, "nat", "NAT", 2, false, DIAG_H_STUN, 0, nat_start, nat_cancel,
};

/* ---------------------------------------------------------------- SIP ALG */

#define ALG_BUDGET_MS 4000
#define ALG_MAX 8192

struct alg_leg {
	struct ev_fd w;
	struct alg_state *st;
	int h;
	char branch[16];
	char req[2048];
	size_t reqlen;
	bool answered;
	int status;
};

struct alg_state {
	struct diag_check *c;
	struct alg_leg leg[2];
	struct ev_timer retx, budget;
	unsigned interval_ms;
};

static void alg_release(struct alg_state *st)
{
	ev_timer_cancel(&st->retx);
	ev_timer_cancel(&st->budget);
	for (int i = 0; i < 2; i++) {
		if (st->leg[i].w.fd >= 0) {
			ev_fd_del(&st->leg[i].w);
			close(st->leg[i].w.fd);
			st->leg[i].w.fd = -1;
		}
	}
}

static void alg_end(struct alg_state *st)
{
	struct diag_check *c = st->c;

	alg_release(st);
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static void alg_on_read(struct ev_fd *w, unsigned ev)
{
	struct alg_leg *leg = container_of(w, struct alg_leg, w);
	struct alg_state *st = leg->st;
	struct diag_result *r = &st->c->res;
	static char buf[ALG_MAX], dec[ALG_MAX];
	struct diag_rx rx;
	ssize_t n;

	while ((n = diag_udp_recv(w->fd, buf, sizeof(buf) - 1, &rx)) != -EAGAIN) {
		const char *body;
		size_t blen;
		char fields[96];
		int code, dl, diff;

		if (n < 0)
			continue;
		code = sipprobe_response_status(buf, (size_t)n, leg->branch);
		if (code < 200)
			continue;
		leg->answered = true;
		leg->status = code;
		diag_value_add(r, "registrar", "", "%s (%d)", st->c->ctx->host[leg->h], code);
		body = sipprobe_body(buf, (size_t)n, &blen);
		if (!body || blen == 0 || (dl = sipprobe_b64decode(body, blen, dec, sizeof(dec) - 1)) <= 0) {
			snprintf(r->brief, sizeof(r->brief), "not testable");
			diag_verdict_set(r, DIAG_SKIP, "not tested: %s does not echo the request (%s)",
					 st->c->ctx->host[leg->h], SIPPROBE_ECHO_HEADER);
			alg_end(st);
			return;
		}
		dec[dl] = '\0';
		diff = sipprobe_compare(leg->req, leg->reqlen, dec, (size_t)dl, fields, sizeof(fields));
		diag_threshold_set(r, "Via, Contact and SDP arrive as sent");
		if (diff < 0) {
			snprintf(r->brief, sizeof(r->brief), "echo unreadable");
			diag_verdict_set(r, DIAG_SKIP, "not tested: the echoed request is not ours");
		} else if (diff > 0) {
			diag_value_add(r, "rewritten", "", "%s", fields);
			snprintf(r->brief, sizeof(r->brief), "rewrote %.28s", fields);
			diag_verdict_set(r, DIAG_FAIL,
					 "SIP ALG rewrote %s: turn off SIP ALG / SIP Helper on the router, then "
					 "reboot it", fields);
		} else {
			diag_value_add(r, "rewritten", "", "none");
			snprintf(r->brief, sizeof(r->brief), "no rewriting");
			diag_verdict_set(r, DIAG_PASS, "no SIP ALG: requests arrive as sent");
		}
		alg_end(st);
		return;
	}
}

static void alg_send_all(struct alg_state *st)
{
	for (int i = 0; i < 2; i++)
		if (st->leg[i].w.fd >= 0)
			(void)send(st->leg[i].w.fd, st->leg[i].req, st->leg[i].reqlen, 0);
}

static void alg_on_retx(struct ev_timer *t)
{
	struct alg_state *st = container_of(t, struct alg_state, retx);

	st->interval_ms *= 2;
	ev_timer_set(&st->retx, st->interval_ms);
	alg_send_all(st);
}

static void alg_on_budget(struct ev_timer *t)
{
	struct alg_state *st = container_of(t, struct alg_state, budget);

	snprintf(st->c->res.brief, sizeof(st->c->res.brief), "no registrar answer");
	diag_verdict_set(&st->c->res, DIAG_SKIP,
			 "not tested: no registrar answered over UDP 5060 (see east-udp / west-udp)");
	alg_end(st);
}

static int alg_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	struct alg_state *st = calloc(1, sizeof(*st));
	int opened = 0;

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->retx.cb = alg_on_retx;
	st->budget.cb = alg_on_budget;
	for (int i = 0; i < 2; i++) {
		struct alg_leg *leg = &st->leg[i];
		struct sockaddr_in dst, local;
		char ip[INET_ADDRSTRLEN];
		uint8_t rnd[5];
		struct sipprobe p;
		int n;

		leg->w.fd = -1;
		leg->st = st;
		leg->h = i ? DIAG_H_WEST : DIAG_H_EAST;
		leg->w.cb = alg_on_read;
		if (!x->resolved[leg->h])
			continue;
		diag_sin(&dst, x->addr[leg->h], x->opts->sip_port);
		leg->w.fd = diag_udp_open(&dst, x->opts->dscp_signal, 0);
		if (leg->w.fd < 0 || diag_local_addr(leg->w.fd, &local) < 0)
			return -EIO;
		utl_random(rnd, sizeof(rnd));
		snprintf(leg->branch, sizeof(leg->branch), "%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
			 rnd[4]);
		/* the addresses in the request are the socket's own: an ALG rewrites exactly those */
		p = (struct sipprobe){ "UDP", diag_ntoa(local.sin_addr, ip), ntohs(local.sin_port), x->host[leg->h],
				       x->opts->sip_port, leg->branch, leg->branch, true };
		n = sipprobe_options(leg->req, sizeof(leg->req), &p);
		if (n < 0)
			return n;
		leg->reqlen = (size_t)n;
		ev_fd_add(&leg->w, EV_READ);
		opened++;
	}
	if (!opened) {
		diag_verdict_set(&c->res, DIAG_SKIP, "not tested: no registrar address (see dns)");
		alg_end(st);
		return 0;
	}
	st->interval_ms = 500;
	ev_timer_set(&st->retx, st->interval_ms);
	ev_timer_set(&st->budget, ALG_BUDGET_MS);
	alg_send_all(st);
	return 0;
}

static void alg_cancel(struct diag_check *c)
{
	struct alg_state *st = c->priv;

	if (!st)
		return;
	alg_release(st);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_sip_alg = {
	DIAG_C_SIP_ALG, "sip-alg", "SIP ALG", 2, false, DIAG_H_NONE, 0, alg_start, alg_cancel,
};
