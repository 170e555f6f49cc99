/*
 * baseline.c - an account's own habit: messages and recipients per hour
 *
 * Why a weighted mean and variance of hourly counts: they cost two floats
 * per measure, update in O(1) per hour and forget old habits smoothly.
 * The update for a new hourly count x with weight a is the incremental
 * form of the weighted moments:
 *
 *     d = x - mean;  mean += a d;  var = (1 - a) (var + a d^2)
 *
 * With a = 1/n for the n-th hour this is the plain mean and (population)
 * variance; a never goes below 1/span_hours, after which it is an
 * exponential average.  Empty hours between two messages are folded one
 * by one, at most BASELINE_MAX_FOLD of them (after that many hours of
 * silence the averages are near zero anyway and are set to zero).
 *
 * Thread safety: none; the caller locks.
 * Tests: tests/test_baseline.c
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "baseline.h"

static const char *const field_names[] = { "since", "hour", "messages_cur",
	"recipients_cur", "messages_prev", "recipients_prev", "messages_mean",
	"recipients_mean", "messages_var", "recipients_var" };

#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))

/* hour_of - the hour number of now (0 for times before the epoch) */
static uint32_t
hour_of(time_t now)
{
	if (now < 0)
		return 0;
	if ((uint64_t) now / BASELINE_HOUR > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t) ((uint64_t) now / BASELINE_HOUR);
}

/* sat_add - a + b, saturating */
static uint32_t
sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* root - the square root of v >= 0 (Newton's method, no libm) */
static double
root(double v)
{
	double x, nx;
	int    i;

	if (!(v > 0))
		return 0;
	/* start above the root; the iteration then falls monotonically */
	x = v > 1 ? v : 1;
	for (i = 0; i < 200; i++) {
		nx = 0.5 * (x + v / x);
		if (nx >= x)
			break;
		x = nx;
	}
	return x;
}

/* ceil_u32 - v rounded up, clamped to 0..UINT32_MAX */
static uint32_t
ceil_u32(double v)
{
	uint32_t n;

	if (!(v > 0))
		return 0;
	if (v >= (double) UINT32_MAX)
		return UINT32_MAX;
	n = (uint32_t) v;
	return (double) n < v ? n + 1 : n;
}

/* baseline_init - an empty baseline */
void
baseline_init(struct baseline *b)
{
	memset(b, 0, sizeof(*b));
}

/* baseline_empty - 1 when nothing was ever counted */
int
baseline_empty(const struct baseline *b)
{
	return b->since == 0;
}

/* span_hours - the time constant of p in hours, at least 1 */
static uint32_t
span_hours(const struct baseline_params *p)
{
	uint32_t h = p->span / BASELINE_HOUR;

	return h == 0 ? 1 : h;
}

/* fold - the completed hour b->hour with counts x into the averages */
static void
fold(struct baseline *b, const struct baseline_params *p, const uint32_t *x)
{
	uint32_t n = b->hour >= b->since ? b->hour - b->since + 1 : 1;
	uint32_t span = span_hours(p);
	double   a = n < span ? 1.0 / n : 1.0 / span, d, mean, var;
	size_t   w;

	for (w = 0; w < BASELINE_N_; w++) {
		mean = b->mean[w];
		var = b->var[w];
		d = (double) x[w] - mean;
		mean += a * d;
		var = (1 - a) * (var + a * d * d);
		b->mean[w] = (float) (mean > 0 ? mean : 0);
		b->var[w] = (float) (var > 0 ? var : 0);
	}
}

/* baseline_roll - bring b to the hour of now */
void
baseline_roll(struct baseline *b, const struct baseline_params *p, time_t now)
{
	const uint32_t zero[BASELINE_N_] = { 0 };
	uint32_t       h = hour_of(now), gap, i;

	if (baseline_empty(b) || h <= b->hour)
		return;
	gap = h - b->hour;
	fold(b, p, b->cur);
	memcpy(b->prev, b->cur, sizeof(b->prev));
	memset(b->cur, 0, sizeof(b->cur));
	b->hour++;
	if (gap == 1)
		return;
	memset(b->prev, 0, sizeof(b->prev));
	for (i = 1; i < gap && i <= BASELINE_MAX_FOLD; i++) {
		fold(b, p, zero);
		b->hour++;
	}
	if (i < gap) {
		/* a long silence: the habit has faded away */
		memset(b->mean, 0, sizeof(b->mean));
		memset(b->var, 0, sizeof(b->var));
	}
	b->hour = h;
}

/* baseline_add - count msgs messages and rcpts recipients at now */
void
baseline_add(struct baseline *b, const struct baseline_params *p, time_t now,
    uint32_t msgs, uint32_t rcpts)
{
	if (baseline_empty(b)) {
		b->since = hour_of(now);
		b->hour = b->since;
		if (b->since == 0)
			b->since = b->hour = 1;
	}
	baseline_roll(b, p, now);
	b->cur[BASELINE_MESSAGES] = sat_add(b->cur[BASELINE_MESSAGES], msgs);
	b->cur[BASELINE_RECIPIENTS] =
	    sat_add(b->cur[BASELINE_RECIPIENTS], rcpts);
}

/* baseline_recent - the last-hour count of what at now */
uint32_t
baseline_recent(const struct baseline *b, enum baseline_what what, time_t now)
{
	uint32_t h = hour_of(now), left;
	uint64_t part;

	if (baseline_empty(b) || h > b->hour + 1)
		return 0;
	if (h == b->hour + 1) /* not rolled yet: cur is the previous hour */
		return (uint32_t) ((uint64_t) b->cur[what] *
				   (BASELINE_HOUR -
				       (uint64_t) now % BASELINE_HOUR) /
				   BASELINE_HOUR);
	if (h < b->hour) /* the clock went backwards: stand still */
		now = (time_t) b->hour * BASELINE_HOUR;
	/* the part of the previous hour that is still inside the last hour */
	left = BASELINE_HOUR - (uint32_t) ((uint64_t) now % BASELINE_HOUR);
	part = (uint64_t) b->prev[what] * left / BASELINE_HOUR;
	return sat_add(b->cur[what], (uint32_t) part);
}

/* baseline_history - seconds since the first count */
uint32_t
baseline_history(const struct baseline *b, time_t now)
{
	uint64_t start;

	if (baseline_empty(b))
		return 0;
	start = (uint64_t) b->since * BASELINE_HOUR;
	if (now < 0 || (uint64_t) now <= start)
		return 0;
	if ((uint64_t) now - start > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t) ((uint64_t) now - start);
}

/* baseline_ready - 1 when the history is at least p->min_history */
int
baseline_ready(
    const struct baseline *b, const struct baseline_params *p, time_t now)
{
	return !baseline_empty(b) && baseline_history(b, now) >= p->min_history;
}

/* baseline_sd - the weighted standard deviation of what per hour */
double
baseline_sd(const struct baseline *b, enum baseline_what what)
{
	return root(b->var[what]);
}

/* baseline_bar - the bar of what */
uint32_t
baseline_bar(const struct baseline *b, const struct baseline_params *p,
    enum baseline_what what)
{
	double   mean = b->mean[what];
	uint32_t bar =
	    what == BASELINE_MESSAGES ? p->messages_floor : p->recipients_floor;
	uint32_t v;

	v = ceil_u32(mean + (double) p->sigmas * baseline_sd(b, what));
	if (v > bar)
		bar = v;
	v = ceil_u32((double) p->factor * mean);
	if (v > bar)
		bar = v;
	return bar;
}

/* baseline_check - judge one message against the account's habit */
void
baseline_check(struct baseline *b, const struct baseline_params *p, time_t now,
    uint32_t msgs, uint32_t rcpts, struct baseline_result *r)
{
	const uint32_t add[BASELINE_N_] = { msgs, rcpts };
	size_t         w;

	memset(r, 0, sizeof(*r));
	r->which = BASELINE_MESSAGES;
	baseline_roll(b, p, now);
	for (w = 0; w < BASELINE_N_; w++)
		r->count[w] = sat_add(
		    baseline_recent(b, (enum baseline_what) w, now), add[w]);
	if (!baseline_ready(b, p, now))
		return;
	r->ready = 1;
	for (w = 0; w < BASELINE_N_; w++) {
		r->bar[w] = baseline_bar(b, p, (enum baseline_what) w);
		if (!r->broken && r->count[w] > r->bar[w]) {
			r->broken = 1;
			r->which = (enum baseline_what) w;
		}
	}
}

/* baseline_export - the persisted field i of b */
int
baseline_export(
    const struct baseline *b, size_t i, const char **name, double *value)
{
	if (i >= NFIELDS)
		return -1;
	*name = field_names[i];
	switch (i) {
	case 0:
		*value = (double) b->since * BASELINE_HOUR;
		break;
	case 1:
		*value = (double) b->hour * BASELINE_HOUR;
		break;
	case 2:
	case 3:
		*value = b->cur[i - 2];
		break;
	case 4:
	case 5:
		*value = b->prev[i - 4];
		break;
	case 6:
	case 7:
		*value = b->mean[i - 6];
		break;
	default:
		*value = b->var[i - 8];
		break;
	}
	return 0;
}

/* baseline_import - set the persisted field called name */
int
baseline_import(struct baseline *b, const char *name, double value)
{
	size_t i;

	/* also rejects NaN */
	if (!(value >= 0) || value > 4e12)
		return -1;
	for (i = 0; i < NFIELDS; i++)
		if (strcmp(field_names[i], name) == 0)
			break;
	switch (i) {
	case 0:
	case 1:
		if (value / BASELINE_HOUR > UINT32_MAX)
			return -1;
		if (i == 0)
			b->since = (uint32_t) (value / BASELINE_HOUR);
		else
			b->hour = (uint32_t) (value / BASELINE_HOUR);
		return 0;
	case 2:
	case 3:
	case 4:
	case 5:
		if (value > UINT32_MAX)
			return -1;
		if (i < 4)
			b->cur[i - 2] = (uint32_t) value;
		else
			b->prev[i - 4] = (uint32_t) value;
		return 0;
	case 6:
	case 7:
		b->mean[i - 6] = (float) value;
		return 0;
	case 8:
	case 9:
		b->var[i - 8] = (float) value;
		return 0;
	default:
		return -1;
	}
}
