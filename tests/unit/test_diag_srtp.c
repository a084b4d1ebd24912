/* test_diag_srtp.c - the self-test's SRTP check runs in a job process (this
 * binary with --job): its verdict matches the same code run in-process, the
 * test process (the "agent") never maps libsrtp2 (this binary links only what
 * the daemon links: libsrtp2 is opened on use), and answers that are
 * truncated, out of bounds or missing give INCONCLUSIVE "could not run",
 * never a claim that SRTP is broken. Virtual clock; the child works in real
 * time while the loop waits for it. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/ev.h"
#include "common/job.h"
#include "common/log.h"
#include "common/util.h"
#include "diag/report.h"
#include "diag/runner.h"
#include "jobexe.h"

#define T0_MS 1000u

static bool done;

static void on_done(const struct diag_report *rep, void *arg)
{
	(void)rep;
	(void)arg;
	done = true;
}

/* Run the SRTP check alone; the runner (r) keeps the result until freed. */
static const struct diag_result *run(struct diag_runner **rp)
{
	static struct diag_listener l;
	struct diag_opts o;
	uint64_t end;

	diag_opts_default(&o);
	utl_strlcpy(o.ifname, "lo", sizeof(o.ifname));
	o.checks = DIAG_CHECK_BIT(DIAG_C_SRTP);
	memset(&l, 0, sizeof(l));
	l.on_run_done = on_done;
	done = false;
	*rp = diag_runner_new();
	assert_non_null(*rp);
	assert_int_equal(diag_runner_start(*rp, &o, &l), 0);
	end = ev_now_ms() + 25000;
	while (!done && ev_now_ms() < end)
		ev_run_once(20);
	assert_true(done);
	assert_int_equal(job_count(), 0);
	return diag_report_result(diag_runner_report(*rp), DIAG_C_SRTP);
}

static bool srtp_mapped(void)
{
	char *maps = NULL;
	size_t len;
	bool yes;

	assert_int_equal(utl_read_file("/proc/self/maps", 1u << 22, &maps, &len), 0);
	yes = strstr(maps, "libsrtp2") != NULL;
	free(maps);
	return yes;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(ev_init(), 0);
	ev_clock_virtual(T0_MS * 1000u);
	unsetenv("DSA_TEST_JOB");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("DSA_TEST_JOB");
	ev_done();
	return 0;
}

/* Through the job: PASS on this libsrtp2, nothing of it mapped here; then the
 * same handler in-process gives the same result, field for field. */
static void test_srtp_job_matches_inprocess(void **state)
{
	struct diag_runner *r;
	const struct diag_result *res;
	struct job_buf req = { 0 }, out = { 0 };
	struct job_msg m, a;
	size_t used;

	(void)state;
	assert_false(srtp_mapped());
	res = run(&r);
	print_message("# %s | %s\n", res->brief, res->advice);
	assert_int_equal(res->verdict, DIAG_PASS);
	assert_int_equal(res->nvalues, 5);
	assert_string_equal(res->values[2].name, "failed");
	assert_string_equal(res->values[2].value, "0");
	assert_true(atoi(res->values[1].value) >= 2);
	assert_false(srtp_mapped());                     /* the real effect: libsrtp2 stayed in the child */

	job_begin(&req, JOB_SRTP);
	assert_int_equal(job_end(&req), 0);
	assert_int_equal(job_decode(req.p, req.len, &m, &used), 0);
	assert_int_equal(diag_job(&m, &out), 0);         /* the child's code, here */
	assert_true(srtp_mapped());
	assert_int_equal(job_decode(out.p, out.len, &a, &used), 0);
	assert_int_equal(a.type, JOB_SRTP_REPLY);
	assert_int_equal(job_u32(&a, 0), res->verdict);
	assert_string_equal(a.f[1].p, res->brief);
	assert_string_equal(a.f[2].p, res->advice);
	assert_int_equal(a.f[3].len, res->nvalues * sizeof(res->values[0]) + 1);
	assert_memory_equal(a.f[3].p, res->values, res->nvalues * sizeof(res->values[0]));
	assert_non_null(strstr(res->threshold, "known-answer vector"));
	job_buf_free(&req);
	job_buf_free(&out);
	diag_runner_free(r);
}

/* Each bad answer, a crash, a child that never answers (killed at the job's
 * deadline, before the run's budget): INCONCLUSIVE, "could not run" and why,
 * never "broken". */
static void test_srtp_bad_answers(void **state)
{
	static const struct {
		const char *mode, *words;
	} t[] = {
		{ "truncated", "ended without an answer" },
		{ "verdict", "malformed answer" },
		{ "unterminated", "malformed answer" },
		{ "nonul-value", "malformed answer" },
		{ "long-brief", "malformed answer" },
		{ "values", "malformed answer" },
		{ "many-values", "malformed answer" },
		{ "wrongtype", "malformed answer" },
		{ "crash", "crashed (signal 11)" },
		{ "exit3", "exit status 3" },
		{ "hang", "did not answer within 4000 ms and was killed" },   /* 4 s of real time */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct diag_runner *r;
		const struct diag_result *res;

		setenv("DSA_TEST_JOB", t[i].mode, 1);
		res = run(&r);
		print_message("# %s: %s | %s\n", t[i].mode, res->brief, res->advice);
		assert_int_equal(res->verdict, DIAG_INCONCLUSIVE);
		assert_non_null(strstr(res->advice, "the SRTP check could not run: "));
		assert_non_null(strstr(res->advice, t[i].words));
		assert_null(strstr(res->advice, "broken"));
		assert_string_equal(res->brief, "not run");
		assert_int_equal(res->nvalues, 0);
		diag_runner_free(r);
	}
}

/* Freeing the runner while the child works kills and reaps it; no callback. */
static void test_srtp_cancel(void **state)
{
	struct diag_runner *r = diag_runner_new();
	struct diag_opts o;
	int st;

	(void)state;
	setenv("DSA_TEST_JOB", "hang", 1);
	diag_opts_default(&o);
	utl_strlcpy(o.ifname, "lo", sizeof(o.ifname));
	o.checks = DIAG_CHECK_BIT(DIAG_C_SRTP);
	done = false;
	assert_int_equal(diag_runner_start(r, &o, NULL), 0);
	for (int i = 0; i < 5 && !job_count(); i++)
		ev_run_once(20);
	assert_int_equal(job_count(), 1);
	diag_runner_free(r);
	assert_int_equal(job_count(), 0);
	assert_true(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD);
}

/* ------------------------------------------------------------ the child */

static int say(struct job_buf *b, size_t n)
{
	int r = write(1, b->p, n) == (ssize_t)n ? 0 : 1;

	job_buf_free(b);
	return r;
}

/* A reply with verdict v, brief, and n copies of value val (len bytes). */
static void reply(struct job_buf *b, uint32_t v, const char *brief, const void *val, size_t len, unsigned n)
{
	char vals[40 * sizeof(struct diag_value)];

	for (unsigned i = 0; i < n; i++)
		memcpy(vals + i * len, val, len);
	job_begin(b, JOB_SRTP_REPLY);
	job_put_u32(b, v);
	job_put_str(b, brief);
	job_put_str(b, "a");
	job_put(b, vals, n * len);
	assert_int_equal(job_end(b), 0);
}

static int child(void)
{
	const char *m = getenv("DSA_TEST_JOB");
	struct diag_value v = { "name", "1", "" };
	char brief[64];
	struct job_buf b = { 0 };

	if (!m)
		return job_main(diag_job);
	if (strcmp(m, "crash") == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);             /* not ASan's handler: a real crash */
		raise(SIGSEGV);
	}
	if (strcmp(m, "hang") == 0)
		for (;;)
			pause();
	if (strcmp(m, "exit3") == 0)
		return 3;
	memset(brief, 'x', sizeof(brief) - 1);
	brief[sizeof(brief) - 1] = '\0';
	if (strcmp(m, "long-brief") == 0)
		reply(&b, DIAG_PASS, brief, &v, sizeof(v), 1);
	else if (strcmp(m, "verdict") == 0)
		reply(&b, 7, "", &v, sizeof(v), 1);
	else if (strcmp(m, "values") == 0)
		reply(&b, DIAG_PASS, "", &v, sizeof(v) - 1, 1);
	else if (strcmp(m, "many-values") == 0)
		reply(&b, DIAG_PASS, "", &v, sizeof(v), 33);
	else if (strcmp(m, "wrongtype") == 0) {
		job_begin(&b, JOB_PARSE_REPLY);
		job_put_u32(&b, 1);
		job_put_str(&b, "");
		job_put(&b, NULL, 0);
		job_put(&b, NULL, 0);
		assert_int_equal(job_end(&b), 0);
	} else {
		if (strcmp(m, "nonul-value") == 0)
			memset(v.unit, 'u', sizeof(v.unit));
		reply(&b, DIAG_PASS, "ok", &v, sizeof(v), 1);
	}
	if (strcmp(m, "truncated") == 0)
		return say(&b, b.len - 3);
	if (strcmp(m, "unterminated") == 0)
		b.p[b.len - 2 - 4 - sizeof(v)] = 'a';   /* the advice's NUL */
	if (strcmp(m, "nonul-value") == 0)
		assert_true(b.p[b.len - 2] != 0);     /* the unit fills its array, no NUL */
	return say(&b, b.len);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_srtp_bad_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_srtp_cancel, setup, teardown),
		/* last: it loads libsrtp2 here */
		cmocka_unit_test_setup_teardown(test_srtp_job_matches_inprocess, setup, teardown),
	};

	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return child();
	jobexe_setup();
	log_open("test_diag_srtp", false, LL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
