/* test_diag_runner.c - the runner and the reflector-based checks on loopback, against a
 * reflector speaking tests/lab/reflector.c's protocol that runs on the same loop: streaming
 * and joining listeners, voice loss accounting from the packets that really came back,
 * DSCP as received, MTU, RTP port sample, the background lifetime check. */
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
#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"

#define SLOTS 64
#define T0_MS 1000u

struct slot {
	struct ev_timer t;
	bool used;
	struct sockaddr_in to;
	size_t len;
	uint8_t buf[32 + 1500];
};

static struct refl {
	struct ev_fd w;
	unsigned port;
	unsigned drop_every;   /* drop voice packets whose sequence % drop_every == 0 */
	unsigned rx;
	struct slot slots[SLOTS];
} R;

static void slot_fire(struct ev_timer *t)
{
	struct slot *s = container_of(t, struct slot, t);

	sendto(R.w.fd, s->buf, s->len, 0, (struct sockaddr *)&s->to, sizeof(s->to));
	s->used = false;
}

static void refl_read(struct ev_fd *w, unsigned ev)
{
	uint8_t in[1500];
	char cb[256];
	struct sockaddr_in from;
	struct iovec iov = { in, sizeof(in) };
	struct msghdr mh = { &from, sizeof(from), &iov, 1, cb, sizeof(cb), 0 };
	ssize_t n;

	while ((n = recvmsg(w->fd, &mh, MSG_DONTWAIT)) >= 0) {
		uint8_t out[32 + 1500];
		int tos = -1;
		uint32_t delay = 0;

		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
				tos = *(uint8_t *)CMSG_DATA(c);
		R.rx++;
		/* an RTP packet of the voice check: 0x80 and the sequence in bytes 12-15 */
		if (R.drop_every && n >= 16 && in[0] == 0x80) {
			uint32_t seq = (uint32_t)in[12] << 24 | (uint32_t)in[13] << 16 | (uint32_t)in[14] << 8 | in[15];

			if (seq % R.drop_every == 0)
				goto next;
		}
		if (n >= 8 && !memcmp(in, "DSAD", 4))
			delay = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
		memset(out, 0, 32);
		memcpy(out, "DSAR", 4);
		out[4] = 1;
		out[5] = (uint8_t)(tos < 0 ? 0 : tos);
		out[6] = tos < 0 ? 0 : 1;
		memcpy(out + 32, in, (size_t)n);
		if (!delay) {
			sendto(w->fd, out, 32 + (size_t)n, 0, (struct sockaddr *)&from, sizeof(from));
		} else {
			for (int i = 0; i < SLOTS; i++) {
				struct slot *s = &R.slots[i];

				if (s->used)
					continue;
				s->used = true;
				s->to = from;
				s->len = 32 + (size_t)n;
				memcpy(s->buf, out, s->len);
				s->t.cb = slot_fire;
				ev_timer_set(&s->t, delay);
				break;
			}
		}
next:
		mh.msg_namelen = sizeof(from);
		mh.msg_controllen = sizeof(cb);
	}
}

static int setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int one = 1;

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(T0_MS * 1000u);     /* pacing, probe deadlines and reflector delays in virtual ms */
	memset(&R, 0, sizeof(R));
	R.w.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(R.w.fd >= 0);
	setsockopt(R.w.fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	assert_int_equal(bind(R.w.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(R.w.fd, (struct sockaddr *)&a, &l);
	R.port = ntohs(a.sin_port);
	R.w.cb = refl_read;
	assert_int_equal(ev_fd_add(&R.w, EV_READ), 0);
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < SLOTS; i++)
		ev_timer_cancel(&R.slots[i].t);
	ev_fd_del(&R.w);
	close(R.w.fd);
	ev_done();
	return 0;
}

struct seen {
	unsigned checks, done, updates;
	bool complete;
	uint64_t done_at;           /* virtual instant of the (last) on_done */
};

static void on_check(const struct diag_result *r, void *arg)
{
	char line[64];

	((struct seen *)arg)->checks++;
	diag_result_line(r, line, sizeof(line));
	assert_true(strlen(line) <= DIAG_LINE_COLS);
}

static void on_done(const struct diag_report *rep, void *arg)
{
	struct seen *s = arg;

	s->done++;
	s->done_at = ev_now_ms();
	s->complete = rep->complete;
}

static void on_update(const struct diag_report *rep, void *arg)
{
	struct seen *s = arg;

	s->updates++;
	s->complete = rep->complete;
}

static void opts_loopback(struct diag_opts *o)
{
	diag_opts_default(o);
	utl_strlcpy(o->ifname, "lo", sizeof(o->ifname));
	snprintf(o->reflector_host, sizeof(o->reflector_host), "127.0.0.1");
	o->reflector_port = R.port;
	o->rtp_min = o->rtp_max = R.port;
	o->rtp_samples = 3;
	o->keepalive_s = 1;
	o->lifetime_margin_s = 1;
	o->voice_ms = 1000;
	o->voice_ext_ms = 0;       /* no extension: 50 packets, whatever the interval says */
	o->checks = DIAG_CHECK_BIT(DIAG_C_VOICE) | DIAG_CHECK_BIT(DIAG_C_DSCP) | DIAG_CHECK_BIT(DIAG_C_MTU) |
		    DIAG_CHECK_BIT(DIAG_C_RTP_PORTS) | DIAG_CHECK_BIT(DIAG_C_UDP_LIFETIME);
}

/* Run the loop until pred or the bound (ms). */
static void run_until(bool (*pred)(void *), void *arg, unsigned ms)
{
	uint64_t end = ev_now_ms() + ms;

	while (!pred(arg) && ev_now_ms() < end)
		ev_run_once(20);
}

static bool complete2(void *arg)
{
	struct seen *s = arg;

	return s[0].complete && s[1].done;
}

static const char *val(const struct diag_report *rep, enum diag_check_id id, const char *name)
{
	const struct diag_result *r = diag_report_result(rep, id);
	const char *v = r ? diag_result_value(r, name) : NULL;

	return v ? v : "";
}

static void test_clean_and_join(void **state)
{
	struct diag_runner *run = diag_runner_new();
	struct seen seen[3] = { { 0 } };
	struct diag_listener a = { on_check, on_done, on_update, &seen[0] };
	struct diag_listener b = { on_check, on_done, on_update, &seen[1] };
	struct diag_listener c = { on_check, on_done, on_update, &seen[2] };
	const struct diag_report *rep;
	struct diag_opts o;
	uint64_t t0 = ev_now_ms();

	opts_loopback(&o);
	assert_int_equal(diag_runner_start(run, &o, &a), 0);
	assert_true(diag_runner_busy(run));
	assert_int_equal(diag_runner_start(run, &o, &b), 1);   /* joins */
	assert_int_equal(diag_runner_start(run, &o, &c), 1);
	diag_listener_remove(&c);                              /* went away */
	run_until(complete2, seen, 8000);
	assert_int_equal(seen[0].done, 1);
	assert_int_equal(seen[1].done, 1);
	assert_int_equal(seen[2].checks + seen[2].done + seen[2].updates, 0);
	assert_true(seen[0].complete);
	/* 4 local + 5 network checks, each streamed once */
	assert_int_equal(seen[0].checks, 9);
	/* voice: 50 packets, the last at 49*20 ms, then its 1500 ms tail ends the run */
	assert_int_equal(seen[0].done_at - t0, 49 * 20 + 1500);
	assert_int_equal(seen[1].done_at, seen[0].done_at);
	rep = diag_runner_report(run);
	assert_non_null(rep);
	/* no loss on 50 packets: between 0 and 7.1 % at 95 %, a sample too small to rate */
	assert_int_equal(diag_report_result(rep, DIAG_C_VOICE)->verdict, DIAG_WARN);
	assert_string_equal(val(rep, DIAG_C_VOICE, "loss_rating"), "undecided: good..problematic");
	assert_non_null(strstr(diag_report_result(rep, DIAG_C_VOICE)->advice,
			       "loss 0.0 %, between 0.0 and 7.1 % at 95 % (50 packets): cannot tell good from problematic"));
	assert_string_equal(val(rep, DIAG_C_VOICE, "packets_sent"), "50");
	assert_string_equal(val(rep, DIAG_C_VOICE, "packets_received"), "50");
	assert_string_equal(val(rep, DIAG_C_VOICE, "loss"), "0.0");
	assert_int_equal(diag_report_result(rep, DIAG_C_DSCP)->verdict, DIAG_PASS);
	assert_string_equal(val(rep, DIAG_C_DSCP, "audio"), "sent 46/EF arrived 46/EF");
	assert_string_equal(val(rep, DIAG_C_DSCP, "signalling"), "sent 26/AF31 arrived 26/AF31");
	assert_int_equal(diag_report_result(rep, DIAG_C_MTU)->verdict, DIAG_PASS);
	assert_int_equal(diag_report_result(rep, DIAG_C_RTP_PORTS)->verdict, DIAG_PASS);
	assert_int_equal(diag_report_result(rep, DIAG_C_UDP_LIFETIME)->verdict, DIAG_PASS);
	assert_null(diag_report_result(rep, DIAG_C_NAT)); /* not enabled */
	assert_false(diag_runner_busy(run));
	diag_runner_free(run);
}

static bool done1(void *arg)
{
	return ((struct seen *)arg)->done > 0;
}

static void test_voice_loss(void **state)
{
	struct diag_runner *run = diag_runner_new();
	struct seen seen = { 0 };
	struct diag_listener a = { NULL, on_done, NULL, &seen };
	const struct diag_result *v;
	struct diag_opts o;

	opts_loopback(&o);
	o.checks = DIAG_CHECK_BIT(DIAG_C_VOICE);
	R.drop_every = 10; /* 5 of 50 packets: 10 % in 5 single-packet bursts */
	assert_int_equal(diag_runner_start(run, &o, &a), 0);
	run_until(done1, &seen, 5000);
	assert_int_equal(seen.done_at, T0_MS + 49 * 20 + 1500);
	R.drop_every = 0;
	v = diag_report_result(diag_runner_report(run), DIAG_C_VOICE);
	assert_non_null(v);
	assert_int_equal(v->verdict, DIAG_FAIL);
	assert_string_equal(diag_result_value(v, "loss"), "10.0");
	assert_string_equal(diag_result_value(v, "bursts"), "5");
	assert_string_equal(diag_result_value(v, "burst_max"), "1");
	assert_string_equal(diag_result_value(v, "loss_rating"), "problematic");
	assert_non_null(strstr(v->advice, "loss 10.0 %, between 4.3 and 21.4 % at 95 % (50 packets) is problematic"));
	diag_runner_free(run);
}

static void test_silent_reflector(void **state)
{
	struct diag_runner *run = diag_runner_new();
	struct seen seen = { 0 };
	struct diag_listener a = { NULL, on_done, NULL, &seen };
	const struct diag_report *rep;
	struct diag_opts o;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	int mute = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* a socket that receives and never answers */
	assert_int_equal(bind(mute, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(mute, (struct sockaddr *)&sa, &l);
	opts_loopback(&o);
	o.reflector_port = o.rtp_min = o.rtp_max = ntohs(sa.sin_port);
	o.checks &= ~DIAG_CHECK_BIT(DIAG_C_UDP_LIFETIME);
	assert_int_equal(diag_runner_start(run, &o, &a), 0);
	run_until(done1, &seen, 8000);
	assert_int_equal(seen.done_at, T0_MS + 3000);      /* the reflector checks' 3 s budget */
	rep = diag_runner_report(run);
	assert_non_null(rep);
	assert_int_equal(diag_report_result(rep, DIAG_C_RTP_PORTS)->verdict, DIAG_FAIL);
	assert_non_null(strstr(diag_report_result(rep, DIAG_C_RTP_PORTS)->advice,
			       "allow outbound UDP"));
	assert_int_equal(diag_report_result(rep, DIAG_C_VOICE)->verdict, DIAG_FAIL);
	assert_int_equal(diag_report_result(rep, DIAG_C_DSCP)->verdict, DIAG_SKIP);
	assert_int_equal(diag_report_result(rep, DIAG_C_MTU)->verdict, DIAG_SKIP);
	assert_int_equal(diag_report_exit_status(rep), 2);
	diag_runner_free(run);
	close(mute);
}

static void test_all_decided_at_once(void **state)
{
	struct diag_runner *run = diag_runner_new();
	struct seen seen = { 0 };
	struct diag_listener a = { NULL, on_done, NULL, &seen };
	struct diag_opts o;

	opts_loopback(&o);
	o.reflector_host[0] = '\0'; /* no reflector: every reflector check is skipped at once */
	assert_int_equal(diag_runner_start(run, &o, &a), 0);
	assert_int_equal(seen.done, 0); /* never called back from inside start() */
	run_until(done1, &seen, 3000);
	assert_int_equal(seen.done, 1);
	assert_int_equal(seen.done_at, T0_MS);             /* no virtual time passed */
	assert_true(seen.complete);
	assert_int_equal(diag_report_result(diag_runner_report(run), DIAG_C_VOICE)->verdict, DIAG_SKIP);
	diag_runner_free(run);
}

static void test_bad_options(void **state)
{
	struct diag_runner *run = diag_runner_new();
	struct diag_opts o;
	char why[200];

	opts_loopback(&o);
	o.packet_ms = 0;
	assert_int_equal(diag_opts_validate(&o, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "packet_ms"));
	assert_int_equal(diag_runner_start(run, &o, NULL), -EINVAL);
	opts_loopback(&o);
	snprintf(o.prov_url, sizeof(o.prov_url), "http://prov.dialstack.ai/");
	o.checks |= DIAG_CHECK_BIT(DIAG_C_HTTPS);
	assert_int_equal(diag_opts_validate(&o, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "only HTTPS"));
	assert_false(diag_runner_busy(run));
	diag_runner_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_and_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_reflector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_decided_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
