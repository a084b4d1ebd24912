/* test_aeabi_div.c - integer division and remainder: 32-bit against 64-bit arithmetic, 64-bit
 * against a bit-by-bit long division in C (no division operator). On armhf (run under
 * qemu-user by tests/cross) they are common/aeabi_div.S, the compact __aeabi_uidivmod /
 * __aeabi_idivmod / __aeabi_uldivmod / __aeabi_ldivmod that replace libgcc's; elsewhere the
 * CPU's own, so the test is the same everywhere. Edge values by table, then pseudo-random
 * pairs (xorshift, a fixed seed: the same pairs every run), divisors of every bit length. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* volatile: the divisions happen at run time, through the run-time ABI's functions */
static volatile uint32_t un, ud;
static volatile int32_t sn, sd;
static volatile uint64_t un64, ud64;
static volatile int64_t sn64, sd64;

/* n / d and n % d by shift and subtract, for reference (d != 0) */
static uint64_t ref_udivmod(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	for (int i = 63; i >= 0; i--) {
		int top = (int)(r >> 63);

		r = r << 1 | ((n >> i) & 1);
		if (top || r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	*rem = r;
	return q;
}

static void check_pair64(uint64_t a, uint64_t b)
{
	int64_t sa = (int64_t)a, sb = (int64_t)b;
	uint64_t r, q, ua, ub;

	if (!b)
		return;
	q = ref_udivmod(a, b, &r);
	un64 = a;
	ud64 = b;
	if (un64 / ud64 != q || un64 % ud64 != r)
		fail_msg("%llu / %llu = %llu rest %llu", (unsigned long long)a, (unsigned long long)b,
			 (unsigned long long)(un64 / ud64), (unsigned long long)(un64 % ud64));
	if (sa == INT64_MIN && sb == -1)
		return; /* overflows: undefined in C */
	ua = sa < 0 ? 0 - a : a;
	ub = sb < 0 ? 0 - b : b;
	q = ref_udivmod(ua, ub, &r);
	if ((sa < 0) != (sb < 0))
		q = 0 - q;
	if (sa < 0)
		r = 0 - r;
	sn64 = sa;
	sd64 = sb;
	if ((uint64_t)(sn64 / sd64) != q || (uint64_t)(sn64 % sd64) != r)
		fail_msg("%lld / %lld = %lld rest %lld", (long long)sa, (long long)sb, (long long)(sn64 / sd64),
			 (long long)(sn64 % sd64));
}

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

static void test_edges64(void **state)
{
	static const uint64_t edge[] = {
		0, 1, 2, 3, 7, 10, 1000, 1000000, 0xffffffffull, 0x100000000ull, 0x100000001ull,
		1700000000000000ull, 0x7ffffffffffffffeull, 0x7fffffffffffffffull, 0x8000000000000000ull,
		0x8000000000000001ull, 0xfffffffffffffffeull, 0xffffffffffffffffull,
	};
	const size_t n = sizeof(edge) / sizeof(edge[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			check_pair64(edge[i], edge[j]);
	for (unsigned s = 0; s < 64; s += 3)
		for (unsigned t = 0; t < 64; t += 5) {
			check_pair64(1ull << s, 1ull << t);
			check_pair64((1ull << s) - 1, (1ull << t) | 1);
			check_pair64(~0ull << s, (1ull << t) + 1);
		}
}

static void test_random64(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (long i = 0; i < 200000; i++) {
		uint64_t a, b;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a = x >> (x & 63);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b = x >> (x & 63);
		check_pair64(a, b);
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
		cmocka_unit_test(test_edges64),
		cmocka_unit_test(test_random64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
