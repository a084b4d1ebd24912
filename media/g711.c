/* g711.c - ITU-T G.711 companding, segment by segment. */
#include "config.h"

#include "media/g711.h"

#include <errno.h>

#define ULAW_BIAS 0x84          /* 132: shifts segment edges to powers of two */
#define ULAW_CLIP 32635         /* largest magnitude before the bias overflows */

/* Index of the highest set bit of v (v > 0). */
static int top_bit(unsigned v)
{
	return 31 - __builtin_clz(v);
}

uint8_t g711_ulaw_encode(int16_t pcm)
{
	int v = pcm, sign = 0, exp, mant;

	if (v < 0) {
		v = -v;
		sign = 0x80;
	}
	if (v > ULAW_CLIP)
		v = ULAW_CLIP;
	v += ULAW_BIAS;                      /* now 132 .. 32767: bit 7 .. 14 set */
	exp = top_bit((unsigned)v) - 7;      /* segment 0 .. 7 */
	mant = (v >> (exp + 3)) & 0x0F;
	return (uint8_t)~(sign | (exp << 4) | mant);
}

int16_t g711_ulaw_decode(uint8_t code)
{
	unsigned u = (uint8_t)~code;
	int exp = (u >> 4) & 0x07, mant = u & 0x0F;
	int v = (((mant << 3) + ULAW_BIAS) << exp) - ULAW_BIAS;

	return (int16_t)((u & 0x80) ? -v : v);
}

uint8_t g711_alaw_encode(int16_t pcm)
{
	int v = pcm >> 3;                    /* 13 significant bits */
	int mask, seg, code;

	if (v >= 0) {
		mask = 0xD5;                 /* sign bit set and even bits inverted */
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	if (v > 0xFFF)
		v = 0xFFF;
	seg = v < 32 ? 0 : top_bit((unsigned)v) - 4;   /* 0 .. 7 */
	if (seg < 2)
		code = (seg << 4) | ((v >> 1) & 0x0F);
	else
		code = (seg << 4) | ((v >> seg) & 0x0F);
	return (uint8_t)(code ^ mask);
}

int16_t g711_alaw_decode(uint8_t code)
{
	unsigned a = code ^ 0x55u;
	int seg = (a >> 4) & 0x07;
	int v = (int)(a & 0x0F) << 4;

	if (seg == 0)
		v += 8;
	else
		v = (v + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? v : -v);
}

void g711_encode(enum g711_law law, const int16_t *pcm, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = law == G711_ALAW ? g711_alaw_encode(pcm[i]) : g711_ulaw_encode(pcm[i]);
}

void g711_decode(enum g711_law law, const uint8_t *in, size_t n, int16_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = law == G711_ALAW ? g711_alaw_decode(in[i]) : g711_ulaw_decode(in[i]);
}

int g711_law_from_pt(int pt, enum g711_law *law)
{
	if (pt == 0)
		*law = G711_ULAW;
	else if (pt == 8)
		*law = G711_ALAW;
	else
		return -EINVAL;
	return 0;
}
