/* budget.h - a token bucket: how many sends a server gets, and when.
 *
 * Pure: the caller passes the time. burst tokens at most, one new token
 * every interval_ms. Kept as a theoretical arrival time (GCRA), so a bucket
 * is two integers and never drifts. A full bucket at start.
 */
#ifndef DSA_COMMON_BUDGET_H
#define DSA_COMMON_BUDGET_H

#include <stdint.h>

struct budget {
	uint32_t burst;        /* tokens when full (>= 1) */
	uint32_t interval_ms;  /* one token back every interval_ms (>= 1) */
	uint64_t tat_ms;       /* when the bucket is full again (GCRA) */
	uint64_t taken;        /* tokens taken so far (status, tests) */
	uint64_t refused;      /* takes refused so far (status, tests) */
};

/* Set b up full, with burst tokens and one more every interval_ms. */
void bgt_init(struct budget *b, uint32_t burst, uint32_t interval_ms);

/* Take one token at now_ms: 0 when taken, else the ms until one is there (nothing taken). */
uint64_t bgt_take(struct budget *b, uint64_t now_ms);

/* Milliseconds until a token is there at now_ms (0: one is there now); takes nothing. */
uint64_t bgt_wait_ms(const struct budget *b, uint64_t now_ms);

/* Whole tokens in the bucket at now_ms. */
uint32_t bgt_tokens(const struct budget *b, uint64_t now_ms);

/* Most tokens that can be taken in any window of window_ms (burst + refills): the documented bound. */
uint64_t bgt_max_in(const struct budget *b, uint64_t window_ms);

#endif
