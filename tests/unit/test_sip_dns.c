/* test_sip_dns.c - DNS query building, answer parsing (hostile answers too),
 * literals and the hosts file through the loop. */
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
#include <unistd.h>
#include <cmocka.h>

#include "common/ev.h"
#include "sip/dns.h"

static void test_query(void **state)
{
	static const unsigned char want[] = {
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		8, 's', 'i', 'p', '-', 'e', 'a', 's', 't', 9, 'd', 'i', 'a', 'l', 's', 't', 'a', 'c', 'k',
		2, 'a', 'i', 0, 0x00, 0x01, 0x00, 0x01,
	};
	unsigned char buf[300];
	size_t len;

	assert_int_equal(sip_dns_build_query("sip-east.dialstack.ai", 0x1234, 1, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, len);
	assert_int_equal(sip_dns_build_query("sip-east.dialstack.ai.", 0x1234, 1, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_int_equal(sip_dns_build_query("a..b", 1, 1, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(sip_dns_build_query("bad name", 1, 1, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(sip_dns_build_query("", 1, 1, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(sip_dns_build_query("sip-east.dialstack.ai", 1, 1, buf, 20, &len), -ENOSPC);
}

/* An answer: question, a CNAME with a compression pointer, then the A record. */
static size_t make_answer(unsigned char *b, uint16_t id, unsigned rcode, unsigned flags2)
{
	size_t n = 0, qlen;

	sip_dns_build_query("sip.x.ai", id, 1, b, 300, &qlen);
	b[2] = 0x81 | (unsigned char)flags2;
	b[3] = 0x80 | (unsigned char)rcode;
	b[7] = 2;                              /* ANCOUNT */
	n = qlen;
	/* CNAME: name = pointer to the question (offset 12) */
	b[n++] = 0xc0; b[n++] = 12; b[n++] = 0; b[n++] = 5; b[n++] = 0; b[n++] = 1;
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 60; b[n++] = 0; b[n++] = 2;
	b[n++] = 0xc0; b[n++] = 12;
	/* A 192.0.2.7 */
	b[n++] = 0xc0; b[n++] = 12; b[n++] = 0; b[n++] = 1; b[n++] = 0; b[n++] = 1;
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 60; b[n++] = 0; b[n++] = 4;
	b[n++] = 192; b[n++] = 0; b[n++] = 2; b[n++] = 7;
	return n;
}

static void test_answer(void **state)
{
	unsigned char b[512];
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	size_t n, i;

	n = make_answer(b, 0x4242, 0, 0);
	assert_int_equal(sip_dns_parse_answer(b, n, 0x4242, &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000207);
	assert_int_equal(sip_dns_parse_answer(b, n, 0x4243, &ss), -EBADMSG);     /* other id */
	n = make_answer(b, 7, 3, 0);
	assert_int_equal(sip_dns_parse_answer(b, n, 7, &ss), -ENOENT);           /* NXDOMAIN */
	n = make_answer(b, 7, 2, 0);
	assert_int_equal(sip_dns_parse_answer(b, n, 7, &ss), -EBADMSG);          /* SERVFAIL */
	n = make_answer(b, 7, 0, 0x02);
	assert_int_equal(sip_dns_parse_answer(b, n, 7, &ss), -EBADMSG);          /* truncated (TC) */
	/* every truncation of a good answer is refused, never read past the end */
	n = make_answer(b, 9, 0, 0);
	for (i = 0; i < n; i++)
		assert_int_not_equal(sip_dns_parse_answer(b, i, 9, &ss), 0);
	/* a label that runs off the end, and an answer count that lies */
	n = make_answer(b, 9, 0, 0);
	b[12] = 60;
	assert_int_equal(sip_dns_parse_answer(b, n, 9, &ss), -EBADMSG);
	n = make_answer(b, 9, 0, 0);
	b[7] = 200;
	assert_int_equal(sip_dns_parse_answer(b, n, 9, &ss), -EBADMSG);
	/* no A record at all */
	n = make_answer(b, 9, 0, 0);
	b[7] = 1;
	assert_int_equal(sip_dns_parse_answer(b, n - 16, 9, &ss), -ENODATA);
}

static int got_err = 99;
static struct sockaddr_storage got;

static void cb(struct sip_dns *d, int err, const struct sockaddr_storage *addr, void *arg)
{
	got_err = err;
	if (addr)
		got = *addr;
	ev_stop();
}

static int run_lookup(const char *name)
{
	struct sip_dns *d;
	int i, err;

	got_err = 99;
	err = sip_dns_resolve(name, cb, NULL, &d);
	if (err)
		return err;
	assert_int_equal(got_err, 99);    /* never from inside sip_dns_resolve */
	for (i = 0; i < 50 && got_err == 99; i++)
		ev_run_once(100);
	return got_err;
}

static void test_async_local(void **state)
{
	char hosts[] = "/tmp/dsa-test-hostsXXXXXX", resolv[] = "/tmp/dsa-test-resolvXXXXXX";
	struct sockaddr_in *sin = (struct sockaddr_in *)&got;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&got;
	int fd;

	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(1000000);        /* retries and give-up in virtual ms */
	fd = mkstemp(hosts);
	assert_true(fd >= 0);
	assert_true(write(fd, "# test\n10.1.2.3  sip-east.test  east\n::1 v6only.test\n", 52) == 52);
	close(fd);
	fd = mkstemp(resolv);
	assert_true(fd >= 0);
	close(fd);                       /* empty: no name server */
	setenv("DSA_HOSTS", hosts, 1);
	setenv("DSA_RESOLV_CONF", resolv, 1);

	assert_int_equal(run_lookup("192.0.2.9"), 0);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000209);
	assert_int_equal(run_lookup("[2001:db8::1]"), 0);
	assert_int_equal(got.ss_family, AF_INET6);
	assert_int_equal(s6->sin6_addr.s6_addr[0], 0x20);
	assert_int_equal(run_lookup("east"), 0);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x0a010203);
	assert_int_equal(run_lookup("SIP-EAST.test"), 0);
	assert_int_equal(run_lookup("nowhere.test"), -ENXIO);
	assert_non_null(strstr(sip_dns_strerror(-ENXIO), "no DNS server"));
	assert_int_equal(sip_dns_resolve("", cb, NULL, &(struct sip_dns *){ NULL }), -EINVAL);

	/* a cancelled lookup never calls back */
	{
		struct sip_dns *d;

		got_err = 99;
		assert_int_equal(sip_dns_resolve("192.0.2.1", cb, NULL, &d), 0);
		sip_dns_cancel(d);
		ev_run_once(50);
		assert_int_equal(got_err, 99);
	}
	unsetenv("DSA_HOSTS");
	unsetenv("DSA_RESOLV_CONF");
	unlink(hosts);
	unlink(resolv);
	ev_done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_async_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
