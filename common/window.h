/*
 * window.h - sliding-window event counter built from time slots
 *
 * A window of L seconds is kept in WINDOW_SLOTS slots of
 * width = ceil(L / (WINDOW_SLOTS - 1)) seconds, aligned on multiples of the
 * width.  L seconds starting anywhere touch at most WINDOW_SLOTS such slots
 * (with ceil(L / WINDOW_SLOTS) they could touch one more, which would not
 * fit).  Stale slots are zeroed lazily when the window is touched, so there
 * is no timer and no allocation.  A length of 0 is treated as 1.
 *
 * Contract (conservative, never lenient): window_total(w, L, now) is at
 * least the number of events added in (now - L, now] and at most the number
 * added in (now - L - width, now].  So a limit checked against it never lets
 * more than max events pass in any span of L seconds; the cost is that an
 * event may be remembered up to one slot width (about L/7) longer than L.
 *
 * Counters saturate at UINT32_MAX.  A clock that goes backwards is treated
 * as standing still.  When L changes (config reload), everything counted so
 * far is kept, folded into the newest slot (conservative again).
 *
 * Thread safety: none; the caller locks.
 * Tests: tests/test_window.c
 */
#ifndef SASLGUARD_WINDOW_H
#define SASLGUARD_WINDOW_H

#include <stdint.h>
#include <time.h>

#define WINDOW_SLOTS 8

struct window {
	uint32_t head;			/* slot number (t / width) of the newest slot */
	uint32_t width;			/* seconds per slot; 0 = never used */
	uint32_t slot[WINDOW_SLOTS];	/* slot[n % WINDOW_SLOTS] counts slot n */
};

/*
 * window_clock - now as the unsigned 32-bit second count the windows (and
 * netset.h) keep: clamped to 0 .. UINT32_MAX
 */
uint32_t window_clock(time_t now);

/* window_init - an empty window */
void	window_init(struct window *w);

/* window_total - events in the window of length seconds ending at now */
uint32_t window_total(struct window *w, uint32_t length, time_t now);

/* window_add - count n events at now */
void	window_add(struct window *w, uint32_t length, time_t now, uint32_t n);

/* window_idle - 1 when nothing counted in the window at now remains */
int	window_idle(struct window *w, uint32_t length, time_t now);

#endif
