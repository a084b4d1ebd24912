/* test_diag_voice.c - the voice check's loss interval and its extension (diag/chk_voice.c), on the
 * virtual clock against a loopback reflector that drops an exact pattern: no loss is rated good
 * only after enough packets, 2 % is problematic within a second of extension, 0.7 % is never decided by
 * the sample (WARN naming the interval at the cap), and the extension never outlives the
 * run's budget. */
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

static struct {
	struct ev_fd w;
	unsigned port;
	unsigned drop_num, drop_den;     /* drop seq when (seq * num) % den < num: num/den exactly */
} R;

static void refl_read(struct ev_fd *w, unsigned ev)
{
	uint8_t in[1500], out[32 + 1500];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(w->fd, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >= 0) {
		if (R.drop_den && n >= 16 && in[0] == 0x80) {
			uint32_t seq = (uint32_t)in[12] << 24 | (uint32_t)in[13] << 16 | (uint32_t)in[14] << 8 | in[15];

			if ((uint64_t)seq * R.drop_num % R.drop_den < R.drop_num)
				continue;
		}
		memset(out, 0, 32);
		memcpy(out, "DSAR", 4);
		out[4] = 1;
		memcpy(out + 32, in, (size_t)n);
		sendto(w->fd, out, 32 + (size_t)n, 0, (struct sockaddr *)&from, fl);
		fl = sizeof(from);
	}
}

static int setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int sz = 1 << 20;

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(1000000);
	memset(&R, 0, sizeof(R));
	R.w.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(R.w.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	assert_int_equal(bind(R.w.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(R.w.fd, (struct sockaddr *)&a, &l);
	R.port = ntohs(a.sin_port);
	R.w.cb = refl_read;
	ev_fd_add(&R.w, EV_READ);
	return 0;
}

static int teardown(void **state)
{
	close(R.w.fd);
	ev_done();
	return 0;
}

static bool done;

static void on_done(const struct diag_report *rep, void *arg)
{
	done = true;
}

static const struct diag_result *run_voice(unsigned budget_ms, struct diag_runner **rp)
{
	struct diag_runner *r = diag_runner_new();
	struct diag_listener l = { NULL, on_done, NULL, NULL };
	struct diag_opts o;

	diag_opts_default(&o);
	utl_strlcpy(o.ifname, "lo", sizeof(o.ifname));
	snprintf(o.reflector_host, sizeof(o.reflector_host), "127.0.0.1");
	o.reflector_port = R.port;
	o.rtp_min = o.rtp_max = R.port;
	o.run_budget_ms = budget_ms;
	o.checks = DIAG_CHECK_BIT(DIAG_C_VOICE);
	done = false;
	assert_int_equal(diag_runner_start(r, &o, &l), 0);
	for (int i = 0; i < 100000 && !done; i++)
		ev_run_once(20);
	assert_true(done);
	*rp = r;
	return diag_report_result(diag_runner_report(r), DIAG_C_VOICE);
}

static unsigned uval(const struct diag_result *r, const char *name)
{
	const char *v = diag_result_value(r, name);

	return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

static const char *val(const struct diag_result *r, const char *name)
{
	const char *v = diag_result_value(r, name);

	return v ? v : "";
}

/* No loss: 500 packets cannot say "good" (0-0.76 %); the extension goes on until the 99 %
 * interval is below 0.5 % (>= 1320 packets counted, 1 s old), then the 95 % figure is good. */
static void test_no_loss_extended_to_good(void **state)
{
	struct diag_runner *r;
	const struct diag_result *v = run_voice(30000, &r);

	print_message("sent %u: %s | %s\n", uval(v, "packets_sent"), val(v, "loss_pooled"), v->advice);
	assert_int_equal(v->verdict, DIAG_PASS);
	assert_string_equal(val(v, "loss_rating"), "good");
	assert_true(uval(v, "packets_sent") >= 1320 && uval(v, "packets_sent") <= 1800);
	assert_true(strlen(val(v, "extended")) > 0);
	assert_int_equal(uval(v, "rtt_samples"), 500); /* RTT and jitter: the paced stream only */
	diag_runner_free(r);
}

/* 2 % (1 in 50): the first look (450 packets 1 s old, 99 %: 0.8-4.7 %) cannot decide, the next one
 * a second into the extension can: problematic. */
static void test_two_percent_problematic_soon(void **state)
{
	struct diag_runner *r;
	const struct diag_result *v;

	R.drop_num = 1;
	R.drop_den = 50;
	v = run_voice(30000, &r);
	print_message("sent %u: %s | %s\n", uval(v, "packets_sent"), val(v, "loss_pooled"), v->advice);
	assert_int_equal(v->verdict, DIAG_FAIL);
	assert_string_equal(val(v, "loss_rating"), "problematic");
	assert_true(uval(v, "packets_sent") > 500 && uval(v, "packets_sent") <= 900);
	diag_runner_free(r);
}

/* 0.7 % (7 in 1000, spread evenly): never decided; the cap (2000 more packets), then WARN naming
 * the interval, never FAIL. */
static void test_point_seven_warns_with_interval(void **state)
{
	struct diag_runner *r;
	const struct diag_result *v;

	R.drop_num = 7;
	R.drop_den = 1000;
	v = run_voice(30000, &r);
	print_message("sent %u: %s | %s\n", uval(v, "packets_sent"), val(v, "loss_pooled"), v->advice);
	assert_int_equal(v->verdict, DIAG_WARN);
	assert_int_equal(uval(v, "packets_sent"), 2500);
	assert_non_null(strstr(v->advice, "between"));
	assert_non_null(strstr(v->advice, "at 95 % (2500 packets): cannot tell"));
	assert_non_null(strstr(v->advice, "run a longer test"));
	diag_runner_free(r);
}

/* A tight budget: the extension ends, with its tail, 1 s before the run's deadline. */
static void test_extension_within_budget(void **state)
{
	struct diag_runner *r;
	const struct diag_result *v;

	R.drop_num = 7;
	R.drop_den = 1000;
	v = run_voice(14000, &r);
	print_message("sent %u in %llu ms\n", uval(v, "packets_sent"), (unsigned long long)v->duration_ms);
	assert_true(uval(v, "packets_sent") <= 500 + (14000 - 10000 - 2500) / 5);
	assert_true(v->duration_ms < 14000);
	assert_int_equal(v->verdict, DIAG_WARN);
	diag_runner_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_loss_extended_to_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_percent_problematic_soon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_point_seven_warns_with_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extension_within_budget, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
