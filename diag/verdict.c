/* verdict.c - the network guide's quality table (pure, no I/O). */
#include "config.h"

#include <errno.h>

#include "common/util.h"
#include "diag/verdict.h"

/* The names inline in the tables: a pointer costs a relocation too. */
static const struct {
	struct diag_bounds def;
	char name[7];
	char unit[3];
} metrics[DIAG_M_COUNT] = {
	[DIAG_M_JITTER] = { { 20.0, 30.0, 30.0 }, "jitter", "ms" },
	[DIAG_M_LOSS] = { { 0.5, 1.0, 1.0 }, "loss", "%" },
	[DIAG_M_RTT] = { { 100.0, 150.0, 200.0 }, "rtt", "ms" },
};

/* The short names are the long ones but INCONCLUSIVE's ("BUSY"). */
static const char verdict_short[][5] = { "PASS", "WARN", "FAIL", "SKIP", "BUSY" };
static const char rating_names[][12] = { "good", "acceptable", "marginal", "problematic" };
/* Severity order for diag_verdict_worst: SKIP < PASS < INCONCLUSIVE < WARN < FAIL. */
static const unsigned char severity[] = { [DIAG_PASS] = 1, [DIAG_WARN] = 3, [DIAG_FAIL] = 4, [DIAG_SKIP] = 0,
				[DIAG_INCONCLUSIVE] = 2 };

void diag_thresholds_default(struct diag_thresholds *t)
{
	for (int i = 0; i < DIAG_M_COUNT; i++)
		t->m[i] = metrics[i].def;
	t->mos_good = 4.0;
}

int diag_thresholds_validate(const struct diag_thresholds *t)
{
	for (int i = 0; i < DIAG_M_COUNT; i++) {
		const struct diag_bounds *b = &t->m[i];

		if (!(b->good >= 0 && b->good <= b->acceptable && b->acceptable <= b->problematic))
			return -EINVAL;
	}
	if (!(t->mos_good >= 1.0 && t->mos_good <= 4.5))
		return -EINVAL;
	return 0;
}

enum diag_rating diag_rate(const struct diag_thresholds *t, enum diag_metric m, double v)
{
	const struct diag_bounds *b = &t->m[m];

	if (v != v) /* NaN: nothing measured, treat as the worst */
		return DIAG_PROBLEMATIC;
	if (v < b->good)
		return DIAG_GOOD;
	if (v < b->acceptable)
		return DIAG_ACCEPTABLE;
	if (v > b->problematic)
		return DIAG_PROBLEMATIC;
	return DIAG_MARGINAL;
}

enum diag_verdict diag_rating_verdict(enum diag_rating r)
{
	switch (r) {
	case DIAG_GOOD:
	case DIAG_ACCEPTABLE:
		return DIAG_PASS;
	case DIAG_MARGINAL:
		return DIAG_WARN;
	default:
		return DIAG_FAIL;
	}
}

enum diag_verdict diag_verdict_worst(enum diag_verdict a, enum diag_verdict b)
{
	return severity[a] >= severity[b] ? a : b;
}

const char *diag_verdict_name(enum diag_verdict v)
{
	return v == DIAG_INCONCLUSIVE ? "INCONCLUSIVE" : diag_verdict_short(v);
}

const char *diag_verdict_short(enum diag_verdict v)
{
	return (unsigned)v < ARRAY_SIZE(verdict_short) ? verdict_short[v] : "?";
}

const char *diag_rating_name(enum diag_rating r)
{
	return (unsigned)r < ARRAY_SIZE(rating_names) ? rating_names[r] : "?";
}

const char *diag_metric_name(enum diag_metric m)
{
	return (unsigned)m < DIAG_M_COUNT ? metrics[m].name : "?";
}

const char *diag_metric_unit(enum diag_metric m)
{
	return (unsigned)m < DIAG_M_COUNT ? metrics[m].unit : "";
}
