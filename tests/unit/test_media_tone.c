/* test_media_tone.c - tone generator and Goertzel detector. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media/g711.h"
#include "media/tone.h"

#define RATE 8000
#define N 1600                  /* 200 ms */

/* Deterministic white noise (xorshift32, uniform), so failures reproduce. */
static uint32_t rng = 2463534242u;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (double)rng / 4294967296.0 * 2.0 - 1.0;
}

static void gen(int16_t *buf, size_t n, double freq, double dbfs)
{
	struct tone_gen g;

	assert_int_equal(tone_gen_init(&g, freq, dbfs, RATE), 0);
	tone_gen_fill(&g, buf, n);
}

static void test_generator_level_and_phase(void **state)
{
	int16_t a[N], b[N];
	struct tone_gen g;
	double sum = 0.0;
	int i, peak = 0;

	gen(a, N, 1000.0, -6.0);
	for (i = 0; i < N; i++) {
		sum += (double)a[i] * a[i];
		if (abs(a[i]) > peak)
			peak = abs(a[i]);
	}
	/* -6 dBFS: peak 32767 * 0.501 = 16422, RMS peak / sqrt 2. */
	assert_true(abs(peak - 16422) <= 2);
	assert_true(fabs(10.0 * log10(sum / N / (32767.0 * 32767.0 / 2.0)) + 6.0) < 0.05);
	/* Two halves continue the phase exactly. */
	assert_int_equal(tone_gen_init(&g, 1000.0, -6.0, RATE), 0);
	tone_gen_fill(&g, b, N / 2);
	tone_gen_fill(&g, b + N / 2, N / 2);
	assert_memory_equal(a, b, sizeof(a));
	assert_true(fabs(tone_dbm0_to_dbfs(-10.0) + 13.17) < 1e-9);
	assert_int_equal(tone_gen_init(&g, 4000.0, -6.0, RATE), -EINVAL);
	assert_int_equal(tone_gen_init(&g, 1000.0, 1.0, RATE), -EINVAL);
	assert_int_equal(tone_gen_init(&g, 0.0, -6.0, RATE), -EINVAL);
}

static void test_detects_clean_tone_with_level(void **state)
{
	int16_t a[N];
	struct tone_result r;

	gen(a, N, 1000.0, -20.0);
	assert_int_equal(tone_analyse(a, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio > 0.95);
	assert_true(fabs(r.tone_dbfs + 20.0) < 0.2);
	assert_true(fabs(r.total_dbfs + 20.0) < 0.1);
	assert_true(tone_detected(&r, TONE_MIN_RATIO, TONE_MIN_DBFS));
	/* A frequency off the DFT grid is measured as well (generalised Goertzel). */
	gen(a, N, 1017.0, -20.0);
	assert_int_equal(tone_analyse(a, N, RATE, 1017.0, &r), 0);
	assert_true(r.ratio > 0.95);
	assert_true(fabs(r.tone_dbfs + 20.0) < 0.2);
}

static void test_detects_tone_in_noise(void **state)
{
	int16_t a[N];
	struct tone_result r;
	int i;

	gen(a, N, 1000.0, -20.0);
	/* Uniform noise of peak 1000 (about -33 dBFS RMS): SNR about 13 dB. */
	for (i = 0; i < N; i++)
		a[i] = (int16_t)(a[i] + lrint(uniform() * 1000.0));
	assert_int_equal(tone_analyse(a, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio > 0.8 && r.ratio < 1.0);
	assert_true(fabs(r.tone_dbfs + 20.0) < 0.5);
	assert_true(tone_detected(&r, TONE_MIN_RATIO, TONE_MIN_DBFS));
	/* Noise alone has no tone. */
	for (i = 0; i < N; i++)
		a[i] = (int16_t)lrint(uniform() * 10000.0);
	assert_int_equal(tone_analyse(a, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio < 0.05);
	assert_false(tone_detected(&r, TONE_MIN_RATIO, TONE_MIN_DBFS));
}

static void test_detects_after_g711_round_trip(void **state)
{
	int16_t a[N], back[N];
	uint8_t enc[N];
	struct tone_result r;

	gen(a, N, 1000.0, tone_dbm0_to_dbfs(-10.0));
	g711_encode(G711_ULAW, a, N, enc);
	g711_decode(G711_ULAW, enc, N, back);
	assert_int_equal(tone_analyse(back, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio > 0.99);
	assert_true(fabs(r.tone_dbfs - tone_dbm0_to_dbfs(-10.0)) < 0.3);
	g711_encode(G711_ALAW, a, N, enc);
	g711_decode(G711_ALAW, enc, N, back);
	assert_int_equal(tone_analyse(back, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio > 0.99);
	assert_true(tone_detected(&r, TONE_MIN_RATIO, TONE_MIN_DBFS));
}

static void test_rejects_silence_and_wrong_frequency(void **state)
{
	int16_t a[N];
	struct tone_result r;

	memset(a, 0, sizeof(a));
	assert_int_equal(tone_analyse(a, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio == 0.0);
	assert_true(r.tone_dbfs == TONE_FLOOR_DBFS);
	assert_false(tone_detected(&r, TONE_MIN_RATIO, TONE_MIN_DBFS));
	/* A loud 1.5 kHz tone is not a 1 kHz tone. */
	gen(a, N, 1500.0, -3.0);
	assert_int_equal(tone_analyse(a, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio < 0.001);
	assert_false(tone_detected(&r, TONE_MIN_RATIO, TONE_MIN_DBFS));
	/* Even 1.1 kHz (a few bins away) stays far below the threshold. */
	gen(a, N, 1100.0, -3.0);
	assert_int_equal(tone_analyse(a, N, RATE, 1000.0, &r), 0);
	assert_true(r.ratio < 0.01);
	/* A tone far below the level floor is not detected either. */
	gen(a, N, 1000.0, -70.0);
	assert_int_equal(tone_analyse(a, N, RATE, 1000.0, &r), 0);
	assert_false(tone_detected(&r, TONE_MIN_RATIO, TONE_MIN_DBFS));
}

static void test_bad_arguments(void **state)
{
	int16_t a[N] = { 0 };
	struct tone_result r;

	assert_int_equal(tone_analyse(a, 40, RATE, 1000.0, &r), -EINVAL);     /* < 10 ms */
	assert_int_equal(tone_analyse(a, N, RATE, 4000.0, &r), -EINVAL);
	assert_int_equal(tone_analyse(NULL, N, RATE, 1000.0, &r), -EINVAL);
	assert_int_equal(tone_analyse(a, N, 0, 1000.0, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generator_level_and_phase),
		cmocka_unit_test(test_detects_clean_tone_with_level),
		cmocka_unit_test(test_detects_tone_in_noise),
		cmocka_unit_test(test_detects_after_g711_round_trip),
		cmocka_unit_test(test_rejects_silence_and_wrong_frequency),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
