/* test_diag_v6.c - the self-test's NAT and quality probes over IPv6 (issue 15), on the virtual
 * clock against real loopback peers on 127.0.0.1 and ::1 (the same port >= 25060 on both):
 * a STUN server (common/stun.c) that maps as told (native, NPTv6, NAT66, silent), a reflector
 * (the lab reflector's reply header) and a registrar. The phone's addresses come from the dummy
 * system backend: an IPv6-only phone (an interface without IPv4, "::1" as its global address)
 * runs DNS, SIP, NAT and voice over IPv6; a dual-stack phone runs NAT on both families and
 * voice over IPv4. Also the probe sockets themselves on ::1: IPV6_TCLASS marks and is read
 * back, kernel TX timestamps come from the IPv6 error queue -- or, where the kernel gives none
 * (qemu-user refuses SO_TIMESTAMPING: tests/cross sets DSA_QEMU_USER), the documented fallback:
 * RTT and jitter from the user-space send time, and the report says so. The HTTPS check's job
 * process (this binary with --job, libcurl for real) against a listener on ::1 and 127.0.0.1
 * that reads the TLS ClientHello and hangs up: it arrives over IPv6 on an IPv6-only phone (the
 * bracketed CURLOPT_RESOLVE entry carried by the job request), over IPv4 on a dual-stack one. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "common/ev.h"
#include "common/job.h"
#include "common/log.h"
#include "common/stun.h"
#include "common/util.h"
#include "diag/natverdict.h"
#include "diag/probe.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "dnszone.h"
#include "jobexe.h"
#include "provisioning/fetch.h"
#include "system/dummy.h"
#include "system/system.h"

static const struct dz_rr zone[] = {
	{ "stun.dsa.test", T_A, 60, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL },
	{ "stun.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "refl.dsa.test", T_A, 60, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL },
	{ "refl.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "stun6.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "refl6.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "sip6.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "prov6.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
	{ "prov46.dsa.test", T_A, 60, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL },
	{ "prov46.dsa.test", T_AAAA, 60, "::1", 0, 0, 0, NULL, NULL, NULL },
};

enum peer_kind { P_STUN = 0, P_REFL, P_SIP, P_COUNT };
enum stun_mode { M_NATIVE = 0, M_NPT, M_NAT66, M_SILENT };

/* One peer on one family. */
struct peer {
	struct ev_fd w;
	enum peer_kind kind;
	unsigned got;
};

static struct peer peers[P_COUNT][2];     /* [kind][0: IPv4, 1: IPv6] */

/* The voice check's "timestamps" value with kernel TX stamps, and its fallback without them. */
static const char ts_kernel[] = "kernel TX and RX (SO_TIMESTAMPING software)";
static const char ts_fallback[] = "kernel RX; user-space send time (the kernel gave no TX timestamps)";

/* Does this kernel give TX timestamps on an IPv6 UDP socket (SO_TIMESTAMPING accepted)? Only
 * under user-mode emulation may it refuse: anywhere else a refusal is a failure, so the
 * fallback cannot stand in for a broken kernel path. */
static bool kernel_tx_stamps(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				  .sin6_port = htons(9) };
	int fd = diag_udp_open(&a, -1, 0), err;

	assert_true(fd >= 0);
	err = sys_tx_timestamps(fd);
	close(fd);
	if (err < 0 && !getenv("DSA_QEMU_USER"))
		fail_msg("SO_TIMESTAMPING refused (%s) outside qemu-user", strerror(-err));
	return err == 0;
}
static unsigned port[P_COUNT];
static enum stun_mode mode6;
static bool run_done;

static void stun_answer(struct peer *p, const uint8_t *in, size_t n, struct sockaddr_storage *from, socklen_t fl)
{
	uint8_t txid[12], out[STUN_MAX];
	unsigned flags;
	struct sockaddr_storage mapped = *from;
	size_t len;

	if (stun_parse_request(in, n, txid, &flags) < 0)
		return;
	if (from->ss_family == AF_INET6) {
		struct sockaddr_in6 *m = (struct sockaddr_in6 *)&mapped;

		if (mode6 == M_SILENT)
			return;
		if (mode6 == M_NPT || mode6 == M_NAT66)
			inet_pton(AF_INET6, "2001:db8:99::7", &m->sin6_addr);
		if (mode6 == M_NAT66)
			m->sin6_port = htons((uint16_t)(ntohs(m->sin6_port) ^ 0x4000));
	}
	len = stun_build_response(out, sizeof(out), txid, &mapped, NULL, NULL, false);
	(void)sendto(p->w.fd, out, len, 0, (struct sockaddr *)from, fl);
}

/* The reflector's 32-byte header ("DSAR", version 1, nothing measured) and the datagram back. */
static void refl_answer(struct peer *p, const uint8_t *in, size_t n, struct sockaddr_storage *from, socklen_t fl)
{
	uint8_t out[32 + 1500];

	memset(out, 0, 32);
	memcpy(out, "DSAR", 4);
	out[4] = 1;
	memcpy(out + 32, in, n);
	(void)sendto(p->w.fd, out, 32 + n, 0, (struct sockaddr *)from, fl);
}

/* 200 OK to every OPTIONS, its own Via back. */
static void sip_answer(struct peer *p, const uint8_t *in, size_t n, struct sockaddr_storage *from, socklen_t fl)
{
	char msg[1600], out[1700];
	const char *rest;
	int len;

	memcpy(msg, in, n < sizeof(msg) - 1 ? n : sizeof(msg) - 1);
	msg[n < sizeof(msg) - 1 ? n : sizeof(msg) - 1] = '\0';
	if (!(rest = strstr(msg, "\r\n")))
		return;
	len = snprintf(out, sizeof(out), "SIP/2.0 200 OK%s", rest);
	(void)sendto(p->w.fd, out, (size_t)len, 0, (struct sockaddr *)from, fl);
}

static void peer_on_read(struct ev_fd *w, unsigned ev)
{
	struct peer *p = container_of(w, struct peer, w);
	uint8_t in[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	(void)ev;
	for (int guard = 0; guard < 256 &&
	     (n = recvfrom(w->fd, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >= 0; guard++) {
		p->got++;
		if (p->kind == P_STUN)
			stun_answer(p, in, (size_t)n, &from, fl);
		else if (p->kind == P_REFL)
			refl_answer(p, in, (size_t)n, &from, fl);
		else
			sip_answer(p, in, (size_t)n, &from, fl);
		fl = sizeof(from);
	}
}

/* A peer on 127.0.0.1 and ::1, the same port: the first free one from 25060 + a random offset. */
static void peer_open(enum peer_kind k)
{
	unsigned base = 25060 + utl_random_range(0, 20000);

	for (unsigned tries = 0; tries < 200; tries++) {
		unsigned pt = 25060 + (base - 25060 + tries * 7) % 40000;
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					  .sin_port = htons((uint16_t)pt) };
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
					   .sin6_port = htons((uint16_t)pt) };
		int f4 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int f6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), sz = 1 << 20;

		assert_true(f4 >= 0 && f6 >= 0);
		if (bind(f4, (struct sockaddr *)&a4, sizeof(a4)) == 0 && bind(f6, (struct sockaddr *)&a6, sizeof(a6)) == 0) {
			port[k] = pt;
			for (int f = 0; f < 2; f++) {
				struct peer *p = &peers[k][f];

				memset(p, 0, sizeof(*p));
				p->kind = k;
				p->w.fd = f ? f6 : f4;
				p->w.cb = peer_on_read;
				setsockopt(p->w.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
				ev_fd_add(&p->w, EV_READ);
			}
			return;
		}
		close(f4);
		close(f6);
	}
	fail_msg("no port >= 25060 free on both 127.0.0.1 and ::1");
}

/* A sysfs tree with the IPv6-only phone's interface (carrier up, 1000 Mb/s full duplex). */
static char sysfs[64];

static void sysfs_make(void)
{
	static const char *const attrs[][2] = { { "operstate", "up" }, { "carrier", "1" }, { "speed", "1000" },
						 { "duplex", "full" } };
	char path[160];

	utl_strlcpy(sysfs, "/tmp/dsa-v6-sysfs-XXXXXX", sizeof(sysfs));
	assert_non_null(mkdtemp(sysfs));
	snprintf(path, sizeof(path), "%s/dsa-v6only0", sysfs);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/dsa-v6only0/%s", sysfs, attrs[i][0]);
		assert_non_null(f = fopen(path, "w"));
		fprintf(f, "%s\n", attrs[i][1]);
		fclose(f);
	}
}

static void sysfs_remove(void)
{
	static const char *const attrs[] = { "operstate", "carrier", "speed", "duplex" };
	char path[160];

	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), "%s/dsa-v6only0/%s", sysfs, attrs[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/dsa-v6only0", sysfs);
	rmdir(path);
	rmdir(sysfs);
}

static int setup(void **state)
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
	sysfs_make();
	sys_dummy_reset();
	sys_use(&sys_dummy_ops);
	for (int k = 0; k < P_COUNT; k++)
		peer_open((enum peer_kind)k);
	mode6 = M_NATIVE;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int k = 0; k < P_COUNT; k++) {
		for (int f = 0; f < 2; f++) {
			ev_fd_del(&peers[k][f].w);
			close(peers[k][f].w.fd);
		}
	}
	sys_use(NULL);
	sysfs_remove();
	unsetenv("DSA_DNS_SERVERS");
	dz_stop();
	ev_done();
	return 0;
}

/* The phone's interface as the dummy backend reports it: 127.0.0.1 by DHCP when v4, and
 * "::1" as a global (DHCPv6) address. */
static void plant_addrs(bool v4)
{
	struct sys_addr *a = sys_dummy_last.addrs;
	unsigned n = 0;

	memset(sys_dummy_last.addrs, 0, sizeof(sys_dummy_last.addrs));
	if (v4) {
		a[n].family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", a[n].addr);
		a[n].prefixlen = 8;
		a[n++].valid_s = 3600;
	}
	a[n].family = AF_INET6;
	inet_pton(AF_INET6, "::1", a[n].addr);
	a[n].prefixlen = 128;
	a[n].scope = RT_SCOPE_UNIVERSE;
	a[n++].valid_s = 7200;
	sys_dummy_last.naddrs = n;
}

static void on_run_done(const struct diag_report *rep, void *arg)
{
	(void)rep;
	(void)arg;
	run_done = true;
}

static char prov_url[DIAG_PATH_MAX];       /* the HTTPS check's URL ("": the default) */

/* Run the checks over the interface ifname ("lo": dual stack; a name without IPv4: IPv6 only). */
static const struct diag_report *run(struct diag_runner *r, const char *ifname, const char *stun,
				     const char *refl, const char *sip, uint32_t checks)
{
	static struct diag_listener l;
	struct diag_opts o;
	uint64_t end;

	diag_opts_default(&o);
	utl_strlcpy(o.ifname, ifname, sizeof(o.ifname));
	if (strcmp(ifname, "lo"))
		utl_strlcpy(o.sysfs_net, sysfs, sizeof(o.sysfs_net));   /* its link: wired, up */
	utl_strlcpy(o.stun_host, stun, sizeof(o.stun_host));
	utl_strlcpy(o.reflector_host, refl, sizeof(o.reflector_host));
	utl_strlcpy(o.sip_host[0], sip, sizeof(o.sip_host[0]));
	utl_strlcpy(o.sip_host[1], sip, sizeof(o.sip_host[1]));
	o.stun_port = port[P_STUN];
	o.reflector_port = port[P_REFL];
	o.rtp_min = o.rtp_max = port[P_REFL];
	o.sip_port = port[P_SIP];
	o.voice_ms = 2000;
	if (prov_url[0])
		utl_strlcpy(o.prov_url, prov_url, sizeof(o.prov_url));
	o.checks = checks;
	run_done = false;
	memset(&l, 0, sizeof(l));
	l.on_run_done = on_run_done;
	assert_int_equal(diag_runner_start(r, &o, &l), 0);
	end = ev_now_ms() + 40000;
	while (!run_done && ev_now_ms() < end)
		ev_run_once(20);
	assert_true(run_done);
	return diag_runner_report(r);
}

static const char *value(const struct diag_report *rep, enum diag_check_id id, const char *name)
{
	const struct diag_result *r = diag_report_result(rep, id);
	const char *v;

	assert_non_null(r);
	v = diag_result_value(r, name);
	if (!v)
		fail_msg("%s has no value %s (%s)", r->id, name, r->advice);
	return v;
}

/* Free the runner after one more loop turn: a superseded run is freed from the loop (its reaper). */
static void runner_done(struct diag_runner *r)
{
	for (int i = 0; i < 3; i++)
		ev_run_once(20);
	diag_runner_free(r);
}

static void show(const struct diag_report *rep, enum diag_check_id id)
{
	const struct diag_result *r = diag_report_result(rep, id);

	/* no brief: the voice check's holds real-clock RTT (check-determinism.sh compares output) */
	print_message("%s: %s %s\n", r->id, diag_verdict_name(r->verdict), r->advice);
}

/* An IPv6-only phone: DNS (AAAA only), SIP, NAT and voice run over IPv6, not SKIP "no address". */
static void test_ipv6_only_phone(void **state)
{
	struct diag_runner *r = diag_runner_new();
	const struct diag_report *rep;
	const struct diag_result *res;

	(void)state;
	plant_addrs(false);
	rep = run(r, "dsa-v6only0", "stun6.dsa.test", "refl6.dsa.test", "sip6.dsa.test",
		  DIAG_CHECK_BIT(DIAG_C_NAT) | DIAG_CHECK_BIT(DIAG_C_VOICE) | DIAG_CHECK_BIT(DIAG_C_EAST_UDP) |
			  DIAG_CHECK_BIT(DIAG_C_SIP_ALG) | DIAG_CHECK_BIT(DIAG_C_MTU) | DIAG_CHECK_BIT(DIAG_C_RTP_PORTS));
	for (int id = DIAG_C_DNS; id < DIAG_C_COUNT; id++)
		if (diag_report_result(rep, (enum diag_check_id)id))
			show(rep, (enum diag_check_id)id);
	assert_int_equal(diag_report_result(rep, DIAG_C_DNS)->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_DNS, "stun6.dsa.test"), "::1");

	res = diag_report_result(rep, DIAG_C_NAT);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_NAT, "fam"), "6");
	assert_string_equal(value(rep, DIAG_C_NAT, "ipv6_nat"), "native");
	assert_true(!strncmp(value(rep, DIAG_C_NAT, "ipv6_public"), "[::1]:", 6));
	assert_null(diag_result_value(res, "situation"));    /* no IPv4 situation to judge */
	assert_non_null(strstr(res->advice, "no NAT (native IPv6)"));
	assert_true(peers[P_STUN][1].got >= 1);
	assert_int_equal(peers[P_STUN][0].got, 0);

	res = diag_report_result(rep, DIAG_C_VOICE);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_VOICE, "fam"), "6");
	assert_int_equal(atoi(value(rep, DIAG_C_VOICE, "packets_received")),
			 atoi(value(rep, DIAG_C_VOICE, "packets_sent")));
	assert_true(peers[P_REFL][1].got >= 100);
	assert_int_equal(peers[P_REFL][0].got, 0);
	/* RTT and jitter measured either way; the report names the send time it used */
	assert_true(atoi(value(rep, DIAG_C_VOICE, "rtt_samples")) >= 100);
	assert_int_equal(atoi(value(rep, DIAG_C_VOICE, "jitter_samples")),
			 atoi(value(rep, DIAG_C_VOICE, "rtt_samples")) - 1);
	assert_string_equal(value(rep, DIAG_C_VOICE, "timestamps"), kernel_tx_stamps() ? ts_kernel : ts_fallback);

	/* the reflector's other probes: a 1400-byte datagram over IPv6, the RTP port sample */
	assert_int_equal(diag_report_result(rep, DIAG_C_MTU)->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_MTU, "fam"), "6");
	assert_int_equal(diag_report_result(rep, DIAG_C_RTP_PORTS)->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_RTP_PORTS, "fam"), "6");

	res = diag_report_result(rep, DIAG_C_EAST_UDP);
	assert_int_equal(res->verdict, DIAG_PASS);
	/* only IPv6 was probed: no "only" (that reads as IPv4 failing), and the ipv4 value says why */
	assert_non_null(strstr(res->advice, " over IPv6 (IPv4 not probed: no IPv4 address)"));
	assert_null(strstr(res->advice, "IPv6 only"));
	assert_string_equal(value(rep, DIAG_C_EAST_UDP, "ipv4"), "not probed: no IPv4 address");
	assert_true(peers[P_SIP][1].got >= 1);

	/* the SIP ALG probe runs over IPv6 too (this registrar does not echo: test_diag_alg.c has
	 * one that does) */
	res = diag_report_result(rep, DIAG_C_SIP_ALG);
	assert_int_equal(res->verdict, DIAG_SKIP);
	assert_non_null(strstr(res->advice, "the registrars do not echo the request"));
	assert_int_equal(peers[P_SIP][0].got, 0);

	/* the address and family verdicts say what is true: no IPv4, IPv6 works, what was not checked */
	for (int id = DIAG_C_LINK; id < DIAG_C_DNS; id++)
		if (diag_report_result(rep, (enum diag_check_id)id))
			show(rep, (enum diag_check_id)id);
	res = diag_report_result(rep, DIAG_C_ADDRESS);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_string_equal(res->brief, "IPv6 only");
	assert_non_null(strstr(res->advice, "IPv6 only: the phone has no IPv4 address on dsa-v6only0"));
	assert_null(strstr(res->advice, "DHCP"));
	assert_string_equal(value(rep, DIAG_C_ADDRESS, "ipv6"), "::1/128 (DHCPv6)");
	res = diag_report_result(rep, DIAG_C_FAMILY);
	show(rep, DIAG_C_FAMILY);
	assert_int_equal(res->verdict, DIAG_WARN);
	assert_string_equal(value(rep, DIAG_C_FAMILY, "uses"), "IPv6");
	assert_string_equal(value(rep, DIAG_C_FAMILY, "situation"), "no-ipv4");
	assert_string_equal(value(rep, DIAG_C_FAMILY, "ipv4"), "not probed (no IPv4 address)");
	assert_string_equal(value(rep, DIAG_C_FAMILY, "ipv6"), "1 of 1 SIP rows answered");
	assert_string_equal(res->advice, "IPv6 only: the phone has no IPv4 address; it registers over IPv6; "
			    "every check ran over IPv6; without IPv4 there is no fall-back if IPv6 fails: "
			    "give the phones IPv4 too (DHCP)");
	assert_null(strstr(res->advice, "over IPv4 too"));
	assert_int_equal(diag_report_result(rep, DIAG_C_LINK)->verdict, DIAG_PASS);
	assert_int_equal(rep->overall, DIAG_WARN);           /* not FAIL "no IPv4" */
	runner_done(r);
}

/* Neither family (no IPv4, link-local IPv6 only, or nothing at all): the address check FAILs with
 * the DHCP/SLAAC advice, the network checks SKIP, the family check has nothing to judge. */
static void test_no_address_phone(void **state)
{
	static const struct {
		bool linklocal;
		const char *ipv6;
	} rows[] = {
		{ false, "none" },
		{ true, "link-local only (no router advertises a prefix)" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct diag_runner *r = diag_runner_new();
		const struct diag_report *rep;
		const struct diag_result *res;

		memset(sys_dummy_last.addrs, 0, sizeof(sys_dummy_last.addrs));
		sys_dummy_last.naddrs = 0;
		if (rows[i].linklocal) {
			sys_dummy_last.addrs[0].family = AF_INET6;
			inet_pton(AF_INET6, "fe80::1", sys_dummy_last.addrs[0].addr);
			sys_dummy_last.addrs[0].prefixlen = 64;
			sys_dummy_last.addrs[0].scope = RT_SCOPE_LINK;
			sys_dummy_last.naddrs = 1;
		}
		rep = run(r, "dsa-v6only0", "stun6.dsa.test", "refl6.dsa.test", "sip6.dsa.test",
			  DIAG_CHECK_BIT(DIAG_C_NAT) | DIAG_CHECK_BIT(DIAG_C_EAST_UDP));
		res = diag_report_result(rep, DIAG_C_ADDRESS);
		show(rep, DIAG_C_ADDRESS);
		assert_int_equal(res->verdict, DIAG_FAIL);
		assert_non_null(strstr(res->advice, "no IPv4 or global IPv6 address on dsa-v6only0: the phone is "
					"not getting DHCP"));
		assert_non_null(strstr(res->advice, "SLAAC"));
		assert_string_equal(value(rep, DIAG_C_ADDRESS, "ipv6"), rows[i].ipv6);
		assert_int_equal(diag_report_result(rep, DIAG_C_DNS)->verdict, DIAG_SKIP);
		assert_int_equal(diag_report_result(rep, DIAG_C_EAST_UDP)->verdict, DIAG_SKIP);
		assert_int_equal(diag_report_result(rep, DIAG_C_NAT)->verdict, DIAG_SKIP);
		assert_int_equal(rep->overall, DIAG_FAIL);
		assert_int_equal(peers[P_SIP][1].got + peers[P_SIP][0].got, 0);
		runner_done(r);
	}
}

/* Dual stack: NAT on both families (IPv4's situation, IPv6's beside it), voice over IPv4 (the
 * family media use); then the IPv6 mapping as NPTv6, NAT66 and STUN silent over IPv6. */
static void test_dual_stack_nat(void **state)
{
	struct diag_runner *r = diag_runner_new();
	const uint32_t checks = DIAG_CHECK_BIT(DIAG_C_NAT) | DIAG_CHECK_BIT(DIAG_C_VOICE);
	const struct diag_report *rep;
	const struct diag_result *res;

	(void)state;
	plant_addrs(true);
	rep = run(r, "lo", "stun.dsa.test", "refl.dsa.test", "sip6.dsa.test", checks);
	show(rep, DIAG_C_NAT);
	res = diag_report_result(rep, DIAG_C_NAT);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_NAT, "fam"), "4,6");
	assert_string_equal(value(rep, DIAG_C_NAT, "situation"), "none");
	assert_string_equal(value(rep, DIAG_C_NAT, "ipv6_nat"), "native");
	assert_non_null(strstr(res->advice, "; over IPv6: no NAT (native IPv6)"));
	assert_true(peers[P_STUN][0].got >= 1 && peers[P_STUN][1].got >= 1);
	assert_string_equal(value(rep, DIAG_C_VOICE, "fam"), "4");
	assert_true(peers[P_REFL][0].got >= 100);
	assert_int_equal(peers[P_REFL][1].got, 0);

	mode6 = M_NPT;
	rep = run(r, "lo", "stun.dsa.test", "refl.dsa.test", "sip6.dsa.test", DIAG_CHECK_BIT(DIAG_C_NAT));
	show(rep, DIAG_C_NAT);
	res = diag_report_result(rep, DIAG_C_NAT);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_NAT, "ipv6_nat"), "nptv6");
	assert_true(!strncmp(value(rep, DIAG_C_NAT, "ipv6_public"), "[2001:db8:99::7]:", 17));
	assert_non_null(strstr(res->advice, "over IPv6: NPTv6"));

	mode6 = M_NAT66;
	rep = run(r, "lo", "stun.dsa.test", "refl.dsa.test", "sip6.dsa.test", DIAG_CHECK_BIT(DIAG_C_NAT));
	show(rep, DIAG_C_NAT);
	res = diag_report_result(rep, DIAG_C_NAT);
	assert_int_equal(res->verdict, DIAG_WARN);
	assert_string_equal(value(rep, DIAG_C_NAT, "ipv6_nat"), "nat66");
	assert_non_null(strstr(res->advice, "over IPv6: NAT66 (ports rewritten): route IPv6 to the phones without it; public 2001:db8:99::7"));

	mode6 = M_SILENT;
	peers[P_STUN][1].got = 0;
	rep = run(r, "lo", "stun.dsa.test", "refl.dsa.test", "sip6.dsa.test", DIAG_CHECK_BIT(DIAG_C_NAT));
	show(rep, DIAG_C_NAT);
	res = diag_report_result(rep, DIAG_C_NAT);
	assert_int_equal(res->verdict, DIAG_WARN);
	assert_string_equal(value(rep, DIAG_C_NAT, "situation"), "none");  /* IPv4 still judged */
	assert_string_equal(value(rep, DIAG_C_NAT, "ipv6_nat"), "unknown");
	assert_null(diag_result_value(res, "ipv6_public"));
	assert_true(peers[P_STUN][1].got >= 3);                              /* retransmitted */
	{
		char want[96];

		snprintf(want, sizeof(want), "does not answer over IPv6: allow outbound UDP over IPv6 to port %u", port[P_STUN]);
		assert_non_null(strstr(res->advice, want));
	}
	assert_true(res->duration_ms <= 5000);
	runner_done(r);
}

/* A dual-stack phone and a reflector with an AAAA record only: its checks probe it over IPv6,
 * the DNS check passes (the phone can reach it), nothing goes to 127.0.0.1. */
static void test_dual_stack_aaaa_only_host(void **state)
{
	struct diag_runner *r = diag_runner_new();
	const struct diag_report *rep;

	(void)state;
	plant_addrs(true);
	rep = run(r, "lo", "stun.dsa.test", "refl6.dsa.test", "sip6.dsa.test",
		  DIAG_CHECK_BIT(DIAG_C_VOICE) | DIAG_CHECK_BIT(DIAG_C_MTU));
	show(rep, DIAG_C_VOICE);
	assert_int_equal(diag_report_result(rep, DIAG_C_DNS)->verdict, DIAG_PASS);
	assert_string_equal(value(rep, DIAG_C_VOICE, "fam"), "6");
	assert_string_equal(value(rep, DIAG_C_MTU, "fam"), "6");
	assert_int_equal(diag_report_result(rep, DIAG_C_VOICE)->verdict, DIAG_PASS);
	assert_true(peers[P_REFL][1].got >= 100);
	assert_int_equal(peers[P_REFL][0].got, 0);
	runner_done(r);
}

/* An IPv6-only phone whose STUN server is silent over IPv6: the IPv4 logic's WARN, named. */
static void test_ipv6_only_stun_silent(void **state)
{
	struct diag_runner *r = diag_runner_new();
	const struct diag_report *rep;
	const struct diag_result *res;

	(void)state;
	plant_addrs(false);
	mode6 = M_SILENT;
	rep = run(r, "dsa-v6only0", "stun6.dsa.test", "refl6.dsa.test", "sip6.dsa.test", DIAG_CHECK_BIT(DIAG_C_NAT));
	show(rep, DIAG_C_NAT);
	res = diag_report_result(rep, DIAG_C_NAT);
	assert_int_equal(res->verdict, DIAG_WARN);
	assert_string_equal(res->brief, "STUN no answer (IPv6)");
	assert_string_equal(value(rep, DIAG_C_NAT, "ipv6_nat"), "unknown");
	runner_done(r);
}

/* ---------------------------------------------------------------- HTTPS over IPv6 */

/* A "TLS server" on 127.0.0.1 and ::1 (the same port): it takes each connection, keeps the first
 * bytes the client sends (its ClientHello) and hangs up. */
static struct tls_peer {
	struct ev_fd lst[2], conn;
	unsigned port, accepted[2];        /* [0] IPv4, [1] IPv6 */
	char hello[2048];
	size_t hello_len;
} T;

static void tls_conn_read(struct ev_fd *w, unsigned ev)
{
	ssize_t n = recv(w->fd, T.hello + T.hello_len, sizeof(T.hello) - T.hello_len, MSG_DONTWAIT);

	(void)ev;
	if (n > 0)
		T.hello_len += (size_t)n;
	if (n < 0 && errno == EAGAIN)
		return;
	/* the record header and some of the ClientHello: enough; hang up (the handshake fails) */
	ev_fd_del(w);
	close(w->fd);
	w->fd = -1;
}

static void tls_accept(struct ev_fd *w, unsigned ev)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)ev;
	if (fd < 0)
		return;
	T.accepted[w == &T.lst[1]]++;
	if (T.conn.fd >= 0) {
		close(fd);
		return;
	}
	T.hello_len = 0;
	T.conn.fd = fd;
	T.conn.cb = tls_conn_read;
	ev_fd_add(&T.conn, EV_READ);
}

static void tls_open(void)
{
	unsigned base = 25060 + utl_random_range(0, 20000);

	memset(&T, 0, sizeof(T));
	T.conn.fd = -1;
	for (unsigned tries = 0; tries < 200; tries++) {
		unsigned pt = 25060 + (base - 25060 + tries * 7) % 40000;
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					  .sin_port = htons((uint16_t)pt) };
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
					   .sin6_port = htons((uint16_t)pt) };
		int f4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int f6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		assert_true(f4 >= 0 && f6 >= 0);
		if (bind(f4, (struct sockaddr *)&a4, sizeof(a4)) == 0 && bind(f6, (struct sockaddr *)&a6, sizeof(a6)) == 0 &&
		    listen(f4, 4) == 0 && listen(f6, 4) == 0) {
			T.port = pt;
			for (int f = 0; f < 2; f++) {
				T.lst[f].fd = f ? f6 : f4;
				T.lst[f].cb = tls_accept;
				ev_fd_add(&T.lst[f], EV_READ);
			}
			return;
		}
		close(f4);
		close(f6);
	}
	fail_msg("no TCP port >= 25060 free on both 127.0.0.1 and ::1");
}

static void tls_close(void)
{
	for (int f = 0; f < 2; f++) {
		ev_fd_del(&T.lst[f]);
		close(T.lst[f].fd);
	}
	if (T.conn.fd >= 0) {
		ev_fd_del(&T.conn);
		close(T.conn.fd);
	}
}

/* The self-test's HTTPS probe on an IPv6-only phone: libcurl in the job process connects to the
 * AAAA over IPv6 (a TLS ClientHello naming the host arrives at [::1], none at 127.0.0.1); the
 * report shows the server as [addr]:port; the hang-up is a failed TLS handshake, not SKIP "no
 * IPv4 address" (the old code's). A dual-stack phone with A and AAAA stays on IPv4. Refused over
 * IPv6: the advice names the family to allow. */
static void test_https_v6(void **state)
{
	static const struct {
		bool v4;
		const char *ifname, *host, *server;
		int fam;
	} rows[] = {
		{ false, "dsa-v6only0", "prov6.dsa.test", "[::1]", 1 },
		{ true, "lo", "prov46.dsa.test", "127.0.0.1", 0 },
	};

	(void)state;
	tls_open();
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct diag_runner *r = diag_runner_new();
		const struct diag_report *rep;
		const struct diag_result *res;
		char want[64];

		plant_addrs(rows[i].v4);
		T.accepted[0] = T.accepted[1] = 0;
		T.hello_len = 0;
		snprintf(prov_url, sizeof(prov_url), "https://%s:%u/", rows[i].host, T.port);
		rep = run(r, rows[i].ifname, "stun6.dsa.test", "refl6.dsa.test", "sip6.dsa.test",
			  DIAG_CHECK_BIT(DIAG_C_HTTPS));
		prov_url[0] = '\0';
		show(rep, DIAG_C_HTTPS);
		res = diag_report_result(rep, DIAG_C_HTTPS);
		snprintf(want, sizeof(want), "%s:%u", rows[i].server, T.port);
		assert_string_equal(value(rep, DIAG_C_HTTPS, "server"), want);
		assert_int_equal(T.accepted[rows[i].fam], 1);
		assert_int_equal(T.accepted[!rows[i].fam], 0);
		/* a TLS handshake record (0x16), a ClientHello (1) naming the URL's host (SNI) */
		assert_true(T.hello_len > 9);
		assert_int_equal((unsigned char)T.hello[0], 0x16);
		assert_int_equal(T.hello[5], 1);
		assert_non_null(memmem(T.hello, T.hello_len, rows[i].host, strlen(rows[i].host)));
		assert_int_equal(res->verdict, DIAG_FAIL);
		assert_string_equal(res->brief, "TLS handshake failed");
		runner_done(r);
	}
	tls_close();
	/* nothing listens any more: refused over IPv6, and the advice says which family to allow */
	{
		struct diag_runner *r = diag_runner_new();
		const struct diag_result *res;

		plant_addrs(false);
		snprintf(prov_url, sizeof(prov_url), "https://prov6.dsa.test:%u/", T.port);
		res = diag_report_result(run(r, "dsa-v6only0", "stun6.dsa.test", "refl6.dsa.test", "sip6.dsa.test",
					     DIAG_CHECK_BIT(DIAG_C_HTTPS)), DIAG_C_HTTPS);
		prov_url[0] = '\0';
		assert_int_equal(res->verdict, DIAG_FAIL);
		assert_string_equal(res->advice, "no HTTPS connection to prov6.dsa.test (refused/unreachable): allow "
				    "outbound HTTPS (TCP 443) over IPv6 to prov6.dsa.test");
		runner_done(r);
	}
}

static int probe_rc;
static bool probe_done;

static void on_probe(const struct pf_reply *rep, void *arg)
{
	(void)arg;
	probe_rc = rep->rc;
	probe_done = true;
}

/* The job request round-trips a bracketed resolve entry to libcurl (the connection arrives at
 * [::1] for a name nothing else resolves), and a malformed one is refused: libcurl's
 * CURLE_SETOPT_OPTION_SYNTAX (49), no connection, no lookup of the name elsewhere. */
static void test_job_resolve_v6(void **state)
{
	static const struct {
		const char *addr;
		int rc;
		unsigned accepted6;
	} rows[] = {
		{ "[::1]", 35, 1 },      /* CURLE_SSL_CONNECT_ERROR: our hang-up */
		{ "[::1", 49, 0 },
		{ "[::1]x", 49, 0 },
		{ "[nowhere]", 49, 0 },
	};
	struct pf_opts po = { 0 };
	struct pf_ctx *ctx;

	(void)state;
	tls_open();
	assert_int_equal(pf_new(&ctx, &po), 0);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char url[64], resolve[80];
		uint64_t end = ev_now_ms() + 20000;

		snprintf(url, sizeof(url), "https://nowhere.invalid:%u/", T.port);
		snprintf(resolve, sizeof(resolve), "nowhere.invalid:%u:%s", T.port, rows[i].addr);
		T.accepted[0] = T.accepted[1] = 0;
		probe_done = false;
		assert_int_equal(pf_probe(ctx, PF_HEAD, url, resolve, "lo", 4000, on_probe, NULL, NULL), 0);
		while (!probe_done && ev_now_ms() < end)
			ev_run_once(20);
		print_message("resolve %s: curl %d\n", rows[i].addr, probe_rc);   /* no port: determinism */
		assert_true(probe_done);
		assert_int_equal(probe_rc, rows[i].rc);
		assert_int_equal(T.accepted[1], rows[i].accepted6);
		assert_int_equal(T.accepted[0], 0);
	}
	pf_free(ctx);
	tls_close();
}

/* The probe sockets on ::1 with the Linux backend: the traffic class is set and read back
 * (IPV6_TCLASS / IPV6_RECVTCLASS), and the kernel's TX timestamps come from the IPv6 error queue. */
static void count_stamp(uint32_t key, int64_t ns, void *arg)
{
	(void)key;
	*(unsigned *)arg += ns > 0;
}

/* Wait (at most 1 s: loopback delivers at once) for fd to have data, or an error-queue entry. */
static void wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	assert_int_equal(poll(&p, 1, 1000), 1);
}

static void test_probe_socket_v6(void **state)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t l = sizeof(a);
	int srv = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, fd, tc = 26 << 2;
	uint8_t buf[64];
	struct diag_rx rx;
	struct sockaddr_in6 from;
	socklen_t fl = sizeof(from);
	unsigned stamps = 0;
	bool kernel;
	int err;

	(void)state;
	sys_use(NULL);               /* the Linux backend: IPV6_TCLASS for real */
	assert_true(srv >= 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(srv, (struct sockaddr *)&a, &l), 0);
	setsockopt(srv, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	fd = diag_udp_open(&a, 46, 0);
	assert_true(fd >= 0);
	kernel = kernel_tx_stamps();
	err = sys_tx_timestamps(fd);
	if (kernel)
		assert_int_equal(err, 0);
	else
		assert_true(err < 0 && err > -4096);     /* a clean -errno: the check falls back */
	/* the probe's datagram arrives marked EF (46 << 2 in the traffic class) */
	assert_int_equal(send(fd, "ping", 4, 0), 4);
	wait_fd(srv, POLLIN);
	assert_int_equal(diag_udp_recv(srv, buf, sizeof(buf), &rx), 4);
	assert_int_equal(rx.tos, 46 << 2);
	assert_int_equal(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), -1); /* one only */
	/* an answer marked CS3: the probe reads the traffic class it came with */
	getsockname(fd, (struct sockaddr *)&from, &fl);
	setsockopt(srv, IPPROTO_IPV6, IPV6_TCLASS, &tc, sizeof(tc));
	assert_int_equal(sendto(srv, "pong", 4, 0, (struct sockaddr *)&from, fl), 4);
	wait_fd(fd, POLLIN);
	assert_int_equal(diag_udp_recv(fd, buf, sizeof(buf), &rx), 4);
	assert_int_equal(rx.tos, 26 << 2);
	assert_true(rx.ts_ns > 0);
	/* the kernel's send time of the probe, from the IPv6 error queue (IPV6_RECVERR); without
	 * kernel TX stamps the error queue stays empty, nothing is read, and the caller keeps its
	 * user-space send time */
	if (kernel)
		wait_fd(fd, 0);
	assert_int_equal(sys_tx_drain(fd, count_stamp, &stamps), kernel ? 1 : 0);
	assert_int_equal(stamps, kernel ? 1 : 0);
	close(fd);
	close(srv);
	sys_use(&sys_dummy_ops);
}

/* The job process: the HTTPS check's as the agent's, but the IPv6-only phone's interface here
 * is a name without a device (so that it has no IPv4): its libcurl binds to lo, which has ::1. */
static int child_job(const struct job_msg *m, struct job_buf *out)
{
	struct job_msg c = *m;

	if (m->type == JOB_HTTP && !strcmp(m->f[16].p, "dsa-v6only0")) {
		c.f[16].p = "lo";
		c.f[16].len = 3;
	}
	return diag_job(&c, out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_address_phone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_only_phone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_stack_nat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_only_stun_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_stack_aaaa_only_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_socket_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_https_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_resolve_v6, setup, teardown),
	};

	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return job_main(child_job);
	jobexe_setup();

	return cmocka_run_group_tests(tests, NULL, NULL);
}
