/* chk_voice.c - the voice quality check and the UDP mapping lifetime check.
 *
 * Voice: an RTP stream shaped like a G.711 call (12-byte RTP header + 160 bytes
 * every packet_ms, DSCP audio) to the reflector on an RTP port. Each packet
 * carries its sequence number and CLOCK_REALTIME send time; the reply's kernel
 * receive timestamp (SO_TIMESTAMPNS, same clock) gives the round trip. Jitter
 * is RFC 3550 interarrival jitter over the round trip (both directions plus
 * the reflector), which is what a call's audio sees end to end.
 *
 * Lifetime: several sockets, each opens a mapping with an exchange, then asks
 * the reflector ("DSAD" + ms) to answer only after a delay; a reply that does
 * not come back means the router dropped the mapping before that delay.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "diag/check.h"
#include "diag/emodel.h"
#include "diag/probe.h"
#include "diag/rtpstats.h"
#include "diag/stats.h"
#include "system/system.h"

#define RTP_LEN (12 + 160)
#define TAIL_MS 1500
#define MAX_BURST 8
#define LOOK_MS 1000       /* the loss interval is looked at every second of the extension */
#define GRACE_MS 1000      /* a packet counts as lost at a look when sent this long before */
#define EXT_RATE 4         /* the extension sends 4 x the packet rate */

struct voice_state {
	struct diag_check *c;
	struct ev_fd w;
	struct ev_timer tick, tail, look;
	struct rtpstats stats;
	uint32_t total, sent, ssrc;
	uint32_t paced;                 /* packets of the G.711-shaped stream (voice_ms) */
	uint32_t cap;                   /* paced + the extension's packets, at most */
	uint64_t t0_us, ext0_us;        /* loop time of packet 0, of the extension's first */
	unsigned interval_us, ext_interval_us;
	int64_t *tx_ns;                 /* per packet: send time (kernel TX stamp when given) */
	uint8_t *tx_kernel;             /* per packet: 1 when tx_ns is the kernel's */
	uint32_t ntx_kernel;
	bool tx_stamps;                 /* SO_TIMESTAMPING accepted */
	int64_t overshoot_max_ns;       /* the reflector's own lateness, removed from each RTT */
	unsigned looks;
};

static void voice_release(struct voice_state *st)
{
	ev_timer_cancel(&st->tick);
	ev_timer_cancel(&st->tail);
	ev_timer_cancel(&st->look);
	if (st->w.fd >= 0) {
		ev_fd_del(&st->w);
		close(st->w.fd);
		st->w.fd = -1;
	}
	rtpstats_free(&st->stats);
	free(st->tx_ns);
	free(st->tx_kernel);
	st->tx_ns = NULL;
	st->tx_kernel = NULL;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Loss of packets 0..n-1 (n sent so far and old enough), pooled with the test call's packets
 * when the call has its verdict: one figure for both (docs/selftest.md). */
static void voice_loss(const struct voice_state *st, uint32_t n, uint32_t received, uint64_t *k, uint64_t *nn)
{
	const struct diag_ctx *x = st->c->ctx;

	*nn = n;
	*k = n - (received < n ? received : n);
	if (x->call_media && x->call_sent >= x->call_received) {
		*nn += x->call_sent;
		*k += x->call_sent - x->call_received;
	}
}

static void voice_finish(struct voice_state *st)
{
	struct diag_check *c = st->c;
	const struct diag_opts *o = c->ctx->opts;
	struct diag_result *r = &c->res;
	struct rtpstats_result s;
	struct diag_irate ir;
	enum diag_verdict v = DIAG_PASS;
	char bad[400] = "", ci[96];
	double mos, R, rtt, pooled_pct;
	uint64_t k, n;

	rtpstats_result(&st->stats, st->sent, &s);
	rtt = isnan(s.rtt_avg_ms) ? NAN : s.rtt_avg_ms;
	diag_value_add(r, "packets_sent", "", "%u", s.sent);
	diag_value_add(r, "packets_received", "", "%u", s.received);
	diag_value_add(r, "loss", "%", "%.1f", s.loss_pct);
	voice_loss(st, st->sent, s.received, &k, &n);
	diag_rate_rate(&o->th, DIAG_M_LOSS, k, n, &ir);
	diag_irate_text(&ir, ci, sizeof(ci));
	diag_value_add(r, "loss_pooled", "", "%s", ci);
	diag_value_add(r, "loss_sample", "", "voice %u%s%u", st->sent, c->ctx->call_media ? " + call " : "",
		       c->ctx->call_media ? c->ctx->call_sent : 0);
	if (st->sent > st->paced)
		diag_value_add(r, "extended", "packets", "%u at %u us (the loss interval straddled a threshold)",
			       st->sent - st->paced, st->ext_interval_us);
	if (s.rtt_samples) {
		diag_value_timing(r, &s, s.rtt_samples, 0, st->ntx_kernel, st->sent);
		diag_value_add(r, "reflector_lateness_max", "ms", "%.1f", utl_i64_double(st->overshoot_max_ns) / 1e6);
	}
	diag_value_add(r, "bursts", "", "%u", s.bursts);
	diag_value_add(r, "burst_max", "packets", "%u", s.burst_max);
	diag_value_add(r, "burst_ratio", "", "%.2f", s.burst_ratio);
	diag_value_add(r, "duplicates", "", "%u", s.duplicates);
	diag_value_add(r, "reordered", "", "%u", s.reordered);
	diag_threshold_set(r, "jitter < %g ms, loss < %g %% (95 %% Wilson interval inside a band), RTT < %g ms "
			   "(guide: acceptable); MOS > %.1f", o->th.m[DIAG_M_JITTER].acceptable,
			   o->th.m[DIAG_M_LOSS].acceptable, o->th.m[DIAG_M_RTT].acceptable, o->th.mos_good);
	if (s.received == 0) {
		snprintf(r->brief, sizeof(r->brief), "no packet came back");
		diag_verdict_set(r, DIAG_FAIL,
				 "no audio packet came back from the reflector: allow outbound UDP %u-%u to any "
				 "destination", o->rtp_min, o->rtp_max);
		return;
	}
	diag_rate_metric(r, &o->th, DIAG_M_JITTER, s.jitter_ms, true, &v, bad, sizeof(bad));
	/* loss: rated by its interval, on the voice and call packets together */
	diag_loss_rating(r, &ir, &v, bad, sizeof(bad));
	diag_rate_metric(r, &o->th, DIAG_M_RTT, rtt, true, &v, bad, sizeof(bad));
	pooled_pct = n ? 100.0 * utl_u64_double(k) / utl_u64_double(n) : s.loss_pct;
	mos = emodel_mos(&emodel_g711_plc, rtt, s.jitter_ms, pooled_pct, s.burst_ratio, &R);
	diag_value_add(r, "mos", "", "%.2f", mos);
	diag_value_add(r, "r_factor", "", "%.1f", R);
	diag_value_add(r, "codec", "", "%s", emodel_g711_plc.name);
	diag_value_add(r, "delay_model", "", "RTT/2 + max(2 x jitter, 20) + 20 ms = %.0f ms",
		       emodel_delay_ms(rtt, s.jitter_ms, emodel_g711_plc.frame_ms));
	snprintf(r->brief, sizeof(r->brief), "MOS %.2f %.0fms j%.0f %.1f%%", mos, rtt, s.jitter_ms, pooled_pct);
	if (v == DIAG_PASS && mos <= o->th.mos_good) {
		v = DIAG_WARN;
		snprintf(bad, sizeof(bad), "MOS %.2f is not above %.1f", mos, o->th.mos_good);
	}
	if (v == DIAG_PASS)
		diag_verdict_set(r, DIAG_PASS, "voice-grade: jitter, loss (%s) and latency within the guide's "
				 "thresholds", ci);
	else if (v == DIAG_WARN && !ir.decided && !strstr(bad, "jitter ") && !strstr(bad, "rtt ") && !strstr(bad, "MOS "))
		diag_verdict_set(r, v, "%s", bad);
	else
		diag_verdict_set(r, v, "%s: fix the network before cutover (busy links, Wi-Fi; configure QoS "
				 "to prioritise voice)", bad);
}

static void voice_end(struct voice_state *st)
{
	struct diag_check *c = st->c;

	voice_finish(st);
	voice_release(st);
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static void voice_on_tail(struct ev_timer *t)
{
	voice_end(container_of(t, struct voice_state, tail));
}

static void voice_tx_stamp(uint32_t key, int64_t ns, void *arg)
{
	struct voice_state *st = arg;

	if (key < st->sent && !st->tx_kernel[key]) {
		st->tx_ns[key] = ns;
		st->tx_kernel[key] = 1;
		st->ntx_kernel++;
	}
}

/* Send packet st->sent; false when its server's budget refused it (nothing sent). */
static bool voice_send(struct voice_state *st)
{
	uint8_t pkt[RTP_LEN];
	int64_t now = diag_realtime_ns();
	uint32_t seq = st->sent;
	ssize_t n;

	memset(pkt, 0xff, sizeof(pkt)); /* PCMU silence */
	pkt[0] = 0x80;
	pkt[1] = seq == 0 ? 0x80 : 0x00; /* marker on the first, PT 0 */
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	put32(pkt + 4, seq * 160);
	put32(pkt + 8, st->ssrc);
	put32(pkt + 12, seq);
	put32(pkt + 16, (uint32_t)((uint64_t)now >> 32));
	put32(pkt + 20, (uint32_t)now);
	st->tx_ns[seq] = now;           /* until the kernel's TX stamp replaces it */
	n = diag_send(st->c, DIAG_H_REFLECTOR, st->w.fd, pkt, sizeof(pkt), 0);
	if (n == -EDQUOT)
		return false;           /* not counted: a kept-back packet is not a lost one */
	st->sent++;
	if (n >= 0 && st->tx_stamps)
		(void)sys_tx_drain(st->w.fd, voice_tx_stamp, st);
	return true;
}

/* The loop time packet seq is due. */
static uint64_t voice_due(const struct voice_state *st, uint32_t seq)
{
	if (seq < st->paced)
		return st->t0_us + (uint64_t)seq * st->interval_us;
	return st->ext0_us + (uint64_t)(seq - st->paced) * st->ext_interval_us;
}

static void voice_stop_sending(struct voice_state *st)
{
	st->total = st->sent;
	ev_timer_cancel(&st->tick);
	ev_timer_cancel(&st->look);
	ev_timer_set(&st->tail, TAIL_MS);
}

/* Once the paced stream is sent, and every LOOK_MS of the extension: is the loss interval
 * inside one band? Interim looks use the 99 % interval (looking repeatedly must not decide by
 * chance), the last one, at the cap, the 95 % of the report. Packets younger than GRACE_MS
 * are not counted yet. */
static void voice_on_look(struct ev_timer *t)
{
	struct voice_state *st = container_of(t, struct voice_state, look);
	const struct diag_opts *o = st->c->ctx->opts;
	uint64_t now = ev_now_us(), k, n;
	uint32_t old = st->sent;
	double lo, hi;

	while (old > 0 && voice_due(st, old - 1) + GRACE_MS * 1000ull > now)
		old--;
	voice_loss(st, old, rtpstats_received_below(&st->stats, old), &k, &n);
	diag_wilson_pct(k, n, DIAG_Z99, &lo, &hi);
	st->looks++;
	if (n && diag_rate(&o->th, DIAG_M_LOSS, lo) == diag_rate(&o->th, DIAG_M_LOSS, hi)) {
		voice_stop_sending(st);
		return;
	}
	if (st->sent >= st->cap)
		return; /* the tick ends the stream */
	if (st->sent >= st->paced && st->total == st->paced) {
		/* extend: the same packets at 4 x the rate, up to the cap */
		st->total = st->cap;
		st->ext0_us = now;
		ev_timer_set_us(&st->tick, 0);
	}
	ev_timer_set(&st->look, LOOK_MS);
}

static void voice_on_tick(struct ev_timer *t)
{
	struct voice_state *st = container_of(t, struct voice_state, tick);
	uint64_t now = ev_now_us(), due;
	unsigned burst = 0;

	while (st->sent < st->total && burst < MAX_BURST && voice_due(st, st->sent) <= now) {
		if (!voice_send(st)) {
			voice_stop_sending(st); /* the budget is spent: the stream ends here */
			return;
		}
		burst++;
	}
	if (st->sent >= st->cap || (st->sent >= st->total && st->total > st->paced)) {
		voice_stop_sending(st);
		return;
	}
	if (st->sent >= st->total) {
		/* the paced stream is out: look at once (no extension possible or wanted: stop) */
		if (st->cap == st->paced) {
			voice_stop_sending(st);
			return;
		}
		if (!ev_timer_pending(&st->look))
			ev_timer_set(&st->look, 0);
		return;
	}
	due = voice_due(st, st->sent);
	ev_timer_set_us(&st->tick, due > now ? due - now : 0);
}

static void voice_on_read(struct ev_fd *w, unsigned ev)
{
	struct voice_state *st = container_of(w, struct voice_state, w);
	uint8_t buf[DIAG_REFL_HDR + RTP_LEN + 64];
	struct diag_rx rx;
	ssize_t n;

	if (st->tx_stamps)
		(void)sys_tx_drain(w->fd, voice_tx_stamp, st);
	while ((n = diag_udp_recv(w->fd, buf, sizeof(buf), &rx)) != -EAGAIN) {
		struct diag_refl h;
		uint32_t seq;
		int64_t lateness;

		if (n < 0)
			continue;
		if (diag_refl_parse(buf, (size_t)n, &h) < 0 || h.plen < 24 || get_be(h.payload + 8, 4) != st->ssrc)
			continue;
		seq = (uint32_t)get_be(h.payload + 12, 4);
		if (seq >= st->sent)
			continue;
		/* RTT = our kernel RX - our kernel TX - the reflector's lateness beyond the delay it
		 * was asked for (NTP-style: its own hold is not the network's) */
		if (seq >= st->paced) {
			/* the extension samples loss only: RTT and jitter are the voice-shaped stream's */
			rtpstats_seen(&st->stats, seq);
			continue;
		}
		lateness = diag_refl_overshoot_ns(&h);
		if (lateness > st->overshoot_max_ns)
			st->overshoot_max_ns = lateness;
		rtpstats_arrival(&st->stats, seq, st->tx_ns[seq] + lateness, rx.ts_ns);
	}
}

static int voice_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const struct diag_opts *o = x->opts;
	struct voice_state *st = calloc(1, sizeof(*st));
	struct sockaddr_in6 dst;
	uint64_t now = ev_now_us(), end_paced, room_us;
	uint32_t ext = 0;
	int err;

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->w.fd = -1;
	st->w.cb = voice_on_read;
	st->tick.cb = voice_on_tick;
	st->tail.cb = voice_on_tail;
	st->look.cb = voice_on_look;
	st->interval_us = o->packet_ms * 1000;
	st->ext_interval_us = st->interval_us / EXT_RATE > 250 ? st->interval_us / EXT_RATE : 250;
	st->paced = o->voice_ms / o->packet_ms;
	/* the extension fits the run's budget: it ends, with the tail, 1 s before the deadline */
	end_paced = now + (uint64_t)o->voice_ms * 1000;
	room_us = x->deadline_us > end_paced + (TAIL_MS + 1000) * 1000ull ?
			  x->deadline_us - end_paced - (TAIL_MS + 1000) * 1000ull : 0;
	if (room_us > (uint64_t)o->voice_ext_ms * 1000)
		room_us = (uint64_t)o->voice_ext_ms * 1000;
	ext = (uint32_t)(room_us / st->ext_interval_us);
	st->cap = st->paced + ext;
	st->total = st->paced;
	utl_random(&st->ssrc, sizeof(st->ssrc));
	if ((err = rtpstats_init(&st->stats, st->cap)) < 0)
		return err;
	st->tx_ns = calloc(st->cap, sizeof(*st->tx_ns));
	st->tx_kernel = calloc(st->cap, 1);
	if (!st->tx_ns || !st->tx_kernel)
		return -ENOMEM;
	diag_value_add(&c->res, "fam", "", "%d", diag_dst(x, DIAG_H_REFLECTOR, o->rtp_min, &dst));
	st->w.fd = diag_udp_open(&dst, o->dscp_audio, 0);
	if (st->w.fd < 0)
		return st->w.fd;
	{
		int sz = 1 << 20;

		setsockopt(st->w.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	st->tx_stamps = sys_tx_timestamps(st->w.fd) == 0;
	if ((err = ev_fd_add(&st->w, EV_READ)) < 0)
		return err;
	diag_value_add(&c->res, "stream", "", "%u x %u bytes every %u ms, DSCP %d, to port %u", st->paced,
		       RTP_LEN, o->packet_ms, o->dscp_audio, o->rtp_min);
	st->t0_us = now;
	voice_on_tick(&st->tick);
	return 0;
}

static void voice_cancel(struct diag_check *c)
{
	struct voice_state *st = c->priv;

	if (!st)
		return;
	voice_release(st);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_voice = {
	DIAG_C_VOICE, "voice", "Voice", 2, false, DIAG_H_REFLECTOR, 0, voice_start, voice_cancel,
};

/* ---------------------------------------------------------------- UDP mapping lifetime */

#define LT_STEPS 9
#define LT_WARM_RETX_MS 300
#define LT_WARM_TRIES 8
#define LT_GRACE_MS 1500
#define LT_REPEATS 3

struct lt_probe {
	struct ev_fd w;
	struct ev_timer t;
	struct lt_state *st;
	unsigned delay_ms;
	unsigned tries;
	bool warm, asked, answered, done;
};

struct lt_state {
	struct diag_check *c;
	struct lt_probe p[LT_STEPS];
	unsigned n, pending;
	uint8_t token[8];
};

static void lt_close(struct lt_probe *p)
{
	ev_timer_cancel(&p->t);
	if (p->w.fd >= 0) {
		ev_fd_del(&p->w);
		close(p->w.fd);
		p->w.fd = -1;
	}
}

static void lt_finish(struct lt_state *st)
{
	struct diag_check *c = st->c;
	const struct diag_opts *o = c->ctx->opts;
	struct diag_result *r = &c->res;
	unsigned ka_ms = o->keepalive_s * 1000, longest_ok = 0, first_bad = 0;
	bool warm_any = false;
	unsigned nwarm = 0, nok = 0;

	for (unsigned i = 0; i < st->n; i++) {
		struct lt_probe *p = &st->p[i];
		char name[24];

		lt_close(p);
		if (!p->warm)
			continue;
		warm_any = true;
		nwarm++;
		nok += p->answered;
		/* one value per probe (LT_STEPS <= 9 of DIAG_MAX_VALUES): nothing is cut */
		snprintf(name, sizeof(name), "after_%.1fs", p->delay_ms / 1000.0);
		diag_value_add(r, name, "", "%s", p->answered ? "ok" : "lost");
		if (p->answered && p->delay_ms > longest_ok)
			longest_ok = p->delay_ms;
		if (!p->answered && (!first_bad || p->delay_ms < first_bad))
			first_bad = p->delay_ms;
	}
	diag_value_add(r, "probes", "", "%u answered of %u", nok, nwarm);
	diag_value_add(r, "keepalive", "s", "%u", o->keepalive_s);
	diag_threshold_set(r, "the router keeps an idle UDP mapping at least the keepalive interval (%u s)",
			   o->keepalive_s);
	if (!warm_any) {
		snprintf(r->brief, sizeof(r->brief), "reflector silent");
		diag_verdict_set(r, DIAG_SKIP, "not tested: the reflector does not answer (see rtp-ports)");
	} else if (first_bad && first_bad <= ka_ms) {
		diag_value_add(r, "lifetime", "s", "< %.1f", first_bad / 1000.0);
		snprintf(r->brief, sizeof(r->brief), "pruned < %.1f s", first_bad / 1000.0);
		diag_verdict_set(r, DIAG_FAIL,
				 "inbound calls will not ring: the router prunes UDP mappings after %.0f s "
				 "(keepalive every %u s); leave its UDP timeout at the default or at least 60 s",
				 longest_ok ? longest_ok / 1000.0 : first_bad / 1000.0, o->keepalive_s);
	} else {
		diag_value_add(r, "lifetime", "s", ">= %.1f", longest_ok / 1000.0);
		snprintf(r->brief, sizeof(r->brief), ">= %.0f s", longest_ok / 1000.0);
		diag_verdict_set(r, DIAG_PASS, "UDP mappings outlive the %u s keepalive", o->keepalive_s);
	}
	c->priv = NULL;
	free(st);
	diag_check_done(c);
}

static void lt_probe_done(struct lt_probe *p)
{
	struct lt_state *st = p->st;

	if (p->done)
		return;
	p->done = true;
	lt_close(p);
	if (--st->pending == 0)
		lt_finish(st);
}

static void lt_send(struct lt_probe *p, bool ask)
{
	uint8_t buf[16];

	memcpy(buf, ask ? "DSAD" : "DSAW", 4);
	put32(buf + 4, ask ? p->delay_ms : 0);
	memcpy(buf + 8, p->st->token, 8);
	(void)diag_send(p->st->c, DIAG_H_REFLECTOR, p->w.fd, buf, sizeof(buf), 0);
}

static void lt_on_timer(struct ev_timer *t)
{
	struct lt_probe *p = container_of(t, struct lt_probe, t);

	if (!p->warm) {
		if (++p->tries > LT_WARM_TRIES) {
			lt_probe_done(p);
			return;
		}
		lt_send(p, false);
		ev_timer_set(&p->t, diag_jitter(LT_WARM_RETX_MS));
		return;
	}
	if (p->tries < LT_REPEATS) {
		/* the request goes out LT_REPEATS times, 20 ms apart, against loss on the way */
		p->tries++;
		lt_send(p, true);
		ev_timer_set(&p->t, p->tries < LT_REPEATS ? diag_jitter(20) : p->delay_ms + LT_GRACE_MS);
		return;
	}
	lt_probe_done(p); /* no reply within delay + grace: the mapping was gone */
}

static void lt_on_read(struct ev_fd *w, unsigned ev)
{
	struct lt_probe *p = container_of(w, struct lt_probe, w);
	uint8_t buf[256];
	struct diag_rx rx;
	ssize_t n;

	while (p->w.fd >= 0 && (n = diag_udp_recv(w->fd, buf, sizeof(buf), &rx)) != -EAGAIN) {
		struct diag_refl h;

		if (n < 0 || diag_refl_parse(buf, (size_t)n, &h) < 0 || h.plen < 16 ||
		    memcmp(h.payload + 8, p->st->token, 8))
			continue;
		if (!p->warm && !memcmp(h.payload, "DSAW", 4)) {
			p->warm = true;
			p->tries = 0;
			ev_timer_set(&p->t, 0);
		} else if (p->warm && !memcmp(h.payload, "DSAD", 4)) {
			p->answered = true;
			lt_probe_done(p);
			return;
		}
	}
}

static int lt_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const struct diag_opts *o = x->opts;
	struct lt_state *st = calloc(1, sizeof(*st));
	unsigned ka = o->keepalive_s * 1000, top = (o->keepalive_s + o->lifetime_margin_s) * 1000;

	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	utl_random(st->token, sizeof(st->token));
	if (top > o->lifetime_budget_s * 1000)
		top = o->lifetime_budget_s * 1000;
	/* eighths of the keepalive, then keepalive + margin (within the budget) */
	for (unsigned i = 1; i <= 8; i++)
		if (ka * i / 8 <= top)
			st->p[st->n++].delay_ms = ka * i / 8;
	if (top > ka)
		st->p[st->n++].delay_ms = top;
	for (unsigned i = 0; i < LT_STEPS; i++)
		st->p[i].w.fd = -1;
	for (unsigned i = 0; i < st->n; i++) {
		struct lt_probe *p = &st->p[i];
		struct sockaddr_in6 dst;

		p->st = st;
		p->t.cb = lt_on_timer;
		p->w.cb = lt_on_read;
		(void)diag_dst(x, DIAG_H_REFLECTOR, o->reflector_port, &dst);
		p->w.fd = diag_udp_open(&dst, -1, 0);
		if (p->w.fd < 0)
			return p->w.fd;
		ev_fd_add(&p->w, EV_READ);
		st->pending++;
		ev_timer_set(&p->t, 0);
	}
	if (!st->pending) {
		lt_finish(st);
		return 0;
	}
	return 0;
}

static void lt_cancel(struct diag_check *c)
{
	struct lt_state *st = c->priv;

	if (!st)
		return;
	for (unsigned i = 0; i < st->n; i++)
		lt_close(&st->p[i]);
	free(st);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_udp_lifetime = {
	DIAG_C_UDP_LIFETIME, "udp-lifetime", "UDP lifetime", 2, true, DIAG_H_REFLECTOR, 0, lt_start, lt_cancel,
};
