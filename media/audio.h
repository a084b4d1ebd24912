/* audio.h - the phone's own audio path: play a tone, capture it, detect it.
 *
 * Through ALSA's PCM API (when built with HAVE_ALSA): the playback and
 * capture devices are opened non-blocking and driven in bounded steps from
 * an ev timer (10 ms), so the loop never waits on the sound card. The
 * capture is checked with the Goertzel detector (media/tone.h).
 * Verdicts: PASS tone found; FAIL silence, wrong content or a device error;
 * SKIP no sound card ("no sound card found") or built without ALSA.
 */
#ifndef DSA_MEDIA_AUDIO_H
#define DSA_MEDIA_AUDIO_H

#include <stdbool.h>

#include "media/tone.h"

enum audio_verdict { AUDIO_PASS, AUDIO_FAIL, AUDIO_SKIP };

struct audio_config {
	const char *playback;       /* ALSA PCM name; NULL: "default" */
	const char *capture;        /* ALSA PCM name; NULL: "default" */
	const char *alsa_conf;      /* optional ALSA configuration file defining the
	                               names above; NULL: the global configuration
	                               (which honours ALSA_CONFIG_PATH) */
	double freq_hz;             /* 0: 1000 */
	double level_dbfs;          /* 0: -12 */
	unsigned duration_ms;       /* 0: 1000; 100..10000 */
	double min_ratio;           /* 0: TONE_MIN_RATIO */
	double min_dbfs;            /* 0: TONE_MIN_DBFS */
};

struct audio_result {
	enum audio_verdict verdict;
	bool detected;
	struct tone_result tone;    /* analysis of the captured window */
	double freq_hz;             /* the frequency looked for */
	unsigned played_ms;         /* tone handed to the playback device */
	unsigned captured_ms;       /* audio read from the capture device */
	unsigned xruns;             /* under/overruns recovered */
	char reason[200];           /* one line a technician can act on */
};

struct audio_check;

/* Called once with the result; the check is finished (free it afterwards). */
typedef void (*audio_done_cb)(void *arg, const struct audio_result *r);

/* Start the check on the loop; done is always called later, never from here.
 * 0 or -EINVAL / -ENOMEM (a device problem is a result, not an error). */
int audio_check_start(const struct audio_config *cfg, audio_done_cb done, void *arg,
		      struct audio_check **out);

/* Cancel (done is not called) or release a finished check; NULL is fine. */
void audio_check_free(struct audio_check *c);

/* "PASS", "FAIL" or "SKIP". */
const char *audio_verdict_name(enum audio_verdict v);

#endif
