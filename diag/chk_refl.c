/* chk_refl.c - checks against the UDP reflector: RTP port sample, DSCP, MTU.
 *
 * A probe set is a few connected UDP sockets, each sending one datagram to the
 * reflector and retransmitting until the reflector's reply (which says what it
 * received: TOS byte, original destination port) comes back or the budget ends.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "diag/check.h"
#include "diag/probe.h"

#define PSET_MAX 32
#define PSET_RETX_MS 400
#define PSET_BUDGET_MS 3000
#define MTU_SIZE 1400

struct probe {
	struct ev_fd w;
	struct pset *set;
	unsigned port;
	int dscp;
	size_t size;
	uint8_t token[8];
	bool answered;
	int refl_tos;        /* what the reflector received */
	int back_tos;        /* what came back to us */
	unsigned refl_port;
	size_t echoed;
	bool truncated;
	uint64_t sent_ms, rtt_ms;
};

struct pset {
	struct diag_check *c;
	unsigned n, answered;
	struct probe p[PSET_MAX];
	struct ev_timer retx, budget;
	void (*finish)(struct pset *s);
};

static void pset_release(struct pset *s)
{
	ev_timer_cancel(&s->retx);
	ev_timer_cancel(&s->budget);
	for (unsigned i = 0; i < s->n; i++) {
		if (s->p[i].w.fd >= 0) {
			ev_fd_del(&s->p[i].w);
			close(s->p[i].w.fd);
			s->p[i].w.fd = -1;
		}
	}
}

static void pset_end(struct pset *s)
{
	struct diag_check *c = s->c;

	pset_release(s);
	s->finish(s);
	c->priv = NULL;
	free(s);
	diag_check_done(c);
}

static void probe_send(struct probe *p)
{
	uint8_t buf[MTU_SIZE];
	size_t n = p->size < sizeof(buf) ? p->size : sizeof(buf);

	memset(buf, 'x', n);
	memcpy(buf, "DSAP", 4);
	memcpy(buf + 4, p->token, sizeof(p->token));
	if (!p->sent_ms)
		p->sent_ms = ev_now_ms();
	(void)diag_send(p->set->c, DIAG_H_REFLECTOR, p->w.fd, buf, n, 0);
}

static void probe_on_read(struct ev_fd *w, unsigned ev)
{
	struct probe *p = container_of(w, struct probe, w);
	struct pset *s = p->set;
	uint8_t buf[DIAG_REFL_HDR + DIAG_REFL_MAX_ECHO + 64];
	struct diag_rx rx;
	ssize_t n;

	while ((n = diag_udp_recv(w->fd, buf, sizeof(buf), &rx)) != -EAGAIN) {
		struct diag_refl h;

		if (n < 0)
			continue;
		if (diag_refl_parse(buf, (size_t)n, &h) < 0 || h.plen < 12 || memcmp(h.payload + 4, p->token, 8))
			continue;
		if (p->answered)
			continue;
		p->answered = true;
		p->refl_tos = h.tos;
		p->back_tos = rx.tos;
		p->refl_port = h.orig_port;
		p->echoed = h.plen;
		p->truncated = h.truncated;
		p->rtt_ms = ev_now_ms() - p->sent_ms;
		if (++s->answered == s->n) {
			pset_end(s);
			return;
		}
	}
}

static void pset_on_retx(struct ev_timer *t)
{
	struct pset *s = container_of(t, struct pset, retx);

	for (unsigned i = 0; i < s->n; i++)
		if (!s->p[i].answered && s->p[i].w.fd >= 0)
			probe_send(&s->p[i]);
	ev_timer_set(&s->retx, diag_jitter(PSET_RETX_MS));
}

static void pset_on_budget(struct ev_timer *t)
{
	pset_end(container_of(t, struct pset, budget));
}

/* Open every probe's socket and send; the probes' port/dscp/size are set. 0 or -errno. */
static int pset_go(struct pset *s)
{
	struct diag_ctx *x = s->c->ctx;

	s->retx.cb = pset_on_retx;
	s->budget.cb = pset_on_budget;
	for (unsigned i = 0; i < s->n; i++) {
		struct probe *p = &s->p[i];
		struct sockaddr_in6 dst;
		int fd, fam = diag_dst(x, DIAG_H_REFLECTOR, p->port, &dst);

		fd = diag_udp_open(&dst, p->dscp, 0);
		if (fd < 0)
			return fd;
		if (p->size > 576) {
			int pmtu = IP_PMTUDISC_DONT; /* let the path fragment: that is what is tested (on IPv6
						      * the phone itself fragments, IPV6_PMTUDISC_DONT == 0) */

			setsockopt(fd, fam == 6 ? IPPROTO_IPV6 : IPPROTO_IP, fam == 6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER,
				   &pmtu, sizeof(pmtu));
		}
		if (!i)
			diag_value_add(&s->c->res, "fam", "", "%d", fam);
		p->w.fd = fd;
		ev_fd_add(&p->w, EV_READ);
		probe_send(p);
	}
	ev_timer_set(&s->retx, diag_jitter(PSET_RETX_MS));
	ev_timer_set(&s->budget, PSET_BUDGET_MS);
	return 0;
}

static struct pset *pset_new(struct diag_check *c, unsigned n, void (*finish)(struct pset *))
{
	struct pset *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->c = c;
	s->n = n;
	s->finish = finish;
	for (unsigned i = 0; i < n; i++) {
		s->p[i].w.fd = -1;
		s->p[i].w.cb = probe_on_read;
		s->p[i].set = s;
		s->p[i].dscp = -1;
		s->p[i].size = 64;
		s->p[i].refl_tos = s->p[i].back_tos = -1;
		utl_random(s->p[i].token, sizeof(s->p[i].token));
	}
	c->priv = s;
	return s;
}

static void pset_cancel(struct diag_check *c)
{
	struct pset *s = c->priv;

	if (!s)
		return;
	pset_release(s);
	free(s);
	c->priv = NULL;
}

/* ---------------------------------------------------------------- RTP ports */

static void rtp_finish(struct pset *s)
{
	struct diag_result *r = &s->c->res;
	const struct diag_opts *o = s->c->ctx->opts;
	char blocked[160] = "", sample[160] = "";

	for (unsigned i = 0; i < s->n; i++) {
		size_t l = strlen(sample);

		snprintf(sample + l, sizeof(sample) - l, "%s%u", i ? " " : "", s->p[i].port);
		if (!s->p[i].answered) {
			l = strlen(blocked);
			snprintf(blocked + l, sizeof(blocked) - l, "%s%u", l ? " " : "", s->p[i].port);
		}
	}
	diag_value_add(r, "ports", "", "%s", sample);
	diag_value_add(r, "answered", "", "%u/%u", s->answered, s->n);
	diag_threshold_set(r, "every sampled port of UDP %u-%u answers within %d s", o->rtp_min, o->rtp_max,
			   PSET_BUDGET_MS / 1000);
	snprintf(r->brief, sizeof(r->brief), "%u/%u ports open", s->answered, s->n);
	if (s->answered == s->n) {
		diag_verdict_set(r, DIAG_PASS, "outbound UDP %u-%u (RTP audio) gets through", o->rtp_min, o->rtp_max);
		return;
	}
	diag_value_add(r, "blocked", "", "%s", blocked);
	diag_verdict_set(r, DIAG_FAIL,
			 "RTP audio blocked on UDP %s: allow outbound UDP %u-%u to any destination "
			 "(desk phones have no TCP 443 fallback)", blocked, o->rtp_min, o->rtp_max);
}

static int rtp_start(struct diag_check *c)
{
	const struct diag_opts *o = c->ctx->opts;
	unsigned n = o->rtp_samples < 2 ? 2 : o->rtp_samples > PSET_MAX ? PSET_MAX : o->rtp_samples;
	unsigned span = o->rtp_max - o->rtp_min;
	struct pset *s = pset_new(c, n, rtp_finish);

	if (!s)
		return -ENOMEM;
	/* both ends, and the inside spread evenly with a random offset per slot */
	for (unsigned i = 0; i < n; i++) {
		unsigned port = o->rtp_min + (unsigned)((uint64_t)span * i / (n - 1));

		if (i > 0 && i < n - 1 && span / (n - 1) > 2)
			port = o->rtp_min + (unsigned)((uint64_t)span * i / (n - 1)) -
			       utl_random_range(0, span / (n - 1) / 2);
		s->p[i].port = port;
		s->p[i].dscp = o->dscp_audio;
		s->p[i].size = 172;
	}
	return pset_go(s);
}

static void check_cancel(struct diag_check *c)
{
	pset_cancel(c);
}

const struct diag_check_type diag_chk_rtp_ports = {
	DIAG_C_RTP_PORTS, "rtp-ports", "RTP ports", 2, false, DIAG_H_REFLECTOR, 0, rtp_start, check_cancel,
};

/* ---------------------------------------------------------------- DSCP */

static void dscp_finish(struct pset *s)
{
	struct diag_result *r = &s->c->res;
	const struct diag_opts *o = s->c->ctx->opts;
	char bad[96] = "", a[20], b[20];
	unsigned nbad = 0, nknown = 0;

	for (unsigned i = 0; i < s->n; i++) {
		const struct probe *p = &s->p[i];
		const char *name = i == 0 ? "audio" : "signalling";
		char key[24];

		if (!p->answered || p->refl_tos < 0) {
			diag_value_add(r, name, "", "sent %s, not measured", diag_dscp_name(p->dscp, a, sizeof(a)));
			continue;
		}
		nknown++;
		diag_value_add(r, name, "", "sent %s arrived %s", diag_dscp_name(p->dscp, a, sizeof(a)),
			       diag_dscp_name(p->refl_tos >> 2, b, sizeof(b)));
		if (p->back_tos >= 0) {
			snprintf(key, sizeof(key), "%s_return", name);
			diag_value_add(r, key, "", "%s", diag_dscp_name(p->back_tos >> 2, b, sizeof(b)));
		}
		if ((p->refl_tos >> 2) != p->dscp) {
			size_t l = strlen(bad);

			snprintf(bad + l, sizeof(bad) - l, "%s%s arrived as %s", nbad ? ", " : "",
				 diag_dscp_name(p->dscp, a, sizeof(a)), diag_dscp_name(p->refl_tos >> 2, b, sizeof(b)));
			nbad++;
		}
	}
	diag_threshold_set(r, "DSCP %d (audio) and %d (signalling) arrive unchanged", o->dscp_audio, o->dscp_signal);
	if (!nknown) {
		snprintf(r->brief, sizeof(r->brief), "not measured");
		diag_verdict_set(r, DIAG_SKIP, "not tested: the reflector did not answer or report DSCP");
	} else if (nbad) {
		snprintf(r->brief, sizeof(r->brief), "%.40s", bad);
		diag_verdict_set(r, DIAG_WARN,
				 "QoS cannot prioritise voice: DSCP %s; have the router honour DSCP %s (audio) "
				 "and %s (signalling) and not clear them", bad, diag_dscp_name(o->dscp_audio, a, sizeof(a)),
				 diag_dscp_name(o->dscp_signal, b, sizeof(b)));
	} else {
		snprintf(r->brief, sizeof(r->brief), "%s, %s kept", diag_dscp_name(o->dscp_audio, a, sizeof(a)),
			 diag_dscp_name(o->dscp_signal, b, sizeof(b)));
		diag_verdict_set(r, DIAG_PASS, "DSCP marks arrive unchanged");
	}
}

static int dscp_start(struct diag_check *c)
{
	const struct diag_opts *o = c->ctx->opts;
	struct pset *s = pset_new(c, 2, dscp_finish);

	if (!s)
		return -ENOMEM;
	s->p[0].port = s->p[1].port = o->reflector_port;
	s->p[0].dscp = o->dscp_audio;
	s->p[1].dscp = o->dscp_signal;
	return pset_go(s);
}

const struct diag_check_type diag_chk_dscp = {
	DIAG_C_DSCP, "dscp", "DSCP", 2, false, DIAG_H_REFLECTOR, 0, dscp_start, check_cancel,
};

/* ---------------------------------------------------------------- MTU */

static void mtu_finish(struct pset *s)
{
	struct diag_result *r = &s->c->res;
	const struct probe *small = &s->p[0], *big = &s->p[1];

	diag_threshold_set(r, "a %d-byte UDP datagram (a large SIP message) gets there and back", MTU_SIZE);
	diag_value_add(r, "small", "", "%s", small->answered ? "answered" : "no answer");
	diag_value_add(r, "large", "", "%s", big->answered ? "answered" : "no answer");
	diag_value_add(r, "size", "bytes", "%d", MTU_SIZE);
	if (!small->answered) {
		snprintf(r->brief, sizeof(r->brief), "reflector silent");
		diag_verdict_set(r, DIAG_SKIP, "not tested: the reflector does not answer (see rtp-ports)");
	} else if (!big->answered || big->echoed < MTU_SIZE) {
		struct sockaddr_in6 d;

		snprintf(r->brief, sizeof(r->brief), "%d B lost", MTU_SIZE);
		/* IPv6 routers do not fragment: a smaller link with its Packet Too Big lost */
		diag_verdict_set(r, DIAG_FAIL,
				 "large SIP messages (%d bytes) do not get through (%s): fix the "
				 "MTU / fragment handling on the router, or provision SIP over TCP or TLS", MTU_SIZE,
				 diag_dst(s->c->ctx, DIAG_H_REFLECTOR, 0, &d) == 6 ? "IPv6 path MTU smaller, ICMPv6 "
				 "Packet Too Big lost" : "fragments dropped");
	} else {
		snprintf(r->brief, sizeof(r->brief), "%d B ok", MTU_SIZE);
		diag_verdict_set(r, DIAG_PASS, "large SIP-sized datagrams get through");
	}
}

static int mtu_start(struct diag_check *c)
{
	const struct diag_opts *o = c->ctx->opts;
	struct pset *s = pset_new(c, 2, mtu_finish);

	if (!s)
		return -ENOMEM;
	s->p[0].port = s->p[1].port = o->reflector_port;
	s->p[0].dscp = s->p[1].dscp = o->dscp_signal;
	s->p[1].size = MTU_SIZE;
	return pset_go(s);
}

const struct diag_check_type diag_chk_mtu = {
	DIAG_C_MTU, "mtu", "MTU", 2, false, DIAG_H_REFLECTOR, 0, mtu_start, check_cancel,
};
