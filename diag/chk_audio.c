/* chk_audio.c - the audio path check: a tone on the speaker, captured by the
 * microphone through ALSA (media/audio.h), detected with Goertzel. Runs on
 * the loop in bounded steps; SKIP where the phone has no sound card. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/check.h"
#include "media/audio.h"

static void audio_on_done(void *arg, const struct audio_result *a)
{
	struct diag_check *c = arg;
	struct diag_result *r = &c->res;

	diag_value_add(r, "frequency", "Hz", "%.0f", a->freq_hz);
	diag_value_add(r, "played", "ms", "%u", a->played_ms);
	diag_value_add(r, "captured", "ms", "%u", a->captured_ms);
	if (a->captured_ms) {
		diag_value_add(r, "tone_level", "dBFS", "%.1f", a->tone.tone_dbfs);
		diag_value_add(r, "total_level", "dBFS", "%.1f", a->tone.total_dbfs);
		diag_value_add(r, "tone_ratio", "", "%.2f", a->tone.ratio);
	}
	diag_value_add(r, "xruns", "", "%u", a->xruns);
	diag_threshold_set(r, "the %.0f Hz tone carries >= %.0f %% of the captured power at >= %.0f dBFS",
			   a->freq_hz, TONE_MIN_RATIO * 100, TONE_MIN_DBFS);
	switch (a->verdict) {
	case AUDIO_PASS:
		snprintf(r->brief, sizeof(r->brief), "tone %.1f dBFS", a->tone.tone_dbfs);
		diag_verdict_set(r, DIAG_PASS, "speaker and microphone work: %s", a->reason);
		break;
	case AUDIO_SKIP:
		snprintf(r->brief, sizeof(r->brief), "no sound card");
		diag_verdict_set(r, DIAG_SKIP, "%s", a->reason);
		break;
	default:
		if (a->captured_ms)
			snprintf(r->brief, sizeof(r->brief), "no tone (%.0f dBFS)", a->tone.total_dbfs);
		else
			snprintf(r->brief, sizeof(r->brief), "device error");
		diag_verdict_set(r, DIAG_FAIL, "%s", a->reason);
		break;
	}
	audio_check_free(c->priv);
	c->priv = NULL;
	diag_check_done(c);
}

static int audio_start(struct diag_check *c)
{
	const struct diag_opts *o = c->ctx->opts;
	struct audio_config cfg = { 0 };
	struct audio_check *a = NULL;
	int err;

	cfg.playback = o->audio_playback[0] ? o->audio_playback : "default";
	cfg.capture = o->audio_capture[0] ? o->audio_capture : "default";
	cfg.alsa_conf = o->audio_conf[0] ? o->audio_conf : NULL;
	cfg.freq_hz = o->call_tone_hz;
	cfg.duration_ms = o->audio_ms;
	diag_value_add(&c->res, "devices", "", "playback %s, capture %s", cfg.playback, cfg.capture);
	err = audio_check_start(&cfg, audio_on_done, c, &a);
	if (err < 0)
		return err;
	c->priv = a;
	return 0;
}

static void audio_cancel(struct diag_check *c)
{
	audio_check_free(c->priv);
	c->priv = NULL;
}

const struct diag_check_type diag_chk_audio = {
	DIAG_C_AUDIO, "audio", "Audio path", 1, false, DIAG_H_NONE, 0, audio_start, audio_cancel,
};
