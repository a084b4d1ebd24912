/* ev.h - the agent's one single-threaded event loop.
 *
 * Timers, fd watchers and signal watchers are embedded in the objects that
 * own them (recover the owner with container_of); the loop never allocates
 * per event. Time is CLOCK_MONOTONIC in microseconds. Signal handlers only
 * set a flag and wake the loop; callbacks run from ev_run(), never from the
 * handler. Everything here is for one thread.
 */
#ifndef DSA_CORE_EV_H
#define DSA_CORE_EV_H

#include <stdbool.h>
#include <stdint.h>

struct ev_timer;
typedef void (*ev_timer_cb)(struct ev_timer *t);

struct ev_timer {
	ev_timer_cb cb;            /* set by the owner before arming */
	/* private */
	uint64_t due_us;
	uint64_t seq;
	struct ev_timer *next;
	bool pending;
};

#define EV_READ  0x1u
#define EV_WRITE 0x2u
#define EV_ERROR 0x4u          /* reported only: hang-up or error on the fd */

struct ev_fd;
typedef void (*ev_fd_cb)(struct ev_fd *f, unsigned events);

struct ev_fd {
	int fd;                    /* set by the owner */
	ev_fd_cb cb;               /* set by the owner */
	/* private */
	unsigned events;
	bool registered;
};

struct ev_signal;
typedef void (*ev_signal_cb)(struct ev_signal *s);

struct ev_signal {
	int signo;                 /* set by the owner */
	ev_signal_cb cb;           /* set by the owner */
	/* private */
	struct ev_signal *next;
	bool registered;
};

/* Create the loop (epoll set and wake-up pipe); 0 or -errno. */
int ev_init(void);

/* Tear the loop down; watchers still registered are forgotten, not called. */
void ev_done(void);

/* Monotonic time in microseconds. */
uint64_t ev_now_us(void);

/* Monotonic time in milliseconds. */
uint64_t ev_now_ms(void);

/* Arm (or re-arm) t to fire once after ms milliseconds. */
void ev_timer_set(struct ev_timer *t, uint64_t ms);

/* Arm (or re-arm) t to fire once after us microseconds. */
void ev_timer_set_us(struct ev_timer *t, uint64_t us);

/* Disarm t; harmless when it is not armed. */
void ev_timer_cancel(struct ev_timer *t);

/* Whether t is armed. */
bool ev_timer_pending(const struct ev_timer *t);

/* Milliseconds until t fires (0 when due or not armed). */
uint64_t ev_timer_remaining_ms(const struct ev_timer *t);

/* Watch f->fd for events (EV_READ/EV_WRITE); re-calling changes the set. 0 or -errno. */
int ev_fd_add(struct ev_fd *f, unsigned events);

/* Stop watching f; harmless when not watched. Call before closing the fd. */
void ev_fd_del(struct ev_fd *f);

/* Turn signal s->signo into calls of s->cb from the loop. 0 or -errno. */
int ev_signal_add(struct ev_signal *s);

/* Stop watching the signal and restore its default action. */
void ev_signal_del(struct ev_signal *s);

/* Run one iteration, waiting at most max_wait_ms (-1: until something happens).
 * Returns the number of callbacks run, or -errno. */
int ev_run_once(int max_wait_ms);

/* Rounds of the loop that ran a callback since ev_init(): each is at most one wakeup of the process. */
uint64_t ev_rounds(void);

/* Run until ev_stop() is called. 0, or -errno on a loop failure. */
int ev_run(void);

/* Make ev_run() return after the current iteration. */
void ev_stop(void);

/* Tests: from now until ev_done(), ev_now_*() is a virtual clock starting at
 * start_us; timers already armed keep the time they had left. The loop never
 * sleeps while a timer is armed: ev_run_once() polls the fds and, when nothing
 * was ready, moves the clock to the first timer's deadline (or by max_wait_ms
 * if that comes first) and runs what is due. With no timer armed,
 * ev_run_once(-1) waits for a real fd or signal as the real loop would, and
 * the clock stays. Real sockets keep working (loopback delivery is done by the
 * time sendto() returns); time passes only while the loop is idle, so an fd
 * that is always ready holds the clock still: after 100000 busy rounds at one
 * instant ev_run_once() returns -ELOOP instead of spinning on. */
void ev_clock_virtual(uint64_t start_us);

/* Whether the loop runs on the virtual clock. */
bool ev_clock_is_virtual(void);

/* Real work outside the loop began (on) or ended: while any is running (a
 * job's child process) the virtual clock stands still and the loop waits for
 * real fds, as the real clock would (ev_clock_advance_ms waits first). No
 * effect on the real clock. */
void ev_clock_hold(bool on);

/* Tests: advance the virtual clock by ms, firing every timer at its own
 * deadline in order and running ready fds between them (timers armed by a
 * callback for the same instant run at that instant). Callbacks run, or
 * -errno: -EINVAL when not virtual, -ELOOP when 100000 rounds at one instant
 * never let the clock move (a zero-delay re-arm or an fd that is always ready). */
int ev_clock_advance_ms(uint64_t ms);

/* Tests: the process was descheduled for ms: the virtual clock jumps forward
 * without running anything, so armed timers keep their deadlines and fire late
 * at the next iteration, as after a real stall. -EINVAL when not virtual. */
int ev_clock_stall_ms(uint64_t ms);

#endif
