/* runner.c - runs the self-test's checks on the loop, phase by phase, and tells listeners. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ev.h"
#include "common/log.h"
#include "diag/check.h"
#include "diag/famverdict.h"
#include "diag/load.h"
#include "diag/probe.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "diag/rtpstats.h"
#include "diag/stats.h"
#include "provisioning/fetch.h"

#define SUB "diag"

/* Report order = enum diag_check_id. */
static const struct diag_check_type *const types[DIAG_C_COUNT] = {
	[DIAG_C_LINK] = &diag_chk_link,
	[DIAG_C_ADDRESS] = &diag_chk_address,
	[DIAG_C_CLOCK] = &diag_chk_clock,
	[DIAG_C_DNS] = &diag_chk_dns,
	[DIAG_C_HTTPS] = &diag_chk_https,
	[DIAG_C_EAST_UDP] = &diag_chk_sip[0],
	[DIAG_C_EAST_TCP] = &diag_chk_sip[1],
	[DIAG_C_EAST_TLS] = &diag_chk_sip[2],
	[DIAG_C_WEST_UDP] = &diag_chk_sip[3],
	[DIAG_C_WEST_TCP] = &diag_chk_sip[4],
	[DIAG_C_WEST_TLS] = &diag_chk_sip[5],
	[DIAG_C_RTP_PORTS] = &diag_chk_rtp_ports,
	[DIAG_C_NAT] = &diag_chk_nat,
	[DIAG_C_SIP_ALG] = &diag_chk_sip_alg,
	[DIAG_C_VOICE] = &diag_chk_voice,
	[DIAG_C_DSCP] = &diag_chk_dscp,
	[DIAG_C_MTU] = &diag_chk_mtu,
	[DIAG_C_UDP_LIFETIME] = &diag_chk_udp_lifetime,
	[DIAG_C_CALL] = &diag_chk_call,
	[DIAG_C_AUDIO] = &diag_chk_audio,
	[DIAG_C_SRTP] = &diag_chk_srtp,
	[DIAG_C_FAMILY] = &diag_chk_family,
};

const char *diag_check_id_name(enum diag_check_id id)
{
	return (unsigned)id < DIAG_C_COUNT ? types[id]->name : "?";
}

enum run_state { RUN_PHASE1, RUN_PHASE2, RUN_MAIN_DONE, RUN_ALL_DONE };

struct diag_run {
	struct diag_runner *runner;
	struct diag_opts opts;
	struct diag_ctx ctx;
	struct diag_check checks[DIAG_C_COUNT];
	struct diag_report report;
	struct diag_listener *listeners;
	enum run_state state;
	bool starting;               /* inside a start loop: defer phase changes */
	bool phase3;                 /* the checks judged from the others have started */
	bool latest;                 /* the runner's latest finished report */
	struct ev_timer deadline;
	struct ev_timer reaper;      /* frees the run outside any callback */
	struct ev_timer kick;        /* starts the checks from the loop, never inside start() */
	struct diag_load *load;      /* the phone's own timer lateness during the run */
};

struct diag_runner {
	struct diag_run *cur;        /* in its main phase */
	struct diag_run *latest;     /* main phase done, report kept */
	struct diag_run *older[4];   /* superseded, background check still running */
	uint64_t next_id;
};

/* ---------------------------------------------------------------- results */

void diag_value_add(struct diag_result *r, const char *name, const char *unit, const char *fmt, ...)
{
	struct diag_value *v;
	va_list ap;

	if (r->nvalues >= DIAG_MAX_VALUES)
		return;
	v = &r->values[r->nvalues++];
	utl_strlcpy(v->name, name, sizeof(v->name));
	utl_strlcpy(v->unit, unit ? unit : "", sizeof(v->unit));
	va_start(ap, fmt);
	/* never silently cut: a value too long for the report ends in "..." */
	if (vsnprintf(v->value, sizeof(v->value), fmt, ap) >= (int)sizeof(v->value))
		memcpy(v->value + sizeof(v->value) - 4, "...", 4);
	va_end(ap);
}

void diag_value_timing(struct diag_result *r, const struct rtpstats_result *s, uint32_t samples, int prec,
		       uint64_t tx_kernel, uint64_t tx)
{
	diag_value_add(r, "rtt_min", "ms", "%.*f", prec, s->rtt_min_ms);
	diag_value_add(r, "rtt_avg", "ms", "%.*f", prec, s->rtt_avg_ms);
	diag_value_add(r, "rtt_max", "ms", "%.*f", prec, s->rtt_max_ms);
	diag_value_add(r, "rtt_samples", "", "%u", samples);
	diag_value_add(r, "jitter", "ms", "%.*f", prec, s->jitter_ms);
	diag_value_add(r, "jitter_samples", "", "%u", samples ? samples - 1 : 0);
	diag_value_add(r, "timestamps", "", "%s",
		       tx_kernel >= tx ? "kernel TX and RX (SO_TIMESTAMPING software)" :
		       tx_kernel ? "kernel RX; kernel TX for some packets, user-space send time for the rest" :
		       "kernel RX; user-space send time (the kernel gave no TX timestamps)");
}

void diag_rate_metric(struct diag_result *r, const struct diag_thresholds *th, enum diag_metric m, double x,
		      bool as_value, enum diag_verdict *v, char *bad, size_t cap)
{
	enum diag_rating rt = diag_rate(th, m, x);

	if (as_value) {
		char key[32];

		snprintf(key, sizeof(key), "%s_rating", diag_metric_name(m));
		diag_value_add(r, key, "", "%s", diag_rating_name(rt));
	}
	*v = diag_verdict_worst(*v, diag_rating_verdict(rt));
	if (rt >= DIAG_MARGINAL) {
		size_t l = strlen(bad);

		snprintf(bad + l, cap - l, "%s%s %.*f %s is %s (%s %g %s)", l ? "; " : "", diag_metric_name(m),
			 m == DIAG_M_LOSS ? 1 : 0, x, diag_metric_unit(m), diag_rating_name(rt),
			 rt == DIAG_PROBLEMATIC ? "above" : "not below",
			 rt == DIAG_PROBLEMATIC ? th->m[m].problematic : th->m[m].acceptable, diag_metric_unit(m));
	}
}

void diag_loss_rating(struct diag_result *r, const struct diag_irate *ir, enum diag_verdict *v, char *bad,
		      size_t cap)
{
	diag_value_add(r, "loss_rating", "", "%s%s%s%s", ir->decided ? "" : "undecided: ",
		       diag_rating_name(ir->lo_rating), ir->decided ? "" : "..",
		       ir->decided ? "" : diag_rating_name(ir->hi_rating));
	*v = diag_verdict_worst(*v, ir->verdict);
	if (!ir->decided || ir->rating >= DIAG_MARGINAL) {
		size_t l = strlen(bad);

		l += (size_t)snprintf(bad + l, cap - l, "%s", l ? "; " : "");
		if (l < cap)
			diag_irate_sentence(ir, DIAG_M_LOSS, bad + l, cap - l);
	}
}

void diag_verdict_set(struct diag_result *r, enum diag_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->advice, sizeof(r->advice), fmt, ap);
	va_end(ap);
}

void diag_threshold_set(struct diag_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->threshold, sizeof(r->threshold), fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- options */

void diag_opts_default(struct diag_opts *o)
{
	memset(o, 0, sizeof(*o));
	utl_strlcpy(o->prov_url, "https://prov.dialstack.ai/", sizeof(o->prov_url));
	utl_strlcpy(o->sip_host[0], "sip-east.dialstack.ai", sizeof(o->sip_host[0]));
	utl_strlcpy(o->sip_host[1], "sip-west.dialstack.ai", sizeof(o->sip_host[1]));
	o->sip_port = 5060;
	o->sip_tls_port = 5061;
	o->sip_transports = DIAG_SIP_UDP;
	utl_strlcpy(o->stun_host, "global.stun.twilio.com", sizeof(o->stun_host));
	o->stun_port = 3478;
	o->reflector_port = 7;
	o->rtp_min = 10000;
	o->rtp_max = 20000;
	o->rtp_samples = 6;
	o->keepalive_s = 20;
	o->lifetime_margin_s = 10;
	o->lifetime_budget_s = 60;
	o->dscp_audio = 46;
	o->dscp_signal = 26;
	o->voice_ms = 10000;
	o->packet_ms = 20;
	o->run_budget_ms = 30000;            /* the voice stream may be extended by 10 s */
	o->voice_ext_ms = 10000;
	diag_thresholds_default(&o->th);
	o->checks = DIAG_CHECKS_ALL;
	utl_strlcpy(o->resolv_conf, "/etc/resolv.conf", sizeof(o->resolv_conf));
	utl_strlcpy(o->sysfs_net, "/sys/class/net", sizeof(o->sysfs_net));
	utl_strlcpy(o->proc_route, "/proc/net/route", sizeof(o->proc_route));
	o->build_epoch = BUILD_EPOCH;
	utl_strlcpy(o->echo_user, "echo", sizeof(o->echo_user));
	o->call_ms = 5000;
	o->call_setup_ms = 4000;
	o->call_t1_ms = 500;
	o->call_tone_hz = 1000;
	utl_strlcpy(o->audio_playback, "default", sizeof(o->audio_playback));
	utl_strlcpy(o->audio_capture, "default", sizeof(o->audio_capture));
	o->audio_ms = 1000;
}

#define OPT_FIELD(f) offsetof(struct diag_opts, f)
/* No pointers (a relocation each): the names inline, offsets and lows in 16 bits. */
_Static_assert(sizeof(struct diag_opts) <= 65535, "uint_rules' offsets are 16-bit");
static const struct {
	unsigned hi;
	unsigned short off, lo;
	char name[18];
} uint_rules[] = {
	{ 65535, OPT_FIELD(sip_port), 1, "sip_port" },
	{ 65535, OPT_FIELD(sip_tls_port), 1, "sip_tls_port" },
	{ 7, OPT_FIELD(sip_transports), 1, "sip_transports" },
	{ 65535, OPT_FIELD(stun_port), 1, "stun_port" },
	{ 65535, OPT_FIELD(reflector_port), 1, "reflector_port" },
	{ 65535, OPT_FIELD(rtp_min), 1024, "rtp_min" },
	{ 65535, OPT_FIELD(rtp_max), 1024, "rtp_max" },
	{ 32, OPT_FIELD(rtp_samples), 2, "rtp_samples" },
	{ 3600, OPT_FIELD(keepalive_s), 1, "keepalive_s" },
	{ 600, OPT_FIELD(lifetime_margin_s), 0, "lifetime_margin_s" },
	{ 120, OPT_FIELD(lifetime_budget_s), 1, "lifetime_budget_s" },
	{ 60000, OPT_FIELD(voice_ms), 1000, "voice_ms" },
	{ 100, OPT_FIELD(packet_ms), 1, "packet_ms" },
	{ 60000, OPT_FIELD(voice_ext_ms), 0, "voice_ext_ms" },
	{ 120000, OPT_FIELD(run_budget_ms), 5000, "run_budget_ms" },
	{ 30000, OPT_FIELD(call_ms), 1000, "call_ms" },
	{ 30000, OPT_FIELD(call_setup_ms), 500, "call_setup_ms" },
	{ 2000, OPT_FIELD(call_t1_ms), 10, "call_t1_ms" },
	{ 10000, OPT_FIELD(audio_ms), 100, "audio_ms" },
};

int diag_opts_validate(const struct diag_opts *o, char *why, size_t whylen)
{
	for (size_t i = 0; i < ARRAY_SIZE(uint_rules); i++) {
		unsigned v = *(const unsigned *)(const void *)((const char *)o + uint_rules[i].off);

		if (v < uint_rules[i].lo || v > uint_rules[i].hi) {
			snprintf(why, whylen, "self-test option %s=%u is out of range %u-%u", uint_rules[i].name,
				 v, uint_rules[i].lo, uint_rules[i].hi);
			return -EINVAL;
		}
	}
	if (o->rtp_min > o->rtp_max) {
		snprintf(why, whylen, "self-test RTP range %u-%u is reversed", o->rtp_min, o->rtp_max);
		return -EINVAL;
	}
	if (o->dscp_audio < 0 || o->dscp_audio > 63 || o->dscp_signal < 0 || o->dscp_signal > 63) {
		snprintf(why, whylen, "self-test DSCP values must be 0-63 (audio %d, signalling %d)",
			 o->dscp_audio, o->dscp_signal);
		return -EINVAL;
	}
	if (o->packet_ms * 2 > o->voice_ms) {
		snprintf(why, whylen, "self-test voice stream of %u ms is too short for %u ms packets",
			 o->voice_ms, o->packet_ms);
		return -EINVAL;
	}
	if ((o->checks & DIAG_CHECK_BIT(DIAG_C_HTTPS)) && strncmp(o->prov_url, "https://", 8) != 0) {
		snprintf(why, whylen, "provisioning URL '%.80s' is not https://: only HTTPS is allowed",
			 o->prov_url);
		return -EINVAL;
	}
	if (!(o->call_tone_hz >= 300 && o->call_tone_hz <= 3400)) {
		snprintf(why, whylen, "self-test call tone %g Hz is outside the G.711 band 300-3400 Hz",
			 o->call_tone_hz);
		return -EINVAL;
	}
	if (o->sip_user[0] && (!o->sip_domain[0] || !o->echo_user[0])) {
		snprintf(why, whylen, "self-test call needs sip_domain and echo_user with sip_user");
		return -EINVAL;
	}
	if (diag_thresholds_validate(&o->th) < 0) {
		snprintf(why, whylen, "self-test thresholds are not ordered good <= acceptable <= problematic");
		return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- run */

static void run_advance(struct diag_run *run);
static void run_reap(struct diag_run *run);

static bool enabled(const struct diag_run *run, enum diag_check_id id)
{
	return run->opts.checks & DIAG_CHECK_BIT(id);
}

static void notify_check(struct diag_run *run, const struct diag_result *res)
{
	for (struct diag_listener *l = run->listeners, *n; l; l = n) {
		n = l->next;
		if (l->on_check_done)
			l->on_check_done(res, l->arg);
	}
}

/* A network check that failed while the phone itself was busy: inconclusive, not FAIL. */
static void judge_load(struct diag_run *run, struct diag_check *c)
{
	struct diag_result *r = &c->res;
	struct diag_busy b;
	double psi = -1, lpc = -1;
	uint64_t now = ev_now_ms();
	unsigned nticks = 0;
	uint64_t late;
	char advice[sizeof(r->advice)];

	if (r->verdict != DIAG_FAIL || !run->load || (c->type->phase != 2 && c->type->id != DIAG_C_DNS))
		return;
	late = diag_load_late_max_ms(run->load, c->started_ms, now, &nticks);
	if (diag_load_psi("/proc/pressure/cpu", &psi) < 0)
		psi = -1;
	if (diag_load_avg_per_cpu("/proc/loadavg", &lpc) < 0)
		lpc = -1;
	diag_load_judge(late, psi, lpc, now - c->started_ms, &b);
	diag_value_add(r, "phone_load", "", "%s (%u ticks)", b.why, nticks);
	if (!b.busy)
		return;
	utl_strlcpy(advice, r->advice, sizeof(advice));
	snprintf(r->brief, sizeof(r->brief), "inconclusive: phone busy");
	diag_verdict_set(r, DIAG_INCONCLUSIVE, "inconclusive: the phone was busy (%s), which explains a timeout "
			 "or delay; run the self-test again when the phone is idle (the failure was: %.150s)",
			 b.why, advice);
}

void diag_check_done(struct diag_check *c)
{
	struct diag_run *run = c->run;

	if (!c->running)
		return;
	c->running = false;
	diag_budget_note(c);
	judge_load(run, c);
	c->res.done = true;
	c->res.duration_ms = ev_now_ms() - c->started_ms;
	if (!c->res.advice[0] && c->res.verdict == DIAG_PASS)
		utl_strlcpy(c->res.advice, "OK", sizeof(c->res.advice));
	run->report.results[c->type->id] = c->res;
	log_info(SUB, "%s: %s (%s)", c->type->name, diag_verdict_name(c->res.verdict), c->res.advice);
	notify_check(run, &c->res);
	if (!run->starting)
		run_advance(run);
}

static void check_skip(struct diag_check *c, const char *why)
{
	c->running = true;
	c->started_ms = ev_now_ms();
	diag_verdict_set(&c->res, DIAG_SKIP, "%s", why);
	diag_check_done(c);
}

#define V6_CHECKS                                                                                        \
	(DIAG_CHECK_BIT(DIAG_C_EAST_UDP) | DIAG_CHECK_BIT(DIAG_C_EAST_TCP) | DIAG_CHECK_BIT(DIAG_C_EAST_TLS) |    \
	 DIAG_CHECK_BIT(DIAG_C_WEST_UDP) | DIAG_CHECK_BIT(DIAG_C_WEST_TCP) | DIAG_CHECK_BIT(DIAG_C_WEST_TLS) |    \
	 DIAG_CHECK_BIT(DIAG_C_RTP_PORTS) | DIAG_CHECK_BIT(DIAG_C_NAT) | DIAG_CHECK_BIT(DIAG_C_VOICE) |          \
	 DIAG_CHECK_BIT(DIAG_C_DSCP) | DIAG_CHECK_BIT(DIAG_C_MTU) | DIAG_CHECK_BIT(DIAG_C_UDP_LIFETIME) |      \
	 DIAG_CHECK_BIT(DIAG_C_HTTPS) | DIAG_CHECK_BIT(DIAG_C_SIP_ALG) | DIAG_CHECK_BIT(DIAG_C_CALL))

static void start_check(struct diag_run *run, struct diag_check *c)
{
	const struct diag_check_type *t = c->type;
	char why[200];
	int err;

	if (t->phase == 2) {
		/* the checks that run over IPv6 too: an IPv6-only phone, or a name with AAAA only */
		bool v6 = run->ctx.v6 == DIAG_V6_GLOBAL && (DIAG_CHECK_BIT(t->id) & V6_CHECKS);

		if (!run->ctx.have_addr && !v6) {
			check_skip(c, "not tested: the phone has no IPv4 address (see address)");
			return;
		}
		if (t->needs != DIAG_H_NONE && !(run->ctx.have_addr && run->ctx.resolved[t->needs]) &&
		    !(v6 && run->ctx.resolved6[t->needs])) {
			snprintf(why, sizeof(why), "not tested: %s has no address (see dns)",
				 run->ctx.host[t->needs][0] ? run->ctx.host[t->needs] : "the server");
			check_skip(c, why);
			return;
		}
	}
	c->running = true;
	c->started_ms = ev_now_ms();
	err = t->start(c);
	if (err < 0 && c->running) {
		t->cancel(c);
		diag_verdict_set(&c->res, DIAG_FAIL, "the check could not run: %s", diag_strerror(err));
		diag_check_done(c);
	}
}

static void start_phase(struct diag_run *run, int phase)
{
	run->starting = true;
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		struct diag_check *c = &run->checks[i];

		if (c->type && c->type->phase == phase && enabled(run, (enum diag_check_id)i))
			start_check(run, c);
	}
	run->starting = false;
}

static bool phase_done(const struct diag_run *run, int phase, bool with_background)
{
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		const struct diag_check *c = &run->checks[i];

		if (!c->type || !enabled(run, (enum diag_check_id)i))
			continue;
		if (phase && c->type->phase != phase)
			continue;
		if (!with_background && c->type->background)
			continue;
		if (!c->res.done)
			return false;
	}
	return true;
}

static void report_finish(struct diag_run *run)
{
	struct diag_report *rep = &run->report;
	struct diag_result *sip[6];

	for (int i = 0; i < 6; i++)
		sip[i] = &rep->results[DIAG_C_EAST_UDP + i];
	if (enabled(run, DIAG_C_EAST_UDP))
		diag_sip_reach_advise(&run->opts, sip);
	rep->duration_ms = ev_now_ms() - rep->started_mono_ms;
	diag_report_compute(rep);
}

static void runner_promote(struct diag_runner *r, struct diag_run *run)
{
	struct diag_run *old = r->latest;

	if (r->cur == run)
		r->cur = NULL;
	r->latest = run;
	run->latest = true;
	if (old) {
		old->latest = false;
		if (old->state == RUN_ALL_DONE) {
			run_reap(old);
		} else {
			size_t i;

			for (i = 0; i < ARRAY_SIZE(r->older) && r->older[i]; i++)
				;
			if (i < ARRAY_SIZE(r->older))
				r->older[i] = old;
			else
				run_reap(old); /* too many: cancels its background check */
		}
	}
}

static void run_advance(struct diag_run *run)
{
	if (run->state == RUN_PHASE1 && phase_done(run, 1, true)) {
		run->state = RUN_PHASE2;
		start_phase(run, 2);
	}
	if (run->state == RUN_PHASE2 && !run->phase3 && phase_done(run, 2, false)) {
		run->phase3 = true;
		start_phase(run, 3);
	}
	if (run->state == RUN_PHASE2 && phase_done(run, 0, false)) {
		run->state = RUN_MAIN_DONE;
		ev_timer_cancel(&run->deadline);
		report_finish(run);
		if (phase_done(run, 0, true)) {
			/* the background check finished first: one complete report */
			run->state = RUN_ALL_DONE;
			diag_load_stop(run->load);
			run->report.complete = true;
		}
		runner_promote(run->runner, run);
		log_notice(SUB, "self-test done: %s", diag_verdict_name(run->report.overall));
		for (struct diag_listener *l = run->listeners, *n; l; l = n) {
			n = l->next;
			if (l->on_run_done)
				l->on_run_done(&run->report, l->arg);
		}
	}
	if (run->state == RUN_MAIN_DONE && phase_done(run, 0, true)) {
		run->state = RUN_ALL_DONE;
		diag_load_stop(run->load);
		report_finish(run);
		run->report.complete = true;
		for (struct diag_listener *l = run->listeners, *n; l; l = n) {
			n = l->next;
			if (l->on_report_update)
				l->on_report_update(&run->report, l->arg);
		}
		if (!run->latest)
			run_reap(run);
	}
}

static void on_deadline(struct ev_timer *t)
{
	struct diag_run *run = container_of(t, struct diag_run, deadline);

	run->starting = true;
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		struct diag_check *c = &run->checks[i];

		if (!c->running || c->type->background)
			continue;
		c->type->cancel(c);
		c->res.verdict = DIAG_FAIL;
		if (!c->res.advice[0])
			diag_verdict_set(&c->res, DIAG_FAIL, "no result within the self-test's %u s budget",
					 run->opts.run_budget_ms / 1000);
		diag_check_done(c);
	}
	run->starting = false;
	run_advance(run);
}

static void run_cancel_all(struct diag_run *run)
{
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		struct diag_check *c = &run->checks[i];

		if (c->running) {
			c->type->cancel(c);
			c->running = false;
		}
	}
}

static void run_free(struct diag_run *run)
{
	struct diag_runner *r = run->runner;

	run_cancel_all(run);
	ev_timer_cancel(&run->deadline);
	ev_timer_cancel(&run->reaper);
	ev_timer_cancel(&run->kick);
	for (struct diag_listener *l = run->listeners; l; l = l->next)
		l->run = NULL;
	if (r) {
		if (r->cur == run)
			r->cur = NULL;
		if (r->latest == run)
			r->latest = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(r->older); i++)
			if (r->older[i] == run)
				r->older[i] = NULL;
	}
	pf_free(run->ctx.http);
	diag_load_free(run->load);
	free(run);
}

static void on_kick(struct ev_timer *t)
{
	struct diag_run *run = container_of(t, struct diag_run, kick);

	start_phase(run, 1);
	run_advance(run);
}

static void on_reap(struct ev_timer *t)
{
	run_free(container_of(t, struct diag_run, reaper));
}

/* Free run on the next loop turn (we may be inside one of its callbacks). */
static void run_reap(struct diag_run *run)
{
	struct diag_runner *r = run->runner;

	run_cancel_all(run);
	if (r) {
		if (r->latest == run)
			r->latest = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(r->older); i++)
			if (r->older[i] == run)
				r->older[i] = NULL;
	}
	run->runner = NULL;
	run->latest = false;
	ev_timer_set(&run->reaper, 0);
}

static void listener_add(struct diag_run *run, struct diag_listener *l)
{
	struct diag_listener **pp = &run->listeners;

	if (!l)
		return;
	diag_listener_remove(l);
	while (*pp)
		pp = &(*pp)->next;
	l->next = NULL;
	*pp = l;
	l->run = run;
}

void diag_listener_remove(struct diag_listener *l)
{
	struct diag_listener **pp;

	if (!l || !l->run)
		return;
	for (pp = &l->run->listeners; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	l->run = NULL;
	l->next = NULL;
}

static void ctx_init(struct diag_run *run)
{
	struct diag_ctx *x = &run->ctx;
	const struct diag_opts *o = &run->opts;
	const char *prov = o->prov_url + (strncmp(o->prov_url, "https://", 8) ? 0 : 8);
	size_t n = strcspn(prov, ":/?#");

	x->opts = o;
	x->results = run->report.results;
	if (n >= sizeof(x->host[DIAG_H_PROV]))
		n = sizeof(x->host[DIAG_H_PROV]) - 1;
	memcpy(x->host[DIAG_H_PROV], prov, n);
	x->host[DIAG_H_PROV][n] = '\0';
	utl_strlcpy(x->host[DIAG_H_EAST], o->sip_host[0], sizeof(x->host[0]));
	utl_strlcpy(x->host[DIAG_H_WEST], o->sip_host[1], sizeof(x->host[0]));
	utl_strlcpy(x->host[DIAG_H_STUN], o->stun_host, sizeof(x->host[0]));
	utl_strlcpy(x->host[DIAG_H_REFLECTOR], o->reflector_host, sizeof(x->host[0]));
	utl_strlcpy(x->ifname, o->ifname, sizeof(x->ifname));
}

struct diag_runner *diag_runner_new(void)
{
	struct diag_runner *r = calloc(1, sizeof(*r));

	if (r)
		r->next_id = 1;
	return r;
}

void diag_runner_free(struct diag_runner *r)
{
	if (!r)
		return;
	if (r->cur)
		run_free(r->cur);
	if (r->latest)
		run_free(r->latest);
	for (size_t i = 0; i < ARRAY_SIZE(r->older); i++)
		if (r->older[i])
			run_free(r->older[i]);
	free(r);
}

int diag_runner_start(struct diag_runner *r, const struct diag_opts *o, struct diag_listener *l)
{
	struct diag_run *run;
	char why[200];
	int err;

	if (r->cur) {
		listener_add(r->cur, l);
		return 1;
	}
	if ((err = diag_opts_validate(o, why, sizeof(why))) < 0) {
		log_err(SUB, "%s", why);
		return err;
	}
	run = calloc(1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	run->runner = r;
	run->opts = *o;
	/* the local checks and DNS feed every other check */
	run->opts.checks |= DIAG_CHECK_BIT(DIAG_C_LINK) | DIAG_CHECK_BIT(DIAG_C_ADDRESS) |
			    DIAG_CHECK_BIT(DIAG_C_CLOCK) | DIAG_CHECK_BIT(DIAG_C_DNS);
	/* the family verdict comes with the SIP rows it judges */
	if (run->opts.checks & (DIAG_CHECK_BIT(DIAG_C_EAST_UDP) | DIAG_CHECK_BIT(DIAG_C_EAST_TCP) |
				DIAG_CHECK_BIT(DIAG_C_EAST_TLS) | DIAG_CHECK_BIT(DIAG_C_WEST_UDP) |
				DIAG_CHECK_BIT(DIAG_C_WEST_TCP) | DIAG_CHECK_BIT(DIAG_C_WEST_TLS)))
		run->opts.checks |= DIAG_CHECK_BIT(DIAG_C_FAMILY);
	ctx_init(run);
	{
		/* the probes' TLS settings: verification on, CA, optional client
		 * certificate (strings of the run's own copy of the options) */
		const struct diag_opts *ro = &run->opts;
		struct pf_opts h = { .ca_file = ro->ca_file[0] ? ro->ca_file : NULL };

		if (ro->cert_file[0] && ro->key_file[0]) {
			h.cert_file = ro->cert_file;
			h.key_file = ro->key_file;
		}
		if (pf_new(&run->ctx.http, &h) < 0) {
			free(run);
			return -ENOMEM;
		}
	}
	run->deadline.cb = on_deadline;
	run->reaper.cb = on_reap;
	run->kick.cb = on_kick;
	run->load = diag_load_new(); /* without it, no load judgement: failures stay FAIL */
	run->report.run_id = r->next_id++;
	run->report.started = time(NULL);
	run->report.started_mono_ms = ev_now_ms();
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		struct diag_check *c = &run->checks[i];

		c->type = types[i];
		c->run = run;
		c->ctx = &run->ctx;
		c->res.check = (enum diag_check_id)i;
		c->res.id = types[i]->name;
		c->res.title = types[i]->title;
		c->res.background = types[i]->background;
		c->res.verdict = DIAG_SKIP;
		run->report.results[i] = c->res;
		run->report.present[i] = enabled(run, (enum diag_check_id)i);
	}
	r->cur = run;
	listener_add(run, l);
	ev_timer_set(&run->deadline, o->run_budget_ms);
	run->ctx.deadline_us = ev_now_us() + (uint64_t)o->run_budget_ms * 1000;
	log_notice(SUB, "self-test %llu started", (unsigned long long)run->report.run_id);
	run->state = RUN_PHASE1;
	diag_load_start(run->load);
	/* callbacks always come from the loop, even when every check is decided at once */
	ev_timer_set(&run->kick, 0);
	return 0;
}

bool diag_runner_busy(const struct diag_runner *r)
{
	return r->cur != NULL;
}

const struct diag_report *diag_runner_report(const struct diag_runner *r)
{
	return r->latest ? &r->latest->report : NULL;
}

const struct diag_result *diag_report_result(const struct diag_report *rep, enum diag_check_id id)
{
	if ((unsigned)id >= DIAG_C_COUNT || !rep->present[id])
		return NULL;
	return &rep->results[id];
}
