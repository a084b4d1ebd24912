/* test_diag_stats.c - Wilson score intervals, rating by interval (diag/stats.c) and values that
 * are never silently cut (diag_value_add). Reference intervals computed by hand from
 * (p + z^2/2n ± z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.96. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "diag/check.h"
#include "diag/probe.h"
#include "diag/stats.h"
#include "diag/verdict.h"

#define NEAR(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static void test_wilson_reference(void **state)
{
	static const struct {
		uint64_t k, n;
		double lo, hi;
	} ref[] = {
		{ 0, 500, 0, 0.762434 },  { 0, 768, 0, 0.497701 },      { 3, 500, 0.204260, 1.749025 },
		{ 35, 5000, 0.503764, 0.971932 }, { 10, 500, 1.089918, 3.642018 }, { 5, 750, 0.285086, 1.551037 },
	};
	double lo, hi;

	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		diag_wilson_pct(ref[i].k, ref[i].n, DIAG_Z95, &lo, &hi);
		NEAR(lo, ref[i].lo, 1e-5);
		NEAR(hi, ref[i].hi, 1e-5);
	}
	diag_wilson_pct(0, 0, DIAG_Z95, &lo, &hi);
	NEAR(lo, 0, 0);
	NEAR(hi, 100, 0);
	diag_wilson_pct(9, 9, DIAG_Z95, &lo, &hi);
	NEAR(hi, 100, 1e-9);
	diag_wilson_pct(12, 9, DIAG_Z95, &lo, &hi); /* k > n is clamped */
	NEAR(hi, 100, 1e-9);
}

static void test_rate_by_interval(void **state)
{
	struct diag_thresholds t;
	struct diag_irate ir;
	char s[200];

	diag_thresholds_default(&t);
	/* no loss on 500: cannot tell good from acceptable yet (upper end 0.76 %) */
	diag_rate_rate(&t, DIAG_M_LOSS, 0, 500, &ir);
	assert_false(ir.decided);
	assert_int_equal(ir.verdict, DIAG_WARN);
	assert_int_equal(ir.lo_rating, DIAG_GOOD);
	assert_int_equal(ir.hi_rating, DIAG_ACCEPTABLE);
	/* ... on 768 it can */
	diag_rate_rate(&t, DIAG_M_LOSS, 0, 768, &ir);
	assert_true(ir.decided);
	assert_int_equal(ir.rating, DIAG_GOOD);
	assert_int_equal(ir.verdict, DIAG_PASS);
	/* the case: 0.7 % on 500 */
	diag_rate_rate(&t, DIAG_M_LOSS, 3, 500, &ir);
	assert_false(ir.decided);
	assert_int_equal(ir.verdict, DIAG_WARN);
	diag_irate_sentence(&ir, DIAG_M_LOSS, s, sizeof(s));
	assert_string_equal(s, "loss 0.6 %, between 0.2 and 1.7 % at 95 % (500 packets): cannot tell good from "
			       "problematic; run a longer test");
	/* 0.7 % on 5000: acceptable, interval inside [0.5, 1) */
	diag_rate_rate(&t, DIAG_M_LOSS, 35, 5000, &ir);
	assert_true(ir.decided);
	assert_int_equal(ir.rating, DIAG_ACCEPTABLE);
	assert_int_equal(ir.verdict, DIAG_PASS);
	diag_irate_sentence(&ir, DIAG_M_LOSS, s, sizeof(s));
	assert_string_equal(s, "loss 0.7 %, between 0.5 and 1.0 % at 95 % (5000 packets) is acceptable");
	/* 2 % on 500: problematic for sure */
	diag_rate_rate(&t, DIAG_M_LOSS, 10, 500, &ir);
	assert_true(ir.decided);
	assert_int_equal(ir.rating, DIAG_PROBLEMATIC);
	assert_int_equal(ir.verdict, DIAG_FAIL);
	/* nothing measured */
	diag_rate_rate(&t, DIAG_M_LOSS, 0, 0, &ir);
	assert_false(ir.decided);
	assert_int_equal(ir.verdict, DIAG_WARN);
}

/* Over every possible count at n = 750, a band is given only when the interval lies inside it, and
 * an undecided rate is never FAIL. At a true 0.7 % the probability (binomial) that the sample is
 * rated good or problematic is below 0.5 %: the case is no longer decided by chance. */
static void test_never_decided_by_chance(void **state)
{
	struct diag_thresholds t;
	const uint64_t n = 750;
	const double p = 0.007;
	double wrong = 0;

	diag_thresholds_default(&t);
	for (uint64_t k = 0; k <= n; k++) {
		struct diag_irate ir;

		diag_rate_rate(&t, DIAG_M_LOSS, k, n, &ir);
		if (ir.decided) {
			assert_int_equal(diag_rate(&t, DIAG_M_LOSS, ir.lo), diag_rate(&t, DIAG_M_LOSS, ir.hi));
			if (ir.rating == DIAG_GOOD || ir.rating == DIAG_PROBLEMATIC)
				wrong += exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) + k * log(p) +
					     (n - k) * log1p(-p));
		} else {
			assert_int_equal(ir.verdict, DIAG_WARN);
		}
	}
	print_message("P(good or problematic | 0.7 %%, 750 packets) = %.4f\n", wrong);
	assert_true(wrong < 0.005);
}

/* A value too long for the report ends in "..." rather than being cut silently. */
static void test_value_never_silently_cut(void **state)
{
	struct diag_result r;
	char longv[200];

	memset(&r, 0, sizeof(r));
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	diag_value_add(&r, "short", "", "%s", "ok");
	diag_value_add(&r, "long", "", "%s", longv);
	assert_string_equal(r.values[0].value, "ok");
	assert_int_equal(strlen(r.values[1].value), sizeof(r.values[1].value) - 1);
	assert_string_equal(r.values[1].value + sizeof(r.values[1].value) - 4, "...");
	/* room for every voice value (20 before the intervals and sample counts) */
	assert_true(DIAG_MAX_VALUES >= 28);
}

/* DSCP values named both ways (the report says "46/EF arrived as 34/AF41"). */
static void test_dscp_names(void **state)
{
	static const struct {
		int dscp;
		const char *name;
	} t[] = { { 46, "46/EF" }, { 34, "34/AF41" }, { 26, "26/AF31" }, { 0, "0/CS0" }, { 8, "8/CS1" },
		  { 48, "48/CS6" }, { 10, "10/AF11" }, { 38, "38/AF43" }, { 44, "44/VOICE-ADMIT" }, { 7, "7" },
		  { 40, "40/CS5" }, { 42, "42" }, { 63, "63" } };
	char b[20];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(diag_dscp_name(t[i].dscp, b, sizeof(b)), t[i].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wilson_reference),
		cmocka_unit_test(test_rate_by_interval),
		cmocka_unit_test(test_never_decided_by_chance),
		cmocka_unit_test(test_value_never_silently_cut),
		cmocka_unit_test(test_dscp_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
