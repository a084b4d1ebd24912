/* prov_drv.c - drives provisioning/fetch (and the controller) on the real
 * loop for the e2e tests; prints key=value lines the scripts assert on.
 *
 *   prov_drv get URL [ETAG]          one GET; prints result/status/etag/len/err/why,
 *                                     body to $PROV_DRV_BODY when set
 *   prov_drv put URL FILE            one PUT of FILE
 *   prov_drv run                     the controller (provisioning/prov.h) with
 *                                     PROV_SERVER, PROV_STATE, PROV_MAC, PROV_BOOT_DELAY
 *                                     (ms), PROV_RETRY_BASE/CAP (ms), PROV_TRIAL (ms),
 *                                     PROV_ANSWER=confirm|rollback|none,
 *                                     PROV_REPORT=1 (PUT status after confirm),
 *                                     PROV_RESYNC_AFTER (ms), PROV_EXIT_ON=event,...
 *                                     prints one "event=..." line per callback
 * TLS from env: PROV_CA, PROV_CERT, PROV_KEY, PROV_PIN, PROV_MAX (bytes),
 * PROV_TIMEOUT_MS. Exit 0 when the request completed (any result), 3 on a
 * driver error, 4 when the 30 s bound passed.
 */
#include "config.h"

#include "common/ev.h"
#include "common/job.h"
#include "common/log.h"
#include "common/util.h"
#include "provisioning/fetch.h"
#include "provisioning/prov.h"

#include <dirent.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int done;

static void print_reply(const struct pf_reply *r, void *arg)
{
	static const char *const res[] = { "ok", "not-modified", "not-found", "failed" };
	const char *bodyfile = getenv("PROV_DRV_BODY");

	printf("result=%s\nstatus=%d\netag=%s\nlen=%zu\nerr=%s\nwhy=%s\n",
	       res[r->result], r->http_status, r->etag, r->len, pf_err_name(r->err), r->why);
	if (bodyfile && r->result == PF_OK)
		utl_write_atomic(bodyfile, r->body, r->len, 0600);
	fflush(stdout);
	done = 1;
	ev_stop();
}

static struct pf_ctx *make_ctx(void)
{
	struct pf_opts o = { 0 };
	struct pf_ctx *ctx;
	static char ua[160];           /* pf_new keeps the pointer */
	const char *v;

	o.ca_file = getenv("PROV_CA");
	o.cert_file = getenv("PROV_CERT");
	o.key_file = getenv("PROV_KEY");
	o.pinned_key = getenv("PROV_PIN");
	if ((v = getenv("PROV_MAX")))
		o.max_bytes = strtoul(v, NULL, 10);
	if ((v = getenv("PROV_TIMEOUT_MS")))
		o.total_timeout_ms = o.connect_timeout_ms = (unsigned)strtoul(v, NULL, 10);
	o.user_agent = pf_user_agent(ua, sizeof(ua), "lab-phone", "02:00:5e:10:00:01");
	if (pf_new(&ctx, &o) < 0) {
		fprintf(stderr, "prov_drv: cannot create the fetch context\n");
		exit(3);
	}
	return ctx;
}


/* ------------------------------------------------------------------ run */

static const char *exit_on;
static struct prov *P;
static struct ev_timer resync_t, spool_t;
static int reported_wanted;

static void maybe_exit(const char *ev)
{
	if (exit_on && strstr(exit_on, ev)) {
		done = 1;
		ev_stop();
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_config(struct prov *p, const struct cfg_config *c, const struct cfg_config *old,
		      unsigned changed, enum prov_source src, void *arg)
{
	static const char *const srcs[] = { "lkg", "server", "rollback" };
	const char *answer = getenv("PROV_ANSWER");
	char chg[160];

	printf("event=config src=%s changed=%s old=%s user=%s dscp_sig=%u dscp_audio=%u keepalive=%u registrars=%u t=%.3f\n",
	       srcs[src], cfg_change_str(changed, chg, sizeof(chg)), old ? "yes" : "no",
	       c->user, c->dscp_signalling, c->dscp_audio, c->keepalive_s, c->n_registrars, now_s());
	fflush(stdout);
	if (src == PROV_FROM_SERVER && answer && strcmp(answer, "confirm") == 0) {
		prov_confirm(p);
		if (getenv("PROV_REPORT")) {
			struct status_info si = { .state = STATUS_PROVISIONED, .since = time(NULL),
						  .addrs = { "eth0 127.0.0.1/8", NULL } };
			int err = prov_report(p, &si);

			printf("event=report-queued err=%d\n", err);
			reported_wanted = 1;
			ev_timer_set(&spool_t, 50);
		}
	} else if (src == PROV_FROM_SERVER && answer && strcmp(answer, "rollback") == 0) {
		prov_rollback(p, "test: did not register");
	}
	maybe_exit(srcs[src]);
}

static void on_failed(struct prov *p, const char *reason, void *arg)
{
	printf("event=failed t=%.3f reason=%s\n", now_s(), reason);
	fflush(stdout);
	maybe_exit("failed");
}

static void on_unchanged(struct prov *p, void *arg)
{
	printf("event=unchanged\n");
	fflush(stdout);
	maybe_exit("unchanged");
}

static void resync_cb(struct ev_timer *t)
{
	prov_resync(P);
}

/* The upload left the spool folder (a file-system effect, not a log line). */
static void spool_cb(struct ev_timer *t)
{
	char dir[600];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/spool", getenv("PROV_STATE"));
	if ((d = opendir(dir))) {
		while ((e = readdir(d)))
			n += strstr(e->d_name, ".put") != NULL;
		closedir(d);
	}
	if (n == 0 && reported_wanted) {
		printf("event=reported\n");
		fflush(stdout);
		maybe_exit("reported");
		return;
	}
	ev_timer_set(t, 50);
}

static unsigned envu(const char *name, unsigned def)
{
	const char *v = getenv(name);

	return v ? (unsigned)strtoul(v, NULL, 10) : def;
}

static int run(void)
{
	struct prov_opts o = { 0 };
	const char *v;

	o.server = getenv("PROV_SERVER");
	o.state_dir = getenv("PROV_STATE");
	o.bootstrap_file = "/nonexistent";
	o.dhcp_file = "/nonexistent";
	o.mac = getenv("PROV_MAC") ? getenv("PROV_MAC") : "02:00:5e:10:00:01";
	o.model = "lab-phone";
	o.http.ca_file = getenv("PROV_CA");
	o.http.cert_file = getenv("PROV_CERT");
	o.http.key_file = getenv("PROV_KEY");
	o.http.connect_timeout_ms = 3000;
	o.http.total_timeout_ms = 10000;
	o.boot_delay_ms = (v = getenv("PROV_BOOT_DELAY")) ? atoi(v) : 0;
	o.retry_base_ms = envu("PROV_RETRY_BASE", 1000);
	o.retry_cap_ms = envu("PROV_RETRY_CAP", 8000);
	o.trial_timeout_ms = envu("PROV_TRIAL", 5000);
	o.on_config = on_config;
	o.on_failed = on_failed;
	o.on_unchanged = on_unchanged;
	exit_on = getenv("PROV_EXIT_ON");
	spool_t.cb = spool_cb;
	resync_t.cb = resync_cb;
	if (prov_new(&P, &o) < 0) {
		fprintf(stderr, "prov_drv: prov_new failed\n");
		return 3;
	}
	if ((v = getenv("PROV_RESYNC_AFTER")))
		ev_timer_set(&resync_t, strtoul(v, NULL, 10));
	printf("event=start server=%s t=%.3f\n", prov_server(P), now_s());
	fflush(stdout);
	prov_start(P);
	if (getenv("PROV_REPORT_AT_START")) {
		struct status_info si = { .state = STATUS_PROVISIONING, .since = time(NULL), .reason = "spool test" };

		printf("event=report-queued err=%d\n", prov_report(P, &si));
	}
	if (getenv("PROV_WAIT_SPOOL")) {
		reported_wanted = 1;
		ev_timer_set(&spool_t, 50);
	}
	if (!done)
		ev_run();
	prov_free(P);
	cfg_cleanup();
	ev_done();
	return done ? 0 : 4;
}

static struct ev_timer bound;

static void bound_cb(struct ev_timer *t)
{
	ev_stop();
}

int main(int argc, char **argv)
{
	struct pf_ctx *ctx;
	int err = 0;

	/* the transfers run in job processes: this binary with --job */
	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return job_main(prov_job);
	if (argc == 2 && strcmp(argv[1], "run") == 0) {
		log_open("prov_drv", false, getenv("PROV_DEBUG") ? LL_DEBUG : LL_WARN);
		if (ev_init() < 0)
			return 3;
		bound.cb = bound_cb;
		ev_timer_set(&bound, envu("PROV_BOUND", 30000));
		return run();
	}
	if (argc < 3) {
		fprintf(stderr, "usage: prov_drv get URL [ETAG] | put URL FILE\n");
		return 3;
	}
	log_open("prov_drv", false, getenv("PROV_DEBUG") ? LL_DEBUG : LL_WARN);
	if (ev_init() < 0)
		return 3;
	bound.cb = bound_cb;
	ev_timer_set(&bound, 30000);
	ctx = make_ctx();
	if (strcmp(argv[1], "get") == 0) {
		err = pf_get(ctx, argv[2], argc > 3 ? argv[3] : NULL, print_reply, NULL, NULL);
	} else if (strcmp(argv[1], "put") == 0 && argc > 3) {
		char *buf;
		size_t len;

		if (utl_read_file(argv[3], 1 << 20, &buf, &len) < 0) {
			fprintf(stderr, "prov_drv: cannot read %s\n", argv[3]);
			return 3;
		}
		err = pf_put(ctx, argv[2], buf, len, "application/xml", print_reply, NULL, NULL);
		free(buf);
	} else {
		fprintf(stderr, "prov_drv: unknown command %s\n", argv[1]);
		return 3;
	}
	if (err < 0) {
		fprintf(stderr, "prov_drv: request not started (%d)\n", err);
		return 3;
	}
	ev_run();
	pf_free(ctx);
	ev_done();
	return done ? 0 : 4;
}
