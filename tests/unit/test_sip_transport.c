/* test_sip_transport.c - STUN encoding/parsing and the TCP transport on the
 * real loop (virtual clock) against an in-process peer: split frames, pongs, pings, caps,
 * connection loss, refused connects. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/ev.h"
#include "common/stun.h"
#include "sip/transport.h"

static const unsigned char tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* A Binding success response (common/stun.h) mapping to ip:port. */
static size_t stun_response(unsigned char *b, uint32_t ip, uint16_t port)
{
	struct sockaddr_storage m;
	struct sockaddr_in *sin = (struct sockaddr_in *)&m;

	memset(&m, 0, sizeof(m));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(ip);
	sin->sin_port = htons(port);
	return stun_build_response(b, 64, tid, &m, NULL, NULL, false);
}

/* ---------------------------------------------------------------- TCP */

struct peer {
	int lfd, cfd;
	int msgs, pongs, errors, ups;
	char last[2048];
	char why[256];
	int err;
};

static struct peer P;

static void cb_up(struct sip_tp *tp, void *arg) { P.ups++; }
static void cb_msg(struct sip_tp *tp, const char *buf, size_t len, const struct sockaddr_storage *from, void *arg)
{
	P.msgs++;
	snprintf(P.last, sizeof(P.last), "%.*s", (int)len, buf);
}
static void cb_pong(struct sip_tp *tp, const struct sockaddr_storage *mapped, void *arg) { P.pongs++; }
static void cb_error(struct sip_tp *tp, int err, const char *why, void *arg)
{
	P.errors++;
	P.err = err;
	snprintf(P.why, sizeof(P.why), "%s", why);
}

static const struct sip_tp_cbs cbs = { cb_up, cb_msg, cb_pong, cb_error };

/* The loop on virtual time: spin() bounds are virtual ms, no test sleeps. */
static void loop_init(void)
{
	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(1000000);
}

static void spin(int ms, int *watch, int want)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;

	while (ev_now_ms() < end && (!watch || *watch < want))
		ev_run_once(10);
}

static struct sip_tp *open_tcp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct sip_tp_opts o = { .kind = SIP_TP_TCP, .dscp = 26 };
	struct sip_tp *tp = NULL;

	memset(&P, 0, sizeof(P));
	P.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(P.lfd >= 0);
	assert_int_equal(bind(P.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(P.lfd, 1), 0);
	assert_int_equal(getsockname(P.lfd, (struct sockaddr *)&a, &al), 0);
	memcpy(&o.peer, &a, sizeof(a));
	assert_int_equal(sip_tp_open(&o, &cbs, NULL, &tp), 0);
	spin(1000, &P.ups, 1);
	assert_int_equal(P.ups, 1);
	P.cfd = accept(P.lfd, NULL, NULL);
	assert_true(P.cfd >= 0);
	return tp;
}

static void test_tcp_frames(void **state)
{
	static const char m1[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
		"Content-Length: 5\r\n\r\nhello";
	struct sip_tp *tp;
	char buf[64];

	loop_init();
	tp = open_tcp();
	/* one message in three pieces, then a pong, then a message and a pong in one write */
	assert_int_equal(write(P.cfd, m1, 10), 10);
	spin(50, NULL, 0);
	assert_int_equal(P.msgs, 0);
	assert_int_equal(write(P.cfd, m1 + 10, 50), 50);
	spin(50, NULL, 0);
	assert_int_equal(P.msgs, 0);
	assert_int_equal(write(P.cfd, m1 + 60, sizeof(m1) - 1 - 60), (ssize_t)(sizeof(m1) - 1 - 60));
	spin(500, &P.msgs, 1);
	assert_int_equal(P.msgs, 1);
	assert_string_equal(P.last, m1);
	assert_int_equal(write(P.cfd, "\r\n", 2), 2);
	spin(500, &P.pongs, 1);
	assert_int_equal(P.pongs, 1);
	snprintf(buf, sizeof(buf), "%s", "\r\n\r\n");          /* a ping from the peer: we pong */
	assert_int_equal(write(P.cfd, buf, 4), 4);
	spin(100, NULL, 0);
	assert_int_equal(read(P.cfd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\r\n", 2);
	/* our ping goes out as CRLFCRLF, our messages as written */
	assert_int_equal(sip_tp_ping(tp, false), 0);
	assert_int_equal(sip_tp_send(tp, "OPTIONS", 7), 0);
	spin(100, NULL, 0);
	assert_int_equal(read(P.cfd, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "\r\n\r\nOPTIONS", 11);
	assert_int_equal(P.errors, 0);
	/* the registrar closes: reported once, in words */
	close(P.cfd);
	spin(500, &P.errors, 1);
	assert_int_equal(P.errors, 1);
	assert_string_equal(P.why, "registrar closed the connection");
	assert_int_equal(sip_tp_send(tp, "x", 1), -ENOTCONN);
	sip_tp_close(tp);
	close(P.lfd);
	ev_done();
}

static void test_tcp_hostile(void **state)
{
	struct sip_tp *tp;
	char *big;

	loop_init();
	tp = open_tcp();
	/* headers that never end: cut off at the cap, not buffered forever */
	big = malloc(20000);
	memset(big, 'A', 20000);
	memcpy(big, "SIP/2.0 200 OK\r\nX: ", 19);
	assert_int_equal(write(P.cfd, big, 20000), 20000);
	spin(1000, &P.errors, 1);
	assert_int_equal(P.errors, 1);
	assert_non_null(strstr(P.why, "broken message"));
	assert_int_equal(P.msgs, 0);
	sip_tp_close(tp);
	close(P.cfd);
	close(P.lfd);
	free(big);

	/* a stream message without Content-Length */
	tp = open_tcp();
	assert_int_equal(write(P.cfd, "SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 26), 26);
	spin(1000, &P.errors, 1);
	assert_int_equal(P.errors, 1);
	assert_non_null(strstr(P.why, "Content-Length"));
	sip_tp_close(tp);
	close(P.cfd);
	close(P.lfd);
	ev_done();
}

static void test_tcp_refused(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct sip_tp_opts o = { .kind = SIP_TP_TCP, .dscp = 26 };
	struct sip_tp *tp = NULL;
	int fd;

	loop_init();
	memset(&P, 0, sizeof(P));
	/* a port nobody listens on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	memcpy(&o.peer, &a, sizeof(a));
	assert_int_equal(sip_tp_open(&o, &cbs, NULL, &tp), 0);
	assert_int_equal(sip_tp_send(tp, "queued", 6), 0);    /* queued until connected */
	spin(1000, &P.errors, 1);
	assert_int_equal(P.errors, 1);
	assert_int_equal(P.ups, 0);
	assert_non_null(strstr(P.why, "Connection refused"));
	sip_tp_close(tp);
	ev_done();
}

static void test_udp_stun_roundtrip(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct sip_tp_opts o = { .kind = SIP_TP_UDP, .dscp = 26 };
	struct sip_tp *tp = NULL;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	unsigned char b[64], resp[64];
	int srv;
	ssize_t n;
	size_t rl;

	loop_init();
	memset(&P, 0, sizeof(P));
	srv = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(srv, (struct sockaddr *)&a, &al), 0);
	memcpy(&o.peer, &a, sizeof(a));
	assert_int_equal(sip_tp_open(&o, &cbs, NULL, &tp), 0);
	spin(200, &P.ups, 1);
	assert_int_equal(P.ups, 1);
	assert_int_equal(sip_tp_ping(tp, true), 0);
	n = recvfrom(srv, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
	assert_int_equal(n, 20);
	/* answer with the request's transaction id and the source we saw */
	rl = stun_response(resp, ntohl(from.sin_addr.s_addr), ntohs(from.sin_port));
	memcpy(resp + 8, b + 8, 12);
	/* a forged answer (other transaction id) first: ignored */
	resp[8] ^= 0xff;
	assert_true(sendto(srv, resp, rl, 0, (struct sockaddr *)&from, fl) > 0);
	spin(100, NULL, 0);
	assert_int_equal(P.pongs, 0);
	resp[8] ^= 0xff;
	assert_true(sendto(srv, resp, rl, 0, (struct sockaddr *)&from, fl) > 0);
	spin(500, &P.pongs, 1);
	assert_int_equal(P.pongs, 1);
	/* CRLF keepalive on UDP */
	assert_int_equal(sip_tp_ping(tp, false), 0);
	assert_int_equal(recv(srv, b, sizeof(b), 0), 4);
	sip_tp_close(tp);
	close(srv);
	ev_done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_frames),
		cmocka_unit_test(test_tcp_hostile),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_udp_stun_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
