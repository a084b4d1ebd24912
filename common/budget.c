/* budget.c - a token bucket kept as a theoretical arrival time; see budget.h. */
#include "config.h"

#include "common/budget.h"

void bgt_init(struct budget *b, uint32_t burst, uint32_t interval_ms)
{
	b->burst = burst ? burst : 1;
	b->interval_ms = interval_ms ? interval_ms : 1;
	b->tat_ms = 0;
	b->taken = 0;
	b->refused = 0;
}

/* The depth of the bucket in ms of refill: burst - 1 tokens may be owed ahead of now. */
static uint64_t depth_ms(const struct budget *b)
{
	return (uint64_t)(b->burst - 1) * b->interval_ms;
}

uint64_t bgt_wait_ms(const struct budget *b, uint64_t now_ms)
{
	uint64_t tat = b->tat_ms > now_ms ? b->tat_ms : now_ms;

	return tat - now_ms > depth_ms(b) ? tat - now_ms - depth_ms(b) : 0;
}

uint64_t bgt_take(struct budget *b, uint64_t now_ms)
{
	uint64_t wait = bgt_wait_ms(b, now_ms);

	if (wait) {
		b->refused++;
		return wait;
	}
	b->tat_ms = (b->tat_ms > now_ms ? b->tat_ms : now_ms) + b->interval_ms;
	b->taken++;
	return 0;
}

uint32_t bgt_tokens(const struct budget *b, uint64_t now_ms)
{
	uint64_t owed = b->tat_ms > now_ms ? b->tat_ms - now_ms : 0;
	uint64_t used = (owed + b->interval_ms - 1) / b->interval_ms;

	return used >= b->burst ? 0 : b->burst - (uint32_t)used;
}

uint64_t bgt_max_in(const struct budget *b, uint64_t window_ms)
{
	return b->burst + window_ms / b->interval_ms;
}
