/* rtpstats.c - jitter, loss, bursts and RTT of a probe stream (pure). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "diag/rtpstats.h"

static bool seen_get(const struct rtpstats *s, uint32_t i)
{
	return s->seen[i >> 3] & (1u << (i & 7));
}

int rtpstats_init(struct rtpstats *s, uint32_t capacity)
{
	memset(s, 0, sizeof(*s));
	if (capacity == 0)
		return -EINVAL;
	s->seen = calloc((capacity + 7) / 8, 1);
	if (!s->seen)
		return -ENOMEM;
	s->capacity = capacity;
	s->highest = -1;
	return 0;
}

void rtpstats_free(struct rtpstats *s)
{
	free(s->seen);
	s->seen = NULL;
}

/* Mark seq as seen; false (counted as out of range or duplicate) when it is not new. */
static bool mark_new(struct rtpstats *s, uint32_t seq)
{
	if (seq >= s->capacity) {
		s->out_of_range++;
		return false;
	}
	if (seen_get(s, seq)) {
		s->duplicates++;
		return false;
	}
	s->seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
	return true;
}

void rtpstats_arrival(struct rtpstats *s, uint32_t seq, int64_t send_ns, int64_t recv_ns)
{
	int64_t transit = recv_ns - send_ns;
	double rtt;

	if (!mark_new(s, seq))
		return;
	s->received++;
	if ((int64_t)seq < s->highest)
		s->reordered++;
	else
		s->highest = seq;

	/* RFC 3550 A.8 */
	if (s->have_transit) {
		int64_t d = transit - s->last_transit_ns;

		if (d < 0)
			d = -d;
		s->jitter_ns += (utl_i64_double(d) - s->jitter_ns) / 16.0;
	}
	s->last_transit_ns = transit;
	s->have_transit = true;

	rtt = utl_i64_double(transit);
	if (s->received == 1 || rtt < s->rtt_min_ns)
		s->rtt_min_ns = rtt;
	if (s->received == 1 || rtt > s->rtt_max_ns)
		s->rtt_max_ns = rtt;
	s->rtt_sum_ns += rtt;
}

void rtpstats_seen(struct rtpstats *s, uint32_t seq)
{
	if (!mark_new(s, seq))
		return;
	s->received_loss_only++;
}

uint32_t rtpstats_received_below(const struct rtpstats *s, uint32_t n)
{
	uint32_t c = 0;

	if (n > s->capacity)
		n = s->capacity;
	for (uint32_t i = 0; i < n; i++)
		c += seen_get(s, i) ? 1 : 0;
	return c;
}

void rtpstats_result(const struct rtpstats *s, uint32_t sent, struct rtpstats_result *r)
{
	uint32_t n = sent < s->capacity ? sent : s->capacity;
	uint32_t rx_in = 0, lost = 0, run = 0, trans_rl = 0, trans_lr = 0;
	bool prev_lost = false;

	memset(r, 0, sizeof(*r));
	r->sent = sent;
	for (uint32_t i = 0; i < n; i++) {
		bool l = !seen_get(s, i);

		if (l) {
			lost++;
			run++;
			if (i > 0 && !prev_lost)
				trans_rl++;
		} else {
			rx_in++;
			if (prev_lost) {
				trans_lr++;
				r->bursts++;
				if (run > r->burst_max)
					r->burst_max = run;
				run = 0;
			}
		}
		prev_lost = l;
	}
	if (run) {
		r->bursts++;
		if (run > r->burst_max)
			r->burst_max = run;
	}
	r->received = rx_in;
	r->lost = lost + (sent - n);
	r->duplicates = s->duplicates;
	r->reordered = s->reordered;
	r->loss_pct = sent ? 100.0 * r->lost / sent : 0.0;
	r->jitter_ms = s->jitter_ns / 1e6;
	r->burst_mean = r->bursts ? (double)lost / r->bursts : 0.0;
	/* Two-state Markov: p = P(lost | previous received), q = P(received | previous lost). */
	r->burst_ratio = 1.0;
	if (lost && rx_in) {
		double p = (double)trans_rl / rx_in, q = (double)trans_lr / lost;

		if (p + q > 0)
			r->burst_ratio = 1.0 / (p + q);
	}
	r->rtt_samples = s->received;
	if (s->received) {
		r->rtt_min_ms = s->rtt_min_ns / 1e6;
		r->rtt_max_ms = s->rtt_max_ns / 1e6;
		r->rtt_avg_ms = s->rtt_sum_ns / s->received / 1e6;
	} else {
		r->rtt_min_ms = r->rtt_avg_ms = r->rtt_max_ms = NAN;
	}
}
