/* tone.h - sine tone generator and Goertzel tone detector, pure functions.
 *
 * Levels are in dBFS with a full-scale sine (peak 32767) at 0 dBFS. G.711's
 * full-scale sine is +3.17 dBm0, so dBFS = dBm0 - 3.17 (tone_dbm0_to_dbfs).
 */
#ifndef DSA_MEDIA_TONE_H
#define DSA_MEDIA_TONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TONE_FLOOR_DBFS (-120.0)   /* reported for digital silence */
#define TONE_MIN_RATIO  0.5        /* default: the tone carries half the power */
#define TONE_MIN_DBFS   (-50.0)    /* default: quieter than this is no tone */

struct tone_gen {
	double phase;               /* radians, kept in [0, 2 pi) */
	double step;                /* radians per sample */
	double amp;                 /* peak, in sample units */
};

struct tone_result {
	double ratio;               /* power at the frequency / total power, 0..~1 */
	double tone_dbfs;           /* level of the sine found at the frequency */
	double total_dbfs;          /* level of everything (RMS, sine-referenced) */
};

/* Convert a G.711 level in dBm0 to dBFS. */
double tone_dbm0_to_dbfs(double dbm0);

/* Prepare g for freq_hz at level_dbfs (<= 0) and rate Hz; 0 or -EINVAL. */
int tone_gen_init(struct tone_gen *g, double freq_hz, double level_dbfs, unsigned rate);

/* Append n samples of the tone to out, continuing the phase. */
void tone_gen_fill(struct tone_gen *g, int16_t *out, size_t n);

/* Goertzel analysis (Hann window) of n samples at rate for freq_hz.
 * Needs at least 10 ms of samples and freq_hz below rate/2; 0 or -EINVAL. */
int tone_analyse(const int16_t *pcm, size_t n, unsigned rate, double freq_hz,
		 struct tone_result *r);

/* Whether r shows the tone: ratio >= min_ratio and level >= min_dbfs. */
bool tone_detected(const struct tone_result *r, double min_ratio, double min_dbfs);

#endif
