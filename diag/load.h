/* load.h - the phone's own responsiveness during a self-test (internal to diag/).
 *
 * A busy phone must not blame the network. While a run is in its main phase a
 * timer ticks every DIAG_LOAD_TICK_MS and records how late it fires (the loop's
 * scheduling delay: the same delay any reply waits before we read it, and any
 * timeout fires after). When a network check fails, the runner asks whether
 * the phone's own lateness during that check, with the CPU pressure
 * (/proc/pressure/cpu, else loadavg per CPU), explains it; then the outcome is
 * "inconclusive: the phone was busy", not FAIL.
 */
#ifndef DSA_DIAG_LOAD_H
#define DSA_DIAG_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIAG_LOAD_TICK_MS 20
#define DIAG_LOAD_SAMPLES 2048          /* 41 s of ticks: the whole main phase */

struct diag_load;

/* A monitor on the loop (not started); NULL on allocation failure. */
struct diag_load *diag_load_new(void);

/* Start ticking (records from now on); harmless when running. */
void diag_load_start(struct diag_load *l);

/* Stop ticking (the samples stay). */
void diag_load_stop(struct diag_load *l);

/* Stop and free (NULL is fine). */
void diag_load_free(struct diag_load *l);

/* The worst lateness (ms) of the ticks due within [from_ms, to_ms] (ev_now_ms() times),
 * and how many ticks that was. */
uint64_t diag_load_late_max_ms(const struct diag_load *l, uint64_t from_ms, uint64_t to_ms, unsigned *nticks);

/* "some avg10" of /proc/pressure/cpu (percent): 0, or -errno (no PSI). */
int diag_load_psi(const char *path, double *some_avg10);

/* The 1-minute load average of /proc/loadavg divided by the online CPUs: 0 or -errno. */
int diag_load_avg_per_cpu(const char *path, double *per_cpu);

/* What the phone's load says about a check that failed after duration_ms. */
struct diag_busy {
	uint64_t late_ms;                    /* worst lateness of its own timers during the check */
	double psi;                          /* CPU pressure some avg10 (%), < 0 unknown */
	double load_per_cpu;                 /* < 0 unknown */
	bool busy;                           /* the load explains a timeout / delay */
	char why[160];                       /* "its own timers ran up to 850 ms late; CPU pressure 72 %" */
};

/* Pure: busy when the phone's own timers ran late by at least max(100 ms, duration / 10) (a
 * reply waiting that long may be read after the timeout fired), or by >= 50 ms with CPU
 * pressure >= 80 % (or load >= 4 per CPU). */
void diag_load_judge(uint64_t late_ms, double psi, double load_per_cpu, uint64_t duration_ms,
		     struct diag_busy *out);

#endif
