/* test_call_check.c - the self-test's "call" and "audio" checks through the
 * runner on loopback: an in-process SIP UAS answers the INVITE with an SDP that points
 * at an in-process RTP echo (like sipp -rtp_echo: returns each datagram unchanged).
 * The echo can stay silent, drop every Nth packet, or replace the audio with
 * silence, so the verdicts are decided by what really came back. The audio check
 * runs on ALSA file/null/hw plugin devices. An IPv6-only phone (dummy backend addresses)
 * calls a UAS and echo on ::1 (issue 15). The "srtp" check (a job process):
 * test_diag_srtp.c. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "common/ev.h"
#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "media/tone.h"
#include "sip/call.h"
#include "sip/msg.h"
#include "system/dummy.h"
#include "system/system.h"

#define T0_MS 1000u

enum echo_mode { ECHO_ON, ECHO_SILENT, ECHO_DROP, ECHO_MANGLE };

static struct {
	struct ev_fd sip, rtp;
	int sip_port, rtp_port;
	int status;                 /* answer to INVITE */
	enum echo_mode mode;
	unsigned drop_every;
	unsigned rtp_in, rtp_out, invites, acks, byes;
	bool offer_savp, offer_crypto;
	bool v6;                    /* the UAS and the echo listen on ::1 (else 127.0.0.1) */
	int answer_fam;             /* the answer's c= family; 0: the INVITE's */
	char offer_c[64];           /* the offer's c= line */
	char via[128], contact[128];
	unsigned rtp6_in, tclass_ef; /* echo datagrams over IPv6, of them with traffic class 46 << 2 */
} U;

static char dir[64], conf[128];

static void sip_read(struct ev_fd *w, unsigned ev)
{
	char buf[SIP_MSG_MAX + 1], body[512], *out, *full;
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(w->fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
	struct sip_msg m;
	const char *why;
	size_t len;

	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sip_msg_parse(buf, (size_t)n, false, &m, &why) != 0)
		return;
	if (!strcmp(m.method, "INVITE")) {
		size_t bl;
		const char *b = sip_call_body(buf, (size_t)n, &bl);

		const char *cl = b ? memmem(b, bl, "\r\nc=", 4) : NULL;
		bool a6 = U.answer_fam ? U.answer_fam == AF_INET6 : from.ss_family == AF_INET6;
		const char *ip = a6 ? "IP6 ::1" : "IP4 127.0.0.1";

		U.invites++;
		U.offer_savp = b && memmem(b, bl, "RTP/SAVP", 8);
		U.offer_crypto = b && memmem(b, bl, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:", 42);
		if (cl)
			snprintf(U.offer_c, sizeof(U.offer_c), "%.*s", (int)strcspn(cl + 2, "\r"), cl + 2);
		sip_call_header(buf, (size_t)n, "Via", "v", U.via, sizeof(U.via));
		sip_call_header(buf, (size_t)n, "Contact", "m", U.contact, sizeof(U.contact));
		if (U.status == 200) {
			/* like sipp: no a=crypto in the answer; the echo returns our packets */
			snprintf(body, sizeof(body), "v=0\r\no=- 1 1 IN %s\r\ns=-\r\nc=IN %s\r\n"
				 "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", ip, ip, U.rtp_port);
			if (sip_msg_build_response(&m, 200, "OK", "uas1", "", &out, &len) == 0) {
				size_t cap = len + strlen(body) + 128;

				full = malloc(cap);
				assert_non_null(full);
				out[len - 21] = '\0';
				len = (size_t)snprintf(full, cap, "%sContact: <sip:echo@%s:%d>\r\n"
						       "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
						       out, U.v6 ? "[::1]" : "127.0.0.1", U.sip_port, strlen(body), body);
				sendto(w->fd, full, len, 0, (struct sockaddr *)&from, fl);
				free(full);
				free(out);
			}
		} else if (sip_msg_build_response(&m, U.status, "Busy Here", "uas1", "", &out, &len) == 0) {
			sendto(w->fd, out, len, 0, (struct sockaddr *)&from, fl);
			free(out);
		}
	} else if (!strcmp(m.method, "ACK")) {
		U.acks++;
	} else if (!strcmp(m.method, "BYE")) {
		U.byes++;
		if (sip_msg_build_response(&m, 200, "OK", NULL, "", &out, &len) == 0) {
			sendto(w->fd, out, len, 0, (struct sockaddr *)&from, fl);
			free(out);
		}
	}
	sip_msg_free(&m);
}

static void rtp_read(struct ev_fd *w, unsigned ev)
{
	uint8_t buf[1600];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { &from, sizeof(from), &iov, 1, cm.b, sizeof(cm.b), 0 };

	/* recvmsg: the IPv6 traffic class each datagram arrived with (IPV6_RECVTCLASS) */
	while ((n = recvmsg(w->fd, &mh, MSG_DONTWAIT)) > 0) {
		fl = mh.msg_namelen;
		U.rtp_in++;
		if (from.ss_family == AF_INET6) {
			U.rtp6_in++;
			for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
				int tc;

				memcpy(&tc, CMSG_DATA(h), sizeof(tc));
				if (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_TCLASS && tc == 46 << 2)
					U.tclass_ef++;
			}
		}
		mh.msg_namelen = sizeof(from);
		mh.msg_controllen = sizeof(cm.b);
		if (U.mode == ECHO_SILENT)
			continue;
		if (U.mode == ECHO_DROP && U.rtp_in % U.drop_every == 0)
			continue;
		if (U.mode == ECHO_MANGLE && n > 12)
			memset(buf + 12, 0xff, (size_t)n - 12);   /* PCMU silence */
		sendto(w->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		U.rtp_out++;
	}
}

/* A UDP socket on 127.0.0.1, or on ::1 when U.v6; its port. */
static int open_udp(struct ev_fd *w, void (*cb)(struct ev_fd *, unsigned))
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr *sa = U.v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a;
	socklen_t al = U.v6 ? sizeof(a6) : sizeof(a);
	int one = 1;

	w->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(w->fd >= 0);
	if (U.v6)
		assert_int_equal(setsockopt(w->fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one)), 0);
	assert_int_equal(bind(w->fd, sa, al), 0);
	assert_int_equal(getsockname(w->fd, sa, &al), 0);
	w->cb = cb;
	assert_int_equal(ev_fd_add(w, EV_READ), 0);
	return ntohs(U.v6 ? a6.sin6_port : a.sin_port);
}

static void write_raw(const char *name, double freq, double dbfs, unsigned ms)
{
	char path[160];
	size_t n = ms * 8u;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	struct tone_gen g;
	FILE *f;

	assert_non_null(pcm);
	if (freq > 0.0) {
		assert_int_equal(tone_gen_init(&g, freq, dbfs, 8000), 0);
		tone_gen_fill(&g, pcm, n);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(pcm, sizeof(*pcm), n, f), n);
	fclose(f);
	free(pcm);
}

static int setup(void **state)
{
	FILE *f;
	const char *caps[] = { "tone", "silence", "wrong" };

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(T0_MS * 1000u);     /* RTP pacing, Timer A/B and the call's length in virtual ms */
	memset(&U, 0, sizeof(U));
	U.sip_port = open_udp(&U.sip, sip_read);
	U.rtp_port = open_udp(&U.rtp, rtp_read);
	U.status = 200;
	snprintf(dir, sizeof(dir), "/tmp/test_call_check.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/asound.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "pcm.speaker {\n type file\n slave { pcm { type null } }\n file \"%s/played.raw\"\n format raw\n}\n",
		dir);
	for (unsigned i = 0; i < 3; i++)
		fprintf(f, "pcm.mic_%s {\n type file\n slave { pcm { type null } }\n"
			   " file \"%s/captured_%s.raw\"\n infile \"%s/%s.raw\"\n format raw\n}\n",
			caps[i], dir, caps[i], dir, caps[i]);
	fprintf(f, "pcm.nocard {\n type hw\n card 29\n device 0\n}\n");
	fclose(f);
	write_raw("tone.raw", 1000, -20, 3000);
	write_raw("silence.raw", 0, 0, 3000);
	write_raw("wrong.raw", 1500, -20, 3000);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	ev_fd_del(&U.sip);
	close(U.sip.fd);
	ev_fd_del(&U.rtp);
	close(U.rtp.fd);
	ev_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void opts(struct diag_opts *o, uint32_t checks)
{
	diag_opts_default(o);
	utl_strlcpy(o->ifname, "lo", sizeof(o->ifname));
	utl_strlcpy(o->sip_host[0], "127.0.0.1", sizeof(o->sip_host[0]));
	utl_strlcpy(o->sip_host[1], "127.0.0.1", sizeof(o->sip_host[1]));
	utl_strlcpy(o->reflector_host, "127.0.0.1", sizeof(o->reflector_host));
	utl_strlcpy(o->stun_host, "127.0.0.1", sizeof(o->stun_host));
	o->sip_port = (unsigned)U.sip_port;
	utl_strlcpy(o->sip_user, "100", sizeof(o->sip_user));
	utl_strlcpy(o->sip_password, "pw", sizeof(o->sip_password));
	utl_strlcpy(o->sip_domain, "dsa.test", sizeof(o->sip_domain));
	o->rtp_min = 41000;
	o->rtp_max = 41999;
	o->call_ms = 1500;
	o->call_setup_ms = 1500;
	o->call_t1_ms = 100;
	o->checks = checks;
}

struct seen {
	bool done;
	uint64_t at;                /* virtual instant the run ended */
	const struct diag_report *rep;
};

static void on_done(const struct diag_report *rep, void *arg)
{
	struct seen *s = arg;

	s->done = true;
	s->at = ev_now_ms();
	s->rep = rep;
}

static uint64_t done_ms;    /* ms from diag_runner_start to the end of the last run() */

static const struct diag_result *run(struct diag_runner **rp, struct diag_opts *o, enum diag_check_id id)
{
	static struct seen s;
	static struct diag_listener l;
	struct diag_runner *r = diag_runner_new();
	uint64_t end, t0;
	const struct diag_result *res;
	char line[64];

	assert_non_null(r);
	memset(&s, 0, sizeof(s));
	memset(&l, 0, sizeof(l));
	l.on_run_done = on_done;
	l.arg = &s;
	t0 = ev_now_ms();
	assert_int_equal(diag_runner_start(r, o, &l), 0);
	end = ev_now_ms() + 25000;
	while (!s.done && ev_now_ms() < end)
		ev_run_once(20);
	assert_true(s.done);
	done_ms = s.at - t0;
	print_message("# run ended after %llu virtual ms\n", (unsigned long long)done_ms);
	end = ev_now_ms() + 100;              /* let the UAS read what is in flight (ACK, BYE) */
	while (ev_now_ms() < end)
		ev_run_once(10);
	res = diag_report_result(s.rep, id);
	assert_non_null(res);
	diag_result_line(res, line, sizeof(line));
	print_message("# %s\n#   advice: %s\n", line, res->advice);
	for (unsigned i = 0; i < res->nvalues; i++)
		print_message("#   %s=%s %s\n", res->values[i].name, res->values[i].value, res->values[i].unit);
	*rp = r;
	return res;
}

static const char *val(const struct diag_result *r, const char *name)
{
	const char *v = diag_result_value(r, name);

	return v ? v : "";
}

/* Clean echo: the tone comes back, no loss, PASS; INVITE, ACK and BYE on the wire. */
static void test_call_clean(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;
	char sum[256];

	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	res = run(&r, &o, DIAG_C_CALL);
	/* the call alone: no loss on 75 packets cannot be rated (0-4.9 % at 95 %): WARN saying so */
	assert_int_equal(res->verdict, DIAG_WARN);
	assert_non_null(strstr(res->advice, "cannot tell good from problematic"));
	assert_string_equal(val(res, "tone"), "detected");
	assert_string_equal(val(res, "loss"), "0.0");
	assert_string_equal(val(res, "srtp"), "no");
	assert_true(strncmp(val(res, "codec"), "PCMU,", 5) == 0);
	assert_true(res->nvalues < DIAG_MAX_VALUES);   /* nothing dropped: bye is the last value */
	assert_string_equal(val(res, "bye"), "200");
	/* -10 dBm0 sent = -13.2 dBFS; back within 0.5 dB through two G.711 passes */
	assert_true(fabs(atof(val(res, "tone_level")) + 13.17) < 0.5);
	/* RTT and jitter are real (kernel stamps around the in-process echo), so a
	 * preempted test adds its stalls. Model: G.711+PLC with no loss keeps
	 * MOS > 4.3 while the one-way delay stays under ~150 ms, i.e. unless the
	 * echo's turn-around averages > 300 ms off-CPU (> 22 s of a 75-packet
	 * run spent stalled); a CPU hog on every core costs a few ms per stall. */
	assert_true(atof(val(res, "mos")) > 4.3);
	assert_int_equal(U.invites, 1);
	assert_int_equal(U.acks, 1);
	assert_int_equal(U.byes, 1);
	assert_false(U.offer_savp);
	/* 1500 ms at 20 ms: 75 packets reached the echo */
	assert_int_equal(U.rtp_in, 75);
	/* the last packet leaves at 74*20 ms, the 600 ms tail, then BYE/200 on loopback */
	assert_int_equal(done_ms, 74 * 20 + 600);
	assert_true(diag_report_summary(diag_runner_report(r), sum, sizeof(sum)) > 0);
	assert_non_null(strstr(sum, ";call="));
	diag_runner_free(r);
}

/* SRTP: the offer carries SDES; our own packets come back and decrypt with our key. */
static void test_call_srtp(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	o.call_srtp = true;
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_WARN); /* 75 packets: loss undecided (see clean) */
	assert_string_equal(val(res, "srtp"), "yes");
	assert_string_equal(val(res, "srtp_auth_failures"), "0");
	assert_string_equal(val(res, "tone"), "detected");
	assert_true(U.offer_savp);
	assert_true(U.offer_crypto);
	assert_non_null(strstr(res->advice, "SRTP: yes, AES_CM_128_HMAC_SHA1_80"));
	assert_true(atof(val(res, "mos")) > 4.3);
	assert_string_equal(val(res, "bye"), "200");   /* every value fits (20 at most) */
	diag_runner_free(r);
}

/* No RTP comes back: FAIL with the firewall advice. */
static void test_call_no_audio(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	U.mode = ECHO_SILENT;
	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_FAIL);
	assert_non_null(strstr(res->advice, "no audio: allow UDP 41000-41999 outbound"));
	assert_true(U.rtp_in > 0);
	assert_int_equal(U.byes, 1);
	diag_runner_free(r);
}

/* Every 10th packet dropped: 10 % loss shown and rated, tone still there. */
static void test_call_loss(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	U.mode = ECHO_DROP;
	U.drop_every = 10;
	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	res = run(&r, &o, DIAG_C_CALL);
	assert_true(res->verdict == DIAG_FAIL || res->verdict == DIAG_WARN);
	assert_string_equal(val(res, "loss"), "9.3");      /* 7 of 75 */
	assert_string_equal(val(res, "tone"), "detected");
	assert_non_null(strstr(res->advice, "loss"));
	diag_runner_free(r);
}

/* Audio replaced by silence on the way: FAIL, the tone is missing. */
static void test_call_mangled(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	U.mode = ECHO_MANGLE;
	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_FAIL);
	assert_string_equal(val(res, "tone"), "missing");
	assert_string_equal(val(res, "loss"), "0.0");
	diag_runner_free(r);
}

/* 486 from the echo: FAIL naming the code, ACKed. No account: SKIP. */
static void test_call_refused_and_skip(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	U.status = 486;
	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_FAIL);
	assert_non_null(strstr(res->advice, "the echo service refused the call: 486"));
	assert_int_equal(U.acks, 1);
	assert_int_equal(U.rtp_in, 0);
	diag_runner_free(r);

	U.invites = 0;
	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	o.sip_user[0] = '\0';
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_SKIP);
	assert_non_null(strstr(res->advice, "no SIP account"));
	assert_int_equal(U.invites, 0);
	diag_runner_free(r);
}

/* Nobody answers SIP (east and west): FAIL after the setup bound on each. */
static void test_call_no_answer(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	opts(&o, DIAG_CHECK_BIT(DIAG_C_CALL));
	{
		struct ev_fd dead = { 0 };   /* a bound UDP port nobody reads: SIP silence */
		int port = open_udp(&dead, rtp_read);

		ev_fd_del(&dead);           /* bound but never read: silent */
		o.sip_port = (unsigned)port;
		o.call_setup_ms = 600;
		res = run(&r, &o, DIAG_C_CALL);
		close(dead.fd);
	}
	assert_int_equal(res->verdict, DIAG_FAIL);
	assert_non_null(strstr(res->advice, "east:"));
	assert_non_null(strstr(res->advice, "west:"));
	assert_non_null(strstr(res->advice, "not answered within 600 ms"));
	assert_int_equal(done_ms, 2 * 600);                  /* east, then west */
	diag_runner_free(r);
}

/* ---------------------------------------------------------------- IPv6 only (issue 15) */

static char sysfs[64];
static struct sys_ops ops6;
static int ef_tclass = -1;      /* IPV6_TCLASS read back from the IPv6 socket marked DSCP 46 */

/* The Linux backend's marking (real setsockopt), then the option read back from the socket. */
static int set_dscp_read_back(int fd, int dscp)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), tl = sizeof(int);
	int err = sys_linux_ops.set_dscp(fd, dscp), tc;

	if (!err && dscp == 46 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6 &&
	    getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tc, &tl) == 0)
		ef_tclass = tc;
	return err;
}

/* The UAS and the echo on ::1; an IPv6-only phone: an interface (sysfs: wired, up) whose only
 * address is "::1" as a global one (the dummy backend's addresses, Linux's DSCP marking). */
static int setup6(void **state)
{
	static const char *const attrs[][2] = { { "operstate", "up" }, { "carrier", "1" }, { "speed", "1000" },
						 { "duplex", "full" } };
	struct sys_addr *a = sys_dummy_last.addrs;
	char path[160];

	setup(state);
	ev_fd_del(&U.sip);
	close(U.sip.fd);
	ev_fd_del(&U.rtp);
	close(U.rtp.fd);
	U.v6 = true;
	U.sip_port = open_udp(&U.sip, sip_read);
	U.rtp_port = open_udp(&U.rtp, rtp_read);
	utl_strlcpy(sysfs, "/tmp/dsa-call6-sysfs-XXXXXX", sizeof(sysfs));
	assert_non_null(mkdtemp(sysfs));
	snprintf(path, sizeof(path), "%s/dsa-v6only0", sysfs);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/dsa-v6only0/%s", sysfs, attrs[i][0]);
		assert_non_null(f = fopen(path, "w"));
		fprintf(f, "%s\n", attrs[i][1]);
		fclose(f);
	}
	sys_dummy_reset();
	a[0].family = AF_INET6;
	inet_pton(AF_INET6, "::1", a[0].addr);
	a[0].prefixlen = 128;
	a[0].scope = RT_SCOPE_UNIVERSE;
	a[0].valid_s = 7200;
	sys_dummy_last.naddrs = 1;
	ops6 = sys_dummy_ops;
	ops6.set_dscp = set_dscp_read_back;
	sys_use(&ops6);
	ef_tclass = -1;
	return 0;
}

static int teardown6(void **state)
{
	char cmd[128];

	sys_use(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysfs);
	assert_int_equal(system(cmd), 0);
	return teardown(state);
}

static void opts6(struct diag_opts *o)
{
	opts(o, DIAG_CHECK_BIT(DIAG_C_CALL));
	utl_strlcpy(o->ifname, "dsa-v6only0", sizeof(o->ifname));
	utl_strlcpy(o->sysfs_net, sysfs, sizeof(o->sysfs_net));
	utl_strlcpy(o->sip_host[0], "::1", sizeof(o->sip_host[0]));
	utl_strlcpy(o->sip_host[1], "::1", sizeof(o->sip_host[1]));
	utl_strlcpy(o->reflector_host, "::1", sizeof(o->reflector_host));
	utl_strlcpy(o->stun_host, "::1", sizeof(o->stun_host));
}

/* An IPv6-only phone places the test call over IPv6 (it was skipped "no IPv4 address"): Via
 * and Contact carry [::1] (RFC 5118), the offer says c=IN IP6, every RTP packet reaches the
 * echo over IPv6 with traffic class 46 << 2 (IPV6_RECVTCLASS at the echo; IPV6_TCLASS read
 * back from the socket) and comes back; the check PASSes and reports the family. 16 s of
 * audio: 800 packets, enough to rate no loss as good (< 0.5 % at 95 %; 75 are not, see clean). */
static void test_call_ipv6_only(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;
	char want[64];

	opts6(&o);
	o.call_ms = 16000;
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_non_null(strstr(res->advice, "test call placed and audio is clean both directions"));
	assert_string_equal(val(res, "family"), "IPv6");
	snprintf(want, sizeof(want), "[::1]:%d", U.rtp_port);
	assert_string_equal(val(res, "remote_media"), want);
	assert_string_equal(val(res, "tone"), "detected");
	assert_string_equal(val(res, "packets_received"), "800");
	assert_string_equal(val(res, "bye"), "200");
	assert_string_equal(U.offer_c, "c=IN IP6 ::1");
	assert_true(strncmp(U.via, "SIP/2.0/UDP [::1]:", 18) == 0);
	assert_true(strncmp(U.contact, "<sip:100@[::1]:", 15) == 0);
	assert_int_equal(U.invites, 1);
	assert_int_equal(U.acks, 1);
	assert_int_equal(U.byes, 1);
	assert_int_equal(U.rtp_in, 800);
	assert_int_equal(U.rtp6_in, 800);
	assert_int_equal(U.tclass_ef, 800);       /* DSCP 46 on every packet, as the echo saw it */
	assert_int_equal(U.rtp_out, 800);
	assert_int_equal(ef_tclass, 46 << 2);
	diag_runner_free(r);
}

/* A dual-stack phone whose registrar has only an IPv6 address ("::1": no A record) calls over
 * IPv6 too: the family is the registrar's, as the probes pick it (diag_dst). */
static void test_call_dual_stack_v6_registrar(void **state)
{
	struct sys_addr *a = sys_dummy_last.addrs;
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	a[1] = a[0];                              /* the phone: 127.0.0.1 by DHCP besides ::1 */
	memset(&a[0], 0, sizeof(a[0]));
	a[0].family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", a[0].addr);
	a[0].prefixlen = 8;
	a[0].valid_s = 3600;
	sys_dummy_last.naddrs = 2;
	opts6(&o);
	utl_strlcpy(o.ifname, "lo", sizeof(o.ifname));
	utl_strlcpy(o.sysfs_net, "/sys/class/net", sizeof(o.sysfs_net));
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_WARN);   /* 75 packets: loss undecided (see clean) */
	assert_string_equal(val(res, "family"), "IPv6");
	assert_string_equal(val(res, "tone"), "detected");
	assert_string_equal(U.offer_c, "c=IN IP6 ::1");
	assert_int_equal(U.rtp6_in, 75);
	assert_int_equal(U.tclass_ef, 75);
	diag_runner_free(r);
}

/* The echo answers an IPv6 offer with c=IN IP4: FAIL in words, no RTP sent, the call hung up. */
static void test_call_ipv6_family_mismatch(void **state)
{
	struct diag_opts o;
	struct diag_runner *r;
	const struct diag_result *res;

	opts6(&o);
	U.answer_fam = AF_INET;
	res = run(&r, &o, DIAG_C_CALL);
	assert_int_equal(res->verdict, DIAG_FAIL);
	assert_non_null(strstr(res->advice, "the echo service answered but its c= is in the other IP family"));
	assert_int_equal(U.invites, 1);           /* an answer, not silence: west is not tried */
	assert_int_equal(U.acks, 1);
	assert_int_equal(U.byes, 1);
	assert_int_equal(U.rtp_in, 0);
	diag_runner_free(r);
}

/* The audio check on ALSA file devices: tone PASS, silence and 1.5 kHz FAIL, no card SKIP. */
static void test_audio_check(void **state)
{
#ifdef HAVE_ALSA
	static const struct {
		const char *cap;
		enum diag_verdict v;
		const char *words;
	} t[] = {
		{ "mic_tone", DIAG_PASS, "speaker and microphone work" },
		{ "mic_silence", DIAG_FAIL, "" },
		{ "mic_wrong", DIAG_FAIL, "" },
		{ "nocard", DIAG_SKIP, "no sound card" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct diag_opts o;
		struct diag_runner *r;
		const struct diag_result *res;

		opts(&o, DIAG_CHECK_BIT(DIAG_C_AUDIO));
		utl_strlcpy(o.audio_playback, "speaker", sizeof(o.audio_playback));
		utl_strlcpy(o.audio_capture, t[i].cap, sizeof(o.audio_capture));
		utl_strlcpy(o.audio_conf, conf, sizeof(o.audio_conf));
		res = run(&r, &o, DIAG_C_AUDIO);
		assert_int_equal(res->verdict, t[i].v);
		assert_non_null(strstr(res->advice, t[i].words));
		if (t[i].v == DIAG_PASS)
			assert_true(fabs(atof(val(res, "tone_level")) + 20.0) < 0.5);
		diag_runner_free(r);
	}
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_call_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_srtp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_no_audio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_mangled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_refused_and_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audio_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_ipv6_only, setup6, teardown6),
		cmocka_unit_test_setup_teardown(test_call_ipv6_family_mismatch, setup6, teardown6),
		cmocka_unit_test_setup_teardown(test_call_dual_stack_v6_registrar, setup6, teardown6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
