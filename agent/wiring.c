/* wiring.c - how the modules serve the lifecycle (DESIGN.md, "Wiring"):
 *
 *   provisioning --on_config--> apply (VLAN, DSCP, keepalive) --> start/restart SIP
 *        ^                                                   (register first)
 *        | check-sync, resync (also cuts a SIP back-off short)      |
 *        |                                 boot self-test 0-15 s later, beside it;
 *        |                                 its summary rides the next REGISTER
 *   SIP registration: registered -> RUNNING, confirm the new config, report it
 *        auth failed / no registrar -> DEGRADED (reason), roll back a new config
 *
 * Everything here runs from the loop; nothing blocks.
 */
#include "config.h"

#include "agent/agent_int.h"
#include "agent/ctl.h"
#include "common/job.h"
#include "common/log.h"
#include "common/sysc.h"
#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "provisioning/prov.h"
#include "provisioning/status.h"
#include "sip/reg.h"
#include "system/system.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUB "agent"
#define DEFAULT_DOMAIN "dialstack.ai"
#define REPORTS_KEPT 5
#define VLAN_DHCP_TIMEOUT_MS 20000
/* Everything that reaches the platform on its own is spread over a window, so
 * a fleet that boots (or recovers) together does not arrive together. */
#define STATUS_DELAY_MIN_MS 500       /* status PUT: 0.5-25 s after the change (changes */
#define STATUS_DELAY_MAX_MS 25000     /*   in between share one PUT): <= N/24 PUTs/s */
#define BOOT_SELFTEST_MAX_MS 15000    /* boot self-test starts 0-15 s after the first REGISTER */
#define CHECK_SYNC_MAX_MS 30000       /* check-sync NOTIFY: fetch within 0-30 s */
#define UNLOAD_IDLE_MS 10000          /* big libraries closed 10 s after the last job */

static void unload_soon(struct agent *a);

extern char **environ;

static void sip_start(struct agent *a);
static void report_status(struct agent *a);

/* ------------------------------------------------------------ status upload */

static enum status_state portal_state(const struct agent *a)
{
	switch (a->sm.state) {
	case AGT_RUNNING:
		return STATUS_REGISTERED;
	case AGT_DEGRADED:
		return a->have_config ? STATUS_FAILED : STATUS_PROVISIONING;
	case AGT_APPLYING:
	case AGT_REGISTERING:
		return a->have_config ? STATUS_PROVISIONED : STATUS_PROVISIONING;
	default:
		return a->have_config ? STATUS_PROVISIONED : STATUS_PROVISIONING;
	}
}

/* PUT the status document now (the controller spools it when the server is away). */
static void status_send(struct agent *a)
{
	struct status_info si;
	struct sip_reg_status rs;
	char addr[128], vaddr[128], ip[64], vif[32];

	if (!a->prov || !a->have_config)
		return;
	memset(&si, 0, sizeof(si));
	si.mac = a->mac;
	si.model = a->boot_cfg.model;
	si.state = portal_state(a);
	si.reason = a->sm.reason[0] ? a->sm.reason : NULL;
	si.since = a->sm.since;
	if (a->reg) {
		sip_reg_status(a->reg, &rs);
		if (rs.state == SIP_REG_REGISTERED) {
			si.registrar = rs.region;
			si.registrar_host = rs.registrar;
			si.transport = rs.transport;
		}
	}
	if (a->vlan_note[0] && si.state != STATUS_FAILED)
		si.reason = a->vlan_note;
	if (sys_iface_ipv4(a->iface, ip, sizeof(ip)) < 0)
		utl_strlcpy(ip, "no IPv4 address", sizeof(ip));
	snprintf(addr, sizeof(addr), "%s %s", a->iface, ip);
	si.addrs[0] = addr;
	if (a->vlan_up && sys_vlan_ifname(a->iface, a->vlan_up, vif, sizeof(vif)) == 0 &&
	    sys_iface_ipv4(vif, ip, sizeof(ip)) == 0) {
		snprintf(vaddr, sizeof(vaddr), "%s %s", vif, ip);
		si.addrs[1] = vaddr;
	}
	si.selftest_xml = a->report_xml;
	si.selftest_len = a->report_len;
	if (prov_report(a->prov, &si) < 0)
		log_warn(SUB, "could not queue the status report");
}

static void status_timer_cb(struct ev_timer *t)
{
	struct agent *a = container_of(t, struct agent, status_timer);

	a->status_due = false;
	status_send(a);
}

/* Something the portal shows changed: PUT the status document a random
 * 0.5-25 s later, one PUT for every change in between, and never before the
 * first REGISTER has had its answer (registering comes first at boot). */
static void report_status(struct agent *a)
{
	if (!a->prov || !a->have_config)
		return;
	a->status_due = true;
	if (!a->reg_answered || ev_timer_pending(&a->status_timer))
		return;
	a->status_timer.cb = status_timer_cb;
	ev_timer_set(&a->status_timer, utl_random_range(STATUS_DELAY_MIN_MS, STATUS_DELAY_MAX_MS));
}

/* The first registration outcome: what waited for it may go out now. */
static void reg_answered(struct agent *a)
{
	if (a->reg_answered)
		return;
	a->reg_answered = true;
	if (a->prov)
		prov_release(a->prov);
	if (a->status_due)
		report_status(a);
}

/* ------------------------------------------------------------ self-test */

struct st_client {
	struct diag_listener l;
	struct ctl_client *c;
	struct agent *a;
	struct ev_timer reap;
	struct ev_timer progress;            /* while the background checks run */
	unsigned waited_s;
};

/* The host the self-test probes for registrar r (config index i): for a bare domain (no port:
 * RFC 3263) the SRV target registration found (the domain itself has no address), else r's. */
static __attribute__((noinline)) const char *probe_host(struct agent *a, const struct cfg_registrar *r, unsigned i)
{
	const char *t = !r->port && a->reg ? sip_reg_target_host(a->reg, i) : NULL;

	return t ? t : r->host;
}

/* The self-test's settings from the config in force; boot: only what the
 * config's selftest@boot asks for (a technician's run gets everything). */
static void fill_diag_opts(struct agent *a, struct diag_opts *o, bool boot)
{
	const struct cfg_config *c = a->have_config ? &a->applied : NULL;
	const char *domain = c && c->domain[0] ? c->domain : DEFAULT_DOMAIN;
	const char *server = a->prov ? prov_server(a->prov) : NULL;
	unsigned i;

	diag_opts_default(o);
	utl_strlcpy(o->ifname, a->iface, sizeof(o->ifname));
	utl_strlcpy(o->prov_url, server && *server ? server : PROV_DEFAULT_SERVER, sizeof(o->prov_url));
	utl_strlcpy(o->ca_file, a->boot_cfg.ca, sizeof(o->ca_file));
	if (sysc_access(a->boot_cfg.cert, R_OK) == 0 && sysc_access(a->boot_cfg.key, R_OK) == 0) {
		utl_strlcpy(o->cert_file, a->boot_cfg.cert, sizeof(o->cert_file));
		utl_strlcpy(o->key_file, a->boot_cfg.key, sizeof(o->key_file));
	}
	snprintf(o->sip_host[0], sizeof(o->sip_host[0]), "sip-east.%.100s", domain);
	snprintf(o->sip_host[1], sizeof(o->sip_host[1]), "sip-west.%.100s", domain);
	snprintf(o->stun_host, sizeof(o->stun_host), "stun.%.100s", domain);
	snprintf(o->reflector_host, sizeof(o->reflector_host), "reflector.%.100s", domain);
	o->build_epoch = BUILD_EPOCH;
	if (!c)
		return;
	/* The provisioned registrars: east/west by name, else by priority. */
	for (i = 0; i < c->n_registrars && i < CFG_MAX_REGISTRARS; i++) {
		const struct cfg_registrar *r = &c->registrars[i];
		int slot = strcmp(r->name, "west") == 0 ? 1 : strcmp(r->name, "east") == 0 ? 0 : (int)i;

		if (slot <= 1)
			utl_strlcpy(o->sip_host[slot], probe_host(a, r, i), sizeof(o->sip_host[slot]));
		/* the transports and ports the phone registers with: the SIP ALG check probes them */
		o->sip_transports = (i ? o->sip_transports : 0) |
				    (r->transport == CFG_TP_TCP ? DIAG_SIP_TCP : r->transport == CFG_TP_TLS ? DIAG_SIP_TLS : DIAG_SIP_UDP);
		if (r->port && r->transport == CFG_TP_TLS)
			o->sip_tls_port = r->port;
		else if (r->port)
			o->sip_port = r->port;
	}
	o->rtp_min = c->rtp_min;
	o->rtp_max = c->rtp_max;
	o->keepalive_s = c->keepalive_s;
	o->dscp_audio = (int)c->dscp_audio;
	o->dscp_signal = (int)c->dscp_signalling;
	o->voice_ms = c->selftest_duration_s * 1000u;
	o->th.m[DIAG_M_JITTER].good = c->jitter_good_ms;
	o->th.m[DIAG_M_JITTER].acceptable = c->jitter_acceptable_ms;
	o->th.m[DIAG_M_LOSS].good = c->loss_good_pct;
	o->th.m[DIAG_M_LOSS].acceptable = c->loss_acceptable_pct;
	o->th.m[DIAG_M_RTT].good = c->rtt_good_ms;
	o->th.m[DIAG_M_RTT].acceptable = c->rtt_acceptable_ms;
	o->th.m[DIAG_M_RTT].problematic = c->rtt_problematic_ms;
	o->th.mos_good = c->mos_good;
	/* The test call uses the provisioned account (never logged or reported). */
	utl_strlcpy(o->sip_user, c->user, sizeof(o->sip_user));
	utl_strlcpy(o->sip_auth_user, c->auth_user, sizeof(o->sip_auth_user));
	utl_strlcpy(o->sip_password, c->password, sizeof(o->sip_password));
	utl_strlcpy(o->sip_domain, c->domain, sizeof(o->sip_domain));
	/* The phone's own checks (test call, audio path, SRTP): on a technician's
	 * run always; at boot unless selftest@boot says "network". Each says SKIP
	 * when it cannot apply. */
	o->checks = 0;
	if (!boot || strcmp(c->selftest_boot, "network") != 0)
		o->checks = DIAG_CHECK_BIT(DIAG_C_CALL) | DIAG_CHECK_BIT(DIAG_C_AUDIO) | DIAG_CHECK_BIT(DIAG_C_SRTP);
	if (c->selftest_checks & CFG_CHECK_LINK)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_LINK);
	if (c->selftest_checks & CFG_CHECK_ADDRESS)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_ADDRESS);
	if (c->selftest_checks & CFG_CHECK_CLOCK)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_CLOCK);
	if (c->selftest_checks & CFG_CHECK_DNS)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_DNS);
	if (c->selftest_checks & CFG_CHECK_REACH)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_HTTPS) | DIAG_CHECK_BIT(DIAG_C_EAST_UDP) |
			     DIAG_CHECK_BIT(DIAG_C_EAST_TCP) | DIAG_CHECK_BIT(DIAG_C_EAST_TLS) |
			     DIAG_CHECK_BIT(DIAG_C_WEST_UDP) | DIAG_CHECK_BIT(DIAG_C_WEST_TCP) |
			     DIAG_CHECK_BIT(DIAG_C_WEST_TLS) | DIAG_CHECK_BIT(DIAG_C_RTP_PORTS);
	if (c->selftest_checks & CFG_CHECK_NAT)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_NAT);
	if (c->selftest_checks & CFG_CHECK_UDP_MAPPING)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_UDP_LIFETIME);
	if (c->selftest_checks & CFG_CHECK_ALG)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_SIP_ALG);
	if (c->selftest_checks & CFG_CHECK_QUALITY)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_VOICE);
	if (c->selftest_checks & CFG_CHECK_DSCP)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_DSCP);
	if (c->selftest_checks & CFG_CHECK_MTU)
		o->checks |= DIAG_CHECK_BIT(DIAG_C_MTU);
}

/* Hand the summary to the registration: a registered client sends a REGISTER
 * with it now (within its budget); otherwise the next registration carries it. */
static void selftest_to_registrar(struct agent *a)
{
	struct sip_reg_status rs;

	if (!a->summary_unsent || !a->reg)
		return;
	sip_reg_set_selftest(a->reg, a->summary[0] ? a->summary : NULL);
	sip_reg_status(a->reg, &rs);
	if (rs.state == SIP_REG_REGISTERED)
		a->summary_unsent = false;
}

/* A report is (re)complete: keep it, put its summary into REGISTER, upload it. */
static void take_report(struct agent *a, const struct diag_report *rep)
{
	char dir[512], *xml = NULL;
	size_t len = 0;
	int n;

	n = diag_report_summary(rep, a->summary, sizeof(a->summary));
	if (n < 0)
		a->summary[0] = '\0';
	if (diag_report_xml(rep, &xml, &len) == 0) {
		free(a->report_xml);
		a->report_xml = xml;
		a->report_len = len;
	}
	snprintf(dir, sizeof(dir), "%s/reports", a->opt->statedir);
	if (utl_mkdir_p(dir, 0700) == 0 && diag_report_save(rep, dir, REPORTS_KEPT) < 0)
		log_warn(SUB, "could not keep the self-test report in %s", dir);
	log_notice(SUB, "self-test: %s", a->summary);
	/* Rides the next REGISTER (sent now when registered; else once registered). */
	a->summary_unsent = true;
	selftest_to_registrar(a);
	report_status(a);
}

static void agent_run_done(const struct diag_report *rep, void *arg)
{
	take_report(arg, rep);
	unload_soon(arg);
}

static void agent_report_update(const struct diag_report *rep, void *arg)
{
	take_report(arg, rep);
	unload_soon(arg);
}

static struct diag_listener agent_listener;

static struct json_object *result_json(const struct diag_result *r)
{
	struct json_object *o = json_object_new_object(), *vals = json_object_new_object();
	unsigned i;

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "title", json_object_new_string(r->title));
	json_object_object_add(o, "verdict", json_object_new_string(diag_verdict_name(r->verdict)));
	for (i = 0; i < r->nvalues; i++) {
		char v[96];

		snprintf(v, sizeof(v), "%s%s%s", r->values[i].value, r->values[i].unit[0] ? " " : "",
			 r->values[i].unit);
		json_object_object_add(vals, r->values[i].name, json_object_new_string(v));
	}
	json_object_object_add(o, "values", vals);
	json_object_object_add(o, "threshold", json_object_new_string(r->threshold));
	json_object_object_add(o, "advice", json_object_new_string(r->advice));
	json_object_object_add(o, "background", json_object_new_boolean(r->background));
	return o;
}

static void st_client_reap(struct ev_timer *t)
{
	struct st_client *sc = container_of(t, struct st_client, reap);

	ev_timer_cancel(&sc->progress);
	diag_listener_remove(&sc->l);
	free(sc);
}

static void st_client_check(const struct diag_result *r, void *arg)
{
	struct st_client *sc = arg;
	struct json_object *ev;
	char line[DIAG_LINE_COLS + 8];

	if (!sc->c)
		return;
	diag_result_line(r, line, sizeof(line));
	ev = ctl_reply_new("event");
	json_object_object_add(ev, "line", json_object_new_string(line));
	json_object_object_add(ev, "check", result_json(r));
	ctl_client_event(sc->c, ev);
}

/* The final result: the report with every check (or the main phase's, when the client
 * asked for it to end there: it hangs up after the "partial" event, see agent/cli.c). */
/* The word for diag_report_exit_status's value (anything but 0 or 1 fails). */
static const char *ex_verdict(int ex)
{
	return ex == 0 ? "pass" : ex == 1 ? "warn" : "fail";
}

static void st_client_final(const struct diag_report *rep, void *arg)
{
	struct st_client *sc = arg;
	struct json_object *res;
	char text[256], *xml = NULL;
	int ex = diag_report_exit_status(rep);

	ev_timer_cancel(&sc->progress);
	if (sc->c) {
		res = ctl_reply_new("result");
		json_object_object_add(res, "verdict", json_object_new_string(ex_verdict(ex)));
		json_object_object_add(res, "complete", json_object_new_boolean(rep->complete));
		if (diag_report_summary(rep, text, sizeof(text)) >= 0)
			json_object_object_add(res, "register_summary", json_object_new_string(text));
		snprintf(text, sizeof(text), "overall: %s%s", diag_verdict_name(rep->overall),
			 rep->complete ? "" : " (UDP mapping lifetime still being measured; it joins the report)");
		json_object_object_add(res, "summary", json_object_new_string(text));
		/* the report is text from open_memstream: NUL-terminated, no NUL inside */
		if (diag_report_xml(rep, &xml, NULL) == 0) {
			json_object_object_add(res, "xml", json_object_new_string(xml));
			free(xml);
		}
		ctl_client_finish(sc->c, res);
		sc->c = NULL;
	}
	/* Detach and free from the loop, not from inside the runner's callback. */
	sc->reap.cb = st_client_reap;
	ev_timer_set(&sc->reap, 0);
}

/* Every 5 s while the background checks run: a progress line (also keeps the CLI's wait alive). */
static void st_client_progress(struct ev_timer *t)
{
	struct st_client *sc = container_of(t, struct st_client, progress);
	struct json_object *ev;
	char line[80];

	sc->waited_s += 5;
	if (!sc->c)
		return;
	snprintf(line, sizeof(line), "...  UDP lifetime   still measuring (%u s)", sc->waited_s);
	ev = ctl_reply_new("progress");
	json_object_object_add(ev, "line", json_object_new_string(line));
	ctl_client_event(sc->c, ev);
	ev_timer_set(&sc->progress, 5000);
}

/* The main phase is over: final when complete; else say so ("partial", with the verdict so far,
 * for `selftest --quick`) and wait for the background checks (on_report_update). */
static void st_client_done(const struct diag_report *rep, void *arg)
{
	struct st_client *sc = arg;
	struct json_object *ev;
	int ex = diag_report_exit_status(rep);

	if (rep->complete || !sc->c) {
		st_client_final(rep, arg);
		return;
	}
	ev = ctl_reply_new("progress");
	json_object_object_add(ev, "partial", json_object_new_boolean(true));
	json_object_object_add(ev, "verdict", json_object_new_string(ex_verdict(ex)));
	json_object_object_add(ev, "line",
			       json_object_new_string("...  UDP lifetime   waiting (--quick: no)"));
	ctl_client_event(sc->c, ev);
	sc->progress.cb = st_client_progress;
	ev_timer_set(&sc->progress, 5000);
}

static void st_client_gone(struct ctl_client *c, void *arg)
{
	struct st_client *sc = arg;

	sc->c = NULL;
	ev_timer_cancel(&sc->progress);
	sc->reap.cb = st_client_reap;
	ev_timer_set(&sc->reap, 0);
}

static int selftest_start(struct agent *a, struct ctl_client *c, bool boot, char *why, size_t whylen)
{
	struct diag_opts o;
	struct st_client *sc = NULL;
	int rc;

	if (!a->diag) {
		a->diag = diag_runner_new();
		if (!a->diag) {
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
	}
	fill_diag_opts(a, &o, boot);
	/* The audio check beeps the speaker: only when someone asked for a self-test
	 * at the phone (CLI/menu), never at boot or from a signal. */
	if (!c)
		o.checks &= ~DIAG_CHECK_BIT(DIAG_C_AUDIO);
	if (diag_opts_validate(&o, why, whylen) < 0)
		return -EINVAL;
	agent_listener.on_run_done = agent_run_done;
	agent_listener.on_report_update = agent_report_update;
	agent_listener.arg = a;
	rc = diag_runner_start(a->diag, &o, &agent_listener);
	if (rc < 0) {
		snprintf(why, whylen, "the self-test could not start: %s", strerror(-rc));
		return rc;
	}
	if (rc == 0)
		a->selftests++;
	if (c) {
		sc = calloc(1, sizeof(*sc));
		if (!sc) {
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		sc->c = c;
		sc->a = a;
		sc->l.on_check_done = st_client_check;
		sc->l.on_run_done = st_client_done;
		sc->l.on_report_update = st_client_final;
		sc->l.arg = sc;
		ctl_client_on_close(c, st_client_gone, sc);
		/* Joins the run just started (or the one already running). */
		rc = diag_runner_start(a->diag, &o, &sc->l);
		if (rc < 0) {
			ctl_client_on_close(c, NULL, NULL);
			free(sc);
			snprintf(why, whylen, "the self-test could not start: %s", strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int agt_selftest(struct agent *a, struct ctl_client *c, char *why, size_t whylen)
{
	return selftest_start(a, c, false, why, whylen);
}

static void boot_selftest_cb(struct ev_timer *t)
{
	struct agent *a = container_of(t, struct agent, boot_selftest);
	char why[200];

	if (a->sm.state == AGT_STOPPING || !a->have_config)
		return;
	if (selftest_start(a, NULL, true, why, sizeof(why)) < 0)
		log_warn(SUB, "boot self-test not started: %s", why);
}

/* ------------------------------------------------------------ resident core */

/* Whether a job that uses the big libraries in this process is running: a
 * self-test (main phase, or its background measurement still adding to the
 * report). Fetches, uploads and config checks run in job processes. */
static bool jobs_running(struct agent *a)
{
	const struct diag_report *rep;

	if (!a->diag)
		return false;
	if (diag_runner_busy(a->diag))
		return true;
	rep = diag_runner_report(a->diag);
	return rep && !rep->complete;
}

/* Idle: free the self-test runner and give the heap back. (libcurl and
 * libxml2 never enter this process: their work runs in job processes.) */
static void unload_cb(struct ev_timer *t)
{
	struct agent *a = container_of(t, struct agent, unload_timer);

	if (a->sm.state == AGT_STOPPING)
		return;
	if (jobs_running(a)) {
		ev_timer_set(t, UNLOAD_IDLE_MS);
		return;
	}
	if (a->diag) {
		diag_runner_free(a->diag);
		a->diag = NULL;
	}
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* A job ended or started: look again in UNLOAD_IDLE_MS. */
static void unload_soon(struct agent *a)
{
	if (a->sm.state == AGT_STOPPING)
		return;
	a->unload_timer.cb = unload_cb;
	ev_timer_set(&a->unload_timer, UNLOAD_IDLE_MS);
}

/* ------------------------------------------------------------ SIP */

static void sip_on_state(struct sip_reg *reg, const struct sip_reg_status *st, void *arg)
{
	struct agent *a = arg;
	char reason[700];

	if (reg != a->reg || a->sm.state == AGT_STOPPING)
		return;
	switch (st->state) {
	case SIP_REG_REGISTERED:
		if (a->sm.state != AGT_RUNNING) {
			snprintf(reason, sizeof(reason), "registered on %s (%s over %s)", st->region,
				 st->registrar, st->transport);
			agt_sm_go(&a->sm, AGT_RUNNING, reason);
		}
		if (a->on_trial) {
			log_notice(SUB, "the new configuration registers: keeping it");
			prov_confirm(a->prov);
			a->on_trial = false;
		}
		a->registered_once = true;
		reg_answered(a);
		selftest_to_registrar(a);
		report_status(a);
		break;
	case SIP_REG_AUTH_FAILED:
		snprintf(reason, sizeof(reason), "authentication failed: check the SIP password (%s)",
			 st->last_error[0] ? st->last_error : st->region);
		agt_sm_go(&a->sm, AGT_DEGRADED, reason);
		reg_answered(a);
		report_status(a);
		if (a->on_trial) {
			a->on_trial = false;
			prov_rollback(a->prov, reason);
		}
		break;
	case SIP_REG_FAILING:
		snprintf(reason, sizeof(reason), "not registered: %s",
			 st->last_error[0] ? st->last_error : "no registrar answers");
		agt_sm_go(&a->sm, AGT_DEGRADED, reason);
		reg_answered(a);
		report_status(a);
		break;
	case SIP_REG_REGISTERING:
		if (a->sm.state == AGT_RUNNING) {
			snprintf(reason, sizeof(reason), "registering again%s%s",
				 st->last_error[0] ? ": " : "", st->last_error);
			agt_sm_go(&a->sm, AGT_REGISTERING, reason);
		}
		break;
	default:
		break;
	}
}

static void resync_timer_cb(struct ev_timer *t)
{
	struct agent *a = container_of(t, struct agent, resync_timer);

	if (a->prov && a->sm.state != AGT_STOPPING)
		prov_resync(a->prov);
}

/* A registrar may NOTIFY a whole fleet at once: each phone fetches at a
 * random point of the next 30 s (a technician's resync/SIGHUP is immediate). */
static void sip_on_check_sync(struct sip_reg *reg, void *arg)
{
	struct agent *a = arg;
	uint64_t ms = utl_random_range(0, CHECK_SYNC_MAX_MS);

	log_notice(SUB, "the registrar asked for a resync (NOTIFY check-sync): fetching in %llu ms",
		   (unsigned long long)ms);
	if (ev_timer_pending(&a->resync_timer))
		return;
	a->resync_timer.cb = resync_timer_cb;
	ev_timer_set(&a->resync_timer, ms);
}

static void sip_start(struct agent *a)
{
	const struct cfg_config *c = &a->applied;
	struct sip_reg_opts o;
	const char *why = NULL;
	char ua[160];
	unsigned i;
	int err;

	if (a->reg || a->reg_old || a->sm.state == AGT_STOPPING)
		return;
	sip_reg_opts_init(&o);
	o.user = c->user;
	o.auth_user = c->auth_user[0] ? c->auth_user : NULL;
	o.password = c->password;
	o.domain = c->domain;
	for (i = 0; i < c->n_registrars && o.n_registrars < SIP_REG_MAX_REGISTRARS; i++) {
		struct sip_registrar *r = &o.registrars[o.n_registrars++];

		r->name = c->registrars[i].name;
		r->host = c->registrars[i].host;
		r->port = c->registrars[i].port;
		r->transport = c->registrars[i].transport == CFG_TP_TLS ? SIP_TP_TLS :
			       c->registrars[i].transport == CFG_TP_TCP ? SIP_TP_TCP : SIP_TP_UDP;
		r->priority = c->registrars[i].priority;
	}
	o.expires = (int)c->expires_s;
	o.keepalive_s = (int)c->keepalive_s;
	o.failback_s = (int)c->failback_s;
	o.dscp = (int)c->dscp_signalling;
	o.ca_file = c->sip_ca_bundle[0] ? c->sip_ca_bundle : a->boot_cfg.ca;
	o.mac = a->mac;
	snprintf(ua, sizeof(ua), "dialstack-agent/%s (%s)", PACKAGE_VERSION, a->boot_cfg.model);
	o.user_agent = ua;
	o.selftest = a->summary[0] ? a->summary : NULL;
	a->summary_unsent = false;      /* this registration carries it */
	o.on_state = sip_on_state;
	o.on_check_sync = sip_on_check_sync;
	o.arg = a;
	err = sip_reg_new(&o, &a->reg, &why);
	if (err < 0) {
		char reason[300];

		snprintf(reason, sizeof(reason), "cannot register: %s", why ? why : strerror(-err));
		agt_sm_go(&a->sm, AGT_DEGRADED, reason);
		reg_answered(a);           /* nothing to wait for: fetch and report */
		if (a->on_trial) {
			a->on_trial = false;
			prov_rollback(a->prov, reason);
		}
		return;
	}
	if (a->sm.state != AGT_REGISTERING)
		agt_sm_go(&a->sm, AGT_REGISTERING, "registering with the provisioned registrars");
	err = sip_reg_start(a->reg);
	if (err < 0) {
		agt_sm_go(&a->sm, AGT_DEGRADED, "cannot start the SIP registration");
		reg_answered(a);
	}
}

static void old_reg_stopped(struct sip_reg *reg, void *arg)
{
	struct agent *a = arg;

	sip_reg_free(a->reg_old);
	a->reg_old = NULL;
	sip_start(a);
}

/* Re-register with the config in force: unregister the old binding first
 * (bounded), then start again, so the old Expires: 0 never removes the new one. */
static void sip_restart(struct agent *a)
{
	if (a->reg_old)
		return;            /* already restarting: sip_start picks up a->applied */
	if (!a->reg) {
		sip_start(a);
		return;
	}
	a->reg_old = a->reg;
	a->reg = NULL;
	sip_reg_stop(a->reg_old, 2000, old_reg_stopped, a);
}

/* ------------------------------------------------------------ voice VLAN */

static void route_save_path(const struct agent *a, char *buf, size_t size)
{
	snprintf(buf, size, "%s/data-default-route", a->opt->rundir);
}

/* Put the data network's default route back (saved by voice-dhcp.sh). */
static void route_restore(struct agent *a)
{
	char path[512], *line = NULL;
	char *argv[12];
	int n = 0;
	pid_t pid;

	route_save_path(a, path, sizeof(path));
	if (utl_read_file(path, 512, &line, NULL) < 0)
		return;
	line[strcspn(line, "\n")] = '\0';
	argv[n++] = (char *)"ip";
	argv[n++] = (char *)"route";
	argv[n++] = (char *)"replace";
	for (char *save = NULL, *w = strtok_r(line, " ", &save); w && n < 11; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (n > 3 && posix_spawnp(&pid, "ip", NULL, NULL, argv, environ) == 0)
		log_notice(SUB, "default route back on the data network");
	unlink(path);
	free(line);
}

static void vlan_remove(struct agent *a)
{
	if (!a->vlan_up)
		return;
	if (a->vlan_dhcp_pid > 0)
		sysc_kill(a->vlan_dhcp_pid, SIGTERM);
	ev_timer_cancel(&a->vlan_dhcp_deadline);
	sys_vlan_del(a->iface, a->vlan_up);
	a->vlan_up = 0;
	route_restore(a);
}

static void vlan_give_up(struct agent *a, const char *why)
{
	unsigned vid = a->vlan_up;

	vlan_remove(a);
	snprintf(a->vlan_note, sizeof(a->vlan_note),
		 "voice VLAN %u not usable (%s): using the untagged network", vid, why);
	log_warn(SUB, "%s", a->vlan_note);
	report_status(a);
}

static void vlan_dhcp_timeout(struct ev_timer *t)
{
	struct agent *a = container_of(t, struct agent, vlan_dhcp_deadline);

	vlan_give_up(a, "no DHCP lease on it: is the VLAN carried by the switch?");
}

void agt_child_exited(struct agent *a, pid_t pid, int status)
{
	if (pid != a->vlan_dhcp_pid)
		return;
	a->vlan_dhcp_pid = 0;
	ev_timer_cancel(&a->vlan_dhcp_deadline);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_notice(SUB, "voice VLAN %u has its address from DHCP; signalling and audio use it now",
			   a->vlan_up);
		a->vlan_note[0] = '\0';
		/* The flow's source address changed: register from the VLAN. */
		if (a->reg)
			sip_restart(a);
		report_status(a);
		return;
	}
	if (a->vlan_up)
		vlan_give_up(a, "no DHCP lease on it: is the VLAN carried by the switch?");
}

/* Create <iface>.<vid> and ask the system's DHCP client for its address. */
static void vlan_apply(struct agent *a, const struct cfg_config *c)
{
	char ifn[32];
	char script[512], save[512], env_save[600];
	/* posix_spawn takes char *const[]: the strings are never written. */
	char *argv[] = { (char *)"udhcpc", (char *)"-i", ifn, (char *)"-n", (char *)"-q",
			 (char *)"-t", (char *)"4", (char *)"-T", (char *)"2", (char *)"-A", (char *)"1",
			 (char *)"-s", script, NULL };
	char *envp[] = { env_save, (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int err;

	vlan_remove(a);
	a->vlan_note[0] = '\0';
	if (!c->vlan_id || !a->iface[0])
		return;
	err = sys_vlan_add(a->iface, c->vlan_id, c->vlan_priority);
	if (err < 0) {
		snprintf(a->vlan_note, sizeof(a->vlan_note),
			 "voice VLAN %u not created (%s): using the untagged network", c->vlan_id,
			 sys_vlan_strerror(err));
		log_warn(SUB, "%s", a->vlan_note);
		return;
	}
	a->vlan_up = c->vlan_id;
	sys_vlan_ifname(a->iface, c->vlan_id, ifn, sizeof(ifn));
	log_notice(SUB, "voice VLAN %s created (802.1p %u); asking DHCP for its address", ifn,
		   c->vlan_priority);
	snprintf(script, sizeof(script), "%s/voice-dhcp.sh", getenv("DIALSTACK_DATADIR") ?: DSA_DATADIR);
	route_save_path(a, save, sizeof(save));
	unlink(save);
	snprintf(env_save, sizeof(env_save), "DSA_ROUTE_SAVE=%s", save);
	if (sysc_access(script, X_OK) < 0) {
		vlan_give_up(a, "its DHCP script is missing (reinstall the package)");
		return;
	}
	if (posix_spawnp(&a->vlan_dhcp_pid, "udhcpc", NULL, NULL, argv, envp) != 0) {
		a->vlan_dhcp_pid = 0;
		vlan_give_up(a, "no DHCP client (udhcpc) to get its address");
		return;
	}
	a->vlan_dhcp_deadline.cb = vlan_dhcp_timeout;
	ev_timer_set(&a->vlan_dhcp_deadline, VLAN_DHCP_TIMEOUT_MS);
}

/* ------------------------------------------------------------ provisioning */

static bool selftest_at_boot(const struct cfg_config *c)
{
	if (strcmp(c->selftest_boot, "none") == 0)
		return false;
	return strcmp(c->selftest_boot, "network") != 0 || c->selftest_checks != 0;
}

static void prov_on_config(struct prov *p, const struct cfg_config *cfg, const struct cfg_config *old,
			   unsigned changed, enum prov_source src, void *arg)
{
	struct agent *a = arg;
	char what[200], reason[300];
	bool first = !a->have_config;

	if (a->sm.state == AGT_STOPPING)
		return;
	if (first)
		changed = ~0u;
	cfg_change_str(changed, what, sizeof(what));
	snprintf(reason, sizeof(reason), "%s configuration (%s)",
		 src == PROV_FROM_LKG ? "stored" : src == PROV_FROM_ROLLBACK ? "rolled back to the last good" : "new",
		 first ? "everything" : what);
	agt_sm_go(&a->sm, AGT_APPLYING, reason);
	a->on_trial = src == PROV_FROM_SERVER;
	a->applied = *cfg;
	a->have_config = true;

	if (changed & CFG_CH_VLAN)
		vlan_apply(a, cfg);
	if (changed & CFG_CH_DSCP)
		log_info(SUB, "DSCP: audio %u, signalling %u", cfg->dscp_audio, cfg->dscp_signalling);
	report_status(a);               /* goes out once the first REGISTER has its answer */

	if (!a->reg || (changed & (CFG_CH_SIP | CFG_CH_DSCP | CFG_CH_KEEPALIVE))) {
		/* Register first: the REGISTER leaves now; the boot self-test runs
		 * beside it and its summary rides a later REGISTER. */
		sip_restart(a);
		if (first && selftest_at_boot(cfg)) {
			a->boot_selftest.cb = boot_selftest_cb;
			ev_timer_set(&a->boot_selftest, utl_random_range(0, BOOT_SELFTEST_MAX_MS));
		}
		return;
	}
	/* Nothing SIP needs: back to where we were. */
	if (a->registered_once && a->reg) {
		struct sip_reg_status st;

		sip_reg_status(a->reg, &st);
		if (st.state == SIP_REG_REGISTERED) {
			agt_sm_go(&a->sm, AGT_RUNNING, "configuration applied; registration unchanged");
			if (a->on_trial) {
				prov_confirm(a->prov);
				a->on_trial = false;
			}
			return;
		}
	}
	agt_sm_go(&a->sm, AGT_REGISTERING, "waiting for the registration");
}

static void prov_on_failed(struct prov *p, const char *reason, void *arg)
{
	struct agent *a = arg;
	char msg[300];

	if (a->sm.state == AGT_STOPPING)
		return;
	if (!a->have_config) {
		snprintf(msg, sizeof(msg), "no configuration yet: %s", reason);
		agt_sm_go(&a->sm, AGT_DEGRADED, msg);
		return;
	}
	log_warn(SUB, "provisioning: %s (the configuration in force stays)", reason);
}

static void prov_on_unchanged(struct prov *p, void *arg)
{
	log_info(SUB, "provisioning: the configuration on the server is unchanged");
}

int agt_wiring_start(struct agent *a)
{
	struct prov_opts po;
	char reason[300];
	int err;

	/* Identity: the interface and its MAC, unless the bootstrap names them. */
	if (a->boot_cfg.iface[0])
		utl_strlcpy(a->iface, a->boot_cfg.iface, sizeof(a->iface));
	else if (sys_default_iface(a->iface, sizeof(a->iface)) < 0)
		a->iface[0] = '\0';
	if (a->boot_cfg.mac[0])
		utl_strlcpy(a->mac, a->boot_cfg.mac, sizeof(a->mac));
	else if (!a->iface[0] || sys_iface_mac(a->iface, a->mac, sizeof(a->mac)) < 0) {
		snprintf(reason, sizeof(reason), "no MAC address: no network interface%s%s found; "
			 "check the cable or set 'interface' in bootstrap.conf",
			 a->iface[0] ? " " : "", a->iface);
		agt_sm_go(&a->sm, AGT_PROVISIONING, "looking for the network");
		agt_sm_go(&a->sm, AGT_DEGRADED, reason);
		return -ENODEV;
	}

	memset(&po, 0, sizeof(po));
	po.server = a->boot_cfg.server[0] ? a->boot_cfg.server : NULL;
	po.bootstrap_file = "";                 /* the server comes from bootstrap.conf above */
	po.dhcp_file = a->boot_cfg.dhcp_url_file;
	po.state_dir = a->opt->statedir;
	po.mac = a->mac;
	po.model = a->boot_cfg.model;
	po.http.ca_file = a->boot_cfg.ca;
	/* the job processes (an unprivileged user) read these: its group may */
	job_grant(a->boot_cfg.key);
	job_grant(a->boot_cfg.cert);
	job_grant(a->boot_cfg.ca);
	if (sysc_access(a->boot_cfg.cert, R_OK) == 0 && sysc_access(a->boot_cfg.key, R_OK) == 0) {
		po.http.cert_file = a->boot_cfg.cert;
		po.http.key_file = a->boot_cfg.key;
	} else {
		log_warn(SUB, "no device certificate at %s: the server may refuse this phone", a->boot_cfg.cert);
	}
	po.http.pinned_key = a->boot_cfg.pin[0] ? a->boot_cfg.pin : NULL;
	po.boot_delay_ms = (int)utl_random_range(0, a->boot_cfg.boot_delay_max * 1000u);
	po.hold_after_lkg = true;
	po.on_config = prov_on_config;
	po.on_failed = prov_on_failed;
	po.on_unchanged = prov_on_unchanged;
	po.arg = a;
	err = utl_mkdir_p(a->opt->statedir, 0700);
	if (err == 0)
		err = prov_new(&a->prov, &po);
	if (err < 0) {
		snprintf(reason, sizeof(reason), "cannot use the state folder %s: %s", a->opt->statedir,
			 strerror(-err));
		agt_sm_go(&a->sm, AGT_PROVISIONING, "starting");
		agt_sm_go(&a->sm, AGT_DEGRADED, reason);
		return err;
	}
	log_notice(SUB, "phone %s on %s; first contact in %d ms", a->mac, a->iface[0] ? a->iface : "?",
		   po.boot_delay_ms);
	agt_sm_go(&a->sm, AGT_PROVISIONING, "looking for the configuration");
	err = prov_start(a->prov);
	if (err < 0)
		agt_sm_go(&a->sm, AGT_DEGRADED, "provisioning could not start");
	return err;
}

const char *agt_resync(struct agent *a)
{
	a->resyncs++;
	if (a->reg)
		sip_reg_kick(a->reg);     /* a pending registration back-off ends now */
	if (!a->prov)
		return "provisioning has not started yet (see status)";
	prov_resync(a->prov);
	return "fetching the configuration now";
}

/* ------------------------------------------------------------ stop */

static void reg_stopped(struct sip_reg *reg, void *arg)
{
	log_notice(SUB, "unregistered");
	ev_stop();
}

void agt_wiring_stop(struct agent *a, unsigned max_ms)
{
	ev_timer_cancel(&a->boot_selftest);
	ev_timer_cancel(&a->resync_timer);
	ev_timer_cancel(&a->status_timer);
	ev_timer_cancel(&a->unload_timer);
	if (a->diag) {
		diag_runner_free(a->diag);
		a->diag = NULL;
	}
	vlan_remove(a);
	/* A client being replaced (a->reg_old) is already unregistering; the
	 * daemon's stop deadline covers it. */
	if (a->reg)
		sip_reg_stop(a->reg, max_ms, reg_stopped, NULL);
	else
		ev_stop();
}

void agt_wiring_free(struct agent *a)
{
	ev_timer_cancel(&a->boot_selftest);
	ev_timer_cancel(&a->resync_timer);
	ev_timer_cancel(&a->status_timer);
	ev_timer_cancel(&a->unload_timer);
	if (a->diag)
		diag_runner_free(a->diag);
	a->diag = NULL;
	if (a->reg)
		sip_reg_free(a->reg);
	if (a->reg_old)
		sip_reg_free(a->reg_old);
	a->reg = a->reg_old = NULL;
	if (a->prov)
		prov_free(a->prov);
	a->prov = NULL;
	free(a->report_xml);
	a->report_xml = NULL;
}

/* ------------------------------------------------------------ status */

void agt_status_modules(struct agent *a, struct json_object *st)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "server", json_object_new_string(a->prov ? prov_server(a->prov) : ""));
	json_object_object_add(p, "config", json_object_new_string(a->have_config ? "applied" : "none"));
	json_object_object_add(p, "on_trial", json_object_new_boolean(a->prov && prov_on_trial(a->prov)));
	json_object_object_add(p, "last_error", json_object_new_string(a->prov ? prov_last_error(a->prov) : ""));
	json_object_object_add(p, "next_fetch_s",
			       json_object_new_int64(a->prov ? (int64_t)(prov_next_fetch_ms(a->prov) / 1000u) : 0));
	if (a->vlan_note[0])
		json_object_object_add(p, "vlan", json_object_new_string(a->vlan_note));
	else if (a->vlan_up)
		json_object_object_add(p, "vlan", json_object_new_int64((int)a->vlan_up));
	json_object_object_add(st, "provisioning", p);

	if (a->reg) {
		struct sip_reg_status rs;
		struct json_object *s = json_object_new_object();

		sip_reg_status(a->reg, &rs);
		json_object_object_add(s, "state", json_object_new_string(rs.state_name));
		json_object_object_add(s, "region", json_object_new_string(rs.region));
		json_object_object_add(s, "registrar", json_object_new_string(rs.registrar));
		json_object_object_add(s, "target", json_object_new_string(rs.target));
		json_object_object_add(s, "transport", json_object_new_string(rs.transport ? rs.transport : ""));
		json_object_object_add(s, "since", json_object_new_int64((int64_t)rs.since));
		json_object_object_add(s, "public_address", json_object_new_string(rs.public_addr));
		json_object_object_add(s, "expires", json_object_new_int64(rs.expires));
		json_object_object_add(s, "last_error", json_object_new_string(rs.last_error));
		json_object_object_add(st, "sip", s);
	}
	if (a->summary[0]) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "summary", json_object_new_string(a->summary));
		json_object_object_add(d, "runs", json_object_new_int64((int)a->selftests));
		json_object_object_add(st, "selftest", d);
	}
}
