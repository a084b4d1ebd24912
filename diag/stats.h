/* stats.h - confidence intervals for the rates the self-test rates (pure, no I/O).
 *
 * A rate measured on n packets is a sample: 0.7 % loss on 500 packets is
 * compatible with a true loss anywhere from 0.3 % to 1.7 %. The self-test gives
 * a verdict band only when the whole 95 % Wilson score interval lies inside it;
 * otherwise it says what it cannot tell (WARN, never FAIL).
 */
#ifndef DSA_DIAG_STATS_H
#define DSA_DIAG_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag/verdict.h"

/* z of a two-sided 95 % interval */
#define DIAG_Z95 1.959963984540054
/* z of a two-sided 99 % interval (interim looks at a stream that may be extended) */
#define DIAG_Z99 2.575829303548901

/* Wilson score interval of k events in n trials at z, in percent; n == 0 gives 0..100. */
void diag_wilson_pct(uint64_t k, uint64_t n, double z, double *lo, double *hi);

/* A rate rated by its interval. */
struct diag_irate {
	double value, lo, hi;                /* percent */
	uint64_t k, n;
	bool decided;                        /* the interval lies inside one band */
	enum diag_rating rating;             /* the band (decided), else the worse end's */
	enum diag_rating lo_rating, hi_rating;
	enum diag_verdict verdict;           /* band's verdict; WARN when undecided */
};

/* Rate k of n (metric m, a percentage) by its 95 % Wilson interval against t. */
void diag_rate_rate(const struct diag_thresholds *t, enum diag_metric m, uint64_t k, uint64_t n,
		    struct diag_irate *out);

/* "0.7 %, between 0.3 and 1.4 % at 95 % (500 packets)" into buf; its length. */
int diag_irate_text(const struct diag_irate *ir, char *buf, size_t cap);

/* The undecided sentence: "loss 0.7 %, between 0.3 and 1.4 % at 95 % (500 packets): cannot tell
 * good from problematic; run a longer test" (or the decided one: "loss 0.2 % ... is good"). */
int diag_irate_sentence(const struct diag_irate *ir, enum diag_metric m, char *buf, size_t cap);

#endif
