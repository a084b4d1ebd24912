/* test_diag_alg.c - the SIP ALG check over UDP and TCP (diag/chk_nat.c) against an in-process
 * registrar on 127.0.0.1 (or ::1) that answers OPTIONS with the request base64-encoded, as the
 * lab's Kamailio does; an "ALG" in it rewrites the socket's address in Via and Contact on the
 * chosen transports, as the kernel's SIP helper does (on IPv6 too, "[::1]": the kernel's does
 * not, a rewrite there must still be seen). An IPv6-only phone (the dummy system backend: an
 * interface without IPv4, "::1" global) probes the registrars' AAAA over IPv6; a dual-stack
 * phone keeps IPv4. On the virtual clock. */
#include "config.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
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
#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "diag/sipprobe.h"
#include "dnszone.h"
#include "system/dummy.h"
#include "system/system.h"

#define MAXC 4

struct tconn {
	struct ev_fd w;
	char buf[8192];
	size_t len;
};

static struct reg {
	struct ev_fd udp, lst;
	struct tconn conns[MAXC];
	unsigned port;
	bool alg[2];            /* rewrite on [0] UDP, [1] TCP */
	bool tcp_split;         /* send the TCP answer in two pieces with a 100 provisional first */
	bool v6;                /* the registrar is on ::1 (setup6) */
	unsigned udp_rx, tcp_rx;
	char seen[4096];        /* the last request as received */
} G;

/* Names for the IPv6 runs: AAAA only, and both families (the registrar on 127.0.0.1 only). */
static const struct dz_rr zone[] = {
	{ "sip6.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "sip46.dsa.test", T_A, 60, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL },
	{ "sip46.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
};

static size_t b64(const char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)in[i] << 16 | (i + 1 < n ? (uint32_t)(uint8_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? (uint8_t)in[i + 2] : 0);

		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* Replace the phone's address in the head (what a NAT's SIP helper does): every "127.0.0.1" by
 * "203.0.113.2", or on IPv6 every "[::1]" by "[2001:db8::2]". */
static size_t alg_rewrite(const char *in, size_t n, char *out)
{
	const char *eoh = strstr(in, "\r\n\r\n"), *from = G.v6 ? "[::1]" : "127.0.0.1";
	const char *to = G.v6 ? "[2001:db8::2]" : "203.0.113.2";
	size_t o = 0, fl = strlen(from), tl = strlen(to);

	for (size_t i = 0; i < n;) {
		if (eoh && in + i < eoh && !strncmp(in + i, from, fl)) {
			memcpy(out + o, to, tl);
			o += tl;
			i += fl;
		} else {
			out[o++] = in[i++];
		}
	}
	return o;
}

/* The answer to request req: 200 with the request as received, base64, as the body. */
static int answer(const char *req, size_t n, bool alg, char *out, size_t cap)
{
	static char seen[8192], enc[12000];
	const char *via = strstr(req, "\r\nVia: "), *end;
	size_t sl = alg ? alg_rewrite(req, n, seen) : (memcpy(seen, req, n), n);

	snprintf(G.seen, sizeof(G.seen), "%.*s", (int)n, req);
	size_t el = b64(seen, sl, enc);

	if (!via || !(end = strstr(via + 2, "\r\n")))
		return -1;
	return snprintf(out, cap, "SIP/2.0 200 OK\r\n%.*s\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
			"Content-Length: %zu\r\n\r\n%s", (int)(end - via - 2), via + 2, el, enc);
}

static void udp_read(struct ev_fd *w, unsigned ev)
{
	char in[4096], out[16384];
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	int m;

	while ((n = recvfrom(w->fd, in, sizeof(in) - 1, 0, (struct sockaddr *)&from, &fl)) > 0) {
		in[n] = '\0';
		G.udp_rx++;
		if ((m = answer(in, (size_t)n, G.alg[0], out, sizeof(out))) > 0)
			sendto(w->fd, out, (size_t)m, 0, (struct sockaddr *)&from, fl);
	}
}

static void tcp_read(struct ev_fd *w, unsigned ev)
{
	struct tconn *c = container_of(w, struct tconn, w);
	char out[16384];
	const char *eoh, *cl;
	ssize_t n = recv(w->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	int m;

	if (n <= 0) {
		ev_fd_del(w);
		close(w->fd);
		w->fd = -1;
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (!(eoh = strstr(c->buf, "\r\n\r\n")) || !(cl = strstr(c->buf, "Content-Length: ")) ||
	    c->len < (size_t)(eoh + 4 - c->buf) + (size_t)atoi(cl + 16))
		return;
	G.tcp_rx++;
	m = answer(c->buf, c->len, G.alg[1], out, sizeof(out));
	if (m <= 0)
		return;
	if (G.tcp_split) {
		static const char trying[] = "SIP/2.0 100 Trying\r\nVia: SIP/2.0/TCP x;branch=z9hG4bKother\r\n"
					     "Content-Length: 0\r\n\r\n";

		(void)send(w->fd, trying, sizeof(trying) - 1, 0);
		(void)send(w->fd, out, 40, 0);
		(void)send(w->fd, out + 40, (size_t)m - 40, 0);
	} else {
		(void)send(w->fd, out, (size_t)m, 0);
	}
	c->len = 0;
}

static void tcp_accept(struct ev_fd *w, unsigned ev)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	for (int i = 0; fd >= 0 && i < MAXC; i++) {
		if (G.conns[i].w.fd < 0) {
			G.conns[i].len = 0;
			G.conns[i].w.fd = fd;
			G.conns[i].w.cb = tcp_read;
			ev_fd_add(&G.conns[i].w, EV_READ);
			return;
		}
	}
	if (fd >= 0)
		close(fd);
}

/* The registrar's TCP and UDP sockets on the loopback address of family af. */
static int setup_af(int af)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr *a = af == AF_INET6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
	socklen_t al = af == AF_INET6 ? sizeof(a6) : sizeof(a4), l;
	int one = 1;

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(1000000);
	memset(&G, 0, sizeof(G));
	G.v6 = af == AF_INET6;
	for (int i = 0; i < MAXC; i++)
		G.conns[i].w.fd = -1;
	/* TCP and UDP on the same port number: the kernel's free TCP port may be
	 * taken for UDP by another test running beside this one; try another */
	for (int tries = 0; tries < 50; tries++) {
		a4.sin_port = a6.sin6_port = 0;
		G.lst.fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		setsockopt(G.lst.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		assert_int_equal(bind(G.lst.fd, a, al), 0);
		assert_int_equal(listen(G.lst.fd, 8), 0);
		l = al;
		getsockname(G.lst.fd, a, &l);
		G.port = ntohs(G.v6 ? a6.sin6_port : a4.sin_port);
		G.udp.fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (bind(G.udp.fd, a, al) == 0)
			break;
		close(G.udp.fd);
		close(G.lst.fd);
		G.udp.fd = G.lst.fd = -1;
	}
	assert_true(G.udp.fd >= 0);
	G.udp.cb = udp_read;
	G.lst.cb = tcp_accept;
	ev_fd_add(&G.udp, EV_READ);
	ev_fd_add(&G.lst, EV_READ);
	return 0;
}

static int setup(void **state)
{
	return setup_af(AF_INET);
}

/* The registrar on ::1 (setup6) or 127.0.0.1 (setup46), a DNS server with its names, the dummy
 * system backend. */
static int setup_dns(int af)
{
	static char servers[32];

	setup_af(af);
	if (dz_start(zone, ARRAY_SIZE(zone)))
		return -1;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", dz.port);
	setenv("DSA_DNS_SERVERS", servers, 1);
	sys_dummy_reset();
	sys_use(&sys_dummy_ops);
	return 0;
}

static int setup6(void **state)
{
	return setup_dns(AF_INET6);
}

static int setup46(void **state)
{
	return setup_dns(AF_INET);
}

static int teardown(void **state)
{
	for (int i = 0; i < MAXC; i++)
		if (G.conns[i].w.fd >= 0)
			close(G.conns[i].w.fd);
	close(G.udp.fd);
	close(G.lst.fd);
	if (dz.zone) {
		sys_use(NULL);
		unsetenv("DSA_DNS_SERVERS");
		dz_stop();
		dz.zone = NULL;
	}
	ev_done();
	return 0;
}

static bool done;

static void on_done(const struct diag_report *rep, void *arg)
{
	done = true;
}

/* The phone's addresses as the dummy backend reports them: "::1" global (DHCPv6), and
 * 127.0.0.1 when v4 (the interface: "lo", which has it; else a name without IPv4). */
static const char *plant_addrs(bool v4)
{
	struct sys_addr *a = sys_dummy_last.addrs;
	unsigned n = 0;

	memset(sys_dummy_last.addrs, 0, sizeof(sys_dummy_last.addrs));
	if (v4) {
		a[n].family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", a[n].addr);
		a[n].prefixlen = 8;
		a[n++].valid_s = 3600;
	}
	a[n].family = AF_INET6;
	inet_pton(AF_INET6, "::1", a[n].addr);
	a[n].prefixlen = 128;
	a[n].scope = RT_SCOPE_UNIVERSE;
	a[n++].valid_s = 7200;
	sys_dummy_last.naddrs = n;
	return v4 ? "lo" : "dsa-v6only0";
}

static const struct diag_result *run_alg_on(unsigned transports, const char *ifname, const char *host,
					    struct diag_runner **rp)
{
	struct diag_runner *r = diag_runner_new();
	struct diag_listener l = { NULL, on_done, NULL, NULL };
	struct diag_opts o;

	diag_opts_default(&o);
	utl_strlcpy(o.ifname, ifname, sizeof(o.ifname));
	utl_strlcpy(o.sip_host[0], host, sizeof(o.sip_host[0]));
	utl_strlcpy(o.sip_host[1], host, sizeof(o.sip_host[1]));
	o.sip_port = G.port;
	o.sip_transports = transports;
	o.checks = DIAG_CHECK_BIT(DIAG_C_SIP_ALG);
	done = false;
	assert_int_equal(diag_runner_start(r, &o, &l), 0);
	for (int i = 0; i < 2000 && !done; i++)
		ev_run_once(50);
	assert_true(done);
	*rp = r;
	return diag_report_result(diag_runner_report(r), DIAG_C_SIP_ALG);
}

static const struct diag_result *run_alg(unsigned transports, struct diag_runner **rp)
{
	return run_alg_on(transports, "lo", "127.0.0.1", rp);
}

static const char *val(const struct diag_result *r, const char *name)
{
	const char *v = diag_result_value(r, name);

	return v ? v : "";
}

/* No ALG anywhere, UDP and TCP probed: PASS naming both. */
static void test_clean_both(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res = run_alg(DIAG_SIP_UDP | DIAG_SIP_TCP, &r);
	char want[64];

	assert_int_equal(res->verdict, DIAG_PASS);
	snprintf(want, sizeof(want), "UDP %u and TCP %u", G.port, G.port);
	assert_non_null(strstr(res->advice, want));
	assert_true(strncmp(val(res, "rewritten_udp"), "none", 4) == 0);
	assert_true(strncmp(val(res, "rewritten_tcp"), "none", 4) == 0);
	assert_true(G.udp_rx >= 1 && G.tcp_rx >= 1);
	diag_runner_free(r);
}

/* The helper on TCP only, the phone on TCP: FAIL naming the fields over TCP; UDP not probed. */
static void test_alg_tcp_only(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res;
	char want[64];

	G.alg[1] = true;
	G.tcp_split = true; /* a provisional first, the final in pieces */
	res = run_alg(DIAG_SIP_TCP, &r);
	assert_int_equal(res->verdict, DIAG_FAIL);
	snprintf(want, sizeof(want), "Via,Contact over TCP %u", G.port);
	assert_non_null(strstr(res->advice, want));
	assert_null(strstr(res->advice, "UDP"));
	assert_int_equal(G.udp_rx, 0);
	assert_non_null(strstr(val(res, "rewritten_tcp"), "Via"));
	assert_string_equal(val(res, "rewritten_udp"), "");
	diag_runner_free(r);
}

/* The helper on TCP only, the phone on UDP: as today, no rewriting seen. */
static void test_alg_tcp_phone_udp(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res;

	G.alg[1] = true;
	res = run_alg(DIAG_SIP_UDP, &r);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_int_equal(G.tcp_rx, 0);
	diag_runner_free(r);
}

/* The helper on both, the phone on both and TLS: both named, TLS said not rewritable. */
static void test_alg_both(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res;
	char u[48], t[48];

	G.alg[0] = G.alg[1] = true;
	res = run_alg(DIAG_SIP_UDP | DIAG_SIP_TCP | DIAG_SIP_TLS, &r);
	assert_int_equal(res->verdict, DIAG_FAIL);
	snprintf(u, sizeof(u), "over UDP %u", G.port);
	snprintf(t, sizeof(t), "over TCP %u", G.port);
	assert_non_null(strstr(res->advice, u));
	assert_non_null(strstr(res->advice, t));
	assert_non_null(strstr(val(res, "tls"), "an ALG cannot rewrite it"));
	diag_runner_free(r);
}

/* TLS only: nothing an ALG could rewrite; SKIP saying so. */
static void test_tls_only(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res = run_alg(DIAG_SIP_TLS, &r);

	assert_int_equal(res->verdict, DIAG_SKIP);
	assert_non_null(strstr(res->advice, "TLS"));
	assert_int_equal(G.udp_rx + G.tcp_rx, 0);
	diag_runner_free(r);
}

/* An IPv6-only phone, a registrar with an AAAA record on ::1 that echoes what it got: both legs
 * go over IPv6 with RFC 5118 literals in Via and Contact and IP6 in the SDP; nothing is
 * rewritten: PASS "no SIP ALG" (with the old code: SKIP "no IPv4 address"). */
static void test_v6_clean(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res;
	char want[64];

	res = run_alg_on(DIAG_SIP_UDP | DIAG_SIP_TCP, plant_addrs(false), "sip6.dsa.test", &r);
	assert_int_equal(res->verdict, DIAG_PASS);
	snprintf(want, sizeof(want), "no SIP ALG on UDP %u and TCP %u", G.port, G.port);
	assert_non_null(strstr(res->advice, want));
	assert_string_equal(val(res, "fam"), "6");
	assert_true(strncmp(val(res, "rewritten_udp"), "none (sip6.dsa.test", 19) == 0);
	assert_true(strncmp(val(res, "rewritten_tcp"), "none (sip6.dsa.test", 19) == 0);
	assert_true(G.udp_rx >= 1 && G.tcp_rx >= 1);
	/* what arrived (the TCP leg's, answered last or first: both carry the same forms) */
	assert_non_null(strstr(G.seen, " [::1]:"));
	assert_non_null(strstr(G.seen, "Contact: <sip:selftest@[::1]:"));
	assert_non_null(strstr(G.seen, "\r\nc=IN IP6 ::1\r\n"));
	assert_non_null(strstr(G.seen, "\r\no=dsa-selftest 1 1 IN IP6 ::1\r\n"));
	diag_runner_free(r);
}

/* The same over IPv6 with a registrar path that rewrites the phone's IPv6 literal in Via and
 * Contact on both transports: FAIL naming the fields on each. */
static void test_v6_rewritten(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res;
	char u[48], t[48];

	G.alg[0] = G.alg[1] = true;
	res = run_alg_on(DIAG_SIP_UDP | DIAG_SIP_TCP, plant_addrs(false), "sip6.dsa.test", &r);
	assert_int_equal(res->verdict, DIAG_FAIL);
	snprintf(u, sizeof(u), "Via,Contact over UDP %u", G.port);
	snprintf(t, sizeof(t), "Via,Contact over TCP %u", G.port);
	assert_non_null(strstr(res->advice, u));
	assert_non_null(strstr(res->advice, t));
	assert_string_equal(val(res, "rewritten"), "Via,Contact,Via,Contact");
	diag_runner_free(r);
}

/* A dual-stack phone and a registrar name with A and AAAA: the probe stays on IPv4, where NAT
 * and ALGs are (the registrar listens on 127.0.0.1 only: over IPv6 nothing would answer). */
static void test_dual_stack_keeps_v4(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res;

	res = run_alg_on(DIAG_SIP_UDP | DIAG_SIP_TCP, plant_addrs(true), "sip46.dsa.test", &r);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_string_equal(val(res, "fam"), "4");
	assert_true(G.udp_rx >= 1 && G.tcp_rx >= 1);
	assert_non_null(strstr(G.seen, " 127.0.0.1:"));
	assert_null(strstr(G.seen, "IP6"));
	diag_runner_free(r);
}

/* The probe's text with an IPv6 socket address, and the comparison seeing a rewritten IPv6 Via. */
static void test_probe_text_v6(void **state)
{
	const struct sipprobe p = { "UDP", "[2001:db8::5]", 5062, "sip.example", 5060, "abc", "abc", true };
	char req[2048], got[2048], fields[64];
	char *v;
	int n = sipprobe_options(req, sizeof(req), &p);

	assert_true(n > 0);
	assert_non_null(strstr(req, "\r\nVia: SIP/2.0/UDP [2001:db8::5]:5062;branch=z9hG4bKabc;rport\r\n"));
	assert_non_null(strstr(req, "\r\nContact: <sip:selftest@[2001:db8::5]:5062;transport=udp>\r\n"));
	assert_non_null(strstr(req, "\r\nc=IN IP6 2001:db8::5\r\n"));
	assert_non_null(strstr(req, "\r\nm=audio 5064 RTP/AVP 0 8\r\n"));
	assert_null(strstr(req, "IP4"));
	assert_int_equal(sipprobe_compare(req, (size_t)n, req, (size_t)n, fields, sizeof(fields)), 0);
	memcpy(got, req, (size_t)n + 1);
	v = strstr(got, "[2001:db8::5]:5062;branch");
	memcpy(v, "[2001:db8::6]", 13);            /* the Via's address, same length */
	assert_int_equal(sipprobe_compare(req, (size_t)n, got, (size_t)n, fields, sizeof(fields)), 1);
	assert_string_equal(fields, "Via");
}

/* Stream framing of SIP messages (the TCP leg's parser of outside bytes). */
static void test_message_len(void **state)
{
	static const char two[] = "SIP/2.0 100 Trying\r\nl: 0\r\n\r\n"
				  "SIP/2.0 200 OK\r\nContent-Length:  5 \r\n\r\nhello";
	const size_t first = strlen("SIP/2.0 100 Trying\r\nl: 0\r\n\r\n");
	static const char *const bad[] = {
		"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n",
		"SIP/2.0 200 OK\r\nContent-Length: 12a\r\n\r\n",
		"SIP/2.0 200 OK\r\nContent-Length:\r\n\r\n",
		"SIP/2.0 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"SIP/2.0 200 OK\r\ncontent-length: 9000\r\n\r\n", /* above max_body */
	};

	assert_int_equal(sipprobe_message_len(two, sizeof(two) - 1, 8192), (long)first);
	assert_int_equal(sipprobe_message_len(two + first, sizeof(two) - 1 - first, 8192), (long)(sizeof(two) - 1 - first));
	/* every truncation of the second message: more bytes needed, never an error or a length */
	for (size_t n = 0; n < sizeof(two) - 1 - first; n++)
		assert_int_equal(sipprobe_message_len(two + first, n, 8192), 0);
	assert_int_equal(sipprobe_message_len("SIP/2.0 200 OK\r\nVia: x\r\n\r\nrest", 30, 8192), 26);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sipprobe_message_len(bad[i], strlen(bad[i]), 8192), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alg_tcp_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alg_tcp_phone_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alg_both, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_only, setup, teardown),
		cmocka_unit_test(test_message_len),
		cmocka_unit_test_setup_teardown(test_v6_clean, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_v6_rewritten, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_dual_stack_keeps_v4, setup46, teardown),
		cmocka_unit_test(test_probe_text_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
