/* ev.c - epoll loop with embedded timers, fd and signal watchers. */
#include "config.h"

#include "common/ev.h"
#include "common/sysc.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define EV_MAX_SIGNAL 65
#define EV_BATCH 32

static struct {
	int epfd;
	int wake[2];
	struct ev_timer *timers;       /* sorted by (due_us, seq) */
	uint64_t seq;
	struct ev_signal *signals;
	bool stop;
	bool ready;
	struct epoll_event *batch;     /* events being dispatched, for ev_fd_del */
	int batch_len;
	bool virt;                     /* tests: time moves only when the loop is idle */
	unsigned hold;                 /* tests: real work outside (a child) holds virtual time */
	uint64_t virt_us;
	uint64_t still_us;             /* the instant of the rounds counted in still_rounds */
	unsigned still_rounds;         /* busy rounds at that instant: time held still */
	uint64_t rounds;               /* rounds that ran a callback (ev_rounds) */
} loop = { .epfd = -1, .wake = { -1, -1 } };

static volatile sig_atomic_t sig_flag[EV_MAX_SIGNAL];
static char removed_marker;        /* batch slots of watchers removed mid-batch */
static volatile sig_atomic_t wake_fd = -1;

uint64_t ev_now_us(void)
{
	struct timespec ts;

	if (loop.virt)
		return loop.virt_us;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t ev_now_ms(void)
{
	return ev_now_us() / 1000u;
}

static void on_signal(int signo)
{
	int saved = errno;
	char c = (char)signo;

	if (signo > 0 && signo < EV_MAX_SIGNAL)
		sig_flag[signo] = 1;
	if (wake_fd >= 0)
		(void)!write(wake_fd, &c, 1);
	errno = saved;
}

int ev_init(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	if (loop.ready)
		return 0;
	loop.epfd = sysc_epoll_create1(EPOLL_CLOEXEC);
	if (loop.epfd < 0)
		return -errno;
	if (sysc_pipe2(loop.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		err = -errno;
		goto out;
	}
	ev.data.ptr = NULL;            /* NULL marks the wake-up pipe */
	if (epoll_ctl(loop.epfd, EPOLL_CTL_ADD, loop.wake[0], &ev) < 0) {
		err = -errno;
		goto out;
	}
	wake_fd = loop.wake[1];
	loop.timers = NULL;
	loop.rounds = 0;
	loop.signals = NULL;
	loop.stop = false;
	loop.ready = true;
	return 0;
out:
	ev_done();
	return err;
}

void ev_done(void)
{
	while (loop.signals)
		ev_signal_del(loop.signals);
	while (loop.timers)
		ev_timer_cancel(loop.timers);
	wake_fd = -1;
	loop.virt = false;
	if (loop.wake[0] >= 0)
		close(loop.wake[0]);
	if (loop.wake[1] >= 0)
		close(loop.wake[1]);
	if (loop.epfd >= 0)
		close(loop.epfd);
	loop.wake[0] = loop.wake[1] = loop.epfd = -1;
	loop.ready = false;
}

/* ---------------------------------------------------------------- timers */

void ev_timer_cancel(struct ev_timer *t)
{
	struct ev_timer **pp;

	if (!t->pending)
		return;
	for (pp = &loop.timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->pending = false;
}

void ev_timer_set_us(struct ev_timer *t, uint64_t us)
{
	struct ev_timer **pp;

	ev_timer_cancel(t);
	t->due_us = ev_now_us() + us;
	t->seq = ++loop.seq;
	/* Equal deadlines fire in the order they were armed. */
	for (pp = &loop.timers; *pp && (*pp)->due_us <= t->due_us; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->pending = true;
}

void ev_timer_set(struct ev_timer *t, uint64_t ms)
{
	ev_timer_set_us(t, ms * 1000u);
}

bool ev_timer_pending(const struct ev_timer *t)
{
	return t->pending;
}

uint64_t ev_timer_remaining_ms(const struct ev_timer *t)
{
	uint64_t now;

	if (!t->pending)
		return 0;
	now = ev_now_us();
	return t->due_us > now ? (t->due_us - now + 999u) / 1000u : 0;
}

/* Run the timers that are due now; timers armed by callbacks wait for the next round. */
static int run_timers(void)
{
	uint64_t now = ev_now_us(), limit = loop.seq;
	int n = 0;

	while (loop.timers && loop.timers->due_us <= now && loop.timers->seq <= limit) {
		struct ev_timer *t = loop.timers;

		loop.timers = t->next;
		t->next = NULL;
		t->pending = false;
		t->cb(t);
		n++;
	}
	return n;
}

static int next_timeout_ms(int max_wait_ms)
{
	uint64_t now, wait;

	if (!loop.timers)
		return max_wait_ms;
	now = ev_now_us();
	if (loop.timers->due_us <= now)
		return 0;
	/* Round up so a timer never fires early. */
	wait = (loop.timers->due_us - now + 999u) / 1000u;
	if (max_wait_ms >= 0 && wait > (uint64_t)max_wait_ms)
		return max_wait_ms;
	return wait > 86400000u ? 86400000 : (int)wait;
}

/* ---------------------------------------------------------------- virtual time */

/* Move the virtual clock to the first timer, or by max_wait_ms when that comes
 * first (never backwards, never with nothing to wait for). */
static void virt_step(int max_wait_ms)
{
	uint64_t to, max_us = max_wait_ms >= 0 ? (uint64_t)max_wait_ms * 1000u : UINT64_MAX;

	if (loop.timers && (loop.timers->due_us <= loop.virt_us ||
			    loop.timers->due_us - loop.virt_us <= max_us))
		to = loop.timers->due_us;
	else if (max_wait_ms >= 0)
		to = loop.virt_us + max_us;
	else
		return;
	if (to > loop.virt_us)
		loop.virt_us = to;
}

void ev_clock_virtual(uint64_t start_us)
{
	uint64_t now = ev_now_us();
	struct ev_timer *t;

	/* Timers armed before the switch keep the time they had left. */
	for (t = loop.timers; t; t = t->next)
		t->due_us = start_us + (t->due_us > now ? t->due_us - now : 0);
	loop.virt = true;
	loop.virt_us = start_us;
	loop.still_rounds = 0;
}

bool ev_clock_is_virtual(void)
{
	return loop.virt;
}

void ev_clock_hold(bool on)
{
	if (on)
		loop.hold++;
	else if (loop.hold)
		loop.hold--;
}

/* A callback that re-arms itself with no delay, or an fd that is always
 * ready, would hold virtual time still: bound the rounds at one instant. */
#define EV_VIRT_MAX_ROUNDS 100000

/* Count a busy round on the virtual clock; -ELOOP when too many at one instant. */
static int virt_busy_round(void)
{
	if (loop.virt_us != loop.still_us) {
		loop.still_us = loop.virt_us;
		loop.still_rounds = 0;
	}
	return ++loop.still_rounds > EV_VIRT_MAX_ROUNDS ? -ELOOP : 0;
}

/* Run everything ready at this instant; ev_run_once says -ELOOP if it never ends. */
static int virt_drain(int *n)
{
	int r;

	/* a child at work (ev_clock_hold): wait for it in real time */
	while ((r = ev_run_once(loop.hold ? -1 : 0)) > 0 || (r == 0 && loop.hold))
		*n += r;
	return r;
}

int ev_clock_advance_ms(uint64_t ms)
{
	uint64_t end;
	int n = 0, r;

	if (!loop.virt || !loop.ready)
		return -EINVAL;
	if (ms > UINT64_MAX / 1000u - loop.virt_us / 1000u - 1u)
		return -ERANGE;
	end = loop.virt_us + ms * 1000u;
	for (;;) {
		/* everything ready now runs before time moves on */
		r = virt_drain(&n);
		if (r < 0)
			return r;
		if (!loop.timers || loop.timers->due_us > end)
			break;
		if (loop.timers->due_us > loop.virt_us)
			loop.virt_us = loop.timers->due_us;
		r = run_timers();
		if (r > 0)
			loop.rounds++;
		n += r;
	}
	loop.virt_us = end;
	r = virt_drain(&n);
	return r < 0 ? r : n;
}

int ev_clock_stall_ms(uint64_t ms)
{
	if (!loop.virt)
		return -EINVAL;
	if (ms > UINT64_MAX / 1000u - loop.virt_us / 1000u - 1u)
		return -ERANGE;
	loop.virt_us += ms * 1000u;
	return 0;
}

/* ---------------------------------------------------------------- fds */

static uint32_t to_epoll(unsigned events)
{
	uint32_t e = 0;

	if (events & EV_READ)
		e |= EPOLLIN;
	if (events & EV_WRITE)
		e |= EPOLLOUT;
	return e;
}

int ev_fd_add(struct ev_fd *f, unsigned events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = f };

	if (!loop.ready || f->fd < 0)
		return -EINVAL;
	if (epoll_ctl(loop.epfd, f->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, f->fd, &ev) < 0)
		return -errno;
	f->events = events;
	f->registered = true;
	return 0;
}

void ev_fd_del(struct ev_fd *f)
{
	int i;

	if (!f->registered)
		return;
	/* The owner may free f right after this: forget it in the current batch. */
	for (i = 0; i < loop.batch_len; i++)
		if (loop.batch[i].data.ptr == f)
			loop.batch[i].data.ptr = &removed_marker;
	if (loop.epfd >= 0)
		epoll_ctl(loop.epfd, EPOLL_CTL_DEL, f->fd, NULL);
	f->registered = false;
	f->events = 0;
}

/* ---------------------------------------------------------------- signals */

int ev_signal_add(struct ev_signal *s)
{
	struct sigaction sa;

	if (!loop.ready || s->signo <= 0 || s->signo >= EV_MAX_SIGNAL)
		return -EINVAL;
	if (s->registered)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;       /* sa_mask: memset made it empty */
	sa.sa_flags = SA_RESTART;
	if (sigaction(s->signo, &sa, NULL) < 0)
		return -errno;
	sig_flag[s->signo] = 0;
	s->next = loop.signals;
	loop.signals = s;
	s->registered = true;
	return 0;
}

void ev_signal_del(struct ev_signal *s)
{
	struct ev_signal **pp;
	struct sigaction sa;

	if (!s->registered)
		return;
	for (pp = &loop.signals; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	memset(&sa, 0, sizeof(sa));      /* SIG_DFL (sigaction: one libc import less than signal) */
	sigaction(s->signo, &sa, NULL);
	s->registered = false;
	s->next = NULL;
}

static int run_signals(void)
{
	char buf[64];
	struct ev_signal *s, *next;
	int n = 0;

	while (read(loop.wake[0], buf, sizeof(buf)) > 0)
		;
	for (s = loop.signals; s; s = next) {
		next = s->next;
		if (sig_flag[s->signo]) {
			sig_flag[s->signo] = 0;
			s->cb(s);
			n++;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- loop */

/* How long epoll may sleep. On the virtual clock only when no timer is armed
 * and the caller waits without bound: then nothing but a real fd (or signal)
 * can happen, exactly as on the real clock, and spinning would only burn CPU. */
static int poll_timeout_ms(int max_wait_ms)
{
	if (!loop.virt)
		return next_timeout_ms(max_wait_ms);
	if (loop.hold)
		return max_wait_ms;
	return !loop.timers && max_wait_ms < 0 ? -1 : 0;
}

int ev_run_once(int max_wait_ms)
{
	struct epoll_event evs[EV_BATCH];
	int i, nev, n = 0;

	if (!loop.ready)
		return -EINVAL;
	nev = epoll_wait(loop.epfd, evs, EV_BATCH, poll_timeout_ms(max_wait_ms));
	if (nev < 0) {
		if (errno != EINTR)
			return -errno;
		nev = 0;
	}
	loop.batch = evs;
	loop.batch_len = nev;
	for (i = 0; i < nev; i++) {
		struct ev_fd *f = evs[i].data.ptr;
		unsigned what = 0;

		if (!f) {
			n += run_signals();
			continue;
		}
		/* A callback earlier in this batch may have removed f. */
		if (f == (void *)&removed_marker)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			what |= EV_READ;
		if (evs[i].events & EPOLLOUT)
			what |= EV_WRITE;
		if (evs[i].events & (EPOLLHUP | EPOLLERR))
			what |= EV_ERROR;
		f->cb(f, what);
		n++;
	}
	loop.batch = NULL;
	loop.batch_len = 0;
	/* Virtual time moves only when nothing is ready: to the first timer, or
	 * by max_wait_ms when that comes first. */
	if (loop.virt && n == 0 && !loop.hold)
		virt_step(max_wait_ms);
	else if (loop.virt && virt_busy_round() < 0)
		return -ELOOP;
	/* Signals that arrived between epoll_wait and here are not lost: their
	 * byte stays in the pipe and wakes the next round. */
	n += run_timers();
	if (n > 0)
		loop.rounds++;
	return n;
}

uint64_t ev_rounds(void)
{
	return loop.rounds;
}

int ev_run(void)
{
	loop.stop = false;
	while (!loop.stop) {
		int r = ev_run_once(-1);
		if (r < 0)
			return r;
	}
	return 0;
}

void ev_stop(void)
{
	loop.stop = true;
}
