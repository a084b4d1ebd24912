/* test_ev.c - the event loop: timer order and exact instants on the virtual
 * clock, fd watchers, signals, the virtual clock's own edge cases, and one
 * sanity test of the real clock that asserts only what the kernel promises. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "common/ev.h"
#include "common/util.h"

#define T0_US 1000000u     /* where the virtual clock starts: 1000 ms */

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
	if (ev_init() < 0)
		return -1;
	ev_clock_virtual(T0_US);
	return 0;
}

/* The real-clock sanity test only. */
static int setup_real(void **state)
{
	norder = 0;
	return ev_init();
}

static int teardown(void **state)
{
	ev_done();
	return 0;
}

/* Run the loop (virtual time) until want probes fired or the clock passed deadline_ms. */
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

	assert_int_equal(start, T0_US / 1000u);
	for (i = 0; i < 5; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].id = i;
		p[i].t.cb = probe_cb;
		ev_timer_set(&p[i].t, (uint64_t)delays[i]);
	}
	assert_int_equal(ev_timer_remaining_ms(&p[0].t), 120);
	run_until(start + 1000, 5);
	assert_int_equal(norder, 5);
	/* 0 ms first, then 30, then the two 60 ms timers in arming order, then 120. */
	assert_int_equal(order[0], 4);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
	assert_int_equal(order[4], 0);
	/* each at its exact deadline */
	for (i = 0; i < 5; i++)
		assert_int_equal(p[i].fired_at - start, delays[i]);
	assert_int_equal(ev_now_ms(), start + 120);
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
	assert_int_equal(ev_clock_advance_ms(500), 1);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 2);
	assert_int_equal(b.fired_at, start + 10);
	assert_false(ev_timer_pending(&b.t));
	assert_int_equal(ev_timer_remaining_ms(&b.t), 0);
	/* Nothing else fires. */
	assert_int_equal(ev_run_once(60), 0);
	assert_int_equal(norder, 1);
	assert_int_equal(ev_now_ms(), start + 560);
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
		assert_int_equal(ev_run_once(10), 1);
		rounds++;
	}
	assert_int_equal(r.count, 3);
	assert_int_equal(rounds, 3);
	/* all three at the one instant: a zero re-arm does not move the clock */
	assert_int_equal(ev_now_ms(), T0_US / 1000u);
	/* ev_clock_advance_ms runs the zero re-arms at the same instant, too */
	r.count = 0;
	ev_timer_set(&r.t, 7);
	assert_int_equal(ev_clock_advance_ms(7), 3);
	assert_int_equal(r.count, 3);
	assert_int_equal(ev_now_ms(), T0_US / 1000u + 7);
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
	assert_int_equal(ev_run_once(0), 0);
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
	assert_int_equal(ev_now_ms() - start, 30);
}

/* Timers armed by a callback: for the same instant they run at that instant
 * (after the callback's round), later ones at their own deadlines; the count
 * ev_clock_advance_ms returns is exact. */
static struct probe chain_b, chain_c;

static void chain_cb(struct ev_timer *t)
{
	probe_cb(t);
	ev_timer_set(&chain_b.t, 0);
	ev_timer_set(&chain_c.t, 5);
}

static void test_virtual_armed_from_callback(void **state)
{
	struct probe a = { .id = 1 };

	memset(&chain_b, 0, sizeof(chain_b));
	memset(&chain_c, 0, sizeof(chain_c));
	a.t.cb = chain_cb;
	chain_b.id = 2;
	chain_b.t.cb = probe_cb;
	chain_c.id = 3;
	chain_c.t.cb = probe_cb;
	ev_timer_set(&a.t, 10);
	assert_int_equal(ev_clock_advance_ms(10), 2);
	assert_int_equal(norder, 2);
	assert_int_equal(a.fired_at, 1010);
	assert_int_equal(chain_b.fired_at, 1010);
	assert_true(ev_timer_pending(&chain_c.t));
	assert_int_equal(ev_timer_remaining_ms(&chain_c.t), 5);
	assert_int_equal(ev_clock_advance_ms(4), 0);
	assert_int_equal(ev_clock_advance_ms(1), 1);
	assert_int_equal(chain_c.fired_at, 1015);
	assert_int_equal(order[2], 3);
	/* ev_run_once(max) with the timer beyond max moves by max exactly */
	ev_timer_set(&a.t, 100);
	a.t.cb = probe_cb;
	assert_int_equal(ev_run_once(30), 0);
	assert_int_equal(ev_now_ms(), 1045);
	assert_int_equal(ev_run_once(70), 1);
	assert_int_equal(a.fired_at, 1115);
	assert_int_equal(ev_now_ms(), 1115);
	/* the clock cannot overflow */
	assert_int_equal(ev_clock_advance_ms(UINT64_MAX), -ERANGE);
	assert_int_equal(ev_now_ms(), 1115);
}

/* A stall: the clock jumps, timers keep their deadlines and run late, in order. */
static void test_virtual_stall(void **state)
{
	struct probe a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

	a.t.cb = b.t.cb = c.t.cb = probe_cb;
	ev_timer_set(&a.t, 10);
	ev_timer_set(&b.t, 20);
	ev_timer_set(&c.t, 50);
	assert_int_equal(ev_clock_stall_ms(35), 0);
	assert_int_equal(norder, 0);                 /* nothing runs during a stall */
	assert_int_equal(ev_now_ms(), 1035);
	assert_int_equal(ev_run_once(100), 2);       /* both late ones in one round */
	assert_int_equal(a.fired_at, 1035);
	assert_int_equal(b.fired_at, 1035);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(ev_run_once(100), 1);
	assert_int_equal(c.fired_at, 1050);
	assert_int_equal(ev_clock_stall_ms(UINT64_MAX), -ERANGE);
	ev_done();
	assert_int_equal(ev_init(), 0);
	assert_int_equal(ev_clock_stall_ms(1), -EINVAL);
}

/* Switching to virtual time keeps what armed timers had left. */
static void test_virtual_rebases_armed_timers(void **state)
{
	struct probe a = { .id = 1 }, b = { .id = 2 };

	ev_done();
	assert_int_equal(ev_init(), 0);
	assert_false(ev_clock_is_virtual());
	a.t.cb = probe_cb;
	b.t.cb = probe_cb;
	ev_timer_set(&a.t, 500);           /* on the real clock */
	ev_clock_virtual(T0_US);
	/* real time passed between arming and switching; never more than 500 ms was left */
	assert_true(ev_timer_pending(&a.t));
	assert_in_range(ev_timer_remaining_ms(&a.t), 1, 500);
	assert_int_equal(ev_clock_advance_ms(500), 1);
	assert_in_range(a.fired_at, 1000, 1500);
	/* virtual to virtual: exact */
	ev_timer_set(&b.t, 250);            /* due at 1750 */
	assert_int_equal(ev_clock_advance_ms(50), 0);
	ev_clock_virtual(5000000);          /* 200 ms left */
	assert_int_equal(ev_timer_remaining_ms(&b.t), 200);
	assert_int_equal(ev_clock_advance_ms(199), 0);
	assert_int_equal(ev_clock_advance_ms(1), 1);
	assert_int_equal(b.fired_at, 5200);
	/* ev_done forgets the virtual clock */
	ev_done();
	assert_false(ev_clock_is_virtual());
	assert_int_equal(ev_clock_advance_ms(1), -EINVAL);
	assert_int_equal(ev_init(), 0);
	assert_false(ev_clock_is_virtual());
	assert_int_equal(ev_clock_advance_ms(1), -EINVAL);
}

/* With fds but no timer, ev_run_once(-1) waits for the real fd (here a kernel
 * timerfd) without spinning and without moving the clock. */
static void test_virtual_fds_without_timers(void **state)
{
	struct reader r = { .f.cb = reader_cb };
	struct itimerspec its = { .it_value.tv_nsec = 20 * 1000000 };
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	assert_true(tfd >= 0);
	r.f.fd = tfd;
	assert_int_equal(ev_fd_add(&r.f, EV_READ), 0);
	assert_int_equal(timerfd_settime(tfd, 0, &its, NULL), 0);
	assert_int_equal(ev_run_once(-1), 1);
	assert_int_equal(r.hits, 1);
	assert_int_equal(ev_now_ms(), T0_US / 1000u);
	ev_fd_del(&r.f);
	close(tfd);
}

static int busy_calls;

static void busy_cb(struct ev_fd *f, unsigned events)
{
	busy_calls++;                      /* nothing to drain: stays ready */
}

/* An fd that is always ready holds virtual time still; advancing says so
 * instead of spinning forever, and the clock has not moved. */
static void test_virtual_busy_fd(void **state)
{
	struct ev_fd f = { .cb = busy_cb };
	int p[2];

	assert_int_equal(pipe(p), 0);
	f.fd = p[1];
	assert_int_equal(ev_fd_add(&f, EV_WRITE), 0);   /* an empty pipe is always writable */
	busy_calls = 0;
	assert_int_equal(ev_clock_advance_ms(10), -ELOOP);
	assert_int_equal(busy_calls, 100001);
	/* ev_run_once says so too, at once now that the budget is spent */
	assert_int_equal(ev_run_once(10), -ELOOP);
	assert_int_equal(busy_calls, 100002);
	assert_int_equal(ev_now_ms(), T0_US / 1000u);
	assert_int_equal(ev_now_ms(), T0_US / 1000u);
	ev_fd_del(&f);
	close(p[0]);
	close(p[1]);
}

/* The one real-clock test. Model: epoll_wait sleeps at least its timeout and
 * the loop rounds the wait up to whole ms, so a timer never fires early and no
 * wake-up is empty; how late it fires depends on the machine's load, so that
 * is not asserted (a busy CPU may even run two timers in one wake-up). */
static void test_real_clock_never_early(void **state)
{
	static const int delays[3] = { 0, 10, 20 };
	struct probe p[3];
	uint64_t start = ev_now_ms();
	int i, calls = 0;

	assert_false(ev_clock_is_virtual());
	for (i = 0; i < 3; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].id = i;
		p[i].t.cb = probe_cb;
		ev_timer_set(&p[i].t, (uint64_t)delays[i]);
	}
	while (norder < 3 && calls < 3) {
		assert_true(ev_run_once(-1) >= 1);         /* no empty wake-up */
		calls++;
	}
	assert_int_equal(norder, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(order[i], i);
		assert_true(p[i].fired_at >= start + (uint64_t)delays[i]);   /* never early */
	}
}

/* ev_rounds(): one per round that ran a callback (two timers due at the same
 * instant are one round; so is one deadline of ev_clock_advance_ms), none for
 * a round that only moved the clock. */
static void test_rounds_count(void **state)
{
	struct probe a = { .id = 1 }, b = { .id = 2 };
	uint64_t r0 = ev_rounds();

	a.t.cb = probe_cb;
	b.t.cb = probe_cb;
	ev_timer_set(&a.t, 100);
	ev_timer_set(&b.t, 100);
	assert_int_equal(ev_run_once(1000), 2);
	assert_int_equal(ev_rounds() - r0, 1);
	ev_timer_set(&a.t, 5000);
	assert_int_equal(ev_run_once(1000), 0);     /* the clock moved 1 s, nothing ran */
	assert_int_equal(ev_rounds() - r0, 1);
	assert_int_equal(ev_clock_advance_ms(5000), 1);
	assert_int_equal(ev_rounds() - r0, 2);
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
		cmocka_unit_test_setup_teardown(test_virtual_armed_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_rebases_armed_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_fds_without_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_busy_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rounds_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_clock_never_early, setup_real, teardown),
	};
	return cmocka_run_group_tests_name("ev", tests, NULL, NULL);
}
