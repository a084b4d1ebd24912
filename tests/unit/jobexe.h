/* jobexe.h - job processes in unit tests. A test binary is its own job
 * process (it dispatches "--job"); under qemu-user (tests/cross/cross.sh sets
 * DSA_EXEC_WRAPPER="qemu-arm-static -L SYSROOT") an emulated program cannot
 * exec an ARM binary without binfmt_misc, so the child is started through a
 * small script that runs this binary under the same wrapper. Under valgrind
 * /proc/self/exe is valgrind's tool: the child is this binary by its path
 * (readlink gives the program's own), run natively. */
#ifndef DSA_TEST_JOBEXE_H
#define DSA_TEST_JOBEXE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/job.h"

static char jobexe_script[64];
static char jobexe_cur[512] = "/proc/self/exe";   /* what the children run */

static void jobexe_cleanup(void)
{
	if (jobexe_script[0])
		unlink(jobexe_script);
}

/* Call from main, after the --job dispatch. */
static inline void jobexe_setup(void)
{
	const char *wrap = getenv("DSA_EXEC_WRAPPER");
	char self[512];
	ssize_t n;
	FILE *f;
	int fd;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return;
	self[n] = '\0';
	if ((!wrap || !*wrap) && getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload")) {
		snprintf(jobexe_cur, sizeof(jobexe_cur), "%s", self);
		job_set_exe(jobexe_cur);
		return;
	}
	if (!wrap || !*wrap)
		return;
	snprintf(jobexe_script, sizeof(jobexe_script), "/tmp/dsa-jobexe.XXXXXX");
	if ((fd = mkstemp(jobexe_script)) < 0 || !(f = fdopen(fd, "w"))) {
		jobexe_script[0] = '\0';
		return;
	}
	fprintf(f, "#!/bin/sh\nexec %s '%s' \"$@\"\n", wrap, self);
	fclose(f);
	chmod(jobexe_script, 0755);   /* the job user runs it too (test_job_user) */
	atexit(jobexe_cleanup);
	snprintf(jobexe_cur, sizeof(jobexe_cur), "%s", jobexe_script);
	job_set_exe(jobexe_cur);
}

/* What job_set_exe was given (the tests that change it set it back). */
static inline const char *jobexe_path(void)
{
	return jobexe_cur;
}

#endif
