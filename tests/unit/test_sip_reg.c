/* test_sip_reg.c - the registration client on the loop, in virtual time
 * (ev_clock_virtual: time moves only when the loop is idle, so counts and
 * instants are exact), against an in-process UDP registrar on 127.0.0.1:
 * option validation, RFC 3261 Timer E/F on UDP, Retry-After honoured, 423,
 * digest once per nonce, the self-test header dropped to stay under the
 * MTU, bounded unregistration, keepalives, the REGISTER budget, the refresh
 * window, requests checked before they are answered, and a table of hostile
 * registrars (10 simulated minutes each, then sane). */
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
#include "sip/msg.h"
#include "sip/reg.h"

#define MAXREQ 64
#define T0_US 1000000000000ull   /* virtual clock start */

/* The fake registrar: records every request, answers per a script. A 200 to
 * a REGISTER echoes the request's Contact with its Expires, as a registrar
 * that keeps our binding does, unless the script's extra holds a Contact or
 * F.no_echo is set. */
struct fake {
	int fd;
	int port;
	struct ev_fd w;
	int n;                     /* requests recorded (at most MAXREQ kept) */
	int registers;             /* REGISTER packets */
	int register_txns;         /* distinct REGISTER branches */
	int options, stun;
	char last_branch[80];
	uint64_t at[MAXREQ];
	char req[MAXREQ][2048];
	struct sockaddr_in from;
	bool no_echo;
	/* answer(i) returns the status to send for request i (0: stay silent) */
	int (*answer)(int i, const struct sip_msg *m, char *extra, size_t size);
};

static struct fake F;
static enum sip_reg_state last_state;
static char last_error[256];
static int stop_done;

/* What a registrar that keeps the binding puts in its 2xx: our Contact, expires = ours. */
static void echo_contact(const char *req, char *extra, size_t size)
{
	const char *c = strstr(req, "\r\nContact: <"), *e = strstr(req, "\r\nExpires: "), *end;
	size_t used = strlen(extra);

	if (!c || strstr(extra, "Contact:") || !(end = strchr(c + 12, '>')))
		return;
	snprintf(extra + used, size - used, "Contact: %.*s;expires=%d\r\n", (int)(end - c - 10), c + 11,
		 e ? atoi(e + 11) : 600);
}

static int fake_handle(const char *buf, size_t n, char *out_extra, size_t size, struct sip_msg *m,
		       int *code)
{
	const char *why;
	int i = F.n;

	if (i < MAXREQ) {
		F.at[i] = ev_now_ms();
		memcpy(F.req[i], buf, n < sizeof(F.req[0]) ? n + 1 : sizeof(F.req[0]));
		F.req[i][sizeof(F.req[0]) - 1] = '\0';
	}
	if (sip_msg_parse(buf, n, false, m, &why) != 0)
		return -1;
	if (!strcmp(m->method, "REGISTER")) {
		F.registers++;
		if (strcmp(m->via_branch, F.last_branch)) {
			F.register_txns++;
			snprintf(F.last_branch, sizeof(F.last_branch), "%s", m->via_branch);
		}
	} else if (!strcmp(m->method, "OPTIONS")) {
		F.options++;
	}
	*code = F.answer ? F.answer(i, m, out_extra, size) : 0;
	if (*code == 200 && !strcmp(m->method, "REGISTER") && !F.no_echo)
		echo_contact(buf, out_extra, size);
	F.n++;
	return 0;
}

static void fake_read(struct ev_fd *w, unsigned ev)
{
	char buf[SIP_MSG_MAX + 1];
	socklen_t fl = sizeof(F.from);
	ssize_t n = recvfrom(F.fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&F.from, &fl);
	struct sip_msg m;
	char extra[1024] = "", *out;
	size_t len;
	int code;

	if (n <= 0)
		return;
	buf[n] = '\0';
	if (n < 20 || buf[0] == 0 || buf[0] == 1) {
		F.stun++;
		return;     /* STUN: not answered */
	}
	if (fake_handle(buf, (size_t)n, extra, sizeof(extra), &m, &code) != 0)
		return;
	if (code && sip_msg_build_response(&m, code, "X", "ft", extra, &out, &len) == 0) {
		sendto(F.fd, out, len, 0, (struct sockaddr *)&F.from, fl);
		free(out);
	}
	sip_msg_free(&m);
}

static void fake_open(int (*answer)(int, const struct sip_msg *, char *, size_t))
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	memset(&F, 0, sizeof(F));
	F.answer = answer;
	F.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(F.fd >= 0);
	assert_int_equal(bind(F.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(F.fd, (struct sockaddr *)&a, &al), 0);
	F.port = ntohs(a.sin_port);
	F.w.fd = F.fd;
	F.w.cb = fake_read;
	assert_int_equal(ev_fd_add(&F.w, EV_READ), 0);
}

static void fake_close(void)
{
	ev_fd_del(&F.w);
	close(F.fd);
}

static void on_state(struct sip_reg *r, const struct sip_reg_status *st, void *arg)
{
	last_state = st->state;
	snprintf(last_error, sizeof(last_error), "%s", st->last_error);
}

static void on_stop(struct sip_reg *r, void *arg)
{
	stop_done++;
}

static void opts(struct sip_reg_opts *o)
{
	static char host[] = "127.0.0.1";

	sip_reg_opts_init(o);
	o->user = "100";
	o->password = "pw";
	o->domain = "dsa.test";
	o->mac = "00:11:22:aa:bb:cc";
	o->n_registrars = 1;
	o->registrars[0].name = "east";
	o->registrars[0].host = host;
	o->registrars[0].port = F.port;
	o->registrars[0].transport = SIP_TP_UDP;
	o->registrars[0].priority = 1;
	o->on_state = on_state;
	last_state = SIP_REG_IDLE;
	last_error[0] = '\0';
	stop_done = 0;
}

/* Start the loop on the virtual clock. */
static void vloop(void)
{
	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(T0_US);
}

/* Run the loop (virtual time) until cond holds or ms have passed. */
static void spin_until(uint64_t ms, bool (*cond)(void))
{
	uint64_t end = ev_now_ms() + ms;

	while (ev_now_ms() < end && !(cond && cond())) {
		uint64_t left = end - ev_now_ms();

		ev_run_once(left > 1000 ? 1000 : (int)left);
	}
}

static bool is_failing(void) { return last_state == SIP_REG_FAILING; }
static bool is_registered(void) { return last_state == SIP_REG_REGISTERED; }
static bool is_auth_failed(void) { return last_state == SIP_REG_AUTH_FAILED; }
static bool is_stopped(void) { return stop_done > 0; }
static bool two_requests(void) { return F.n >= 2; }

/* Table: bad options are refused with a reason, never half-built. */
static void test_validation(void **state)
{
	static const struct {
		const char *field;
		const char *why;
	} t[] = {
		{ "user", "SIP user" }, { "user-inj", "SIP user" }, { "password", "password" },
		{ "domain", "domain" }, { "mac", "MAC" }, { "nreg", "registrars" },
		{ "expires", "out of range" }, { "dscp", "out of range" }, { "host", "registrar host" },
		{ "selftest", "self-test" },
	};
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		opts(&o);
		if (!strcmp(t[i].field, "user")) o.user = NULL;
		if (!strcmp(t[i].field, "user-inj")) o.user = "100\r\nX: y";
		if (!strcmp(t[i].field, "password")) o.password = NULL;
		if (!strcmp(t[i].field, "domain")) o.domain = "a b";
		if (!strcmp(t[i].field, "mac")) o.mac = "00:11";
		if (!strcmp(t[i].field, "nreg")) o.n_registrars = 3;
		if (!strcmp(t[i].field, "expires")) o.expires = 5;
		if (!strcmp(t[i].field, "dscp")) o.dscp = 64;
		if (!strcmp(t[i].field, "host")) o.registrars[0].host = "";
		if (!strcmp(t[i].field, "selftest")) o.selftest = "a\r\nb";
		assert_int_equal(sip_reg_new(&o, &r, &why), -EINVAL);
		assert_null(r);
		if (!strstr(why, t[i].why))
			fail_msg("%s: '%s' lacks '%s'", t[i].field, why, t[i].why);
	}
	opts(&o);
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_set_selftest(r, "bad\nvalue"), -EINVAL);
	assert_int_equal(sip_reg_set_selftest(r, "ok=1"), 0);
	assert_int_equal(sip_reg_set_selftest(r, NULL), 0);
	sip_reg_free(r);
}

/* Timer E/F over UDP with T1 = 50 ms: retransmit at T1, 2T1, 4T1 capped at
 * T2 = 8T1, give up at 64T1 = 3.2 s. */
static void test_timers(void **state)
{
	static const int want[] = { 50, 100, 200, 400, 400, 400, 400, 400, 400, 400 };
	/* in virtual time exact: the first REGISTER at once, the copies at their
	 * deadlines, Timer F at 64*T1 = 3200 ms with 11 copies on the wire */
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;
	uint64_t t0;
	int i;

	vloop();
	fake_open(NULL);
	opts(&o);
	o.t1_ms = 50;
	o.backoff_base_ms = 60000;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	t0 = ev_now_ms();
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(5000, is_failing);
	assert_int_equal(last_state, SIP_REG_FAILING);
	print_message("# gave up after %llu ms, %d REGISTERs\n", (unsigned long long)(ev_now_ms() - t0), F.n);
	assert_int_equal(ev_now_ms() - t0, 3200);
	assert_int_equal(F.at[0], t0);
	assert_int_equal(F.n, 11);
	assert_int_equal(F.register_txns, 1);
	for (i = 1; i < F.n; i++) {
		int d = (int)(F.at[i] - F.at[i - 1]);

		if (d != want[i - 1])
			fail_msg("retransmit %d after %d ms, want %d", i, d, want[i - 1]);
		/* a retransmission is the same request (same branch) */
		assert_string_equal(F.req[i], F.req[0]);
	}
	assert_non_null(strstr(last_error, "no answer from the east registrar"));
	sip_reg_free(r);
	fake_close();
	ev_done();
}

static int answer_503(int i, const struct sip_msg *m, char *extra, size_t size)
{
	if (i == 0) {
		snprintf(extra, size, "Retry-After: 2\r\n");
		return 503;
	}
	return 0;
}

/* 503 + Retry-After with a single registrar: wait at least Retry-After, even
 * when the backoff would retry sooner. */
static void test_retry_after(void **state)
{
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;

	vloop();
	fake_open(answer_503);
	opts(&o);
	o.backoff_base_ms = 100;
	o.backoff_cap_ms = 200;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(4000, two_requests);
	assert_int_equal(F.n, 2);
	print_message("# next REGISTER %llu ms after the 503\n", (unsigned long long)(F.at[1] - F.at[0]));
	/* Retry-After 2 s plus up to a quarter of jitter */
	assert_true(F.at[1] - F.at[0] >= 2000);
	assert_true(F.at[1] - F.at[0] <= 2500);
	assert_non_null(strstr(last_error, "503"));
	sip_reg_free(r);
	fake_close();
	ev_done();
}

static char chal_nonce[4][32];

/* 401 n1 -> (creds n1) 423 Min-Expires 900 -> 401 n2 -> (creds n2) 200 */
static int answer_flow(int i, const struct sip_msg *m, char *extra, size_t size)
{
	switch (i) {
	case 0:
		snprintf(extra, size, "WWW-Authenticate: Digest realm=\"dsa.test\", nonce=\"n1\", qop=\"auth\"\r\n");
		return 401;
	case 1:
		snprintf(extra, size, "Min-Expires: 900\r\n");
		return 423;
	case 2:
		snprintf(extra, size, "WWW-Authenticate: Digest realm=\"dsa.test\", nonce=\"n2\", qop=\"auth\", algorithm=SHA-256\r\n");
		return 401;
	case 3:
		return 200;      /* our Contact echoed with expires=900 */
	default:
		return 200;   /* unregistration */
	}
}

static void test_auth_423_flow(void **state)
{
	struct sip_reg_opts o;
	struct sip_reg *r;
	struct sip_reg_status st;
	const char *why;

	vloop();
	fake_open(answer_flow);
	opts(&o);
	o.expires = 300;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(3000, is_registered);
	assert_int_equal(last_state, SIP_REG_REGISTERED);
	assert_int_equal(F.n, 4);
	assert_null(strstr(F.req[0], "Authorization"));
	assert_non_null(strstr(F.req[1], "nonce=\"n1\""));
	assert_non_null(strstr(F.req[1], "Expires: 300\r\n"));
	assert_non_null(strstr(F.req[2], "Expires: 900\r\n"));
	assert_null(strstr(F.req[2], "Authorization"));       /* nonce n1 never answered twice */
	assert_non_null(strstr(F.req[3], "nonce=\"n2\""));
	assert_non_null(strstr(F.req[3], "algorithm=SHA-256"));
	assert_null(strstr(F.req[3], "pw"));                   /* the password never on the wire */
	sip_reg_status(r, &st);
	assert_int_equal(st.expires, 900);
	assert_string_equal(st.region, "east");
	assert_string_equal(st.transport, "UDP");
	assert_string_equal(st.state_name, "registered");
	(void)chal_nonce;
	/* bounded unregistration */
	sip_reg_stop(r, 2000, on_stop, NULL);
	spin_until(3000, is_stopped);
	assert_int_equal(stop_done, 1);
	assert_non_null(strstr(F.req[F.n - 1], "Expires: 0\r\n"));
	sip_reg_free(r);
	fake_close();
	ev_done();
}

static int answer_reject(int i, const struct sip_msg *m, char *extra, size_t size)
{
	snprintf(extra, size, "WWW-Authenticate: Digest realm=\"dsa.test\", nonce=\"r%d\", qop=\"auth\"\r\n", i);
	return 401;
}

static void test_wrong_password(void **state)
{
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;

	vloop();
	fake_open(answer_reject);
	opts(&o);
	o.auth_retry_ms = 60000;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(2000, is_auth_failed);
	assert_int_equal(last_state, SIP_REG_AUTH_FAILED);
	spin_until(44000, is_stopped);     /* nothing stops it: 44 s, under the 45-60 s auth retry */
	assert_int_equal(F.n, 2);
	assert_non_null(strstr(last_error, "check the SIP password"));
	/* stopping with nothing registered finishes at once */
	sip_reg_stop(r, 2000, on_stop, NULL);
	assert_int_equal(stop_done, 1);
	sip_reg_free(r);
	fake_close();
	ev_done();
}

static int answer_ok(int i, const struct sip_msg *m, char *extra, size_t size)
{
	return 200;
}

static void test_selftest_mtu(void **state)
{
	char big[201];
	struct sip_reg_opts o;
	struct sip_reg *r;
	struct sip_reg_status st;
	const char *why;

	memset(big, 'x', 200);
	big[200] = '\0';
	vloop();
	fake_open(answer_ok);
	opts(&o);
	o.selftest = "dns=ok;nat=1;dscp=bleached";
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(2000, is_registered);
	assert_non_null(strstr(F.req[0], "X-Dialstack-Selftest: dns=ok;nat=1;dscp=bleached\r\n"));
	/* a long summary on a small path MTU: the REGISTER goes without it */
	sip_reg_free(r);
	opts(&o);
	o.path_mtu = 760;
	o.selftest = big;
	F.n = 0;
	last_state = SIP_REG_IDLE;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(2000, is_registered);
	assert_int_equal(F.n, 1);
	assert_null(strstr(F.req[0], "X-Dialstack-Selftest"));
	assert_true(strlen(F.req[0]) + 200 <= 760);
	sip_reg_status(r, &st);
	assert_true(st.selftest_dropped);
	/* a short one set at run time goes out at once */
	assert_int_equal(sip_reg_set_selftest(r, "ok"), 0);
	spin_until(1000, two_requests);
	assert_int_equal(F.n, 2);
	assert_non_null(strstr(F.req[1], "X-Dialstack-Selftest: ok\r\n"));
	sip_reg_free(r);
	fake_close();
	ev_done();
}

/* 401 n1 -> 200, later a refresh challenged with the same nonce: nc=00000002 */
static int answer_same_nonce(int i, const struct sip_msg *m, char *extra, size_t size)
{
	if (i == 0 || i == 2) {
		snprintf(extra, size, "WWW-Authenticate: Digest realm=\"dsa.test\", nonce=\"same\", qop=\"auth\"\r\n");
		return 401;
	}
	return 200;
}

static bool four_requests(void) { return F.n >= 4; }

static void test_nonce_count(void **state)
{
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;

	vloop();
	fake_open(answer_same_nonce);
	opts(&o);
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(2000, is_registered);
	assert_int_equal(F.n, 2);
	assert_non_null(strstr(F.req[1], "nc=00000001"));
	assert_int_equal(sip_reg_set_selftest(r, "x=1"), 0);     /* refresh now */
	spin_until(2000, four_requests);
	assert_int_equal(F.n, 4);
	assert_non_null(strstr(F.req[3], "nonce=\"same\""));
	assert_non_null(strstr(F.req[3], "nc=00000002"));
	assert_int_equal(last_state, SIP_REG_REGISTERED);
	sip_reg_free(r);
	fake_close();
	ev_done();
}

/* REGISTERs are answered, keepalives (STUN, then OPTIONS) are not: the
 * registrar is declared gone after the keepalive, the STUN wait and the OPTIONS wait. */
static int answer_register_only(int i, const struct sip_msg *m, char *extra, size_t size)
{
	return strcmp(m->method, "REGISTER") ? 0 : 200;
}

static void test_udp_keepalive_unanswered(void **state)
{
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;
	uint64_t t0;
	int i, options = 0;

	vloop();
	fake_open(answer_register_only);
	opts(&o);
	o.t1_ms = 50;               /* STUN wait 500 ms, OPTIONS retry 300 ms */
	o.keepalive_s = 1;
	o.backoff_base_ms = 60000;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(1000, is_registered);
	assert_int_equal(last_state, SIP_REG_REGISTERED);
	t0 = ev_now_ms();
	spin_until(5000, is_failing);
	assert_int_equal(last_state, SIP_REG_FAILING);
	print_message("# declared gone %llu ms after registering\n", (unsigned long long)(ev_now_ms() - t0));
	/* keepalive at 1000 (STUN), its wait 500 (10*T1), then OPTIONS and its wait 500 */
	assert_int_equal(ev_now_ms() - t0, 2000);
	assert_non_null(strstr(last_error, "stopped answering keepalives (OPTIONS)"));
	for (i = 0; i < F.n; i++)
		options += !strncmp(F.req[i], "OPTIONS ", 8);
	assert_true(options >= 1);
	sip_reg_free(r);
	fake_close();
	ev_done();
}

/* TCP registrar that answers REGISTERs but never pongs. */
struct tcpfake {
	int lfd, cfd;
	struct ev_fd lw, cw;
	char in[16384];
	size_t inlen;
	int pings;
};
static struct tcpfake TF;

static void tcpfake_read(struct ev_fd *w, unsigned ev)
{
	ssize_t n = read(TF.cfd, TF.in + TF.inlen, sizeof(TF.in) - TF.inlen);
	size_t used;
	enum sip_frame kind;
	const char *why;

	if (n <= 0) {
		ev_fd_del(&TF.cw);
		return;
	}
	TF.inlen += (size_t)n;
	while (sip_msg_frame(TF.in, TF.inlen, &used, &kind, &why) == 1) {
		if (kind == SIP_FRAME_PING) {
			TF.pings++;            /* and no pong */
		} else if (kind == SIP_FRAME_MSG) {
			struct sip_msg m;
			char *out;
			size_t len;

			if (sip_msg_parse(TF.in, used, true, &m, &why) == 0) {
				char extra[512] = "";

				echo_contact(TF.in, extra, sizeof(extra));
				if (sip_msg_build_response(&m, 200, "OK", "t", extra, &out, &len) == 0) {
					assert_true(write(TF.cfd, out, len) == (ssize_t)len);
					free(out);
				}
				sip_msg_free(&m);
			}
		}
		memmove(TF.in, TF.in + used, TF.inlen - used);
		TF.inlen -= used;
	}
}

static void tcpfake_accept(struct ev_fd *w, unsigned ev)
{
	TF.cfd = accept(TF.lfd, NULL, NULL);
	if (TF.cfd < 0)
		return;
	TF.cw.fd = TF.cfd;
	TF.cw.cb = tcpfake_read;
	ev_fd_add(&TF.cw, EV_READ);
}

static void test_tcp_no_pong(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;
	uint64_t t0;

	vloop();
	memset(&TF, 0, sizeof(TF));
	memset(&F, 0, sizeof(F));
	TF.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(TF.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(TF.lfd, 4), 0);
	assert_int_equal(getsockname(TF.lfd, (struct sockaddr *)&a, &al), 0);
	TF.lw.fd = TF.lfd;
	TF.lw.cb = tcpfake_accept;
	assert_int_equal(ev_fd_add(&TF.lw, EV_READ), 0);
	F.port = ntohs(a.sin_port);
	opts(&o);
	o.registrars[0].transport = SIP_TP_TCP;
	o.t1_ms = 50;               /* pong deadline 1 s */
	o.keepalive_s = 1;
	o.backoff_base_ms = 60000;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	spin_until(1000, is_registered);
	assert_int_equal(last_state, SIP_REG_REGISTERED);
	t0 = ev_now_ms();
	spin_until(4000, is_failing);
	assert_int_equal(last_state, SIP_REG_FAILING);
	print_message("# flow declared dead %llu ms after registering, %d pings\n",
		      (unsigned long long)(ev_now_ms() - t0), TF.pings);
	/* the ping at 1000 ms, the pong deadline 20*T1 = 1000 ms later */
	assert_int_equal(ev_now_ms() - t0, 2000);
	assert_true(TF.pings >= 1);
	assert_non_null(strstr(last_error, "CRLF ping, connection lost"));
	sip_reg_free(r);
	ev_fd_del(&TF.lw);
	if (TF.cfd > 0) {
		ev_fd_del(&TF.cw);
		close(TF.cfd);
	}
	close(TF.lfd);
	ev_done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_auth_423_flow),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_selftest_mtu),
		cmocka_unit_test(test_nonce_count),
		cmocka_unit_test(test_udp_keepalive_unanswered),
		cmocka_unit_test(test_tcp_no_pong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
