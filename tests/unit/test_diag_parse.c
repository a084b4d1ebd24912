/* test_diag_parse.c - the self-test's wire parsers: DNS answers, STUN Binding, SIP probes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "diag/dnsmsg.h"
#include "diag/sipprobe.h"
#include "common/stun.h"

/* An answer to "prov.dialstack.ai" A: a CNAME to edge.dialstack.ai, then two A records
 * for the target, names compressed. */
static size_t make_answer(uint8_t *m, uint16_t id, uint8_t rcode)
{
	size_t n;
	int q = dnsmsg_build_query(m, 512, id, "prov.dialstack.ai", DNSMSG_TYPE_A);
	static const uint8_t rr[] = {
		/* prov.dialstack.ai (ptr to 12) CNAME IN ttl 60 len 7: "edge" + ptr to "dialstack.ai" (17) */
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 7, 4, 'e', 'd', 'g', 'e', 0xc0, 17,
		/* edge... (ptr to 47) A IN ttl 60 len 4 203.0.113.10 */
		0xc0, 47, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 10,
		0xc0, 47, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 11,
	};

	assert_true(q > 0);
	n = (size_t)q;
	m[2] = 0x81;
	m[3] = (uint8_t)(0x80 | rcode);
	m[7] = 3; /* ANCOUNT */
	memcpy(m + n, rr, sizeof(rr));
	return n + sizeof(rr);
}

static void test_dns_query(void **state)
{
	uint8_t b[512];
	int n = dnsmsg_build_query(b, sizeof(b), 0x1234, "sip-east.dialstack.ai", DNSMSG_TYPE_A);

	assert_int_equal(n, 12 + 23 + 4);
	assert_int_equal(b[0], 0x12);
	assert_int_equal(b[12], 8);
	assert_memory_equal(b + 13, "sip-east", 8);
	assert_int_equal(dnsmsg_build_query(b, sizeof(b), 1, "", 1), -EINVAL);
	assert_int_equal(dnsmsg_build_query(b, sizeof(b), 1, "a..b", 1), -EINVAL);
	assert_int_equal(dnsmsg_build_query(b, 20, 1, "sip-east.dialstack.ai", 1), -ENOSPC);
	assert_true(dnsmsg_build_query(b, sizeof(b), 1, "host.", 1) > 0);
}

static void test_dns_answer(void **state)
{
	uint8_t m[512];
	struct in_addr a[4];
	size_t n, len = make_answer(m, 0xbeef, 0);
	int rcode;

	assert_int_equal(dnsmsg_parse_a(m, len, 0xbeef, "prov.dialstack.ai", a, 4, &n, &rcode), 0);
	assert_int_equal(rcode, 0);
	assert_int_equal(n, 2);
	assert_string_equal(inet_ntoa(a[0]), "203.0.113.10");
	assert_string_equal(inet_ntoa(a[1]), "203.0.113.11");
	/* case-insensitive question match, capped output */
	assert_int_equal(dnsmsg_parse_a(m, len, 0xbeef, "PROV.dialstack.AI.", a, 1, &n, &rcode), 0);
	assert_int_equal(n, 1);
	/* not ours */
	assert_int_equal(dnsmsg_parse_a(m, len, 0xbeee, "prov.dialstack.ai", a, 4, &n, &rcode), -ESRCH);
	assert_int_equal(dnsmsg_parse_a(m, len, 0xbeef, "sip-east.dialstack.ai", a, 4, &n, &rcode), -ESRCH);
	/* every truncation is refused, never read past the end */
	for (size_t cut = 0; cut < len; cut++) {
		int err = dnsmsg_parse_a(m, cut, 0xbeef, "prov.dialstack.ai", a, 4, &n, &rcode);

		assert_true(err == -EBADMSG || err == -ESRCH);
	}
	/* NXDOMAIN: no answers, rcode reported */
	len = make_answer(m, 7, 3);
	m[7] = 0;
	assert_int_equal(dnsmsg_parse_a(m, len, 7, "prov.dialstack.ai", a, 4, &n, &rcode), 0);
	assert_int_equal(rcode, 3);
	assert_int_equal(n, 0);
	assert_string_equal(dnsmsg_rcode_name(rcode), "NXDOMAIN");
	/* a compression pointer pointing at itself */
	len = make_answer(m, 8, 0);
	m[35] = 0xc0;
	m[36] = 35;
	assert_int_equal(dnsmsg_parse_a(m, len, 8, "prov.dialstack.ai", a, 4, &n, &rcode), -EBADMSG);
}

static void test_stun(void **state)
{
	uint8_t tx[12], m[128];
	struct stun_binding b;
	size_t n;
	char ip[INET_ADDRSTRLEN];

	for (int i = 0; i < 12; i++)
		tx[i] = (uint8_t)(i * 7);
	n = stun_build_binding(m, tx);
	assert_int_equal(n, 20);
	assert_int_equal(m[1], 1);
	/* response: XOR-MAPPED-ADDRESS 203.0.113.2:40000, OTHER-ADDRESS 203.0.113.41:3479 */
	m[0] = 0x01;
	m[1] = 0x01;
	m[3] = 24;
	{
		uint16_t xp = 40000 ^ 0x2112;
		uint32_t xa = 0xCB007102u ^ 0x2112A442u;
		uint8_t attrs[] = {
			0x00, 0x20, 0, 8, 0, 1, (uint8_t)(xp >> 8), (uint8_t)xp,
			(uint8_t)(xa >> 24), (uint8_t)(xa >> 16), (uint8_t)(xa >> 8), (uint8_t)xa,
			0x80, 0x2c, 0, 8, 0, 1, 0x0d, 0x97, 203, 0, 113, 41,
		};
		memcpy(m + 20, attrs, sizeof(attrs));
	}
	assert_int_equal(stun_parse_binding(m, 44, tx, &b), 0);
	assert_true(b.have_mapped);
	assert_int_equal(ntohs(b.mapped.sin_port), 40000);
	inet_ntop(AF_INET, &b.mapped.sin_addr, ip, sizeof(ip));
	assert_string_equal(ip, "203.0.113.2");
	assert_true(b.have_other);
	assert_int_equal(ntohs(b.other.sin_port), 3479);
	/* wrong transaction, truncated, attribute overrunning the message */
	tx[0] ^= 1;
	assert_int_equal(stun_parse_binding(m, 44, tx, &b), -ESRCH);
	tx[0] ^= 1;
	assert_int_equal(stun_parse_binding(m, 40, tx, &b), -EBADMSG);
	m[23] = 200;
	assert_int_equal(stun_parse_binding(m, 44, tx, &b), -EBADMSG);
}

static void test_sip_probe_and_alg(void **state)
{
	struct sipprobe p = { "UDP", "192.168.50.100", 40000, "sip-east.dialstack.ai", 5060,
			      "abc123", "t1", true };
	char sent[2048], rx[2048], fields[128], *c;
	int n = sipprobe_options(sent, sizeof(sent), &p), r;

	assert_true(n > 0);
	assert_non_null(strstr(sent, "Via: SIP/2.0/UDP 192.168.50.100:40000;branch=z9hG4bKabc123"));
	assert_non_null(strstr(sent, "X-Dialstack-Echo: 1\r\n"));
	assert_non_null(strstr(sent, "c=IN IP4 192.168.50.100\r\n"));
	assert_int_equal(sipprobe_options(rx, 100, &p), -ENOSPC);
	/* untouched */
	assert_int_equal(sipprobe_compare(sent, (size_t)n, sent, (size_t)n, fields, sizeof(fields)), 0);
	assert_string_equal(fields, "");
	/* an ALG rewrote Via, Contact, o= and c= to the public address (the port kept) */
	memcpy(rx, sent, (size_t)n + 1);
	while ((c = strstr(rx, "192.168.50.100")))
		memcpy(c, "203.000.113.2_", 14);
	r = sipprobe_compare(sent, (size_t)n, rx, strlen(rx), fields, sizeof(fields));
	assert_int_equal(r, 4);
	assert_string_equal(fields, "Via,Contact,SDP o=,SDP c=");
	/* only the Contact */
	memcpy(rx, sent, (size_t)n + 1);
	c = strstr(rx, "Contact: <sip:selftest@");
	c[23] = '9';
	r = sipprobe_compare(sent, (size_t)n, rx, strlen(rx), fields, sizeof(fields));
	assert_int_equal(r, 1);
	assert_string_equal(fields, "Contact");
	/* not our request */
	assert_int_equal(sipprobe_compare(sent, (size_t)n, "garbage", 7, fields, sizeof(fields)), -EBADMSG);

	/* responses */
	assert_int_equal(sipprobe_response_status("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKabc123\r\n\r\n",
						  60, "abc123"), 200);
	assert_int_equal(sipprobe_response_status("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKzzz\r\n\r\n",
						  56, "abc123"), -1);
	assert_int_equal(sipprobe_response_status("HTTP/1.1 200 OK\r\n", 17, "abc123"), -1);
}

static void test_b64(void **state)
{
	char out[16];

	assert_int_equal(sipprobe_b64decode("U0lQLzIu\r\nMA==", 14, out, sizeof(out)), 7);
	assert_memory_equal(out, "SIP/2.0", 7);
	assert_int_equal(sipprobe_b64decode("U0l*", 4, out, sizeof(out)), -EBADMSG);
	assert_int_equal(sipprobe_b64decode("U0lQLzIuMA==", 12, out, 3), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_query),
		cmocka_unit_test(test_dns_answer),
		cmocka_unit_test(test_stun),
		cmocka_unit_test(test_sip_probe_and_alg),
		cmocka_unit_test(test_b64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
