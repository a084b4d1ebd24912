/* test_sip_budget.c - common/budget.c, the token bucket every REGISTER draws
 * from: burst, refill, exact waits, no drift, the bound over a window. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/budget.h"

static void test_burst_then_rate(void **state)
{
	struct budget b;
	uint64_t t = 1000000;
	int i;

	bgt_init(&b, 6, 20000);
	assert_int_equal(bgt_tokens(&b, t), 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(bgt_take(&b, t), 0);
	assert_int_equal(bgt_tokens(&b, t), 0);
	/* empty: the next token is exactly one interval away */
	assert_int_equal(bgt_take(&b, t), 20000);
	assert_int_equal(bgt_wait_ms(&b, t + 5000), 15000);
	assert_int_equal(bgt_take(&b, t + 19999), 1);
	assert_int_equal(bgt_take(&b, t + 20000), 0);
	assert_int_equal(bgt_take(&b, t + 20000), 20000);
	assert_int_equal(b.taken, 7);
	assert_int_equal(b.refused, 3);
	/* idle long enough: full again, never more than burst */
	assert_int_equal(bgt_tokens(&b, t + 10000000), 6);
}

/* A client that takes whenever it may, every ms, for 10 minutes: exactly the bound. */
static void test_bound_over_window(void **state)
{
	struct budget b;
	uint64_t t, got = 0;

	bgt_init(&b, 6, 20000);
	for (t = 0; t <= 600000; t++)
		if (bgt_take(&b, 5000 + t) == 0)
			got++;
	assert_int_equal(got, bgt_max_in(&b, 600000));
	assert_int_equal(got, 6 + 30);
}

static void test_degenerate(void **state)
{
	struct budget b;

	bgt_init(&b, 0, 0);      /* treated as 1 token, 1 ms */
	assert_int_equal(bgt_take(&b, 0), 0);
	assert_int_equal(bgt_take(&b, 0), 1);
	assert_int_equal(bgt_take(&b, 1), 0);
	/* time going backwards never yields tokens */
	assert_true(bgt_take(&b, 0) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_bound_over_window),
		cmocka_unit_test(test_degenerate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
