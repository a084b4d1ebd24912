/* test_prov_config.c - the configuration parser, validator, merge and diff. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "provisioning/cfg.h"
#include "common/util.h"

static struct cfg_config cfg;
static struct cfg_errors errs;

static int parse(const char *xml)
{
	memset(&errs, 0, sizeof(errs));
	return cfg_parse_mem(xml, strlen(xml), "t.xml", &cfg, &errs);
}

/* Whether some message contains all the given fragments. */
static int has_msg(const char *a, const char *b, const char *c)
{
	for (unsigned i = 0; i < errs.n; i++)
		if (strstr(errs.msg[i], a) && (!b || strstr(errs.msg[i], b)) && (!c || strstr(errs.msg[i], c)))
			return 1;
	return 0;
}

static void dump(void)
{
	for (unsigned i = 0; i < errs.n; i++)
		print_message("# %s\n", errs.msg[i]);
}

static char *read_lab(const char *file)
{
	const char *top = getenv("top_srcdir");
	char path[512];
	char *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/tests/lab/prov/%s", top ? top : "../..", file);
	assert_int_equal(utl_read_file(path, CFG_MAX_SIZE, &buf, &len), 0);
	return buf;
}

#define HEAD "<?xml version=\"1.0\"?>\n<dialstack version=\"1\">\n"

static void test_defaults(void **state)
{
	assert_int_equal(parse(HEAD "</dialstack>"), 0);
	assert_int_equal(cfg.keepalive_s, 20);
	assert_int_equal(cfg.dscp_audio, 46);
	assert_int_equal(cfg.dscp_signalling, 26);
	assert_int_equal(cfg.rtp_min, 10000);
	assert_int_equal(cfg.rtp_max, 20000);
	assert_int_equal(cfg.expires_s, 3600);
	assert_int_equal(cfg.vlan_id, 0);
	assert_int_equal(cfg.n_codecs, 2);
	assert_int_equal(cfg.codecs[0], CFG_CODEC_PCMU);
	assert_int_equal(cfg.codecs[1], CFG_CODEC_PCMA);
	assert_int_equal(cfg.selftest_duration_s, 10);
	assert_int_equal(cfg.selftest_checks, CFG_CHECK_ALL);
	assert_true(cfg.jitter_good_ms == 20 && cfg.jitter_acceptable_ms == 30);
	assert_true(cfg.loss_good_pct == 0.5 && cfg.loss_acceptable_pct == 1);
	assert_true(cfg.rtt_good_ms == 100 && cfg.rtt_acceptable_ms == 150 && cfg.rtt_problematic_ms == 200);
	assert_true(cfg.mos_good == 4.0);
	assert_int_equal(cfg.set_mask, 0);
	/* not usable alone: no account, no registrar */
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(cfg_complete(&cfg, &errs), -EINVAL);
	assert_true(has_msg("no SIP account", NULL, NULL));
	assert_true(has_msg("no registrar", NULL, NULL));
}

static void test_lab_files_merge(void **state)
{
	struct cfg_config common, mac, merged;
	char *a = read_lab("dialstack.xml"), *b = read_lab("dialstack-02005e100001.xml");

	memset(&errs, 0, sizeof(errs));
	assert_int_equal(cfg_parse_mem(a, strlen(a), "dialstack.xml", &common, &errs), 0);
	assert_int_equal(cfg_parse_mem(b, strlen(b), "dialstack-02005e100001.xml", &mac, &errs), 0);
	dump();
	cfg_merge(&merged, &common, &mac);
	assert_int_equal(cfg_complete(&merged, &errs), 0);
	assert_string_equal(merged.user, "1001");
	assert_string_equal(merged.auth_user, "1001");
	assert_string_equal(merged.password, "lab-secret-1001");
	assert_string_equal(merged.domain, "dialstack.ai");
	assert_int_equal(merged.n_registrars, 2);
	assert_string_equal(merged.registrars[0].name, "east");
	assert_string_equal(merged.registrars[0].host, "sip-east.dialstack.ai");
	assert_int_equal(merged.registrars[0].port, 5060);
	assert_int_equal(merged.registrars[0].transport, CFG_TP_UDP);
	assert_int_equal(merged.registrars[0].priority, 1);
	assert_string_equal(merged.registrars[1].name, "west");
	assert_int_equal(merged.registrars[1].priority, 2);
	assert_int_equal(merged.boot_delay_s, 5);           /* from the common file */
	assert_int_equal(merged.selftest_checks & CFG_CHECK_LINK, 0);
	assert_int_not_equal(merged.selftest_checks & CFG_CHECK_ALG, 0);
	free(a);
	free(b);
}

static void test_override(void **state)
{
	struct cfg_config common, mac, merged;

	assert_int_equal(parse(HEAD
		"<network keepalive=\"30\"><dscp audio=\"40\"/><vlan id=\"100\" priority=\"6\"/></network>\n"
		"<registrars><registrar name=\"east\" host=\"a.example\"/>"
		"<registrar name=\"west\" host=\"b.example\" priority=\"2\"/></registrars>\n"
		"<codecs><codec name=\"PCMA\"/><codec name=\"PCMU\"/></codecs>\n"
		"</dialstack>"), 0);
	common = cfg;
	assert_int_equal(parse(HEAD
		"<network><dscp signalling=\"24\"/><vlan id=\"none\"/></network>\n"
		"<registrars><registrar name=\"east\" host=\"c.example\" transport=\"tls\" priority=\"3\"/></registrars>\n"
		"<codecs><codec name=\"PCMU\"/></codecs>\n"
		"</dialstack>"), 0);
	mac = cfg;
	cfg_merge(&merged, &common, &mac);
	assert_int_equal(merged.keepalive_s, 30);       /* common only */
	assert_int_equal(merged.dscp_audio, 40);        /* common only */
	assert_int_equal(merged.dscp_signalling, 24);   /* per-MAC */
	assert_int_equal(merged.vlan_id, 0);            /* per-MAC "none" beats common 100 */
	assert_int_equal(merged.vlan_priority, 6);
	assert_int_equal(merged.n_codecs, 1);
	assert_int_equal(merged.codecs[0], CFG_CODEC_PCMU);
	assert_int_equal(merged.n_registrars, 2);
	/* east replaced (tls, 5061, priority 3) and now sorted after west */
	assert_string_equal(merged.registrars[0].name, "west");
	assert_string_equal(merged.registrars[1].name, "east");
	assert_string_equal(merged.registrars[1].host, "c.example");
	assert_int_equal(merged.registrars[1].port, 0);   /* none given: RFC 3263 (NAPTR/SRV) for the name */
	assert_int_equal(merged.registrars[1].transport, CFG_TP_TLS);
}

static void test_malformed(void **state)
{
	assert_int_equal(parse(HEAD "<network keepalive=\"20\">\n<dscp audio=\"46\">\n</network>\n</dialstack>"), -EINVAL);
	dump();
	assert_true(errs.n >= 1);
	assert_true(has_msg("t.xml:5:", "malformed XML", NULL));
	assert_int_equal(parse("not xml at all"), -EINVAL);
	assert_true(has_msg("t.xml:1:", "malformed XML", NULL));
	assert_int_equal(parse(""), -EINVAL);
	assert_true(has_msg("empty", NULL, NULL));
	assert_int_equal(cfg_parse_mem("<a\0b>", 5, "t.xml", &cfg, &errs), -EINVAL);
}

static void test_schema(void **state)
{
	assert_int_equal(parse(HEAD "<network>\n<dscpp audio=\"46\"/>\n</network>\n</dialstack>"), -EINVAL);
	dump();
	assert_true(has_msg("t.xml:4:", "unknown element <dscpp> inside <network>", "<vlan>, <dscp>, <rtp>"));
	assert_int_equal(errs.n, 1);
	assert_int_equal(parse(HEAD "<account usr=\"1001\"/>\n</dialstack>"), -EINVAL);
	dump();
	assert_true(has_msg("t.xml:3:", "unknown attribute usr", "user, auth-user, password, domain"));
	/* registrar without host */
	assert_int_equal(parse(HEAD "<registrars>\n<registrar name=\"east\"/>\n</registrars>\n</dialstack>"), -EINVAL);
	dump();
	assert_true(has_msg("t.xml:4:", "host is missing", NULL));
	assert_int_equal(parse(HEAD "<network/>\n<network/>\n</dialstack>"), -EINVAL);
	assert_true(has_msg("t.xml:4:", "second time", "line 3"));
	assert_int_equal(parse(HEAD "<network>hello</network>\n</dialstack>"), -EINVAL);
	assert_true(has_msg("t.xml:3:", "unexpected text", NULL));
	assert_int_equal(parse("<other/>"), -EINVAL);
	assert_true(has_msg("root element is <other>", NULL, NULL));
	assert_int_equal(parse("<dialstack version=\"2\"/>"), -EINVAL);
	assert_true(has_msg("unsupported format version", "\"2\"", NULL));
}

static void test_out_of_range_all_collected(void **state)
{
	assert_int_equal(parse(HEAD
		"<network keepalive=\"0\">\n"
		"<dscp audio=\"70\" signalling=\"x1\"/>\n"
		"<vlan id=\"4095\" priority=\"8\"/>\n"
		"</network>\n"
		"<registrars><registrar name=\"east\" host=\"bad host\" port=\"70000\" transport=\"sctp\"/></registrars>\n"
		"<provisioning status-url=\"http://prov.example/status\"/>\n"
		"<selftest><thresholds loss-good=\"0.12345\" mos-good=\"6\"/></selftest>\n"
		"</dialstack>"), -EINVAL);
	dump();
	assert_true(has_msg("t.xml:3:", "keepalive=\"0\"", "1-600 s"));
	assert_true(has_msg("t.xml:4:", "audio=\"70\"", "0-63"));
	assert_true(has_msg("t.xml:4:", "signalling=\"x1\"", "not a whole number"));
	assert_true(has_msg("t.xml:5:", "id=\"4095\"", "\"none\" or a VLAN id 1-4094"));
	assert_true(has_msg("t.xml:5:", "priority=\"8\"", "0-7"));
	assert_true(has_msg("t.xml:7:", "host=\"bad host\"", NULL));
	assert_true(has_msg("t.xml:7:", "port=\"70000\"", "1-65535"));
	assert_true(has_msg("t.xml:7:", "transport=\"sctp\"", "udp, tcp, tls"));
	assert_true(has_msg("t.xml:8:", "http://prov.example", "HTTPS only"));
	assert_true(has_msg("t.xml:9:", "loss-good", "3 decimals"));
	assert_true(has_msg("t.xml:9:", "mos-good=\"6\"", "1-5"));
	/* lines are in order */
	for (unsigned i = 1; i < errs.n; i++)
		assert_true(atoi(strchr(errs.msg[i - 1], ':') + 1) <= atoi(strchr(errs.msg[i], ':') + 1));
}

static void test_cross(void **state)
{
	assert_int_equal(parse(HEAD "<network><rtp min=\"20000\" max=\"10000\"/></network>\n</dialstack>"), -EINVAL);
	assert_true(has_msg("min 20000 is above max 10000", NULL, NULL));
	assert_int_equal(parse(HEAD "<selftest><thresholds jitter-good=\"40\"/></selftest>\n</dialstack>"), -EINVAL);
	assert_true(has_msg("jitter-good 40", "acceptable", NULL));
	assert_int_equal(parse(HEAD "<registrars><registrar name=\"east\" host=\"a\"/><registrar name=\"east\" host=\"b\"/></registrars></dialstack>"), -EINVAL);
	assert_true(has_msg("used twice", NULL, NULL));
}

/* selftest@boot: which checks run at boot (all, network, none). */
static void test_selftest_boot(void **state)
{
	struct cfg_config a;

	assert_int_equal(parse(HEAD "<selftest boot=\"none\"/>\n</dialstack>"), 0);
	assert_string_equal(cfg.selftest_boot, "none");
	a = cfg;
	assert_int_equal(parse(HEAD "<selftest boot=\"network\"><check name=\"dns\"/></selftest>\n</dialstack>"), 0);
	assert_string_equal(cfg.selftest_boot, "network");
	assert_true(cfg_diff(&a, &cfg) & CFG_CH_SELFTEST);
	assert_int_equal(parse(HEAD "<selftest/>\n</dialstack>"), 0);
	assert_string_equal(cfg.selftest_boot, "");          /* default: all */
	assert_int_equal(parse(HEAD "<selftest boot=\"sometimes\"/>\n</dialstack>"), -EINVAL);
	if (!has_msg("boot", NULL, NULL))
		dump();
	assert_true(has_msg("boot", NULL, NULL));
}

static void test_password_never_shown(void **state)
{
	char big[300];

	memset(big, 'S', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	char xml[600];
	snprintf(xml, sizeof(xml), HEAD "<account password=\"%s\"/>\n</dialstack>", big);
	assert_int_equal(parse(xml), -EINVAL);
	dump();
	assert_true(has_msg("password", "not shown", NULL));
	for (unsigned i = 0; i < errs.n; i++)
		assert_null(strstr(errs.msg[i], "SSSSSSSS"));
	assert_int_equal(parse(HEAD "<account password=\"sec&#9;ret\"/>\n</dialstack>"), -EINVAL);
	for (unsigned i = 0; i < errs.n; i++)
		assert_null(strstr(errs.msg[i], "ret"));
}

static void test_doctype_entities(void **state)
{
	static const char *const evil[] = {
		/* external entity */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
		"<dialstack version=\"1\"><account user=\"&x;\"/></dialstack>",
		/* billion laughs */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		"]>\n<dialstack version=\"1\"><account user=\"&lol3;\"/></dialstack>",
		/* external DTD */
		"<?xml version=\"1.0\"?>\n<!DOCTYPE dialstack SYSTEM \"http://evil.example/x.dtd\">\n<dialstack version=\"1\"/>",
	};

	for (unsigned i = 0; i < ARRAY_SIZE(evil); i++) {
		assert_int_equal(parse(evil[i]), -EINVAL);
		dump();
		assert_true(has_msg("t.xml:2:", "DOCTYPE", "refused"));
		assert_int_equal(errs.n, 1);
	}
	/* an undeclared entity reference is malformed, not expanded */
	assert_int_equal(parse(HEAD "<account user=\"&x;\"/></dialstack>"), -EINVAL);
	assert_true(has_msg("malformed XML", NULL, NULL));
}

static void test_size_cap(void **state)
{
	size_t n = CFG_MAX_SIZE + 1;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, HEAD, strlen(HEAD));
	memcpy(big + n - 12, "</dialstack>", 12);
	big[n] = '\0';
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(cfg_parse_mem(big, n, "t.xml", &cfg, &errs), -EINVAL);
	assert_true(has_msg("262145 bytes", "262144", NULL));
	/* exactly at the cap is fine */
	memcpy(big + n - 13, "</dialstack>", 12);
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(cfg_parse_mem(big, n - 1, "t.xml", &cfg, &errs), 0);
	free(big);
}

static void test_diff(void **state)
{
	struct cfg_config a, b;
	char buf[128];

	assert_int_equal(parse(HEAD "<account user=\"1\" password=\"p\" domain=\"d\"/>"
			       "<registrars><registrar name=\"east\" host=\"a\"/></registrars></dialstack>"), 0);
	a = b = cfg;
	assert_int_equal(cfg_diff(&a, &b), 0);
	b.resync_s = 3600;
	assert_int_equal(cfg_diff(&a, &b), CFG_CH_RESYNC);
	b = a;
	utl_strlcpy(b.password, "q", sizeof(b.password));
	assert_int_equal(cfg_diff(&a, &b), CFG_CH_ACCOUNT);
	b = a;
	b.registrars[0].port = 5070;
	b.dscp_signalling = 24;
	b.keepalive_s = 15;
	assert_int_equal(cfg_diff(&a, &b), CFG_CH_REGISTRARS | CFG_CH_DSCP | CFG_CH_KEEPALIVE);
	assert_string_equal(cfg_change_str(cfg_diff(&a, &b), buf, sizeof(buf)), "registrars,dscp,keepalive");
	b = a;
	b.vlan_priority = 3;              /* no VLAN: priority alone changes nothing */
	assert_int_equal(cfg_diff(&a, &b), 0);
	b.vlan_id = 10;
	assert_int_equal(cfg_diff(&a, &b), CFG_CH_VLAN);
	b = a;
	b.n_codecs = 1;
	b.mos_good = 3.5;
	assert_int_equal(cfg_diff(&a, &b), CFG_CH_MEDIA | CFG_CH_SELFTEST);
	assert_int_not_equal(cfg_diff(NULL, &a) & CFG_CH_SIP, 0);
	assert_string_equal(cfg_change_str(0, buf, sizeof(buf)), "nothing");
}

static void test_check_file(void **state)
{
	char dir[] = "/tmp/test_prov_cfgXXXXXX", path[300], out[4096];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/good.xml", dir);
	assert_int_equal(utl_write_atomic(path, HEAD "</dialstack>", strlen(HEAD "</dialstack>"), 0600), 0);
	f = fmemopen(out, sizeof(out), "w");
	assert_int_equal(cfg_check_file(path, f), 0);
	fclose(f);
	assert_string_equal(out, "OK\n");

	snprintf(path, sizeof(path), "%s/bad.xml", dir);
	static const char bad[] = HEAD "<network keepalive=\"0\"><dscp audio=\"99\"/></network></dialstack>";
	assert_int_equal(utl_write_atomic(path, bad, strlen(bad), 0600), 0);
	f = fmemopen(out, sizeof(out), "w");
	assert_int_equal(cfg_check_file(path, f), 1);
	fclose(f);
	assert_non_null(strstr(out, "bad.xml:3: <network keepalive=\"0\">"));
	assert_non_null(strstr(out, "bad.xml:3: <network/dscp audio=\"99\">"));
	unlink(path);

	f = fmemopen(out, sizeof(out), "w");
	assert_int_equal(cfg_check_file(path, f), 2);
	fclose(f);
	assert_non_null(strstr(out, "cannot read"));
	snprintf(path, sizeof(path), "%s/good.xml", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_lab_files_merge),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_out_of_range_all_collected),
		cmocka_unit_test(test_cross),
		cmocka_unit_test(test_selftest_boot),
		cmocka_unit_test(test_password_never_shown),
		cmocka_unit_test(test_doctype_entities),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_check_file),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	cfg_cleanup();
	return rc;
}
