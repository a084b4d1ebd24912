/* test_diag_parse.c - the self-test's wire parsers: STUN Binding (common/stun.h), SIP probes. (DNS: test_resolv.c) */
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

#include "diag/sipprobe.h"
#include "common/stun.h"

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
		cmocka_unit_test(test_stun),
		cmocka_unit_test(test_sip_probe_and_alg),
		cmocka_unit_test(test_b64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
