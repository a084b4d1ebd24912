/* test_media_audio.c - the ALSA audio-path check against an ALSA configuration
 * that routes playback to a file (file plugin over null) and capture from a
 * file (the file plugin's infile): tone -> PASS with its level, silence and a
 * wrong frequency -> FAIL, no sound card -> SKIP with the reason. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "media/audio.h"
#include "media/tone.h"

static char dir[64], conf[128];

struct done { bool called; struct audio_result r; };

static void on_done(void *arg, const struct audio_result *r)
{
	struct done *d = arg;

	d->called = true;
	d->r = *r;
}

static DSA_UNUSED void write_raw(const char *name, double freq, double dbfs, unsigned ms)
{
	char path[160];
	size_t n = ms * 8u;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	struct tone_gen g;
	FILE *f;

	assert_non_null(pcm);
	if (freq > 0.0) {
		assert_int_equal(tone_gen_init(&g, freq, dbfs, 8000), 0);
		tone_gen_fill(&g, pcm, n);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(pcm, sizeof(*pcm), n, f), n);     /* S16_LE on the build host */
	fclose(f);
	free(pcm);
}

static int setup(void **state)
{
	FILE *f;
	const char *caps[] = { "tone", "silence", "wrong" };
	unsigned i;

	snprintf(dir, sizeof(dir), "/tmp/test_media_audio.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(conf, sizeof(conf), "%s/asound.conf", dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "pcm.speaker {\n type file\n slave { pcm { type null } }\n"
		   " file \"%s/played.raw\"\n format raw\n}\n", dir);
	for (i = 0; i < 3; i++)
		fprintf(f, "pcm.mic_%s {\n type file\n slave { pcm { type null } }\n"
			   " file \"%s/captured_%s.raw\"\n infile \"%s/%s.raw\"\n format raw\n}\n",
			caps[i], dir, caps[i], dir, caps[i]);
	fprintf(f, "pcm.nocard {\n type hw\n card 29\n device 0\n}\n");
	fclose(f);
	if (ev_init() != 0)
		return -1;
	ev_clock_virtual(1000000);          /* the check's steps and deadline in virtual ms */
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	ev_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct done run(const char *play, const char *cap, const char *cfgfile, unsigned ms)
{
	struct audio_config c = { .playback = play, .capture = cap, .alsa_conf = cfgfile,
				  .freq_hz = 1000.0, .level_dbfs = -12.0, .duration_ms = ms };
	struct audio_check *chk;
	struct done d = { 0 };
	uint64_t end = ev_now_ms() + 5000;

	assert_int_equal(audio_check_start(&c, on_done, &d, &chk), 0);
	assert_false(d.called);              /* never from inside start */
	while (!d.called && ev_now_ms() < end)
		assert_true(ev_run_once(50) >= 0);
	assert_true(d.called);
	audio_check_free(chk);
	print_message("# %s/%s: %s %s (played %u ms, captured %u ms, ended at +%llu virtual ms)\n", play, cap,
		      audio_verdict_name(d.r.verdict), d.r.reason, d.r.played_ms, d.r.captured_ms,
		      (unsigned long long)(ev_now_ms() + 5000 - end));
	return d;
}

#ifdef HAVE_ALSA
static void test_tone_in_capture_passes(void **state)
{
	struct done d;
	struct tone_result pr;
	char path[160];
	int16_t *played;
	size_t n;
	FILE *f;

	write_raw("tone.raw", 1000.0, -20.0, 1500);
	d = run("speaker", "mic_tone", conf, 1000);
	assert_int_equal(d.r.verdict, AUDIO_PASS);
	assert_true(d.r.detected);
	assert_true(fabs(d.r.tone.tone_dbfs + 20.0) < 0.5);     /* the level in the file */
	assert_true(d.r.tone.ratio > 0.95);
	assert_int_equal(d.r.captured_ms, 1000);
	/* The null slave takes and gives frames at once, so capture may finish
	 * before the whole second was played; on hardware both run in real time. */
	assert_true(d.r.played_ms >= 100 && d.r.played_ms <= 1000);
	assert_non_null(strstr(d.r.reason, "1000 Hz"));
	/* The speaker side really played the tone: the file plugin wrote it out. */
	snprintf(path, sizeof(path), "%s/played.raw", dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	played = calloc(16000, sizeof(*played));
	n = fread(played, sizeof(*played), 16000, f);
	fclose(f);
	assert_true(n >= 800 && n <= d.r.played_ms * 8u);      /* what was played, flushed */
	assert_int_equal(tone_analyse(played, n, 8000, 1000.0, &pr), 0);
	assert_true(fabs(pr.tone_dbfs + 12.0) < 0.3);
	assert_true(pr.ratio > 0.99);
	free(played);
}

static void test_silence_fails(void **state)
{
	struct done d;

	write_raw("silence.raw", 0.0, 0.0, 1500);
	d = run("speaker", "mic_silence", conf, 500);
	assert_int_equal(d.r.verdict, AUDIO_FAIL);
	assert_false(d.r.detected);
	assert_non_null(strstr(d.r.reason, "silence"));
}

static void test_wrong_frequency_fails(void **state)
{
	struct done d;

	write_raw("wrong.raw", 1500.0, -12.0, 1500);
	d = run("speaker", "mic_wrong", conf, 500);
	assert_int_equal(d.r.verdict, AUDIO_FAIL);
	assert_false(d.r.detected);
	assert_true(d.r.tone.ratio < 0.01);
	assert_true(fabs(d.r.tone.total_dbfs + 12.0) < 0.5);   /* loud, but not our tone */
	assert_non_null(strstr(d.r.reason, "not found"));
}

static void test_no_sound_card_skips(void **state)
{
	struct done d;

	d = run("nocard", "mic_tone", conf, 500);
	assert_int_equal(d.r.verdict, AUDIO_SKIP);
	assert_non_null(strstr(d.r.reason, "no sound card found"));
	assert_non_null(strstr(d.r.reason, "nocard"));
	d = run("speaker", "nocard", conf, 500);
	assert_int_equal(d.r.verdict, AUDIO_SKIP);
	assert_non_null(strstr(d.r.reason, "capture"));
	/* A name the configuration does not know is the same situation. */
	d = run("speaker", "no_such_device", conf, 500);
	assert_int_equal(d.r.verdict, AUDIO_SKIP);
}

static void test_bad_configuration_fails(void **state)
{
	char path[160];
	struct done d;
	FILE *f;

	d = run("speaker", "mic_tone", "/nonexistent/asound.conf", 500);
	assert_int_equal(d.r.verdict, AUDIO_FAIL);
	assert_non_null(strstr(d.r.reason, "/nonexistent/asound.conf"));
	snprintf(path, sizeof(path), "%s/broken.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("pcm.speaker { type file ", f);              /* unterminated */
	fclose(f);
	d = run("speaker", "mic_tone", path, 500);
	assert_int_equal(d.r.verdict, AUDIO_FAIL);
}
#else
static void test_without_alsa_skips(void **state)
{
	struct done d = run("default", "default", NULL, 500);

	assert_int_equal(d.r.verdict, AUDIO_SKIP);
	assert_non_null(strstr(d.r.reason, "built without ALSA"));
}
#endif

static void test_bad_arguments(void **state)
{
	struct audio_config c = { .duration_ms = 50 };
	struct audio_check *chk;

	assert_int_equal(audio_check_start(&c, on_done, NULL, &chk), -EINVAL);
	assert_null(chk);
	c.duration_ms = 500;
	c.freq_hz = 5000.0;
	assert_int_equal(audio_check_start(&c, on_done, NULL, &chk), -EINVAL);
	audio_check_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef HAVE_ALSA
		cmocka_unit_test(test_tone_in_capture_passes),
		cmocka_unit_test(test_silence_fails),
		cmocka_unit_test(test_wrong_frequency_fails),
		cmocka_unit_test(test_no_sound_card_skips),
		cmocka_unit_test(test_bad_configuration_fails),
#else
		cmocka_unit_test(test_without_alsa_skips),
#endif
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
