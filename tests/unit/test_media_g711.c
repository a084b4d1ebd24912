/* test_media_g711.c - G.711 against known code points and round-trip bounds. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "media/g711.h"

static void test_known_values(void **state)
{
	/* Silence, the classic idle codes. */
	assert_int_equal(g711_ulaw_encode(0), 0xFF);
	assert_int_equal(g711_alaw_encode(0), 0xD5);
	assert_int_equal(g711_ulaw_decode(0xFF), 0);
	assert_int_equal(g711_ulaw_decode(0x7F), 0);
	assert_int_equal(g711_alaw_decode(0xD5), 8);
	assert_int_equal(g711_alaw_decode(0x55), -8);
	/* Full scale: mu-law 0x80 / 0x00 decode to +/-32124, A-law 0xAA / 0x2A to +/-32256. */
	assert_int_equal(g711_ulaw_encode(32767), 0x80);
	assert_int_equal(g711_ulaw_encode(-32768), 0x00);
	assert_int_equal(g711_ulaw_decode(0x80), 32124);
	assert_int_equal(g711_ulaw_decode(0x00), -32124);
	assert_int_equal(g711_alaw_encode(32767), 0xAA);
	assert_int_equal(g711_alaw_encode(-32768), 0x2A);
	assert_int_equal(g711_alaw_decode(0xAA), 32256);
	assert_int_equal(g711_alaw_decode(0x2A), -32256);
	/* A mid-range value: 1000 -> mu-law 0xCE (decodes to 988), A-law 0xFA (1008). */
	assert_int_equal(g711_ulaw_encode(1000), 0xCE);
	assert_int_equal(g711_ulaw_decode(0xCE), 988);
	assert_int_equal(g711_alaw_encode(1000), 0xFA);
	assert_int_equal(g711_alaw_decode(0xFA), 1008);
}

static void test_codes_are_fixed_points(void **state)
{
	int c;

	for (c = 0; c < 256; c++) {
		if (c != 0x7F)      /* mu-law "negative zero" decodes to 0, which encodes as 0xFF */
			assert_int_equal(g711_ulaw_encode(g711_ulaw_decode((uint8_t)c)), c);
		assert_int_equal(g711_alaw_encode(g711_alaw_decode((uint8_t)c)), c);
	}
}

static void test_round_trip_error_bounds(void **state)
{
	int x;

	for (x = -32768; x <= 32767; x++) {
		int mag = abs(x);
		int eu = abs(g711_ulaw_decode(g711_ulaw_encode((int16_t)x)) - x);
		int ea = abs(g711_alaw_decode(g711_alaw_encode((int16_t)x)) - x);

		if (mag <= 32000) {
			/* Half a quantisation step: at most 1/32 of the value plus the smallest step. */
			assert_true(eu <= mag / 32 + 8);
			assert_true(ea <= mag / 32 + 16);
		}
	}
}

static void test_monotonic_and_symmetric(void **state)
{
	int x, prevu = -40000, preva = -40000;

	for (x = -32768; x <= 32767; x++) {
		int u = g711_ulaw_decode(g711_ulaw_encode((int16_t)x));
		int a = g711_alaw_decode(g711_alaw_encode((int16_t)x));

		assert_true(u >= prevu);
		assert_true(a >= preva);
		prevu = u;
		preva = a;
	}
	for (x = 0; x < 256; x++) {
		assert_int_equal(g711_ulaw_decode((uint8_t)x), -g711_ulaw_decode((uint8_t)(x ^ 0x80)));
		assert_int_equal(g711_alaw_decode((uint8_t)x), -g711_alaw_decode((uint8_t)(x ^ 0x80)));
	}
}

static void test_buffers_and_payload_types(void **state)
{
	int16_t pcm[4] = { 0, 1000, -1000, 32767 }, back[4];
	uint8_t enc[4];
	enum g711_law law;

	g711_encode(G711_ULAW, pcm, 4, enc);
	assert_int_equal(enc[0], 0xFF);
	assert_int_equal(enc[1], 0xCE);
	assert_int_equal(enc[2], 0x4E);
	g711_decode(G711_ULAW, enc, 4, back);
	assert_int_equal(back[1], 988);
	assert_int_equal(back[2], -988);
	g711_encode(G711_ALAW, pcm, 4, enc);
	assert_int_equal(enc[0], 0xD5);
	assert_int_equal(g711_law_from_pt(0, &law), 0);
	assert_int_equal(law, G711_ULAW);
	assert_int_equal(g711_law_from_pt(8, &law), 0);
	assert_int_equal(law, G711_ALAW);
	assert_int_equal(g711_law_from_pt(9, &law), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_codes_are_fixed_points),
		cmocka_unit_test(test_round_trip_error_bounds),
		cmocka_unit_test(test_monotonic_and_symmetric),
		cmocka_unit_test(test_buffers_and_payload_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
