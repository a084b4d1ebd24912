/* test_diag_dns.c - the self-test's DNS check on the common resolver, against the
 * loopback DNS server of dnszone.c: the A record feeds the other checks and the
 * AAAA is shown beside it; an IPv6-only name and NXDOMAIN are named as causes. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/ev.h"
#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "dnszone.h"

static const struct dz_rr zone[] = {
	{ "stun.dsa.test", T_A, 60, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL },
	{ "stun.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "v6only.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
};

static bool done;

static void on_done(const struct diag_report *rep, void *arg)
{
	done = true;
}

static int setup(void **state)
{
	static char servers[32];

	if (ev_init())
		return -1;
	ev_clock_virtual(1000000);
	if (dz_start(zone, ARRAY_SIZE(zone)))
		return -1;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", dz.port);
	setenv("DSA_DNS_SERVERS", servers, 1);
	return 0;
}

static int teardown(void **state)
{
	unsetenv("DSA_DNS_SERVERS");
	dz_stop();
	ev_done();
	return 0;
}

/* Run the DNS check (with the NAT check, which needs the STUN name) for stun_host. */
static const struct diag_result *run_dns(struct diag_runner *run, const char *stun_host)
{
	static struct diag_listener ls[4];    /* a run keeps its listeners until it is freed */
	static size_t nl;
	struct diag_listener *l = &ls[nl++ % ARRAY_SIZE(ls)];
	struct diag_opts o;
	uint64_t end;

	diag_opts_default(&o);
	utl_strlcpy(o.ifname, "lo", sizeof(o.ifname));
	utl_strlcpy(o.stun_host, stun_host, sizeof(o.stun_host));
	o.checks = DIAG_CHECK_BIT(DIAG_C_DNS) | DIAG_CHECK_BIT(DIAG_C_NAT);
	done = false;
	memset(l, 0, sizeof(*l));
	l->on_run_done = on_done;
	assert_int_equal(diag_runner_start(run, &o, l), 0);
	end = ev_now_ms() + 15000;
	while (!done && ev_now_ms() < end)
		ev_run_once(20);
	assert_true(done);
	return diag_report_result(diag_runner_report(run), DIAG_C_DNS);
}

static void test_dns_check(void **state)
{
	struct diag_runner *run = diag_runner_new();
	const struct diag_result *r;
	const char *v;

	r = run_dns(run, "stun.dsa.test");
	assert_non_null(r);
	assert_int_equal(r->verdict, DIAG_PASS);
	v = diag_result_value(r, "stun.dsa.test");
	assert_non_null(v);
	assert_string_equal(v, "127.0.0.1, ::1");

	r = run_dns(run, "v6only.dsa.test");
	assert_int_equal(r->verdict, DIAG_FAIL);
	assert_string_equal(diag_result_value(r, "v6only.dsa.test"), "IPv6 only, no IPv4 address");

	r = run_dns(run, "nx.dsa.test");
	assert_int_equal(r->verdict, DIAG_FAIL);
	assert_string_equal(diag_result_value(r, "nx.dsa.test"), "NXDOMAIN");
	for (int i = 0; i < 5; i++)
		ev_run_once(0);    /* the runner frees superseded runs on the next loop turn */
	diag_runner_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dns_check, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
