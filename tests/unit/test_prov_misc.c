/* test_prov_misc.c - server discovery, MAC names, the status document. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "provisioning/prov.h"
#include "provisioning/status.h"

static void pick(const char *c, const char *b, const char *d, const char *want, const char *why_has)
{
	char out[512], why[300];

	prov_pick_server(c, b, d, out, sizeof(out), why, sizeof(why));
	assert_string_equal(out, want);
	if (why_has)
		assert_non_null(strstr(why, why_has));
	else
		assert_string_equal(why, "");
}

static void test_pick_server(void **state)
{
	pick(NULL, NULL, NULL, "https://prov.dialstack.ai/", NULL);
	pick("https://cli.example/base", "https://boot.example/", "dhcp.example", "https://cli.example/base/", NULL);
	pick(NULL, "  https://boot.example/p/\nsecond line\n", "dhcp.example", "https://boot.example/p/", NULL);
	pick(NULL, "", "dhcp.example\n", "https://dhcp.example/", NULL);
	pick(NULL, NULL, "https://dhcp.example:8443/x/", "https://dhcp.example:8443/x/", NULL);
	/* not HTTPS: skipped, said why, next source used */
	pick(NULL, "http://boot.example/", "dhcp.example", "https://dhcp.example/", "the bootstrap file gives \"http://boot.example/\"");
	pick(NULL, NULL, "tftp://10.0.0.1/", "https://prov.dialstack.ai/", "DHCP option 66/160");
	pick(NULL, NULL, "bad host name", "https://prov.dialstack.ai/", "not an HTTPS URL");
}

static void test_mac12(void **state)
{
	char m[13];

	assert_int_equal(prov_mac12("02:00:5E:10:00:01", m), 0);
	assert_string_equal(m, "02005e100001");
	assert_int_equal(prov_mac12("0200.5e10.0001", m), 0);
	assert_string_equal(m, "02005e100001");
	assert_int_equal(prov_mac12("02:00:5e:10:00", m), -EINVAL);
	assert_int_equal(prov_mac12("02:00:5e:10:00:01:02", m), -EINVAL);
	assert_int_equal(prov_mac12("02:00:5e:10:00:0g", m), -EINVAL);
	assert_int_equal(prov_mac12(NULL, m), -EINVAL);
}

static char *xp(xmlDoc *doc, const char *expr)
{
	xmlXPathContext *c = xmlXPathNewContext(doc);
	xmlXPathObject *o = xmlXPathEvalExpression((const xmlChar *)expr, c);
	char *s = (char *)xmlXPathCastToString(o);

	xmlXPathFreeObject(o);
	xmlXPathFreeContext(c);
	return s;
}

static void expect(xmlDoc *doc, const char *expr, const char *want)
{
	char *s = xp(doc, expr);

	assert_string_equal(s, want);
	xmlFree(s);
}

static void test_status_document(void **state)
{
	static const char report[] = "<?xml version=\"1.0\"?><report v=\"1\"><check id=\"alg\" verdict=\"fail\"/></report>";
	struct status_info si = {
		.mac = "02:00:5e:10:00:01", .model = "DS-100", .etag_common = "\"a\"", .etag_mac = "\"b\"",
		.state = STATUS_FAILED, .reason = "cannot register: 403 <forbidden> & \"more\"",
		.since = 1700000000, .now = 1700000060, .registrar = "west", .registrar_host = "sip-west.dialstack.ai",
		.transport = "udp", .addrs = { "eth0 192.168.50.100/24", "eth0 fe80::1/64", NULL },
		.selftest_xml = report, .selftest_len = sizeof(report) - 1,
	};
	char *doc = NULL;
	size_t len;
	xmlDoc *d;

	assert_int_equal(status_build(&si, &doc, &len), 0);
	assert_int_equal(strlen(doc), len);
	d = xmlReadMemory(doc, (int)len, "s.xml", NULL, XML_PARSE_NONET);
	assert_non_null(d);
	expect(d, "/status/@version", "1");
	expect(d, "/status/@time", "2023-11-14T22:14:20Z");
	expect(d, "/status/device/@mac", "02:00:5e:10:00:01");
	expect(d, "/status/device/@model", "DS-100");
	expect(d, "/status/device/@version", PACKAGE_VERSION);
	expect(d, "/status/config/@etag-common", "\"a\"");
	expect(d, "/status/config/@etag-mac", "\"b\"");
	expect(d, "/status/state/@name", "failed");
	expect(d, "/status/state/@since", "2023-11-14T22:13:20Z");
	expect(d, "/status/state/@reason", "cannot register: 403 <forbidden> & \"more\"");
	expect(d, "/status/registration/@registrar", "west");
	expect(d, "/status/registration/@host", "sip-west.dialstack.ai");
	expect(d, "count(/status/addresses/address)", "2");
	expect(d, "/status/addresses/address[2]", "eth0 fe80::1/64");
	expect(d, "/status/selftest/report/check/@verdict", "fail");
	xmlFreeDoc(d);
	free(doc);

	/* a report with a DOCTYPE or broken XML is left out, and said so */
	si.selftest_xml = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><report>&e;</report>";
	si.selftest_len = strlen(si.selftest_xml);
	si.state = STATUS_PROVISIONED;
	si.reason = NULL;
	assert_int_equal(status_build(&si, &doc, &len), 0);
	d = xmlReadMemory(doc, (int)len, "s.xml", NULL, XML_PARSE_NONET);
	expect(d, "count(/status/selftest/*)", "0");
	expect(d, "/status/state/@name", "provisioned");
	expect(d, "count(/status/state/@reason)", "0");
	assert_non_null(strstr(doc, "not well-formed"));
	assert_null(strstr(doc, "passwd"));
	xmlFreeDoc(d);
	free(doc);
	assert_string_equal(status_state_name(STATUS_REGISTERED), "registered");
	assert_string_equal(status_state_name(STATUS_PROVISIONING), "provisioning");
	si.mac = NULL;
	assert_int_equal(status_build(&si, &doc, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_server),
		cmocka_unit_test(test_mac12),
		cmocka_unit_test(test_status_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
