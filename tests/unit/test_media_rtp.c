/* test_media_rtp.c - RTP header codec and the session on loopback: pacing,
 * DSCP on the wire, kernel timestamps, echo RTT, SRTP, hostile datagrams. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "media/rtp.h"
#include "media/srtp.h"

/* ---------------------------------------------------------------- codec */

static void test_build_parse_round_trip(void **state)
{
	static const uint8_t ext[8] = { 0x10, 0xAA, 0, 0, 1, 2, 3, 4 };
	struct rtp_hdr h = { .marker = true, .pt = 8, .seq = 0xBEEF, .ts = 0x01020304,
			     .ssrc = 0xCAFEBABE, .cc = 2, .csrc = { 7, 9 },
			     .has_ext = true, .ext_profile = 0xBEDE, .ext = ext, .ext_len = 8 };
	uint8_t payload[160], buf[256];
	struct rtp_hdr p;
	int n;

	memset(payload, 0x55, sizeof(payload));
	n = rtp_build(buf, sizeof(buf), &h, payload, sizeof(payload));
	assert_int_equal(n, 12 + 8 + 4 + 8 + 160);
	assert_int_equal(buf[0], 0x80 | 0x10 | 2);
	assert_int_equal(buf[1], 0x80 | 8);
	assert_int_equal(rtp_parse(buf, (size_t)n, &p), 0);
	assert_true(p.marker);
	assert_int_equal(p.pt, 8);
	assert_int_equal(p.seq, 0xBEEF);
	assert_int_equal(p.ts, 0x01020304);
	assert_int_equal(p.ssrc, 0xCAFEBABE);
	assert_int_equal(p.cc, 2);
	assert_int_equal(p.csrc[1], 9);
	assert_true(p.has_ext);
	assert_int_equal(p.ext_profile, 0xBEDE);
	assert_int_equal(p.ext_len, 8);
	assert_memory_equal(p.ext, ext, 8);
	assert_int_equal(p.payload_len, 160);
	assert_ptr_equal(p.payload, buf + 32);
	assert_int_equal(rtp_build(buf, 100, &h, payload, sizeof(payload)), -ENOSPC);
	h.cc = 16;
	assert_int_equal(rtp_build(buf, sizeof(buf), &h, payload, sizeof(payload)), -EINVAL);
}

static void test_parse_rejects_malformed(void **state)
{
	static const struct {
		const char *hex;
		int err;
	} bad[] = {
		{ "8000", -RTP_E_SHORT },
		{ "800000010000000000000001", 0 },                     /* minimal, no payload */
		{ "400000010000000000000001aa", -RTP_E_VERSION },
		{ "c00000010000000000000001aa", -RTP_E_VERSION },
		{ "830000010000000000000001000000010000", -RTP_E_CSRC },
		{ "900000010000000000000001bede", -RTP_E_EXT },
		{ "900000010000000000000001bede0002aabbccdd", -RTP_E_EXT },
		{ "a00000010000000000000001aabb00", -RTP_E_PAD },      /* padding count 0 */
		{ "a00000010000000000000001aabb09", -RTP_E_PAD },      /* more than the payload */
		{ "a00000010000000000000001aabb03", 0 },               /* valid: 3 pad octets */
		{ "80c800010000000000000001", -RTP_E_RTCP },           /* SR on the RTP port */
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t buf[64];
		size_t n = strlen(bad[i].hex) / 2, j;
		struct rtp_hdr h;

		for (j = 0; j < n; j++) {
			unsigned v;

			sscanf(bad[i].hex + 2 * j, "%2x", &v);
			buf[j] = (uint8_t)v;
		}
		assert_int_equal(rtp_parse(buf, n, &h), bad[i].err);
		assert_non_null(rtp_parse_strerror(bad[i].err));
		if (i == 9) {
			assert_int_equal(h.pad_len, 3);
			assert_int_equal(h.payload_len, 0);
		}
	}
	assert_string_equal(rtp_parse_strerror(-RTP_E_VERSION), "not RTP version 2");
	assert_string_equal(rtp_parse_strerror(-999), "unknown RTP error");
}

static void test_parse_random_bytes_stay_in_bounds(void **state)
{
	uint8_t buf[64];
	uint32_t x = 12345;
	int i;

	for (i = 0; i < 200000; i++) {
		size_t n = (size_t)(x % sizeof(buf)), j;
		struct rtp_hdr h;

		for (j = 0; j < sizeof(buf); j++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			buf[j] = (uint8_t)x;
		}
		buf[0] = (uint8_t)((buf[0] & 0x3F) | 0x80);     /* mostly version 2 */
		if (rtp_parse(buf, n, &h) == 0) {
			assert_true(h.payload >= buf + RTP_HDR_LEN);
			assert_true(h.payload + h.payload_len + h.pad_len <= buf + n);
			if (h.has_ext)
				assert_true(h.ext + h.ext_len <= h.payload);
		}
	}
}

/* ---------------------------------------------------------------- session */

#define NPKT 25

struct rx_log {
	unsigned n;
	uint16_t seq[64];
	uint32_t ts[64];
	bool marker[64];
	uint64_t rx_ns[64];
	uint64_t at_us[64];         /* loop time (virtual in most tests) of the callback */
	uint64_t rtt_ns[64];
	bool own[64], kts[64];
	uint8_t payload[64][160];
	size_t plen[64];
	bool done;
	unsigned stall_at, stall_ms;   /* stall the (virtual) loop after receiving packet stall_at-1 */
};

static int fill_index(void *arg, uint32_t index, uint8_t *buf, size_t size)
{
	memset(buf, (int)(index & 0xFF), 160);
	return 160;
}

static void on_done(void *arg)
{
	((struct rx_log *)arg)->done = true;
}

static void on_rx(void *arg, const struct rtp_rx *rx)
{
	struct rx_log *l = arg;

	if (l->n >= 64)
		return;
	l->seq[l->n] = rx->hdr->seq;
	l->ts[l->n] = rx->hdr->ts;
	l->marker[l->n] = rx->hdr->marker;
	l->rx_ns[l->n] = rx->rx_ns;
	l->at_us[l->n] = ev_now_us();
	if (l->stall_at && l->n + 1 == l->stall_at)
		assert_int_equal(ev_clock_stall_ms(l->stall_ms), 0);
	l->kts[l->n] = rx->kernel_ts;
	l->own[l->n] = rx->own;
	l->rtt_ns[l->n] = rx->tx_ns ? rx->rx_ns - rx->tx_ns : 0;
	l->plen[l->n] = rx->hdr->payload_len > 160 ? 160 : rx->hdr->payload_len;
	memcpy(l->payload[l->n], rx->hdr->payload, l->plen[l->n]);
	l->n++;
}

static void run_until(bool *flag, unsigned *count, unsigned want, uint64_t max_ms)
{
	uint64_t end = ev_now_ms() + max_ms;

	while (ev_now_ms() < end) {
		if (flag && *flag && (!count || *count >= want))
			break;
		if (!flag && count && *count >= want)
			break;
		assert_true(ev_run_once(10) >= 0);
	}
}

#define T0_US 1000000u

/* The session tests run on virtual time: pacing is exact; real sockets,
 * kernel timestamps and DSCP are still the kernel's. */
static int setup(void **state)
{
	if (ev_init() < 0)
		return -1;
	ev_clock_virtual(T0_US);
	return 0;
}

/* The one real-clock test. */
static int setup_real(void **state)
{
	return ev_init();
}

static int teardown(void **state)
{
	ev_done();
	return 0;
}

static struct rtp_session *open_session(uint16_t lo, uint16_t hi, int dscp)
{
	struct rtp_config c = { .local_addr = "127.0.0.1", .port_min = lo, .port_max = hi,
				.dscp = dscp, .pt = 0 };
	struct rtp_session *s = NULL;

	assert_int_equal(rtp_session_new(&c, &s), 0);
	return s;
}

/* Whether this kernel (or emulator: qemu-user has none) gives receive timestamps. */
static bool kernel_timestamps(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
	bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void check_stream(const struct rx_log *lb)
{
	unsigned i;

	assert_int_equal(lb->n, NPKT);
	for (i = 0; i < NPKT; i++) {
		assert_int_equal((uint16_t)(lb->seq[i] - lb->seq[0]), i);
		assert_int_equal(lb->ts[i] - lb->ts[0], 160u * i);
		assert_int_equal(lb->marker[i], i == 0);
		if (kernel_timestamps())
			assert_true(lb->kts[i]);   /* else read time stands in (rtp.c) */
		assert_false(lb->own[i]);
		assert_int_equal(lb->plen[i], 160);
		assert_int_equal(lb->payload[i][0], i);
		/* the kernel stamps arrivals in order */
		if (i > 0)
			assert_true(lb->rx_ns[i] >= lb->rx_ns[i - 1]);
	}
}

/* Pacing on virtual time: packet i leaves at exactly start + 20 i ms (loopback
 * delivers it within that instant). The schedule is absolute: a stall of
 * 33 ms after packet 3 makes packet 4 late (at 93 ms) and packet 5 on time
 * (100 ms), not shifted. */
static void test_paced_stream_between_sessions(void **state)
{
	struct rtp_session *a = open_session(31000, 31999, RTP_DSCP_EF);
	struct rtp_session *b = open_session(31000, 31999, RTP_DSCP_EF);
	struct rx_log la = { 0 }, lb = { .stall_at = 4, .stall_ms = 33 };
	uint64_t t0 = ev_now_us();
	unsigned i;

	assert_int_equal(rtp_local_port(a) % 2, 0);
	assert_true(rtp_local_port(a) >= 31000 && rtp_local_port(a) <= 31999);
	assert_int_not_equal(rtp_local_port(a), rtp_local_port(b));
	assert_int_equal(rtp_start(a, NPKT, fill_index, on_done, &la), -ENOTCONN);
	assert_int_equal(rtp_set_peer(a, "127.0.0.1", rtp_local_port(b)), 0);
	assert_int_equal(rtp_set_peer(b, "127.0.0.1", rtp_local_port(a)), 0);
	rtp_set_rx(b, on_rx, &lb);
	assert_int_equal(rtp_start(a, NPKT, fill_index, on_done, &la), 0);
	assert_int_equal(rtp_start(a, NPKT, fill_index, on_done, &la), -EBUSY);
	run_until(&la.done, &lb.n, NPKT, 3000);
	assert_true(la.done);
	assert_false(rtp_sending(a));
	assert_int_equal(rtp_stats(a)->tx_packets, NPKT);
	assert_int_equal(rtp_stats(b)->rx_packets, NPKT);
	check_stream(&lb);
	assert_int_equal(rtp_stats(a)->tx_late, 1);          /* packet 4: 13 ms > ptime/2 late */
	for (i = 0; i < NPKT; i++) {
		uint64_t want = i == 4 ? 93000u : 20000u * i;

		if (lb.at_us[i] - t0 != want)
			fail_msg("packet %u arrived at +%llu us, want +%llu", i,
				 (unsigned long long)(lb.at_us[i] - t0), (unsigned long long)want);
	}
	rtp_session_free(a);
	rtp_session_free(b);
}

/* The same stream on the real clock, where the kernel's timestamps are the
 * point. Model: a timer never fires before its deadline and the schedule is
 * absolute from the first packet, so packet i cannot arrive earlier than
 * 20 i ms after packet 0 was sent; how late it arrives depends on the
 * machine's load and is printed, not asserted. */
static void test_paced_stream_real_clock(void **state)
{
	struct rtp_session *a = open_session(31000, 31999, RTP_DSCP_EF);
	struct rtp_session *b = open_session(31000, 31999, RTP_DSCP_EF);
	struct rx_log la = { 0 }, lb = { 0 };
	struct timespec ts;
	uint64_t start_ns;
	unsigned i, rounds = 0;

	assert_false(ev_clock_is_virtual());
	assert_int_equal(rtp_set_peer(a, "127.0.0.1", rtp_local_port(b)), 0);
	rtp_set_rx(b, on_rx, &lb);
	clock_gettime(CLOCK_REALTIME, &ts);   /* wallclock-ok: the lower bound of the kernel's rx stamps */
	start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	assert_int_equal(rtp_start(a, NPKT, fill_index, on_done, &la), 0);
	/* bounded in rounds, not time: every round runs at least one callback
	 * (no timer fires early), and there are at most NPKT sends and receives */
	while (!(la.done && lb.n >= rtp_stats(a)->tx_packets) && rounds++ < 4 * NPKT)
		assert_true(ev_run_once(-1) >= 0);
	assert_true(la.done);
	/* what was sent arrived (loopback); a stall longer than 5 packets skips
	 * the rest of the backlog (rtp.c, TX_CATCHUP), so fewer may be sent */
	assert_int_equal(lb.n, rtp_stats(a)->tx_packets);
	assert_true(lb.n >= 1 && lb.n <= NPKT);
	assert_true(lb.marker[0]);
	for (i = 0; i < lb.n; i++) {
		uint32_t k = (lb.ts[i] - lb.ts[0]) / 160u;
		uint32_t idx = (uint16_t)(lb.seq[i] - lb.seq[0]);

		assert_int_equal(k, idx);                 /* ts and seq follow the packet index */
		if (kernel_timestamps())
			assert_true(lb.kts[i]);
		/* never before its slot; 1 ms for CLOCK_REALTIME slewing against the
		 * loop's CLOCK_MONOTONIC schedule */
		if (lb.rx_ns[i] + 1000000u < start_ns + 20000000u * (uint64_t)idx)
			fail_msg("packet %u arrived %lld us before its slot", idx,
				 (long long)(start_ns + 20000000u * (uint64_t)idx - lb.rx_ns[i]) / 1000);
	}
	print_message("# real clock: %u packets, the last %llu us after the first (480000 on an idle machine), %llu late\n",
		      lb.n, (unsigned long long)((lb.rx_ns[lb.n - 1] - lb.rx_ns[0]) / 1000u),
		      (unsigned long long)rtp_stats(a)->tx_late);
	rtp_session_free(a);
	rtp_session_free(b);
}

static void test_dscp_on_the_wire(void **state)
{
	struct rtp_session *a = open_session(32000, 32999, 0);     /* 0: the default, EF */
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct rx_log la = { 0 };
	int fd, one = 1, tos = -1;
	uint8_t buf[256];
	char ctl[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)), 0);
	assert_int_equal(rtp_set_peer(a, "127.0.0.1", ntohs(sin.sin_port)), 0);
	assert_int_equal(rtp_start(a, 1, fill_index, on_done, &la), 0);
	run_until(&la.done, NULL, 0, 1000);
	assert_true(recvmsg(fd, &msg, 0) == 12 + 160);
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			tos = *(uint8_t *)CMSG_DATA(c);
	assert_int_equal(tos >> 2, 46);          /* EF, as received */
	close(fd);
	rtp_session_free(a);
}

/* A plain UDP echo on the loop, like sipp -rtp_echo: every datagram goes back unchanged. */
struct echo {
	struct ev_fd f;
	unsigned n;
	uint8_t last[1600];
	size_t last_len;
};

static void on_echo(struct ev_fd *f, unsigned ev)
{
	struct echo *e = container_of(f, struct echo, f);
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(f->fd, e->last, sizeof(e->last), 0, (struct sockaddr *)&from, &fl)) > 0) {
		e->last_len = (size_t)n;
		e->n++;
		(void)sendto(f->fd, e->last, (size_t)n, 0, (struct sockaddr *)&from, fl);
		fl = sizeof(from);
	}
}

static uint16_t echo_open(struct echo *e)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	memset(e, 0, sizeof(*e));
	e->f.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(e->f.fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(e->f.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(e->f.fd, (struct sockaddr *)&sin, &len), 0);
	e->f.cb = on_echo;
	assert_int_equal(ev_fd_add(&e->f, EV_READ), 0);
	return ntohs(sin.sin_port);
}

static void echo_close(struct echo *e)
{
	ev_fd_del(&e->f);
	close(e->f.fd);
}

static uint64_t realtime_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);   /* wallclock-ok: brackets kernel stamps, bounds only */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The echo's round trip by the kernel's stamps. Model: the send stamp and the
 * receive stamp both fall inside the run, so 0 < RTT <= the run's real span;
 * how much of that span a loaded CPU adds is not asserted. On the loop's
 * (virtual) clock the echo comes back within the instant it was sent. */
static void test_echo_rtt(void **state)
{
	struct rtp_session *a = open_session(33000, 33999, RTP_DSCP_EF);
	struct rx_log la = { 0 };
	struct echo e;
	uint64_t t0 = ev_now_us(), r0, r1;
	unsigned i;

	assert_int_equal(rtp_set_peer(a, "127.0.0.1", echo_open(&e)), 0);
	rtp_set_rx(a, on_rx, &la);
	r0 = realtime_now_ns();
	assert_int_equal(rtp_start(a, 10, fill_index, on_done, &la), 0);
	run_until(&la.done, &la.n, 10, 2000);
	r1 = realtime_now_ns();
	assert_int_equal(la.n, 10);
	for (i = 0; i < 10; i++) {
		assert_true(la.own[i]);
		assert_true(la.rtt_ns[i] > 0);
		assert_true(la.rtt_ns[i] <= r1 - r0 + 1000000u);   /* 1 ms: CLOCK_REALTIME slewing */
		assert_int_equal(la.at_us[i] - t0, 20000u * i);
	}
	print_message("# loopback echo RTT of packet 0: %llu us\n", (unsigned long long)(la.rtt_ns[0] / 1000));
	echo_close(&e);
	rtp_session_free(a);
}

static void test_srtp_through_echo(void **state)
{
	struct rtp_session *a = open_session(34000, 34999, RTP_DSCP_EF);
	struct msrtp_key k;
	struct msrtp *tx, *rx;
	struct rx_log la = { 0 };
	struct echo e;
	unsigned i;

	assert_int_equal(msrtp_key_generate(MSRTP_AES_CM_128_HMAC_SHA1_80, &k), 0);
	assert_int_equal(msrtp_new(&k, MSRTP_OUTBOUND, &tx), 0);
	assert_int_equal(msrtp_new(&k, MSRTP_INBOUND, &rx), 0);
	assert_int_equal(rtp_set_peer(a, "127.0.0.1", echo_open(&e)), 0);
	rtp_set_srtp(a, tx, rx);
	rtp_set_rx(a, on_rx, &la);
	assert_int_equal(rtp_start(a, 5, fill_index, on_done, &la), 0);
	run_until(&la.done, &la.n, 5, 2000);
	assert_int_equal(la.n, 5);
	/* On the wire: 12 + 160 + 10-octet tag, payload not in clear. */
	assert_int_equal(e.last_len, 12 + 160 + 10);
	assert_true(e.last[12] != 4 || e.last[13] != 4);
	for (i = 0; i < 5; i++) {
		assert_int_equal(la.plen[i], 160);
		assert_int_equal(la.payload[i][0], i);
		assert_int_equal(la.payload[i][159], i);
	}
	assert_int_equal(rtp_stats(a)->rx_srtp_fail, 0);
	echo_close(&e);
	rtp_session_free(a);
	msrtp_free(tx);
	msrtp_free(rx);
}

static void test_srtp_padded_packet_accepted(void **state)
{
	/* The padding count is inside the encrypted part: a padded SRTP packet
	 * must not be judged by its (tag) last octet before unprotecting. */
	struct rtp_session *a = open_session(38000, 38999, -1);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(rtp_local_port(a)) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	socklen_t ml = sizeof(me);
	struct rx_log la = { 0 };
	struct msrtp_key k;
	struct msrtp *tx, *rx;
	uint8_t pkt[64] = { 0xA0, 0, 0, 7, 0, 0, 0, 160, 0, 0, 0, 9 };
	size_t len = 12 + 4 + 4;
	int fd, i;

	memset(pkt + 12, 0x33, 4);
	pkt[16] = pkt[17] = pkt[18] = 0;
	pkt[19] = 4;                                     /* 4 octets of padding */
	assert_int_equal(msrtp_key_generate(MSRTP_AES_CM_128_HMAC_SHA1_80, &k), 0);
	assert_int_equal(msrtp_new(&k, MSRTP_OUTBOUND, &tx), 0);
	assert_int_equal(msrtp_new(&k, MSRTP_INBOUND, &rx), 0);
	/* Tags until one ends in 0 or a value larger than the packet (both invalid as padding). */
	for (i = 0; i < 50; i++) {
		uint8_t try[64];
		size_t l = len;

		memcpy(try, pkt, len);
		try[3] = (uint8_t)(7 + i);
		assert_int_equal(msrtp_protect(tx, try, &l, sizeof(try)), 0);
		if (try[l - 1] == 0 || try[l - 1] > 20) {
			memcpy(pkt, try, l);
			len = l;
			break;
		}
	}
	assert_true(i < 50);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &ml), 0);
	assert_int_equal(rtp_set_peer(a, "127.0.0.1", ntohs(me.sin_port)), 0);
	rtp_set_srtp(a, NULL, rx);
	rtp_set_rx(a, on_rx, &la);
	assert_true(sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) > 0);
	run_until(NULL, &la.n, 1, 500);
	assert_int_equal(la.n, 1);
	assert_int_equal(la.plen[0], 4);                 /* padding removed after decryption */
	assert_int_equal(la.payload[0][0], 0x33);
	assert_int_equal(rtp_stats(a)->rx_malformed, 0);
	close(fd);
	rtp_session_free(a);
	msrtp_free(tx);
	msrtp_free(rx);
}

static void free_in_cb(void *arg, const struct rtp_rx *rx)
{
	struct rtp_session **sp = arg;

	rtp_session_free(*sp);          /* more datagrams are queued behind this one */
	*sp = NULL;
}

static void test_free_from_rx_callback(void **state)
{
	struct rtp_session *a = open_session(39000, 39999, -1);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(rtp_local_port(a)) };
	static const uint8_t pkt[16] = { 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 };
	uint64_t end = ev_now_ms() + 500;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i;

	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	rtp_set_rx(a, free_in_cb, &a);
	for (i = 0; i < 5; i++)
		assert_true(sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) > 0);
	while (a && ev_now_ms() < end)
		assert_true(ev_run_once(20) >= 0);
	assert_null(a);                 /* ASan/valgrind: no use after free */
	close(fd);
}

static void test_hostile_datagrams_counted(void **state)
{
	struct rtp_session *a = open_session(35000, 35999, -1);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(rtp_local_port(a)) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	socklen_t ml = sizeof(me);
	struct rx_log la = { 0 };
	static uint8_t big[1600];
	static const uint8_t pkts[][16] = {
		{ 0x80 },
		{ 0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA },
		{ 0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA },
		{ 0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA, 0 },
		{ 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA, 0xBB },   /* the one good packet */
	};
	static const size_t lens[] = { 1, 13, 13, 14, 14 };
	int fd;
	unsigned i;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &ml), 0);
	assert_int_equal(rtp_set_peer(a, "127.0.0.1", ntohs(me.sin_port)), 0);
	rtp_set_rx(a, on_rx, &la);
	for (i = 0; i < ARRAY_SIZE(lens); i++)
		assert_true(sendto(fd, pkts[i], lens[i], 0, (struct sockaddr *)&to, sizeof(to)) > 0);
	big[0] = 0x80;
	assert_true(sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)) > 0);
	assert_true(sendto(fd, big, 0, 0, (struct sockaddr *)&to, sizeof(to)) == 0);
	run_until(NULL, &la.n, 1, 500);
	ev_run_once(50);
	assert_int_equal(la.n, 1);
	assert_int_equal(la.plen[0], 2);
	assert_int_equal(rtp_stats(a)->rx_packets, 1);
	assert_int_equal(rtp_stats(a)->rx_malformed, 5);
	assert_int_equal(rtp_stats(a)->rx_reason[RTP_E_SHORT], 2);
	assert_int_equal(rtp_stats(a)->rx_reason[RTP_E_VERSION], 1);
	assert_int_equal(rtp_stats(a)->rx_reason[RTP_E_CSRC], 1);
	assert_int_equal(rtp_stats(a)->rx_reason[RTP_E_PAD], 1);
	assert_int_equal(rtp_stats(a)->rx_oversize, 1);
	close(fd);
	rtp_session_free(a);
}

/* A block of four ports (two RTP/RTCP pairs) on 127.0.0.1 that nothing else holds
 * now: another test run, a helper or a server on this machine may hold any fixed
 * port, and then exhaustion would come one session early. Probed by binding every
 * port of the block; 0 when no block of the first 64 is free. */
static uint16_t free_block4(void)
{
	for (unsigned k = 0; k < 64; k++) {
		uint16_t base = (uint16_t)(36000 + 16 * k);
		int fds[4], n = 0;

		for (; n < 4; n++) {
			struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(base + n)) };

			inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
			fds[n] = socket(AF_INET, SOCK_DGRAM, 0);
			if (fds[n] < 0 || bind(fds[n], (struct sockaddr *)&sin, sizeof(sin)) != 0) {
				if (fds[n] >= 0)
					close(fds[n]);
				break;
			}
		}
		for (int i = 0; i < n; i++)
			close(fds[i]);
		if (n == 4)
			return base;
	}
	return 0;
}

static void test_port_range_exhausted_and_reused(void **state)
{
	uint16_t p = free_block4();
	struct rtp_config c = { .local_addr = "127.0.0.1", .port_min = p, .port_max = (uint16_t)(p + 3),
				.dscp = RTP_DSCP_EF };
	struct rtp_session *a, *b, *d;

	assert_int_not_equal(p, 0);
	assert_int_equal(rtp_session_new(&c, &a), 0);
	assert_int_equal(rtp_session_new(&c, &b), 0);
	assert_true(rtp_local_port(a) == p || rtp_local_port(a) == p + 2);
	assert_int_equal(rtp_local_port(a) + rtp_local_port(b), p + p + 2);
	assert_int_equal(rtp_session_new(&c, &d), -EADDRINUSE);
	assert_null(d);
	rtp_session_free(a);
	assert_int_equal(rtp_session_new(&c, &d), 0);
	rtp_session_free(b);
	rtp_session_free(d);
	c.port_min = (uint16_t)(p + 1);
	c.port_max = (uint16_t)(p + 1);           /* no even port */
	assert_int_equal(rtp_session_new(&c, &d), -EINVAL);
	c.port_min = p;
	c.local_addr = "not-an-address";
	assert_int_equal(rtp_session_new(&c, &d), -EINVAL);
	c.local_addr = "127.0.0.1";
	c.dscp = 64;
	assert_int_equal(rtp_session_new(&c, &d), -EINVAL);
}

static void test_unreachable_peer_counted(void **state)
{
	struct rtp_session *a = open_session(37000, 37999, RTP_DSCP_EF);
	struct rx_log la = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	/* A port that was just free: nothing listens there. */
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	assert_int_equal(rtp_set_peer(a, "127.0.0.1", ntohs(sin.sin_port)), 0);
	assert_int_equal(rtp_set_peer(a, "::1", 5000), -EAFNOSUPPORT);
	assert_int_equal(rtp_start(a, 5, fill_index, on_done, &la), 0);
	run_until(&la.done, NULL, 0, 2000);
	ev_run_once(50);
	assert_true(rtp_stats(a)->rx_unreachable >= 1);
	assert_int_equal(rtp_stats(a)->last_errno, ECONNREFUSED);
	rtp_session_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_parse_round_trip),
		cmocka_unit_test(test_parse_rejects_malformed),
		cmocka_unit_test(test_parse_random_bytes_stay_in_bounds),
		cmocka_unit_test_setup_teardown(test_paced_stream_between_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paced_stream_real_clock, setup_real, teardown),
		cmocka_unit_test_setup_teardown(test_dscp_on_the_wire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_rtt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_through_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_padded_packet_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_datagrams_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_from_rx_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_range_exhausted_and_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_peer_counted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
