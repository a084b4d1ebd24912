/* verdict.h - the network guide's quality table and the self-test verdicts.
 *
 * Ratings follow the guide's "Network quality thresholds" table. A value
 * between the acceptable and the problematic bound (RTT 150-200 ms, or a
 * value exactly on a bound) is "marginal". Good and acceptable meet the
 * guide's pre-flight checklist and map to PASS; marginal maps to WARN,
 * problematic to FAIL.
 */
#ifndef DSA_DIAG_VERDICT_H
#define DSA_DIAG_VERDICT_H

/* INCONCLUSIVE: a network check failed while the phone itself was too busy to tell (diag/load.h):
 * not a network FAIL; exit status 1 like WARN. */
enum diag_verdict { DIAG_PASS = 0, DIAG_WARN, DIAG_FAIL, DIAG_SKIP, DIAG_INCONCLUSIVE };

enum diag_rating { DIAG_GOOD = 0, DIAG_ACCEPTABLE, DIAG_MARGINAL, DIAG_PROBLEMATIC };

enum diag_metric { DIAG_M_JITTER = 0, DIAG_M_LOSS, DIAG_M_RTT, DIAG_M_COUNT };

/* Bounds per metric: good below good, acceptable below acceptable, problematic above problematic. */
struct diag_bounds {
	double good;
	double acceptable;
	double problematic;
};

struct diag_thresholds {
	struct diag_bounds m[DIAG_M_COUNT]; /* indexed by enum diag_metric */
	double mos_good;                    /* MOS above this is good */
};

/* Fill t with the guide's defaults (jitter 20/30/30 ms, loss 0.5/1/1 %, RTT 100/150/200 ms, MOS 4.0). */
void diag_thresholds_default(struct diag_thresholds *t);

/* Check bounds are ordered and non-negative; 0 or -EINVAL. */
int diag_thresholds_validate(const struct diag_thresholds *t);

/* Rate value v of metric m against t. */
enum diag_rating diag_rate(const struct diag_thresholds *t, enum diag_metric m, double v);

/* The verdict a rating gives: good/acceptable PASS, marginal WARN, problematic FAIL. */
enum diag_verdict diag_rating_verdict(enum diag_rating r);

/* The worse of two verdicts (FAIL > WARN > INCONCLUSIVE > PASS > SKIP). */
enum diag_verdict diag_verdict_worst(enum diag_verdict a, enum diag_verdict b);

/* "PASS", "WARN", "FAIL", "SKIP", "INCONCLUSIVE". */
const char *diag_verdict_name(enum diag_verdict v);

/* Four letters for a display line: "PASS", "WARN", "FAIL", "SKIP", "BUSY" (inconclusive). */
const char *diag_verdict_short(enum diag_verdict v);

/* "good", "acceptable", "marginal", "problematic". */
const char *diag_rating_name(enum diag_rating r);

/* The metric's short name ("jitter", "loss", "rtt") and unit ("ms", "%"). */
const char *diag_metric_name(enum diag_metric m);
const char *diag_metric_unit(enum diag_metric m);

#endif
