/* test_call.c - the test call UAC (sip/call.h) on the real loop against an
 * in-process UAS on 127.0.0.1: answer + ACK + BYE, 401 digest once per
 * nonce, 486, Timer A/B on silence, 180 then no answer, malformed answers, a call over
 * ::1 (RFC 5118 literals, c=IN IP6, a family mismatch refused);
 * and the pure SDP/header helpers with a table of hostile inputs. */
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
#include "sip/call.h"
#include "sip/msg.h"

#define MAXREQ 64
#define T0_MS 1000u      /* the virtual clock starts here */
#define OFFER "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
	"m=audio 12000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"
#define ANSWER "v=0\r\no=- 2 2 IN IP4 127.0.0.9\r\ns=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\n" \
	"m=audio 10000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n"

struct fake {
	int fd, port;
	struct ev_fd w;
	int n;
	uint64_t at[MAXREQ];
	char req[MAXREQ][SIP_MSG_MAX + 2];
	char method[MAXREQ][16];
	struct sockaddr_storage from;
	socklen_t fromlen;
	/* the status to answer request i with (0: silent); body/extra optional */
	int (*answer)(int i, const struct sip_msg *m, char *extra, size_t esize, const char **body);
};

static struct fake F;
static struct sip_call_event last;
static struct sip_call_media last_media;
static char last_why[256];
static int nevents, nended, nanswered;
static uint64_t last_at;            /* virtual instant of the last event */
static struct sip_call *cur;
static const char *uas_tag = "uastag";   /* the To tag the fake server answers with */

static void fake_reply(const struct sip_msg *m, int code, const char *extra, const char *body)
{
	char *out, *buf;
	size_t len;

	if (sip_msg_build_response(m, code, code == 200 ? "OK" : "Nope", uas_tag, extra, &out, &len) != 0)
		return;
	if (body) {
		size_t cap = len + strlen(body) + 128;

		buf = malloc(cap);
		assert_non_null(buf);
		assert_true(len > 21);
		out[len - 21] = '\0';   /* drop "Content-Length: 0\r\n\r\n" */
		len = (size_t)snprintf(buf, cap, "%sContent-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
				       out, strlen(body), body);
		free(out);
		out = buf;
	}
	sendto(F.fd, out, len, 0, (struct sockaddr *)&F.from, F.fromlen);
	free(out);
}

static void fake_read(struct ev_fd *w, unsigned ev)
{
	char buf[SIP_MSG_MAX + 1];
	socklen_t fl = sizeof(F.from);
	ssize_t n = recvfrom(F.fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&F.from, &fl);
	struct sip_msg m;
	const char *why, *body = NULL;
	char extra[1024] = "";
	int code, i;

	F.fromlen = fl;
	if (n <= 0 || F.n >= MAXREQ)
		return;
	buf[n] = '\0';
	if (sip_msg_parse(buf, (size_t)n, false, &m, &why) != 0)
		return;
	i = F.n++;
	F.at[i] = ev_now_ms();
	snprintf(F.req[i], sizeof(F.req[i]), "%s", buf);
	snprintf(F.method[i], sizeof(F.method[i]), "%.*s", (int)sizeof(F.method[i]) - 1, m.method);
	code = F.answer ? F.answer(i, &m, extra, sizeof(extra), &body) : 0;
	if (code)
		fake_reply(&m, code, extra, body);
	sip_msg_free(&m);
}

/* The fake UAS on 127.0.0.1, or on ::1 when v6. */
static void fake_open_fam(int (*answer)(int, const struct sip_msg *, char *, size_t, const char **), bool v6)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr *sa = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a;
	socklen_t al = v6 ? sizeof(a6) : sizeof(a);

	memset(&F, 0, sizeof(F));
	F.answer = answer;
	F.fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(F.fd >= 0);
	assert_int_equal(bind(F.fd, sa, al), 0);
	assert_int_equal(getsockname(F.fd, sa, &al), 0);
	F.port = ntohs(v6 ? a6.sin6_port : a.sin_port);
	F.w.fd = F.fd;
	F.w.cb = fake_read;
	assert_int_equal(ev_fd_add(&F.w, EV_READ), 0);
}

static void fake_open(int (*answer)(int, const struct sip_msg *, char *, size_t, const char **))
{
	fake_open_fam(answer, false);
}

static void fake_close(void)
{
	ev_fd_del(&F.w);
	close(F.fd);
}

static void on_call(struct sip_call *c, const struct sip_call_event *ev, void *arg)
{
	last = *ev;
	last_at = ev_now_ms();
	snprintf(last_why, sizeof(last_why), "%s", ev->why ? ev->why : "");
	last.why = last_why;
	if (ev->media)
		last_media = *ev->media;
	nevents++;
	if (ev->kind == SIP_CALL_ENDED)
		nended++;
	if (ev->kind == SIP_CALL_ANSWERED)
		nanswered++;
}

static void opts(struct sip_call_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->port = F.port;
	o->transport = SIP_TP_UDP;
	o->user = "100";
	o->password = "secret";
	o->domain = "dsa.test";
	o->target = "echo";
	o->sdp = OFFER;
	o->dscp = 26;
	o->t1_ms = 50;
	o->cb = on_call;
	nevents = nended = nanswered = 0;
	memset(&last, 0, sizeof(last));
	memset(&last_media, 0, sizeof(last_media));
}

/* The loop on virtual time: Timer A/B fire at their exact instants. */
static void loop_init(void)
{
	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(T0_MS * 1000u);
}

static void spin_until(int ms, int *counter, int want)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;

	while (ev_now_ms() < end && *counter < want)
		ev_run_once(10);
}

static void spin(int ms)
{
	uint64_t end = ev_now_ms() + (uint64_t)ms;

	while (ev_now_ms() < end)
		ev_run_once(10);
}

static int count_method(const char *method)
{
	int k = 0;

	for (int i = 0; i < F.n; i++)
		k += !strcmp(F.method[i], method);
	return k;
}

static int find_method(const char *method, int nth)
{
	for (int i = 0; i < F.n; i++)
		if (!strcmp(F.method[i], method) && nth-- == 0)
			return i;
	return -1;
}

static int header_of(int i, const char *name, char *out, size_t size)
{
	return sip_call_header(F.req[i], strlen(F.req[i]), name, NULL, out, size);
}

/* ------------------------------------------------------------ answer scripts */

static int ans_ok(int i, const struct sip_msg *m, char *extra, size_t es, const char **body)
{
	if (!strcmp(m->method, "INVITE")) {
		snprintf(extra, es, "Record-Route: <sip:10.9.9.1;lr>, <sip:10.9.9.2;lr>\r\n"
			 "Contact: <sip:echo@127.0.0.1:%d>\r\n", F.port);
		*body = ANSWER;
		return 200;
	}
	if (!strcmp(m->method, "BYE"))
		return 200;
	return 0;
}

/* Answer, ACK, BYE: the dialog's fields on the wire. */
static void test_answer_ack_bye(void **state)
{
	struct sip_call_opts o;
	char v[512], v2[512];
	int inv, ack, bye;

	loop_init();
	fake_open(ans_ok);
	opts(&o);
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	assert_int_equal(nevents, 0);      /* never from inside start */
	spin_until(2000, &nanswered, 1);
	assert_int_equal(last.kind, SIP_CALL_ANSWERED);
	assert_int_equal(last.status, 200);
	assert_int_equal(last_at, T0_MS);                  /* loopback: no virtual time passed */
	assert_string_equal(last_media.addr, "127.0.0.9");
	assert_int_equal(last_media.port, 10000);
	assert_int_equal(last_media.pt, 0);
	assert_true(last_media.has_crypto);
	assert_string_equal(last_media.crypto, "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc");
	spin(100);
	inv = find_method("INVITE", 0);
	ack = find_method("ACK", 0);
	assert_true(inv >= 0 && ack > inv);
	/* INVITE: R-URI, rport, SDP offer */
	assert_non_null(strstr(F.req[inv], "INVITE sip:echo@dsa.test SIP/2.0\r\n"));
	assert_int_equal(header_of(inv, "Via", v, sizeof(v)), 1);
	assert_non_null(strstr(v, ";rport"));
	assert_non_null(strstr(F.req[inv], "\r\n\r\n" OFFER));
	assert_int_equal(header_of(inv, "Content-Type", v, sizeof(v)), 1);
	assert_string_equal(v, "application/sdp");
	/* ACK: to the Contact, Route = Record-Route in order (UAC keeps RR order), new branch, To tag */
	assert_non_null(strstr(F.req[ack], "ACK sip:echo@127.0.0.1:"));
	assert_int_equal(header_of(ack, "To", v, sizeof(v)), 1);
	assert_non_null(strstr(v, "tag=uastag"));
	assert_int_equal(header_of(ack, "Route", v, sizeof(v)), 2);
	assert_string_equal(v, "<sip:10.9.9.2;lr>, <sip:10.9.9.1;lr>");
	header_of(inv, "Via", v, sizeof(v));
	header_of(ack, "Via", v2, sizeof(v2));
	assert_string_not_equal(v, v2);
	header_of(inv, "Call-ID", v, sizeof(v));
	header_of(ack, "Call-ID", v2, sizeof(v2));
	assert_string_equal(v, v2);
	header_of(ack, "CSeq", v2, sizeof(v2));
	header_of(inv, "CSeq", v, sizeof(v));
	assert_int_equal(atoi(v), atoi(v2));
	assert_non_null(strstr(v2, " ACK"));
	/* BYE */
	assert_int_equal(sip_call_hangup(cur), 0);
	spin_until(2000, &nended, 1);
	assert_int_equal(last.kind, SIP_CALL_ENDED);
	assert_int_equal(last.status, 200);
	bye = find_method("BYE", 0);
	assert_true(bye > ack);
	header_of(bye, "CSeq", v2, sizeof(v2));
	assert_int_equal(atoi(v2), atoi(v) + 1);
	assert_int_equal(header_of(bye, "Route", v2, sizeof(v2)), 2);
	assert_int_equal(count_method("BYE"), 1);
	assert_int_equal(sip_call_hangup(cur), -ENOTCONN);
	sip_call_free(cur);
	fake_close();
	ev_done();
}

static int auth_round;

static int ans_auth(int i, const struct sip_msg *m, char *extra, size_t es, const char **body)
{
	if (!strcmp(m->method, "INVITE")) {
		if (!strstr(F.req[i], "\r\nProxy-Authorization: Digest ")) {
			snprintf(extra, es, "Proxy-Authenticate: Digest realm=\"dsa.test\", nonce=\"n%d\", qop=\"auth\"\r\n",
				 auth_round);
			return 407;
		}
		if (auth_round == 1) {   /* refuse the credentials: same nonce again */
			snprintf(extra, es, "Proxy-Authenticate: Digest realm=\"dsa.test\", nonce=\"n1\", qop=\"auth\"\r\n");
			return 407;
		}
		*body = ANSWER;
		return 200;
	}
	if (!strcmp(m->method, "BYE"))
		return 200;
	return 0;
}

/* 407 answered once with Proxy-Authorization; the same nonce twice is a failure. */
static void test_digest(void **state)
{
	struct sip_call_opts o;
	char v[512];
	int inv2;

	loop_init();
	fake_open(ans_auth);
	auth_round = 0;
	opts(&o);
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	spin_until(2000, &nevents, 1);
	assert_int_equal(last.kind, SIP_CALL_ANSWERED);
	assert_int_equal(count_method("INVITE"), 2);
	inv2 = find_method("INVITE", 1);
	assert_int_equal(header_of(inv2, "Proxy-Authorization", v, sizeof(v)), 1);
	assert_non_null(strstr(v, "username=\"100\""));
	assert_non_null(strstr(v, "uri=\"sip:echo@dsa.test\""));
	assert_null(strstr(F.req[inv2], "secret"));
	assert_true(find_method("ACK", 0) < inv2);   /* the 407 was ACKed */
	assert_int_equal(sip_call_hangup(cur), 0);
	spin_until(2000, &nended, 1);
	sip_call_free(cur);
	fake_close();
	ev_done();

	/* the same nonce again: wrong password */
	loop_init();
	fake_open(ans_auth);
	auth_round = 1;
	opts(&o);
	o.auth_user = "auth100";
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	spin_until(2000, &nevents, 1);
	assert_int_equal(last.kind, SIP_CALL_FAILED);
	assert_int_equal(last.status, 407);
	assert_non_null(strstr(last.why, "authentication failed"));
	assert_int_equal(count_method("INVITE"), 2);
	assert_non_null(strstr(F.req[find_method("INVITE", 1)], "username=\"auth100\""));
	spin(200);
	assert_int_equal(count_method("INVITE"), 2);
	assert_int_equal(count_method("ACK"), 2);
	sip_call_free(cur);
	fake_close();
	ev_done();
}

static int ans_busy(int i, const struct sip_msg *m, char *extra, size_t es, const char **body)
{
	return !strcmp(m->method, "INVITE") ? 486 : 0;
}

/* 486: ACKed in the INVITE's transaction, failure in words. */
static void test_busy(void **state)
{
	struct sip_call_opts o;
	char v[256], v2[256];

	loop_init();
	fake_open(ans_busy);
	opts(&o);
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	spin_until(2000, &nevents, 1);
	assert_int_equal(last.kind, SIP_CALL_FAILED);
	assert_int_equal(last.status, 486);
	assert_non_null(strstr(last.why, "the echo service refused the call: 486"));
	spin(100);
	assert_int_equal(count_method("ACK"), 1);
	header_of(find_method("INVITE", 0), "Via", v, sizeof(v));
	header_of(find_method("ACK", 0), "Via", v2, sizeof(v2));
	assert_string_equal(v, v2);
	assert_non_null(strstr(F.req[find_method("ACK", 0)], "ACK sip:echo@dsa.test SIP/2.0"));
	assert_int_equal(sip_call_hangup(cur), -ENOTCONN);
	sip_call_free(cur);
	fake_close();
	ev_done();
}

/* Silence: Timer A doubles from T1 (50 ms), Timer B gives up at 64*T1 = 3.2 s. */
static void test_timeout(void **state)
{
	static const int want[] = { 50, 100, 200, 400, 800, 1600 };
	struct sip_call_opts o;
	uint64_t t0;

	loop_init();
	fake_open(NULL);
	opts(&o);
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	t0 = ev_now_ms();
	assert_int_equal(t0, T0_MS);
	spin_until(5000, &nevents, 1);
	assert_int_equal(last.kind, SIP_CALL_FAILED);
	assert_int_equal(last.status, 0);
	assert_non_null(strstr(last.why, "no answer to the INVITE"));
	assert_int_equal(ev_now_ms() - t0, 64 * 50);      /* Timer B = 64*T1, exactly */
	assert_int_equal(F.n, 7);
	assert_int_equal(F.at[0], t0);
	for (int i = 1; i < F.n; i++) {
		int d = (int)(F.at[i] - F.at[i - 1]);

		if (d != want[i - 1])
			fail_msg("retransmission %d after %d ms, want %d", i, d, want[i - 1]);
	}
	spin(1000);
	assert_int_equal(F.n, 7);                           /* nothing after Timer B */
	assert_int_equal(nevents, 1);
	sip_call_free(cur);
	fake_close();
	ev_done();
}

static int ans_ring(int i, const struct sip_msg *m, char *extra, size_t es, const char **body)
{
	return !strcmp(m->method, "INVITE") && i == 0 ? 180 : 0;
}

/* 180 stops retransmissions; no final answer within answer_timeout_ms -> failure. */
static void test_ring_no_answer(void **state)
{
	struct sip_call_opts o;

	loop_init();
	fake_open(ans_ring);
	opts(&o);
	o.answer_timeout_ms = 400;
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	spin_until(3000, &nevents, 1);
	assert_int_equal(last.kind, SIP_CALL_FAILED);
	assert_non_null(strstr(last.why, "rang but did not answer"));
	assert_int_equal(last_at, T0_MS + 400);            /* answer_timeout_ms after the 180 */
	assert_int_equal(F.n, 1);
	sip_call_free(cur);
	fake_close();
	ev_done();
}

static const char *bad_body;

static int ans_bad(int i, const struct sip_msg *m, char *extra, size_t es, const char **body)
{
	if (!strcmp(m->method, "INVITE")) {
		/* first a datagram that is not SIP at all, then the answer */
		sendto(F.fd, "\x01\x02garbage\r\n\r\n", 13, 0, (struct sockaddr *)&F.from, F.fromlen);
		*body = bad_body;
		return 200;
	}
	return !strcmp(m->method, "BYE") ? 200 : 0;
}

/* A 2xx with a broken SDP: the call fails with the reason and is hung up. */
static void test_malformed_answers(void **state)
{
	static const struct {
		const char *body;
		const char *why;
	} t[] = {
		{ NULL, "no SDP body" },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\n", "no m=audio" },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n", "port 0" },
		{ "v=0\r\nc=IN IP4 evil.example\r\nm=audio 10000 RTP/AVP 0\r\n", "numeric address" },
		{ "v=0\r\nm=audio 10000 RTP/AVP 0\r\n", "no c= address" },
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n", "malformed" },
		{ "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 10000 RTP/AVP 0\r\n", "holds" },
	};

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct sip_call_opts o;

		loop_init();
		fake_open(ans_bad);
		bad_body = t[k].body;
		opts(&o);
		assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
		spin_until(2000, &nevents, 1);
		assert_int_equal(last.kind, SIP_CALL_FAILED);
		if (!strstr(last.why, t[k].why))
			fail_msg("case %zu: '%s' lacks '%s'", k, last.why, t[k].why);
		spin(100);
		assert_int_equal(count_method("ACK"), 1);
		assert_int_equal(count_method("BYE"), 1);
		assert_int_equal(nevents, 1);
		{
			/* no Record-Route in the 2xx: the registrar (outbound proxy) is a preloaded Route */
			char v[256], want[64];

			snprintf(want, sizeof(want), "<sip:127.0.0.1:%d;lr>", F.port);
			assert_int_equal(header_of(find_method("BYE", 0), "Route", v, sizeof(v)), 1);
			assert_string_equal(v, want);
		}
		sip_call_free(cur);
		fake_close();
		ev_done();
	}
}

/* A 2xx whose To tag is too long to keep fails the call in words; no ACK or BYE
 * with a cut tag (it would name another dialog). A 255-byte tag is kept whole. */
static void test_long_to_tag(void **state)
{
	static char tag[400];

	for (size_t want = 255; want <= 300; want += 45) {
		struct sip_call_opts o;

		memset(tag, 'k', want);
		tag[want] = '\0';
		uas_tag = tag;
		loop_init();
		fake_open(ans_bad);
		bad_body = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 10000 RTP/AVP 0\r\n";
		opts(&o);
		assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
		spin_until(2000, &nevents, 1);
		if (want == 255) {
			if (last.kind != SIP_CALL_ANSWERED)
				fail_msg("a %zu-byte tag: %s", want, last.why);
			spin(100);
			assert_int_equal(count_method("ACK"), 1);
			assert_true(find_method("ACK", 0) >= 0);
			assert_non_null(strstr(F.req[find_method("ACK", 0)], tag));
		} else {
			assert_int_equal(last.kind, SIP_CALL_FAILED);
			if (!strstr(last.why, "To tag of 300 bytes"))
				fail_msg("'%s' lacks the reason", last.why);
			spin(100);
			assert_int_equal(count_method("ACK"), 0);
			assert_int_equal(count_method("BYE"), 0);
		}
		sip_call_free(cur);
		fake_close();
		ev_done();
	}
	uas_tag = "uastag";
}

#define ANSWER6 "v=0\r\no=- 2 2 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 10002 RTP/AVP 8\r\n"
#define OFFER6 "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 12000 RTP/AVP 0 8\r\n"

static int ans_ok6(int i, const struct sip_msg *m, char *extra, size_t es, const char **body)
{
	if (!strcmp(m->method, "INVITE")) {
		snprintf(extra, es, "Contact: <sip:echo@[::1]:%d>\r\n", F.port);
		*body = bad_body;
		return 200;
	}
	return !strcmp(m->method, "BYE") ? 200 : 0;
}

/* A call over ::1 (issue 15): the registrar lookup restricted to IPv6, Via and Contact carry the
 * RFC 5118 literal [::1]:port, the in-dialog Route names [::1], the answer's c=IN IP6 is the
 * media address; an answer of the other family fails the call in words and is hung up. */
static void test_call_ipv6(void **state)
{
	struct sip_call_opts o;
	char v[512], want[96];
	int inv, ack, bye;

	loop_init();
	fake_open_fam(ans_ok6, true);
	bad_body = ANSWER6;
	opts(&o);
	o.host = "::1";
	o.family = AF_INET6;
	o.sdp = OFFER6;
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	spin_until(2000, &nanswered, 1);
	if (last.kind != SIP_CALL_ANSWERED)
		fail_msg("not answered: %s", last.why);
	assert_string_equal(last_media.addr, "::1");
	assert_true(last_media.ip6);
	assert_int_equal(last_media.port, 10002);
	assert_int_equal(last_media.pt, 8);
	spin(100);
	inv = find_method("INVITE", 0);
	ack = find_method("ACK", 0);
	assert_true(inv >= 0 && ack > inv);
	assert_int_equal(header_of(inv, "Via", v, sizeof(v)), 1);
	assert_true(strncmp(v, "SIP/2.0/UDP [::1]:", 18) == 0);
	assert_int_equal(header_of(inv, "Contact", v, sizeof(v)), 1);
	assert_true(strncmp(v, "<sip:100@[::1]:", 15) == 0);
	assert_non_null(strstr(F.req[inv], "\r\n\r\n" OFFER6));
	assert_non_null(strstr(F.req[ack], "ACK sip:echo@[::1]:"));
	assert_int_equal(header_of(ack, "Via", v, sizeof(v)), 1);
	assert_true(strncmp(v, "SIP/2.0/UDP [::1]:", 18) == 0);
	assert_int_equal(sip_call_hangup(cur), 0);
	spin_until(2000, &nended, 1);
	assert_int_equal(last.status, 200);
	bye = find_method("BYE", 0);
	assert_true(bye > ack);
	snprintf(want, sizeof(want), "<sip:[::1]:%d;lr>", F.port);
	assert_int_equal(header_of(bye, "Route", v, sizeof(v)), 1);
	assert_string_equal(v, want);
	assert_int_equal(header_of(bye, "Contact", v, sizeof(v)), 1);
	assert_true(strncmp(v, "<sip:100@[::1]:", 15) == 0);
	sip_call_free(cur);
	fake_close();
	ev_done();

	/* the family is a restriction: an IPv4 literal is not looked for over IPv6 */
	loop_init();
	fake_open(ans_ok);
	opts(&o);
	o.family = AF_INET6;
	assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
	spin_until(2000, &nevents, 1);
	assert_int_equal(last.kind, SIP_CALL_FAILED);
	assert_non_null(strstr(last.why, "cannot resolve the registrar 127.0.0.1"));
	assert_int_equal(F.n, 0);
	sip_call_free(cur);
	fake_close();
	ev_done();

	/* an answer in the other family: refused, ACKed and hung up */
	for (int k = 0; k < 2; k++) {
		loop_init();
		fake_open_fam(ans_ok6, k == 0);
		bad_body = k == 0 ? "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 10000 RTP/AVP 0\r\n" : ANSWER6;
		opts(&o);
		if (k == 0) {
			o.host = "::1";
			o.sdp = OFFER6;
		}
		assert_int_equal(sip_call_start(&o, &cur, NULL), 0);
		spin_until(2000, &nevents, 1);
		assert_int_equal(last.kind, SIP_CALL_FAILED);
		assert_int_equal(last.status, 200);
		assert_non_null(strstr(last.why, "the echo service answered but its c= is in the other IP family"));
		spin(100);
		assert_int_equal(count_method("ACK"), 1);
		assert_int_equal(count_method("BYE"), 1);
		sip_call_free(cur);
		fake_close();
		ev_done();
	}
}

/* Options are checked: header injection and missing fields refused with a reason. */
static void test_validation(void **state)
{
	static const char *const fields[] = { "host", "user", "user-inj", "domain", "target", "sdp", "dscp", "tls" };
	struct sip_call_opts o;
	const char *why;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		opts(&o);
		if (!strcmp(fields[i], "host")) o.host = NULL;
		if (!strcmp(fields[i], "user")) o.user = "";
		if (!strcmp(fields[i], "user-inj")) o.user = "100\r\nX: y";
		if (!strcmp(fields[i], "domain")) o.domain = "a b";
		if (!strcmp(fields[i], "target")) o.target = "echo>";
		if (!strcmp(fields[i], "sdp")) o.sdp = NULL;
		if (!strcmp(fields[i], "dscp")) o.dscp = 64;
		if (!strcmp(fields[i], "tls")) o.transport = SIP_TP_TLS;
		cur = (struct sip_call *)1;
		assert_int_equal(sip_call_start(&o, &cur, &why), -EINVAL);
		assert_null(cur);
		assert_non_null(why);
	}
}

/* Pure helpers: header lookup (compact forms, folding of several), body, SDP. */
static void test_pure(void **state)
{
	static const char msg[] = "SIP/2.0 200 OK\r\nm: <sip:a@b>\r\nRecord-Route: <sip:x;lr>\r\n"
				  "record-route : <sip:y;lr>\r\nContent-Length: 4\r\n\r\nbody";
	struct sip_call_media m;
	char out[64], small[8];
	const char *why, *b;
	size_t bl;

	assert_int_equal(sip_call_header(msg, strlen(msg), "Contact", "m", out, sizeof(out)), 1);
	assert_string_equal(out, "<sip:a@b>");
	assert_int_equal(sip_call_header(msg, strlen(msg), "Record-Route", NULL, out, sizeof(out)), 2);
	assert_string_equal(out, "<sip:x;lr>, <sip:y;lr>");
	assert_int_equal(sip_call_header(msg, strlen(msg), "Record-Route", NULL, small, sizeof(small)), -ENOSPC);
	assert_int_equal(sip_call_header(msg, strlen(msg), "Via", NULL, out, sizeof(out)), 0);
	b = sip_call_body(msg, strlen(msg), &bl);
	assert_int_equal(bl, 4);
	assert_memory_equal(b, "body", 4);
	assert_null(sip_call_body("SIP/2.0 200 OK\r\n", 16, &bl));
	/* media-level c= wins over session-level; second m=audio ignored */
	assert_int_equal(sip_call_parse_sdp("c=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 8 0\nc=IN IP4 2.2.2.2\n"
					    "m=audio 5000 RTP/AVP 0\n", 80, &m, &why), 0);
	assert_string_equal(m.addr, "2.2.2.2");
	assert_int_equal(m.port, 4000);
	assert_int_equal(m.pt, 8);
	assert_false(m.has_crypto);
	{
		char big[SIP_CALL_SDP_MAX + 10];

		memset(big, 'a', sizeof(big));
		assert_int_equal(sip_call_parse_sdp(big, sizeof(big), &m, &why), -EBADMSG);
		assert_non_null(strstr(why, "larger"));
		memcpy(big, "a=", 2);
		assert_int_equal(sip_call_parse_sdp(big, 600, &m, &why), -EBADMSG);
		assert_non_null(strstr(why, "longer"));
	}
	/* RFC 4566 / 3266: c=IN IP6, session or media level, without brackets */
	{
		static const struct {
			const char *sdp, *addr;   /* addr NULL: refused */
		} t[] = {
			{ "c=IN IP6 2001:db8::7\r\nm=audio 4000 RTP/AVP 0\r\n", "2001:db8::7" },
			{ "c=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 ::1\r\n", "::1" },
			{ "c=IN IP6 ::ffff:1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n", "::ffff:1.2.3.4" },
			{ "c=IN IP6 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n", NULL },
			{ "c=IN IP4 ::1\r\nm=audio 4000 RTP/AVP 0\r\n", NULL },
			{ "c=IN IP6 [::1]\r\nm=audio 4000 RTP/AVP 0\r\n", NULL },
			{ "c=IN IP5 ::1\r\nm=audio 4000 RTP/AVP 0\r\n", NULL },
			{ "c=IN IP ::1\r\nm=audio 4000 RTP/AVP 0\r\n", NULL },
			{ "c=IN IP6 2001:db8::1/127\r\nm=audio 4000 RTP/AVP 0\r\n", "2001:db8::1" },
		};

		for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
			int err = sip_call_parse_sdp(t[k].sdp, strlen(t[k].sdp), &m, &why);

			if (t[k].addr && (err || strcmp(m.addr, t[k].addr) || m.ip6 != !!strchr(t[k].addr, ':')))
				fail_msg("case %zu: %d '%s'", k, err, err ? why : m.addr);
			if (!t[k].addr && err != -EBADMSG)
				fail_msg("case %zu accepted: '%s'", k, m.addr);
		}
		assert_int_equal(sip_call_parse_sdp(t[1].sdp, 41, &m, &why), 0);   /* before its c=IN IP6 */
		assert_string_equal(m.addr, "1.1.1.1");
		assert_false(m.ip6);
	}
	assert_int_equal(sip_call_parse_sdp("c=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP\r\n", 39, &m, &why), -EBADMSG);
	assert_int_equal(sip_call_parse_sdp("c=IN IP4 1.1.1.1\r\nm=audio x RTP/AVP 0\r\n", 39, &m, &why), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pure),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_answer_ack_bye),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_ring_no_answer),
		cmocka_unit_test(test_malformed_answers),
		cmocka_unit_test(test_long_to_tag),
		cmocka_unit_test(test_call_ipv6),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
