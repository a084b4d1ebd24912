/* test_stun.c - the common STUN codec: requests (CHANGE-REQUEST, FINGERPRINT),
 * responses over IPv4 and IPv6 (XOR-MAPPED-ADDRESS, OTHER-ADDRESS,
 * RESPONSE-ORIGIN, RFC 3489 forms, ERROR-CODE), and hostile input. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/stun.h"

static const uint8_t tx[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static struct sockaddr_storage sa(const char *ip, int port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	}
	return ss;
}

static void test_request(void **state)
{
	uint8_t b[STUN_MAX], t[12];
	unsigned flags;
	size_t n;

	n = stun_build_binding(b, tx);
	assert_int_equal(n, 20);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[4], 0x21);
	assert_true(stun_is_stun(b, n));
	assert_int_equal(stun_parse_request(b, n, t, &flags), 0);
	assert_memory_equal(t, tx, 12);
	assert_int_equal(flags, 0);

	n = stun_build_request(b, sizeof(b), tx, STUN_CHANGE_IP | STUN_CHANGE_PORT | STUN_FINGERPRINT);
	assert_int_equal(n, 36);
	assert_int_equal(b[3], 16);
	assert_int_equal(stun_parse_request(b, n, t, &flags), 0);
	assert_int_equal(flags, STUN_CHANGE_IP | STUN_CHANGE_PORT);
	b[22] ^= 1;                                   /* damaged under the FINGERPRINT */
	assert_int_equal(stun_parse_request(b, n, t, &flags), -EBADMSG);
	assert_int_equal(stun_build_request(b, 30, tx, STUN_CHANGE_IP | STUN_FINGERPRINT), 0);
	/* a response is not a request */
	n = stun_build_response(b, sizeof(b), tx, NULL, NULL, NULL, false);
	assert_int_equal(stun_parse_request(b, n, t, &flags), -EBADMSG);
}

static void test_response_v4_v6(void **state)
{
	struct sockaddr_storage m4 = sa("203.0.113.7", 40000), o4 = sa("198.51.100.2", 3479);
	struct sockaddr_storage m6 = sa("2001:db8::7", 40001), r6 = sa("2001:db8::3478", 3478);
	struct stun_binding bd;
	uint8_t b[STUN_MAX], other[12];
	size_t n, i;

	n = stun_build_response(b, sizeof(b), tx, &m4, &o4, &o4, true);
	assert_int_equal(n, 20 + 12 * 3 + 8);
	assert_int_equal(stun_parse_binding(b, n, tx, &bd), 0);
	assert_true(bd.have_mapped && bd.have_other && bd.have_origin && bd.fingerprint);
	assert_int_equal(bd.mapped.sin_family, AF_INET);
	assert_int_equal(ntohl(bd.mapped.sin_addr.s_addr), 0xcb007107);
	assert_int_equal(ntohs(bd.mapped.sin_port), 40000);
	assert_int_equal(ntohs(bd.other.sin_port), 3479);
	assert_int_equal(bd.error_code, 0);

	n = stun_build_response(b, sizeof(b), tx, &m6, NULL, &r6, false);
	assert_int_equal(stun_parse_binding(b, n, tx, &bd), 0);
	assert_int_equal(bd.mapped_ss.ss_family, AF_INET6);
	assert_memory_equal(&bd.mapped6.sin6_addr, &((struct sockaddr_in6 *)&m6)->sin6_addr, 16);
	assert_int_equal(ntohs(bd.mapped6.sin6_port), 40001);
	assert_true(bd.have_origin && !bd.have_other && !bd.fingerprint);
	assert_int_equal(bd.origin_ss.ss_family, AF_INET6);

	/* another transaction, not STUN, not a response */
	memcpy(other, tx, 12);
	other[11] ^= 0xff;
	assert_int_equal(stun_parse_binding(b, n, other, &bd), -ESRCH);
	assert_int_equal(stun_parse_binding((const uint8_t *)"REGISTER sip:x SIP/2.0\r\n", 24, tx, &bd), -EAGAIN);
	n = stun_build_binding(b, tx);
	assert_int_equal(stun_parse_binding(b, n, tx, &bd), -ESRCH);

	/* every truncation, and every flipped byte under the FINGERPRINT, is refused */
	n = stun_build_response(b, sizeof(b), tx, &m6, &o4, &r6, true);
	for (i = 0; i < n; i++)
		assert_int_not_equal(stun_parse_binding(b, i, tx, &bd), 0);
	for (i = 20; i < n - 8; i++) {
		uint8_t c[STUN_MAX];

		memcpy(c, b, n);
		c[i] ^= 0x40;
		assert_int_not_equal(stun_parse_binding(c, n, tx, &bd), 0);
	}
	/* an attribute length that runs past the end */
	n = stun_build_response(b, sizeof(b), tx, &m4, NULL, NULL, false);
	b[23] = 200;
	assert_int_equal(stun_parse_binding(b, n, tx, &bd), -EBADMSG);
	/* short buffer for the builder */
	assert_int_equal(stun_build_response(b, 30, tx, &m6, NULL, NULL, false), 0);
}

static void test_legacy_and_error(void **state)
{
	/* RFC 3489 server: MAPPED-ADDRESS, CHANGED-ADDRESS, SOURCE-ADDRESS, unknown attr */
	static const uint8_t m[] = {
		0x01, 0x01, 0x00, 0x2c, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x9c, 0x40, 192, 0, 2, 1,
		0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x97, 192, 0, 2, 2,
		0x00, 0x04, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x96, 192, 0, 2, 3,
		0x80, 0x22, 0x00, 0x03, 'a', 'b', 'c', 0x00,
	};
	static const uint8_t e[] = {
		0x01, 0x11, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		0x00, 0x09, 0x00, 0x08, 0x00, 0x00, 0x04, 20, 'U', 'n', 'k', 'n',
	};
	struct stun_binding bd;

	assert_int_equal(stun_parse_binding(m, sizeof(m), tx, &bd), 0);
	assert_true(bd.have_mapped && bd.have_other && bd.have_origin);
	assert_int_equal(ntohs(bd.mapped.sin_port), 40000);
	assert_int_equal(ntohl(bd.other.sin_addr.s_addr), 0xc0000202);
	assert_int_equal(ntohs(bd.origin.sin_port), 3478);
	assert_int_equal(stun_parse_binding(e, sizeof(e), tx, &bd), 0);
	assert_int_equal(bd.error_code, 420);
	assert_false(bd.have_mapped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_response_v4_v6),
		cmocka_unit_test(test_legacy_and_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
