/*
 * reflector: the lab's UDP reflector for RTP-port probes (dialstack-agent test lab).
 *
 * It listens on one UDP socket and sends every datagram back to its sender,
 * prefixed with a 32-byte header that says what the reflector saw:
 *
 *   offset size  field
 *    0      4    magic "DSAR"
 *    4      1    version (1)
 *    5      1    TOS byte of the received datagram (DSCP = tos >> 2, ECN = tos & 3)
 *    6      1    flags: bit0 TOS valid (IP_RECVTOS)
 *                       bit1 receive time is the kernel's (SO_TIMESTAMPNS), else read time
 *                       bit2 original destination port valid (see below)
 *                       bit3 echoed payload was truncated
 *    7      1    reserved, 0
 *    8      2    original destination port (big endian), 0 if unknown
 *   10      2    reserved, 0
 *   12      4    delay applied before the reply, microseconds (big endian)
 *   16      8    receive time, nanoseconds since the Unix epoch (big endian)
 *   24      8    send time of the reply, nanoseconds since the Unix epoch (big endian)
 *   32      n    the received payload, unchanged (cut at MAX_ECHO bytes, flag bit3)
 *
 * The reply is sent with the same TOS byte that was received, so DSCP handling on the
 * way back can be seen by the prober too.
 *
 * Original destination port: the lab's platform namespace DNATs UDP 10000-20000 of the
 * reflector's address to this one socket, and marks each such packet with its original
 * destination port (nft `meta mark set udp dport`).  The reflector reads the mark with
 * SO_RCVMARK (Linux >= 6.1); replies leave from the original port through conntrack.
 * nft stores the port's two bytes in network order at the mark's low address, which on a
 * little-endian host reads as the byte-swapped number: --mark-order net (default) swaps
 * them back; --mark-order host takes the mark as the port number.
 *
 * Delay (there is no netem on the lab kernel, so known delay/jitter comes from here):
 *   --delay-pattern 20,40,20,60   delays the n-th reply by pattern[n % len] ms (cyclic);
 *   a datagram whose payload starts with "DSAD" followed by a 4-byte big-endian number of
 *   milliseconds is delayed by that much instead (per-request delay, e.g. for testing
 *   NAT mapping timeouts).  Delays are capped at MAX_DELAY_MS.  Pending replies are kept
 *   in a fixed-size heap (MAX_PENDING); when it is full, new datagrams are dropped and
 *   counted.  Nothing is allocated per datagram: memory is bounded.
 *
 * IPv4 or IPv6, by the --bind address (an IPv6 one: IPV6_RECVTCLASS / IPV6_TCLASS for the
 * traffic class, reported and sent back in the TOS byte's place; the lab runs one reflector
 * per family).
 *
 * Usage: reflector [--bind ADDR] [--port PORT] [--delay-pattern MS,MS,...] [--pid-file F]
 * SIGUSR1 prints counters to stderr; SIGTERM/SIGINT exit cleanly.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_RCVMARK
#define SO_RCVMARK 75
#endif

#define HDR_LEN 32
#define MAX_ECHO 1400
#define MAX_PENDING 1024
#define MAX_PATTERN 64
#define MAX_DELAY_MS 120000u

struct pending {
	uint64_t due_ns; /* CLOCK_MONOTONIC */
	uint64_t seq;    /* FIFO order for equal due times */
	struct sockaddr_storage to;
	socklen_t tolen;
	int tos;
	size_t len;
	unsigned char buf[HDR_LEN + MAX_ECHO];
};

static struct pending slots[MAX_PENDING];
static struct pending *heap[MAX_PENDING];
static struct pending *free_list[MAX_PENDING];
static size_t heap_len, free_len;
static volatile sig_atomic_t stop_flag, stats_flag;
static unsigned long long n_rx, n_tx, n_drop_full, n_err;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stats_flag = 1;
	else
		stop_flag = 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static int before(const struct pending *a, const struct pending *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_push(struct pending *p)
{
	size_t i = heap_len++;
	heap[i] = p;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(heap[i], heap[parent]))
			break;
		struct pending *t = heap[i];
		heap[i] = heap[parent];
		heap[parent] = t;
		i = parent;
	}
}

static struct pending *heap_pop(void)
{
	struct pending *top = heap[0];
	heap[0] = heap[--heap_len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < heap_len && before(heap[l], heap[m]))
			m = l;
		if (r < heap_len && before(heap[r], heap[m]))
			m = r;
		if (m == i)
			break;
		struct pending *t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
	return top;
}

static int parse_pattern(const char *s, unsigned *pat, size_t *n)
{
	*n = 0;
	while (*s) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || errno || v > MAX_DELAY_MS || *n >= MAX_PATTERN)
			return -1;
		pat[(*n)++] = (unsigned)v;
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return *n ? 0 : -1;
}

static void send_one(int fd, struct pending *p)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = p->buf, .iov_len = p->len };
	struct msghdr mh = {
		.msg_name = &p->to,
		.msg_namelen = p->tolen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	if (p->tos >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = p->to.ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
		c->cmsg_type = p->to.ss_family == AF_INET6 ? IPV6_TCLASS : IP_TOS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &p->tos, sizeof(int));
	}
	put64(p->buf + 24, now_ns(CLOCK_REALTIME));
	if (sendmsg(fd, &mh, 0) < 0)
		n_err++;
	else
		n_tx++;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: reflector [--bind ADDR] [--port PORT] [--delay-pattern MS,MS,...] "
		   "[--mark-order net|host] [--pid-file FILE]\n");
}

int main(int argc, char **argv)
{
	const char *bind_addr = "0.0.0.0", *pid_file = NULL;
	unsigned port = 7, pattern[MAX_PATTERN];
	size_t pattern_len = 0, pattern_pos = 0;
	int mark_swapped = 1;
	uint64_t seq = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--bind") && v) {
			bind_addr = v;
			i++;
		} else if (!strcmp(a, "--port") && v) {
			char *end;
			unsigned long p = strtoul(v, &end, 10);
			if (*end || p == 0 || p > 65535) {
				fprintf(stderr, "reflector: bad port '%s'\n", v);
				return 2;
			}
			port = (unsigned)p;
			i++;
		} else if (!strcmp(a, "--delay-pattern") && v) {
			if (parse_pattern(v, pattern, &pattern_len) < 0) {
				fprintf(stderr, "reflector: bad delay pattern '%s' (want MS,MS,... up to %d "
						"values, each <= %u)\n", v, MAX_PATTERN, MAX_DELAY_MS);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--mark-order") && v) {
			if (!strcmp(v, "net"))
				mark_swapped = 1;
			else if (!strcmp(v, "host"))
				mark_swapped = 0;
			else {
				fprintf(stderr, "reflector: --mark-order net|host\n");
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--pid-file") && v) {
			pid_file = v;
			i++;
		} else {
			usage(stderr);
			return 2;
		}
	}

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	int v6 = 0;
	if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
		if (inet_pton(AF_INET6, bind_addr, &sa6.sin6_addr) != 1) {
			fprintf(stderr, "reflector: bad bind address '%s' (want an IPv4 or IPv6 address)\n",
				bind_addr);
			return 2;
		}
		v6 = 1;
	}
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("reflector: socket");
		return 1;
	}
	int one = 1;
	if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		perror("reflector: IPV6_V6ONLY");
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVTCLASS : IP_RECVTOS, &one,
		       sizeof(one)) < 0)
		perror("reflector: IP_RECVTOS / IPV6_RECVTCLASS (TOS will be reported as unknown)");
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		perror("reflector: SO_TIMESTAMPNS (read time used instead)");
	int have_mark = setsockopt(fd, SOL_SOCKET, SO_RCVMARK, &one, sizeof(one)) == 0;
	int rcvbuf = 1 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (v6 ? bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) < 0 : bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "reflector: bind %s:%u: %s\n", bind_addr, port, strerror(errno));
		return 1;
	}

	struct sigaction act;
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	sigemptyset(&act.sa_mask);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGUSR1, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pid_file) {
		FILE *pf = fopen(pid_file, "w");
		if (!pf || fprintf(pf, "%ld\n", (long)getpid()) < 0 || fclose(pf) != 0) {
			fprintf(stderr, "reflector: cannot write pid file %s\n", pid_file);
			return 1;
		}
	}
	for (size_t i = 0; i < MAX_PENDING; i++)
		free_list[free_len++] = &slots[i];

	fprintf(stderr, "reflector: listening on %s:%u, %zu-step delay pattern, mark %s\n", bind_addr,
		port, pattern_len, have_mark ? "on" : "unavailable");

	static unsigned char rx[65536];
	while (!stop_flag) {
		if (stats_flag) {
			stats_flag = 0;
			fprintf(stderr, "reflector: rx %llu tx %llu dropped(full) %llu errors %llu pending %zu\n",
				n_rx, n_tx, n_drop_full, n_err, heap_len);
		}
		/* send every reply that is due */
		uint64_t mono = now_ns(CLOCK_MONOTONIC);
		while (heap_len && heap[0]->due_ns <= mono) {
			struct pending *p = heap_pop();
			send_one(fd, p);
			free_list[free_len++] = p;
		}
		/* ppoll: nanosecond timeout, so replies leave within a fraction of a ms of their due time */
		struct timespec tmo, *tsp = NULL;
		if (heap_len) {
			uint64_t wait = heap[0]->due_ns - mono;
			tmo.tv_sec = (time_t)(wait / 1000000000ull);
			tmo.tv_nsec = (long)(wait % 1000000000ull);
			tsp = &tmo;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = ppoll(&pfd, 1, tsp, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("reflector: ppoll");
			return 1;
		}
		if (r == 0 || !(pfd.revents & POLLIN))
			continue;

		/* drain what is queued without blocking, bounded per round */
		for (int burst = 0; burst < 256; burst++) {
			struct sockaddr_storage from;
			char cbuf[512];
			struct iovec iov = { .iov_base = rx, .iov_len = sizeof(rx) };
			struct msghdr mh = {
				.msg_name = &from,
				.msg_namelen = sizeof(from),
				.msg_iov = &iov,
				.msg_iovlen = 1,
				.msg_control = cbuf,
				.msg_controllen = sizeof(cbuf),
			};
			ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
			if (n < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
					n_err++;
				break;
			}
			n_rx++;
			if (from.ss_family != (v6 ? AF_INET6 : AF_INET) ||
			    mh.msg_namelen < (v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)))
				continue;
			int tos = -1;
			uint32_t mark = 0;
			int have_ts = 0, have_pmark = 0;
			uint64_t rx_ns = 0;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS &&
				    c->cmsg_len >= CMSG_LEN(1)) {
					tos = *(unsigned char *)CMSG_DATA(c);
				} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
					   c->cmsg_len >= CMSG_LEN(sizeof(int))) {
					int tc;
					memcpy(&tc, CMSG_DATA(c), sizeof(tc));
					tos = tc & 0xff;
				} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
					   c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
					struct timespec ts;
					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					rx_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
					have_ts = 1;
				} else if (c->cmsg_level == SOL_SOCKET &&
					   (c->cmsg_type == SO_MARK || c->cmsg_type == SO_RCVMARK) &&
					   c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
					/* the kernel reports the mark as SO_MARK */
					memcpy(&mark, CMSG_DATA(c), sizeof(mark));
					have_pmark = 1;
				}
			}
			if (!have_ts)
				rx_ns = now_ns(CLOCK_REALTIME);
			if (!free_len) {
				n_drop_full++;
				continue;
			}

			uint32_t delay_ms = 0;
			if (n >= 8 && !memcmp(rx, "DSAD", 4)) {
				delay_ms = (uint32_t)rx[4] << 24 | (uint32_t)rx[5] << 16 |
					   (uint32_t)rx[6] << 8 | rx[7];
			} else if (pattern_len) {
				delay_ms = pattern[pattern_pos];
				pattern_pos = (pattern_pos + 1) % pattern_len;
			}
			if (delay_ms > MAX_DELAY_MS)
				delay_ms = MAX_DELAY_MS;

			struct pending *p = free_list[--free_len];
			size_t echo = (size_t)n > MAX_ECHO ? MAX_ECHO : (size_t)n;
			unsigned flags = 0;
			if (tos >= 0)
				flags |= 1;
			if (have_ts)
				flags |= 2;
			/* The lab's nft rule copies the port's two bytes, in network order, into the
			 * mark's lowest-addressed bytes; --mark-order host takes the mark as a number. */
			if (have_pmark && mark_swapped)
				mark = ((mark & 0xffu) << 8) | ((mark >> 8) & 0xffu);
			if (have_pmark && mark > 0 && mark <= 65535)
				flags |= 4;
			if ((size_t)n > MAX_ECHO)
				flags |= 8;
			memset(p->buf, 0, HDR_LEN);
			memcpy(p->buf, "DSAR", 4);
			p->buf[4] = 1;
			p->buf[5] = (unsigned char)(tos >= 0 ? tos : 0);
			p->buf[6] = (unsigned char)flags;
			put16(p->buf + 8, (flags & 4) ? (uint16_t)mark : 0);
			put32(p->buf + 12, delay_ms * 1000u);
			put64(p->buf + 16, rx_ns);
			memcpy(p->buf + HDR_LEN, rx, echo);
			p->len = HDR_LEN + echo;
			p->to = from;
			p->tolen = mh.msg_namelen;
			p->tos = tos;
			p->seq = seq++;
			p->due_ns = now_ns(CLOCK_MONOTONIC) + (uint64_t)delay_ms * 1000000ull;
			heap_push(p);
		}
	}
	fprintf(stderr, "reflector: exiting: rx %llu tx %llu dropped(full) %llu errors %llu\n", n_rx,
		n_tx, n_drop_full, n_err);
	if (pid_file)
		unlink(pid_file);
	return 0;
}
