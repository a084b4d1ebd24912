/* rtp.c - RTP header codec and the paced, timestamped UDP session. */
#include "config.h"

#include "media/rtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/log.h"
#include "common/util.h"
#include "media/srtp.h"
#include "system/system.h"

#define SUB "rtp"
#define TX_RING      1024       /* send times kept: 20 s of 20 ms packets */
#define RX_BURST     64         /* datagrams read per wake-up at most */
#define TX_CATCHUP   5          /* packets sent at once after a stalled loop at most */
#define BUF_SIZE     (RTP_MAX_DATAGRAM + 64)

/* ---------------------------------------------------------------- header */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h)
{
	size_t off = RTP_HDR_LEN, end = len;
	unsigned i;

	memset(h, 0, sizeof(*h));
	if (!buf || len < RTP_HDR_LEN)
		return -RTP_E_SHORT;
	if ((buf[0] >> 6) != 2)
		return -RTP_E_VERSION;
	h->marker = buf[1] & 0x80;
	h->pt = buf[1] & 0x7F;
	/* RFC 5761: 72-76 with the marker bit are RTCP SR/RR/SDES/BYE/APP. */
	if (h->pt >= 72 && h->pt <= 76)
		return -RTP_E_RTCP;
	h->seq = rd16(buf + 2);
	h->ts = rd32(buf + 4);
	h->ssrc = rd32(buf + 8);
	h->cc = buf[0] & 0x0F;
	if (len - off < 4u * h->cc)
		return -RTP_E_CSRC;
	for (i = 0; i < h->cc; i++, off += 4)
		h->csrc[i] = rd32(buf + off);
	if (buf[0] & 0x10) {
		size_t words;

		if (len - off < 4)
			return -RTP_E_EXT;
		h->has_ext = true;
		h->ext_profile = rd16(buf + off);
		words = rd16(buf + off + 2);
		off += 4;
		if (len - off < 4 * words)
			return -RTP_E_EXT;
		h->ext = buf + off;
		h->ext_len = 4 * words;
		off += 4 * words;
	}
	if (buf[0] & 0x20) {
		uint8_t pad = buf[len - 1];

		if (pad == 0 || pad > len - off)
			return -RTP_E_PAD;
		h->pad_len = pad;
		end -= pad;
	}
	h->payload = buf + off;
	h->payload_len = end - off;
	return 0;
}

const char *rtp_parse_strerror(int err)
{
	static const char *const why[RTP_E_MAX] = {
		[RTP_E_SHORT] = "shorter than an RTP header",
		[RTP_E_VERSION] = "not RTP version 2",
		[RTP_E_CSRC] = "CSRC list longer than the packet",
		[RTP_E_EXT] = "header extension longer than the packet",
		[RTP_E_PAD] = "invalid padding length",
		[RTP_E_RTCP] = "RTCP packet on the RTP port",
	};

	if (err < 0)
		err = -err;
	if (err <= 0 || err >= RTP_E_MAX)
		return "unknown RTP error";
	return why[err];
}

int rtp_build(uint8_t *buf, size_t size, const struct rtp_hdr *h,
	      const uint8_t *payload, size_t payload_len)
{
	size_t need, off = RTP_HDR_LEN;
	unsigned i;

	if (!buf || !h || h->cc > 15 || h->pt > 127 || (h->has_ext && (h->ext_len % 4 ||
	    h->ext_len > 4u * 0xFFFF || (h->ext_len && !h->ext))) || (payload_len && !payload))
		return -EINVAL;
	need = RTP_HDR_LEN + 4u * h->cc + (h->has_ext ? 4 + h->ext_len : 0) + payload_len;
	if (need > size || need > INT32_MAX)
		return -ENOSPC;
	buf[0] = (uint8_t)(0x80 | (h->has_ext ? 0x10 : 0) | h->cc);
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	wr16(buf + 2, h->seq);
	wr32(buf + 4, h->ts);
	wr32(buf + 8, h->ssrc);
	for (i = 0; i < h->cc; i++, off += 4)
		wr32(buf + off, h->csrc[i]);
	if (h->has_ext) {
		wr16(buf + off, h->ext_profile);
		wr16(buf + off + 2, (uint16_t)(h->ext_len / 4));
		off += 4;
		if (h->ext_len)
			memcpy(buf + off, h->ext, h->ext_len);
		off += h->ext_len;
	}
	if (payload_len)
		memcpy(buf + off, payload, payload_len);
	return (int)need;
}

/* ---------------------------------------------------------------- session */

struct tx_slot {
	uint64_t tx_ns;             /* user-space send time, replaced by the kernel's TX stamp */
	uint32_t key;               /* SO_TIMESTAMPING OPT_ID key of this datagram */
	uint16_t seq;
	bool used;
	bool kernel;                /* tx_ns is the kernel's */
};

struct rtp_session {
	int fd;
	int family;
	uint16_t port;
	bool connected;
	struct ev_fd rd;
	struct ev_timer pace;
	/* configuration */
	uint8_t pt;
	uint32_t ptime_us;
	uint32_t ts_step;
	uint32_t ssrc;
	/* sending */
	bool sending;
	uint32_t count, next;
	uint64_t start_us;
	uint16_t seq0;
	uint32_t ts0;
	rtp_fill_cb fill;
	rtp_done_cb done;
	void *fill_arg;
	struct tx_slot ring[TX_RING];
	bool tx_stamps;             /* SO_TIMESTAMPING TX_SOFTWARE accepted */
	uint32_t tx_key;            /* OPT_ID key of the next datagram sent */
	/* receiving */
	rtp_rx_cb rx_cb;
	void *rx_arg;
	struct msrtp *srtp_tx, *srtp_rx;
	struct rtp_stats st;
	bool in_rx;              /* inside the rx callback loop */
	bool freed;              /* rtp_session_free() called from the rx callback */
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/* Bind to a random even port of [lo, hi], then scan the even ports from there. */
static int bind_in_range(struct rtp_session *s, struct sockaddr_storage *ss, socklen_t len,
			 uint16_t lo, uint16_t hi)
{
	uint32_t first = lo + (lo & 1u), n, start, i;

	if (first > hi)
		return -EINVAL;
	n = (hi - first) / 2 + 1;
	start = utl_random_range(0, n - 1);
	for (i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(first + 2 * ((start + i) % n));

		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		if (bind(s->fd, (struct sockaddr *)ss, len) == 0) {
			s->port = port;
			return 0;
		}
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRINUSE;
}

static void deliver(struct rtp_session *s, uint8_t *buf, size_t len, uint64_t rx_ns, bool kts)
{
	struct rtp_hdr h;
	struct rtp_rx rx;
	int err;

	if (s->srtp_rx) {
		/* The padding count of an SRTP packet is encrypted (the last octet on
		 * the wire is the tag): check only the clear part before unprotecting. */
		if (len < RTP_HDR_LEN)
			err = -RTP_E_SHORT;
		else if ((buf[0] >> 6) != 2)
			err = -RTP_E_VERSION;
		else if ((buf[1] & 0x7F) >= 72 && (buf[1] & 0x7F) <= 76)
			err = -RTP_E_RTCP;
		else
			err = 0;
	} else {
		err = rtp_parse(buf, len, &h);
	}
	if (err == 0 && s->srtp_rx) {
		err = msrtp_unprotect(s->srtp_rx, buf, &len);
		if (err) {
			s->st.rx_srtp_fail++;
			return;
		}
		err = rtp_parse(buf, len, &h);
	}
	if (err) {
		s->st.rx_malformed++;
		s->st.rx_reason[-err]++;
		return;
	}
	s->st.rx_packets++;
	memset(&rx, 0, sizeof(rx));
	rx.hdr = &h;
	rx.rx_ns = rx_ns;
	rx.kernel_ts = kts;
	rx.own = h.ssrc == s->ssrc;
	if (rx.own) {
		const struct tx_slot *slot = &s->ring[h.seq % TX_RING];

		if (slot->used && slot->seq == h.seq) {
			rx.tx_ns = slot->tx_ns;
			rx.tx_kernel = slot->kernel;
		}
	}
	if (s->rx_cb)
		s->rx_cb(s->rx_arg, &rx);
}

/* One kernel transmit timestamp (sys_tx_drain) into the send-time ring: a busy CPU
 * between "decide to send" and "sent" then no longer counts as network delay. */
static void tx_stamp(uint32_t key, int64_t ns, void *arg)
{
	struct rtp_session *s = arg;

	for (unsigned d = 0; d < TX_RING; d++) { /* the newest slots first */
		struct tx_slot *slot = &s->ring[(uint16_t)(s->seq0 + s->next - d) % TX_RING];

		if (slot->used && slot->key == key) {
			if (!slot->kernel)
				s->st.tx_kernel_ts++;
			slot->tx_ns = (uint64_t)ns;
			slot->kernel = true;
			break;
		}
	}
}

static void tx_stamps_drain(struct rtp_session *s)
{
	if (s->tx_stamps)
		(void)sys_tx_drain(s->fd, tx_stamp, s);
}

static void on_readable(struct ev_fd *f, unsigned events)
{
	struct rtp_session *s = container_of(f, struct rtp_session, rd);
	int i;

	tx_stamps_drain(s);
	s->in_rx = true;
	for (i = 0; i < RX_BURST && !s->freed; i++) {
		uint8_t buf[BUF_SIZE];
		union {
			char b[CMSG_SPACE(sizeof(struct timespec)) + 160]; /* + SCM_TIMESTAMPING */
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *c;
		uint64_t rx_ns = 0;
		bool kts = false;
		ssize_t n;

		n = recvmsg(s->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			/* ICMP unreachable from an earlier send surfaces here. */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
				s->st.rx_unreachable++;
			s->st.last_errno = errno;
			continue;
		}
		if ((size_t)n > RTP_MAX_DATAGRAM || (msg.msg_flags & MSG_TRUNC)) {
			s->st.rx_oversize++;
			continue;
		}
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				rx_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
				kts = true;
			}
		}
		if (!kts)
			rx_ns = realtime_ns();
		deliver(s, buf, (size_t)n, rx_ns, kts);
	}
	s->in_rx = false;
	if (s->freed)
		free(s);
}

int rtp_session_new(const struct rtp_config *cfg, struct rtp_session **out)
{
	struct rtp_session *s;
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t lo = cfg->port_min, hi = cfg->port_max;
	int one = 1, err;

	*out = NULL;
	if (lo == 0 && hi == 0) {
		lo = RTP_PORT_MIN;
		hi = RTP_PORT_MAX;
	}
	if (lo == 0 || lo > hi || cfg->pt > 127 || cfg->dscp > 63 ||
	    (cfg->ptime_ms && (cfg->ptime_ms < 10 || cfg->ptime_ms > 200)))
		return -EINVAL;
	err = parse_addr(cfg->local_addr ? cfg->local_addr : "0.0.0.0", 0, &ss, &len);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->family = ss.ss_family;
	s->pt = cfg->pt;
	s->ptime_us = (cfg->ptime_ms ? cfg->ptime_ms : 20) * 1000u;
	s->ts_step = (cfg->clock_rate ? cfg->clock_rate : 8000) / 1000u * (s->ptime_us / 1000u);
	s->ssrc = cfg->ssrc;
	while (!s->ssrc)
		s->ssrc = utl_random_range(1, UINT32_MAX);
	s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		err = -errno;
		goto out;
	}
	err = bind_in_range(s, &ss, len, lo, hi);
	if (err == -EINVAL) {
		log_warn(SUB, "RTP port range %u-%u holds no even port: fix the provisioned range", lo, hi);
		goto out;
	}
	if (err) {
		log_warn(SUB, "no free UDP port for RTP in %u-%u: %s", lo, hi, strerror(-err));
		goto out;
	}
	if (cfg->dscp >= 0) {
		int dscp = cfg->dscp ? cfg->dscp : RTP_DSCP_EF;

		err = sys_set_dscp(s->fd, dscp);
		if (err) {
			log_warn(SUB, "cannot mark RTP with DSCP %d: %s", dscp, strerror(-err));
			goto out;
		}
	}
	/* Without kernel timestamps jitter is measured at read time: worse, not fatal. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		log_info(SUB, "no kernel receive timestamps (%s); using read time", strerror(errno));
	/* Without them (qemu-user) RTT uses the user-space send time: rtp_stats.tx_kernel_ts 0. */
	if ((err = sys_tx_timestamps(s->fd)) < 0)
		log_info(SUB, "no kernel transmit timestamps (%s); using the send time", strerror(-err));
	s->tx_stamps = err == 0;
	s->rd.fd = s->fd;
	s->rd.cb = on_readable;
	err = ev_fd_add(&s->rd, EV_READ);
	if (err)
		goto out;
	s->pace.cb = NULL;
out:
	if (err) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void rtp_session_free(struct rtp_session *s)
{
	if (!s)
		return;
	ev_timer_cancel(&s->pace);
	ev_fd_del(&s->rd);
	close(s->fd);
	s->fd = -1;
	if (s->in_rx)
		s->freed = true;        /* freed when the receive loop unwinds */
	else
		free(s);
}

uint16_t rtp_local_port(const struct rtp_session *s)
{
	return s->port;
}

uint32_t rtp_ssrc(const struct rtp_session *s)
{
	return s->ssrc;
}

int rtp_set_peer(struct rtp_session *s, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err;

	if (!addr || port == 0)
		return -EINVAL;
	err = parse_addr(addr, port, &ss, &len);
	if (err)
		return err;
	if (ss.ss_family != s->family)
		return -EAFNOSUPPORT;
	if (connect(s->fd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	s->connected = true;
	return 0;
}

void rtp_set_rx(struct rtp_session *s, rtp_rx_cb cb, void *arg)
{
	s->rx_cb = cb;
	s->rx_arg = arg;
}

void rtp_set_srtp(struct rtp_session *s, struct msrtp *tx, struct msrtp *rx)
{
	s->srtp_tx = tx;
	s->srtp_rx = rx;
}

/* Build, protect and send packet s->next; false when the fill callback stops. */
static bool send_one(struct rtp_session *s)
{
	uint8_t payload[RTP_MAX_DATAGRAM], pkt[RTP_MAX_DATAGRAM + MSRTP_MAX_TRAILER];
	struct rtp_hdr h;
	struct tx_slot *slot;
	size_t len;
	int n, err;

	n = s->fill(s->fill_arg, s->next, payload, RTP_MAX_DATAGRAM - RTP_HDR_LEN - MSRTP_MAX_TRAILER);
	if (n < 0)
		return false;
	memset(&h, 0, sizeof(h));
	h.marker = s->next == 0;
	h.pt = s->pt;
	h.seq = (uint16_t)(s->seq0 + s->next);
	h.ts = s->ts0 + s->next * s->ts_step;
	h.ssrc = s->ssrc;
	n = rtp_build(pkt, RTP_MAX_DATAGRAM, &h, payload, (size_t)n);
	if (n < 0)
		return false;
	len = (size_t)n;
	if (s->srtp_tx) {
		err = msrtp_protect(s->srtp_tx, pkt, &len, sizeof(pkt));
		if (err) {
			s->st.tx_errors++;
			s->st.last_errno = -err;
			s->next++;
			return true;
		}
	}
	slot = &s->ring[h.seq % TX_RING];
	slot->seq = h.seq;
	slot->used = true;
	slot->kernel = false;
	slot->key = s->tx_key;
	slot->tx_ns = realtime_ns();
	if (send(s->fd, pkt, len, MSG_DONTWAIT) < 0) {
		s->st.tx_errors++;
		s->st.last_errno = errno;
		if (errno == ECONNREFUSED)
			s->st.rx_unreachable++;
		slot->used = false;
	} else {
		s->st.tx_packets++;
		s->tx_key++;
		tx_stamps_drain(s);
	}
	s->next++;
	return true;
}

static void finish(struct rtp_session *s)
{
	rtp_done_cb done = s->done;

	s->sending = false;
	ev_timer_cancel(&s->pace);
	if (done)
		done(s->fill_arg);
}

static void on_pace(struct ev_timer *t)
{
	struct rtp_session *s = container_of(t, struct rtp_session, pace);
	uint64_t now = ev_now_us(), due;
	int burst = 0;

	/* Absolute schedule: packet i is due at start + i * ptime, whenever we woke. */
	while (s->next < s->count) {
		due = s->start_us + (uint64_t)s->next * s->ptime_us;
		if (due > now)
			break;
		if (burst == TX_CATCHUP) {
			/* A long stall: skip what cannot be sent in time, keep the timeline. */
			s->next++;
			s->st.tx_late++;
			continue;
		}
		if (now - due > s->ptime_us / 2)
			s->st.tx_late++;
		if (!send_one(s)) {
			finish(s);
			return;
		}
		burst++;
	}
	if (s->next >= s->count) {
		finish(s);
		return;
	}
	due = s->start_us + (uint64_t)s->next * s->ptime_us;
	ev_timer_set_us(&s->pace, due - now);
}

int rtp_start(struct rtp_session *s, uint32_t count, rtp_fill_cb fill,
	      rtp_done_cb done, void *arg)
{
	if (!fill || count == 0)
		return -EINVAL;
	if (s->sending)
		return -EBUSY;
	if (!s->connected)
		return -ENOTCONN;
	s->sending = true;
	s->count = count;
	s->next = 0;
	s->fill = fill;
	s->done = done;
	s->fill_arg = arg;
	s->seq0 = (uint16_t)utl_random_range(0, 0xFFFF);
	s->ts0 = utl_random_range(0, UINT32_MAX);
	memset(s->ring, 0, sizeof(s->ring));
	s->pace.cb = on_pace;
	s->start_us = ev_now_us();
	ev_timer_set_us(&s->pace, 0);
	return 0;
}

void rtp_stop(struct rtp_session *s)
{
	s->sending = false;
	ev_timer_cancel(&s->pace);
}

bool rtp_sending(const struct rtp_session *s)
{
	return s->sending;
}

const struct rtp_stats *rtp_stats(const struct rtp_session *s)
{
	return &s->st;
}
