/* media-echo.c - e2e driver: a G.711 tone stream over RTP or SRTP to a real
 * echo peer (sipp -rtp_echo), checked on what comes back. Prints TAP.
 *
 *   media-echo ADDR PORT [--count N] [--pt 0|8] [--srtp SUITE] [--no-decrypt]
 *              [--expect-loss LO HI] [--expect-none]
 *
 * Checks: port from 10000-20000 (even); every packet sent; loss 0; the tone
 * found in the returned audio at the level sent; RTT small and positive
 * (kernel rx time - tx time of the same seq). With --srtp the stream is
 * protected with a fresh key and the echo (which returns our own SRTP
 * packets unchanged) is unprotected with an inbound context of the same key.
 * With --no-decrypt the echo is read without the key: the tone must NOT be
 * found (the audio on the wire is encrypted). --expect-loss LO HI: the loss
 * (percent) must lie in [LO, HI] (a lab with loss=P); --expect-none: nothing
 * may come back (the lab's block=rtp).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ev.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "media/srtp.h"
#include "media/tone.h"

#define FREQ 1000.0
#define LEVEL_DBM0 (-10.0)
#define MAXPKT 1000

static int tap_n, tap_fail;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		tap_fail++;
}

struct run {
	enum g711_law law;
	struct tone_gen gen;
	bool done;
	unsigned count;
	/* received */
	unsigned rx;
	bool seen[MAXPKT];
	uint16_t seq0;
	bool have_seq0;
	int16_t *audio;         /* decoded echo, placed by seq */
	uint64_t rtt_min, rtt_max, rtt_sum;
	unsigned rtt_n, wrong_len;
	double jitter;          /* RFC 3550 A.8, in timestamp units */
	bool have_prev;
	int64_t prev_transit;
};

static int fill(void *arg, uint32_t index, uint8_t *buf, size_t size)
{
	struct run *r = arg;
	int16_t pcm[160];

	tone_gen_fill(&r->gen, pcm, 160);
	g711_encode(r->law, pcm, 160, buf);
	return 160;
}

static void done(void *arg)
{
	((struct run *)arg)->done = true;
}

static void on_rx(void *arg, const struct rtp_rx *rx)
{
	struct run *r = arg;
	unsigned idx;
	int64_t transit;

	if (!rx->own)
		return;
	if (!r->have_seq0) {
		/* The marker packet is index 0; otherwise infer from the first seen. */
		r->seq0 = rx->hdr->seq;
		r->have_seq0 = true;
	}
	idx = (uint16_t)(rx->hdr->seq - r->seq0);
	if (idx >= r->count || r->seen[idx])
		return;
	r->seen[idx] = true;
	r->rx++;
	if (rx->hdr->payload_len != 160) {
		r->wrong_len++;
	} else {
		g711_decode(r->law, rx->hdr->payload, 160, r->audio + 160 * idx);
	}
	if (rx->tx_ns && rx->rx_ns > rx->tx_ns) {
		uint64_t rtt = rx->rx_ns - rx->tx_ns;

		if (!r->rtt_n || rtt < r->rtt_min)
			r->rtt_min = rtt;
		if (rtt > r->rtt_max)
			r->rtt_max = rtt;
		r->rtt_sum += rtt;
		r->rtt_n++;
	}
	/* Interarrival jitter in 8 kHz units from kernel receive times. */
	transit = (int64_t)(rx->rx_ns / 125000u) - (int64_t)rx->hdr->ts;
	if (r->have_prev) {
		int64_t d = transit - r->prev_transit;

		r->jitter += (fabs((double)d) - r->jitter) / 16.0;
	}
	r->prev_transit = transit;
	r->have_prev = true;
}

int main(int argc, char **argv)
{
	struct rtp_config cfg = { .dscp = RTP_DSCP_EF, .pt = 0 };
	struct rtp_session *s = NULL;
	struct msrtp *tx = NULL, *rx = NULL;
	struct msrtp_key key;
	struct run r;
	struct tone_result tr;
	const char *suite = NULL;
	bool decrypt = true, expect_none = false;
	double loss_lo = 0.0, loss_hi = 0.0, loss;
	unsigned count = 100, port;
	uint64_t end;
	int err, a;

	if (argc < 3) {
		fprintf(stderr, "usage: %s ADDR PORT [--count N] [--pt 0|8] [--srtp SUITE] [--no-decrypt]\n", argv[0]);
		return 2;
	}
	port = (unsigned)atoi(argv[2]);
	for (a = 3; a < argc; a++) {
		if (!strcmp(argv[a], "--count") && a + 1 < argc)
			count = (unsigned)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--pt") && a + 1 < argc)
			cfg.pt = (uint8_t)atoi(argv[++a]);
		else if (!strcmp(argv[a], "--srtp") && a + 1 < argc)
			suite = argv[++a];
		else if (!strcmp(argv[a], "--no-decrypt"))
			decrypt = false;
		else if (!strcmp(argv[a], "--expect-none"))
			expect_none = true;
		else if (!strcmp(argv[a], "--expect-loss") && a + 2 < argc) {
			loss_lo = atof(argv[++a]);
			loss_hi = atof(argv[++a]);
		}
		else {
			fprintf(stderr, "unknown argument '%s'\n", argv[a]);
			return 2;
		}
	}
	if (count < 10 || count > MAXPKT || port == 0 || port > 65535) {
		fprintf(stderr, "count must be 10..%d and PORT 1..65535\n", MAXPKT);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.count = count;
	r.audio = calloc(160u * count, sizeof(int16_t));
	if (!r.audio || g711_law_from_pt(cfg.pt, &r.law) != 0 ||
	    tone_gen_init(&r.gen, FREQ, tone_dbm0_to_dbfs(LEVEL_DBM0), 8000) != 0) {
		fprintf(stderr, "bad payload type (0 or 8)\n");
		return 2;
	}
	if (ev_init() != 0)
		return 1;
	err = rtp_session_new(&cfg, &s);
	tap(err == 0 && rtp_local_port(s) % 2 == 0 && rtp_local_port(s) >= RTP_PORT_MIN &&
	    rtp_local_port(s) <= RTP_PORT_MAX, "RTP session on an even port of %d-%d (%u)",
	    RTP_PORT_MIN, RTP_PORT_MAX, s ? rtp_local_port(s) : 0);
	if (err)
		return 1;
	if (suite) {
		enum msrtp_suite su;

		err = msrtp_suite_from_name(suite, strlen(suite), &su);
		if (!err)
			err = msrtp_key_generate(su, &key);
		if (!err)
			err = msrtp_new(&key, MSRTP_OUTBOUND, &tx);
		if (!err && decrypt)
			err = msrtp_new(&key, MSRTP_INBOUND, &rx);
		if (err) {
			printf("Bail out! SRTP %s: %s\n", suite, msrtp_strerror(err));
			return 1;
		}
		rtp_set_srtp(s, tx, rx);
	}
	if (rtp_set_peer(s, argv[1], (uint16_t)port) != 0) {
		printf("Bail out! bad peer address %s\n", argv[1]);
		return 1;
	}
	rtp_set_rx(s, on_rx, &r);
	err = rtp_start(s, count, fill, done, &r);
	end = ev_now_ms() + count * 20u + 3000u;
	while (ev_now_ms() < end && !(r.done && r.rx >= count))
		ev_run_once(20);
	/* Stragglers: half a second more at most (all of it when nothing may come). */
	end = ev_now_ms() + 500;
	while (ev_now_ms() < end && r.rx < count)
		ev_run_once(20);
	tap(err == 0 && rtp_stats(s)->tx_packets == count && rtp_stats(s)->tx_errors == 0,
	    "%u packets sent at 20 ms (errors %llu, late %llu)", count,
	    (unsigned long long)rtp_stats(s)->tx_errors, (unsigned long long)rtp_stats(s)->tx_late);
	if (suite && !decrypt) {
		/* Without the key: every packet comes back, and it is not audio we can hear. */
		tap(r.rx == count, "all %u encrypted packets echoed (got %u)", count, r.rx);
		tone_analyse(r.audio + 160 * 10, 160u * (count - 10), 8000, FREQ, &tr);
		tap(r.wrong_len == r.rx && !tone_detected(&tr, TONE_MIN_RATIO, TONE_MIN_DBFS),
		    "undecrypted echo carries no tone (tag on %u of %u, ratio %.3f): the audio on the wire is encrypted",
		    r.wrong_len, r.rx, tr.ratio);
		goto out;
	}
	if (expect_none) {
		tap(r.rx == 0, "no audio: %u of %u packets came back (the RTP range is blocked)",
		    r.rx, count);
		goto out;
	}
	loss = 100.0 * (count - r.rx) / count;
	tap(loss >= loss_lo && loss <= loss_hi, "loss %.1f %% (%u of %u echoed; expected %.1f-%.1f %%; "
	    "malformed %llu, srtp failures %llu)", loss, r.rx, count, loss_lo, loss_hi,
	    (unsigned long long)rtp_stats(s)->rx_malformed,
	    (unsigned long long)rtp_stats(s)->rx_srtp_fail);
	/* Skip the first 10 packets (200 ms) to be independent of start-up. */
	err = tone_analyse(r.audio + 160 * 10, 160u * (count - 10), 8000, FREQ, &tr);
	tap(err == 0 && tone_detected(&tr, TONE_MIN_RATIO, TONE_MIN_DBFS) &&
	    /* lost packets are silent gaps: they lower the level a little */
	    fabs(tr.tone_dbfs - tone_dbm0_to_dbfs(LEVEL_DBM0)) < (loss_hi > 0.0 ? 3.0 : 0.5) &&
	    r.wrong_len == 0,
	    "%.0f Hz tone in the echo at %.2f dBFS (sent %.2f), ratio %.3f", FREQ, tr.tone_dbfs,
	    tone_dbm0_to_dbfs(LEVEL_DBM0), tr.ratio);
	/* Correctness of the measurement, not a speed test: every echo has an RTT,
	 * all positive, and the quickest loopback round trip is small (a loaded
	 * machine or ASan may stall single packets, so the max is only shown). */
	tap(r.rtt_n == r.rx && r.rtt_n > 0 && r.rtt_min > 0 && r.rtt_min < 20000000u,
	    "RTT from kernel timestamps, positive, quickest below 20 ms: min %.3f avg %.3f max %.3f ms over %u packets",
	    r.rtt_min / 1e6, r.rtt_n ? r.rtt_sum / 1e6 / r.rtt_n : 0.0, r.rtt_max / 1e6, r.rtt_n);
	/* Model for the jitter bound: J moves by (|D| - J) / 16 per packet (RFC 3550 A.8), so a
	 * stall of S ms before one send raises it by at most 2 S / 16 (the late packet and the
	 * early one after it): 30 ms is passed only by a single stall of 240 ms or more, about
	 * the e2e tests' scheduling bound (SCHED = 0.25 s per wake-up on a busy 2-core machine).
	 * A plausibility check for the estimator, not a speed test. */
	tap(r.jitter / 8.0 < 30.0, "interarrival jitter %.3f ms (RFC 3550) plausible for loopback (below 30 ms)",
	    r.jitter / 8.0);
	if (suite)
		tap(rtp_stats(s)->rx_srtp_fail == 0 && r.rx > 0,
		    "%s: every echoed SRTP packet authenticated and decrypted with our own key", suite);
out:
	printf("1..%d\n", tap_n);
	rtp_session_free(s);
	msrtp_free(tx);
	msrtp_free(rx);
	free(r.audio);
	ev_done();
	return tap_fail ? 1 : 0;
}
