/* chk_call.c - the test call: a real SIP call from the agent's own stack
 * (sip/call.h) to the echo service, a G.711 tone over RTP (media/rtp.h, DSCP
 * audio, a port of the provisioned range), optionally SRTP (SDES
 * AES_CM_128_HMAC_SHA1_80, media/srtp.h). The echo (sipp -rtp_echo) returns
 * our own packets unchanged, so with SRTP they are decrypted with an inbound
 * context of our own key: that still proves the SRTP path both ways.
 * Measured on the call's packets: tone level (Goertzel, first 200 ms
 * skipped), loss, round-trip jitter (RFC 3550 over the round trip, kernel
 * receive timestamps), RTT and the same E-model MOS as the voice check.
 * One family for the call (IPv4 first, else IPv6, as diag_dst picks the first registrar's):
 * the offer's c=, the RTP socket and the registrar's address all in it.
 *
 * Time bound: setup <= call_setup_ms per registrar (east, then west), tone
 * call_ms, a 600 ms tail for the last echoes, BYE waited for <= 2 s.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ev.h"
#include "common/log.h"
#include "diag/check.h"
#include "diag/emodel.h"
#include "diag/probe.h"
#include "diag/rtpstats.h"
#include "diag/stats.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "media/srtp.h"
#include "media/tone.h"
#include "sip/call.h"

#define PTIME_MS     20
#define SPP          160              /* samples per packet (8 kHz, 20 ms) */
#define SKIP_PKTS    10               /* 200 ms */
#define TAIL_MS      600
#define BYE_WAIT_MS  2000
#define TONE_DBM0    (-10.0)

enum call_phase { P_SETUP, P_MEDIA, P_TAIL, P_BYE };

struct call_state {
	struct diag_check *c;
	enum call_phase phase;
	struct sip_call *call;
	struct rtp_session *rtp;
	struct msrtp *tx, *rx;
	struct msrtp_key key;
	struct ev_timer t_setup, t_tail, t_bye;
	int reg;                          /* registrar index in use (0 east, 1 west) */
	bool tried[2];
	char fail_why[2][200];
	int pt;
	enum g711_law law;
	struct tone_gen gen;
	uint32_t total;
	int16_t *pcm;                     /* total * SPP decoded samples, by packet index */
	uint8_t *got;                     /* per packet index */
	int32_t *kmap;                    /* packet index -> order among the packets really sent, -1 */
	uint32_t nfilled;                 /* packets really sent (a stalled loop skips some indices) */
	struct rtpstats stats;
	uint64_t *fill_ns;                /* per packet index: CLOCK_REALTIME when it was filled (just
					     before rtp takes its send time), 0 when never sent */
	bool have_seq0;
	uint16_t seq0;
	unsigned setup_ms;
	bool v6;                          /* the call's family (signalling and media): IPv6, else IPv4 */
	char remote[80];
};

static void call_state_free(struct call_state *st)
{
	ev_timer_cancel(&st->t_setup);
	ev_timer_cancel(&st->t_tail);
	ev_timer_cancel(&st->t_bye);
	sip_call_free(st->call);
	rtp_session_free(st->rtp);
	msrtp_free(st->tx);
	msrtp_free(st->rx);
	explicit_bzero(&st->key, sizeof(st->key));
	rtpstats_free(&st->stats);
	free(st->pcm);
	free(st->got);
	free(st->kmap);
	free(st->fill_ns);
	free(st);
}

static void call_end(struct call_state *st)
{
	struct diag_check *c = st->c;

	c->priv = NULL;
	call_state_free(st);
	diag_check_done(c);
}

/* Verdict from what came back. */
static void call_verdict(struct call_state *st)
{
	struct diag_check *c = st->c;
	const struct diag_opts *o = c->ctx->opts;
	struct diag_result *r = &c->res;
	const struct rtp_stats *rs = rtp_stats(st->rtp);
	struct rtpstats_result s;
	struct tone_result tr = { 0 };
	enum diag_verdict v = DIAG_PASS;
	char bad[256] = "", ci[96];
	bool tone = false, pooled;
	double mos = NAN, R = NAN;
	uint32_t sent = st->nfilled;
	struct diag_irate lir;

	rtpstats_result(&st->stats, sent, &s);
	diag_value_add(r, "packets_sent", "", "%u", sent);
	diag_value_add(r, "packets_received", "", "%u", s.received);
	diag_value_add(r, "loss", "%", "%.1f", s.loss_pct);
	diag_rate_rate(&o->th, DIAG_M_LOSS, sent - (s.received < sent ? s.received : sent), sent, &lir);
	diag_irate_text(&lir, ci, sizeof(ci));
	diag_value_add(r, "loss_interval", "", "%s", ci);
	/* one loss figure for voice and call: the voice check rates both samples together */
	pooled = (o->checks & DIAG_CHECK_BIT(DIAG_C_VOICE)) && s.received > 0;
	if (s.received > 0) {
		c->ctx->call_media = true;
		c->ctx->call_sent = sent;
		c->ctx->call_received = s.received < sent ? s.received : sent;
	}
	diag_value_add(r, "srtp", "", "%s", o->call_srtp ? (s.received ? "yes" : "offered") : "no");
	/* at most DIAG_MAX_VALUES (20) in all: keep the list short */
	if (o->call_srtp)
		diag_value_add(r, "srtp_auth_failures", "", "%llu", (unsigned long long)rs->rx_srtp_fail);
	diag_threshold_set(r, "the %.0f Hz tone sent at %.1f dBFS comes back (>= %.0f %% of the power, >= %.0f dBFS); "
			   "jitter < %g ms, loss < %g %%, RTT < %g ms; MOS > %.1f", o->call_tone_hz,
			   tone_dbm0_to_dbfs(TONE_DBM0), TONE_MIN_RATIO * 100,
			   TONE_MIN_DBFS, o->th.m[DIAG_M_JITTER].acceptable, o->th.m[DIAG_M_LOSS].acceptable,
			   o->th.m[DIAG_M_RTT].acceptable, o->th.mos_good);
	if (s.received == 0) {
		if (o->call_srtp && rs->rx_srtp_fail) {
			snprintf(r->brief, sizeof(r->brief), "SRTP did not verify");
			diag_verdict_set(r, DIAG_FAIL, "%llu SRTP packets came back but did not authenticate: "
					 "something on the path changes RTP", (unsigned long long)rs->rx_srtp_fail);
			return;
		}
		snprintf(r->brief, sizeof(r->brief), "no audio came back");
		diag_verdict_set(r, DIAG_FAIL, "no audio: allow UDP %u-%u outbound (the call was answered "
				 "by %s but none of %u RTP packets came back)", o->rtp_min, o->rtp_max,
				 st->remote, sent);
		return;
	}
	if (st->total > SKIP_PKTS + 5 &&
	    tone_analyse(st->pcm + SKIP_PKTS * SPP, (size_t)(st->total - SKIP_PKTS) * SPP, 8000, o->call_tone_hz,
			 &tr) == 0) {
		tone = tone_detected(&tr, TONE_MIN_RATIO, TONE_MIN_DBFS);
		diag_value_add(r, "tone_level", "dBFS", "%.1f", tr.tone_dbfs);
		diag_value_add(r, "tone_ratio", "", "%.2f", tr.ratio);
	}
	diag_value_add(r, "tone", "", "%s", tone ? "detected" : "missing");
	diag_value_timing(r, &s, s.received, 1, rs->tx_kernel_ts, rs->tx_packets);
	diag_value_add(r, "burst_max", "packets", "%u", s.burst_max);
	diag_rate_metric(r, &o->th, DIAG_M_JITTER, s.jitter_ms, false, &v, bad, sizeof(bad));
	if (pooled) {
		diag_value_add(r, "loss_rating", "", "rated with the voice stream's packets (see voice)");
	} else {
		diag_loss_rating(r, &lir, &v, bad, sizeof(bad));
	}
	diag_rate_metric(r, &o->th, DIAG_M_RTT, s.rtt_avg_ms, false, &v, bad, sizeof(bad));
	mos = emodel_mos(&emodel_g711_plc, s.rtt_avg_ms, s.jitter_ms, s.loss_pct, s.burst_ratio, &R);
	diag_value_add(r, "mos", "", "%.2f", mos);
	diag_value_add(r, "r_factor", "", "%.1f", R);
	if (!tone) {
		snprintf(r->brief, sizeof(r->brief), "tone missing, %.1f%% loss", s.loss_pct);
		diag_verdict_set(r, DIAG_FAIL, "the echoed audio does not carry the %.0f Hz test tone (ratio %.2f, "
				 "%.0f dBFS): something on the path alters the audio (transcoding, a media "
				 "relay, SRTP mangling)", o->call_tone_hz, tr.ratio, tr.tone_dbfs);
		return;
	}
	snprintf(r->brief, sizeof(r->brief), "%sMOS %.2f %.1f%% loss", o->call_srtp ? "SRTP " : "", mos, s.loss_pct);
	if (v == DIAG_PASS && mos <= o->th.mos_good) {
		v = DIAG_WARN;
		snprintf(bad, sizeof(bad), "MOS %.2f is not above %.1f", mos, o->th.mos_good);
	}
	if (v == DIAG_PASS)
		diag_verdict_set(r, DIAG_PASS, "test call placed and audio is clean both directions%s%s%s",
				 o->call_srtp ? " (SRTP: yes, " : "",
				 o->call_srtp ? msrtp_suite_name(st->key.suite) : "", o->call_srtp ? ")" : "");
	else if (v == DIAG_WARN && !pooled && !lir.decided && !strstr(bad, "jitter ") && !strstr(bad, "rtt ") && !strstr(bad, "MOS "))
		/* only the loss is undecided: the call worked, its sample is too small to rate */
		diag_verdict_set(r, DIAG_WARN, "test call placed, tone back%s%s%s; %s", o->call_srtp ? " (SRTP: yes, " : "",
				 o->call_srtp ? msrtp_suite_name(st->key.suite) : "", o->call_srtp ? ")" : "", bad);
	else
		diag_verdict_set(r, v, "the test call's audio is impaired: %s: fix the network before cutover "
				 "(busy links, Wi-Fi; QoS for DSCP 46)", bad);
}

static void on_bye_wait(struct ev_timer *t)
{
	struct call_state *st = container_of(t, struct call_state, t_bye);

	diag_value_add(&st->c->res, "bye", "", "no answer within %u ms", BYE_WAIT_MS);
	call_end(st);
}

/* BYE, then the end when it is answered (or after BYE_WAIT_MS); the end now without a dialog. */
static void hang_up(struct call_state *st)
{
	st->phase = P_BYE;
	if (sip_call_hangup(st->call) == 0)
		ev_timer_set(&st->t_bye, BYE_WAIT_MS);
	else
		call_end(st);
}

static void media_over(struct call_state *st)
{
	rtp_stop(st->rtp);
	call_verdict(st);
	hang_up(st);
}

static void on_tail(struct ev_timer *t)
{
	media_over(container_of(t, struct call_state, t_tail));
}

static void on_sent_all(void *arg)
{
	struct call_state *st = arg;

	st->phase = P_TAIL;
	ev_timer_set(&st->t_tail, TAIL_MS);
}

static int on_fill(void *arg, uint32_t index, uint8_t *buf, size_t size)
{
	struct call_state *st = arg;
	int16_t pcm[SPP];

	if (size < SPP)
		return -1;
	if (index < st->total)
		st->fill_ns[index] = (uint64_t)diag_realtime_ns();
	if (index < st->total && st->kmap[index] < 0)
		st->kmap[index] = (int32_t)st->nfilled++;
	tone_gen_fill(&st->gen, pcm, SPP);
	g711_encode(st->law, pcm, SPP, buf);
	return SPP;
}

static void on_rx(void *arg, const struct rtp_rx *rx)
{
	struct call_state *st = arg;
	const struct rtp_hdr *h = rx->hdr;
	uint32_t idx;

	if (!rx->own || !rx->tx_ns || h->payload_len != SPP || h->pt != st->pt)
		return;
	if (!st->have_seq0) {
		/* the first echo: its index is the last one filled before its send time (fill, then
		 * send, packet by packet), so the sequence number maps to indices from here on */
		int64_t found = -1;

		for (uint32_t i = 0; i < st->total; i++)
			if (st->fill_ns[i] && st->fill_ns[i] <= rx->tx_ns)
				found = i;
		if (found < 0)
			return;
		st->seq0 = (uint16_t)(h->seq - (uint16_t)found);
		st->have_seq0 = true;
	}
	idx = (uint16_t)(h->seq - st->seq0);
	if (idx >= st->total || st->kmap[idx] < 0)
		return;
	if (!st->got[idx]) {
		g711_decode(st->law, h->payload, SPP, st->pcm + (size_t)idx * SPP);
		st->got[idx] = 1;
	}
	{
		int64_t rtt = (int64_t)(rx->rx_ns - rx->tx_ns);

		if (rtt <= 0 || rtt > 5000000000LL)
			return;   /* a clock step spoiled this sample */
	}
	rtpstats_arrival(&st->stats, (uint32_t)st->kmap[idx], (int64_t)rx->tx_ns, (int64_t)rx->rx_ns);
}

static int try_registrar(struct call_state *st);

static void call_failed(struct call_state *st, const char *why, int status)
{
	struct diag_result *r = &st->c->res;

	utl_strlcpy(st->fail_why[st->reg], why, sizeof(st->fail_why[0]));
	sip_call_free(st->call);
	st->call = NULL;
	ev_timer_cancel(&st->t_setup);
	/* no answer at all: the other registrar may be up */
	if (status == 0 && st->reg == 0 && !st->tried[1] && st->c->ctx->opts->sip_host[1][0] &&
	    try_registrar(st) == 0)
		return;
	if (status)
		snprintf(r->brief, sizeof(r->brief), "refused: %d", status);
	else
		snprintf(r->brief, sizeof(r->brief), "no answer");
	if (st->tried[0] && st->tried[1])
		diag_verdict_set(r, DIAG_FAIL, "the test call failed: east: %s; west: %s", st->fail_why[0],
				 st->fail_why[1]);
	else
		diag_verdict_set(r, DIAG_FAIL, "%s", why);
	call_end(st);
}

static void on_setup_timeout(struct ev_timer *t)
{
	struct call_state *st = container_of(t, struct call_state, t_setup);
	char why[200];

	snprintf(why, sizeof(why), "the echo call through %s was not answered within %u ms",
		 st->c->ctx->opts->sip_host[st->reg], st->c->ctx->opts->call_setup_ms);
	call_failed(st, why, 0);
}

static int reopen_rtp(struct call_state *st, int pt)
{
	const struct diag_opts *o = st->c->ctx->opts;
	struct rtp_config rc = { 0 };
	uint16_t port = st->rtp ? rtp_local_port(st->rtp) : 0;
	int err;

	rc.local_addr = st->v6 ? "::" : NULL;
	rc.port_min = port ? port : (uint16_t)o->rtp_min;
	rc.port_max = port ? port : (uint16_t)o->rtp_max;
	rc.dscp = o->dscp_audio ? o->dscp_audio : -1;
	rc.pt = (uint8_t)pt;
	rc.ptime_ms = PTIME_MS;
	rtp_session_free(st->rtp);
	st->rtp = NULL;
	if ((err = rtp_session_new(&rc, &st->rtp)) < 0)
		return err;
	rtp_set_rx(st->rtp, on_rx, st);
	rtp_set_srtp(st->rtp, st->tx, st->rx);
	return 0;
}

static void on_call_event(struct sip_call *call, const struct sip_call_event *ev, void *arg)
{
	struct call_state *st = arg;
	struct diag_check *c = st->c;
	const struct diag_opts *o = c->ctx->opts;
	int err;

	if (ev->kind == SIP_CALL_FAILED) {
		call_failed(st, ev->why, ev->status);
		return;
	}
	if (ev->kind == SIP_CALL_ENDED) {
		if (st->phase == P_BYE) {
			diag_value_add(&c->res, "bye", "", "%d", ev->status);
			call_end(st);
		}
		return;
	}
	/* answered */
	ev_timer_cancel(&st->t_setup);
	st->setup_ms = ev->setup_ms;
	snprintf(st->remote, sizeof(st->remote), ev->media->ip6 ? "[%s]:%d" : "%s:%d", ev->media->addr,
		 ev->media->port);
	diag_value_add(&c->res, "registrar", "", "%s", o->sip_host[st->reg]);
	diag_value_add(&c->res, "family", "", st->v6 ? "IPv6" : "IPv4");
	diag_value_add(&c->res, "setup", "ms", "%u", ev->setup_ms);
	diag_value_add(&c->res, "remote_media", "", "%s", st->remote);
	if (o->call_srtp)
		log_info("diag", "call: answer with%s a=crypto (unused: our own packets come back)",
			 ev->media->has_crypto ? "" : "out");
	if (ev->media->pt != 0 && ev->media->pt != 8) {
		diag_verdict_set(&c->res, DIAG_FAIL, "the echo service answered with payload type %d instead of "
				 "PCMU/PCMA", ev->media->pt);
		snprintf(c->res.brief, sizeof(c->res.brief), "codec %d refused", ev->media->pt);
		hang_up(st);
		return;
	}
	st->pt = ev->media->pt;
	st->law = st->pt == 8 ? G711_ALAW : G711_ULAW;

	if (st->pt != 0 && (err = reopen_rtp(st, st->pt)) < 0)
		goto fail;
	if ((err = rtp_set_peer(st->rtp, ev->media->addr, (uint16_t)ev->media->port)) < 0)
		goto fail;
	st->phase = P_MEDIA;
	diag_value_add(&c->res, "codec", "", "%s, %u x %u bytes every %u ms, DSCP %d, from port %u",
		       st->pt == 8 ? "PCMA" : "PCMU", st->total, RTP_HDR_LEN + SPP, PTIME_MS, o->dscp_audio,
		       rtp_local_port(st->rtp));
	if ((err = rtp_start(st->rtp, st->total, on_fill, on_sent_all, st)) < 0)
		goto fail;
	return;
fail:
	diag_verdict_set(&c->res, DIAG_FAIL, "the call was answered but the audio stream could not start: %s",
			 strerror(-err));
	hang_up(st);
}

static int try_registrar(struct call_state *st)
{
	struct diag_ctx *x = st->c->ctx;
	const struct diag_opts *o = x->opts;
	struct sip_call_opts co = { 0 };
	char sdp[SIP_CALL_SDP_MAX], local[INET6_ADDRSTRLEN], regip[DIAG_HOST_MAX], crypto[MSRTP_CRYPTO_MAX] = "";
	const char *why = NULL;
	int reg = st->tried[0] ? 1 : 0, err, n, fam = st->v6 ? AF_INET6 : AF_INET;
	enum diag_host h;

	if (reg == 0 && !o->sip_host[0][0])
		reg = 1;
	if (!o->sip_host[reg][0])
		return -EHOSTUNREACH;
	h = reg ? DIAG_H_WEST : DIAG_H_EAST;
	st->reg = reg;
	st->tried[reg] = true;
	/* the DNS check's address of the call's family when it resolved the name; else sip/call
	 * resolves the name on the loop, in that family only */
	if (st->v6 ? x->resolved6[h] : x->resolved[h])
		inet_ntop(fam, st->v6 ? (void *)&x->addr6[h] : (void *)&x->addr[h], regip, sizeof(regip));
	else
		utl_strlcpy(regip, o->sip_host[reg], sizeof(regip));
	inet_ntop(fam, st->v6 ? (void *)&x->local6 : (void *)&x->local, local, sizeof(local));
	if (o->call_srtp && msrtp_crypto_build(1, &st->key, crypto, sizeof(crypto)) < 0)
		return -EINVAL;
	n = snprintf(sdp, sizeof(sdp),
		     "v=0\r\no=dialstack %u 1 IN IP%c %s\r\ns=selftest\r\nc=IN IP%c %s\r\nt=0 0\r\n"
		     "m=audio %u %s 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\n"
		     "%s%sa=sendrecv\r\n",
		     utl_random_range(1, 1000000), '4' + 2 * st->v6, local, '4' + 2 * st->v6, local,
		     rtp_local_port(st->rtp),
		     o->call_srtp ? "RTP/SAVP" : "RTP/AVP", crypto, crypto[0] ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(sdp))
		return -ENOSPC;
	explicit_bzero(crypto, sizeof(crypto));
	co.host = regip;
	co.family = fam;
	co.port = (int)o->sip_port;
	co.transport = SIP_TP_UDP;
	co.user = o->sip_user;
	co.auth_user = o->sip_auth_user[0] ? o->sip_auth_user : NULL;
	co.password = o->sip_password;
	co.domain = o->sip_domain;
	co.target = o->echo_user;
	co.sdp = sdp;
	co.dscp = o->dscp_signal;
	co.t1_ms = o->call_t1_ms;
	co.answer_timeout_ms = o->call_setup_ms;
	co.cb = on_call_event;
	co.arg = st;
	err = sip_call_start(&co, &st->call, &why);
	explicit_bzero(sdp, sizeof(sdp));
	if (err < 0) {
		log_warn("diag", "test call not started: %s", why ? why : "?");
		return err;
	}
	st->t_setup.cb = on_setup_timeout;
	ev_timer_set(&st->t_setup, o->call_setup_ms);
	return 0;
}

static int call_start(struct diag_check *c)
{
	struct diag_ctx *x = c->ctx;
	const struct diag_opts *o = x->opts;
	struct call_state *st;
	struct sockaddr_in6 d;
	int err;

	if (!o->sip_user[0]) {
		snprintf(c->res.brief, sizeof(c->res.brief), "no SIP account");
		diag_verdict_set(&c->res, DIAG_SKIP, "not tested: no SIP account provisioned for the test call");
		diag_check_done(c);
		return 0;
	}
	if (!o->sip_host[0][0] && !o->sip_host[1][0]) {
		diag_verdict_set(&c->res, DIAG_SKIP, "not tested: no registrar provisioned");
		diag_check_done(c);
		return 0;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->c = c;
	c->priv = st;
	st->t_setup.cb = on_setup_timeout;
	st->t_tail.cb = on_tail;
	st->t_bye.cb = on_bye_wait;
	st->total = o->call_ms / PTIME_MS;
	st->pcm = calloc(st->total, SPP * sizeof(int16_t));
	st->got = calloc(st->total, 1);
	st->kmap = malloc(st->total * sizeof(*st->kmap));
	st->fill_ns = calloc(st->total, sizeof(*st->fill_ns));
	if (!st->pcm || !st->got || !st->kmap || !st->fill_ns)
		return -ENOMEM;
	memset(st->kmap, 0xff, st->total * sizeof(*st->kmap));
	if ((err = rtpstats_init(&st->stats, st->total)) < 0)
		return err;
	if ((err = tone_gen_init(&st->gen, o->call_tone_hz, tone_dbm0_to_dbfs(TONE_DBM0), 8000)) < 0)
		return err;
	if (o->call_srtp) {
		if ((err = msrtp_global_init()) < 0 ||
		    (err = msrtp_key_generate(MSRTP_AES_CM_128_HMAC_SHA1_80, &st->key)) < 0 ||
		    (err = msrtp_new(&st->key, MSRTP_OUTBOUND, &st->tx)) < 0 ||
		    (err = msrtp_new(&st->key, MSRTP_INBOUND, &st->rx)) < 0) {
			diag_verdict_set(&c->res, DIAG_FAIL, "SRTP could not be set up for the call: %s (see srtp)",
					 msrtp_strerror(err));
			call_end(st);
			return 0;
		}
	}
	/* one family for the call, both registrars: the first one's as the probes pick it
	 * (diag_dst: IPv4 when the phone has it, else IPv6), else the phone's */
	err = diag_dst(x, o->sip_host[0][0] ? DIAG_H_EAST : DIAG_H_WEST, 0, &d);
	st->v6 = err == 6 || (!err && !x->have_addr);
	if ((err = reopen_rtp(st, 0)) < 0) {
		snprintf(c->res.brief, sizeof(c->res.brief), "no RTP port");
		diag_verdict_set(&c->res, DIAG_FAIL, "no free RTP port in %u-%u: %s", o->rtp_min, o->rtp_max,
				 strerror(-err));
		call_end(st);
		return 0;
	}
	return try_registrar(st);
}

static void call_cancel(struct diag_check *c)
{
	struct call_state *st = c->priv;

	if (!st)
		return;
	c->priv = NULL;
	call_state_free(st);
}

const struct diag_check_type diag_chk_call = {
	DIAG_C_CALL, "call", "Test call", 2, false, DIAG_H_NONE, 0, call_start, call_cancel,
};
