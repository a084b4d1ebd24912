/* probe.c - UDP probe sockets, the reflector's reply header. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "diag/check.h"
#include "diag/famverdict.h"
#include "diag/probe.h"
#include "system/system.h"

int diag_udp_open(const void *dst, int dscp, int ttl)
{
	bool v6 = ((const struct sockaddr *)dst)->sa_family == AF_INET6;
	int lvl = v6 ? IPPROTO_IPV6 : IPPROTO_IP, one = 1, err;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* Kernel receive timestamps and the received TOS / traffic class make the figures
	 * better, but a kernel (or emulator) without them still gets a self-test: read time
	 * stands in for the timestamp, and the TOS reads as unknown (-1). */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	(void)setsockopt(fd, lvl, v6 ? IPV6_RECVTCLASS : IP_RECVTOS, &one, sizeof(one));
	if ((ttl > 0 && setsockopt(fd, lvl, v6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof(one)) < 0) ||
	    (ttl > 0 && setsockopt(fd, lvl, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl, sizeof(ttl)) < 0)) {
		err = -errno;
		goto out;
	}
	if (connect(fd, dst, v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
		err = -errno;
		goto out;
	}
	if (dscp >= 0 && (err = sys_set_dscp(fd, dscp)) < 0)
		goto out;
	return fd;
out:
	close(fd);
	return err;
}

ssize_t diag_udp_recv(int fd, void *buf, size_t cap, struct diag_rx *rx)
{
	union {
		char b[256];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	ssize_t n = recvmsg(fd, &mh, 0);

	rx->ts_ns = 0;
	rx->tos = -1;
	if (n < 0) {
		int err = errno == EWOULDBLOCK ? -EAGAIN : -errno;

		if (err != -EAGAIN) {
			/* an ICMP error: drop its queued copy, or the fd stays readable */
			char junk[64];

			mh.msg_controllen = sizeof(cb.b);
			iov.iov_base = junk;
			iov.iov_len = sizeof(junk);
			(void)recvmsg(fd, &mh, MSG_ERRQUEUE);
		}
		return err;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			rx->ts_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			rx->tos = *(unsigned char *)CMSG_DATA(c);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
			int tc;

			memcpy(&tc, CMSG_DATA(c), sizeof(tc));
			rx->tos = tc & 0xff;
		}
	}
	if (!rx->ts_ns)
		rx->ts_ns = diag_realtime_ns();
	return n;
}

static uint64_t rd_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int diag_refl_parse(const uint8_t *buf, size_t len, struct diag_refl *h)
{
	memset(h, 0, sizeof(*h));
	if (len < DIAG_REFL_HDR || memcmp(buf, "DSAR", 4) != 0 || buf[4] != 1)
		return -EBADMSG;
	h->tos = (buf[6] & 1) ? buf[5] : -1;
	h->orig_port = (buf[6] & 4) ? (unsigned)rd_be(buf + 8, 2) : 0;
	h->truncated = buf[6] & 8;
	h->delay_us = (uint32_t)rd_be(buf + 12, 4);
	h->rx_kernel = buf[6] & 2;
	h->rx_ns = (int64_t)rd_be(buf + 16, 8);
	h->tx_ns = (int64_t)rd_be(buf + 24, 8);
	h->payload = buf + DIAG_REFL_HDR;
	h->plen = len - DIAG_REFL_HDR;
	return 0;
}

const char *diag_dscp_name(int dscp, char *buf, size_t cap)
{
	if (dscp == 46)
		snprintf(buf, cap, "46/EF");
	else if (dscp == 44)
		snprintf(buf, cap, "44/VOICE-ADMIT");
	else if (dscp >= 0 && dscp <= 63 && dscp % 8 == 0)
		snprintf(buf, cap, "%d/CS%d", dscp, dscp / 8);
	else if (dscp >= 10 && dscp <= 38 && dscp % 2 == 0 && (dscp % 8) >= 2 && (dscp % 8) <= 6)
		snprintf(buf, cap, "%d/AF%d%d", dscp, dscp / 8, (dscp % 8) / 2);
	else
		snprintf(buf, cap, "%d", dscp);
	return buf;
}

int64_t diag_refl_overshoot_ns(const struct diag_refl *h)
{
	int64_t o;

	/* the reflector's numbers: before a subtraction, clamp to what cannot overflow (times
	 * after 1970, sent after received) */
	if (h->rx_ns <= 0 || h->tx_ns <= 0 || h->tx_ns < h->rx_ns)
		return 0;
	o = h->tx_ns - h->rx_ns - (int64_t)h->delay_us * 1000;
	return o > 0 && o < 10 * 1000000000LL ? o : 0;
}

int64_t diag_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void diag_sin(struct sockaddr_in *sin, struct in_addr a, unsigned port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = a;
	sin->sin_port = htons((uint16_t)port);
}

int diag_dst(const struct diag_ctx *x, int h, unsigned port, struct sockaddr_in6 *dst)
{
	memset(dst, 0, sizeof(*dst));
	if (x->have_addr && x->resolved[h]) {
		diag_sin((struct sockaddr_in *)(void *)dst, x->addr[h], port);
		return 4;
	}
	if (x->v6 != DIAG_V6_GLOBAL || !x->resolved6[h])
		return 0;
	dst->sin6_family = AF_INET6;
	dst->sin6_addr = x->addr6[h];
	dst->sin6_port = htons((uint16_t)port);
	return 6;
}

const char *diag_ntoa(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

bool diag_ip_private(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) == 10 || (h >> 20) == (172u << 4 | 1) || (h >> 16) == (192u << 8 | 168) ||
	       diag_ip_cgnat(a);
}

bool diag_ip_cgnat(struct in_addr a)
{
	return (ntohl(a.s_addr) & 0xffc00000u) == 0x64400000u;
}

const char *diag_host_str(const void *sa, char *buf)
{
	const struct sockaddr_in6 *a = sa;

	if (a->sin6_family != AF_INET6)
		return diag_ntoa(((const struct sockaddr_in *)sa)->sin_addr, buf);
	buf[0] = '[';
	inet_ntop(AF_INET6, &a->sin6_addr, buf + 1, INET6_ADDRSTRLEN);
	return strcat(buf, "]");
}

int diag_local_host(int fd, char *buf, unsigned *port)
{
	struct sockaddr_in6 a;
	socklen_t l = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		return -errno;
	diag_host_str(&a, buf);
	*port = ntohs(a.sin6_port);   /* sin_port: the same place in a sockaddr_in */
	return 0;
}

struct diag_bgt_size diag_bgt_sizes[2] = { { 48, 100 }, { 96, 4 } };

int diag_take(struct diag_check *c, int h)
{
	struct budget *b = &c->ctx->bgt[h];
	const struct diag_bgt_size *z = &diag_bgt_sizes[h == DIAG_H_REFLECTOR];

	if (!b->burst) {
		/* full at the server's first probe (the rest of *b is zero: calloc'd run); the
		 * reflector's refill scales with the voice stream's packet interval (20 ms: as
		 * sized; 10 ms: twice as fast; at most one token a ms) */
		b->burst = z->burst;
		b->interval_ms = h == DIAG_H_REFLECTOR ? z->interval_ms * c->ctx->opts->packet_ms / 20 : z->interval_ms;
		if (!b->interval_ms)
			b->interval_ms = 1;
	}
	if (bgt_take(b, ev_now_ms()) == 0)
		return 0;
	c->refused++;
	return -EDQUOT;
}

ssize_t diag_send(struct diag_check *c, int h, int fd, const void *buf, size_t len, int flags)
{
	ssize_t n;

	if (diag_take(c, h) < 0)
		return -EDQUOT;
	n = send(fd, buf, len, flags);
	return n < 0 ? -errno : n;
}

const char *diag_strerror(int err)
{
	return err == -EDQUOT ? "held back by the send budget" : strerror(-err);
}

uint32_t diag_jitter(uint32_t ms)
{
	return utl_random_range(ms - ms / 5, ms + ms / 5);
}

void diag_budget_note(struct diag_check *c)
{
	struct diag_result *r = &c->res;
	size_t l = strlen(r->advice);

	if (!c->refused)
		return;
	/* what the check concluded rests on probes that never left: not a verdict on the network */
	diag_value_add(r, "budget_refused", "", "%u", c->refused);
	if (r->verdict == DIAG_FAIL || r->verdict == DIAG_WARN)
		r->verdict = DIAG_INCONCLUSIVE;
	snprintf(r->advice + l, sizeof(r->advice) - l, "; %u probes held back by the send budget, not lost",
		 c->refused);
}
