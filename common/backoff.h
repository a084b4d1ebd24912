/* backoff.h - exponential backoff with jitter (RFC 5626 section 4.5 shape).
 *
 * The n-th consecutive failure waits a uniform 50-100 % of
 * min(cap, base * 2^n). Pure apart from the random draw.
 */
#ifndef DSA_COMMON_BACKOFF_H
#define DSA_COMMON_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t base_ms;      /* first wait (before jitter) */
	uint32_t cap_ms;       /* largest wait (before jitter) */
	uint32_t failures;     /* consecutive failures so far */
};

/* Set up b with the given base and cap; no failures yet. */
void bo_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms);

/* Record a failure and return how long to wait before the next try. */
uint32_t bo_next(struct backoff *b);

/* The un-jittered ceiling for the current failure count (for tests and status). */
uint32_t bo_ceiling(const struct backoff *b);

/* Forget the failures (call after a success). */
void bo_reset(struct backoff *b);

#endif
