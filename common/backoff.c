/* backoff.c - exponential backoff with jitter. */
#include "config.h"

#include "common/backoff.h"
#include "common/util.h"

void bo_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms)
{
	b->base_ms = base_ms ? base_ms : 1;
	b->cap_ms = cap_ms < b->base_ms ? b->base_ms : cap_ms;
	b->failures = 0;
}

uint32_t bo_ceiling(const struct backoff *b)
{
	uint64_t w = b->base_ms;
	uint32_t i;

	for (i = 0; i < b->failures && w < b->cap_ms; i++)
		w *= 2;
	return w > b->cap_ms ? b->cap_ms : (uint32_t)w;
}

uint32_t bo_next(struct backoff *b)
{
	uint32_t ceil = bo_ceiling(b);

	if (b->failures < 64)
		b->failures++;
	return utl_random_range(ceil / 2, ceil);
}

void bo_reset(struct backoff *b)
{
	b->failures = 0;
}
