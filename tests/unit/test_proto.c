/* test_proto.c - control protocol requests: valid, malformed, oversized. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "agent/proto.h"

static int parse(const char *s, struct ctl_request *r, const char **code)
{
	const char *why = NULL;
	int rc = ctl_parse_request(s, strlen(s), r, code, &why);

	if (rc < 0)
		assert_non_null(why);
	return rc;
}

static void test_valid_request(void **state)
{
	struct ctl_request r;
	const char *code;

	assert_int_equal(parse("{\"v\":1,\"cmd\":\"status\"}", &r, &code), 0);
	assert_string_equal(r.cmd, "status");
	assert_null(r.args);
	ctl_request_free(&r);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"check-config\",\"args\":{\"file\":\"x\"}}", &r, &code), 0);
	assert_non_null(r.args);
	ctl_request_free(&r);
}

static void test_roundtrip_encode(void **state)
{
	struct ctl_request r;
	const char *code;
	char *line = ctl_encode_request("selftest", NULL);
	size_t n = strlen(line);

	assert_true(n > 0 && line[n - 1] == '\n');
	assert_int_equal(ctl_parse_request(line, n - 1, &r, &code, &code), 0);
	assert_string_equal(r.cmd, "selftest");
	ctl_request_free(&r);
	free(line);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"", "garbage", "{", "{\"v\":1,\"cmd\":\"status\"", "[1,2]", "\"status\"",
		"{\"cmd\":\"status\"}", "{\"v\":\"1\",\"cmd\":\"status\"}", "{\"v\":1}",
		"{\"v\":1,\"cmd\":42}", "{\"v\":1,\"cmd\":\"\"}", "{\"v\":1,\"cmd\":\"STATUS\"}",
		"{\"v\":1,\"cmd\":\"status; rm -rf /\"}", "{\"v\":1,\"cmd\":\"status\",\"args\":[1]}",
		"{\"v\":1,\"cmd\":\"status\"} trailing", "{\"v\":1,\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	};
	struct ctl_request r;
	const char *code;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &r, &code), -1);
		assert_string_equal(code, CTL_E_BAD_REQUEST);
		assert_null(r.args);
	}
}

static void test_version_and_size(void **state)
{
	struct ctl_request r;
	const char *code, *why;
	char *big;

	assert_int_equal(parse("{\"v\":2,\"cmd\":\"status\"}", &r, &code), -1);
	assert_string_equal(code, CTL_E_VERSION);
	big = malloc(CTL_MAX_REQUEST + 2);
	memset(big, ' ', CTL_MAX_REQUEST + 1);
	big[CTL_MAX_REQUEST + 1] = '\0';
	assert_int_equal(ctl_parse_request(big, CTL_MAX_REQUEST + 1, &r, &code, &why), -1);
	assert_string_equal(code, CTL_E_TOO_LARGE);
	free(big);
	/* An embedded NUL never reaches the JSON parser. */
	assert_int_equal(ctl_parse_request("{\"v\":1,\0\"cmd\":\"status\"}", 24, &r, &code, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_request),
		cmocka_unit_test(test_roundtrip_encode),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_version_and_size),
	};
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
