/*
 * test_window.c - tests for common/window.c
 *
 * The clock is injected: every call passes "now".  Besides edge cases, a
 * property test replays pseudo-random event streams (fixed seed) and checks
 * window_total() against an exact list of timestamps: never below the count
 * in (now - L, now], never above the count in (now - L - width, now].
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <criterion/criterion.h>

#include "window.h"

#define T0 ((time_t) 1700000000)

struct event {
	time_t   t;
	uint32_t n;
};

/* ref_width - slot width as the header defines it */
static uint32_t
ref_width(uint32_t length)
{
	uint64_t l = length == 0 ? 1 : length;

	return (uint32_t) ((l + WINDOW_SLOTS - 2) / (WINDOW_SLOTS - 1));
}

/* ref_count - exact number of events in (now - span, now] */
static uint64_t
ref_count(const struct event *ev, size_t nev, time_t now, uint64_t span)
{
	uint64_t sum = 0;
	size_t   i;

	for (i = 0; i < nev; i++)
		if (ev[i].t <= now && (uint64_t) (now - ev[i].t) < span)
			sum += ev[i].n;
	return sum;
}

/* rnd - xorshift64, deterministic for a fixed seed */
static uint64_t
rnd(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* check_stream - replay a random stream for length and check both bounds */
static void
check_stream(uint32_t length, uint64_t seed, size_t steps)
{
	struct window w;
	struct event *ev;
	size_t        nev = 0, i;
	uint32_t      width = ref_width(length);
	uint64_t      state = seed;
	time_t        now = T0 + (time_t) (seed % 1000);

	ev = calloc(steps, sizeof(*ev));
	cr_assert_not_null(ev);
	window_init(&w);
	for (i = 0; i < steps; i++) {
		uint64_t r = rnd(&state);
		uint64_t total, lo, hi;

		/* mostly short gaps, sometimes none, sometimes long ones */
		if (r % 50 == 0)
			now += (time_t) (r >> 8) % (3 * (time_t) length + 2);
		else if (r % 3 != 0)
			now += (time_t) (r >> 8) % (length / 4 + 2);

		total = window_total(&w, length, now);
		lo = ref_count(ev, nev, now, length);
		hi = ref_count(ev, nev, now, (uint64_t) length + width);
		cr_assert_geq(total, lo,
		    "L=%u step %zu now=%lld: total %llu below exact %llu",
		    length, i, (long long) now, (unsigned long long) total,
		    (unsigned long long) lo);
		cr_assert_leq(total, hi,
		    "L=%u step %zu now=%lld: total %llu above bound %llu",
		    length, i, (long long) now, (unsigned long long) total,
		    (unsigned long long) hi);

		if ((r >> 40) % 4 != 0) {
			ev[nev].t = now;
			ev[nev].n = 1 + (uint32_t) ((r >> 20) % 3);
			window_add(&w, length, now, ev[nev].n);
			nev++;
		}
	}
	free(ev);
}

Test(window, new_window_counts_nothing)
{
	struct window w;

	window_init(&w);
	cr_assert_eq(window_total(&w, 60, T0), 0);
	cr_assert_eq(window_idle(&w, 60, T0), 1);
}

Test(window, fits_in_forty_bytes)
{
	cr_assert_eq(sizeof(struct window), 40);
}

Test(window, fourth_hit_in_window_exceeds_limit_of_three)
{
	struct window w;
	int           i;

	window_init(&w);
	for (i = 0; i < 3; i++) {
		cr_assert_lt(window_total(&w, 60, T0 + i), 3);
		window_add(&w, 60, T0 + i, 1);
	}
	cr_assert_eq(window_total(&w, 60, T0 + 3), 3);
}

Test(window, event_at_now_minus_length_plus_one_is_inside)
{
	static const uint32_t lengths[] = { 1, 2, 7, 8, 9, 13, 60, 61, 3600,
		86400, 86401, 1000003 };
	size_t                i;
	time_t                off;

	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		for (off = 0; off < 20; off++) {
			struct window w;
			time_t        t = T0 + off;

			window_init(&w);
			window_add(&w, lengths[i], t, 1);
			cr_assert_eq(
			    window_total(&w, lengths[i], t + lengths[i] - 1), 1,
			    "L=%u t=%lld", lengths[i], (long long) t);
		}
	}
}

Test(window, event_at_now_minus_length_is_outside_with_one_second_slots)
{
	uint32_t length;

	/* up to 7 seconds a slot is one second wide: the window is exact */
	for (length = 1; length <= 7; length++) {
		struct window w;

		cr_assert_eq(ref_width(length), 1);
		window_init(&w);
		window_add(&w, length, T0, 1);
		cr_assert_eq(window_total(&w, length, T0 + length - 1), 1);
		cr_assert_eq(
		    window_total(&w, length, T0 + length), 0, "L=%u", length);
	}
}

Test(window, event_leaves_within_one_slot_width_after_length)
{
	static const uint32_t lengths[] = { 8, 9, 13, 60, 100, 3600, 86400,
		86401 };
	size_t                i;
	time_t                off;

	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		uint32_t width = ref_width(lengths[i]);

		for (off = 0; off < 2 * (time_t) width && off < 50; off++) {
			struct window w;
			time_t        t = T0 + off;

			window_init(&w);
			window_add(&w, lengths[i], t, 1);
			cr_assert_eq(window_total(&w, lengths[i],
					 t + lengths[i] + width),
			    0, "L=%u t=%lld", lengths[i], (long long) t);
		}
	}
}

Test(window, event_at_slot_end_leaves_exactly_at_length)
{
	struct window w;
	uint32_t      width = ref_width(60); /* 9 */
	time_t        t = (T0 / width) * width + width - 1;

	window_init(&w);
	window_add(&w, 60, t, 1);
	cr_assert_eq(window_total(&w, 60, t + 59), 1);
	cr_assert_eq(window_total(&w, 60, t + 60), 0);
}

Test(window, random_stream_stays_within_bounds_for_many_lengths)
{
	static const uint32_t lengths[] = { 1, 2, 3, 7, 8, 9, 10, 13, 60, 61,
		97, 3600, 3601, 86400, 86399 };
	size_t                i;

	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
		check_stream(lengths[i], 0x9e3779b97f4a7c15ULL + i, 3000);
}

Test(window, limit_never_admits_more_than_max_in_any_span_of_length)
{
	static const uint32_t lengths[] = { 1, 7, 10, 60, 3600 };
	const uint32_t        max = 5;
	size_t                i, j, k, nadm;
	time_t               *adm;

	adm = calloc(4000, sizeof(*adm));
	cr_assert_not_null(adm);
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct window w;
		uint64_t      state = 12345 + i;
		time_t        now = T0;
		uint32_t      length = lengths[i];

		window_init(&w);
		nadm = 0;
		for (j = 0; j < 4000; j++) {
			now += (time_t) (rnd(&state) % (length / 3 + 2));
			if (window_total(&w, length, now) < max) {
				window_add(&w, length, now, 1);
				adm[nadm++] = now;
			}
		}
		cr_assert_gt(nadm, max, "the stream must hit the limit");
		/* admitted times are sorted: check every span ending at one */
		for (j = 0; j < nadm; j++) {
			size_t in = 0;

			for (k = 0; k <= j; k++)
				if (adm[j] - adm[k] < (time_t) length)
					in++;
			cr_assert_leq(in, max, "L=%u: %zu admitted in a span",
			    length, in);
		}
	}
	free(adm);
}

Test(window, length_change_keeps_counts)
{
	struct window w;
	time_t        t;

	window_init(&w);
	for (t = T0; t < T0 + 600; t += 60)
		window_add(&w, 3600, t, 2);
	cr_assert_eq(window_total(&w, 3600, T0 + 600), 20);

	/* shorter after a reload: nothing is forgotten at once */
	cr_assert_eq(window_total(&w, 60, T0 + 600), 20);
	window_add(&w, 60, T0 + 601, 1);
	cr_assert_eq(window_total(&w, 60, T0 + 601), 21);
	/* and everything expires by the new length plus one slot */
	cr_assert_eq(window_total(&w, 60, T0 + 601 + 60 + ref_width(60)), 0);
}

Test(window, length_change_to_longer_keeps_counts)
{
	struct window w;

	window_init(&w);
	window_add(&w, 10, T0, 4);
	window_add(&w, 10, T0 + 5, 3);
	cr_assert_eq(window_total(&w, 86400, T0 + 6), 7);
	cr_assert_eq(window_total(&w, 86400, T0 + 80000), 7);
	cr_assert_eq(
	    window_idle(&w, 86400, T0 + 6 + 86400 + ref_width(86400)), 1);
}

Test(window, length_zero_is_treated_as_one_second)
{
	struct window w;

	window_init(&w);
	window_add(&w, 0, T0, 2);
	cr_assert_eq(window_total(&w, 0, T0), 2);
	cr_assert_eq(window_total(&w, 0, T0 + 1), 0);
}

Test(window, clock_going_backwards_stands_still)
{
	struct window w;

	window_init(&w);
	window_add(&w, 60, T0, 5);
	window_add(&w, 60, T0 - 30, 3);
	cr_assert_eq(window_total(&w, 60, T0 - 30), 8);
	cr_assert_eq(window_total(&w, 60, T0 - 3600), 8);
	cr_assert_eq(window_total(&w, 60, T0), 8);
	/* the late events count as seen at T0: kept a full window after it */
	cr_assert_eq(window_total(&w, 60, T0 + 59), 8);
	cr_assert_eq(window_total(&w, 60, T0 + 60 + ref_width(60)), 0);
}

Test(window, counter_saturates_at_uint32_max)
{
	struct window w;

	window_init(&w);
	window_add(&w, 60, T0, UINT32_MAX - 1);
	window_add(&w, 60, T0, 5);
	cr_assert_eq(window_total(&w, 60, T0), UINT32_MAX);
	window_add(&w, 60, T0, UINT32_MAX);
	cr_assert_eq(window_total(&w, 60, T0), UINT32_MAX);
}

Test(window, total_over_slots_saturates_at_uint32_max)
{
	struct window w;

	window_init(&w);
	window_add(&w, 60, T0, UINT32_MAX - 1);
	window_add(&w, 60, T0 + 30, UINT32_MAX - 1);
	cr_assert_eq(window_total(&w, 60, T0 + 30), UINT32_MAX);
	/* folding saturated slots on a reload saturates too */
	cr_assert_eq(window_total(&w, 3600, T0 + 30), UINT32_MAX);
}

Test(window, long_idle_gap_zeroes_everything)
{
	static const time_t gaps[] = { 60 + 9, 8 * 9, 8 * 9 + 1, 3600,
		86400 * 365, (time_t) 1 << 31 };
	size_t              i;
	time_t              t;

	for (i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		struct window w;
		time_t        last = T0 + 59;

		window_init(&w);
		for (t = T0; t <= last; t++)
			window_add(&w, 60, t, 1);
		cr_assert_geq(window_total(&w, 60, last), 60);
		cr_assert_eq(window_total(&w, 60, last + gaps[i]), 0,
		    "gap %lld", (long long) gaps[i]);
		window_add(&w, 60, last + gaps[i], 1);
		cr_assert_eq(window_total(&w, 60, last + gaps[i]), 1,
		    "gap %lld", (long long) gaps[i]);
	}
}

Test(window, slots_reused_after_partial_gap_start_empty)
{
	struct window w;
	uint32_t      width = ref_width(70); /* 10 */
	time_t        base = (T0 / width) * width;
	int           i;

	window_init(&w);
	for (i = 0; i < 8; i++)
		window_add(&w, 70, base + i * (time_t) width, 1);
	/* three slots later the three oldest slots are recycled */
	window_add(&w, 70, base + 10 * (time_t) width, 100);
	cr_assert_eq(window_total(&w, 70, base + 10 * (time_t) width), 105);
}

Test(window, early_times_near_the_epoch_are_counted)
{
	struct window w;

	window_init(&w);
	window_add(&w, 3600, 0, 1);
	window_add(&w, 3600, 10, 1);
	cr_assert_eq(window_total(&w, 3600, 10), 2);
	cr_assert_eq(window_total(&w, 3600, 3599), 2);
	cr_assert_eq(window_total(&w, 3600, 3600 + 10 + ref_width(3600)), 0);
	/* before the epoch counts as the epoch */
	window_add(&w, 3600, -5, 1);
	cr_assert_eq(window_total(&w, 3600, 0), 1);
}

Test(window, idle_only_when_nothing_in_window_remains)
{
	struct window w;
	uint32_t      width = ref_width(60);

	window_init(&w);
	cr_assert_eq(window_idle(&w, 60, T0), 1);
	window_add(&w, 60, T0, 1);
	cr_assert_eq(window_idle(&w, 60, T0), 0);
	cr_assert_eq(window_idle(&w, 60, T0 + 59), 0);
	cr_assert_eq(window_idle(&w, 60, T0 + 60 + width), 1);
	/* a window that went idle counts again from zero */
	window_add(&w, 60, T0 + 60 + width, 2);
	cr_assert_eq(window_idle(&w, 60, T0 + 60 + width), 0);
	cr_assert_eq(window_total(&w, 60, T0 + 60 + width), 2);
}
