/* test_diag_family.c - dual stack in the self-test: the kernel's address messages parsed and
 * classified (system/addr.c), and the family verdict row by row (diag/famverdict.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "diag/famverdict.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "dnszone.h"
#include "system/dummy.h"
#include "system/system.h"

/* ---------------------------------------------------------------- address messages */

struct nlbuf {
	unsigned char b[2048];
	size_t len;
};

static void put_attr(struct nlbuf *m, struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->b + m->len);

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	m->len += RTA_ALIGN(a->rta_len);
	h->nlmsg_len = (uint32_t)(m->b + m->len - (unsigned char *)h);
}

/* Append an RTM_NEWADDR like the kernel's dump. */
static void put_addr(struct nlbuf *m, int family, const char *ip, unsigned plen, unsigned scope, uint32_t flags,
		     int proto, uint32_t valid, int ifindex)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(m->b + m->len);
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	unsigned char a[16];
	struct ifa_cacheinfo ci = { .ifa_prefered = valid, .ifa_valid = valid };

	memset(h, 0, NLMSG_LENGTH(sizeof(*ifa)));
	h->nlmsg_type = RTM_NEWADDR;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_scope = (unsigned char)scope;
	ifa->ifa_flags = (unsigned char)flags;
	ifa->ifa_index = (unsigned)ifindex;
	m->len += NLMSG_ALIGN(h->nlmsg_len);
	assert_int_equal(inet_pton(family, ip, a), 1);
	put_attr(m, h, IFA_ADDRESS, a, family == AF_INET ? 4 : 16);
	put_attr(m, h, IFA_FLAGS, &flags, 4);
	put_attr(m, h, IFA_CACHEINFO, &ci, sizeof(ci));
	if (proto >= 0) {
		unsigned char p = (unsigned char)proto;

		put_attr(m, h, 11 /* IFA_PROTO */, &p, 1);
	}
	m->len = NLMSG_ALIGN(m->len);
}

static void put_done(struct nlbuf *m)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(m->b + m->len);

	memset(h, 0, NLMSG_LENGTH(4));
	h->nlmsg_type = NLMSG_DONE;
	h->nlmsg_len = NLMSG_LENGTH(4);
	m->len += NLMSG_ALIGN(h->nlmsg_len);
}

static void test_parse_dump(void **state)
{
	struct nlbuf m = { .len = 0 };
	struct sys_addr a[8];
	size_t n = 0;
	char ip[INET6_ADDRSTRLEN];

	(void)state;
	/* the lab phone: DHCP IPv4, SLAAC (kernel 6.3+ says so), link-local; another interface */
	put_addr(&m, AF_INET, "192.168.1.10", 24, RT_SCOPE_UNIVERSE, 0, -1, 3600, 2);
	put_addr(&m, AF_INET, "10.9.9.9", 8, RT_SCOPE_UNIVERSE, IFA_F_PERMANENT, -1, 0xffffffffu, 3);
	put_addr(&m, AF_INET6, "2001:db8:10::5054:ff:fe00:1", 64, RT_SCOPE_UNIVERSE, IFA_F_MANAGETEMPADDR, 3,
		 86400, 2);
	put_addr(&m, AF_INET6, "fe80::5054:ff:fe00:1", 64, RT_SCOPE_LINK, IFA_F_PERMANENT, 2, 0xffffffffu, 2);
	assert_int_equal(sys_nl_addr_parse(m.b, m.len, 2, a, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(a[0].family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, a[0].addr, ip, sizeof(ip)), "192.168.1.10");
	assert_int_equal(a[0].valid_s, 3600);
	assert_int_equal(sys_addr_origin(&a[0]), SYS_ADDR_DHCP);
	assert_string_equal(inet_ntop(AF_INET6, a[1].addr, ip, sizeof(ip)), "2001:db8:10:0:5054:ff:fe00:1");
	assert_int_equal(a[1].proto, 3);
	assert_int_equal(sys_addr_origin(&a[1]), SYS_ADDR_SLAAC);
	assert_int_equal(sys_addr_origin(&a[2]), SYS_ADDR_LINKLOCAL);
	/* the end of the dump */
	m.len = 0;
	put_done(&m);
	assert_int_equal(sys_nl_addr_parse(m.b, m.len, 2, a, 8, &n), 1);
	/* more than fits: counted, not stored past max */
	m.len = 0;
	n = 0;
	for (int i = 0; i < 5; i++)
		put_addr(&m, AF_INET, "192.168.1.10", 24, RT_SCOPE_UNIVERSE, 0, -1, 60, 2);
	assert_int_equal(sys_nl_addr_parse(m.b, m.len, 0, a, 2, &n), 0);
	assert_int_equal(n, 5);
	/* truncated and garbage input: no crash, nothing stored */
	n = 0;
	assert_int_equal(sys_nl_addr_parse(m.b, 7, 0, a, 8, &n), 0);
	assert_int_equal(n, 0);
	/* found by fuzz_nl_addr: a message whose length is not a multiple of 4 ends the buffer
	 * (NLMSG_NEXT steps past the end); the walk stops, never reads beyond len */
	{
		struct nlmsghdr *h = (struct nlmsghdr *)m.b;

		size_t l1;

		m.len = 0;
		put_addr(&m, AF_INET, "192.168.1.10", 24, RT_SCOPE_UNIVERSE, 0, -1, 60, 2);
		l1 = m.len;
		/* past the end we pass: a second message a wrapped walk would reach and count */
		put_addr(&m, AF_INET, "192.168.1.11", 24, RT_SCOPE_UNIVERSE, 0, -1, 60, 2);
		h->nlmsg_len = (uint32_t)l1 - 3;      /* aligned up it is l1: 3 bytes past len */
		n = 0;
		assert_int_equal(sys_nl_addr_parse(m.b, l1 - 3, 0, a, 8, &n), 0);
		assert_int_equal(n, 1);
	}
}

/* One row per origin the kernel can tell. */
static void test_origin(void **state)
{
	static const struct {
		int family;
		const char *ip;
		unsigned plen, scope;
		uint32_t flags;
		unsigned proto;
		enum sys_addr_origin want;
	} rows[] = {
		{ AF_INET, "192.168.1.10", 24, RT_SCOPE_UNIVERSE, 0, 0, SYS_ADDR_DHCP },
		{ AF_INET, "192.168.1.10", 24, RT_SCOPE_UNIVERSE, IFA_F_PERMANENT, 0, SYS_ADDR_STATIC },
		{ AF_INET6, "2001:db8::1", 64, RT_SCOPE_UNIVERSE, 0, 3, SYS_ADDR_SLAAC },             /* 6.3+ */
		{ AF_INET6, "2001:db8::1", 64, RT_SCOPE_UNIVERSE, IFA_F_MANAGETEMPADDR, 0, SYS_ADDR_SLAAC },
		{ AF_INET6, "2001:db8::99", 64, RT_SCOPE_UNIVERSE, IFA_F_TEMPORARY, 0, SYS_ADDR_SLAAC },
		{ AF_INET6, "2001:db8::1", 64, RT_SCOPE_UNIVERSE, 0, 0, SYS_ADDR_SLAAC },             /* < 6.3 */
		{ AF_INET6, "2001:db8::1:5", 128, RT_SCOPE_UNIVERSE, 0, 0, SYS_ADDR_DHCPV6 },
		{ AF_INET6, "2001:db8::1", 64, RT_SCOPE_UNIVERSE, IFA_F_PERMANENT, 0, SYS_ADDR_STATIC },
		{ AF_INET6, "fe80::1", 64, RT_SCOPE_LINK, IFA_F_PERMANENT, 0, SYS_ADDR_LINKLOCAL },
		{ AF_INET6, "fe80::1", 64, RT_SCOPE_UNIVERSE, 0, 0, SYS_ADDR_LINKLOCAL },
		{ AF_INET6, "::1", 128, RT_SCOPE_HOST, IFA_F_PERMANENT, 0, SYS_ADDR_OTHER },
		{ AF_INET6, "2001:db8::1", 56, RT_SCOPE_UNIVERSE, 0, 0, SYS_ADDR_OTHER },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sys_addr a = { .family = rows[i].family, .prefixlen = rows[i].plen, .scope = rows[i].scope,
				      .flags = rows[i].flags, .proto = rows[i].proto };

		assert_int_equal(inet_pton(rows[i].family, rows[i].ip, a.addr), 1);
		if (sys_addr_origin(&a) != rows[i].want)
			fail_msg("row %zu: %s is %s, want %s", i, rows[i].ip, sys_addr_origin_name(sys_addr_origin(&a)),
				 sys_addr_origin_name(rows[i].want));
	}
	assert_string_equal(sys_addr_origin_name(SYS_ADDR_DHCPV6), "DHCPv6");
	{
		struct sys_addr t = { .family = AF_INET6, .flags = IFA_F_TENTATIVE };

		assert_false(sys_addr_usable(&t));
		t.flags = IFA_F_DADFAILED;
		assert_false(sys_addr_usable(&t));
		t.flags = 0;
		assert_true(sys_addr_usable(&t));
	}
}

/* The dummy backend returns what the test plants, the wrapper checks its arguments. */
static void test_dummy_backend(void **state)
{
	struct sys_addr a[4];

	(void)state;
	sys_dummy_reset();
	sys_use(&sys_dummy_ops);
	sys_dummy_last.naddrs = 2;
	sys_dummy_last.addrs[1].family = AF_INET6;
	assert_int_equal(sys_iface_addrs("eth0", a, 4), 2);
	assert_int_equal(a[1].family, AF_INET6);
	assert_int_equal(sys_iface_addrs("eth0", a, 1), 1);
	assert_int_equal(sys_iface_addrs("none", a, 4), -ENODEV);
	assert_int_equal(sys_iface_addrs("", a, 4), -EINVAL);
	assert_int_equal(sys_dummy_last.addrs_calls, 3);
	sys_use(NULL);
	/* the Linux backend on this host: lo has 127.0.0.1 */
	{
		struct sys_addr b[16];
		int n = sys_iface_addrs("lo", b, 16), v4 = 0;

		assert_true(n >= 1);
		for (int i = 0; i < n; i++)
			v4 += b[i].family == AF_INET && b[i].addr[0] == 127;
		assert_int_equal(v4, 1);
		assert_int_equal(sys_iface_addrs("no-such-if0", b, 16), -ENODEV);
	}
}

/* ---------------------------------------------------------------- family verdict */

static void test_family_rows(void **state)
{
#define N DIAG_REACH_NONE
#define OK DIAG_REACH_OK
#define U DIAG_REACH_UNTESTED
	static const struct {
		struct diag_fam_evidence ev;
		enum diag_fam_kind want;
		int family;
		enum diag_verdict verdict;
		const char *words;              /* must be in the situation */
	} rows[] = {
		/* the lab's dual stack with cgnat: native IPv6 */
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_CGNAT, OK, OK }, DIAG_FAM_V6_CGNAT, AF_INET6, DIAG_PASS,
		  "IPv4 behind carrier-grade NAT, IPv6 native: the phone uses IPv6" },
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_CGNAT_DOUBLE, OK, OK }, DIAG_FAM_V6_CGNAT, AF_INET6,
		  DIAG_PASS, "IPv6 native" },
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_ONE, OK, OK }, DIAG_FAM_DUAL, AF_INET6, DIAG_PASS,
		  "the phone uses IPv6" },
		/* the lab with IPv6 blocked at the router */
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_CGNAT, OK, N }, DIAG_FAM_V6_NO_ROUTE, AF_INET, DIAG_WARN,
		  "IPv6 address but no IPv6 route to the platform: the phone uses IPv4 (behind carrier-grade NAT)" },
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_ONE, OK, N }, DIAG_FAM_V6_NO_ROUTE, AF_INET, DIAG_WARN,
		  "no IPv6 route to the platform: the phone uses IPv4" },
		{ { true, DIAG_V6_GLOBAL, false, DIAG_NAT_ONE, OK, U }, DIAG_FAM_V6_NO_AAAA, AF_INET, DIAG_PASS,
		  "no IPv6 address: the phone uses IPv4" },
		{ { true, DIAG_V6_LINKLOCAL, true, DIAG_NAT_CGNAT, OK, U }, DIAG_FAM_V4_CGNAT, AF_INET, DIAG_PASS,
		  "IPv4 only, behind carrier-grade NAT" },
		{ { true, DIAG_V6_NONE, false, DIAG_NAT_ONE, OK, U }, DIAG_FAM_V4_ONLY, AF_INET, DIAG_PASS,
		  "IPv4 only: the phone uses IPv4" },
		{ { true, DIAG_V6_NONE, false, DIAG_NAT_KIND_COUNT, OK, U }, DIAG_FAM_V4_ONLY, AF_INET, DIAG_PASS,
		  "IPv4 only" },
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_ONE, N, OK }, DIAG_FAM_V6_ONLY, AF_INET6, DIAG_WARN,
		  "IPv6 only: the phone uses IPv6" },
		/* an IPv6-only phone (no IPv4 address): no advice to allow IPv4, what was not checked */
		{ { false, DIAG_V6_GLOBAL, true, DIAG_NAT_KIND_COUNT, U, OK }, DIAG_FAM_NO_V4, AF_INET6, DIAG_WARN,
		  "IPv6 only: the phone has no IPv4 address; it registers over IPv6" },
		{ { false, DIAG_V6_GLOBAL, true, DIAG_NAT_ONE, U, OK }, DIAG_FAM_NO_V4, AF_INET6, DIAG_WARN,
		  "no IPv4 address" },
		/* IPv4 address, but IPv4's probes skipped (AAAA-only names): only IPv6 was probed */
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_ONE, U, OK }, DIAG_FAM_V6_ONLY, AF_INET6, DIAG_WARN,
		  "IPv6 only: the phone uses IPv6" },
		{ { false, DIAG_V6_GLOBAL, true, DIAG_NAT_KIND_COUNT, U, N }, DIAG_FAM_NONE, 0, DIAG_FAIL,
		  "no route to the platform" },
		{ { true, DIAG_V6_GLOBAL, true, DIAG_NAT_ONE, N, N }, DIAG_FAM_NONE, 0, DIAG_FAIL,
		  "no route to the platform on any family the phone has" },
		{ { true, DIAG_V6_NONE, false, DIAG_NAT_ONE, N, U }, DIAG_FAM_NONE, 0, DIAG_FAIL, "any family" },
		{ { false, DIAG_V6_NONE, false, DIAG_NAT_KIND_COUNT, U, U }, DIAG_FAM_UNTESTED, 0, DIAG_SKIP,
		  "not tested" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct diag_fam_judgement j;

		diag_fam_judge(&rows[i].ev, &j);
		if (j.kind != rows[i].want || j.family != rows[i].family || j.verdict != rows[i].verdict ||
		    !strstr(j.situation, rows[i].words))
			fail_msg("row %zu: %s (%s, %s) \"%s\", want %s", i, diag_fam_kind_name(j.kind),
				 diag_fam_name(j.family), diag_verdict_name(j.verdict), j.situation,
				 diag_fam_kind_name(rows[i].want));
		assert_true(j.advice[0] && j.brief[0]);
		/* never cut: the situation and advice end as written */
		assert_true(strlen(j.situation) < sizeof(j.situation) - 1);
		assert_true(strlen(j.advice) < sizeof(j.advice) - 1);
		assert_true(strlen(j.brief) <= 22);   /* fits the 40-column display line */
		/* never advise IPv4 to a phone without it, nor the other way round */
		if (!rows[i].ev.v4)
			assert_null(strstr(j.advice, "over IPv4 too"));
	}
	{
		struct diag_fam_judgement j;
		const struct diag_fam_evidence v6only = { false, DIAG_V6_GLOBAL, true, DIAG_NAT_KIND_COUNT, U, OK };

		diag_fam_judge(&v6only, &j);
		assert_string_equal(j.advice, "every check ran over IPv6; without IPv4 there is no fall-back if IPv6 fails: give the phones IPv4 too (DHCP)");
		assert_string_equal(diag_fam_kind_name(j.kind), "no-ipv4");
	}
	assert_string_equal(diag_fam_kind_name(DIAG_FAM_V6_NO_ROUTE), "ipv6-no-route");
	assert_string_equal(diag_fam_name(AF_INET6), "IPv6");
#undef N
#undef OK
#undef U
}

/* ---------------------------------------------------------------- through the runner */

/* east has A and AAAA, west only A: east is probed over both families, west over IPv4 */
static const struct dz_rr zone[] = {
	{ "east.dsa.test", T_A, 60, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL },
	{ "east.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "west.dsa.test", T_A, 60, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL },
};

/* A registrar on one family: answers every OPTIONS with 200 (its own Via back), or is silent. */
struct registrar {
	struct ev_fd w;
	bool silent;
	unsigned got;
};

static struct registrar reg4, reg6;
static unsigned sip_port;
static bool run_done;

static void reg_on_read(struct ev_fd *w, unsigned ev)
{
	struct registrar *g = container_of(w, struct registrar, w);
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	char in[2048], out[2100];
	ssize_t n;

	(void)ev;
	while ((n = recvfrom(w->fd, in, sizeof(in) - 1, 0, (struct sockaddr *)&from, &fl)) > 0) {
		const char *rest;
		int len;

		in[n] = '\0';
		g->got++;
		if (g->silent || !(rest = strstr(in, "\r\n")))
			continue;
		len = snprintf(out, sizeof(out), "SIP/2.0 200 OK%s", rest);
		(void)sendto(w->fd, out, (size_t)len, 0, (struct sockaddr *)&from, fl);
	}
}

/* Both registrars on the same port (127.0.0.1 and ::1). */
static void registrars_open(void)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		socklen_t l = sizeof(a4);
		int f4 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), f6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);

		assert_true(f4 >= 0 && f6 >= 0);
		assert_int_equal(bind(f4, (struct sockaddr *)&a4, sizeof(a4)), 0);
		assert_int_equal(getsockname(f4, (struct sockaddr *)&a4, &l), 0);
		a6.sin6_port = a4.sin_port;
		if (bind(f6, (struct sockaddr *)&a6, sizeof(a6)) == 0) {
			sip_port = ntohs(a4.sin_port);
			memset(&reg4, 0, sizeof(reg4));
			memset(&reg6, 0, sizeof(reg6));
			reg4.w.fd = f4;
			reg6.w.fd = f6;
			reg4.w.cb = reg6.w.cb = reg_on_read;
			ev_fd_add(&reg4.w, EV_READ);
			ev_fd_add(&reg6.w, EV_READ);
			return;
		}
		close(f4);
		close(f6);
	}
	fail_msg("no port free on both 127.0.0.1 and ::1");
}

static void registrars_close(void)
{
	ev_fd_del(&reg4.w);
	ev_fd_del(&reg6.w);
	close(reg4.w.fd);
	close(reg6.w.fd);
}

static void on_run_done(const struct diag_report *rep, void *arg)
{
	(void)rep;
	(void)arg;
	run_done = true;
}

static int runner_setup(void **state)
{
	static char servers[32];

	(void)state;
	if (ev_init())
		return -1;
	ev_clock_virtual(1000000);
	if (dz_start(zone, ARRAY_SIZE(zone)))
		return -1;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", dz.port);
	setenv("DSA_DNS_SERVERS", servers, 1);
	sys_dummy_reset();
	sys_use(&sys_dummy_ops);
	registrars_open();
	return 0;
}

static int runner_teardown(void **state)
{
	(void)state;
	registrars_close();
	sys_use(NULL);
	unsetenv("DSA_DNS_SERVERS");
	dz_stop();
	ev_done();
	return 0;
}

/* The phone's interface as the dummy backend reports it: 127.0.0.1 by DHCP, and v6 if given. */
static void plant_addrs(const char *v6, unsigned scope)
{
	struct sys_addr *a = sys_dummy_last.addrs;

	memset(sys_dummy_last.addrs, 0, sizeof(sys_dummy_last.addrs));
	a[0].family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", a[0].addr);
	a[0].prefixlen = 8;
	a[0].valid_s = 3600;
	sys_dummy_last.naddrs = 1;
	if (v6) {
		a[1].family = AF_INET6;
		inet_pton(AF_INET6, v6, a[1].addr);
		a[1].prefixlen = 128;       /* with a lifetime: a DHCPv6 lease */
		a[1].scope = scope;
		a[1].valid_s = 7200;
		sys_dummy_last.naddrs = 2;
	}
}

/* Run the address, DNS and the two UDP SIP rows (the family check comes with them). */
static const struct diag_report *run_sip(struct diag_runner *run)
{
	static struct diag_listener ls[4];
	static size_t nl;
	struct diag_listener *l = &ls[nl++ % ARRAY_SIZE(ls)];
	struct diag_opts o;
	uint64_t end;

	diag_opts_default(&o);
	utl_strlcpy(o.ifname, "lo", sizeof(o.ifname));
	utl_strlcpy(o.sip_host[0], "east.dsa.test", sizeof(o.sip_host[0]));
	utl_strlcpy(o.sip_host[1], "west.dsa.test", sizeof(o.sip_host[1]));
	o.sip_port = sip_port;
	o.checks = DIAG_CHECK_BIT(DIAG_C_EAST_UDP) | DIAG_CHECK_BIT(DIAG_C_WEST_UDP);
	run_done = false;
	memset(l, 0, sizeof(*l));
	l->on_run_done = on_run_done;
	assert_int_equal(diag_runner_start(run, &o, l), 0);
	end = ev_now_ms() + 20000;
	while (!run_done && ev_now_ms() < end)
		ev_run_once(20);
	assert_true(run_done);
	return diag_runner_report(run);
}

static const char *value(const struct diag_report *rep, enum diag_check_id id, const char *name)
{
	const struct diag_result *r = diag_report_result(rep, id);
	const char *v;

	assert_non_null(r);
	v = diag_result_value(r, name);
	if (!v)
		fail_msg("%s has no value %s", r->id, name);
	return v;
}

static void test_runner_families(void **state)
{
	struct diag_runner *run = diag_runner_new();
	const struct diag_report *rep;
	const struct diag_result *r;
	char title[32], sum[DIAG_SUMMARY_MAX];

	(void)state;
	/* 1. a global IPv6 address and an answer on both families: IPv6 */
	plant_addrs("::1", RT_SCOPE_UNIVERSE);
	rep = run_sip(run);
	assert_string_equal(value(rep, DIAG_C_ADDRESS, "ipv4_source"), "DHCP (lease, 3600 s left)");
	assert_string_equal(value(rep, DIAG_C_ADDRESS, "ipv6"), "::1/128 (DHCPv6)");
	r = diag_report_result(rep, DIAG_C_EAST_UDP);
	assert_int_equal(r->verdict, DIAG_PASS);
	snprintf(title, sizeof(title), "East UDP %u", sip_port);
	assert_string_equal(r->title, title);     /* the provisioned port, not 5060 */
	assert_true(!strncmp(value(rep, DIAG_C_EAST_UDP, "ipv4"), "answered (200 in", 16));
	assert_true(!strncmp(value(rep, DIAG_C_EAST_UDP, "ipv6"), "answered (200 in", 16));
	assert_string_equal(value(rep, DIAG_C_EAST_UDP, "ipv6_server"), "::1");
	assert_non_null(strstr(r->advice, "over IPv4 and IPv6"));
	assert_string_equal(value(rep, DIAG_C_WEST_UDP, "ipv6"), "not probed (no AAAA record)");
	assert_true(reg6.got >= 1);
	r = diag_report_result(rep, DIAG_C_FAMILY);
	assert_non_null(r);
	assert_int_equal(r->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_FAMILY, "uses"), "IPv6");
	assert_string_equal(value(rep, DIAG_C_FAMILY, "situation"), "dual");
	assert_string_equal(value(rep, DIAG_C_FAMILY, "ipv6"), "1 of 1 SIP rows answered");
	assert_true(diag_report_summary(rep, sum, sizeof(sum)) > 0);
	assert_non_null(strstr(sum, ";fam=6"));

	/* 2. the IPv6 registrar silent (no IPv6 route): IPv4, WARN, the SIP row still PASS */
	reg6.silent = true;
	reg6.got = 0;
	rep = run_sip(run);
	r = diag_report_result(rep, DIAG_C_EAST_UDP);
	assert_int_equal(r->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_EAST_UDP, "ipv6"), "failed (no answer)");
	assert_non_null(strstr(r->advice, "over IPv4; over IPv6: no answer to OPTIONS over UDP"));
	assert_true(reg6.got >= 3);               /* retransmitted over IPv6 */
	r = diag_report_result(rep, DIAG_C_FAMILY);
	assert_int_equal(r->verdict, DIAG_WARN);
	assert_string_equal(value(rep, DIAG_C_FAMILY, "uses"), "IPv4");
	assert_string_equal(value(rep, DIAG_C_FAMILY, "situation"), "ipv6-no-route");
	assert_non_null(strstr(r->advice, "IPv6 address but no IPv6 route to the platform: the phone uses IPv4"));

	/* 3. link-local only: IPv6 is not probed, IPv4 only */
	reg6.silent = false;
	reg6.got = 0;
	plant_addrs("fe80::1", RT_SCOPE_LINK);
	rep = run_sip(run);
	assert_string_equal(value(rep, DIAG_C_ADDRESS, "ipv6"), "link-local only (no router advertises a prefix)");
	assert_string_equal(value(rep, DIAG_C_EAST_UDP, "ipv6"), "not probed (no global IPv6 address)");
	assert_int_equal(reg6.got, 0);
	assert_string_equal(value(rep, DIAG_C_FAMILY, "situation"), "ipv4-only");
	assert_string_equal(value(rep, DIAG_C_FAMILY, "uses"), "IPv4");
	assert_int_equal(diag_report_result(rep, DIAG_C_FAMILY)->verdict, DIAG_PASS);

	/* 4. no IPv6 at all, and IPv4 silent too: no route on either family */
	plant_addrs(NULL, 0);
	reg4.silent = true;
	rep = run_sip(run);
	assert_string_equal(value(rep, DIAG_C_ADDRESS, "ipv6"), "none");
	assert_int_equal(diag_report_result(rep, DIAG_C_EAST_UDP)->verdict, DIAG_FAIL);
	assert_string_equal(value(rep, DIAG_C_FAMILY, "situation"), "none");
	assert_int_equal(diag_report_result(rep, DIAG_C_FAMILY)->verdict, DIAG_FAIL);
	reg4.silent = false;
	for (int i = 0; i < 5; i++)
		ev_run_once(0);    /* the runner frees superseded runs on the next loop turn */
	diag_runner_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_dump),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_dummy_backend),
		cmocka_unit_test(test_family_rows),
		cmocka_unit_test_setup_teardown(test_runner_families, runner_setup, runner_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
