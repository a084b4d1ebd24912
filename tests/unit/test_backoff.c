/* test_backoff.c - exponential backoff with jitter stays within its bounds. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/backoff.h"

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
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_many_failures_do_not_overflow),
	};
	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
