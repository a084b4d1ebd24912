/* report.h - the self-test report: XML (diag/report.rng), REGISTER summary, display text, history. */
#ifndef DSA_DIAG_REPORT_H
#define DSA_DIAG_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diag/runner.h"

#define DIAG_REPORT_NS "urn:dialstack:selftest:1"
#define DIAG_SUMMARY_MAX 200
#define DIAG_LINE_COLS 40

struct diag_report {
	uint64_t run_id;
	time_t started;                      /* wall clock, for the record */
	uint64_t started_mono_ms;
	uint64_t duration_ms;
	enum diag_verdict overall;           /* worst verdict over the finished checks */
	bool complete;                       /* background checks have joined too */
	bool present[DIAG_C_COUNT];          /* the check was enabled */
	struct diag_result results[DIAG_C_COUNT];
};

/* Recompute the overall verdict from the results. */
void diag_report_compute(struct diag_report *rep);

/* A measured value of r by name, or NULL. */
const char *diag_result_value(const struct diag_result *r, const char *name);

/* The report as an XML document (malloc'd, NUL-terminated) in *out; 0 or -ENOMEM / -EIO. */
int diag_report_xml(const struct diag_report *rep, char **out, size_t *len);

/* The compact summary for the REGISTER header, e.g.
 * "v=1;r=warn;mos=4.31;rtt=23;jit=2;loss=0.0;fail=alg;warn=dscp" (< DIAG_SUMMARY_MAX bytes).
 * Its length, or -ENOSPC. */
int diag_report_summary(const struct diag_report *rep, char *buf, size_t cap);

/* One line for a phone display: "PASS Voice        MOS 4.39 rtt 1ms" (<= DIAG_LINE_COLS). */
void diag_result_line(const struct diag_result *r, char *buf, size_t cap);

/* Every present check's line, newline separated, then the overall line; length or -ENOSPC. */
int diag_report_text(const struct diag_report *rep, char *buf, size_t cap);

/* Exit status for the CLI: 0 pass, 1 warn, 2 fail. */
int diag_report_exit_status(const struct diag_report *rep);

/* Store the report's XML in dir (atomic, 0644) as selftest-<time>-<run>.xml, keeping the
 * newest keep files. 0 or -errno. */
int diag_report_save(const struct diag_report *rep, const char *dir, unsigned keep);

#endif
