/* audio.c - ALSA playback + capture of a test tone, in bounded timer steps. */
#include "config.h"

#include "media/audio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

#include "common/ev.h"
#include "common/log.h"
#include "common/util.h"
#include "common/lazylibs.h"          /* last: the libraries are loaded on use */

#define SUB "audio"
#define RATE 8000u
#define STEP_MS 10               /* timer period: never more than a few ms of work */
#define CHUNK 800                /* frames moved per device per step at most (100 ms) */
#define LATENCY_US 200000        /* requested device buffer */
#define GRACE_MS 2000            /* beyond the duration before the capture counts as stalled */
#define SILENT_DBFS (-70.0)      /* below this the capture is called silent */

struct audio_check {
	struct ev_timer timer;
	audio_done_cb done;
	void *arg;
	struct audio_result res;
	double min_ratio, min_dbfs;
	unsigned total;          /* frames to play and to capture */
	unsigned played, captured;
	uint64_t deadline_ms;
	int16_t *cap;
	struct tone_gen gen;
	bool finished;
#ifdef HAVE_ALSA
	snd_pcm_t *play_pcm, *cap_pcm;
	snd_config_t *conf;
#endif
};

const char *audio_verdict_name(enum audio_verdict v)
{
	switch (v) {
	case AUDIO_PASS: return "PASS";
	case AUDIO_FAIL: return "FAIL";
	default: return "SKIP";
	}
}

static void DSA_PRINTF(3, 4) set_result(struct audio_check *c, enum audio_verdict v, const char *fmt, ...)
{
	va_list ap;

	c->res.verdict = v;
	va_start(ap, fmt);
	vsnprintf(c->res.reason, sizeof(c->res.reason), fmt, ap);
	va_end(ap);
}

static void close_devices(struct audio_check *c)
{
#ifdef HAVE_ALSA
	if (c->play_pcm) {
		snd_pcm_drop(c->play_pcm);
		snd_pcm_close(c->play_pcm);
		c->play_pcm = NULL;
	}
	if (c->cap_pcm) {
		snd_pcm_drop(c->cap_pcm);
		snd_pcm_close(c->cap_pcm);
		c->cap_pcm = NULL;
	}
	if (c->conf) {
		snd_config_delete(c->conf);
		c->conf = NULL;
	}
#endif
}

/* Finish: close the devices and report on the next loop turn (never re-entrantly). */
static void finish(struct audio_check *c)
{
	close_devices(c);
	c->finished = true;
	c->res.played_ms = c->played * 1000u / RATE;
	c->res.captured_ms = c->captured * 1000u / RATE;
	ev_timer_set(&c->timer, 0);
}

#ifdef HAVE_ALSA
static void analyse(struct audio_check *c)
{
	/* Skip the start: the tone needs the device latency to reach the microphone. */
	unsigned skip = c->total / 4 < RATE / 5 ? c->total / 4 : RATE / 5;
	struct tone_result *t = &c->res.tone;

	if (tone_analyse(c->cap + skip, c->captured - skip, RATE, c->res.freq_hz, t) != 0) {
		set_result(c, AUDIO_FAIL, "capture too short to analyse");
		return;
	}
	c->res.detected = tone_detected(t, c->min_ratio, c->min_dbfs);
	if (c->res.detected)
		set_result(c, AUDIO_PASS, "tone %.0f Hz heard at %.1f dBFS (%.0f%% of the captured power)",
			   c->res.freq_hz, t->tone_dbfs, 100.0 * t->ratio);
	else if (t->total_dbfs < SILENT_DBFS)
		set_result(c, AUDIO_FAIL, "microphone captured silence (%.1f dBFS): check that the "
			   "handset/speaker and microphone are connected and not muted", t->total_dbfs);
	else if (t->tone_dbfs < c->min_dbfs && t->ratio >= c->min_ratio)
		set_result(c, AUDIO_FAIL, "tone %.0f Hz too quiet (%.1f dBFS, need %.0f): check the "
			   "speaker and microphone volume", c->res.freq_hz, t->tone_dbfs, c->min_dbfs);
	else
		set_result(c, AUDIO_FAIL, "tone %.0f Hz not found in the capture (%.0f%% of %.1f dBFS): "
			   "the microphone hears something else; check the audio path", c->res.freq_hz,
			   100.0 * t->ratio, t->total_dbfs);
}

static void quiet_alsa(const char *file, int line, const char *func, int err, const char *fmt, ...)
{
	/* libasound would print to stderr; its failures are reported through results. */
}

static bool no_card(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO;
}

static int open_pcm(struct audio_check *c, snd_pcm_t **pcm, const char *name, snd_pcm_stream_t dir)
{
	int err;

	if (c->conf)
		err = snd_pcm_open_lconf(pcm, name, dir, SND_PCM_NONBLOCK, c->conf);
	else
		err = snd_pcm_open(pcm, name, dir, SND_PCM_NONBLOCK);
	if (err < 0) {
		*pcm = NULL;
		if (no_card(err))
			set_result(c, AUDIO_SKIP, "no sound card found (%s device \"%s\": %s)",
				   dir == SND_PCM_STREAM_PLAYBACK ? "playback" : "capture", name, snd_strerror(err));
		else if (err == -EBUSY)
			set_result(c, AUDIO_FAIL, "%s device \"%s\" is busy: another program holds it; "
				   "retry when no call is active", dir == SND_PCM_STREAM_PLAYBACK ?
				   "playback" : "capture", name);
		else
			set_result(c, AUDIO_FAIL, "cannot open %s device \"%s\": %s",
				   dir == SND_PCM_STREAM_PLAYBACK ? "playback" : "capture", name, snd_strerror(err));
		return err;
	}
	err = snd_pcm_set_params(*pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, RATE,
				 1, LATENCY_US);
	if (err < 0)
		set_result(c, AUDIO_FAIL, "%s device \"%s\" refuses 8 kHz mono 16-bit: %s",
			   dir == SND_PCM_STREAM_PLAYBACK ? "playback" : "capture", name, snd_strerror(err));
	return err;
}

/* Recover from an xrun or suspend; false when the device is gone. */
static bool recover(struct audio_check *c, snd_pcm_t *pcm, long err, const char *what)
{
	if (err == -EPIPE || err == -ESTRPIPE) {
		c->res.xruns++;
		if (snd_pcm_prepare(pcm) == 0) {
			if (pcm == c->cap_pcm)
				snd_pcm_start(pcm);
			return true;
		}
	}
	set_result(c, AUDIO_FAIL, "%s device failed: %s", what, snd_strerror((int)err));
	return false;
}

static void step(struct audio_check *c)
{
	int16_t buf[CHUNK];
	int i;

	if (c->played < c->total) {
		snd_pcm_sframes_t avail = snd_pcm_avail_update(c->play_pcm), w;

		if (avail < 0) {
			if (!recover(c, c->play_pcm, avail, "playback"))
				goto out_finish;
			avail = 0;
		}
		if (avail > CHUNK)
			avail = CHUNK;
		if ((unsigned)avail > c->total - c->played)
			avail = c->total - c->played;
		if (avail > 0) {
			struct tone_gen save = c->gen;

			tone_gen_fill(&c->gen, buf, (size_t)avail);
			w = snd_pcm_writei(c->play_pcm, buf, (snd_pcm_uframes_t)avail);
			if (w == -EAGAIN) {
				c->gen = save;
			} else if (w < 0) {
				c->gen = save;
				if (!recover(c, c->play_pcm, w, "playback"))
					goto out_finish;
			} else {
				c->played += (unsigned)w;
				if (w < avail) {       /* keep the phase of what was really written */
					c->gen = save;
					tone_gen_fill(&c->gen, buf, (size_t)w);
				}
			}
		}
	}
	for (i = 0; i < 4 && c->captured < c->total; i++) {
		snd_pcm_uframes_t want = c->total - c->captured;
		snd_pcm_sframes_t r;

		if (want > CHUNK)
			want = CHUNK;
		r = snd_pcm_readi(c->cap_pcm, c->cap + c->captured, want);
		if (r == -EAGAIN || r == 0)
			break;
		if (r < 0) {
			if (!recover(c, c->cap_pcm, r, "capture"))
				goto out_finish;
			continue;
		}
		c->captured += (unsigned)r;
	}
	if (c->captured >= c->total) {
		analyse(c);
		goto out_finish;
	}
	if (ev_now_ms() > c->deadline_ms) {
		set_result(c, AUDIO_FAIL, "capture device delivered only %u of %u ms: the audio "
			   "hardware is not running", c->captured * 1000u / RATE, c->total * 1000u / RATE);
		goto out_finish;
	}
	ev_timer_set(&c->timer, STEP_MS);
	return;
out_finish:
	finish(c);
}

static int start_devices(struct audio_check *c, const struct audio_config *cfg)
{
	const char *play = cfg->playback ? cfg->playback : "default";
	const char *cap = cfg->capture ? cfg->capture : "default";
	int err;

	lazy_need(&lazy_alsa_lib);
	snd_lib_error_set_handler(quiet_alsa);
	if (cfg->alsa_conf) {
		snd_input_t *in;

		err = snd_config_top(&c->conf);
		if (err == 0) {
			err = snd_input_stdio_open(&in, cfg->alsa_conf, "r");
			if (err == 0) {
				err = snd_config_load(c->conf, in);
				snd_input_close(in);
			}
		}
		if (err < 0) {
			set_result(c, AUDIO_FAIL, "ALSA configuration %s unusable: %s", cfg->alsa_conf,
				   snd_strerror(err));
			return err;
		}
	}
	err = open_pcm(c, &c->play_pcm, play, SND_PCM_STREAM_PLAYBACK);
	if (err < 0)
		return err;
	err = open_pcm(c, &c->cap_pcm, cap, SND_PCM_STREAM_CAPTURE);
	if (err < 0)
		return err;
	err = snd_pcm_start(c->cap_pcm);
	if (err < 0) {
		set_result(c, AUDIO_FAIL, "capture device \"%s\" does not start: %s", cap, snd_strerror(err));
		return err;
	}
	return 0;
}
#endif

static void on_timer(struct ev_timer *t)
{
	struct audio_check *c = container_of(t, struct audio_check, timer);

	if (c->finished) {
		log_info(SUB, "audio path %s: %s", audio_verdict_name(c->res.verdict), c->res.reason);
		if (c->done)
			c->done(c->arg, &c->res);
		return;
	}
#ifdef HAVE_ALSA
	step(c);
#endif
}

int audio_check_start(const struct audio_config *cfg, audio_done_cb done, void *arg,
		      struct audio_check **out)
{
	struct audio_check *c;
	unsigned ms = cfg->duration_ms ? cfg->duration_ms : 1000;
	double freq = cfg->freq_hz > 0.0 ? cfg->freq_hz : 1000.0;
	double level = cfg->level_dbfs < 0.0 ? cfg->level_dbfs : -12.0;

	*out = NULL;
	if (ms < 100 || ms > 10000 || freq >= RATE / 2.0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->done = done;
	c->arg = arg;
	c->timer.cb = on_timer;
	c->res.freq_hz = freq;
	c->res.tone.tone_dbfs = c->res.tone.total_dbfs = TONE_FLOOR_DBFS;
	c->min_ratio = cfg->min_ratio > 0.0 ? cfg->min_ratio : TONE_MIN_RATIO;
	c->min_dbfs = cfg->min_dbfs < 0.0 ? cfg->min_dbfs : TONE_MIN_DBFS;
	c->total = ms * RATE / 1000u;
	c->deadline_ms = ev_now_ms() + ms + GRACE_MS;
	if (tone_gen_init(&c->gen, freq, level, RATE) != 0) {
		free(c);
		return -EINVAL;
	}
	*out = c;
#ifdef HAVE_ALSA
	c->cap = calloc(c->total, sizeof(*c->cap));
	if (!c->cap) {
		free(c);
		*out = NULL;
		return -ENOMEM;
	}
	if (start_devices(c, cfg) < 0) {
		finish(c);
		return 0;
	}
	ev_timer_set(&c->timer, 0);
#else
	set_result(c, AUDIO_SKIP, "built without ALSA: the audio path cannot be tested");
	finish(c);
#endif
	return 0;
}

void audio_check_free(struct audio_check *c)
{
	if (!c)
		return;
	ev_timer_cancel(&c->timer);
	close_devices(c);
	free(c->cap);
	free(c);
}
