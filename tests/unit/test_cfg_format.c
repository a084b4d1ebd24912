/* test_cfg_format.c - one way to read a file's format (cfg_detect): the
 * detection table, the daemon's parser on BOM / CRLF / UTF-16 / UTF-32
 * files, and `dialstack-agent check-config` (the real binary) agreeing with
 * the daemon's parser on each of them. (The same files fetched over HTTPS by
 * the controller: tests/e2e/prov-encoding.sh.) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "provisioning/cfg.h"

#define GOOD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dialstack version=\"1\">\n" \
	"  <account user=\"1001\" password=\"pw\" domain=\"dialstack.ai\"/>\n" \
	"  <registrars><registrar name=\"east\" host=\"sip-east.dialstack.ai\" priority=\"1\"/></registrars>\n" \
	"</dialstack>\n"

/* A literal and its length (NULs inside included). */
#define B(s) s, sizeof(s) - 1

/* The detection table: bytes in, format, skip and the words of the message. */
static void test_detect(void **state)
{
	static const struct {
		const char *buf;
		size_t len;
		enum cfg_format want;
		size_t skip;
		const char *why;     /* fragment of *why, NULL: no message */
	} t[] = {
		{ B("<dialstack/>"), CFG_FMT_XML, 0, NULL },
		{ B(" \r\n\t<x/>"), CFG_FMT_XML, 0, NULL },
		{ B("\xEF\xBB\xBF<x/>"), CFG_FMT_XML, 3, NULL },
		{ B("\xEF\xBB\xBF\r\n<x/>\r\n"), CFG_FMT_XML, 3, NULL },
		{ B("server=https://x/\n"), CFG_FMT_TEXT, 0, NULL },
		{ B("\xEF\xBB\xBF" "server=https://x/\r\n"), CFG_FMT_TEXT, 3, NULL },
		{ B(""), CFG_FMT_EMPTY, 0, NULL },
		{ B(" \r\n"), CFG_FMT_EMPTY, 0, NULL },
		{ B("\xEF\xBB\xBF"), CFG_FMT_EMPTY, 3, NULL },
		{ B("\xFF\xFE<\0x\0"), CFG_FMT_UNSUPPORTED, 0, "UTF-16LE byte-order mark" },
		{ B("\xFE\xFF\0<\0x"), CFG_FMT_UNSUPPORTED, 0, "UTF-16BE byte-order mark" },
		{ B("\xFF\xFE\0\0<\0\0\0"), CFG_FMT_UNSUPPORTED, 0, "UTF-32LE byte-order mark" },
		{ B("\0\0\xFE\xFF\0\0\0<"), CFG_FMT_UNSUPPORTED, 0, "UTF-32BE byte-order mark" },
		{ B("<\0x\0"), CFG_FMT_UNSUPPORTED, 0, "UTF-16LE" },
		{ B("\0<\0x"), CFG_FMT_UNSUPPORTED, 0, "UTF-16BE" },
		{ B("<\0\0\0x\0\0\0"), CFG_FMT_UNSUPPORTED, 0, "UTF-32LE" },
		{ B("\0\0\0<\0\0\0x"), CFG_FMT_UNSUPPORTED, 0, "UTF-32BE" },
		{ B("<a\0b>"), CFG_FMT_UNSUPPORTED, 0, "NUL bytes" },
		{ B("\xFF"), CFG_FMT_TEXT, 0, NULL },
		{ B("\xFE"), CFG_FMT_TEXT, 0, NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t skip = 99;
		const char *why = "x";
		enum cfg_format f = cfg_detect(t[i].buf, t[i].len, &skip, &why);

		if (f != t[i].want || skip != t[i].skip)
			fail_msg("row %zu: format %d skip %zu, want %d skip %zu", i, f, skip, t[i].want, t[i].skip);
		if (t[i].why) {
			assert_non_null(why);
			if (!strstr(why, t[i].why) || !strstr(why, "UTF-8"))
				fail_msg("row %zu: '%s' lacks '%s'", i, why, t[i].why);
			if (strstr(t[i].why, "UTF-16") && !strstr(why, "UTF-16 is not supported: save the file as UTF-8"))
				fail_msg("row %zu: '%s'", i, why);
			if (strstr(t[i].why, "UTF-32") && !strstr(why, "UTF-32 is not supported: save the file as UTF-8"))
				fail_msg("row %zu: '%s'", i, why);
		} else {
			assert_null(why);
		}
	}
	/* NULL out-parameters are fine */
	assert_int_equal(cfg_detect("<x/>", 4, NULL, NULL), CFG_FMT_XML);
}

/* A file variant of GOOD: BOM, CRLF, UTF-16/32 with or without BOM. */
struct variant {
	const char *name;
	bool bom8, crlf, utf16le, utf16be, utf32le, bom;
	bool valid;                 /* what both readers must conclude */
	const char *why;            /* fragment of the refusal */
};

static const struct variant variants[] = {
	{ "plain", .valid = true },
	{ "bom", .bom8 = true, .valid = true },
	{ "crlf", .crlf = true, .valid = true },
	{ "bom-crlf", .bom8 = true, .crlf = true, .valid = true },
	{ "utf16le-bom", .utf16le = true, .bom = true, .why = "UTF-16 is not supported: save the file as UTF-8" },
	{ "utf16le", .utf16le = true, .why = "UTF-16 is not supported: save the file as UTF-8" },
	{ "utf16be-bom", .utf16be = true, .bom = true, .why = "UTF-16 is not supported: save the file as UTF-8" },
	{ "utf16le-bom-crlf", .utf16le = true, .bom = true, .crlf = true,
	  .why = "UTF-16 is not supported: save the file as UTF-8" },
	{ "utf32le-bom", .utf32le = true, .bom = true, .why = "UTF-32 is not supported: save the file as UTF-8" },
};

static char *make(const struct variant *v, size_t *len)
{
	size_t n = 0, cap = 8 * sizeof(GOOD) + 16;
	char *out = malloc(cap);
	int w = v->utf32le ? 4 : v->utf16le || v->utf16be ? 2 : 1;

	assert_non_null(out);
	if (v->bom8) {
		memcpy(out, "\xEF\xBB\xBF", 3);
		n = 3;
	}
	if (v->bom) {
		uint32_t bom = 0xFEFF;

		for (int k = 0; k < w; k++)
			out[n + k] = (char)(v->utf16be ? (bom >> (8 * (w - 1 - k))) : (bom >> (8 * k)));
		n += (size_t)w;
	}
	for (const char *p = GOOD; *p; p++) {
		char c[2] = { *p, 0 };
		int m = 1;

		if (*p == '\n' && v->crlf) {
			c[0] = '\r';
			c[1] = '\n';
			m = 2;
		}
		for (int j = 0; j < m; j++) {
			memset(out + n, 0, (size_t)w);
			out[n + (v->utf16be ? 1 : 0)] = c[j];
			n += (size_t)w;
		}
	}
	*len = n;
	return out;
}

/* What the daemon's fetch path does with the bytes (prov.c: cfg_parse_mem). */
static bool daemon_accepts(const char *buf, size_t len, char *msg, size_t size)
{
	struct cfg_config cfg;
	struct cfg_errors errs;
	int err;

	memset(&errs, 0, sizeof(errs));
	err = cfg_parse_mem(buf, len, "dialstack-02005e100001.xml", &cfg, &errs);
	snprintf(msg, size, "%s", errs.n ? errs.msg[0] : "");
	if (!err)
		assert_string_equal(cfg.user, "1001");
	return err == 0;
}

/* What `dialstack-agent check-config FILE` says: exit status and output. */
static int check_config(const char *file, char *out, size_t size)
{
	const char *top = getenv("top_builddir");
	/* a cross build's binary runs under qemu-user (tests/cross/cross.sh sets it) */
	const char *wrap = getenv("DSA_EXEC_WRAPPER");
	char cmd[1024];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s/agent/dialstack-agent check-config '%s' 2>&1", wrap ? wrap : "",
		 top ? top : "../..", file);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* check-config and the daemon agree on every variant, and both are right. */
static void test_agree(void **state)
{
	char dir[] = "/tmp/dsa-cfgfmt-XXXXXX";

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		const struct variant *v = &variants[i];
		char path[256], out[4096], msg[CFG_ERR_LEN];
		size_t len;
		char *buf = make(v, &len);
		FILE *f;
		bool daemon;
		int rc;

		snprintf(path, sizeof(path), "%s/%s.xml", dir, v->name);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, len, f), len);
		fclose(f);
		daemon = daemon_accepts(buf, len, msg, sizeof(msg));
		rc = check_config(path, out, sizeof(out));
		print_message("# %-17s daemon: %s%s%s | check-config: exit %d, %s", v->name,
			      daemon ? "accepted" : "refused", daemon ? "" : ": ", msg, rc, out);
		if (daemon != v->valid)
			fail_msg("%s: the daemon %s it", v->name, daemon ? "accepted" : "refused");
		if ((rc == 0) != v->valid)
			fail_msg("%s: check-config exit %d: %s", v->name, rc, out);
		if (v->valid) {
			assert_string_equal(out, "OK\n");
		} else {
			if (!strstr(msg, v->why))
				fail_msg("%s: the daemon's reason '%s' lacks '%s'", v->name, msg, v->why);
			if (!strstr(out, v->why))
				fail_msg("%s: check-config's '%s' lacks '%s'", v->name, out, v->why);
			assert_int_equal(rc, 1);
			assert_null(strstr(out, "bootstrap"));
		}
		unlink(path);
		free(buf);
	}
	rmdir(dir);
	cfg_cleanup();
}

/* The bootstrap file through check-config: a BOM and CRLF are fine there too,
 * UTF-16 is refused with the same words. */
static void test_bootstrap_file(void **state)
{
#define BOOT_BOM "\xEF\xBB\xBF" "server=https://prov.example/\r\nmodel=DS-1\r\n"
#define BOOT_U16 "\xFF\xFEs\0=\0x\0"
	static const struct {
		const char *name, *text;
		size_t len;
		int rc;
		const char *out;
	} t[] = {
		{ "boot-bom", BOOT_BOM, sizeof(BOOT_BOM) - 1, 0, "OK\n" },
		{ "boot-utf16", BOOT_U16, sizeof(BOOT_U16) - 1, 1, "UTF-16 is not supported: save the file as UTF-8" },
	};
	char dir[] = "/tmp/dsa-cfgfmt-XXXXXX";

	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char path[256], out[2048];
		FILE *f;
		int rc;

		snprintf(path, sizeof(path), "%s/%s.conf", dir, t[i].name);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(t[i].text, 1, t[i].len, f), t[i].len);
		fclose(f);
		rc = check_config(path, out, sizeof(out));
		print_message("# %s: exit %d, %s", t[i].name, rc, out);
		assert_int_equal(rc, t[i].rc);
		if (!strstr(out, t[i].out))
			fail_msg("%s: '%s' lacks '%s'", t[i].name, out, t[i].out);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_agree),
		cmocka_unit_test(test_bootstrap_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
