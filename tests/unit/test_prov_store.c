/* test_prov_store.c - provisioning/store: bundle format, slots, spool, and
 * SIGKILL at every system call of a save (planned crash points, no clock). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <unistd.h>

#include "provisioning/store.h"
#include "common/util.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/test_prov_storeXXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void fill(struct ps_bundle *b, const char *common, const char *mac, const char *ec, const char *em)
{
	memset(b, 0, sizeof(*b));
	b->common = (char *)common;
	b->common_len = strlen(common);
	b->mac = (char *)mac;
	b->mac_len = strlen(mac);
	utl_strlcpy(b->etag_common, ec, sizeof(b->etag_common));
	utl_strlcpy(b->etag_mac, em, sizeof(b->etag_mac));
}

static void test_encode_decode(void **state)
{
	struct ps_bundle b, d;
	char *buf;
	size_t len;

	fill(&b, "<common/>", "<mac/>\n", "\"abc-1\"", "");
	assert_int_equal(ps_bundle_encode(&b, &buf, &len), 0);
	assert_int_equal(ps_bundle_decode(buf, len, &d), 0);
	assert_string_equal(d.common, "<common/>");
	assert_int_equal(d.common_len, 9);
	assert_string_equal(d.mac, "<mac/>\n");
	assert_string_equal(d.etag_common, "\"abc-1\"");
	assert_string_equal(d.etag_mac, "");
	ps_bundle_free(&d);
	/* every truncation and a flipped byte anywhere are detected */
	for (size_t l = 0; l < len; l++)
		assert_int_equal(ps_bundle_decode(buf, l, &d), -EBADMSG);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		int rc = ps_bundle_decode(buf, len, &d);
		if (rc == 0) {
			/* only a flip inside an etag can survive the checksum; then it differs */
			assert_true(strcmp(d.etag_common, "\"abc-1\"") != 0 || strcmp(d.etag_mac, "") != 0);
			ps_bundle_free(&d);
		}
		buf[i] ^= 0x01;
	}
	free(buf);
	/* an ETag with a space or newline cannot be stored */
	fill(&b, "a", "b", "\"a b\"", "");
	assert_int_equal(ps_bundle_encode(&b, &buf, &len), -EINVAL);
	/* fuzz_store: what encode writes, decode reads back, NUL bytes in a body included
	 * (the decoder refused a NUL anywhere in its first KiB, body or not) */
	fill(&b, "<common/>", "<mac/>", "\"e\"", "");
	b.common = (char *)"<c>\0</c>";
	b.common_len = 8;
	assert_int_equal(ps_bundle_encode(&b, &buf, &len), 0);
	assert_int_equal(ps_bundle_decode(buf, len, &d), 0);
	assert_int_equal(d.common_len, 8);
	assert_memory_equal(d.common, "<c>\0</c>", 8);
	ps_bundle_free(&d);
	/* fuzz_store: a body starting with white space (valid XML: "\n<dialstack ...")
	 * came back without it, so the stored last-known-good could not be read */
	fill(&b, "\n  <common/>", " \t<mac/>", "\"e\"", "");
	free(buf);
	assert_int_equal(ps_bundle_encode(&b, &buf, &len), 0);
	assert_int_equal(ps_bundle_decode(buf, len, &d), 0);
	assert_string_equal(d.common, "\n  <common/>");
	assert_string_equal(d.mac, " \t<mac/>");
	ps_bundle_free(&d);
	/* a NUL in the header still is not a bundle */
	buf[3] = '\0';
	assert_int_equal(ps_bundle_decode(buf, len, &d), -EBADMSG);
	free(buf);
}

static void test_slots(void **state)
{
	struct ps_store *ps;
	struct ps_bundle a, b, got;
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(ps_open(&ps, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(ps_load(ps, PS_LKG, &got), -ENOENT);

	fill(&a, "<a/>", "<a-mac/>", "\"1\"", "\"2\"");
	fill(&b, "<b/>", "<b-mac/>", "\"3\"", "\"4\"");
	assert_int_equal(ps_save(ps, PS_LKG, &a), 0);
	snprintf(path, sizeof(path), "%s/state/lkg.bundle", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(ps_save(ps, PS_CANDIDATE, &b), 0);
	assert_int_equal(ps_load(ps, PS_LKG, &got), 0);
	assert_string_equal(got.common, "<a/>");        /* LKG untouched by a candidate */
	ps_bundle_free(&got);
	assert_int_equal(ps_promote(ps), 0);
	assert_int_equal(ps_load(ps, PS_LKG, &got), 0);
	assert_string_equal(got.mac, "<b-mac/>");
	assert_string_equal(got.etag_mac, "\"4\"");
	ps_bundle_free(&got);
	assert_int_equal(ps_load(ps, PS_CANDIDATE, &got), -ENOENT);
	assert_int_equal(ps_promote(ps), -ENOENT);

	/* rollback: discard a candidate, LKG stays */
	assert_int_equal(ps_save(ps, PS_CANDIDATE, &a), 0);
	assert_int_equal(ps_discard(ps, PS_CANDIDATE), 0);
	assert_int_equal(ps_load(ps, PS_LKG, &got), 0);
	assert_string_equal(got.common, "<b/>");
	ps_bundle_free(&got);

	/* damage is reported, not loaded */
	assert_int_equal(utl_write_atomic(path, "DSA-BUNDLE 1\ngarbage", 20, 0600), 0);
	assert_int_equal(ps_load(ps, PS_LKG, &got), -EBADMSG);
	ps_close(ps);
}

static void test_spool(void **state)
{
	struct ps_store *ps;
	char path[256], body[32], *url, *got;
	uint64_t id;
	size_t len;

	snprintf(path, sizeof(path), "%s/spooltest", dir);
	assert_int_equal(ps_open(&ps, path), 0);
	assert_int_equal(ps_spool_peek(ps, &id, &url, &got, &len), -ENOENT);
	for (int i = 0; i < 20; i++) {
		snprintf(body, sizeof(body), "<status n=\"%d\"/>", i);
		assert_int_equal(ps_spool_add(ps, "https://prov.example/status/x/status.xml", body, strlen(body)), 0);
	}
	assert_int_equal(ps_spool_count(ps), PS_SPOOL_MAX);
	/* the oldest were dropped; order kept */
	for (int i = 20 - PS_SPOOL_MAX; i < 20; i++) {
		assert_int_equal(ps_spool_peek(ps, &id, &url, &got, &len), 0);
		snprintf(body, sizeof(body), "<status n=\"%d\"/>", i);
		assert_string_equal(got, body);
		assert_int_equal(len, strlen(body));
		assert_string_equal(url, "https://prov.example/status/x/status.xml");
		free(url);
		free(got);
		assert_int_equal(ps_spool_remove(ps, id), 0);
	}
	assert_int_equal(ps_spool_count(ps), 0);
	assert_int_equal(ps_spool_add(ps, "bad\nurl", "x", 1), -EINVAL);
	ps_close(ps);
	/* survives a reopen */
	assert_int_equal(ps_open(&ps, path), 0);
	assert_int_equal(ps_spool_add(ps, "https://a/", "1", 1), 0);
	ps_close(ps);
	assert_int_equal(ps_open(&ps, path), 0);
	assert_int_equal(ps_spool_count(ps), 1);
	ps_close(ps);
}

static unsigned count_temps(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	unsigned n = 0;

	if (!dd)
		return 0;
	while ((e = readdir(dd)))
		n += strstr(e->d_name, ".tmp.") != NULL;
	closedir(dd);
	return n;
}

/* Crash points without a clock: the test binary is linked with
 * -Wl,--wrap=write,--wrap=fsync,--wrap=rename (provisioning.mk), so the
 * store's own system calls count down to a planned SIGKILL. A write at the
 * crash point lands half its bytes first (a torn write). Each save is four
 * such calls: write the temp file, fsync it, rename it, fsync the directory. */
ssize_t __real_write(int fd, const void *buf, size_t len);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);

static unsigned crash_at;          /* 0: no crash planned (the parent, other tests) */
static unsigned crash_calls;

static ssize_t write_all(int fd, const char *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = __real_write(fd, p + done, len - done);

		if (n < 0)
			return done ? (ssize_t)done : n;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t __wrap_write(int fd, const void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	if (crash_at && ++crash_calls == crash_at) {
		(void)write_all(fd, buf, len / 2);
		raise(SIGKILL);
	}
	/* one call writes everything, so every save is exactly four calls */
	return write_all(fd, buf, len);
}

int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	if (crash_at && ++crash_calls == crash_at)
		raise(SIGKILL);
	return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to)
{
	if (crash_at && ++crash_calls == crash_at)
		raise(SIGKILL);
	return __real_rename(from, to);
}

/* The store holds A; a child saves B, A, B, A and is SIGKILLed at each of
 * those saves' 16 system calls in turn (plus one run that is not killed).
 * After every crash the store opens clean and holds, complete, the config of
 * the last save whose rename happened: exact counts, no clock, no luck. */
static void test_sigkill_while_storing(void **state)
{
	enum { SAVES = 4, CALLS = 4, BODY = 96 * 1024 };
	char path[256];
	char *bodya = malloc(BODY + 1), *bodyb = malloc(BODY + 1);
	struct ps_bundle a, b, got;
	struct ps_store *ps;
	unsigned torn_writes = 0, got_a = 0, got_b = 0, k;

	assert_non_null(bodya);
	assert_non_null(bodyb);
	memset(bodya, 'a', BODY);
	memset(bodyb, 'b', BODY);
	bodya[BODY] = bodyb[BODY] = '\0';
	fill(&a, bodya, "<mac-a/>", "\"A\"", "\"A2\"");
	fill(&b, bodyb, "<mac-b/>", "\"B\"", "\"B2\"");
	snprintf(path, sizeof(path), "%s/killtest", dir);
	assert_int_equal(ps_open(&ps, path), 0);
	assert_int_equal(ps_save(ps, PS_LKG, &a), 0);
	ps_close(ps);

	for (k = 1; k <= SAVES * CALLS + 1; k++) {
		unsigned save = (k - 1) / CALLS, call = (k - 1) % CALLS, renamed;
		bool killed = k <= SAVES * CALLS, want_a;
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			struct ps_store *cps;

			crash_at = k;
			crash_calls = 0;
			if (ps_open(&cps, path) < 0)
				_exit(1);
			for (unsigned i = 0; i < SAVES; i++)
				if (ps_save(cps, PS_LKG, (i & 1) ? &a : &b) < 0)
					_exit(2);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (killed) {
			assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		} else {
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		/* renames done: the saves before this one, and this one's when killed at the directory fsync */
		renamed = killed ? save + (call == 3) : SAVES;
		want_a = renamed == 0 || ((renamed - 1) & 1);
		/* killed before the rename: its temp file is left behind */
		assert_int_equal(count_temps(path), killed && call < 3 ? 1 : 0);
		torn_writes += count_temps(path) > 0;

		/* restore A for the next round after checking */
		assert_int_equal(ps_open(&ps, path), 0);        /* also cleans the temp file */
		assert_int_equal(count_temps(path), 0);
		assert_int_equal(ps_load(ps, PS_LKG, &got), 0);
		assert_int_equal(got.common_len, BODY);
		if (want_a) {
			assert_string_equal(got.etag_common, "\"A\"");
			assert_memory_equal(got.common, bodya, BODY);
			assert_string_equal(got.mac, "<mac-a/>");
			got_a++;
		} else {
			assert_string_equal(got.etag_common, "\"B\"");
			assert_memory_equal(got.common, bodyb, BODY);
			assert_string_equal(got.mac, "<mac-b/>");
			got_b++;
		}
		ps_bundle_free(&got);
		assert_int_equal(ps_save(ps, PS_LKG, &a), 0);
		ps_close(ps);
	}
	print_message("# %u runs: %u found A, %u found B, %u interrupted a save before its rename\n",
		      got_a + got_b, got_a, got_b, torn_writes);
	assert_int_equal(got_a + got_b, SAVES * CALLS + 1);
	assert_int_equal(torn_writes, SAVES * 3);
	/* renamed = 0,0,0,1 | 1,1,1,2 | 2,2,2,3 | 3,3,3,4 | 4 -> B when renamed is odd */
	assert_int_equal(got_b, 8);
	assert_int_equal(got_a, 9);
	free(bodya);
	free(bodyb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_while_storing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
