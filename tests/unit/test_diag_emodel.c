/* test_diag_emodel.c - E-model, RFC 3550 stream statistics and the guide's table,
 * against values computed by hand. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "diag/emodel.h"
#include "diag/rtpstats.h"
#include "diag/verdict.h"

#define NEAR(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static void test_delay_model(void **state)
{
	/* d = RTT/2 + max(2 jitter, 20) + 20 */
	NEAR(emodel_delay_ms(100, 20, 20), 110.0, 1e-9);
	NEAR(emodel_delay_ms(150, 30, 20), 155.0, 1e-9);
	NEAR(emodel_delay_ms(10, 2, 20), 45.0, 1e-9);   /* jitter buffer floor 20 ms */
	NEAR(emodel_delay_ms(-5, 0, 20), 40.0, 1e-9);   /* nonsense RTT counts as 0 */
}

static void test_id_ie(void **state)
{
	NEAR(emodel_id(110), 2.64, 1e-9);
	NEAR(emodel_id(177.3), 4.2552, 1e-9);
	NEAR(emodel_id(200), 4.8 + 0.11 * 22.7, 1e-9);
	NEAR(emodel_ie_eff(0, 25.1, 0, 1), 0.0, 1e-12);
	NEAR(emodel_ie_eff(0, 25.1, 0.5, 1), 95.0 * 0.5 / 25.6, 1e-9);      /* 1.85547 */
	NEAR(emodel_ie_eff(0, 25.1, 2, 2), 95.0 * 2 / (1 + 25.1), 1e-9);    /* 7.2797 */
	NEAR(emodel_ie_eff(0, 4.3, 1, 1), 95.0 / 5.3, 1e-9);                /* no PLC */
}

static void test_mos_from_r(void **state)
{
	NEAR(emodel_mos_from_r(-3), 1.0, 1e-12);
	NEAR(emodel_mos_from_r(0), 1.0, 1e-12);
	NEAR(emodel_mos_from_r(100), 4.5, 1e-12);
	NEAR(emodel_mos_from_r(120), 4.5, 1e-12);
	NEAR(emodel_mos_from_r(50), 2.575, 1e-9);
	NEAR(emodel_mos_from_r(93.2), 4.40929, 1e-5);
}

static void test_field_note_references(void **state)
{
	double r;

	/* RTT 100, jitter 20, 0.5 %: d 110, Id 2.64, Ie_eff 1.8555, R 88.7045, MOS 4.306 */
	NEAR(emodel_mos(&emodel_g711_plc, 100, 20, 0.5, 1, &r), 4.306, 0.001);
	NEAR(r, 88.7045, 0.001);
	/* RTT 150, jitter 30, 1 %: d 155, Id 3.72, Ie_eff 3.6398, R 85.8402, MOS 4.224 */
	NEAR(emodel_mos(&emodel_g711_plc, 150, 30, 1.0, 1, &r), 4.224, 0.001);
	NEAR(r, 85.8402, 0.001);
	/* A clean LAN: RTT 1, jitter 0, no loss: d 40.5, R 92.228, MOS 4.3897 */
	NEAR(emodel_mos(&emodel_g711_plc, 1, 0, 0, 1, &r), 4.3897, 0.001);
	/* Bursty loss is worse than random loss of the same rate. */
	assert_true(emodel_mos(&emodel_g711_plc, 50, 5, 2, 3, NULL) <
		    emodel_mos(&emodel_g711_plc, 50, 5, 2, 1, NULL));
}

static void feed(struct rtpstats *s, uint32_t seq, double send_ms, double transit_ms)
{
	rtpstats_arrival(s, seq, (int64_t)(send_ms * 1e6), (int64_t)((send_ms + transit_ms) * 1e6));
}

static void test_rtp_clean(void **state)
{
	struct rtpstats s;
	struct rtpstats_result r;

	assert_int_equal(rtpstats_init(&s, 500), 0);
	for (uint32_t i = 0; i < 500; i++)
		feed(&s, i, i * 20.0, 5.0);
	rtpstats_result(&s, 500, &r);
	assert_int_equal(r.received, 500);
	assert_int_equal(r.lost, 0);
	NEAR(r.loss_pct, 0, 1e-12);
	NEAR(r.jitter_ms, 0, 1e-9);
	NEAR(r.rtt_min_ms, 5, 1e-6);
	NEAR(r.rtt_max_ms, 5, 1e-6);
	NEAR(r.burst_ratio, 1, 1e-12);
	assert_int_equal(r.bursts, 0);
	rtpstats_free(&s);
}

static void test_rtp_jitter_rfc3550(void **state)
{
	struct rtpstats s;
	struct rtpstats_result r;

	/* transit 0,10,0: J = 10/16 = 0.625, then 0.625 + (10 - 0.625)/16 = 1.2109375 ms */
	assert_int_equal(rtpstats_init(&s, 10), 0);
	feed(&s, 0, 0, 0);
	feed(&s, 1, 20, 10);
	rtpstats_result(&s, 2, &r);
	NEAR(r.jitter_ms, 0.625, 1e-6);
	feed(&s, 2, 40, 0);
	rtpstats_result(&s, 3, &r);
	NEAR(r.jitter_ms, 1.2109375, 1e-6);
	NEAR(r.rtt_min_ms, 0, 1e-6);
	NEAR(r.rtt_max_ms, 10, 1e-6);
	NEAR(r.rtt_avg_ms, 10.0 / 3, 1e-6);
	rtpstats_free(&s);

	/* The lab's delay pattern 20,40,20,60 ms: |D| cycles 20,20,40,40 -> J settles near 30 ms. */
	assert_int_equal(rtpstats_init(&s, 1000), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		static const double pat[] = { 20, 40, 20, 60 };

		feed(&s, i, i * 20.0, pat[i % 4]);
	}
	rtpstats_result(&s, 1000, &r);
	assert_true(r.jitter_ms > 27 && r.jitter_ms < 33);
	NEAR(r.rtt_avg_ms, 35, 1e-6);
	rtpstats_free(&s);
}

static void test_rtp_loss_bursts(void **state)
{
	struct rtpstats s;
	struct rtpstats_result r;

	assert_int_equal(rtpstats_init(&s, 100), 0);
	for (uint32_t i = 0; i < 100; i++) {
		if ((i >= 10 && i <= 12) || i == 50)
			continue;
		feed(&s, i, i * 20.0, 1);
	}
	rtpstats_result(&s, 100, &r);
	assert_int_equal(r.lost, 4);
	NEAR(r.loss_pct, 4.0, 1e-9);
	assert_int_equal(r.bursts, 2);
	assert_int_equal(r.burst_max, 3);
	NEAR(r.burst_mean, 2.0, 1e-9);
	/* p = 2 / 96, q = 2 / 4: BurstR = 1 / (p + q) = 1.92 */
	NEAR(r.burst_ratio, 1.92, 1e-9);
	rtpstats_free(&s);

	/* Evenly spread single losses (every 10th): p = 10/90, q = 1 -> BurstR 0.9 (< 1: dispersed). */
	assert_int_equal(rtpstats_init(&s, 100), 0);
	for (uint32_t i = 0; i < 100; i++)
		if (i % 10 != 5)
			feed(&s, i, i * 20.0, 1);
	rtpstats_result(&s, 100, &r);
	assert_int_equal(r.lost, 10);
	assert_int_equal(r.bursts, 10);
	NEAR(r.burst_ratio, 0.9, 1e-9);
	rtpstats_free(&s);

	/* Tail loss and packets that never arrived at all. */
	assert_int_equal(rtpstats_init(&s, 10), 0);
	for (uint32_t i = 0; i < 8; i++)
		feed(&s, i, i * 20.0, 1);
	rtpstats_result(&s, 10, &r);
	assert_int_equal(r.lost, 2);
	assert_int_equal(r.bursts, 1);
	rtpstats_free(&s);

	/* Nothing arrived: 100 % loss, RTT not a number. */
	assert_int_equal(rtpstats_init(&s, 10), 0);
	rtpstats_result(&s, 10, &r);
	NEAR(r.loss_pct, 100, 1e-9);
	assert_true(isnan(r.rtt_avg_ms));
	rtpstats_free(&s);
}

static void test_rtp_dup_reorder(void **state)
{
	struct rtpstats s;
	struct rtpstats_result r;

	assert_int_equal(rtpstats_init(&s, 4), 0);
	feed(&s, 0, 0, 1);
	feed(&s, 2, 40, 1);
	feed(&s, 1, 20, 25);
	feed(&s, 2, 40, 2);
	feed(&s, 9, 60, 1); /* beyond capacity: ignored, no crash */
	rtpstats_result(&s, 3, &r);
	assert_int_equal(r.received, 3);
	assert_int_equal(r.duplicates, 1);
	assert_int_equal(r.reordered, 1);
	assert_int_equal(r.lost, 0);
	rtpstats_free(&s);
	assert_int_equal(rtpstats_init(&s, 0), -EINVAL);
}

static void test_verdict_table(void **state)
{
	struct diag_thresholds t;
	static const struct {
		enum diag_metric m;
		double v;
		enum diag_rating want;
	} rows[] = {
		{ DIAG_M_JITTER, 0, DIAG_GOOD },        { DIAG_M_JITTER, 19.9, DIAG_GOOD },
		{ DIAG_M_JITTER, 20, DIAG_ACCEPTABLE }, { DIAG_M_JITTER, 29.9, DIAG_ACCEPTABLE },
		{ DIAG_M_JITTER, 30, DIAG_MARGINAL },   { DIAG_M_JITTER, 30.1, DIAG_PROBLEMATIC },
		{ DIAG_M_LOSS, 0.4, DIAG_GOOD },        { DIAG_M_LOSS, 0.5, DIAG_ACCEPTABLE },
		{ DIAG_M_LOSS, 1.0, DIAG_MARGINAL },    { DIAG_M_LOSS, 2.0, DIAG_PROBLEMATIC },
		{ DIAG_M_RTT, 99, DIAG_GOOD },          { DIAG_M_RTT, 149, DIAG_ACCEPTABLE },
		{ DIAG_M_RTT, 170, DIAG_MARGINAL },     { DIAG_M_RTT, 200, DIAG_MARGINAL },
		{ DIAG_M_RTT, 201, DIAG_PROBLEMATIC },  { DIAG_M_RTT, NAN, DIAG_PROBLEMATIC },
	};

	diag_thresholds_default(&t);
	assert_int_equal(diag_thresholds_validate(&t), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(diag_rate(&t, rows[i].m, rows[i].v), rows[i].want);
	assert_int_equal(diag_rating_verdict(DIAG_GOOD), DIAG_PASS);
	assert_int_equal(diag_rating_verdict(DIAG_ACCEPTABLE), DIAG_PASS);
	assert_int_equal(diag_rating_verdict(DIAG_MARGINAL), DIAG_WARN);
	assert_int_equal(diag_rating_verdict(DIAG_PROBLEMATIC), DIAG_FAIL);
	assert_int_equal(diag_verdict_worst(DIAG_SKIP, DIAG_PASS), DIAG_PASS);
	assert_int_equal(diag_verdict_worst(DIAG_WARN, DIAG_PASS), DIAG_WARN);
	assert_int_equal(diag_verdict_worst(DIAG_WARN, DIAG_FAIL), DIAG_FAIL);
	assert_string_equal(diag_verdict_name(DIAG_SKIP), "SKIP");
	assert_string_equal(diag_rating_name(DIAG_PROBLEMATIC), "problematic");
	t.m[DIAG_M_LOSS].good = 5; /* good above acceptable */
	assert_int_equal(diag_thresholds_validate(&t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_model),
		cmocka_unit_test(test_id_ie),
		cmocka_unit_test(test_mos_from_r),
		cmocka_unit_test(test_field_note_references),
		cmocka_unit_test(test_rtp_clean),
		cmocka_unit_test(test_rtp_jitter_rfc3550),
		cmocka_unit_test(test_rtp_loss_bursts),
		cmocka_unit_test(test_rtp_dup_reorder),
		cmocka_unit_test(test_verdict_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
