/*
 * window.c - sliding-window event counter built from time slots
 *
 * Slot n covers the seconds [n * width, (n + 1) * width).  The window keeps
 * the newest slot number in head and the counts of slots head - 7 .. head
 * in slot[n % WINDOW_SLOTS].  Moving head forward zeroes the slots it
 * passes over; that is the only expiry there is.
 *
 * Why the total is never lenient: the oldest second that must be counted
 * is now - L + 1, which lies in slot s = (now - L + 1) / width.  Summing
 * slots s .. now / width counts every event in (now - L, now]; slot s
 * starts after now - L + 1 - width, so nothing older than
 * (now - L - width, now] is counted.  Because width >= L / 7, s is never
 * more than 7 slots behind, so every slot needed is still stored.
 *
 * Times before the epoch are treated as 0 and times past UINT32_MAX as
 * UINT32_MAX (the slot number is 32 bits).
 *
 * Thread safety: none; the caller locks.
 * Tests: tests/test_window.c
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "window.h"

/* window_clock - now as an unsigned 32-bit second count (clamped) */
uint32_t
window_clock(time_t now)
{
	if (now < 0)
		return 0;
	if ((uint64_t) now > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t) now;
}

/* slot_width - seconds per slot for a window of length seconds */
static uint32_t
slot_width(uint32_t length)
{
	uint64_t l = length == 0 ? 1 : length;

	return (uint32_t) ((l + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1));
}

/* sat_add - a + b, saturating at UINT32_MAX */
static uint32_t
sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* advance - move head to slot cur, zeroing the slots passed over */
static void
advance(struct window *w, uint32_t cur)
{
	uint32_t n;

	if (cur <= w->head)
		return; /* same slot, or the clock went backwards */
	if (cur - w->head >= WINDOW_SLOTS) {
		memset(w->slot, 0, sizeof(w->slot));
	} else {
		for (n = w->head + 1; n != cur + 1; n++)
			w->slot[n % WINDOW_SLOTS] = 0;
	}
	w->head = cur;
}

/*
 * prepare - bring w to the geometry of length and advance it to t
 *
 * Returns 0 when w has never counted anything (and is left unused), else 1.
 * A changed length folds what is still counted into the newest slot of the
 * new geometry, which can only make later totals higher.
 */
static int
prepare(struct window *w, uint32_t length, uint32_t t)
{
	uint32_t width = slot_width(length);
	uint32_t sum = 0;
	size_t   i;

	if (w->width == 0)
		return 0;
	if (w->width != width) {
		advance(w, t / w->width);
		for (i = 0; i < WINDOW_SLOTS; i++)
			sum = sat_add(sum, w->slot[i]);
		memset(w->slot, 0, sizeof(w->slot));
		w->width = width;
		w->head = t / width;
		w->slot[w->head % WINDOW_SLOTS] = sum;
		return 1;
	}
	advance(w, t / width);
	return 1;
}

/* window_init - an empty window */
void
window_init(struct window *w)
{
	memset(w, 0, sizeof(*w));
}

/* window_total - events in the window of length seconds ending at now */
uint32_t
window_total(struct window *w, uint32_t length, time_t now)
{
	uint32_t t = window_clock(now);
	uint32_t l = length == 0 ? 1 : length;
	uint32_t first, n, sum = 0;

	if (!prepare(w, length, t))
		return 0;
	/* first slot holding a second of (t - l, t]; older when t < l */
	first = t >= l ? (t - l + 1) / w->width : 0;
	/* head may be ahead of t / width when the clock went backwards */
	if (w->head - first >= WINDOW_SLOTS)
		first = w->head - (WINDOW_SLOTS - 1);
	for (n = first; n != w->head + 1; n++)
		sum = sat_add(sum, w->slot[n % WINDOW_SLOTS]);
	return sum;
}

/* window_add - count n events at now */
void
window_add(struct window *w, uint32_t length, time_t now, uint32_t n)
{
	uint32_t  t = window_clock(now);
	uint32_t *slot;

	if (!prepare(w, length, t)) {
		memset(w->slot, 0, sizeof(w->slot));
		w->width = slot_width(length);
		w->head = t / w->width;
	}
	slot = &w->slot[w->head % WINDOW_SLOTS];
	*slot = sat_add(*slot, n);
}

/* window_idle - 1 when nothing counted in the window at now remains */
int
window_idle(struct window *w, uint32_t length, time_t now)
{
	return window_total(w, length, now) == 0;
}
