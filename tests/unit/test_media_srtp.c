/* test_media_srtp.c - SDES parse/build, protect/unprotect, the known-answer check. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "media/rtp.h"
#include "media/srtp.h"

static void test_kat_passes(void **state)
{
	struct msrtp_kat_result r;

	assert_int_equal(msrtp_kat_check(&r), 0);
	assert_int_equal(r.failed, 0);
	/* Debian 12's libsrtp2 (NSS backend) has GCM: all three must run. */
	if (r.gcm_supported)
		assert_int_equal(r.passed, 3);
	else
		assert_int_equal(r.passed + r.skipped, 3);
	assert_true(r.passed >= 2);
}

static void test_kat_fails_on_corrupted_vector(void **state)
{
	struct msrtp_kat_vector v[3];
	struct msrtp_kat_result r;
	const struct msrtp_kat_vector *builtin;
	size_t n, i;

	builtin = msrtp_kat_vectors(&n);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		if (!msrtp_suite_supported(builtin[i].suite))
			continue;
		/* A wrong expected ciphertext byte. */
		memcpy(v, builtin, sizeof(v));
		v[i].cipher[20] ^= 0x80;
		assert_int_equal(msrtp_kat_run(v, n, &r), -EPROTO);
		assert_int_equal(r.failed, 1);
		assert_non_null(strstr(r.detail, builtin[i].name));
		/* A wrong tag byte. */
		memcpy(v, builtin, sizeof(v));
		v[i].cipher[v[i].cipher_len - 1] ^= 0x01;
		assert_int_equal(msrtp_kat_run(v, n, &r), -EPROTO);
		/* A wrong master key bit, and a wrong salt bit. */
		memcpy(v, builtin, sizeof(v));
		v[i].key[0] ^= 0x01;
		assert_int_equal(msrtp_kat_run(v, n, &r), -EPROTO);
		assert_non_null(strstr(r.detail, "differs from the known answer"));
		memcpy(v, builtin, sizeof(v));
		v[i].key[msrtp_suite_key_len(v[i].suite) - 1] ^= 0x01;
		assert_int_equal(msrtp_kat_run(v, n, &r), -EPROTO);
		/* A wrong plaintext. */
		memcpy(v, builtin, sizeof(v));
		v[i].plain[30] ^= 0x04;
		assert_int_equal(msrtp_kat_run(v, n, &r), -EPROTO);
	}
	assert_int_equal(msrtp_kat_run(builtin, 0, &r), -EPROTO);   /* nothing ran */
}

static void test_crypto_build_parse_round_trip(void **state)
{
	enum msrtp_suite s;

	for (s = 0; s < MSRTP_SUITE_MAX; s++) {
		struct msrtp_key k, back;
		char line[MSRTP_CRYPTO_MAX];
		unsigned tag = 0;
		int n;

		assert_int_equal(msrtp_key_generate(s, &k), 0);
		n = msrtp_crypto_build(7, &k, line, sizeof(line));
		assert_true(n > 0 && (size_t)n == strlen(line));
		assert_int_equal(strncmp(line, "a=crypto:7 ", 11), 0);
		assert_non_null(strstr(line, msrtp_suite_name(s)));
		assert_int_equal(msrtp_crypto_parse(line, &tag, &back), 0);
		assert_int_equal(tag, 7);
		assert_int_equal(back.suite, s);
		assert_int_equal(back.len, k.len);
		assert_memory_equal(back.key, k.key, k.len);
		assert_int_equal(msrtp_crypto_build(7, &k, line, 20), -ENOSPC);
	}
}

static void test_crypto_parse_rfc4568_example(void **state)
{
	static const uint8_t want[30] = {
		0x3d, 0x2d, 0x6e, 0x40, 0x25, 0x5e, 0x78, 0x21, 0x42, 0x6a, 0x75, 0x66, 0x72, 0x39, 0x29,
		0x3f, 0x2c, 0x23, 0x35, 0x68, 0x5c, 0x60, 0x3d, 0x26, 0x5d, 0x7b, 0x71, 0x69, 0x50, 0x51 };
	struct msrtp_key k;
	unsigned tag;

	assert_int_equal(msrtp_crypto_parse("a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
		"inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20\r\n", &tag, &k), 0);
	assert_int_equal(tag, 1);
	assert_int_equal(k.suite, MSRTP_AES_CM_128_HMAC_SHA1_80);
	assert_memory_equal(k.key, want, 30);
	assert_int_equal(msrtp_crypto_parse("crypto:2 AES_CM_128_HMAC_SHA1_32 "
		"inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", &tag, &k), 0);
	assert_int_equal(tag, 2);
	assert_int_equal(k.suite, MSRTP_AES_CM_128_HMAC_SHA1_32);
}

static void test_crypto_parse_rejects(void **state)
{
	static const struct {
		const char *line;
		int err;
	} bad[] = {
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4", -ENOTSUP },
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4", -ENOTSUP },
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR;inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", -ENOTSUP },
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=1", -ENOTSUP },
		{ "a=crypto:1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", -ENOTSUP },
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx", -EINVAL },
		{ "a=crypto:1 AEAD_AES_128_GCM inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", -EINVAL },
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkp!ywjNWhcYD0mXXtxaVBR", -EBADMSG },
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^x", -EBADMSG },
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", -EBADMSG },
		{ "a=crypto: AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", -EBADMSG },
		{ "a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", -EBADMSG },
		{ "a=rtpmap:0 PCMU/8000", -EBADMSG },
		{ "a=crypto:1", -EBADMSG },
		{ "", -EBADMSG },
	};
	char huge[2048];
	struct msrtp_key k;
	unsigned tag, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = msrtp_crypto_parse(bad[i].line, &tag, &k);

		if (err != bad[i].err)
			print_error("line %u (%s): got %d want %d\n", i, bad[i].line, err, bad[i].err);
		assert_int_equal(err, bad[i].err);
		assert_non_null(msrtp_strerror(err));
	}
	memset(huge, 'A', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:", 42);
	assert_int_equal(msrtp_crypto_parse(huge, &tag, &k), -EBADMSG);
	assert_int_equal(msrtp_crypto_parse(NULL, &tag, &k), -EINVAL);
}

static size_t make_rtp(uint8_t *buf, size_t cap, uint16_t seq)
{
	struct rtp_hdr h = { .pt = 0, .seq = seq, .ts = 160u * seq, .ssrc = 0x11223344 };
	uint8_t payload[160];
	int n;

	memset(payload, 0xD5, sizeof(payload));
	n = rtp_build(buf, cap, &h, payload, sizeof(payload));
	assert_true(n > 0);
	return (size_t)n;
}

static void test_protect_unprotect(void **state)
{
	enum msrtp_suite s;

	for (s = 0; s < MSRTP_SUITE_MAX; s++) {
		static const size_t tag_len[MSRTP_SUITE_MAX] = { 10, 4, 16 };
		struct msrtp_key k, other;
		struct msrtp *tx, *rx, *wrong;
		uint8_t pkt[300], plain[300], copy[300];
		size_t len, plen, clen;

		if (!msrtp_suite_supported(s))
			continue;
		assert_int_equal(msrtp_key_generate(s, &k), 0);
		assert_int_equal(msrtp_key_generate(s, &other), 0);
		assert_memory_not_equal(k.key, other.key, k.len);
		assert_int_equal(msrtp_new(&k, MSRTP_OUTBOUND, &tx), 0);
		assert_int_equal(msrtp_new(&k, MSRTP_INBOUND, &rx), 0);
		assert_int_equal(msrtp_new(&other, MSRTP_INBOUND, &wrong), 0);
		plen = make_rtp(plain, sizeof(plain), 100);
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(msrtp_protect(tx, pkt, &len, sizeof(pkt)), 0);
		assert_int_equal(len, plen + tag_len[s]);
		assert_memory_equal(pkt, plain, RTP_HDR_LEN);            /* header in clear */
		assert_memory_not_equal(pkt + RTP_HDR_LEN, plain + RTP_HDR_LEN, 160);
		memcpy(copy, pkt, len);
		clen = len;
		/* The wrong key fails authentication. */
		assert_int_equal(msrtp_unprotect(wrong, copy, &clen), -EBADMSG);
		/* The right key restores the packet exactly. */
		assert_int_equal(msrtp_unprotect(rx, pkt, &len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(pkt, plain, plen);
		/* The same packet again is a replay. */
		memcpy(pkt, copy, clen);
		len = clen;
		assert_int_equal(msrtp_unprotect(rx, pkt, &len), -EALREADY);
		/* No room for the tag. */
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(msrtp_protect(tx, pkt, &len, plen + 2), -ENOSPC);
		/* Garbage never crashes. */
		len = 5;
		assert_int_equal(msrtp_unprotect(rx, pkt, &len), -EINVAL);
		msrtp_free(tx);
		msrtp_free(rx);
		msrtp_free(wrong);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_passes),
		cmocka_unit_test(test_kat_fails_on_corrupted_vector),
		cmocka_unit_test(test_crypto_build_parse_round_trip),
		cmocka_unit_test(test_crypto_parse_rfc4568_example),
		cmocka_unit_test(test_crypto_parse_rejects),
		cmocka_unit_test(test_protect_unprotect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
