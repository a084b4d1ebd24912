/* test_diag_load.c - a busy phone is not blamed on the network: the load judgement
 * (diag/load.c), PSI/loadavg parsing, the timer-lateness monitor on the virtual clock, and the
 * INCONCLUSIVE outcome in the report (summary, display, exit status). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/ev.h"
#include "diag/load.h"
#include "diag/report.h"

static void test_judge(void **state)
{
	struct diag_busy b;

	/* a 4 s UDP probe during which our own timers ran 850 ms late: explained */
	diag_load_judge(850, 72, -1, 4000, &b);
	assert_true(b.busy);
	assert_string_equal(b.why, "its own timers ran up to 850 ms late; CPU pressure 72 % (avg10)");
	/* 30 ms late in a 4 s probe, pressure low: the network's */
	diag_load_judge(30, 10, -1, 4000, &b);
	assert_false(b.busy);
	/* 120 ms late in a 5 s TCP check: bound max(100, 500) = 500 ms, not explained ... */
	diag_load_judge(120, 20, -1, 5000, &b);
	assert_false(b.busy);
	/* ... unless the CPU was saturated (>= 80 % pressure) and the lateness >= 50 ms */
	diag_load_judge(120, 93, -1, 5000, &b);
	assert_true(b.busy);
	/* no PSI: loadavg per CPU stands in */
	diag_load_judge(60, -1, 4.5, 5000, &b);
	assert_true(b.busy);
	assert_non_null(strstr(b.why, "load 4.5 per CPU"));
	diag_load_judge(60, -1, 1.0, 5000, &b);
	assert_false(b.busy);
	/* a short check: the 100 ms floor */
	diag_load_judge(100, -1, -1, 300, &b);
	assert_true(b.busy);
	diag_load_judge(99, -1, -1, 300, &b);
	assert_false(b.busy);
}

static void test_parse(void **state)
{
	char path[] = "/tmp/dsa-load-XXXXXX";
	int fd = mkstemp(path);
	double v;
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	f = fopen(path, "w");
	fputs("some avg10=63.25 avg60=40.00 avg300=10.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", f);
	fclose(f);
	assert_int_equal(diag_load_psi(path, &v), 0);
	assert_true(v > 63.24 && v < 63.26);
	f = fopen(path, "w");
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(diag_load_psi(path, &v), -EINVAL);
	f = fopen(path, "w");
	fputs("3.00 2.00 1.00 5/100 1234\n", f);
	fclose(f);
	assert_int_equal(diag_load_avg_per_cpu(path, &v), 0);
	assert_true(v > 0);
	unlink(path);
	assert_true(diag_load_psi("/nonexistent/pressure", &v) < 0);
}

/* On the virtual clock the ticks fire at their exact deadlines: no lateness, ever. */
static void test_monitor_virtual(void **state)
{
	struct diag_load *l;
	unsigned n = 0;
	uint64_t t0;

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(1000000);
	l = diag_load_new();
	assert_non_null(l);
	t0 = ev_now_ms();
	diag_load_start(l);
	ev_clock_advance_ms(1000);
	assert_int_equal(diag_load_late_max_ms(l, t0, ev_now_ms(), &n), 0);
	assert_int_equal(n, 1000 / DIAG_LOAD_TICK_MS);
	diag_load_free(l);
	ev_done();
}

static void test_report_inconclusive(void **state)
{
	struct diag_report *rep = calloc(1, sizeof(*rep));
	char sum[DIAG_SUMMARY_MAX], line[64];

	assert_non_null(rep);
	rep->complete = true;
	rep->present[DIAG_C_HTTPS] = rep->present[DIAG_C_LINK] = true;
	rep->results[DIAG_C_LINK] = (struct diag_result){ .check = DIAG_C_LINK, .id = "link", .title = "Link",
							  .verdict = DIAG_PASS, .done = true };
	rep->results[DIAG_C_HTTPS] = (struct diag_result){ .check = DIAG_C_HTTPS, .id = "https", .title = "HTTPS 443",
							   .verdict = DIAG_INCONCLUSIVE, .done = true };
	snprintf(rep->results[DIAG_C_HTTPS].brief, sizeof(rep->results[DIAG_C_HTTPS].brief),
		 "inconclusive: phone busy");
	diag_report_compute(rep);
	assert_int_equal(rep->overall, DIAG_INCONCLUSIVE);
	assert_int_equal(diag_report_exit_status(rep), 1);
	assert_true(diag_report_summary(rep, sum, sizeof(sum)) > 0);
	assert_non_null(strstr(sum, "r=inconclusive"));
	assert_non_null(strstr(sum, ";inc=https"));
	assert_null(strstr(sum, "fail="));
	diag_result_line(&rep->results[DIAG_C_HTTPS], line, sizeof(line));
	assert_true(strncmp(line, "BUSY ", 5) == 0);
	assert_true(strlen(line) <= DIAG_LINE_COLS);
	assert_int_equal(diag_verdict_worst(DIAG_INCONCLUSIVE, DIAG_FAIL), DIAG_FAIL);
	assert_int_equal(diag_verdict_worst(DIAG_INCONCLUSIVE, DIAG_WARN), DIAG_WARN);
	assert_int_equal(diag_verdict_worst(DIAG_PASS, DIAG_INCONCLUSIVE), DIAG_INCONCLUSIVE);
	free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_monitor_virtual),
		cmocka_unit_test(test_report_inconclusive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
