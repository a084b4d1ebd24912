/* test_sip_bounds.c - what the agent believes of a server: every number that
 * can drive a timer, parsed and clamped per header and per edge (0, negative,
 * 2^31, 2^64, RFC 4475 scalarlg's 1e27, garbage); RFC 3261 19.1.4 URI
 * comparison (table, both directions); our Contact in a 2xx (look-alikes,
 * other bindings, instance / reg-id); Require option tags. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sip/msg.h"

#define HDRS "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKabc\r\n" \
	"From: <sip:100@example.org>;tag=ft\r\nTo: <sip:100@example.org>;tag=tt\r\n" \
	"Call-ID: cid1@10.0.0.2\r\nCSeq: 7 REGISTER\r\n"

/* The raw values every header is tried with, and what sip_num_parse makes of them. */
static const struct {
	const char *raw;
	long long parsed;          /* -1: refused as garbage; -2: saturated (huge) */
} edges[] = {
	{ "0", 0 },
	{ "1", 1 },
	{ "59", 59 },
	{ "600", 600 },
	{ "3600", 3600 },
	{ "86400", 86400 },
	{ "86401", 86401 },
	{ "2147483647", 2147483647LL },
	{ "2147483648", 2147483648LL },                        /* 2^31 */
	{ "4294967296", 4294967296LL },                        /* 2^32 */
	{ "18446744073709551616", -2 },                        /* 2^64 */
	{ "949000000000000000000000000", -2 },                 /* RFC 4475 scalarlg, 1e27 */
	{ "-1", -1 },
	{ "-600", -1 },
	{ "1e27", -1 },
	{ "0x10", -1 },
	{ "abc", -1 },
	{ "", -1 },
	{ "120 (maintenance)", 120 },
	{ "120;duration=60", 120 },
	{ "  42", 42 },
	{ "12abc", -1 },
};

/* The expected clamp of a parsed value for each header (the table in docs/sip.md). */
static int want_clamp(enum sip_num k, long long v)
{
	static const int lo[] = { 1, 1, 60, 10 }, hi[] = { 3600, 86400, 86400, 3600 };

	if (v == -1)
		return -1;
	if (v == -2 || v > hi[k])
		return hi[k];
	if (v == 0 && k == SIP_NUM_EXPIRES)
		return 0;
	return v < lo[k] ? lo[k] : (int)v;
}

static void test_num_parse(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		long long v = sip_num_parse(edges[i].raw);

		if (edges[i].parsed == -2) {
			if (v < 1000000000000LL)
				fail_msg("'%s' parsed as %lld, want saturated", edges[i].raw, v);
		} else if (v != edges[i].parsed) {
			fail_msg("'%s' parsed as %lld, want %lld", edges[i].raw, v, edges[i].parsed);
		}
	}
	assert_int_equal(sip_num_parse(NULL), -1);
}

/* Every header x every edge, through the real parser: the value in struct
 * sip_msg is the clamped one, so no timer can see anything else. */
static void test_headers_clamped(void **state)
{
	static const struct {
		enum sip_num kind;
		const char *header;
		size_t off;
	} hdr[] = {
		{ SIP_NUM_RETRY_AFTER, "Retry-After", offsetof(struct sip_msg, retry_after) },
		{ SIP_NUM_MIN_EXPIRES, "Min-Expires", offsetof(struct sip_msg, min_expires) },
		{ SIP_NUM_EXPIRES, "Expires", offsetof(struct sip_msg, expires) },
		{ SIP_NUM_FLOW_TIMER, "Flow-Timer", offsetof(struct sip_msg, flow_timer) },
	};
	size_t h, i;
	int rows = 0;

	for (h = 0; h < sizeof(hdr) / sizeof(hdr[0]); h++) {
		int lo = 0, hi = 0; /* set by sip_num_name; LTO at -Os cannot see it */
		const char *name = sip_num_name(hdr[h].kind, &lo, &hi);

		assert_string_equal(name, hdr[h].header);
		for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
			char buf[1024];
			struct sip_msg m;
			const char *why;
			int got, want = want_clamp(hdr[h].kind, edges[i].parsed);

			snprintf(buf, sizeof(buf), "SIP/2.0 503 X\r\n" HDRS "%s: %s\r\nContent-Length: 0\r\n\r\n",
				 hdr[h].header, edges[i].raw);
			if (sip_msg_parse(buf, strlen(buf), false, &m, &why) != 0) {
				/* an empty header value may be refused by the parser: fine, no number */
				assert_string_equal(edges[i].raw, "");
				continue;
			}
			memcpy(&got, (char *)&m + hdr[h].off, sizeof(got));
			if (got != want)
				fail_msg("%s: %s -> %d, want %d", hdr[h].header, edges[i].raw, got, want);
			if (got >= 0 && !(got == 0 && hdr[h].kind == SIP_NUM_EXPIRES))
				assert_true(got >= lo && got <= hi);
			sip_msg_free(&m);
			rows++;
		}
	}
	print_message("# %d header x edge rows\n", rows);
	assert_int_equal(sip_num_clamp(SIP_NUM_COUNT, 5), -1);
	assert_null(sip_num_name(SIP_NUM_COUNT, NULL, NULL));
}

/* The contact expires parameter goes through the same table. */
static void test_contact_param_clamped(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		char buf[1024];
		struct sip_msg m;
		const char *why;
		int e, want = want_clamp(SIP_NUM_EXPIRES, edges[i].parsed);

		if (strpbrk(edges[i].raw, " ();") || !*edges[i].raw)
			continue;           /* not a token: not a valid parameter value */
		snprintf(buf, sizeof(buf), "SIP/2.0 200 OK\r\n" HDRS
			 "Contact: <sip:100@10.0.0.2:5060;ob>;expires=%s\r\nContent-Length: 0\r\n\r\n",
			 edges[i].raw);
		assert_int_equal(sip_msg_parse(buf, strlen(buf), false, &m, &why), 0);
		assert_true(sip_msg_our_contact(&m, "sip:100@10.0.0.2:5060;ob", "x", 1, &e));
		if (e != want)
			fail_msg("contact expires=%s -> %d, want %d", edges[i].raw, e, want);
		sip_msg_free(&m);
	}
}

/* RFC 3261 19.1.4, its own examples first, then the rules one by one. */
static void test_uri_equal(void **state)
{
	static const struct {
		const char *a, *b;
		bool equal;
	} t[] = {
		/* RFC 3261 19.1.4: equivalent */
		{ "sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true },
		{ "sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true },
		{ "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		  "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true },
		{ "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		  "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true },
		/* RFC 3261 19.1.4: not equivalent */
		{ "SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false },
		{ "sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false },
		/* ours against look-alikes (issue 11) */
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@pbx127.0.0.1:5070;ob", false },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@127.0.0.1:50700;ob", false },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:10011@127.0.0.1:5070;ob", false },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@127.0.0.10:5070;ob", false },
		{ "sip:1001@127.0.0.1:5070;ob", "<sip:1001@127.0.0.1:5070;ob>", true },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@127.0.0.1:5070", true },       /* ob one-sided: ignored */
		{ "sip:1001@127.0.0.1:5070;ob", "sips:1001@127.0.0.1:5070;ob", false },
		{ "sip:1001@127.0.0.1:5070;transport=tcp;ob", "sip:1001@127.0.0.1:5070;ob", false },
		{ "sip:1001@127.0.0.1:5070;transport=tcp;ob", "sip:1001@127.0.0.1:5070;transport=TCP", true },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@127.0.0.1:5070;ob;maddr=10.0.0.1", false },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@127.0.0.1:5070;ob;ttl=1", false },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@127.0.0.1:5070;ob;user=phone", false },
		{ "sip:1001@127.0.0.1:5070;ob", "sip:1001@127.0.0.1:5070;ob;method=INVITE", false },
		{ "sip:1001@127.0.0.1:5070;lr=1", "sip:1001@127.0.0.1:5070;lr=2", false },
		{ "sip:Alice@h", "sip:alice@h", false },                                     /* user is case-sensitive */
		{ "sip:alice:pw@h", "sip:alice@h", false },
		{ "sip:[2001:DB8::1]:5060", "sip:[2001:db8::1]:5060", true },
		{ "sip:u@h:0x50", "sip:u@h:80", false },
		/* broken: never equal, not even to themselves */
		{ "", "", false },
		{ "tel:+15551234", "tel:+15551234", false },
		{ "sip:u@h:99999", "sip:u@h:99999", false },
		{ "sip:u@h;a=%zz", "sip:u@h;a=%zz", false },
		{ "sip:u@h%", "sip:u@h%", false },
		{ "<sip:u@h", "<sip:u@h", false },
		{ "sip:u@[::1", "sip:u@[::1", false },
		{ "sip:", "sip:", false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (sip_uri_equal(t[i].a, t[i].b) != t[i].equal)
			fail_msg("row %zu: '%s' vs '%s' should be %s", i, t[i].a, t[i].b,
				 t[i].equal ? "equal" : "different");
		if (sip_uri_equal(t[i].b, t[i].a) != t[i].equal)
			fail_msg("row %zu reversed: '%s' vs '%s'", i, t[i].b, t[i].a);
	}
	assert_false(sip_uri_equal(NULL, "sip:a@b"));
}

/* A 2xx to REGISTER: is our binding in it, and for how long. */
static void test_our_contact(void **state)
{
	static const char *ours = "sip:1001@127.0.0.1:5070;ob";
	static const struct {
		const char *contacts;
		bool mine;
		int expires;
	} t[] = {
		{ "", false, -1 },
		{ "Contact: <sip:1001@pbx127.0.0.1:5070;ob>;expires=600\r\n", false, -1 },
		{ "Contact: <sip:1001@10.0.0.9:5070>;expires=600\r\nContact: <sip:1001@10.0.0.8:5070>\r\n", false, -1 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;expires=300\r\n", true, 300 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>\r\n", true, 900 },                  /* Expires header */
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;expires=0\r\n", true, 0 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;expires=2147483648\r\n", true, 86400 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;expires=garbage\r\n", true, 900 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;expires=5\r\n", true, 60 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;+sip.instance=\"<urn:uuid:OTHER>\";expires=30\r\n", false, -1 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;+sip.instance=\"<urn:uuid:ABC-1>\";reg-id=1;expires=120\r\n", true, 120 },
		{ "Contact: <sip:1001@127.0.0.1:5070;ob>;+sip.instance=\"<urn:uuid:abc-1>\";reg-id=2;expires=120\r\n", false, -1 },
		{ "Contact: <sip:9@9.9.9.9>;expires=1, <sip:1001@127.0.0.1:5070;ob>;expires=700\r\n", true, 700 },
		{ "Contact: *\r\n", false, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[2048];
		struct sip_msg m;
		const char *why;
		int e = -5;
		bool mine;

		snprintf(buf, sizeof(buf), "SIP/2.0 200 OK\r\n" HDRS "%sExpires: 900\r\nContent-Length: 0\r\n\r\n",
			 t[i].contacts);
		if (sip_msg_parse(buf, strlen(buf), false, &m, &why) != 0) {
			assert_false(t[i].mine);
			continue;
		}
		mine = sip_msg_our_contact(&m, ours, "abc-1", 1, &e);
		if (mine != t[i].mine || (mine && e != t[i].expires))
			fail_msg("row %zu: mine %d expires %d, want %d %d", i, mine, e, t[i].mine, t[i].expires);
		sip_msg_free(&m);
	}
}

/* The Contact URI the REGISTER carries is the one we look for. */
static void test_contact_uri(void **state)
{
	struct sip_register_req r = {
		.transport = "TLS", .registrar = "example.org", .user = "100", .domain = "example.org",
		.local_host = "fd00::2", .local_port = 5061, .branch = "b1", .from_tag = "ft",
		.call_id = "cid1", .cseq = 3, .instance = "i", .reg_id = 1, .expires = 600,
	};
	char uri[128], buf[2048];
	size_t len;

	assert_int_equal(sip_msg_contact_uri(&r, uri, sizeof(uri)), 0);
	assert_string_equal(uri, "sip:100@[fd00::2]:5061;transport=tls;ob");
	assert_int_equal(sip_msg_build_register(&r, buf, sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "Contact: <sip:100@[fd00::2]:5061;transport=tls;ob>;"));
	assert_int_equal(sip_msg_contact_uri(&r, uri, 10), -ENOSPC);
}

static void test_unsupported(void **state)
{
	static const char *const sup[] = { "path", "outbound", NULL };
	static const struct {
		const char *hdrs;
		int n;
		const char *list;
	} t[] = {
		{ "", 0, "" },
		{ "Require: outbound\r\n", 0, "" },
		{ "Require: nothingSupported\r\n", 1, "nothingSupported" },
		{ "Require: path, 100rel,timer\r\n", 2, "100rel, timer" },
		{ "Require: OUTBOUND\r\nRequire: foo\r\n", 1, "foo" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[1024], out[64];
		struct sip_msg m;
		const char *why;

		snprintf(buf, sizeof(buf), "OPTIONS sip:100@10.0.0.2 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKo\r\nFrom: <sip:r@x>;tag=a\r\n"
			 "To: <sip:100@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n",
			 t[i].hdrs);
		assert_int_equal(sip_msg_parse(buf, strlen(buf), false, &m, &why), 0);
		assert_int_equal(sip_msg_unsupported(&m, sup, out, sizeof(out)), t[i].n);
		assert_string_equal(out, t[i].list);
		sip_msg_free(&m);
	}
}

/* Random URI-shaped strings (20,000, fixed seed): never a crash or an
 * out-of-bounds read (run under ASan/valgrind), equality stays symmetric and
 * a parsable URI equals itself. */
static void test_uri_mutations(void **state)
{
	static const char alpha[] = "sip:s@[]:;=?&%<>0123456789aAfF.-_ \t\"";
	static const char *bases[] = { "sip:1001@127.0.0.1:5070;transport=tcp;ob", "<sips:a%41@[::1]:5061;maddr=x?h=v>",
				       "sip:host;lr;ttl=1?x=%20" };
	char a[96], b[96];
	int i, k;

	srand(4475);
	for (i = 0; i < 20000; i++) {
		const char *base = bases[i % 3];
		size_t n = strlen(base);

		memcpy(a, base, n + 1);
		for (k = 0; k < 1 + rand() % 4; k++) {
			size_t at = (size_t)rand() % n;

			if (rand() % 5 == 0)
				a[at] = '\0';           /* truncation */
			else
				a[at] = alpha[rand() % (sizeof(alpha) - 1)];
		}
		memcpy(b, base, n + 1);
		b[(size_t)rand() % n] = alpha[rand() % (sizeof(alpha) - 1)];
		assert_true(sip_uri_equal(a, b) == sip_uri_equal(b, a));
		(void)sip_num_parse(a);
	}
	assert_true(sip_uri_equal(bases[0], bases[0]));
	assert_true(sip_uri_equal(bases[1], bases[1]));
	assert_true(sip_uri_equal(bases[2], bases[2]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_num_parse),
		cmocka_unit_test(test_headers_clamped),
		cmocka_unit_test(test_contact_param_clamped),
		cmocka_unit_test(test_uri_equal),
		cmocka_unit_test(test_our_contact),
		cmocka_unit_test(test_contact_uri),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_uri_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
