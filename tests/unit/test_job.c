/* test_job.c - job processes (common/job.h): the message codec refuses every
 * malformed length, type, version and NUL; a child that answers, crashes,
 * hangs, sends garbage, the wrong type or half a message gives the answer or
 * a clear reason, is killed at its deadline and always reaped. The children
 * are this binary started again with --job (DSA_TEST_JOB says how to behave);
 * the loop runs on the virtual clock, which holds still while a child works.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/job.h"
#include "jobexe.h"
#include "common/log.h"
#include "common/util.h"

/* ------------------------------------------------------------ codec */

/* A valid JOB_PARSE_REPLY ("usbb"). */
static void sample(struct job_buf *b)
{
	memset(b, 0, sizeof(*b));
	job_begin(b, JOB_PARSE_REPLY);
	job_put_u32(b, 7);
	job_put_str(b, "why");
	job_put(b, "a\0b", 3);
	job_put(b, NULL, 0);
	assert_int_equal(job_end(b), 0);
}

static int decode(const char *p, size_t len)
{
	struct job_msg m;
	size_t used = 0;
	int r = job_decode(p, len, &m, &used);

	if (r == 0) {
		assert_true(used <= len);
		assert_true(m.n <= JOB_MAX_FIELDS);
		for (unsigned i = 0; i < m.n; i++) {
			assert_true(m.f[i].p >= p && m.f[i].p + m.f[i].len <= p + used);
			assert_true(m.f[i].len == 4 || m.f[i].p[m.f[i].len - 1] == '\0');
		}
	}
	return r;
}

static void test_codec_roundtrip(void **state)
{
	struct job_buf b;
	struct job_msg m;
	size_t used;

	sample(&b);
	assert_int_equal(b.len, JOB_HDR + 8 + 4 + 4 + 4 + 4 + 4 + 1);
	assert_int_equal(job_decode(b.p, b.len, &m, &used), 0);
	assert_int_equal(used, b.len);
	assert_int_equal(m.type, JOB_PARSE_REPLY);
	assert_int_equal(m.n, 4);
	assert_int_equal(job_u32(&m, 0), 7);
	assert_string_equal(m.f[1].p, "why");
	assert_int_equal(m.f[2].len, 4);
	assert_memory_equal(m.f[2].p, "a\0b", 4);
	assert_int_equal(m.f[3].len, 1);
	/* two messages back to back: the first is decoded, used says where it ends */
	{
		char two[256];

		memcpy(two, b.p, b.len);
		memcpy(two + b.len, b.p, b.len);
		assert_int_equal(job_decode(two, 2 * b.len, &m, &used), 0);
		assert_int_equal(used, b.len);
	}
	job_buf_free(&b);
}

/* Every prefix is "more to come"; never a message. */
static void test_codec_truncated(void **state)
{
	struct job_buf b;

	sample(&b);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(decode(b.p, n), -EAGAIN);
	assert_int_equal(decode(b.p, b.len), 0);
	job_buf_free(&b);
}

static void put32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

static void test_codec_malformed(void **state)
{
	struct job_buf b;
	char m[256];
	size_t len;

	sample(&b);
	len = b.len;
#define BAD(expect, edit) do { memcpy(m, b.p, len); edit; assert_int_equal(decode(m, len), expect); } while (0)
	BAD(-EBADMSG, m[0] = 'X');                             /* magic */
	BAD(-EBADMSG, m[1] = 'K');
	BAD(-EPROTO, m[2] = JOB_VERSION + 1);                  /* version */
	BAD(-EPROTO, m[2] = 0);
	BAD(-EBADMSG, m[3] = 0);                               /* type */
	BAD(-EBADMSG, m[3] = JOB_NTYPES);
	BAD(-EBADMSG, m[3] = (char)0xff);
	BAD(-EBADMSG, m[3] = JOB_HTTP);                        /* another type's fields */
	BAD(-EBADMSG, m[3] = JOB_PARSE);
	BAD(-EBADMSG, put32(m + 4, JOB_MAX_MSG + 1));          /* payload over the cap */
	BAD(-EBADMSG, put32(m + 4, UINT32_MAX));
	BAD(-EBADMSG, put32(m + 4, (uint32_t)(len - JOB_HDR - 1)));  /* shorter than its fields */
	BAD(-EAGAIN, put32(m + 4, (uint32_t)(len - JOB_HDR + 1)));   /* longer: waits for more ... */
	memcpy(m, b.p, len);
	put32(m + 4, (uint32_t)(len - JOB_HDR + 1));
	m[len] = 'x';
	assert_int_equal(decode(m, len + 1), -EBADMSG);        /* ... and then refuses the rest */
	BAD(-EBADMSG, put32(m + 8, 3));                        /* 'u' not 4 bytes */
	BAD(-EBADMSG, put32(m + 8, 5));
	BAD(-EBADMSG, put32(m + 16, 0));                       /* 's' empty (no NUL) */
	BAD(-EBADMSG, put32(m + 16, 3));                       /* 's' without its NUL */
	BAD(-EBADMSG, put32(m + 16, UINT32_MAX));              /* field past the message */
	BAD(-EBADMSG, put32(m + 16, 0x80000000u));
	BAD(-EBADMSG, m[20] = '\0');                           /* NUL inside an 's' */
	BAD(-EBADMSG, m[23] = 'x');                            /* 's' not ending in NUL */
	BAD(-EBADMSG, put32(m + 24, 0));                       /* 'b' empty */
	BAD(-EBADMSG, m[31] = 'x');                            /* 'b' not ending in NUL */
	BAD(-EBADMSG, put32(m + 32, 2));                       /* last field longer than what is left */
	/* one field too few: drop the last */
	memcpy(m, b.p, len);
	put32(m + 4, (uint32_t)(len - JOB_HDR - 5));
	assert_int_equal(decode(m, len - 5), -EBADMSG);
	/* every single byte changed to every value: never a message that breaks the rules */
	for (size_t i = 0; i < len; i++)
		for (int v = 0; v < 256; v++) {
			memcpy(m, b.p, len);
			m[i] = (char)v;
			(void)decode(m, len);
		}
#undef BAD
	job_buf_free(&b);
}

static void test_codec_encoder_limits(void **state)
{
	struct job_buf b = { 0 };
	char *big = calloc(1, JOB_MAX_MSG + 1);
	char s[JOB_MAX_STR + 1];

	assert_non_null(big);
	/* a string field too long for 's' is caught at the end */
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	job_begin(&b, JOB_PARSE);
	job_put_str(&b, s);
	job_put(&b, NULL, 0);
	job_put(&b, NULL, 0);
	assert_int_equal(job_end(&b), -EBADMSG);
	assert_null(b.p);
	/* the wrong number of fields */
	job_begin(&b, JOB_PARSE);
	job_put_str(&b, "x");
	assert_int_equal(job_end(&b), -EBADMSG);
	/* over the size cap */
	job_begin(&b, JOB_PARSE);
	job_put_str(&b, "x");
	job_put(&b, big, JOB_MAX_MSG);
	job_put(&b, NULL, 0);
	assert_int_equal(job_end(&b), -EMSGSIZE);
	/* the largest that fits */
	job_begin(&b, JOB_PARSE);
	job_put_str(&b, "x");
	job_put(&b, big, JOB_MAX_MSG - 4 - 2 - 4 - 1 - 4 - 1);
	job_put(&b, NULL, 0);
	assert_int_equal(job_end(&b), 0);
	assert_int_equal(b.len, JOB_HDR + JOB_MAX_MSG);
	job_buf_free(&b);
	free(big);
}

/* ------------------------------------------------------------ processes */

static struct {
	bool done;
	bool answered;
	uint32_t value;
	char why[200];
} R;

static void done(const struct job_msg *m, const char *why, void *arg)
{
	R.done = true;
	R.answered = m != NULL;
	if (m)
		R.value = job_u32(m, 0);
	snprintf(R.why, sizeof(R.why), "%s", why);
}

static int setup(void **state)
{
	memset(&R, 0, sizeof(R));
	if (ev_init() < 0)
		return -1;
	ev_clock_virtual(1000000);
	return 0;
}

static int teardown(void **state)
{
	unsetenv("DSA_TEST_JOB");
	job_set_exe(jobexe_path());
	ev_done();
	return 0;
}

/* Run one job whose child behaves as mode says; the loop until its callback. */
static void run(const char *mode, uint32_t deadline_ms)
{
	struct job_buf req;
	struct job *j = NULL;
	uint64_t t0 = ev_now_ms();
	int st;

	setenv("DSA_TEST_JOB", mode, 1);
	memset(&req, 0, sizeof(req));
	job_begin(&req, JOB_PARSE);
	job_put_str(&req, "020000000001");
	job_put(&req, "<a/>", 4);
	job_put(&req, NULL, 0);
	assert_int_equal(job_end(&req), 0);
	assert_int_equal(job_start(&j, &req, JOB_PARSE_REPLY, deadline_ms, done, NULL), 0);
	job_buf_free(&req);
	assert_int_equal(job_count(), 1);
	/* bounded: the deadline ends every child */
	for (int i = 0; i < 100000 && !R.done; i++)
		assert_true(ev_run_once(-1) >= 0);
	assert_true(R.done);
	assert_int_equal(job_count(), 0);
	assert_int_equal(ev_now_ms(), t0);            /* the virtual clock held still */
	assert_true(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD);   /* reaped */
	print_message("# %s: %s\n", mode, R.answered ? "answered" : R.why);
}

static void test_job_answers(void **state)
{
	run("echo", 10000);
	assert_true(R.answered);
	assert_int_equal(R.value, 4 + 1);                /* the child saw the request */
	assert_string_equal(R.why, "");
}

static void test_job_crash(void **state)
{
	run("crash", 10000);
	assert_false(R.answered);
	assert_string_equal(R.why, "the job process crashed (signal 6)");
}

static void test_job_hang(void **state)
{
	run("hang", 200);
	assert_false(R.answered);
	assert_string_equal(R.why, "the job process did not answer within 200 ms and was killed");
	/* a child that answers and then keeps its pipe open is fine: done at the answer */
	memset(&R, 0, sizeof(R));
	run("answer-hang", 10000);
	assert_true(R.answered);
}

static void test_job_garbage(void **state)
{
	static const struct {
		const char *mode, *why;
	} cases[] = {
		{ "garbage", "the job process sent a malformed answer (refused)" },
		{ "wrongtype", "the job process sent a malformed answer (refused)" },
		{ "twice", "the job process sent a malformed answer (refused)" },
		{ "version", "the job process answered in another protocol version" },
		{ "half", "the job process ended without an answer" },
		{ "silent", "the job process ended without an answer" },
		{ "exit3", "the job process ended without an answer (exit status 3)" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&R, 0, sizeof(R));
		run(cases[i].mode, 10000);
		assert_false(R.answered);
		assert_string_equal(R.why, cases[i].why);
	}
	memset(&R, 0, sizeof(R));
	job_set_exe("/nonexistent/dialstack-agent");
	run("echo", 10000);
	assert_false(R.answered);
	assert_string_equal(R.why, "the job process ended without an answer (exit status 127)");
}

/* A job cancelled while its child runs: killed and reaped, no callback. */
static void test_job_cancel(void **state)
{
	struct job_buf req = { 0 };
	struct job *j;
	int st;

	setenv("DSA_TEST_JOB", "hang", 1);
	job_begin(&req, JOB_PARSE);
	job_put_str(&req, "x");
	job_put(&req, NULL, 0);
	job_put(&req, NULL, 0);
	assert_int_equal(job_end(&req), 0);
	assert_int_equal(job_start(&j, &req, JOB_PARSE_REPLY, 10000, done, NULL), 0);
	job_buf_free(&req);
	job_cancel(j);
	assert_int_equal(job_count(), 0);
	assert_false(R.done);
	assert_true(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD);
}

/* ------------------------------------------------------------ the child */

static int echo(const struct job_msg *m, struct job_buf *out)
{
	job_begin(out, JOB_PARSE_REPLY);
	job_put_u32(out, m->f[1].len);
	job_put_str(out, "");
	job_put(out, NULL, 0);
	job_put(out, NULL, 0);
	return job_end(out);
}

static int wrong(const struct job_msg *m, struct job_buf *out)
{
	job_begin(out, JOB_HTTP_REPLY);
	job_put_u32(out, 0);
	job_put_u32(out, 0);
	job_put_u32(out, 200);
	job_put_str(out, "");
	job_put_str(out, "");
	job_put(out, NULL, 0);
	job_put_u32(out, 0);
	job_put_u32(out, 0);
	return job_end(out);
}

static int say(const void *p, size_t n)
{
	return write(1, p, n) == (ssize_t)n ? 0 : 1;
}

static int child(void)
{
	const char *m = getenv("DSA_TEST_JOB");
	struct job_buf b;
	int r;

	if (!m || strcmp(m, "echo") == 0)
		return job_main(echo);
	if (strcmp(m, "wrongtype") == 0)
		return job_main(wrong);
	if (strcmp(m, "crash") == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		abort();
	}
	if (strcmp(m, "hang") == 0)
		for (;;)
			pause();
	if (strcmp(m, "garbage") == 0)
		return say("DJ\1\4\377\377\377\377garbage", 15);
	if (strcmp(m, "silent") == 0)
		return 0;
	if (strcmp(m, "exit3") == 0)
		return 3;
	sample(&b);
	if (strcmp(m, "version") == 0)
		b.p[2] = JOB_VERSION + 1;
	if (strcmp(m, "half") == 0) {
		r = say(b.p, b.len / 2);
	} else if (strcmp(m, "twice") == 0) {
		/* two answers in one write: the reader sees both at once */
		char two[512];

		memcpy(two, b.p, b.len);
		memcpy(two + b.len, b.p, b.len);
		r = say(two, 2 * b.len);
	} else {
		r = say(b.p, b.len);
	}
	job_buf_free(&b);                             /* no leak for LeakSanitizer to report */
	if (!r && strcmp(m, "answer-hang") == 0)
		for (;;)
			pause();
	return r;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_truncated),
		cmocka_unit_test(test_codec_malformed),
		cmocka_unit_test(test_codec_encoder_limits),
		cmocka_unit_test_setup_teardown(test_job_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_hang, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_cancel, setup, teardown),
	};

	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return child();
	jobexe_setup();
	log_open("test_job", false, LL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
