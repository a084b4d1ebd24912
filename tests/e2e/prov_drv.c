/* prov_drv.c - drives provisioning/fetch (and the controller) on the real
 * loop for the e2e tests; prints key=value lines the scripts assert on.
 *
 *   prov_drv get URL [ETAG]          one GET; prints result/status/etag/len/err/why,
 *                                     body to $PROV_DRV_BODY when set
 *   prov_drv put URL FILE            one PUT of FILE
 * TLS from env: PROV_CA, PROV_CERT, PROV_KEY, PROV_PIN, PROV_MAX (bytes),
 * PROV_TIMEOUT_MS. Exit 0 when the request completed (any result), 3 on a
 * driver error, 4 when the 30 s bound passed.
 */
#include "config.h"

#include "common/ev.h"
#include "common/log.h"
#include "common/util.h"
#include "provisioning/fetch.h"

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
	char ua[160];
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

static struct ev_timer bound;

static void bound_cb(struct ev_timer *t)
{
	ev_stop();
}

int main(int argc, char **argv)
{
	struct pf_ctx *ctx;
	int err = 0;

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
