/* rtpstats.h - statistics of a probe stream (pure, no I/O).
 *
 * The caller numbers its packets 0..n-1, records each arrival with the send
 * time it stamped and the kernel's receive time (SO_TIMESTAMPNS), and at the
 * end says how many it sent. Jitter is RFC 3550 A.8 interarrival jitter
 * (J += (|D| - J) / 16, D the change in transit time), computed in arrival
 * order; loss, duplicates, reordering, loss bursts and the E-model burst
 * ratio (BurstR = 1 / (p + q) of the two-state Markov model, ITU-T G.113)
 * follow from which sequence numbers arrived.
 */
#ifndef DSA_DIAG_RTPSTATS_H
#define DSA_DIAG_RTPSTATS_H

#include <stdbool.h>
#include <stdint.h>

struct rtpstats {
	/* private */
	uint8_t *seen;           /* one bit per sequence number */
	uint32_t capacity;
	uint32_t received;       /* unique arrivals with a transit time (RTT, jitter) */
	uint32_t received_loss_only; /* unique arrivals counted for loss only (rtpstats_seen) */
	uint32_t duplicates;
	uint32_t reordered;      /* arrivals below the highest sequence already seen */
	uint32_t out_of_range;   /* sequence numbers beyond capacity (ignored) */
	int64_t highest;
	bool have_transit;
	int64_t last_transit_ns;
	double jitter_ns;
	double rtt_min_ns, rtt_max_ns, rtt_sum_ns;
};

struct rtpstats_result {
	uint32_t sent, received, lost, duplicates, reordered;
	double loss_pct;
	double jitter_ms;                 /* RFC 3550 */
	double rtt_min_ms, rtt_avg_ms, rtt_max_ms;   /* NaN when nothing arrived */
	uint32_t rtt_samples;             /* arrivals RTT and jitter rest on */
	uint32_t bursts;                  /* runs of consecutive losses */
	uint32_t burst_max;               /* longest run */
	double burst_mean;                /* mean run length (0 without loss) */
	double burst_ratio;               /* BurstR; 1 for random loss or none */
};

/* Prepare s for up to capacity packets; 0 or -ENOMEM / -EINVAL. */
int rtpstats_init(struct rtpstats *s, uint32_t capacity);

/* Release what rtpstats_init allocated. */
void rtpstats_free(struct rtpstats *s);

/* Record the arrival of packet seq sent at send_ns and received at recv_ns (same clock). */
void rtpstats_arrival(struct rtpstats *s, uint32_t seq, int64_t send_ns, int64_t recv_ns);

/* Record that packet seq came back, for loss only (no transit: RTT and jitter untouched). */
void rtpstats_seen(struct rtpstats *s, uint32_t seq);

/* How many of packets 0..n-1 came back (so far). */
uint32_t rtpstats_received_below(const struct rtpstats *s, uint32_t n);

/* Summarise the stream given that packets 0..sent-1 were sent. */
void rtpstats_result(const struct rtpstats *s, uint32_t sent, struct rtpstats_result *r);

#endif
