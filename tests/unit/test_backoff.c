/* test_backoff.c - exponential backoff with jitter stays within its bounds.
 * utl_random_range is wrapped at link time (common.mk): by default it passes
 * through to the kernel's source; a test can force it to either end of the
 * window and so check the bounds exactly. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/backoff.h"

enum { RND_REAL, RND_MIN, RND_MAX };
static int rnd_mode;
static uint32_t last_lo, last_hi;

uint32_t __real_utl_random_range(uint32_t lo, uint32_t hi);
uint32_t __wrap_utl_random_range(uint32_t lo, uint32_t hi);
uint32_t __wrap_utl_random_range(uint32_t lo, uint32_t hi)
{
	last_lo = lo;
	last_hi = hi;
	if (rnd_mode == RND_MIN)
		return lo;
	if (rnd_mode == RND_MAX)
		return hi;
	return __real_utl_random_range(lo, hi);
}

/* The window's ends are reached exactly: 50 % and 100 % of the ceiling. */
static void test_window_ends_exact(void **state)
{
	static const uint32_t ceil[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
	struct backoff b;

	for (rnd_mode = RND_MIN; rnd_mode <= RND_MAX; rnd_mode++) {
		bo_init(&b, 1000, 30000);
		for (unsigned i = 0; i < sizeof(ceil) / sizeof(ceil[0]); i++) {
			uint32_t w = bo_next(&b);

			assert_int_equal(last_lo, ceil[i] / 2);
			assert_int_equal(last_hi, ceil[i]);
			assert_int_equal(w, rnd_mode == RND_MIN ? ceil[i] / 2 : ceil[i]);
		}
	}
	rnd_mode = RND_REAL;
	/* an odd ceiling rounds its lower end down */
	bo_init(&b, 1001, 1001);
	(void)bo_next(&b);
	assert_int_equal(last_lo, 500);
	assert_int_equal(last_hi, 1001);
}

static void test_grows_and_caps(void **state)
{
	struct backoff b;
	uint32_t expect[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
	unsigned i;

	bo_init(&b, 1000, 30000);
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		uint32_t ceil = bo_ceiling(&b), w;

		assert_int_equal(ceil, expect[i]);
		w = bo_next(&b);
		assert_true(w >= ceil / 2 && w <= ceil);   /* uniform 50-100 % */
	}
	bo_reset(&b);
	assert_int_equal(bo_ceiling(&b), 1000);
}

static void test_jitter_spreads(void **state)
{
	struct backoff b;
	uint32_t lo = UINT32_MAX, hi = 0;
	int i;

	/* 200 draws at the same step cover most of the 50-100 % band. */
	for (i = 0; i < 200; i++) {
		uint32_t w;

		bo_init(&b, 10000, 10000);
		w = bo_next(&b);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	assert_true(lo < 6000);
	assert_true(hi > 9000);
}

static void test_many_failures_do_not_overflow(void **state)
{
	struct backoff b;
	int i;

	bo_init(&b, 30000, 1800000);
	for (i = 0; i < 1000; i++)
		assert_true(bo_next(&b) <= 1800000);
	assert_int_equal(bo_ceiling(&b), 1800000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_caps),
		cmocka_unit_test(test_window_ends_exact),
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_many_failures_do_not_overflow),
	};
	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
