/*
 * test_baseline.c - the per-account baseline model with an injected clock
 *
 * Each simulation counts a message only when the model lets it pass, as
 * the account table does.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "baseline.h"

#define HOUR 3600
#define DAY  (24 * HOUR)
/* a Monday, 00:00 UTC */
#define T0 ((time_t) 1704672000)

static const struct baseline_params params = {
	.min_history = 3 * DAY,
	.messages_floor = 20,
	.recipients_floor = 100,
	.factor = 10,
	.sigmas = 6,
	.span = 7 * DAY,
};

/* offer - judge one message at now and count it when it passes; 1 if held */
static int
offer(struct baseline *b, time_t now, uint32_t rcpts)
{
	struct baseline_result r;

	baseline_check(b, &params, now, 1, rcpts, &r);
	if (r.broken)
		return 1;
	baseline_add(b, &params, now, 1, rcpts);
	return 0;
}

/* quiet_days - days of a personal account: 5 messages a day, 2 rcpts each */
static int
quiet_days(struct baseline *b, time_t start, int days)
{
	int d, i, held = 0;

	for (d = 0; d < days; d++)
		for (i = 0; i < 5; i++)
			held += offer(b,
			    start + (time_t) d * DAY + 9 * HOUR + i * 2 * HOUR,
			    2);
	return held;
}

Test(baseline, a_week_of_normal_traffic_is_never_judged_a_burst)
{
	struct baseline b;

	baseline_init(&b);
	cr_assert_eq(quiet_days(&b, T0, 7), 0);
	cr_assert(baseline_ready(&b, &params, T0 + 7 * DAY));
	/* about 5 messages a day: a mean near 5/24 per hour */
	cr_assert(b.mean[BASELINE_MESSAGES] > 0.1f);
	cr_assert(b.mean[BASELINE_MESSAGES] < 0.4f);
}

Test(baseline, burst_after_a_week_of_quiet_traffic_is_held_past_the_floor)
{
	struct baseline        b;
	struct baseline_result r;
	time_t                 t = T0 + 7 * DAY + 14 * HOUR;
	int                    i, first = -1;

	baseline_init(&b);
	cr_assert_eq(quiet_days(&b, T0, 7), 0);
	/* 200 messages in ten minutes */
	for (i = 0; i < 200; i++)
		if (offer(&b, t + i * 3, 1) && first < 0)
			first = i;
	/* the floor (20 an hour) is the bar of a quiet account */
	cr_assert_eq(first, 20, "first held: message %d", first);
	baseline_check(&b, &params, t + 600, 1, 1, &r);
	cr_assert(r.ready);
	cr_assert(r.broken);
	cr_assert_eq(r.which, BASELINE_MESSAGES);
	cr_assert_eq(r.bar[BASELINE_MESSAGES], 20);
	cr_assert_eq(r.count[BASELINE_MESSAGES], 21);
}

Test(baseline, steady_high_volume_sender_is_never_held)
{
	struct baseline b;
	int             d, h, i, held = 0;
	time_t          t;

	baseline_init(&b);
	/* a newsletter: 2,000 messages every day, 250 an hour from 08:00 */
	for (d = 0; d < 21; d++)
		for (h = 8; h < 16; h++)
			for (i = 0; i < 250; i++) {
				t = T0 + (time_t) d * DAY + h * HOUR + i * 14;
				held += offer(&b, t, 1);
			}
	cr_assert_eq(held, 0, "%d messages held", held);
	cr_assert(baseline_ready(&b, &params, T0 + 21 * DAY));
	/* yet ten times its habit in one hour is a burst */
	cr_assert(baseline_bar(&b, &params, BASELINE_MESSAGES) < 2500);
}

Test(baseline, daily_blast_in_one_hour_is_never_held)
{
	struct baseline b;
	int             d, i, held = 0;

	baseline_init(&b);
	/* 2,000 messages every day within the same ten minutes */
	for (d = 0; d < 21; d++)
		for (i = 0; i < 2000; i++)
			held += offer(
			    &b, T0 + (time_t) d * DAY + 6 * HOUR + i / 4, 1);
	cr_assert_eq(held, 0, "%d messages held", held);
}

Test(baseline, new_account_is_left_to_the_fixed_limits)
{
	struct baseline        b;
	struct baseline_result r;
	int                    i, held = 0;

	baseline_init(&b);
	/* a new account bursts on its first day: nothing to compare with */
	for (i = 0; i < 500; i++)
		held += offer(&b, T0 + 10 * HOUR + i, 1);
	cr_assert_eq(held, 0);
	baseline_check(&b, &params, T0 + 11 * HOUR, 1, 1, &r);
	cr_assert_not(r.ready);
	cr_assert_eq(r.bar[BASELINE_MESSAGES], 0);
	/* history counts from the start of the hour of the first message */
	cr_assert_eq(baseline_history(&b, T0 + 11 * HOUR), HOUR);
}

Test(baseline, empty_baseline_has_no_history)
{
	struct baseline b;

	baseline_init(&b);
	cr_assert(baseline_empty(&b));
	cr_assert_eq(baseline_history(&b, T0), 0);
	cr_assert_not(baseline_ready(&b, &params, T0));
	cr_assert_eq(baseline_recent(&b, BASELINE_MESSAGES, T0), 0);
}

Test(baseline, last_hour_count_keeps_the_unexpired_part_of_the_previous_hour)
{
	struct baseline b;

	baseline_init(&b);
	baseline_add(&b, &params, T0 + 10 * HOUR + 100, 60, 120);
	/* a quarter into the next hour, three quarters of it still count */
	baseline_roll(&b, &params, T0 + 11 * HOUR + 900);
	cr_assert_eq(
	    baseline_recent(&b, BASELINE_MESSAGES, T0 + 11 * HOUR + 900), 45);
	cr_assert_eq(
	    baseline_recent(&b, BASELINE_RECIPIENTS, T0 + 11 * HOUR + 900), 90);
	/* two hours on, nothing is recent */
	baseline_roll(&b, &params, T0 + 13 * HOUR);
	cr_assert_eq(baseline_recent(&b, BASELINE_MESSAGES, T0 + 13 * HOUR), 0);
}

Test(baseline, silent_hours_pull_the_mean_down)
{
	struct baseline b;
	float           m;

	baseline_init(&b);
	baseline_add(&b, &params, T0, 24, 24);
	baseline_roll(&b, &params, T0 + HOUR);
	cr_assert_float_eq(b.mean[BASELINE_MESSAGES], 24.0f, 1e-3);
	cr_assert_float_eq(b.var[BASELINE_MESSAGES], 0.0f, 1e-3);
	/* 23 empty hours: a plain average of 24 messages over 24 hours */
	baseline_roll(&b, &params, T0 + DAY);
	m = b.mean[BASELINE_MESSAGES];
	cr_assert_float_eq(m, 1.0f, 1e-3);
	/* population variance of one 24 and 23 zeros: 24^2/24 - 1 = 23 */
	cr_assert_float_eq(b.var[BASELINE_MESSAGES], 23.0f, 1e-2);
}

Test(baseline, long_silence_forgets_the_habit_but_keeps_the_history)
{
	struct baseline b;
	time_t          later = T0 + (time_t) (BASELINE_MAX_FOLD + 10) * HOUR;

	baseline_init(&b);
	baseline_add(&b, &params, T0, 500, 500);
	baseline_roll(&b, &params, later);
	cr_assert_float_eq(b.mean[BASELINE_MESSAGES], 0.0f, 1e-6);
	cr_assert_eq(b.hour, (uint32_t) (later / HOUR));
	cr_assert(baseline_ready(&b, &params, later));
	cr_assert_eq(baseline_bar(&b, &params, BASELINE_MESSAGES), 20);
}

Test(baseline, bar_is_the_largest_of_floor_spread_and_factor)
{
	struct baseline b;

	baseline_init(&b);
	b.since = b.hour = (uint32_t) (T0 / HOUR);
	b.mean[BASELINE_MESSAGES] = 50.0f;
	b.var[BASELINE_MESSAGES] = 0.0f;
	cr_assert_eq(baseline_bar(&b, &params, BASELINE_MESSAGES), 500);
	b.var[BASELINE_MESSAGES] = 10000.0f; /* sd 100 */
	cr_assert_eq(baseline_bar(&b, &params, BASELINE_MESSAGES), 650);
	b.mean[BASELINE_RECIPIENTS] = 1.0f;
	cr_assert_eq(baseline_bar(&b, &params, BASELINE_RECIPIENTS), 100);
	cr_assert_float_eq(baseline_sd(&b, BASELINE_MESSAGES), 100.0, 1e-6);
}

Test(baseline, clock_going_backwards_changes_nothing)
{
	struct baseline b, copy;

	baseline_init(&b);
	baseline_add(&b, &params, T0 + 5 * HOUR, 3, 3);
	copy = b;
	baseline_roll(&b, &params, T0 + 2 * HOUR);
	cr_assert_eq(memcmp(&b, &copy, sizeof(b)), 0);
	cr_assert_eq(baseline_recent(&b, BASELINE_MESSAGES, T0 + 2 * HOUR), 3);
}

Test(baseline, export_then_import_gives_the_same_baseline)
{
	struct baseline a, b;
	const char     *name;
	double          v;
	size_t          i;

	baseline_init(&a);
	cr_assert_eq(quiet_days(&a, T0, 4), 0);
	baseline_init(&b);
	for (i = 0; baseline_export(&a, i, &name, &v) == 0; i++)
		cr_assert_eq(baseline_import(&b, name, v), 0, "%s", name);
	cr_assert_eq(i, 10);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
}

Test(baseline, import_refuses_unknown_names_and_bad_values)
{
	struct baseline b;

	baseline_init(&b);
	cr_assert_eq(baseline_import(&b, "nonsense", 1.0), -1);
	cr_assert_eq(baseline_import(&b, "messages_mean", -1.0), -1);
	cr_assert_eq(baseline_import(&b, "messages_cur", 1e11), -1);
	cr_assert_eq(baseline_import(&b, "since", (double) T0), 0);
	cr_assert_eq(b.since, (uint32_t) (T0 / HOUR));
}
