/* test_sip_failover.c - RFC 3263 failover of the registration client, on the
 * virtual clock: a DNS server on loopback (NAPTR -> SRV -> A) gives the east
 * region two targets (priority 10 and 20) and the west region one; three
 * in-process UDP registrars answer or stay silent. Registered on the
 * priority-10 target; that one silent -> the priority-20 target right after
 * Timer F; both silent -> west; REGISTERs counted at each registrar. Dual stack:
 * a name with AAAA and A whose IPv6 registrar is silent -> IPv4 after 4 T1. */
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
#include <unistd.h>
#include <cmocka.h>

#include "common/ev.h"
#include "common/util.h"
#include "sip/msg.h"
#include "sip/reg.h"
#include "dnszone.h"

struct fake {
	int port;
	struct ev_fd w;
	bool silent;
	int n;                     /* REGISTERs received */
};

static struct fake R[3];       /* e1 (prio 10), e2 (prio 20), w */
static struct fake V6;         /* a silent registrar on [::1], port of R[0] */
static struct dz_rr zone[10];
static struct sip_reg_status last;

/* A registrar that keeps the binding answers with the request's own Contact. */
static bool our_contact(const char *req, char *out, size_t size)
{
	const char *c = strstr(req, "\r\nContact: <"), *end;

	if (!c || !(end = strchr(c + 12, '>')))
		return false;
	return snprintf(out, size, "Contact: %.*s>;expires=900\r\n", (int)(end - (c + 11)), c + 11) <
	       (int)size;
}

static void fake_read(struct ev_fd *w, unsigned ev)
{
	struct fake *f = container_of(w, struct fake, w);
	char buf[SIP_MSG_MAX + 1], *out;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(w->fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
	struct sip_msg m;
	const char *why;
	char contact[512];
	size_t len;
	bool answer;

	if (n < 20 || buf[0] == 0 || buf[0] == 1)
		return;
	buf[n] = '\0';
	if (sip_msg_parse(buf, (size_t)n, false, &m, &why) != 0)
		return;
	if (!strncmp(buf, "REGISTER", 8))
		f->n++;
	/* a REGISTER gets our Contact back; anything else (the OPTIONS probe of a
	 * registrar found silent before) a plain 200 */
	answer = !f->silent;
	if (strncmp(buf, "REGISTER", 8))
		contact[0] = '\0';
	else if (!our_contact(buf, contact, sizeof(contact)))
		answer = false;
	if (answer &&
	    sip_msg_build_response(&m, 200, "OK", "ft", contact, &out, &len) == 0) {
		sendto(w->fd, out, len, 0, (struct sockaddr *)&from, fl);
		free(out);
	}
	sip_msg_free(&m);
}

static void on_state(struct sip_reg *r, const struct sip_reg_status *st, void *arg)
{
	last = *st;
}

static int setup(void **state)
{
	static char dns[32];
	int i;

	if (ev_init())
		return -1;
	ev_clock_virtual(1000000);
	for (i = 0; i < 3; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t al = sizeof(a);

		memset(&R[i], 0, sizeof(R[i]));
		R[i].w.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (R[i].w.fd < 0 || bind(R[i].w.fd, (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(R[i].w.fd, (struct sockaddr *)&a, &al))
			return -1;
		R[i].port = ntohs(a.sin_port);
		R[i].w.cb = fake_read;
		if (ev_fd_add(&R[i].w, EV_READ))
			return -1;
	}
	zone[0] = (struct dz_rr){ "east.test", T_NAPTR, 300, NULL, 10, 10, 0, "s", "SIP+D2U", "_sip._udp.east.test" };
	zone[1] = (struct dz_rr){ "_sip._udp.east.test", T_SRV, 300, NULL, 20, 0, (uint16_t)R[1].port, NULL, NULL, "e2.test" };
	zone[2] = (struct dz_rr){ "_sip._udp.east.test", T_SRV, 300, NULL, 10, 0, (uint16_t)R[0].port, NULL, NULL, "e1.test" };
	zone[3] = (struct dz_rr){ "e1.test", T_A, 300, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL };
	zone[4] = (struct dz_rr){ "e2.test", T_A, 300, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL };
	zone[5] = (struct dz_rr){ "_sip._udp.west.test", T_SRV, 300, NULL, 10, 0, (uint16_t)R[2].port, NULL, NULL, "w.test" };
	zone[6] = (struct dz_rr){ "w.test", T_A, 300, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL };
	zone[7] = (struct dz_rr){ "west.test", T_A, 300, "127.0.0.2", 0, 0, 0, NULL, NULL, NULL };
	zone[8] = (struct dz_rr){ "ds.test", T_AAAA, 300, "::1", 0, 0, 0, NULL, NULL, NULL };
	zone[9] = (struct dz_rr){ "ds.test", T_A, 300, "127.0.0.1", 0, 0, 0, NULL, NULL, NULL };
	if (dz_start(zone, 10))
		return -1;
	{
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)R[0].port) };
		int one = 1;

		memset(&V6, 0, sizeof(V6));
		a6.sin6_addr = in6addr_loopback;
		V6.silent = true;
		V6.w.fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (V6.w.fd < 0 || setsockopt(V6.w.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
		    bind(V6.w.fd, (struct sockaddr *)&a6, sizeof(a6)))
			return -1;
		V6.w.cb = fake_read;
		if (ev_fd_add(&V6.w, EV_READ))
			return -1;
	}
	snprintf(dns, sizeof(dns), "127.0.0.1:%d", dz.port);
	setenv("DSA_DNS_SERVERS", dns, 1);
	memset(&last, 0, sizeof(last));
	return 0;
}

static int teardown(void **state)
{
	int i;

	for (i = 0; i < 3; i++) {
		ev_fd_del(&R[i].w);
		close(R[i].w.fd);
	}
	ev_fd_del(&V6.w);
	close(V6.w.fd);
	dz_stop();
	unsetenv("DSA_DNS_SERVERS");
	ev_done();
	return 0;
}

static struct sip_reg *start_host(const char *host, int port)
{
	struct sip_reg_opts o;
	struct sip_reg *r;
	const char *why;

	sip_reg_opts_init(&o);
	o.user = "100";
	o.password = "pw";
	o.domain = "dsa.test";
	o.mac = "00:11:22:aa:bb:cc";
	o.n_registrars = 2;
	o.registrars[0] = (struct sip_registrar){ "east", host, port, SIP_TP_UDP, 1 };
	o.registrars[1] = (struct sip_registrar){ "west", "west.test", 0, SIP_TP_UDP, 2 };
	o.on_state = on_state;
	assert_int_equal(sip_reg_new(&o, &r, &why), 0);
	assert_int_equal(sip_reg_start(r), 0);
	return r;
}

static struct sip_reg *start(void)
{
	return start_host("east.test", 0);
}

/* Run the loop until registered or ms of (virtual) time have passed; the time it took. */
static uint64_t until_registered(uint64_t ms)
{
	uint64_t t0 = ev_now_ms();
	int i;

	for (i = 0; i < 100000 && ev_now_ms() - t0 < ms && last.state != SIP_REG_REGISTERED; i++)
		ev_run_once(100);
	return ev_now_ms() - t0;
}

static void test_priority_10(void **state)
{
	struct sip_reg *r = start();

	until_registered(5000);
	assert_int_equal(last.state, SIP_REG_REGISTERED);
	assert_string_equal(last.region, "east");
	assert_int_equal(R[0].n, 1);
	assert_int_equal(R[1].n, 0);
	assert_int_equal(R[2].n, 0);
	assert_non_null(strstr(last.target, "via NAPTR, 1 of 2"));
	/* the SRV target's name, which the self-test resolves and probes for a bare domain */
	assert_string_equal(sip_reg_target_host(r, 0), "e1.test");
	assert_null(sip_reg_target_host(r, 1));   /* west never looked up */
	sip_reg_free(r);
}

static void test_next_target(void **state)
{
	struct sip_reg *r;
	uint64_t took;

	R[0].silent = true;
	r = start();
	took = until_registered(120000);
	print_message("# registered on the priority-20 target after %llu ms (Timer F 32000)\n",
		      (unsigned long long)took);
	assert_int_equal(last.state, SIP_REG_REGISTERED);
	assert_string_equal(last.region, "east");
	assert_int_equal(R[0].n, 11);             /* Timer E retransmissions until Timer F */
	assert_int_equal(R[1].n, 1);
	assert_int_equal(R[2].n, 0);              /* the other region never asked */
	assert_in_range(took, 32000, 33000);
	assert_non_null(strstr(last.target, "2 of 2"));
	assert_string_equal(sip_reg_target_host(r, 0), "e2.test");
	sip_reg_free(r);
}

static void test_other_region(void **state)
{
	struct sip_reg *r;
	uint64_t took;

	R[0].silent = R[1].silent = true;
	r = start();
	took = until_registered(200000);
	print_message("# registered on west after %llu ms\n", (unsigned long long)took);
	assert_int_equal(last.state, SIP_REG_REGISTERED);
	assert_string_equal(last.region, "west");
	assert_int_equal(R[0].n, 11);
	/* the region went silent: the second target gets an OPTIONS probe
	 * (unanswered within 10 T1), never a REGISTER */
	assert_int_equal(R[1].n, 0);
	assert_int_equal(R[2].n, 1);
	/* Timer F (32 s), the probe's 5 s, then the move to the other region
	 * after silence, spread over 0-3 keepalive intervals (docs/sip.md: a
	 * region that goes silent loses its fleet at once), then west's probe
	 * and REGISTER on loopback (no virtual time) */
	assert_in_range(took, 32000 + 5000, 32000 + 5000 + 3 * 20000);
	assert_non_null(strstr(last.target, "via SRV, 1 of 1"));
	sip_reg_free(r);
}

/* AAAA and A for the registrar, nothing answers over IPv6: IPv4 after 4 T1 (2 s),
 * not after Timer F; the status names the family. */
static void test_family_fallback(void **state)
{
	struct sip_reg *r;
	uint64_t took;

	r = start_host("ds.test", R[0].port);
	took = until_registered(60000);
	print_message("# registered over IPv4 after %llu ms; %d REGISTERs went to [::1] unanswered\n",
		      (unsigned long long)took, V6.n);
	assert_int_equal(last.state, SIP_REG_REGISTERED);
	assert_in_range(took, 2000, 2100);
	assert_in_range(V6.n, 2, 4);              /* tried over IPv6 first (T1 retransmissions) */
	assert_int_equal(R[0].n, 1);
	assert_non_null(strstr(last.target, "IPv4 via A/AAAA, 2 of 2"));
	sip_reg_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_priority_10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_family_fallback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
