/* test_util.c - atomic writes, bounded reads, strlcpy. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/dsa-util-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_atomic_write_mode_and_content(void **state)
{
	char path[128], *buf;
	size_t len;
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/config.xml", dir);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	assert_int_equal(utl_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b/config.xml", dir);
	assert_int_equal(utl_write_atomic(path, "one", 3, 0600), 0);
	assert_int_equal(utl_write_atomic(path, "second", 6, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(utl_read_file(path, 100, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "second");
	free(buf);
	/* The size cap is enforced. */
	assert_int_equal(utl_read_file(path, 5, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(utl_read_file("/nonexistent/x", 5, &buf, &len), -ENOENT);
	assert_int_equal(utl_read_file("/tmp", 5, &buf, &len), -EINVAL);
}

static void test_failed_write_leaves_old_file(void **state)
{
	char path[128], *buf;

	snprintf(path, sizeof(path), "%s/keep.xml", dir);
	assert_int_equal(utl_write_atomic(path, "good", 4, 0600), 0);
	/* A folder that does not exist: nothing is written, the old file stays. */
	assert_true(utl_write_atomic("/nonexistent-dir/x.xml", "bad", 3, 0600) < 0);
	assert_int_equal(utl_read_file(path, 100, &buf, NULL), 0);
	assert_string_equal(buf, "good");
	free(buf);
}

static void test_strlcpy(void **state)
{
	char b[4];

	assert_int_equal(utl_strlcpy(b, "abc", sizeof(b)), 0);
	assert_string_equal(b, "abc");
	assert_int_equal(utl_strlcpy(b, "abcd", sizeof(b)), -1);
	assert_string_equal(b, "abc");
}

static void test_random_range(void **state)
{
	int i;

	for (i = 0; i < 1000; i++) {
		uint32_t r = utl_random_range(10, 20);
		assert_true(r >= 10 && r <= 20);
	}
	assert_int_equal(utl_random_range(5, 5), 5);
}

/* utl_random_hex: 2n lowercase hex digits and a NUL, clamped at 32 bytes; two draws differ */
static void test_random_hex(void **state)
{
	char a[80], b[80];

	(void)state;
	memset(a, 'x', sizeof(a));
	assert_int_equal(utl_random_hex(a, 8), 0);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
	assert_int_equal(utl_random_hex(b, 8), 0);
	assert_string_not_equal(a, b);       /* 2^-64 to fail by chance */
	memset(a, 'x', sizeof(a));
	assert_int_equal(utl_random_hex(a, 40), 0);
	assert_int_equal(strlen(a), 64);     /* clamped at 32 bytes */
	assert_int_equal(a[65], 'x');
}

/* utl_memdup: the bytes, NULs inside kept, one NUL after */
static void test_memdup(void **state)
{
	char *d = utl_memdup("a\0b", 3);

	(void)state;
	assert_non_null(d);
	assert_memory_equal(d, "a\0b\0", 4);
	free(d);
	d = utl_memdup("", 0);
	assert_non_null(d);
	assert_int_equal(d[0], 0);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_write_mode_and_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_leaves_old_file, setup, teardown),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_random_range),
		cmocka_unit_test(test_random_hex),
		cmocka_unit_test(test_memdup),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
