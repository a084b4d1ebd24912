/* test_ev.c - the event loop: timer order and accuracy, fd watchers, signals. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"

#define TOLERANCE_MS 15   /* late by at most this on an idle 2-core machine */

struct probe {
	struct ev_timer t;
	int id;
	uint64_t fired_at;
};

static int order[16];
static int norder;

static void probe_cb(struct ev_timer *t)
{
	struct probe *p = container_of(t, struct probe, t);

	p->fired_at = ev_now_ms();
	order[norder++] = p->id;
}

static int setup(void **state)
{
	norder = 0;
	return ev_init();
}

static int teardown(void **state)
{
	ev_done();
	return 0;
}

static void run_until(uint64_t deadline_ms, int want)
{
	while (norder < want && ev_now_ms() < deadline_ms)
		assert_true(ev_run_once(50) >= 0);
}

static void test_timers_fire_in_order_and_on_time(void **state)
{
	struct probe p[5];
	static const int delays[5] = { 120, 30, 60, 60, 0 };
	uint64_t start = ev_now_ms();
	int i;

	for (i = 0; i < 5; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].id = i;
		p[i].t.cb = probe_cb;
		ev_timer_set(&p[i].t, (uint64_t)delays[i]);
	}
	run_until(start + 1000, 5);
	assert_int_equal(norder, 5);
	/* 0 ms first, then 30, then the two 60 ms timers in arming order, then 120. */
	assert_int_equal(order[0], 4);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
	assert_int_equal(order[4], 0);
	for (i = 0; i < 5; i++) {
		uint64_t elapsed = p[i].fired_at - start;

		assert_true(elapsed >= (uint64_t)delays[i]);           /* never early */
		assert_true(elapsed <= (uint64_t)delays[i] + TOLERANCE_MS);
	}
}

static void test_timer_cancel_and_rearm(void **state)
{
	struct probe a = { .id = 1 }, b = { .id = 2 };
	uint64_t start = ev_now_ms();

	a.t.cb = probe_cb;
	b.t.cb = probe_cb;
	ev_timer_set(&a.t, 20);
	ev_timer_set(&b.t, 40);
	assert_true(ev_timer_pending(&a.t));
	ev_timer_cancel(&a.t);
	ev_timer_cancel(&a.t);          /* twice is harmless */
	assert_false(ev_timer_pending(&a.t));
	ev_timer_set(&b.t, 10);         /* re-arming moves it */
	run_until(start + 500, 1);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 2);
	assert_true(b.fired_at - start < 40);
	/* Nothing else fires. */
	assert_true(ev_run_once(60) >= 0);
	assert_int_equal(norder, 1);
}

struct rearm {
	struct ev_timer t;
	int count;
};

static void rearm_cb(struct ev_timer *t)
{
	struct rearm *r = container_of(t, struct rearm, t);

	if (++r->count < 3)
		ev_timer_set(t, 0);     /* a zero re-arm runs in the next round, not in a loop */
}

static void test_timer_rearm_from_callback(void **state)
{
	struct rearm r = { .t.cb = rearm_cb };
	int rounds = 0;

	ev_timer_set(&r.t, 0);
	while (r.count < 3 && rounds < 10) {
		ev_run_once(10);
		rounds++;
	}
	assert_int_equal(r.count, 3);
	assert_int_equal(rounds, 3);
}

struct reader {
	struct ev_fd f;
	char buf[16];
	int hits;
	unsigned last;
};

static void reader_cb(struct ev_fd *f, unsigned events)
{
	struct reader *r = container_of(f, struct reader, f);
	ssize_t n = read(f->fd, r->buf, sizeof(r->buf));

	r->hits++;
	r->last = events;
	if (n <= 0)
		ev_fd_del(f);
}

static void test_fd_read_and_hangup(void **state)
{
	struct reader r = { .f.cb = reader_cb };
	int p[2];

	assert_int_equal(pipe(p), 0);
	r.f.fd = p[0];
	assert_int_equal(ev_fd_add(&r.f, EV_READ), 0);
	assert_int_equal(ev_run_once(0), 0);    /* nothing to read yet */
	assert_int_equal(write(p[1], "hi", 2), 2);
	assert_int_equal(ev_run_once(100), 1);
	assert_int_equal(r.hits, 1);
	assert_memory_equal(r.buf, "hi", 2);
	close(p[1]);
	assert_int_equal(ev_run_once(100), 1);
	assert_true(r.last & EV_READ);
	assert_int_equal(r.hits, 2);
	/* Removed itself on EOF: no more callbacks. */
	assert_int_equal(ev_run_once(20), 0);
	close(p[0]);
}



/* A callback that removes another watcher of the same batch: it must not run. */
static struct ev_fd *victim;
static int victim_calls, killer_calls;

static void killer_cb(struct ev_fd *f, unsigned events)
{
	char c;

	(void)!read(f->fd, &c, 1);
	killer_calls++;
	if (victim) {
		ev_fd_del(victim);
		victim = NULL;
	}
}

static void victim_cb(struct ev_fd *f, unsigned events)
{
	char c;

	(void)!read(f->fd, &c, 1);
	victim_calls++;
	if (victim) {
		ev_fd_del(victim);
		victim = NULL;
	}
}

static void test_fd_removed_mid_batch(void **state)
{
	struct ev_fd a = { .cb = killer_cb }, b = { .cb = victim_cb };
	int p1[2], p2[2];

	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	a.fd = p1[0];
	b.fd = p2[0];
	ev_fd_add(&a, EV_READ);
	ev_fd_add(&b, EV_READ);
	assert_int_equal(write(p1[1], "x", 1), 1);
	assert_int_equal(write(p2[1], "x", 1), 1);
	/* Whichever runs first removes the other. */
	victim = &b;
	killer_calls = victim_calls = 0;
	ev_run_once(100);
	assert_int_equal(killer_calls + victim_calls, 1);
	ev_fd_del(&a);
	ev_fd_del(&b);
	close(p1[0]); close(p1[1]); close(p2[0]); close(p2[1]);
}

static int sig_hits;

static void sig_cb(struct ev_signal *s)
{
	sig_hits++;
}

static void test_signal_becomes_callback(void **state)
{
	struct ev_signal s = { .signo = SIGUSR1, .cb = sig_cb };
	int rounds = 0;

	sig_hits = 0;
	assert_int_equal(ev_signal_add(&s), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	assert_int_equal(sig_hits, 0);           /* not called from the handler */
	while (sig_hits == 0 && rounds++ < 20)
		ev_run_once(50);
	assert_int_equal(sig_hits, 1);
	/* Two signals before the loop runs are one wake-up, at least one call. */
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	rounds = 0;
	while (sig_hits < 2 && rounds++ < 20)
		ev_run_once(50);
	assert_true(sig_hits >= 2);
	ev_signal_del(&s);
}

static void stop_cb(struct ev_timer *t)
{
	ev_stop();
}

static struct ev_fd vf;
static uint64_t vf_at;

static void virt_fd_cb(struct ev_fd *w, unsigned ev)
{
	char c;

	if (read(w->fd, &c, 1) == 1)
		vf_at = ev_now_ms();
}

/* Virtual time: timers fire at their exact deadlines, in order, without
 * sleeping; a real fd is served before time moves on. */
static void test_virtual_clock(void **state)
{
	struct probe p[4];
	static const int delays[4] = { 3600000, 20, 20, 1 };
	int i, fds[2];
	char c = 'x';

	ev_clock_virtual(1000000);
	assert_true(ev_clock_is_virtual());
	assert_int_equal(ev_now_ms(), 1000);
	for (i = 0; i < 4; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].id = i;
		p[i].t.cb = probe_cb;
		ev_timer_set(&p[i].t, (uint64_t)delays[i]);
	}
	assert_true(ev_clock_advance_ms(19) > 0);
	assert_int_equal(norder, 1);
	assert_int_equal(p[3].fired_at, 1001);
	assert_int_equal(ev_now_ms(), 1019);
	assert_true(ev_clock_advance_ms(1) > 0);
	assert_int_equal(norder, 3);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	assert_int_equal(p[1].fired_at, 1020);
	/* an hour passes at once; ev_run_once(-1) jumps straight to the timer */
	assert_int_equal(ev_run_once(-1), 1);
	assert_int_equal(p[0].fired_at, 1000 + 3600000);
	/* nothing armed: time does not run away */
	assert_int_equal(ev_run_once(-1), 0);
	assert_int_equal(ev_now_ms(), 1000 + 3600000);
	assert_int_equal(ev_run_once(250), 0);
	assert_int_equal(ev_now_ms(), 1000 + 3600000 + 250);
	/* a ready fd runs before the clock moves */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], &c, 1), 1);
	vf.fd = fds[0];
	vf.cb = virt_fd_cb;
	vf_at = 0;
	assert_int_equal(ev_fd_add(&vf, EV_READ), 0);
	ev_timer_set(&p[0].t, 5);
	assert_true(ev_clock_advance_ms(10) >= 2);
	assert_int_equal(vf_at, 1000 + 3600000 + 250);
	assert_int_equal(p[0].fired_at, 1000 + 3600000 + 255);
	ev_fd_del(&vf);
	close(fds[0]);
	close(fds[1]);
	ev_done();
	assert_false(ev_clock_is_virtual());
	assert_int_equal(ev_init(), 0);
}

static void test_run_until_stop(void **state)
{
	struct ev_timer t = { .cb = stop_cb };
	uint64_t start = ev_now_ms();

	ev_timer_set(&t, 30);
	assert_int_equal(ev_run(), 0);
	assert_true(ev_now_ms() - start >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timers_fire_in_order_and_on_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_cancel_and_rearm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_rearm_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_read_and_hangup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_removed_mid_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_becomes_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_until_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_clock, setup, teardown),
	};
	return cmocka_run_group_tests_name("ev", tests, NULL, NULL);
}
