/* test_resolv.c - the common resolver: the pure steps (RFC 2782 SRV order with an
 * injected RNG, RFC 3263 NAPTR choice, address order, TTL walk over hostile
 * messages) and c-ares on the loop against a real DNS server on loopback: an
 * in-process UDP responder serving a test zone of NAPTR/SRV/A/AAAA records,
 * NXDOMAIN, SERVFAIL and a name it never answers (timeouts on the virtual clock). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/ev.h"
#include "common/resolv.h"
#include "common/util.h"
#include "dnszone.h"

/* ------------------------------------------------------------ the test zone */

static const struct dz_rr zone[] = {
	{ "dialstack.test", T_NAPTR, 300, NULL, 10, 10, 0, "s", "SIP+D2U", "_sip._udp.dialstack.test" },
	{ "dialstack.test", T_NAPTR, 300, NULL, 10, 20, 0, "s", "SIP+D2T", "_sip._tcp.dialstack.test" },
	{ "dialstack.test", T_NAPTR, 300, NULL, 5, 10, 0, "u", "E2U+sip", "." },
	{ "dialstack.test", T_NAPTR, 300, NULL, 20, 10, 0, "s", "SIPS+D2T", "_sips._tcp.dialstack.test" },
	{ "dialstack.test", T_A, 600, "192.0.2.1", 0, 0, 0, NULL, NULL, NULL },
	{ "_sip._udp.dialstack.test", T_SRV, 120, NULL, 20, 0, 5080, NULL, NULL, "east2.dialstack.test" },
	{ "_sip._udp.dialstack.test", T_SRV, 120, NULL, 10, 0, 5070, NULL, NULL, "east1.dialstack.test" },
	{ "_sip._udp.dialstack.test", T_SRV, 120, NULL, 30, 0, 5090, NULL, NULL, "west.dialstack.test" },
	{ "_sip._tcp.dialstack.test", T_SRV, 120, NULL, 10, 0, 5060, NULL, NULL, "east1.dialstack.test" },
	{ "east1.dialstack.test", T_A, 60, "192.0.2.11", 0, 0, 0, NULL, NULL, NULL },
	{ "east1.dialstack.test", T_AAAA, 90, "2001:db8::11", 0, 0, 0, NULL, NULL, NULL },
	{ "east2.dialstack.test", T_A, 60, "192.0.2.12", 0, 0, 0, NULL, NULL, NULL },
	{ "west.dialstack.test", T_AAAA, 45, "2001:db8::30", 0, 0, 0, NULL, NULL, NULL },
	{ "nosrv.test", T_A, 60, "192.0.2.50", 0, 0, 0, NULL, NULL, NULL },
	{ "_sip._udp.srvonly.test", T_SRV, 120, NULL, 1, 0, 5062, NULL, NULL, "east2.dialstack.test" },
	{ "srvonly.test", T_A, 60, "192.0.2.60", 0, 0, 0, NULL, NULL, NULL },
};

static char servers[64];

static int setup(void **state)
{
	if (ev_init() || dz_start(zone, ARRAY_SIZE(zone)))
		return -1;
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", dz.port);
	return 0;
}

static int teardown(void **state)
{
	dz_stop();
	ev_done();
	return 0;
}

/* ------------------------------------------------------------ pure steps */

static uint32_t seq_rng_vals[16];
static size_t seq_rng_i;

static uint32_t seq_rng(uint32_t bound, void *arg)
{
	uint32_t v = seq_rng_vals[seq_rng_i++ % ARRAY_SIZE(seq_rng_vals)];

	(void)arg;
	return v % bound;
}

static uint32_t lcg_rng(uint32_t bound, void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1664525u + 1013904223u;
	return (uint32_t)(((uint64_t)(*s >> 8) * bound) >> 24);
}

static struct rsv_srv mk(uint16_t prio, uint16_t w, const char *t)
{
	struct rsv_srv s;

	memset(&s, 0, sizeof(s));
	s.prio = prio;
	s.weight = w;
	s.port = 5060;
	utl_strlcpy(s.target, t, sizeof(s.target));
	return s;
}

static void test_srv_order(void **state)
{
	struct rsv_srv rr[6];
	uint32_t seed = 42;
	unsigned first_b = 0, i;
	size_t n;

	/* priorities first, "." dropped */
	rr[0] = mk(20, 0, "c");
	rr[1] = mk(10, 0, "a");
	rr[2] = mk(30, 0, ".");
	rr[3] = mk(15, 0, "b");
	n = rsv_srv_order(rr, 4, seq_rng, NULL);
	assert_int_equal(n, 3);
	assert_string_equal(rr[0].target, "a");
	assert_string_equal(rr[1].target, "b");
	assert_string_equal(rr[2].target, "c");

	/* one priority, weights 0, 1, 3: the running sum over [w0, a(1), b(3)] decides */
	memset(seq_rng_vals, 0, sizeof(seq_rng_vals));
	seq_rng_i = 0;
	rr[0] = mk(10, 1, "a");
	rr[1] = mk(10, 3, "b");
	rr[2] = mk(10, 0, "z");
	n = rsv_srv_order(rr, 3, seq_rng, NULL);       /* r = 0 picks the weight-0 record first */
	assert_int_equal(n, 3);
	assert_string_equal(rr[0].target, "z");
	seq_rng_vals[0] = 3;                            /* sum 4: r = 1 + 3 -> b (1 + 3) */
	seq_rng_vals[1] = 0;
	seq_rng_i = 0;
	rr[0] = mk(10, 1, "a");
	rr[1] = mk(10, 3, "b");
	n = rsv_srv_order(rr, 2, seq_rng, NULL);
	assert_string_equal(rr[0].target, "b");
	assert_string_equal(rr[1].target, "a");
	seq_rng_vals[0] = 0;                            /* r = 1 + 0 -> a */
	seq_rng_i = 0;
	rr[0] = mk(10, 1, "a");
	rr[1] = mk(10, 3, "b");
	n = rsv_srv_order(rr, 2, seq_rng, NULL);
	assert_string_equal(rr[0].target, "a");

	/* the weights hold over many draws: b (3) first about 3 times in 4 */
	for (i = 0; i < 4000; i++) {
		rr[0] = mk(10, 1, "a");
		rr[1] = mk(10, 3, "b");
		rr[2] = mk(5, 0, "top");
		rsv_srv_order(rr, 3, lcg_rng, &seed);
		assert_string_equal(rr[0].target, "top");
		first_b += !strcmp(rr[1].target, "b");
	}
	assert_in_range(first_b, 2800, 3200);
	/* an unpredictable default RNG still keeps every record */
	rr[0] = mk(10, 65535, "a");
	rr[1] = mk(10, 65535, "b");
	rr[2] = mk(10, 65535, "c");
	assert_int_equal(rsv_srv_order(rr, 3, NULL, NULL), 3);
}

static struct rsv_naptr nap(uint16_t order, uint16_t pref, const char *flags, const char *svc, const char *repl)
{
	struct rsv_naptr r;

	memset(&r, 0, sizeof(r));
	r.order = order;
	r.pref = pref;
	utl_strlcpy(r.flags, flags, sizeof(r.flags));
	utl_strlcpy(r.service, svc, sizeof(r.service));
	utl_strlcpy(r.replacement, repl, sizeof(r.replacement));
	return r;
}

static void test_naptr_pick(void **state)
{
	struct rsv_naptr rr[6];
	size_t idx[6], m;
	enum rsv_tp tp[6];

	rr[0] = nap(20, 10, "s", "SIPS+D2T", "_sips._tcp.x");
	rr[1] = nap(10, 20, "S", "sip+d2t", "_sip._tcp.x");
	rr[2] = nap(10, 10, "s", "SIP+D2U", "_sip._udp.x");
	rr[3] = nap(1, 1, "u", "E2U+sip", "!^.*$!sip:info@x!");
	rr[4] = nap(1, 1, "s", "SIP+D2S", "_sip._sctp.x");   /* SCTP: no such transport here */
	rr[5] = nap(1, 1, "a", "SIP+D2U", "host.x");          /* "a" flag: not followed */
	m = rsv_naptr_pick(rr, 6, 7u, idx, tp, 6);
	assert_int_equal(m, 3);
	assert_int_equal(idx[0], 2);
	assert_int_equal(tp[0], RSV_TP_UDP);
	assert_int_equal(idx[1], 1);
	assert_int_equal(tp[1], RSV_TP_TCP);
	assert_int_equal(idx[2], 0);
	assert_int_equal(tp[2], RSV_TP_TLS);
	/* only TLS provisioned */
	m = rsv_naptr_pick(rr, 6, 1u << RSV_TP_TLS, idx, tp, 6);
	assert_int_equal(m, 1);
	assert_int_equal(idx[0], 0);
	/* the cap holds */
	assert_int_equal(rsv_naptr_pick(rr, 6, 7u, idx, tp, 2), 2);
}

static struct sockaddr_storage ip(const char *s)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	return ss;
}

static const char *ntop(const struct sockaddr_storage *ss, char *buf)
{
	if (ss->ss_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, 64);
	return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, 64);
}

static void test_addr_order(void **state)
{
	struct sockaddr_storage a[6];
	char b[64];

	a[0] = ip("192.0.2.1");
	a[1] = ip("192.0.2.2");
	a[2] = ip("2001:db8::1");
	a[3] = ip("fe80::1");
	a[4] = ip("10.0.0.1");
	a[5] = ip("2001:db8::2");
	rsv_addr_order(a, 6, AF_INET6);
	assert_string_equal(ntop(&a[0], b), "2001:db8::1");
	assert_string_equal(ntop(&a[1], b), "192.0.2.1");
	assert_string_equal(ntop(&a[2], b), "2001:db8::2");
	assert_string_equal(ntop(&a[3], b), "192.0.2.2");
	assert_string_equal(ntop(&a[4], b), "10.0.0.1");     /* private after global */
	assert_string_equal(ntop(&a[5], b), "fe80::1");      /* link-local last */
	rsv_addr_order(a, 4, AF_INET);
	assert_string_equal(ntop(&a[0], b), "192.0.2.1");
	assert_string_equal(ntop(&a[1], b), "2001:db8::1");
	/* IPv4-mapped counts as IPv4 */
	a[0] = ip("::ffff:192.0.2.9");
	a[1] = ip("2001:db8::9");
	rsv_addr_order(a, 2, AF_INET6);
	assert_string_equal(ntop(&a[0], b), "2001:db8::9");
}

static void test_msg_ttl(void **state)
{
	/* a response: header, question x.test A, two answers (TTL 300 and 40), compressed */
	uint8_t m[128];
	size_t n = 0, i;
	uint32_t ttl;

	memset(m, 0, sizeof(m));
	m[2] = 0x81; m[3] = 0x80; m[5] = 1; m[7] = 2;
	n = dz_put_name(m, 12, "x.test");
	m[n++] = 0; m[n++] = 1; m[n++] = 0; m[n++] = 1;
	for (i = 0; i < 2; i++) {
		uint32_t t = i ? 40 : 300;

		m[n++] = 0xc0; m[n++] = 12; m[n++] = 0; m[n++] = 1; m[n++] = 0; m[n++] = 1;
		m[n++] = 0; m[n++] = 0; m[n++] = (uint8_t)(t >> 8); m[n++] = (uint8_t)t;
		m[n++] = 0; m[n++] = 4; m[n++] = 192; m[n++] = 0; m[n++] = 2; m[n++] = 1;
	}
	assert_int_equal(rsv_msg_ttl(m, n, &ttl), 0);
	assert_int_equal(ttl, 40);
	for (i = 0; i < n; i++)          /* every truncation refused, never read past the end */
		assert_int_equal(rsv_msg_ttl(m, i, &ttl), -EBADMSG);
	m[n - 10] = 0xff;                /* a TTL with the top bit set counts as 0 (RFC 2181 8) */
	assert_int_equal(rsv_msg_ttl(m, n, &ttl), 0);
	assert_int_equal(ttl, RSV_TTL_MIN);
	m[7] = 200;                      /* an answer count that lies */
	assert_int_equal(rsv_msg_ttl(m, n, &ttl), -EBADMSG);
	m[7] = 0;                        /* no answers: the floor */
	assert_int_equal(rsv_msg_ttl(m, n, &ttl), 0);
	assert_int_equal(ttl, RSV_TTL_MIN);
	m[12] = 0xc0; m[13] = 12;        /* a pointer loop in the question is bounded */
	m[7] = 1;
	assert_int_equal(rsv_msg_ttl(m, n, &ttl), -EBADMSG);
	assert_int_equal(rsv_ttl_clamp(7 * 86400), RSV_TTL_MAX);
}

/* ------------------------------------------------------------ on the loop */

static struct rsv_result got;
static int ncb;
static uint64_t cb_ms;

static void on_res(struct rsv_query *q, const struct rsv_result *r, void *arg)
{
	got = *r;
	ncb++;
	cb_ms = ev_now_ms();
}

static int lookup(const char *name, enum rsv_type type, const struct rsv_opts *o)
{
	struct rsv_query *q;
	int i, err;

	ncb = 0;
	memset(&got, 0, sizeof(got));
	err = rsv_lookup(name, type, o, on_res, NULL, &q);
	if (err)
		return err;
	assert_int_equal(ncb, 0);             /* never from inside rsv_lookup */
	for (i = 0; i < 200 && !ncb; i++)
		ev_run_once(50);
	assert_int_equal(ncb, 1);
	return got.err;
}

static void test_lookups(void **state)
{
	struct rsv_opts o = { .servers = servers, .timeout_ms = 1000, .tries = 2 };
	char b[64];

	assert_int_equal(lookup("east1.dialstack.test", RSV_ADDR, &o), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(ntop(&got.addr[0], b), "2001:db8::11");   /* IPv6 preferred */
	assert_string_equal(ntop(&got.addr[1], b), "192.0.2.11");
	assert_int_equal(got.ttl, 60);                                /* the smaller of 60 and 90 */
	o.prefer = AF_INET;
	assert_int_equal(lookup("east1.dialstack.test", RSV_ADDR, &o), 0);
	assert_string_equal(ntop(&got.addr[0], b), "192.0.2.11");
	o.family = AF_INET6;
	assert_int_equal(lookup("east2.dialstack.test", RSV_ADDR, &o), -ENODATA);  /* A only */
	o.family = AF_UNSPEC;
	assert_int_equal(lookup("west.dialstack.test", RSV_ADDR, &o), 0);           /* AAAA only */
	assert_int_equal(got.n, 1);
	assert_int_equal(got.addr[0].ss_family, AF_INET6);

	assert_int_equal(lookup("_sip._udp.dialstack.test", RSV_SRV, &o), 0);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.ttl, 120);
	assert_int_equal(got.srv[0].port, 5080);
	assert_string_equal(got.srv[0].target, "east2.dialstack.test");

	assert_int_equal(lookup("dialstack.test", RSV_NAPTR, &o), 0);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.ttl, 300);
	assert_string_equal(got.naptr[0].service, "SIP+D2U");
	assert_string_equal(got.naptr[0].replacement, "_sip._udp.dialstack.test");

	assert_int_equal(lookup("nx.test", RSV_ADDR, &o), -ENOENT);
	assert_int_equal(lookup("nx.test", RSV_SRV, &o), -ENOENT);
	assert_int_equal(lookup("nosrv.test", RSV_NAPTR, &o), -ENODATA);
	assert_non_null(strstr(rsv_strerror(-ENOENT), "NXDOMAIN"));

	/* literals never touch the network */
	dz.queries = 0;
	assert_int_equal(lookup("192.0.2.9", RSV_ADDR, &o), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(lookup("[2001:db8::1]", RSV_ADDR, &o), 0);
	assert_int_equal(got.addr[0].ss_family, AF_INET6);
	assert_int_equal(got.ttl, RSV_TTL_MAX);
	assert_int_equal(dz.queries, 0);

	/* bad input */
	assert_int_equal(rsv_lookup("", RSV_ADDR, &o, on_res, NULL, &(struct rsv_query *){ NULL }), -EINVAL);
	o.servers = "not a server";
	assert_int_equal(rsv_lookup("x.test", RSV_ADDR, &o, on_res, NULL, &(struct rsv_query *){ NULL }),
			 -EINVAL);

	/* a cancelled lookup never calls back */
	{
		struct rsv_query *q;

		o.servers = servers;
		ncb = 0;
		assert_int_equal(rsv_lookup("east1.dialstack.test", RSV_ADDR, &o, on_res, NULL, &q), 0);
		rsv_cancel(q);
		ev_run_once(100);
		ev_run_once(100);
		assert_int_equal(ncb, 0);
	}
}

/* No answer: every try re-sends (rotating servers), and the lookup gives up after the
 * last try, on the loop's (virtual) clock: tries * timeout + at most 10 % jitter each. */
static void test_timeout_virtual(void **state)
{
	struct rsv_opts o = { .servers = servers, .timeout_ms = 1000, .tries = 3 };
	struct rsv_query *q;
	uint64_t t0;
	int i;

	ev_clock_virtual(5000000);
	t0 = ev_now_ms();
	dz.queries = dz.dropped = 0;
	ncb = 0;
	assert_int_equal(rsv_lookup("drop.test", RSV_SRV, &o, on_res, NULL, &q), 0);
	assert_int_equal(rsv_query_sent(q), 1);
	for (i = 0; i < 1000 && !ncb; i++)
		ev_run_once(100);
	assert_int_equal(ncb, 1);
	assert_int_equal(got.err, -ETIMEDOUT);
	assert_int_equal(dz.dropped, 3);
	assert_in_range(cb_ms - t0, 3000, 3300);
	assert_non_null(strstr(rsv_strerror(got.err), "no answer"));

	/* out-of-range numbers are clamped: 1 ms -> 200 ms, 99 tries -> 4 */
	o.timeout_ms = 1;
	o.tries = 99;
	dz.dropped = 0;
	ncb = 0;
	t0 = ev_now_ms();
	assert_int_equal(rsv_lookup("drop.test", RSV_ADDR, &o, on_res, NULL, &q), 0);
	for (i = 0; i < 1000 && !ncb; i++)
		ev_run_once(100);
	assert_int_equal(got.err, -ETIMEDOUT);
	assert_int_equal(dz.dropped, 2 * 4);     /* A and AAAA, four tries */
	assert_in_range(cb_ms - t0, 800, 880);

	/* SERVFAIL on every try: the cause is named, after the tries */
	o.timeout_ms = 500;
	o.tries = 2;
	assert_int_equal(lookup("servfail.test", RSV_SRV, &o), -EIO);
	assert_non_null(strstr(rsv_strerror(-EIO), "SERVFAIL"));
}

static void test_hosts_and_no_server(void **state)
{
	char hosts[] = "/tmp/dsa-test-hostsXXXXXX", resolv[] = "/tmp/dsa-test-resolvXXXXXX";
	struct rsv_opts o = { .timeout_ms = 500, .tries = 1 };
	char b[64];
	int fd;

	fd = mkstemp(hosts);
	assert_true(fd >= 0);
	assert_true(write(fd, "# test\n10.1.2.3  sip-east.test  east\n", 37) == 37);
	close(fd);
	fd = mkstemp(resolv);
	assert_true(fd >= 0);
	close(fd);                       /* empty: no name server */
	setenv("DSA_HOSTS", hosts, 1);
	o.resolv_conf = resolv;
	assert_int_equal(lookup("east", RSV_ADDR, &o), 0);
	assert_string_equal(ntop(&got.addr[0], b), "10.1.2.3");
	assert_int_equal(lookup("SIP-EAST.test", RSV_ADDR, &o), 0);
	assert_int_equal(lookup("nowhere.test", RSV_ADDR, &o), -ENXIO);
	assert_int_equal(lookup("_sip._udp.x.test", RSV_SRV, &o), -ENXIO);
	assert_non_null(strstr(rsv_strerror(-ENXIO), "no DNS server"));

	unlink(hosts);
	unsetenv("DSA_HOSTS");
	unsetenv("CARES_HOSTS");
	unlink(resolv);
}

/* ------------------------------------------------------------ RFC 3263 */

static struct rsv_targets tg;
static int nsip;

static void on_sip(struct rsv_sip *s, const struct rsv_targets *r, void *arg)
{
	tg = *r;
	nsip++;
}

static int sip(const char *host, int port, unsigned mask, enum rsv_tp pref, const struct rsv_opts *o)
{
	struct rsv_sip *s;
	int i, err;

	nsip = 0;
	memset(&tg, 0, sizeof(tg));
	err = rsv_sip_resolve(host, port, mask, pref, o, on_sip, NULL, &s);
	if (err)
		return err;
	assert_int_equal(nsip, 0);
	for (i = 0; i < 400 && !nsip; i++)
		ev_run_once(50);
	assert_int_equal(nsip, 1);
	return tg.err;
}

static int tport(const struct rsv_target *t)
{
	return ntohs(t->addr.ss_family == AF_INET ? ((const struct sockaddr_in *)&t->addr)->sin_port :
			((const struct sockaddr_in6 *)&t->addr)->sin6_port);
}

static void test_rfc3263(void **state)
{
	struct rsv_opts o = { .servers = servers, .timeout_ms = 1000, .tries = 2 };
	char b[64];

	/* NAPTR SIP+D2U -> SRV (priority order) -> AAAA/A, UDP provisioned */
	assert_int_equal(sip("dialstack.test", 0, 1u << RSV_TP_UDP, RSV_TP_UDP, &o), 0);
	assert_int_equal(tg.n, 4);
	assert_string_equal(ntop(&tg.t[0].addr, b), "2001:db8::11");
	assert_int_equal(tport(&tg.t[0]), 5070);
	assert_int_equal(tg.t[0].prio, 10);
	assert_string_equal(tg.t[0].host, "east1.dialstack.test");
	assert_string_equal(tg.t[0].via, "NAPTR");
	assert_int_equal(tg.t[0].tp, RSV_TP_UDP);
	assert_int_equal(tg.t[0].ttl, 60);               /* min(NAPTR 300, SRV 120, A 60) */
	assert_string_equal(ntop(&tg.t[1].addr, b), "192.0.2.11");
	assert_string_equal(ntop(&tg.t[2].addr, b), "192.0.2.12");
	assert_int_equal(tport(&tg.t[2]), 5080);
	assert_int_equal(tg.t[2].prio, 20);
	assert_string_equal(ntop(&tg.t[3].addr, b), "2001:db8::30");
	assert_int_equal(tport(&tg.t[3]), 5090);
	assert_int_equal(tg.t[3].ttl, 45);

	/* TCP provisioned: the SIP+D2T record */
	assert_int_equal(sip("dialstack.test", 0, 1u << RSV_TP_TCP, RSV_TP_TCP, &o), 0);
	assert_int_equal(tg.n, 2);
	assert_int_equal(tport(&tg.t[0]), 5060);
	assert_int_equal(tg.t[0].tp, RSV_TP_TCP);

	/* TLS: SIPS+D2T points at an SRV name with no records: A/AAAA of the domain, 5061 */
	assert_int_equal(sip("dialstack.test", 0, 1u << RSV_TP_TLS, RSV_TP_TLS, &o), 0);
	assert_int_equal(tg.n, 1);
	assert_string_equal(ntop(&tg.t[0].addr, b), "192.0.2.1");
	assert_int_equal(tport(&tg.t[0]), 5061);
	assert_string_equal(tg.t[0].via, "A/AAAA");

	/* no NAPTR: SRV of the transport */
	assert_int_equal(sip("srvonly.test", 0, 1u << RSV_TP_UDP, RSV_TP_UDP, &o), 0);
	assert_int_equal(tg.n, 1);
	assert_int_equal(tport(&tg.t[0]), 5062);
	assert_string_equal(tg.t[0].via, "SRV");

	/* neither: the name's address on the default port */
	assert_int_equal(sip("nosrv.test", 0, 1u << RSV_TP_UDP, RSV_TP_UDP, &o), 0);
	assert_int_equal(tg.n, 1);
	assert_string_equal(ntop(&tg.t[0].addr, b), "192.0.2.50");
	assert_int_equal(tport(&tg.t[0]), 5060);

	/* an explicit port: no NAPTR, no SRV (today's behaviour) */
	dz.queries = 0;
	assert_int_equal(sip("east1.dialstack.test", 5099, 1u << RSV_TP_UDP, RSV_TP_UDP, &o), 0);
	assert_int_equal(tg.n, 2);
	assert_int_equal(tport(&tg.t[0]), 5099);
	assert_int_equal(tport(&tg.t[1]), 5099);
	assert_int_equal(dz.queries, 2);                /* A and AAAA only */

	/* literals */
	assert_int_equal(sip("192.0.2.9", 0, 1u << RSV_TP_UDP, RSV_TP_UDP, &o), 0);
	assert_int_equal(tg.n, 1);
	assert_int_equal(tport(&tg.t[0]), 5060);
	assert_string_equal(tg.t[0].via, "literal");
	assert_int_equal(sip("[2001:db8::1]", 0, 1u << RSV_TP_TLS, RSV_TP_TLS, &o), 0);
	assert_int_equal(tport(&tg.t[0]), 5061);

	/* a name pinned in the hosts file is used as it is: no NAPTR, no SRV */
	{
		char hosts[] = "/tmp/dsa-test-hostsXXXXXX";
		int fd = mkstemp(hosts);

		assert_true(fd >= 0);
		assert_true(write(fd, "10.9.9.9 pinned.test\n", 21) == 21);
		close(fd);
		setenv("DSA_HOSTS", hosts, 1);
		dz.queries = 0;
		assert_int_equal(sip("pinned.test", 0, 1u << RSV_TP_TCP, RSV_TP_TCP, &o), 0);
		assert_int_equal(tg.n, 1);
		assert_string_equal(ntop(&tg.t[0].addr, b), "10.9.9.9");
		assert_string_equal(tg.t[0].via, "hosts");
		assert_int_equal(dz.queries, 0);
		/* not in it: on to the DNS */
		assert_int_equal(sip("nosrv.test", 0, 1u << RSV_TP_UDP, RSV_TP_UDP, &o), 0);
		assert_string_equal(tg.t[0].via, "A/AAAA");
		unsetenv("DSA_HOSTS");
		unsetenv("CARES_HOSTS");
		unlink(hosts);
	}

	/* nothing at all */
	assert_int_equal(sip("nx.test", 0, 1u << RSV_TP_UDP, RSV_TP_UDP, &o), -ENOENT);
	assert_int_equal(tg.n, 0);

	/* cancel mid-way: no callback */
	{
		struct rsv_sip *s;

		nsip = 0;
		assert_int_equal(rsv_sip_resolve("dialstack.test", 0, 1, RSV_TP_UDP, &o, on_sip, NULL, &s), 0);
		ev_run_once(50);
		rsv_sip_cancel(s);
		ev_run_once(50);
		ev_run_once(50);
		assert_int_equal(nsip, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_order),
		cmocka_unit_test(test_naptr_pick),
		cmocka_unit_test(test_addr_order),
		cmocka_unit_test(test_msg_ttl),
		cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_virtual, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hosts_and_no_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc3263, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
