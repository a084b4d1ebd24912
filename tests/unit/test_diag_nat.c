/* test_diag_nat.c - NAT situations judged from recorded hop lists and STUN results
 * (diag/natverdict.c): one row per situation, plus the edge cases. */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "diag/natverdict.h"
#include "diag/runner.h"

/* A recorded run: local address, hops ("192.168.50.1", "*" silent, "=" the server), STUN mapped
 * address ("" = STUN silent). */
struct rec {
	const char *what;
	const char *local;
	const char *hops[DIAG_NAT_MAX_HOPS];
	const char *mapped;
	enum diag_nat_kind want;
	enum diag_verdict verdict;
	unsigned customer_hops;
	const char *advice_has[3];
	const char *advice_not;
};

static const struct rec recs[] = {
	{ "public address on the phone", "198.51.100.7", { "198.51.100.1", "=" }, "198.51.100.7",
	  DIAG_NAT_NONE, DIAG_PASS, 0, { "no NAT", "198.51.100.7" }, "bridge" },
	{ "the lab: one router", "192.168.50.122", { "192.168.50.1", "=" }, "203.0.113.2",
	  DIAG_NAT_ONE, DIAG_PASS, 1, { "one NAT", "203.0.113.2" }, "bridge" },
	{ "one router, ISP's public core", "10.0.0.5", { "10.0.0.1", "198.51.100.254", "203.0.113.9" },
	  "198.51.100.3", DIAG_NAT_ONE, DIAG_PASS, 1, { "one NAT" }, NULL },
	{ "the lab's double-nat", "192.168.50.122", { "192.168.50.1", "192.168.1.1", "=" }, "203.0.113.2",
	  DIAG_NAT_DOUBLE, DIAG_WARN, 2, { "double NAT", "192.168.50.1 and 192.168.1.1", "bridge mode" },
	  "100.64" },
	{ "the lab's cgnat (the issue's case)", "192.168.50.122", { "192.168.50.1", "100.64.0.1", "=" },
	  "203.0.113.2", DIAG_NAT_CGNAT, DIAG_WARN, 1,
	  { "carrier-grade NAT", "public IPv4 address or use IPv6", "hop 100.64.0.1" }, "bridge" },
	{ "cgnat, ISP routers with private addresses beyond it", "192.168.0.10",
	  { "192.168.0.1", "100.72.3.1", "10.255.1.1", "172.16.9.1", "198.51.100.1" }, "198.51.100.77",
	  DIAG_NAT_CGNAT, DIAG_WARN, 1, { "keepalive short (20 s or less, now 20 s)" }, "bridge" },
	{ "the lab's cgnat+double-nat", "192.168.50.122",
	  { "192.168.50.1", "192.168.1.1", "100.64.0.1", "=" }, "203.0.113.2", DIAG_NAT_CGNAT_DOUBLE,
	  DIAG_WARN, 2, { "192.168.50.1 and 192.168.1.1", "bridge mode", "public IPv4 address or use IPv6" },
	  NULL },
	{ "shared-address WAN on the phone itself (no TTL answers)", "100.80.1.9", { "*" }, "203.0.113.44",
	  DIAG_NAT_CGNAT, DIAG_WARN, 0, { "the phone's own address 100.80.1.9" }, "bridge" },
	{ "STUN server inside the ISP maps to a shared address", "192.168.1.20", { "192.168.1.1", "*" },
	  "100.65.0.9", DIAG_NAT_CGNAT, DIAG_WARN, 1, { "STUN-mapped address 100.65.0.9" }, "bridge" },
	{ "cgnat seen by TTL even when STUN is silent", "192.168.50.122", { "192.168.50.1", "100.64.0.1", "=" },
	  "", DIAG_NAT_CGNAT, DIAG_WARN, 1, { "carrier-grade NAT" }, NULL },
	{ "double NAT seen by TTL even when STUN is silent", "192.168.50.122",
	  { "192.168.50.1", "192.168.1.1", "*" }, "", DIAG_NAT_DOUBLE, DIAG_WARN, 2, { "double NAT" }, NULL },
	{ "STUN silent, one router", "192.168.50.122", { "192.168.50.1", "=" }, "", DIAG_NAT_UNKNOWN, DIAG_WARN,
	  1, { "UDP 3478" }, NULL },
	{ "a silent second hop ends the list", "192.168.50.122", { "192.168.50.1", "*", "192.168.1.1" },
	  "203.0.113.2", DIAG_NAT_ONE, DIAG_PASS, 1, { "one NAT" }, NULL },
	{ "100.64/10 is not RFC 1918 (100.127.255.254 shared, 100.128.0.1 public)", "192.168.50.122",
	  { "192.168.50.1", "100.128.0.1", "=" }, "100.128.0.9", DIAG_NAT_ONE, DIAG_PASS, 1, { "one NAT" },
	  "carrier" },
};

static struct in_addr A(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void test_recorded_runs(void **state)
{
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		const struct rec *r = &recs[i];
		struct diag_nat_evidence ev = { .local = A(r->local) };
		struct diag_nat_judgement j;

		for (unsigned h = 0; h < DIAG_NAT_MAX_HOPS && r->hops[h]; h++) {
			ev.nhops = h + 1;
			if (!strcmp(r->hops[h], "*"))
				ev.hops[h].kind = DIAG_HOP_SILENT;
			else if (!strcmp(r->hops[h], "="))
				ev.hops[h].kind = DIAG_HOP_TARGET;
			else
				ev.hops[h] = (struct diag_nat_hop){ DIAG_HOP_ROUTER, A(r->hops[h]) };
		}
		if (r->mapped[0]) {
			ev.stun = true;
			ev.mapped = A(r->mapped);
		}
		diag_nat_judge(&ev, 20, &j);
		print_message("%s: %s %s | %s\n", r->what, diag_nat_kind_name(j.kind), j.brief, j.advice);
		assert_int_equal(j.kind, r->want);
		assert_int_equal(j.verdict, r->verdict);
		assert_int_equal(j.customer_hops, r->customer_hops);
		assert_true(strlen(j.advice) < sizeof(j.advice) - 1); /* never cut */
		assert_true(strlen(j.brief) < sizeof(j.brief) - 1);
		assert_null(strchr(j.advice, '{'));
		for (int k = 0; k < 3 && r->advice_has[k]; k++)
			assert_non_null(strstr(j.advice, r->advice_has[k]));
		if (r->advice_not)
			assert_null(strstr(j.advice, r->advice_not));
	}
}

/* Every situation has its own name and advice; CGNAT never advises bridge mode for itself. */
static void test_table(void **state)
{
	assert_string_equal(diag_nat_kind_name(DIAG_NAT_NONE), "none");
	assert_string_equal(diag_nat_kind_name(DIAG_NAT_CGNAT), "cgnat");
	assert_string_equal(diag_nat_kind_name(DIAG_NAT_CGNAT_DOUBLE), "cgnat+double");
	assert_string_equal(diag_nat_kind_name(DIAG_NAT_KIND_COUNT), "?");
	assert_true(diag_ip_shared(A("100.64.0.0")));
	assert_true(diag_ip_shared(A("100.127.255.255")));
	assert_false(diag_ip_shared(A("100.63.255.255")));
	assert_false(diag_ip_shared(A("100.128.0.0")));
	assert_true(diag_ip_rfc1918(A("172.31.0.1")));
	assert_false(diag_ip_rfc1918(A("172.32.0.1")));
	assert_false(diag_ip_rfc1918(A("100.64.0.1")));
}

/* A keepalive longer than a CGNAT keeps mappings is named. */
static void test_keepalive_named(void **state)
{
	struct diag_nat_evidence ev = { .local = A("192.168.50.122"), .nhops = 2, .stun = true,
					.mapped = A("203.0.113.2") };
	struct diag_nat_judgement j;

	ev.hops[0] = (struct diag_nat_hop){ DIAG_HOP_ROUTER, A("192.168.50.1") };
	ev.hops[1] = (struct diag_nat_hop){ DIAG_HOP_ROUTER, A("100.64.0.1") };
	diag_nat_judge(&ev, 90, &j);
	assert_non_null(strstr(j.advice, "20 s or less, now 90 s"));
}

/* The longest IPv4 advice (CGNAT, the longest hop address and keepalive) with the IPv6
 * part appended as the NAT check writes it fits the result's advice whole (ipv6-lab's
 * blocked-IPv6 case was cut at "allow outbound UD" before the CGNAT text was shortened). */
static void test_dual_advice_fits(void **state)
{
	struct diag_nat_evidence ev = { .local = A("192.168.150.122"), .nhops = 2, .stun = true,
					.mapped = A("203.0.113.222") };
	struct diag_nat_judgement j;
	struct diag_nat6_judgement j6;
	struct diag_result r;
	size_t l;

	(void)state;
	ev.hops[0] = (struct diag_nat_hop){ DIAG_HOP_ROUTER, A("192.168.150.254") };
	ev.hops[1] = (struct diag_nat_hop){ DIAG_HOP_ROUTER, A("100.127.255.254") };
	diag_nat_judge(&ev, 3600, &j);
	assert_int_equal(j.kind, DIAG_NAT_CGNAT);
	diag_nat6_judge(NULL, NULL, 65535, &j6);
	l = (size_t)snprintf(r.advice, sizeof(r.advice), "%s; over IPv6: %s", j.advice, j6.advice);
	assert_true(l < sizeof(r.advice));
	assert_non_null(strstr(r.advice, "allow outbound UDP over IPv6 to port 65535"));
}

/* IPv6: the probe socket's own address and port against STUN's mapping of them. */
static void test_ipv6_rows(void **state)
{
	static const struct {
		const char *local, *mapped;          /* "[addr]:port"; mapped NULL: STUN silent */
		enum diag_nat6_kind want;
		enum diag_verdict verdict;
		const char *brief, *advice_has;
	} rows[] = {
		{ "2001:db8:1::50", "2001:db8:1::50", DIAG_NAT6_NATIVE, DIAG_PASS, "native IPv6",
		  "no NAT (native IPv6)" },
		{ "fd00:1::50", "2001:db8:1::50", DIAG_NAT6_NPT, DIAG_PASS, "NPTv6",
		  "NPTv6 (prefix translated, ports kept): works as one NAT; public 2001:db8:1::50" },
		{ "fd00:1::50", "2001:db8:1::9", DIAG_NAT6_NAT66, DIAG_WARN, "NAT66",
		  "NAT66 (ports rewritten): route IPv6 to the phones without it; public 2001:db8:1::9" },
		{ "2001:db8:1::50", "2001:db8:1::50", DIAG_NAT6_NAT66, DIAG_WARN, "NAT66", "ports rewritten" },
		{ "2001:db8:1::50", NULL, DIAG_NAT6_UNKNOWN, DIAG_WARN, "STUN no answer (IPv6)",
		  "does not answer over IPv6: allow outbound UDP over IPv6 to port 3478" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_in6 l = { .sin6_family = AF_INET6, .sin6_port = htons(40000) }, m = l;
		struct diag_nat6_judgement j;

		assert_int_equal(inet_pton(AF_INET6, rows[i].local, &l.sin6_addr), 1);
		if (rows[i].mapped) {
			assert_int_equal(inet_pton(AF_INET6, rows[i].mapped, &m.sin6_addr), 1);
			/* NAT66 rows: the port is rewritten (the fourth row: the port only) */
			if (rows[i].want == DIAG_NAT6_NAT66)
				m.sin6_port = htons(61000);
		}
		diag_nat6_judge(&l, rows[i].mapped ? &m : NULL, 3478, &j);
		print_message("%s -> %s: %s %s | %s\n", rows[i].local, rows[i].mapped ? rows[i].mapped : "(silent)",
			      diag_nat6_kind_name(j.kind), j.brief, j.advice);
		assert_int_equal(j.kind, rows[i].want);
		assert_int_equal(j.verdict, rows[i].verdict);
		assert_string_equal(j.brief, rows[i].brief);
		assert_non_null(strstr(j.advice, rows[i].advice_has));
		assert_null(strchr(j.advice, '{'));
		assert_true(strlen(j.advice) < sizeof(j.advice) - 1); /* never cut */
	}
	assert_string_equal(diag_nat6_kind_name(DIAG_NAT6_NPT), "nptv6");
	assert_string_equal(diag_nat6_kind_name(DIAG_NAT6_KIND_COUNT), "?");
	{
		/* the longest address fits the advice whole */
		struct sockaddr_in6 l = { .sin6_family = AF_INET6 }, m = l;
		struct diag_nat6_judgement j;

		inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff1", &m.sin6_addr);
		m.sin6_port = 1;
		diag_nat6_judge(&l, &m, 65535, &j);
		assert_true(strlen(j.advice) < sizeof(j.advice) - 1);
		assert_true(strlen(j.brief) < sizeof(j.brief) - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_runs),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_keepalive_named),
		cmocka_unit_test(test_ipv6_rows),
		cmocka_unit_test(test_dual_advice_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
