/* chk_nat.c - NAT (STUN mapping, RFC 5780 mapping behaviour, double NAT, CGNAT) and SIP ALG.
 *
 * Double NAT / CGNAT: STUN requests with TTL 1..6 (IP_RECVERR, read from
 * MSG_ERRQUEUE): each hop that answers "time exceeded" names itself; the
 * situation (no NAT, one NAT, double NAT, CGNAT, CGNAT + double NAT) is
 * judged from those hops and the STUN mapping by diag/natverdict.c. IPv6 (a global address and
 * an AAAA for the STUN server): one Binding from the phone's address; mapped == local is native
 * IPv6, else NPTv6 or NAT66 (diag_nat6_judge). An IPv6-only phone gets the IPv6 part alone. SIP ALG: an OPTIONS with known Via, Contact and SDP and the
 * echo header; the registrar returns what it received, base64-encoded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "diag/check.h"
#include "diag/famverdict.h"
#include "diag/natverdict.h"
#include "diag/probe.h"
#include "diag/sipprobe.h"
#include "common/stun.h"
#include "system/system.h"

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
	bool v4;                        /* the IPv4 part runs (an IPv4 address and an A record) */
	/* IPv6: one Binding on a connected socket, retransmitted with the IPv4 one */
	struct ev_fd w6;
	int v6;                         /* 0 not probed, 1 asking, 2 answered, 3 silent */
	unsigned tries6;
	uint8_t txid6[12];
	struct sockaddr_in6 local6, mapped6;
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
	if (st->w6.fd >= 0) {
		ev_fd_del(&st->w6);
		close(st->w6.fd);
		st->w6.fd = -1;
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

static bool nat_all_done(const struct nat_state *st);

static void nat_end(struct nat_state *st)
{
	struct diag_check *c = st->c;
	struct diag_ctx *x = c->ctx;
	struct diag_result *r = &c->res;
	struct diag_nat_evidence ev = { .local = x->local };
	struct diag_nat_judgement j;
	char ip[INET6_ADDRSTRLEN], hops[128] = "";

	nat_release(st);
	diag_value_add(r, "fam", "", "%s", st->v4 && st->v6 ? "4,6" : st->v4 ? "4" : "6");
	for (int i = 0; i < TTL_PROBES && st->v4; i++) {
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
	diag_threshold_set(r, "one NAT between the phone and the internet, no carrier-grade NAT");
	if (!st->v4)
		goto v6;
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
	snprintf(r->brief, sizeof(r->brief), "%s", j.brief);
	if (j.kind == DIAG_NAT_UNKNOWN)
		diag_verdict_set(r, j.verdict, "STUN server %s:%u does not answer: allow outbound UDP %u; "
				 "NAT type unknown", x->host[DIAG_H_STUN], x->opts->stun_port, x->opts->stun_port);
	else
		diag_verdict_set(r, j.verdict, "%s", j.advice);
v6:
	if (st->v6) {
		struct diag_nat6_judgement j6;
		size_t l = strlen(r->advice);

		diag_nat6_judge(&st->local6, st->v6 == 2 ? &st->mapped6 : NULL, x->opts->stun_port, &j6);
		if (st->v6 == 2)
			diag_value_add(r, "ipv6_public", "", "[%s]:%u",
				       inet_ntop(AF_INET6, &st->mapped6.sin6_addr, ip, sizeof(ip)),
				       ntohs(st->mapped6.sin6_port));
		diag_value_add(r, "ipv6_nat", "", "%s", diag_nat6_kind_name(j6.kind));
		if (st->v4) {
			/* both families: IPv4's situation first, IPv6's after it; the worse verdict */
			snprintf(r->advice + l, sizeof(r->advice) - l, "; over IPv6: %s", j6.advice);
			r->verdict = diag_verdict_worst(r->verdict, j6.verdict);
		} else {
			utl_strlcpy(r->brief, j6.brief, sizeof(r->brief));
			diag_verdict_set(r, j6.verdict, "%s", j6.advice);
		}
	}
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static void stun_send6(struct nat_state *st)
{
	uint8_t buf[STUN_HDR];

	(void)diag_send(st->c, DIAG_H_STUN, st->w6.fd, buf, stun_build_binding(buf, st->txid6), 0);
}

static void nat_on_read6(struct ev_fd *w, unsigned ev)
{
	struct nat_state *st = container_of(w, struct nat_state, w6);
	uint8_t buf[STUN_MAX];
	struct diag_rx rx;
	ssize_t n;

	/* drained even when answered (a retransmission's second answer): never left readable */
	for (int guard = 0; guard < 16; guard++) {
		struct stun_binding b;

		if ((n = diag_udp_recv(w->fd, buf, sizeof(buf), &rx)) == -EAGAIN)
			break;
		if (n < 0 || st->v6 != 1 || stun_parse_binding(buf, (size_t)n, st->txid6, &b) < 0 ||
		    !b.have_mapped || b.mapped_ss.ss_family != AF_INET6)
			continue;
		st->mapped6 = b.mapped6;
		st->v6 = 2;
	}
	if (nat_all_done(st))
		nat_end(st);
}

static void stun_send(struct nat_state *st)
{
	uint8_t buf[STUN_HDR];
	size_t n = stun_build_binding(buf, st->txid);

	if (diag_take(st->c, DIAG_H_STUN) == 0) /* the OTHER-ADDRESS too: the STUN server's budget */
		(void)sendto(st->w.fd, buf, n, 0, (struct sockaddr *)&st->dest, sizeof(st->dest));
}

static bool nat_all_done(const struct nat_state *st)
{
	if (st->v6 == 1 || st->step != ST_DONE)
		return false;
	if (!st->v4)
		return true;
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

	(void)diag_send(p->st->c, DIAG_H_STUN, p->w.fd, buf, n, 0);
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
	if (st->v6 == 1) {
		if (++st->tries6 >= STUN_TRIES)
			st->v6 = 3; /* silent over IPv6 */
		else
			stun_send6(st);
	}
	if (++st->ttl_tries < STUN_TRIES && st->v4)
		for (int i = 0; i < TTL_PROBES; i++)
			if (!st->tp[i].hop_known && !st->tp[i].reached)
				ttl_send(&st->tp[i]);
	if (nat_all_done(st) || (st->step == ST_DONE && st->ttl_tries >= STUN_TRIES && st->v6 != 1)) {
		nat_end(st);
		return;
	}
	ev_timer_set(&st->retx, diag_jitter(STUN_RETX_MS));
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
	st->w.fd = st->w6.fd = -1;
	for (int i = 0; i < TTL_PROBES; i++)
		st->tp[i].w.fd = -1;
	st->w.cb = nat_on_read;
	st->w6.cb = nat_on_read6;
	st->retx.cb = nat_on_retx;
	st->budget.cb = nat_on_budget;
	ev_timer_set(&st->retx, diag_jitter(STUN_RETX_MS));
	ev_timer_set(&st->budget, NAT_BUDGET_MS);
	if (x->v6 == DIAG_V6_GLOBAL && x->resolved6[DIAG_H_STUN]) {
		struct sockaddr_in6 d6 = { .sin6_family = AF_INET6, .sin6_addr = x->addr6[DIAG_H_STUN],
					   .sin6_port = htons((uint16_t)x->opts->stun_port) };
		socklen_t l = sizeof(st->local6);

		/* the address the kernel chose for the platform is the one STUN maps; no IPv6
		 * route (connect fails) is judged like no answer, IPv4 still runs */
		st->w6.fd = diag_udp_open(&d6, -1, 0);
		st->v6 = 3;
		if (st->w6.fd >= 0 && getsockname(st->w6.fd, (struct sockaddr *)&st->local6, &l) == 0) {
			ev_fd_add(&st->w6, EV_READ);
			st->v6 = 1;
			utl_random(st->txid6, sizeof(st->txid6));
			stun_send6(st);
		}
	}
	st->v4 = x->have_addr && x->resolved[DIAG_H_STUN];
	if (!st->v4) {
		st->step = ST_DONE;
		return 0;
	}
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

/* An ALG rewrites what it can read: UDP and TCP are probed (each transport the phone is
 * provisioned with, to each registrar), TLS is encrypted end to end and cannot be rewritten. */
#define ALG_BUDGET_MS 4000
#define ALG_MAX 8192
#define ALG_LEGS 4                      /* {UDP, TCP} x {east, west} */

enum alg_tp { ALG_UDP = 0, ALG_TCP, ALG_NTP };
static const char alg_tp_name[ALG_NTP][4] = { "UDP", "TCP" };   /* no pointers */
static const char alg_tp_key[ALG_NTP][4] = { "udp", "tcp" };

enum alg_outcome { AO_NONE = 0, AO_CLEAN, AO_REWRITTEN, AO_NO_ECHO, AO_UNREADABLE };

struct alg_leg {
	struct ev_fd w;
	struct alg_state *st;
	int h;
	enum alg_tp tp;
	bool connected, done;
	char branch[16];
	char req[2048];
	size_t reqlen;
	char rx[ALG_MAX];
	size_t rxlen;
};

struct alg_tp_result {
	enum alg_outcome out;
	int h, status;
	char fields[96];
};

struct alg_state {
	struct diag_check *c;
	struct alg_leg leg[ALG_LEGS];
	unsigned nlegs;
	bool want[ALG_NTP];
	struct alg_tp_result res[ALG_NTP];
	struct ev_timer retx, budget;
	unsigned interval_ms;
};

static void alg_close(struct alg_leg *leg)
{
	if (leg->w.fd >= 0) {
		ev_fd_del(&leg->w);
		close(leg->w.fd);
		leg->w.fd = -1;
	}
	leg->done = true;
}

static void alg_release(struct alg_state *st)
{
	ev_timer_cancel(&st->retx);
	ev_timer_cancel(&st->budget);
	for (unsigned i = 0; i < st->nlegs; i++)
		alg_close(&st->leg[i]);
}

/* The verdict from each transport's outcome. */
static void alg_end(struct alg_state *st)
{
	struct diag_check *c = st->c;
	struct diag_ctx *x = c->ctx;
	const struct diag_opts *o = x->opts;
	struct diag_result *r = &c->res;
	char rewritten[200] = "", all_fields[96] = "", clean[64] = "", silent[64] = "";
	unsigned nrew = 0, nclean = 0, nnoecho = 0, nwant = 0;

	alg_release(st);
	diag_threshold_set(r, "Via, Contact and SDP arrive as sent over every transport the phone uses");
	for (int t = 0; t < ALG_NTP; t++) {
		const struct alg_tp_result *tr = &st->res[t];
		char where[32], key[24];
		size_t l;

		if (!st->want[t])
			continue;
		nwant++;
		snprintf(where, sizeof(where), "%s %u", alg_tp_name[t], o->sip_port);
		snprintf(key, sizeof(key), "rewritten_%s", alg_tp_key[t]);
		switch (tr->out) {
		case AO_REWRITTEN:
			diag_value_add(r, key, "", "%s (%s, %d)", tr->fields, x->host[tr->h], tr->status);
			l = strlen(rewritten);
			snprintf(rewritten + l, sizeof(rewritten) - l, "%s%s over %s", nrew ? "; " : "", tr->fields, where);
			l = strlen(all_fields);
			snprintf(all_fields + l, sizeof(all_fields) - l, "%s%s", nrew ? "," : "", tr->fields);
			nrew++;
			break;
		case AO_CLEAN:
			diag_value_add(r, key, "", "none (%s, %d)", x->host[tr->h], tr->status);
			l = strlen(clean);
			snprintf(clean + l, sizeof(clean) - l, "%s%s", nclean ? " and " : "", where);
			nclean++;
			break;
		case AO_NO_ECHO:
		case AO_UNREADABLE:
			diag_value_add(r, key, "", "not testable: %s does not echo the request", x->host[tr->h]);
			nnoecho++;
			break;
		default:
			diag_value_add(r, key, "", "no registrar answered");
			l = strlen(silent);
			snprintf(silent + l, sizeof(silent) - l, "%s%s", silent[0] ? " / " : "", where);
			break;
		}
	}
	if (o->sip_transports & DIAG_SIP_TLS)
		diag_value_add(r, "tls", "", "not probed: TLS %u is encrypted end to end, an ALG cannot rewrite it",
			       o->sip_tls_port);
	if (nrew) {
		diag_value_add(r, "rewritten", "", "%s", all_fields);
		snprintf(r->brief, sizeof(r->brief), "rewrote %.28s", all_fields);
		diag_verdict_set(r, DIAG_FAIL, "SIP ALG rewrote %s: turn off SIP ALG / SIP Helper on the router "
				 "(for every SIP transport), then reboot it", rewritten);
	} else if (nclean) {
		diag_value_add(r, "rewritten", "", "none");
		snprintf(r->brief, sizeof(r->brief), "no rewriting");
		diag_verdict_set(r, DIAG_PASS, "no SIP ALG on %s: requests arrive as sent%s%s", clean,
				 silent[0] ? "; not tested on " : "", silent);
	} else if (nnoecho) {
		snprintf(r->brief, sizeof(r->brief), "not testable");
		diag_verdict_set(r, DIAG_SKIP, "not tested: the registrars do not echo the request (%s)",
				 SIPPROBE_ECHO_HEADER);
	} else if (nwant) {
		snprintf(r->brief, sizeof(r->brief), "no registrar answer");
		diag_verdict_set(r, DIAG_SKIP, "not tested: no registrar answered over %s (see the east-/west- rows)",
				 silent);
	} else {
		snprintf(r->brief, sizeof(r->brief), "TLS only");
		diag_verdict_set(r, DIAG_SKIP, "not tested: the phone uses TLS %u only, which an ALG cannot rewrite",
				 o->sip_tls_port);
	}
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static bool alg_all_decided(const struct alg_state *st)
{
	for (int t = 0; t < ALG_NTP; t++)
		if (st->want[t] && st->res[t].out == AO_NONE)
			return false;
	return true;
}

/* A complete response in leg->rx: judge it for its transport. */
static void alg_response(struct alg_leg *leg, const char *msg, size_t len, int code)
{
	struct alg_state *st = leg->st;
	struct alg_tp_result *tr = &st->res[leg->tp];
	static char dec[ALG_MAX];
	const char *body;
	size_t blen;
	int dl, diff;

	alg_close(leg);
	if (tr->out == AO_CLEAN || tr->out == AO_REWRITTEN)
		return; /* the other registrar decided this transport already */
	tr->h = leg->h;
	tr->status = code;
	body = sipprobe_body(msg, len, &blen);
	if (!body || blen == 0 || (dl = sipprobe_b64decode(body, blen, dec, sizeof(dec) - 1)) <= 0) {
		tr->out = AO_NO_ECHO;
		return;
	}
	dec[dl] = '\0';
	diff = sipprobe_compare(leg->req, leg->reqlen, dec, (size_t)dl, tr->fields, sizeof(tr->fields));
	tr->out = diff < 0 ? AO_UNREADABLE : diff > 0 ? AO_REWRITTEN : AO_CLEAN;
}

static void alg_maybe_end(struct alg_state *st)
{
	bool open = false;

	for (unsigned i = 0; i < st->nlegs; i++)
		open |= !st->leg[i].done;
	if (alg_all_decided(st) || !open)
		alg_end(st);
}

static void alg_udp_on_read(struct ev_fd *w, unsigned ev)
{
	struct alg_leg *leg = container_of(w, struct alg_leg, w);
	struct alg_state *st = leg->st;
	struct diag_rx rx;
	ssize_t n;

	while (leg->w.fd >= 0 && (n = diag_udp_recv(w->fd, leg->rx, sizeof(leg->rx) - 1, &rx)) != -EAGAIN) {
		int code;

		if (n < 0)
			continue;
		code = sipprobe_response_status(leg->rx, (size_t)n, leg->branch);
		if (code < 200)
			continue;
		leg->rx[n] = '\0';
		alg_response(leg, leg->rx, (size_t)n, code);
	}
	alg_maybe_end(st);
}

static int alg_build(struct alg_leg *leg)
{
	struct diag_ctx *x = leg->st->c->ctx;
	char ip[INET6_ADDRSTRLEN + 2];
	unsigned lport;
	struct sipprobe p;
	int n;

	if (diag_local_host(leg->w.fd, ip, &lport) < 0)
		return -EIO;
	(void)utl_random_hex(leg->branch, 5);
	/* the addresses in the request are the socket's own ("[v6]" in Via and Contact, RFC 5118):
	 * an ALG rewrites exactly those */
	p = (struct sipprobe){ alg_tp_name[leg->tp], ip, lport, x->host[leg->h], x->opts->sip_port, leg->branch,
			       leg->branch, true };
	n = sipprobe_options(leg->req, sizeof(leg->req), &p);
	if (n < 0)
		return n;
	leg->reqlen = (size_t)n;
	return 0;
}

static void alg_tcp_on_io(struct ev_fd *w, unsigned ev)
{
	struct alg_leg *leg = container_of(w, struct alg_leg, w);
	struct alg_state *st = leg->st;
	ssize_t n;

	if (!leg->connected) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr || alg_build(leg) < 0 ||
		    diag_send(st->c, leg->h, w->fd, leg->req, leg->reqlen, MSG_NOSIGNAL) != (ssize_t)leg->reqlen) {
			alg_close(leg);
			alg_maybe_end(st);
			return;
		}
		leg->connected = true;
		ev_fd_add(w, EV_READ);
		return;
	}
	n = recv(w->fd, leg->rx + leg->rxlen, sizeof(leg->rx) - 1 - leg->rxlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		alg_close(leg);
		alg_maybe_end(st);
		return;
	}
	leg->rxlen += (size_t)n;
	leg->rx[leg->rxlen] = '\0';
	for (int guard = 0; guard < 8; guard++) {
		long mlen = sipprobe_message_len(leg->rx, leg->rxlen, ALG_MAX);
		int code;

		if (mlen < 0) {
			alg_close(leg); /* not SIP framing we can follow: the budget decides */
			break;
		}
		if (mlen == 0)
			break;  /* more bytes to come (or more than we keep: closed below) */
		code = sipprobe_response_status(leg->rx, (size_t)mlen, leg->branch);
		if (code >= 200) {
			alg_response(leg, leg->rx, (size_t)mlen, code);
			break;
		}
		/* provisional, or not ours: drop it and look at the next message */
		leg->rxlen -= (size_t)mlen;
		memmove(leg->rx, leg->rx + mlen, leg->rxlen + 1);
	}
	if (leg->rxlen >= sizeof(leg->rx) - 1)
		alg_close(leg);
	alg_maybe_end(st);
}

static void alg_send_udp(struct alg_state *st)
{
	for (unsigned i = 0; i < st->nlegs; i++)
		if (st->leg[i].tp == ALG_UDP && !st->leg[i].done && st->leg[i].w.fd >= 0)
			(void)diag_send(st->c, st->leg[i].h, st->leg[i].w.fd, st->leg[i].req, st->leg[i].reqlen, 0);
}

static void alg_on_retx(struct ev_timer *t)
{
	struct alg_state *st = container_of(t, struct alg_state, retx);

	st->interval_ms *= 2;
	ev_timer_set(&st->retx, diag_jitter(st->interval_ms));
	alg_send_udp(st);
}

static void alg_on_budget(struct ev_timer *t)
{
	alg_end(container_of(t, struct alg_state, budget));
}

/* A leg to registrar h over its family (diag_dst: IPv4 where the phone and the name have it). */
static int alg_open(struct alg_state *st, enum alg_tp tp, int h, const struct sockaddr_in6 *dst)
{
	struct diag_ctx *x = st->c->ctx;
	struct alg_leg *leg = &st->leg[st->nlegs];
	int err;

	leg->w.fd = -1;
	leg->st = st;
	leg->h = h;
	leg->tp = tp;
	if (tp == ALG_UDP) {
		leg->w.cb = alg_udp_on_read;
		leg->w.fd = diag_udp_open(dst, x->opts->dscp_signal, 0);
		if (leg->w.fd < 0)
			return leg->w.fd;
		st->nlegs++;
		if ((err = alg_build(leg)) < 0)
			return err;
		return ev_fd_add(&leg->w, EV_READ);
	}
	leg->w.cb = alg_tcp_on_io;
	leg->w.fd = socket(dst->sin6_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (leg->w.fd < 0)
		return -errno;
	st->nlegs++;
	(void)sys_set_dscp(leg->w.fd, x->opts->dscp_signal);
	if (diag_take(st->c, h) < 0 || /* the SYN is a send too */
	    /* Linux takes the longer length for a sockaddr_in too */
	    (connect(leg->w.fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS)) {
		alg_close(leg);
		return 0;
	}
	return ev_fd_add(&leg->w, EV_WRITE);
}

static int alg_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const struct diag_opts *o = x->opts;
	struct alg_state *st = calloc(1, sizeof(*st));
	int fam = 0;        /* the legs' family: 4 or 6 (diag_dst; 6 when any is) */
	int err;

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->retx.cb = alg_on_retx;
	st->budget.cb = alg_on_budget;
	st->want[ALG_UDP] = o->sip_transports & DIAG_SIP_UDP;
	st->want[ALG_TCP] = o->sip_transports & DIAG_SIP_TCP;
	for (int t = 0; t < ALG_NTP; t++) {
		for (int i = 0; i < 2 && st->want[t]; i++) {
			int h = i ? DIAG_H_WEST : DIAG_H_EAST;
			struct sockaddr_in6 dst;
			int f = diag_dst(x, h, o->sip_port, &dst);

			if (!f)
				continue;
			fam = f > fam ? f : fam;
			if ((err = alg_open(st, (enum alg_tp)t, h, &dst)) < 0)
				return err;
		}
	}
	if (fam)
		diag_value_add(&c->res, "fam", "", "%d", fam);
	if (!st->nlegs) {
		if (st->want[ALG_UDP] || st->want[ALG_TCP]) {
			diag_verdict_set(&c->res, DIAG_SKIP, "not tested: no registrar address (see dns)");
			c->priv = NULL;
			free(st);
			diag_check_done(c);
			return 0;
		}
		alg_end(st); /* TLS only */
		return 0;
	}
	st->interval_ms = 500;
	ev_timer_set(&st->retx, diag_jitter(st->interval_ms));
	ev_timer_set(&st->budget, ALG_BUDGET_MS);
	alg_send_udp(st);
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
