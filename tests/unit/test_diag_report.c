/* test_diag_report.c - the self-test report: XML valid against diag/report.rng, REGISTER
 * summary within its size, display lines within 40 columns, history on disk. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "diag/check.h"
#include "diag/report.h"

static const char *const ids[DIAG_C_COUNT] = {
	"link", "address", "clock", "dns", "https", "east-udp", "east-tcp", "east-tls", "west-udp",
	"west-tcp", "west-tls", "rtp-ports", "nat", "sip-alg", "voice", "dscp", "mtu", "udp-lifetime",
	"call", "audio", "srtp", "family",
};

/* A report with every check present and the given verdict on all of them. */
static void fill(struct diag_report *rep, enum diag_verdict v)
{
	memset(rep, 0, sizeof(*rep));
	rep->run_id = 42;
	rep->started = 1750000000;
	rep->duration_ms = 12345;
	rep->complete = true;
	for (int i = 0; i < DIAG_C_COUNT; i++) {
		struct diag_result *r = &rep->results[i];

		rep->present[i] = true;
		r->check = (enum diag_check_id)i;
		r->id = ids[i];
		r->title = "A long check title";
		r->done = true;
		r->background = i == DIAG_C_UDP_LIFETIME;
		diag_verdict_set(r, v, "advice with <markup> & \"quotes\" and a control \x01 byte");
		diag_threshold_set(r, "below %d ms", 30);
		utl_strlcpy(r->brief, "a measured value that is too long for a phone", sizeof(r->brief));
	}
	diag_value_add(&rep->results[DIAG_C_VOICE], "mos", "", "%.2f", 4.31);
	diag_value_add(&rep->results[DIAG_C_VOICE], "rtt_avg", "ms", "%d", 23);
	diag_value_add(&rep->results[DIAG_C_VOICE], "jitter", "ms", "%d", 2);
	diag_value_add(&rep->results[DIAG_C_VOICE], "loss", "%", "%.1f", 0.0);
	diag_report_compute(rep);
}

static int validate(const char *xml)
{
	char path[1024];
	const char *top = getenv("top_srcdir");
	xmlRelaxNGParserCtxtPtr pc;
	xmlRelaxNGPtr schema;
	xmlRelaxNGValidCtxtPtr vc;
	xmlDocPtr doc;
	int rc;

	snprintf(path, sizeof(path), "%s/diag/report.rng", top ? top : "..");
	pc = xmlRelaxNGNewParserCtxt(path);
	assert_non_null(pc);
	schema = xmlRelaxNGParse(pc);
	assert_non_null(schema);
	doc = xmlReadMemory(xml, (int)strlen(xml), "report.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOENT * 0);
	assert_non_null(doc);
	vc = xmlRelaxNGNewValidCtxt(schema);
	rc = xmlRelaxNGValidateDoc(vc, doc);
	xmlRelaxNGFreeValidCtxt(vc);
	xmlFreeDoc(doc);
	xmlRelaxNGFree(schema);
	xmlRelaxNGFreeParserCtxt(pc);
	return rc;
}

static void test_xml_valid(void **state)
{
	struct diag_report rep;
	char *xml = NULL;
	size_t len;

	fill(&rep, DIAG_WARN);
	assert_int_equal(diag_report_xml(&rep, &xml, &len), 0);
	assert_int_equal(strlen(xml), len);
	assert_int_equal(validate(xml), 0);
	assert_non_null(strstr(xml, "&lt;markup&gt; &amp;"));
	assert_null(strchr(xml, '\x01'));
	assert_non_null(strstr(xml, "verdict=\"WARN\""));
	free(xml);

	/* a check still running, one absent */
	rep.results[DIAG_C_UDP_LIFETIME].done = false;
	rep.complete = false;
	rep.present[DIAG_C_MTU] = false;
	assert_int_equal(diag_report_xml(&rep, &xml, &len), 0);
	assert_int_equal(validate(xml), 0);
	assert_non_null(strstr(xml, "verdict=\"PENDING\""));
	assert_null(strstr(xml, "id=\"mtu\""));
	free(xml);

	/* the schema is not a rubber stamp: a wrong verdict is refused */
	fill(&rep, DIAG_PASS);
	assert_int_equal(diag_report_xml(&rep, &xml, &len), 0);
	{
		char *p = strstr(xml, "verdict=\"PASS\"");

		memcpy(p, "verdict=\"GOOD\"", 14);
	}
	assert_int_not_equal(validate(xml), 0);
	free(xml);
}

static void test_summary(void **state)
{
	struct diag_report rep;
	char buf[DIAG_SUMMARY_MAX];
	int n;

	fill(&rep, DIAG_PASS);
	n = diag_report_summary(&rep, buf, sizeof(buf));
	assert_string_equal(buf, "v=1;r=pass;mos=4.31;rtt=23;jit=2;loss=0.0");
	assert_int_equal(n, strlen(buf));
	/* worst case: everything failed; still below the cap, still parseable */
	fill(&rep, DIAG_FAIL);
	n = diag_report_summary(&rep, buf, sizeof(buf));
	assert_true(n > 0 && n < DIAG_SUMMARY_MAX);
	assert_non_null(strstr(buf, "r=fail"));
	assert_non_null(strstr(buf, ";fail=link,addr,clock"));
	/* warn and fail lists side by side, lifetime still pending */
	fill(&rep, DIAG_PASS);
	rep.results[DIAG_C_SIP_ALG].verdict = DIAG_FAIL;
	rep.results[DIAG_C_DSCP].verdict = DIAG_WARN;
	rep.results[DIAG_C_UDP_LIFETIME].done = false;
	rep.complete = false;
	diag_report_compute(&rep);
	diag_report_summary(&rep, buf, sizeof(buf));
	assert_string_equal(buf, "v=1;r=fail;mos=4.31;rtt=23;jit=2;loss=0.0;fail=alg;warn=dscp;part=1");
	assert_int_equal(diag_report_exit_status(&rep), 2);
	/* a tiny buffer is refused, never overrun */
	assert_int_equal(diag_report_summary(&rep, buf, 8), -ENOSPC);
}

static void test_display(void **state)
{
	struct diag_report rep;
	char text[4096], line[128], *p, *save = NULL;

	fill(&rep, DIAG_FAIL);
	diag_result_line(&rep.results[DIAG_C_VOICE], line, sizeof(line));
	assert_true(strlen(line) <= DIAG_LINE_COLS);
	assert_memory_equal(line, "FAIL A long check ", 18);
	assert_true(diag_report_text(&rep, text, sizeof(text)) > 0);
	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
		assert_true(strlen(p) <= DIAG_LINE_COLS);
	assert_int_equal(diag_report_text(&rep, text, 50), -ENOSPC);
	fill(&rep, DIAG_SKIP);
	assert_int_equal(rep.overall, DIAG_PASS); /* nothing failed */
	assert_int_equal(diag_report_exit_status(&rep), 0);
}

static void test_history(void **state)
{
	char dir[] = "/tmp/test-diag-report-XXXXXX", path[512];
	struct diag_report rep;
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	assert_non_null(mkdtemp(dir));
	fill(&rep, DIAG_PASS);
	for (int i = 0; i < 5; i++) {
		rep.run_id = (uint64_t)i + 1;
		rep.started = 1750000000 + i;
		assert_int_equal(diag_report_save(&rep, dir, 3), 0);
	}
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		/* the two oldest were dropped */
		assert_null(strstr(de->d_name, "-000001.xml"));
		assert_null(strstr(de->d_name, "-000002.xml"));
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	assert_int_equal(n, 3);
	rmdir(dir);
	assert_int_equal(diag_report_save(&rep, "/proc/forbidden/dir", 3) < 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_valid),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
