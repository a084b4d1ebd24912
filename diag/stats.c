/* stats.c - Wilson score intervals and rating by interval (pure). */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "common/util.h"
#include "diag/stats.h"

void diag_wilson_pct(uint64_t k, uint64_t n, double z, double *lo, double *hi)
{
	double p, z2, den, mid, half, dn;

	if (n == 0) {
		*lo = 0;
		*hi = 100;
		return;
	}
	if (k > n)
		k = n;
	dn = utl_u64_double(n);
	p = utl_u64_double(k) / dn;
	z2 = z * z;
	den = 1 + z2 / dn;
	mid = (p + z2 / (2.0 * dn)) / den;
	half = z * sqrt(p * (1 - p) / dn + z2 / (4.0 * dn * dn)) / den;
	*lo = (k == 0 || mid - half < 0 ? 0 : mid - half) * 100;
	*hi = (k == n || mid + half > 1 ? 1 : mid + half) * 100;
}

void diag_rate_rate(const struct diag_thresholds *t, enum diag_metric m, uint64_t k, uint64_t n,
		    struct diag_irate *out)
{
	out->k = k;
	out->n = n;
	out->value = n ? 100.0 * utl_u64_double(k) / utl_u64_double(n) : NAN;
	diag_wilson_pct(k, n, DIAG_Z95, &out->lo, &out->hi);
	out->lo_rating = diag_rate(t, m, out->lo);
	out->hi_rating = diag_rate(t, m, out->hi);
	/* the bands are intervals of the line: both ends in one band = the interval inside it */
	out->decided = n > 0 && out->lo_rating == out->hi_rating;
	out->rating = out->hi_rating;
	out->verdict = out->decided ? diag_rating_verdict(out->rating) : DIAG_WARN;
}

int diag_irate_text(const struct diag_irate *ir, char *buf, size_t cap)
{
	return snprintf(buf, cap, "%.1f %%, between %.1f and %.1f %% at 95 %% (%llu packets)", ir->value, ir->lo,
			ir->hi, (unsigned long long)ir->n);
}

int diag_irate_sentence(const struct diag_irate *ir, enum diag_metric m, char *buf, size_t cap)
{
	char t[96];

	diag_irate_text(ir, t, sizeof(t));
	if (!ir->decided)
		return snprintf(buf, cap, "%s %s: cannot tell %s from %s; run a longer test", diag_metric_name(m), t,
				diag_rating_name(ir->lo_rating), diag_rating_name(ir->hi_rating));
	return snprintf(buf, cap, "%s %s is %s", diag_metric_name(m), t, diag_rating_name(ir->rating));
}
