/* test_sip_digest.c - digest parsing and the RFC 2617 / RFC 7616 vectors. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sip/digest.h"

/* RFC 2617 section 3.5. */
static void test_rfc2617(void **state)
{
	struct sip_challenge ch;
	char resp[65];

	assert_int_equal(sip_digest_parse("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
					  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
					  "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"", &ch), 0);
	assert_string_equal(ch.realm, "testrealm@host.com");
	assert_true(ch.qop_auth);
	assert_true(ch.has_opaque);
	assert_int_equal(ch.alg, SIP_DIGEST_MD5);
	assert_int_equal(sip_digest_compute(&ch, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
					    1, "0a4f113b", resp, sizeof(resp)), 0);
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
}

static const char rfc7616_params[] =
	"realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
	"nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
	"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
static const char rfc7616_cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

/* RFC 7616 section 3.9.1, both algorithms. */
static void test_rfc7616(void **state)
{
	struct sip_challenge md5, sha;
	char buf[512], resp[65];

	snprintf(buf, sizeof(buf), "Digest %s, algorithm=SHA-256", rfc7616_params);
	assert_int_equal(sip_digest_parse(buf, &sha), 0);
	snprintf(buf, sizeof(buf), "Digest %s, algorithm=MD5", rfc7616_params);
	assert_int_equal(sip_digest_parse(buf, &md5), 0);
	assert_int_equal(sha.alg, SIP_DIGEST_SHA256);
	assert_true(sip_digest_better(&sha, &md5));
	assert_false(sip_digest_better(&md5, &sha));

	assert_int_equal(sip_digest_compute(&md5, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
					    1, rfc7616_cnonce, resp, sizeof(resp)), 0);
	assert_string_equal(resp, "8ca523f5e9506fed4657c9700eebdbec");
	assert_int_equal(sip_digest_compute(&sha, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
					    1, rfc7616_cnonce, resp, sizeof(resp)), 0);
	assert_string_equal(resp, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");

	assert_int_equal(sip_digest_authorization(&sha, "Mufasa", "Circle of Life", "GET",
						  "/dir/index.html", 1, rfc7616_cnonce, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""));
	assert_non_null(strstr(buf, "algorithm=SHA-256"));
	assert_non_null(strstr(buf, "qop=auth, nc=00000001"));
	assert_non_null(strstr(buf, "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""));
	/* the password never appears in what goes on the wire */
	assert_null(strstr(buf, "Circle"));
}

/* No qop (RFC 2069 compatibility) and -sess. */
static void test_noqop_and_sess(void **state)
{
	struct sip_challenge ch;
	char resp[65], resp2[65];

	assert_int_equal(sip_digest_parse("Digest realm=\"r\", nonce=\"n\"", &ch), 0);
	assert_false(ch.qop_auth);
	assert_int_equal(sip_digest_compute(&ch, "u", "p", "REGISTER", "sip:r", 1, NULL, resp, sizeof(resp)), 0);
	assert_int_equal(strlen(resp), 32);
	/* MD5-sess without qop cannot be answered */
	assert_int_equal(sip_digest_parse("Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess", &ch), -ENOTSUP);
	assert_int_equal(sip_digest_parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256-sess, qop=\"auth\"", &ch), 0);
	assert_int_equal(sip_digest_compute(&ch, "u", "p", "REGISTER", "sip:r", 1, "c", resp, sizeof(resp)), 0);
	assert_int_equal(strlen(resp), 64);
	/* the nonce count changes the answer */
	assert_int_equal(sip_digest_compute(&ch, "u", "p", "REGISTER", "sip:r", 2, "c", resp2, sizeof(resp2)), 0);
	assert_string_not_equal(resp, resp2);
}

static void test_stale_and_proxy_fields(void **state)
{
	struct sip_challenge ch;

	assert_int_equal(sip_digest_parse("digest   nonce=abc,realm=\"x\",stale=TRUE , algorithm=sha-256", &ch), 0);
	assert_true(ch.stale);
	assert_string_equal(ch.nonce, "abc");
	assert_int_equal(ch.alg, SIP_DIGEST_SHA256);
	assert_int_equal(sip_digest_parse("Digest realm=\"x\", nonce=\"y\", stale=false", &ch), 0);
	assert_false(ch.stale);
}

/* Table of hostile or unsupported challenges: each cleanly refused. */
static void test_rejects(void **state)
{
	static const struct {
		const char *v;
		int err;
	} t[] = {
		{ "Basic realm=\"x\"", -EINVAL },
		{ "Digest", -EINVAL },
		{ "Digest realm=\"x\"", -EINVAL },                  /* no nonce */
		{ "Digest nonce=\"x\"", -EINVAL },                  /* no realm */
		{ "Digest realm=\"x\", nonce=\"unterminated", -EINVAL },
		{ "Digest realm=\"x\", nonce=\"a\"b\"", -EINVAL },
		{ "Digest realm=\"x\", nonce=\"a\", =b", -EINVAL },
		{ "Digest realm=\"x\r\nEvil: 1\", nonce=\"a\"", -EINVAL },
		{ "Digest realm=\"x\", nonce=\"a\\\"b\"", -EINVAL },   /* would need escaping */
		{ "Digest realm=\"x\", nonce=\"a\", algorithm=SHA-512-256", -ENOTSUP },
		{ "Digest realm=\"x\", nonce=\"a\", qop=\"auth-int\"", -ENOTSUP },
		{ "DigestX realm=\"x\", nonce=\"a\"", -EINVAL },
		{ NULL, -EINVAL },
	};
	struct sip_challenge ch;
	char big[2048];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(sip_digest_parse(t[i].v, &ch), t[i].err);
	/* an oversized nonce is refused, never truncated into a wrong answer */
	memset(big, 'a', sizeof(big));
	memcpy(big, "Digest realm=\"x\", nonce=\"", 25);
	big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sip_digest_parse(big, &ch), -EINVAL);
}

static void test_cnonce(void **state)
{
	char a[33], b[33];

	assert_int_equal(sip_digest_cnonce(a, sizeof(a)), 0);
	assert_int_equal(sip_digest_cnonce(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(sip_digest_cnonce(a, 10), -ENOSPC);
}

static void test_user_quoting(void **state)
{
	struct sip_challenge ch;
	char buf[512];

	assert_int_equal(sip_digest_parse("Digest realm=\"r\", nonce=\"n\", qop=auth", &ch), 0);
	assert_int_equal(sip_digest_authorization(&ch, "bad\"user", "p", "REGISTER", "sip:r", 1, "c",
						  buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sip_digest_authorization(&ch, "u", "p", "REGISTER", "sip:r", 1, "c", buf, 20),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2617),
		cmocka_unit_test(test_rfc7616),
		cmocka_unit_test(test_noqop_and_sess),
		cmocka_unit_test(test_stale_and_proxy_fields),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_cnonce),
		cmocka_unit_test(test_user_quoting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
