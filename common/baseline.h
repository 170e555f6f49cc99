/*
 * baseline.h - an account's own habit: messages and recipients per hour
 *
 * A fixed limit has to fit the busiest account; a baseline fits each one.
 * Time is cut into clock hours.  The counts of the current hour and of the
 * hour before are kept; when an hour is over, its count is folded into an
 * exponentially weighted mean and variance of hourly counts (hours without
 * mail fold in as zeros), with a time constant of "span" (a week by
 * default).  Until an account has "span" hours behind it, the weights are
 * those of a plain average, so a young history is not biased towards zero.
 *
 * The last-hour count is the current hour's count plus the previous hour's
 * scaled by the part of it still inside the last 60 minutes.  A burst is a
 * last-hour count, this message included, above the account's bar:
 *
 *     bar = max(floor, mean + sigmas * sd, factor * mean)
 *
 * computed for messages and for recipients apart (each with its floor).
 * An account whose history is shorter than min_history has no bar: new
 * accounts are left to the fixed limits.
 *
 * A baseline is 40 bytes and never allocates.  Callers pass "now".
 *
 * Thread safety: none; the caller locks.
 * Tests: tests/test_baseline.c
 */
#ifndef SASLGUARD_BASELINE_H
#define SASLGUARD_BASELINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BASELINE_HOUR     3600u
#define BASELINE_MAX_FOLD 2000u /* empty hours folded one by one at most */

enum baseline_what { BASELINE_MESSAGES = 0, BASELINE_RECIPIENTS, BASELINE_N_ };

struct baseline_params {
	uint32_t min_history;      /* seconds of history before it judges */
	uint32_t messages_floor;   /* the lowest bar for messages per hour */
	uint32_t recipients_floor; /* ... for recipients per hour */
	uint32_t factor;           /* bar >= factor * mean */
	uint32_t sigmas;           /* bar >= mean + sigmas * sd */
	uint32_t span;             /* seconds; time constant of the averages */
};

struct baseline {
	uint32_t since; /* hour number of the first count; 0 = empty */
	uint32_t hour;  /* hour number (t / 3600) of cur[] */
	uint32_t cur[BASELINE_N_];  /* counts in that hour */
	uint32_t prev[BASELINE_N_]; /* counts in the hour before */
	float    mean[BASELINE_N_]; /* weighted mean of completed hours */
	float    var[BASELINE_N_];  /* weighted variance of completed hours */
};

/* What baseline_check() found for one message. */
struct baseline_result {
	int      ready;              /* 1: history long enough to judge */
	uint32_t count[BASELINE_N_]; /* last hour, this message included */
	uint32_t bar[BASELINE_N_];   /* the bars (0 when not ready) */
	int      broken;             /* 1: some count is above its bar */
	enum baseline_what which; /* the one above its bar (messages first) */
};

/* baseline_init - an empty baseline */
void baseline_init(struct baseline *b);

/* baseline_empty - 1 when nothing was ever counted */
int baseline_empty(const struct baseline *b);

/*
 * baseline_roll - bring b to the hour of now, folding every completed hour
 * into the averages; a clock that went backwards changes nothing
 */
void baseline_roll(
    struct baseline *b, const struct baseline_params *p, time_t now);

/* baseline_add - count msgs messages and rcpts recipients at now */
void baseline_add(struct baseline *b, const struct baseline_params *p,
    time_t now, uint32_t msgs, uint32_t rcpts);

/* baseline_recent - the last-hour count of what at now (after a roll) */
uint32_t baseline_recent(
    const struct baseline *b, enum baseline_what what, time_t now);

/* baseline_history - seconds since the first count; 0 when empty */
uint32_t baseline_history(const struct baseline *b, time_t now);

/* baseline_ready - 1 when the history is at least p->min_history */
int baseline_ready(
    const struct baseline *b, const struct baseline_params *p, time_t now);

/* baseline_bar - the bar of what: max(floor, mean + sigmas sd, factor mean) */
uint32_t baseline_bar(const struct baseline *b, const struct baseline_params *p,
    enum baseline_what what);

/* baseline_sd - the weighted standard deviation of what per hour */
double baseline_sd(const struct baseline *b, enum baseline_what what);

/*
 * baseline_check - roll b to now and judge a message of msgs messages and
 * rcpts recipients against the account's habit; does not count it
 */
void baseline_check(struct baseline *b, const struct baseline_params *p,
    time_t now, uint32_t msgs, uint32_t rcpts, struct baseline_result *r);

/*
 * baseline_export - the persisted field i (0, 1, ...) of b: its name and
 * value; -1 past the last field
 */
int baseline_export(
    const struct baseline *b, size_t i, const char **name, double *value);

/*
 * baseline_import - set the persisted field called name; -1 when name is
 * not a field of a baseline or value is out of range
 */
int baseline_import(struct baseline *b, const char *name, double value);

#endif
