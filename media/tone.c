/* tone.c - sine generation and the Goertzel single-bin DFT. */
#include "config.h"

#include "media/tone.h"

#include <errno.h>
#include <math.h>

#define FULL_SCALE 32767.0
#define G711_FULL_SCALE_DBM0 3.17   /* ITU-T G.711: the peak sine is +3.17 dBm0 */

static double to_db(double ratio_power)
{
	double db;

	if (ratio_power <= 0.0)
		return TONE_FLOOR_DBFS;
	db = 10.0 * log10(ratio_power);
	return db < TONE_FLOOR_DBFS ? TONE_FLOOR_DBFS : db;
}

double tone_dbm0_to_dbfs(double dbm0)
{
	return dbm0 - G711_FULL_SCALE_DBM0;
}

int tone_gen_init(struct tone_gen *g, double freq_hz, double level_dbfs, unsigned rate)
{
	if (rate == 0 || !(freq_hz > 0.0) || freq_hz >= rate / 2.0 || !(level_dbfs <= 0.0))
		return -EINVAL;
	g->phase = 0.0;
	g->step = 2.0 * M_PI * freq_hz / rate;
	g->amp = FULL_SCALE * pow(10.0, level_dbfs / 20.0);
	return 0;
}

void tone_gen_fill(struct tone_gen *g, int16_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[i] = (int16_t)lrint(g->amp * sin(g->phase));
		g->phase += g->step;
		if (g->phase >= 2.0 * M_PI)
			g->phase -= 2.0 * M_PI;
	}
}

int tone_analyse(const int16_t *pcm, size_t n, unsigned rate, double freq_hz,
		 struct tone_result *r)
{
	double coeff, s1 = 0.0, s2 = 0.0, wsum = 0.0, energy = 0.0;
	double mag2, amp, tone_power, total_power;
	size_t i;

	if (!pcm || rate == 0 || n < rate / 100 || n < 2 || !(freq_hz > 0.0) ||
	    freq_hz >= rate / 2.0)
		return -EINVAL;
	coeff = 2.0 * cos(2.0 * M_PI * freq_hz / rate);
	for (i = 0; i < n; i++) {
		double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1));
		double x = pcm[i];
		double s0 = w * x + coeff * s1 - s2;

		s2 = s1;
		s1 = s0;
		wsum += w;
		energy += x * x;
	}
	/* |X(f)|^2 of the windowed block; a sine of peak A gives |X| = A * wsum / 2. */
	mag2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	if (mag2 < 0.0)
		mag2 = 0.0;
	amp = 2.0 * sqrt(mag2) / wsum;
	tone_power = amp * amp / 2.0;
	total_power = energy / (double)n;
	r->ratio = total_power > 0.0 ? tone_power / total_power : 0.0;
	r->tone_dbfs = to_db(tone_power / (FULL_SCALE * FULL_SCALE / 2.0));
	r->total_dbfs = to_db(total_power / (FULL_SCALE * FULL_SCALE / 2.0));
	return 0;
}

bool tone_detected(const struct tone_result *r, double min_ratio, double min_dbfs)
{
	return r->ratio >= min_ratio && r->tone_dbfs >= min_dbfs;
}
