/* test_aeabi_div.c - 32-bit division and remainder against 64-bit arithmetic. On armhf (run
 * under qemu-user by tests/cross) the 32-bit ones are common/aeabi_div.S, the compact
 * __aeabi_uidivmod / __aeabi_idivmod that replace libgcc's; elsewhere the CPU's own, so the
 * test is the same everywhere. Edge values by table, then 2 million pseudo-random pairs
 * (xorshift, a fixed seed: the same pairs every run), divisors of every bit length. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* volatile: the divisions happen at run time, through the run-time ABI's functions */
static volatile uint32_t un, ud;
static volatile int32_t sn, sd;

static void check_pair(uint32_t a, uint32_t b)
{
	int32_t sa = (int32_t)a, sb = (int32_t)b;

	if (!b)
		return;
	un = a;
	ud = b;
	if (un / ud != (uint32_t)((uint64_t)a / b) || un % ud != (uint32_t)((uint64_t)a % b))
		fail_msg("%u / %u = %u rest %u", a, b, un / ud, un % ud);
	if (sa == INT32_MIN && sb == -1)
		return; /* overflows: undefined in C */
	sn = sa;
	sd = sb;
	if (sn / sd != (int32_t)((int64_t)sa / sb) || sn % sd != (int32_t)((int64_t)sa % sb))
		fail_msg("%d / %d = %d rest %d", sa, sb, sn / sd, sn % sd);
}

static void test_edges(void **state)
{
	static const uint32_t edge[] = {
		0, 1, 2, 3, 5, 7, 10, 100, 1000, 8000, 65535, 65536, 65537, 1000000, 12345678u,
		0x7ffffffeu, 0x7fffffffu, 0x80000000u, 0x80000001u, 3000000000u, 0xfffffffeu, 0xffffffffu,
	};
	const size_t n = sizeof(edge) / sizeof(edge[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			check_pair(edge[i], edge[j]);
	for (unsigned s = 0; s < 32; s++)   /* every power of two, and one less, both ways */
		for (unsigned t = 0; t < 32; t++) {
			check_pair(1u << s, 1u << t);
			check_pair((1u << s) - 1, (1u << t) | 1);
			check_pair(~0u << s, (1u << t) + 1);
		}
}

static void test_random(void **state)
{
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (long i = 0; i < 2000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_pair((uint32_t)x, (uint32_t)(x >> 32) >> ((x >> 27) & 31));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
