/* test_bootstrap.c - bootstrap settings: valid files, every error with file:line. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/bootstrap.h"

static int parse(const char *text, struct bst_config *c, char *errs, size_t errsz)
{
	FILE *f = fmemopen(errs, errsz, "w");
	int n;

	memset(errs, 0, errsz);
	bst_defaults(c);
	n = bst_parse(text, strlen(text), "boot.conf", c, f);
	fclose(f);
	return n;
}

static void test_valid(void **state)
{
	struct bst_config c;
	char errs[1024];
	const char *text =
		"# lab phone\n"
		"server = https://prov.example.test/dev/\n"
		"  ca=/etc/ca.pem  \n"
		"cert = /etc/d.crt\nkey = /etc/d.key\n"
		"interface = eth0.100\n"
		"mac = 02:00:5E:10:00:01\n"
		"model = DS-100 rev B\n"
		"boot-delay = 0\n";

	assert_int_equal(parse(text, &c, errs, sizeof(errs)), 0);
	assert_string_equal(errs, "");
	assert_string_equal(c.server, "https://prov.example.test/dev/");
	assert_string_equal(c.ca, "/etc/ca.pem");
	assert_string_equal(c.iface, "eth0.100");
	assert_string_equal(c.model, "DS-100 rev B");
	assert_int_equal(c.boot_delay_max, 0);
}

static void test_defaults(void **state)
{
	struct bst_config c;
	char errs[64];

	assert_int_equal(parse("", &c, errs, sizeof(errs)), 0);
	assert_string_equal(c.server, "");
	assert_true(c.ca[0] == '/');
	assert_int_equal(c.boot_delay_max, 30);
}

static void test_errors_name_line_and_allowed(void **state)
{
	struct bst_config c;
	char errs[2048];
	const char *text =
		"server = http://prov.example.test/\n"   /* 1: not https */
		"ca = etc/ca.pem\n"                       /* 2: relative */
		"colour = blue\n"                         /* 3: unknown key */
		"just words\n"                            /* 4: no '=' */
		"mac = 02:00:5e:10:00\n"                  /* 5: short MAC */
		"boot-delay = 99999\n"                    /* 6: out of range */
		"boot-delay = -1\n"                       /* 7: negative */
		"interface = eth0;reboot\n"               /* 8: bad characters */
		"model =\n";                              /* 9: empty */

	assert_int_equal(parse(text, &c, errs, sizeof(errs)), 9);
	assert_non_null(strstr(errs, "boot.conf:1: server: a URL that is not https://; allowed: an https:// URL"));
	assert_non_null(strstr(errs, "boot.conf:2: ca: a relative path"));
	assert_non_null(strstr(errs, "boot.conf:3: unknown key 'colour'"));
	assert_non_null(strstr(errs, "boot.conf:4: expected 'key = value'"));
	assert_non_null(strstr(errs, "boot.conf:5: mac: a malformed MAC address"));
	assert_non_null(strstr(errs, "boot.conf:6: boot-delay: a number out of range; allowed: seconds from 0 to 3600"));
	assert_non_null(strstr(errs, "boot.conf:7: boot-delay"));
	assert_non_null(strstr(errs, "boot.conf:8: interface"));
	assert_non_null(strstr(errs, "boot.conf:9: model: an empty value"));
	/* Bad values never replace the defaults. */
	assert_string_equal(c.server, "");
	assert_int_equal(c.boot_delay_max, 30);
}

static void test_hostile_bytes(void **state)
{
	struct bst_config c;
	char errs[4096], *big;
	const char withnul[] = "model = a\0b\nserver = https://x/\n";
	FILE *f;
	int n;

	big = malloc(10000);
	memset(big, 'a', 9999);
	big[9999] = '\0';
	assert_int_equal(parse(big, &c, errs, sizeof(errs)), 1);
	assert_non_null(strstr(errs, "boot.conf:1: line longer than"));
	free(big);
	f = fmemopen(errs, sizeof(errs), "w");
	bst_defaults(&c);
	n = bst_parse(withnul, sizeof(withnul) - 1, "boot.conf", &c, f);
	fclose(f);
	assert_int_equal(n, 1);
	assert_string_equal(c.server, "https://x/");
}

static void test_mac_helpers(void **state)
{
	char hex[13];

	assert_true(bst_mac_valid("02:00:5e:10:00:01"));
	assert_false(bst_mac_valid("02-00-5e-10-00-01"));
	assert_false(bst_mac_valid("02:00:5e:10:00:0g"));
	bst_mac_hex("02:00:5E:10:00:01", hex);
	assert_string_equal(hex, "02005e100001");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors_name_line_and_allowed),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_mac_helpers),
	};
	return cmocka_run_group_tests_name("bootstrap", tests, NULL, NULL);
}
