/* test_job_user.c - job processes run unprivileged (common/job.h
 * job_user, job_grant): started by root with DSA_JOB_USER=nobody, a real
 * child reports what the kernel says of it (/proc/self/status: real,
 * effective, saved and filesystem uid and gid, supplementary groups,
 * no_new_privs) and which files it could open: not a 0600 file of root's,
 * yes a 0640 file of its group, yes the device key once job_grant made it
 * 0640 root:<its group>. With no such user the child still runs (as root);
 * not root: nothing to drop (the root-only case is a TAP skip).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/job.h"
#include "jobexe.h"
#include "common/log.h"

static struct {
	bool done, answered;
	uint32_t opened;              /* bit i: the child could open file i */
	char status[512];             /* its Uid/Gid/Groups/NoNewPrivs lines */
	char why[200];
} R;

static char dir[64], secret[96], grpfile[96], key[96], cert[96];

static void done(const struct job_msg *m, const char *why, void *arg)
{
	R.done = true;
	R.answered = m != NULL;
	if (m) {
		R.opened = job_u32(m, 0);
		snprintf(R.status, sizeof(R.status), "%s", m->f[2].p);
	}
	snprintf(R.why, sizeof(R.why), "%s", why);
}

static void put_file(const char *path, mode_t mode, gid_t gid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	if (geteuid() == 0)
		assert_int_equal(fchown(fd, 0, gid), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	memset(&R, 0, sizeof(R));
	snprintf(dir, sizeof(dir), "/tmp/dsa-jobuser.XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0711) < 0 || ev_init() < 0)
		return -1;
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	snprintf(grpfile, sizeof(grpfile), "%s/group-file", dir);
	snprintf(key, sizeof(key), "%s/device.key", dir);
	snprintf(cert, sizeof(cert), "%s/device.crt", dir);
	ev_clock_virtual(1000000);
	return 0;
}

static int teardown(void **state)
{
	unsetenv("DSA_JOB_USER");
	unlink(secret);
	unlink(grpfile);
	unlink(key);
	unlink(cert);
	rmdir(dir);
	ev_done();
	return 0;
}

/* One job: the child tries the files and reports; the loop until the answer. */
static void run(void)
{
	struct job_buf req = { 0 };
	struct job *j = NULL;
	int st;

	memset(&R, 0, sizeof(R));
	job_begin(&req, JOB_PARSE);
	job_put_str(&req, secret);
	job_put_str(&req, grpfile);
	job_put_str(&req, key);
	assert_int_equal(job_end(&req), 0);
	assert_int_equal(job_start(&j, &req, JOB_PARSE_REPLY, 10000, done, NULL), 0);
	job_buf_free(&req);
	for (int i = 0; i < 100000 && !R.done; i++)
		assert_true(ev_run_once(-1) >= 0);
	assert_true(R.done);
	assert_true(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD);
	if (!R.answered)
		print_message("# %s\n", R.why);
}

/* The value of status line name (e.g. "Uid:"), tabs as spaces, or "". */
static const char *line(const char *name, char *buf, size_t size)
{
	const char *p = strstr(R.status, name), *e;
	size_t n;

	buf[0] = '\0';
	if (!p)
		return buf;
	p += strlen(name);
	e = strchr(p, '\n');
	n = e ? (size_t)(e - p) : strlen(p);
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	for (char *c = buf; *c; c++)
		if (*c == '\t')
			*c = ' ';
	while (n && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return buf;
}

static void test_drop_to_user(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	char want[64], got[128];
	struct stat st;
	uid_t u;
	gid_t g;

	if (geteuid() != 0 || !pw || !pw->pw_uid || !pw->pw_gid) {
		print_message("# not root (or no user nobody): nothing to drop here\n");
		skip();
	}
	setenv("DSA_JOB_USER", "nobody", 1);
	job_set_exe(jobexe_path());                   /* the user is looked up again */
	assert_int_equal(job_user(&u, &g), 1);
	assert_int_equal(u, pw->pw_uid);
	assert_int_equal(g, pw->pw_gid);
	put_file(secret, 0600, 0);
	put_file(grpfile, 0640, pw->pw_gid);
	put_file(key, 0600, 0);                       /* the factory's key, before the agent saw it */
	put_file(cert, 0644, 0);
	job_grant(key);
	job_grant(cert);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, pw->pw_gid);
	assert_int_equal(stat(cert, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);   /* readable already: untouched */
	assert_int_equal(st.st_gid, 0);

	run();
	assert_true(R.answered);
	snprintf(want, sizeof(want), " %u %u %u %u", (unsigned)u, (unsigned)u, (unsigned)u, (unsigned)u);
	assert_string_equal(line("\nUid:", got, sizeof(got)), want);
	snprintf(want, sizeof(want), " %u %u %u %u", (unsigned)g, (unsigned)g, (unsigned)g, (unsigned)g);
	assert_string_equal(line("\nGid:", got, sizeof(got)), want);
	snprintf(want, sizeof(want), " %u", (unsigned)g);
	assert_string_equal(line("\nGroups:", got, sizeof(got)), want);
	assert_string_equal(line("\nNoNewPrivs:", got, sizeof(got)), " 1");
	assert_int_equal(R.opened, 2 | 4);            /* not root's secret; its group's file and the key */
}

static void test_no_user(void **state)
{
	uid_t u;
	gid_t g;
	char want[64], got[128];

	setenv("DSA_JOB_USER", "dsa-no-such-user", 1);
	job_set_exe(jobexe_path());
	assert_int_equal(job_user(&u, &g), 0);
	put_file(key, 0600, getegid());
	job_grant(key);                               /* no job user: a secret stays 0600 */
	run();
	assert_true(R.answered);                      /* the job runs all the same */
	snprintf(want, sizeof(want), " %u %u %u %u", (unsigned)getuid(), (unsigned)geteuid(),
		 (unsigned)geteuid(), (unsigned)geteuid());
	assert_string_equal(line("\nUid:", got, sizeof(got)), want);
	assert_true(R.opened & 4);                    /* as the agent: it reads its own key */
	if (geteuid() == 0) {
		struct stat st;

		assert_int_equal(stat(key, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
	}
}

/* ------------------------------------------------------------ the child */

static int report(const struct job_msg *m, struct job_buf *out)
{
	char st[4096], keep[1024] = "";
	uint32_t opened = 0;
	size_t k;
	ssize_t n;
	int fd;

	for (unsigned i = 0; i < 3; i++) {
		if ((fd = open(m->f[i].p, O_RDONLY | O_CLOEXEC)) >= 0) {
			opened |= 1u << i;
			close(fd);
		}
	}
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, st, sizeof(st) - 1) : -1;
	if (fd >= 0)
		close(fd);
	st[n > 0 ? n : 0] = '\0';
	for (char *l = strtok(st, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strncmp(l, "Uid:", 4) || !strncmp(l, "Gid:", 4) || !strncmp(l, "Groups:", 7) ||
		    !strncmp(l, "NoNewPrivs:", 11)) {
			k = strlen(keep);
			snprintf(keep + k, sizeof(keep) - k, "\n%s", l);
		}
	}
	job_begin(out, JOB_PARSE_REPLY);
	job_put_u32(out, opened);
	job_put_str(out, "");
	job_put(out, keep, strlen(keep));
	job_put(out, NULL, 0);
	return job_end(out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drop_to_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_user, setup, teardown),
	};

	if (argc == 2 && strcmp(argv[1], "--job") == 0)
		return job_main(report);
	jobexe_setup();
	log_open("test_job_user", false, LL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
