/* test_prov_timers.c - the provisioning controller's timers on virtual time:
 * the random boot delay, the back-off after failed fetches (doubling from
 * 30 s to the 30 min ceiling, 50-100 % jitter), the resync interval with its
 * jitter, and the 180 s trial window that rolls a config back. Exact instants;
 * the jitter windows are checked at both ends (the random source forced to its
 * lowest and highest value) and over many seeded runs.
 *
 * The HTTP layer and the random source are replaced at link time
 * (-Wl,--wrap=pf_new,pf_free,pf_get,pf_put,pf_cancel,utl_random_range, see
 * provisioning.mk): each GET is answered from the loop, at the instant it was
 * asked, by a script (fail, 200 with a config, 304). HTTPS itself is tested
 * by tests/e2e against a real nginx. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/job.h"
#include "jobexe.h"
#include "common/log.h"
#include "common/util.h"
#include "provisioning/fetch.h"
#include "provisioning/prov.h"
#include "provisioning/store.h"

#define T0_MS 1000u
#define MAXGET 256

/* ------------------------------------------------------------ random source */

enum rnd_mode { RND_REAL, RND_MIN, RND_MAX, RND_SEEDED };

static enum rnd_mode rnd_mode;
static uint64_t rnd_state;
static unsigned ndraw;
static uint32_t draw_lo[MAXGET], draw_hi[MAXGET], draw_v[MAXGET];

uint32_t __real_utl_random_range(uint32_t lo, uint32_t hi);
uint32_t __wrap_utl_random_range(uint32_t lo, uint32_t hi);
uint32_t __wrap_utl_random_range(uint32_t lo, uint32_t hi)
{
	uint32_t v;

	switch (rnd_mode) {
	case RND_MIN:
		v = lo;
		break;
	case RND_MAX:
		v = hi;
		break;
	case RND_SEEDED:
		/* xorshift64*: the same seed, the same draws, on every machine */
		rnd_state ^= rnd_state >> 12;
		rnd_state ^= rnd_state << 25;
		rnd_state ^= rnd_state >> 27;
		v = lo + (uint32_t)((rnd_state * 2685821657736338717ull >> 32) % ((uint64_t)hi - lo + 1));
		break;
	default:
		return __real_utl_random_range(lo, hi);
	}
	if (ndraw < MAXGET) {
		draw_lo[ndraw] = lo;
		draw_hi[ndraw] = hi;
		draw_v[ndraw] = v;
	}
	ndraw++;
	return v;
}

/* ------------------------------------------------------------ HTTP script */

struct pf_ctx {
	int unused;
};

struct pf_req {
	struct ev_timer t;
	pf_done_cb cb;
	void *arg;
	char url[600];
	char etag[PS_ETAG_LEN];
};

/* What the server does with the n-th GET of a file. */
enum answer { A_FAIL, A_OK, A_NOT_MODIFIED };

static struct {
	struct pf_ctx ctx;
	struct pf_req req;           /* the controller has one GET in flight at most */
	bool busy;
	unsigned n;                  /* GETs so far */
	uint64_t at[MAXGET];         /* virtual instant of each GET */
	bool mac[MAXGET];            /* GET of the per-MAC file (else dialstack.xml) */
	enum answer (*script)(unsigned i, bool mac);
	const char *body_common;     /* for A_OK */
	const char *etag_common;
} S;

int __wrap_pf_new(struct pf_ctx **out, const struct pf_opts *opts);
int __wrap_pf_new(struct pf_ctx **out, const struct pf_opts *opts)
{
	*out = &S.ctx;
	return 0;
}

void __wrap_pf_cancel(struct pf_req *req);
void __wrap_pf_cancel(struct pf_req *req)
{
	if (req && S.busy) {
		ev_timer_cancel(&req->t);
		S.busy = false;
	}
}

void __wrap_pf_free(struct pf_ctx *ctx);
void __wrap_pf_free(struct pf_ctx *ctx)
{
	__wrap_pf_cancel(&S.req);
}

static void answer(struct ev_timer *t)
{
	struct pf_req *r = container_of(t, struct pf_req, t);
	unsigned i = S.n - 1;
	struct pf_reply rep = { .url = r->url, .why = "", .etag = "", .body = "" };

	S.busy = false;
	switch (S.script(i, S.mac[i])) {
	case A_FAIL:
		rep.result = PF_FAILED;
		rep.err = PF_E_CONNECT;
		rep.why = "connection refused (scripted)";
		break;
	case A_NOT_MODIFIED:
		rep.result = PF_NOT_MODIFIED;
		rep.http_status = 304;
		break;
	case A_OK:
		if (S.mac[i]) {
			rep.result = PF_NOT_FOUND;       /* no per-MAC file: dialstack.xml says it all */
			rep.http_status = 404;
		} else {
			rep.result = PF_OK;
			rep.http_status = 200;
			rep.body = S.body_common;
			rep.len = strlen(S.body_common);
			rep.etag = S.etag_common;
		}
		break;
	}
	r->cb(&rep, r->arg);
}

int __wrap_pf_get(struct pf_ctx *ctx, const char *url, const char *etag, pf_done_cb cb, void *arg,
		  struct pf_req **out);
int __wrap_pf_get(struct pf_ctx *ctx, const char *url, const char *etag, pf_done_cb cb, void *arg,
		  struct pf_req **out)
{
	assert_false(S.busy);
	assert_true(S.n < MAXGET);
	S.at[S.n] = ev_now_ms();
	S.mac[S.n] = strstr(url, "dialstack-") != NULL;
	S.n++;
	S.busy = true;
	memset(&S.req, 0, sizeof(S.req));
	utl_strlcpy(S.req.url, url, sizeof(S.req.url));
	utl_strlcpy(S.req.etag, etag ? etag : "", sizeof(S.req.etag));
	S.req.cb = cb;
	S.req.arg = arg;
	S.req.t.cb = answer;
	ev_timer_set(&S.req.t, 0);            /* answered from the loop, at this instant */
	*out = &S.req;
	return 0;
}

int __wrap_pf_put(struct pf_ctx *ctx, const char *url, const char *body, size_t len, const char *content_type,
		  pf_done_cb cb, void *arg, struct pf_req **out);
int __wrap_pf_put(struct pf_ctx *ctx, const char *url, const char *body, size_t len, const char *content_type,
		  pf_done_cb cb, void *arg, struct pf_req **out)
{
	fail_msg("no status upload expected in these tests");
	return -ENOSYS;
}

static enum answer always_fail(unsigned i, bool mac)
{
	return A_FAIL;
}

static enum answer ok_then_304(unsigned i, bool mac)
{
	return i < 2 ? A_OK : A_NOT_MODIFIED;
}

static enum answer always_ok(unsigned i, bool mac)
{
	return A_OK;
}

/* ------------------------------------------------------------ controller */

#define CONFIG(resync, jitter, boot, user) \
	"<?xml version=\"1.0\"?>\n<dialstack version=\"1\">\n" \
	"<account user=\"" user "\" password=\"pw\" domain=\"dsa.test\"/>\n" \
	"<registrars><registrar name=\"east\" host=\"127.0.0.1\"/></registrars>\n" \
	"<provisioning resync=\"" resync "\" resync-jitter=\"" jitter "\" boot-delay=\"" boot "\"/>\n" \
	"</dialstack>\n"

static char dir[64];
static struct prov *P;
static bool confirm_new;
static unsigned nconfig, nrollback, nfailed;
static uint64_t config_at[MAXGET], rollback_at[MAXGET];

static void on_config(struct prov *p, const struct cfg_config *cfg, const struct cfg_config *old,
		      unsigned changed, enum prov_source src, void *arg)
{
	if (src == PROV_FROM_ROLLBACK) {
		rollback_at[nrollback++ % MAXGET] = ev_now_ms();
		return;
	}
	config_at[nconfig++ % MAXGET] = ev_now_ms();
	if (src == PROV_FROM_SERVER && confirm_new)
		prov_confirm(p);                 /* registered at once */
}

static void on_failed(struct prov *p, const char *reason, void *arg)
{
	nfailed++;
}

static int setup(void **state)
{
	memset(&S, 0, sizeof(S));
	S.body_common = CONFIG("600", "60", "0", "100");
	S.etag_common = "\"c1\"";
	ndraw = 0;
	nconfig = nrollback = nfailed = 0;
	confirm_new = true;
	rnd_mode = RND_MAX;
	/* tmpfs when there is one: the store fsyncs, and 250 controllers start here */
	snprintf(dir, sizeof(dir), "/dev/shm/test_prov_timers.XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/test_prov_timers.XXXXXX");
		if (!mkdtemp(dir))
			return -1;
	}
	if (ev_init() < 0)
		return -1;
	ev_clock_virtual(T0_MS * 1000u);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	prov_free(P);
	P = NULL;
	ev_done();
	rnd_mode = RND_REAL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A controller on a fresh, empty state folder (no last-known-good). */
static void start(int boot_delay_ms)
{
	static unsigned runs;
	static char state[96];
	struct prov_opts o = { 0 };

	snprintf(state, sizeof(state), "%s/run%u", dir, runs++);

	o.server = "https://prov.test/";
	o.bootstrap_file = "/nonexistent/server";
	o.dhcp_file = "/nonexistent/dhcp";
	o.state_dir = state;
	o.mac = "02:00:5e:10:00:01";
	o.model = "test";
	o.boot_delay_ms = boot_delay_ms;
	o.on_config = on_config;
	o.on_failed = on_failed;
	assert_int_equal(prov_new(&P, &o), 0);
	assert_int_equal(prov_start(P), 0);
}

/* The first fetch waits a random 0-30 s (no config yet: the default boot
 * delay), exactly the drawn value: at both ends, and over 200 seeded runs
 * that reach both halves of the window. */
static void test_boot_delay_window(void **state)
{
	static const enum rnd_mode ends[2] = { RND_MIN, RND_MAX };
	uint32_t lo = UINT32_MAX, hi = 0;

	S.script = always_fail;
	for (int e = 0; e < 2; e++) {
		rnd_mode = ends[e];
		ndraw = 0;
		S.n = 0;
		start(-1);
		assert_int_equal(ndraw, 1);
		assert_int_equal(draw_lo[0], 0);
		assert_int_equal(draw_hi[0], 30000);
		if (e)
			assert_true(ev_clock_advance_ms(29999) >= 0);
		assert_true(ev_clock_advance_ms(e ? 1 : 0) >= 0);   /* the GET, its (failed) answer */
		assert_int_equal(S.n, 1);
		assert_int_equal(S.at[0], T0_MS + 30000 * e);
		prov_free(P);
		P = NULL;
		ev_clock_virtual(T0_MS * 1000u);
	}
	rnd_mode = RND_SEEDED;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		rnd_state = seed * 0x9E3779B97F4A7C15ull;
		ndraw = 0;
		S.n = 0;
		start(-1);
		assert_int_equal(ndraw, 1);
		if (draw_v[0] > 0)
			assert_true(ev_clock_advance_ms(draw_v[0] - 1) >= 0);
		assert_true(ev_clock_advance_ms(draw_v[0] > 0 ? 1 : 0) >= 0);
		assert_int_equal(S.n, 1);
		assert_int_equal(S.at[0], T0_MS + draw_v[0]);
		assert_in_range(draw_v[0], 0, 30000);
		lo = draw_v[0] < lo ? draw_v[0] : lo;
		hi = draw_v[0] > hi ? draw_v[0] : hi;
		prov_free(P);
		P = NULL;
		ev_clock_virtual(T0_MS * 1000u);
	}
	/* 200 seeded draws spread over the window (fixed seeds: not luck) */
	assert_true(lo < 3000);
	assert_true(hi > 27000);
}

/* Every fetch fails: the next attempt waits 50-100 % of a ceiling that doubles
 * from 30 s to 30 min. With the highest draw the attempts fall at exact
 * instants; with the lowest at half; seeded, each interval is the drawn value,
 * inside its window. A day of failures is an exact number of attempts. */
/* ev_clock_advance_ms() counts every callback, the controller's own
 * housekeeping (closing libcurl 10 s after the last fetch) among them: the
 * tests assert on what reaches the server (S.n, S.at) instead. */
static void test_backoff_instants(void **state)
{
	static const uint32_t ceil[] = { 30000, 60000, 120000, 240000, 480000, 960000, 1800000, 1800000 };
	const unsigned nceil = sizeof(ceil) / sizeof(ceil[0]);

	S.script = always_fail;
	start(0);
	assert_true(ev_clock_advance_ms(0) >= 0);
	assert_int_equal(S.n, 1);
	assert_int_equal(S.at[0], T0_MS);
	assert_int_equal(nfailed, 1);
	for (unsigned i = 0; i < nceil; i++) {
		assert_int_equal(prov_next_fetch_ms(P), ceil[i]);
		assert_true(ev_clock_advance_ms(ceil[i] - 1) >= 0);     /* not a ms early */
		assert_int_equal(S.n, i + 1);
		assert_true(ev_clock_advance_ms(1) >= 0);
		assert_int_equal(S.n, i + 2);
		assert_int_equal(S.at[i + 1] - S.at[i], ceil[i]);
	}
	/* a day: 6 retries climb to the ceiling (1 890 000 ms after the first attempt), then one per 30 min */
	{
		uint64_t first = S.at[0], day = 86400000u, climb = 30000u + 60000u + 120000u + 240000u +
			480000u + 960000u;
		unsigned want = 1 + 6 + (unsigned)((day - climb) / 1800000u);

		assert_true(ev_clock_advance_ms(first + day - ev_now_ms()) > 0);
		assert_int_equal(S.n, want);
		assert_int_equal(nfailed, want);
	}
	prov_free(P);
	P = NULL;

	/* the lowest draw: half of each ceiling */
	rnd_mode = RND_MIN;
	S.n = 0;
	start(0);
	assert_true(ev_clock_advance_ms(0) >= 0);
	for (unsigned i = 0; i < nceil; i++)
		assert_true(ev_clock_advance_ms(ceil[i] / 2) > 0);
	assert_int_equal(S.n, nceil + 1);
	for (unsigned i = 0; i < nceil; i++)
		assert_int_equal(S.at[i + 1] - S.at[i], ceil[i] / 2);
	prov_free(P);
	P = NULL;

	/* seeded: 50 runs of 12 failures, every interval exactly the draw, in [ceil/2, ceil] */
	rnd_mode = RND_SEEDED;
	for (uint64_t seed = 1; seed <= 50; seed++) {
		rnd_state = seed * 0xD1B54A32D192ED03ull;
		S.n = 0;
		ndraw = 0;
		ev_clock_virtual(T0_MS * 1000u);
		start(0);
		while (S.n < 13)
			assert_true(ev_clock_advance_ms(prov_next_fetch_ms(P)) > 0);
		assert_int_equal(ndraw, 13);
		for (unsigned i = 0; i < 12; i++) {
			uint32_t c = i < nceil ? ceil[i] : 1800000;

			assert_int_equal(draw_lo[i], c / 2);
			assert_int_equal(draw_hi[i], c);
			assert_int_equal(S.at[i + 1] - S.at[i], draw_v[i]);
		}
		prov_free(P);
		P = NULL;
	}
}

/* A config arrives and is confirmed; then the server answers 304: each resync
 * comes resync + 0..jitter s after the last (here 600 + 0..60 s), exactly the
 * drawn value, at both ends and over 100 seeded cycles. */
static void test_resync_jitter(void **state)
{
	S.script = ok_then_304;
	rnd_mode = RND_MAX;
	start(0);
	assert_true(ev_clock_advance_ms(0) > 0);
	assert_int_equal(S.n, 2);                    /* dialstack.xml 200, per-MAC 404 */
	assert_int_equal(nconfig, 1);
	assert_int_equal(config_at[0], T0_MS);
	assert_false(prov_on_trial(P));              /* confirmed at once */
	assert_int_equal(prov_next_fetch_ms(P), 660000);
	assert_true(ev_clock_advance_ms(659999) >= 0);
	assert_true(ev_clock_advance_ms(1) > 0);
	assert_int_equal(S.n, 4);                    /* both files again: 304 */
	assert_int_equal(S.at[2], T0_MS + 660000);
	assert_int_equal(S.at[3], T0_MS + 660000);
	assert_int_equal(prov_next_fetch_ms(P), 660000);
	prov_free(P);
	P = NULL;

	rnd_mode = RND_MIN;
	S.n = 0;
	ev_clock_virtual(T0_MS * 1000u);
	start(0);
	assert_true(ev_clock_advance_ms(0) > 0);
	assert_int_equal(prov_next_fetch_ms(P), 600000);
	assert_true(ev_clock_advance_ms(600000) > 0);
	assert_int_equal(S.at[2], T0_MS + 600000);
	prov_free(P);
	P = NULL;

	rnd_mode = RND_SEEDED;
	rnd_state = 0x2545F4914F6CDD1Dull;
	S.n = 0;
	ndraw = 0;
	nconfig = 0;
	ev_clock_virtual(T0_MS * 1000u);
	start(0);
	assert_true(ev_clock_advance_ms(0) > 0);
	for (unsigned c = 0; c < 100; c++) {
		uint64_t before = S.at[S.n - 1];
		unsigned d = ndraw - 1;

		assert_int_equal(draw_lo[d], 0);
		assert_int_equal(draw_hi[d], 60000);
		assert_true(ev_clock_advance_ms(prov_next_fetch_ms(P)) > 0);
		assert_int_equal(S.at[S.n - 2] - before, 600000u + draw_v[d]);
	}
	assert_int_equal(nconfig, 1);
	assert_int_equal(nfailed, 0);
}

/* A second config is not confirmed: it is rolled back exactly 180 s after it
 * was handed over (not a ms earlier), the last-known-good comes back, and the
 * next fetch backs off (highest draw: 30 s). The server still offering the
 * rolled-back files is a failure that backs off further, never a re-apply. */
static void test_trial_rollback_window(void **state)
{
	S.script = always_ok;
	start(0);
	assert_true(ev_clock_advance_ms(0) > 0);
	assert_int_equal(nconfig, 1);                 /* confirmed: last-known-good */
	/* the next resync brings another account */
	S.body_common = CONFIG("600", "60", "0", "200");
	S.etag_common = "\"c2\"";
	confirm_new = false;
	assert_true(ev_clock_advance_ms(660000) > 0);
	assert_int_equal(nconfig, 2);
	assert_int_equal(config_at[1], T0_MS + 660000);
	assert_true(prov_on_trial(P));
	assert_int_equal(prov_next_fetch_ms(P), 0);   /* no fetch while on trial */
	assert_true(ev_clock_advance_ms(179999) >= 0);
	assert_int_equal(nrollback, 0);
	assert_true(prov_on_trial(P));
	assert_true(ev_clock_advance_ms(1) >= 0);
	assert_int_equal(nrollback, 1);
	assert_int_equal(rollback_at[0], config_at[1] + 180000);
	assert_false(prov_on_trial(P));
	assert_string_equal(prov_config(P)->user, "100");
	assert_non_null(strstr(prov_last_error(P), "not confirmed within 180000 ms"));
	/* back-off: 30 s, then the same files again: refused, 60 s */
	assert_int_equal(prov_next_fetch_ms(P), 30000);
	assert_true(ev_clock_advance_ms(30000) > 0);
	assert_int_equal(S.at[S.n - 2], rollback_at[0] + 30000);
	assert_int_equal(nconfig, 2);                 /* not applied again */
	assert_non_null(strstr(prov_last_error(P), "still offers the config that was rolled back"));
	assert_int_equal(prov_next_fetch_ms(P), 60000);
}

/* The config check runs in a job process (this binary with --job): when it
 * crashes, answers garbage or fails to start, the fetched config is not
 * applied, the last-known-good stays in force, the reason names the cause,
 * and the next attempt backs off; once the job works again the config comes. */
static void test_parse_job_failures(void **state)
{
	static const struct {
		const char *mode, *why;
	} bad[] = {
		{ "crash", "the job process crashed (signal 6)" },
		{ "garbage", "the job process sent a malformed answer (refused)" },
		{ "silent", "the job process ended without an answer (exit status 3)" },
		{ "range", "the job process answered out of range (refused)" },
	};
	char exe[96];

	S.script = always_ok;
	start(0);
	assert_true(ev_clock_advance_ms(0) > 0);
	assert_int_equal(nconfig, 1);
	assert_string_equal(prov_config(P)->user, "100");
	S.body_common = CONFIG("600", "60", "0", "200");
	S.etag_common = "\"c2\"";
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned n = S.n, f = nfailed;

		setenv("DSA_TEST_JOB", bad[i].mode, 1);
		assert_true(ev_clock_advance_ms(prov_next_fetch_ms(P)) > 0);
		assert_int_equal(S.n, n + 2);
		assert_int_equal(nfailed, f + 1);
		assert_int_equal(nconfig, 1);                  /* nothing applied */
		assert_string_equal(prov_config(P)->user, "100");
		assert_false(prov_on_trial(P));
		print_message("# %s: %s\n", bad[i].mode, prov_last_error(P));
		assert_non_null(strstr(prov_last_error(P), "config not checked, last-known-good stays in force"));
		assert_non_null(strstr(prov_last_error(P), bad[i].why));
		assert_int_equal(job_count(), 0);              /* reaped */
	}
	/* no executable at all */
	unsetenv("DSA_TEST_JOB");
	snprintf(exe, sizeof(exe), "%s/no-such-agent", dir);
	job_set_exe(exe);
	assert_true(ev_clock_advance_ms(prov_next_fetch_ms(P)) > 0);
	assert_non_null(strstr(prov_last_error(P), "ended without an answer (exit status 127)"));
	assert_int_equal(nconfig, 1);
	job_set_exe(jobexe_path());
	/* the job works again: the new config arrives */
	assert_true(ev_clock_advance_ms(prov_next_fetch_ms(P)) > 0);
	assert_int_equal(nconfig, 2);
	assert_string_equal(prov_config(P)->user, "200");
}

/* This binary in job mode; DSA_TEST_JOB plays a broken job process. */
static int job_child(void)
{
	const char *m = getenv("DSA_TEST_JOB");

	if (!m)
		return job_main(prov_job);
	if (strcmp(m, "crash") == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		abort();
	}
	if (strcmp(m, "garbage") == 0) {
		static const char junk[] = "DJ\1\4garbage!";

		return write(1, junk, sizeof(junk) - 1) == (ssize_t)sizeof(junk) - 1 ? 0 : 1;
	}
	if (strcmp(m, "range") == 0) {
		/* well-formed, but the struct is not one the parser makes */
		struct job_buf b = { 0 };
		struct cfg_config c;
		int r;

		memset(&c, 0xff, sizeof(c));
		job_begin(&b, JOB_PARSE_REPLY);
		job_put_u32(&b, 1);
		job_put_str(&b, "");
		job_put(&b, "", 0);
		job_put(&b, &c, sizeof(c));
		r = job_end(&b) == 0 && write(1, b.p, b.len) == (ssize_t)b.len ? 0 : 1;
		job_buf_free(&b);
		return r;
	}
	return 3;                                      /* "silent" */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boot_delay_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_instants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_jitter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trial_rollback_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_job_failures, setup, teardown),
	};

	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return job_child();
	jobexe_setup();

	log_open("test_prov_timers", false, LL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
