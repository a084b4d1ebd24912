/* load.c - the phone's own timer lateness and CPU pressure during a self-test. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"
#include "diag/load.h"

struct sample {
	uint64_t due_ms;
	uint32_t late_ms;
};

struct diag_load {
	struct ev_timer tick;
	uint64_t due_us;
	bool running;
	unsigned n, head;                    /* ring of the newest samples */
	struct sample s[DIAG_LOAD_SAMPLES];
};

static void on_tick(struct ev_timer *t)
{
	struct diag_load *l = container_of(t, struct diag_load, tick);
	uint64_t now = ev_now_us(), late = now > l->due_us ? now - l->due_us : 0;
	struct sample *s = &l->s[l->head];

	s->due_ms = l->due_us / 1000;
	s->late_ms = late / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(late / 1000);
	l->head = (l->head + 1) % DIAG_LOAD_SAMPLES;
	if (l->n < DIAG_LOAD_SAMPLES)
		l->n++;
	l->due_us = now + DIAG_LOAD_TICK_MS * 1000;
	ev_timer_set(&l->tick, DIAG_LOAD_TICK_MS);
}

struct diag_load *diag_load_new(void)
{
	struct diag_load *l = calloc(1, sizeof(*l));

	if (l)
		l->tick.cb = on_tick;
	return l;
}

void diag_load_start(struct diag_load *l)
{
	if (!l || l->running)
		return;
	l->running = true;
	l->due_us = ev_now_us() + DIAG_LOAD_TICK_MS * 1000;
	ev_timer_set(&l->tick, DIAG_LOAD_TICK_MS);
}

void diag_load_stop(struct diag_load *l)
{
	if (!l)
		return;
	l->running = false;
	ev_timer_cancel(&l->tick);
}

void diag_load_free(struct diag_load *l)
{
	diag_load_stop(l);
	free(l);
}

uint64_t diag_load_late_max_ms(const struct diag_load *l, uint64_t from_ms, uint64_t to_ms, unsigned *nticks)
{
	uint64_t worst = 0;
	unsigned cnt = 0;

	for (unsigned i = 0; l && i < l->n; i++) {
		const struct sample *s = &l->s[(l->head + DIAG_LOAD_SAMPLES - 1 - i) % DIAG_LOAD_SAMPLES];

		if (s->due_ms < from_ms || s->due_ms > to_ms)
			continue;
		cnt++;
		if (s->late_ms > worst)
			worst = s->late_ms;
	}
	if (nticks)
		*nticks = cnt;
	return worst;
}

static int read_small(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

int diag_load_psi(const char *path, double *some_avg10)
{
	char buf[512];
	const char *p;
	int err = read_small(path, buf, sizeof(buf));

	if (err)
		return err;
	p = strstr(buf, "some avg10=");
	if (!p || sscanf(p, "some avg10=%lf", some_avg10) != 1 || *some_avg10 < 0 || *some_avg10 > 100)
		return -EINVAL;
	return 0;
}

int diag_load_avg_per_cpu(const char *path, double *per_cpu)
{
	char buf[256];
	double a;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int err = read_small(path, buf, sizeof(buf));

	if (err)
		return err;
	if (sscanf(buf, "%lf", &a) != 1 || a < 0 || a > 1e6)
		return -EINVAL;
	*per_cpu = a / (double)(ncpu > 0 ? ncpu : 1);
	return 0;
}

void diag_load_judge(uint64_t late_ms, double psi, double load_per_cpu, uint64_t duration_ms,
		     struct diag_busy *out)
{
	uint64_t bound = duration_ms / 10 > 100 ? duration_ms / 10 : 100;
	bool pressed = psi >= 80.0 || (psi < 0 && load_per_cpu >= 4.0);
	size_t l;

	memset(out, 0, sizeof(*out));
	out->late_ms = late_ms;
	out->psi = psi;
	out->load_per_cpu = load_per_cpu;
	out->busy = late_ms >= bound || (late_ms >= 50 && pressed);
	snprintf(out->why, sizeof(out->why), "its own timers ran up to %llu ms late", (unsigned long long)late_ms);
	l = strlen(out->why);
	if (psi >= 0)
		snprintf(out->why + l, sizeof(out->why) - l, "; CPU pressure %.0f %% (avg10)", psi);
	else if (load_per_cpu >= 0)
		snprintf(out->why + l, sizeof(out->why) - l, "; load %.1f per CPU", load_per_cpu);
}
