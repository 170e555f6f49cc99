/*
 * logtime.c - timestamps of log lines: classic syslog and RFC 3339
 *
 * Parsing is by hand, digit by digit: it runs once per log line and must
 * cost a few nanoseconds.  Dates are converted with the days-from-civil
 * algorithm (proleptic Gregorian, valid far beyond any log), so nothing
 * here depends on the process's time zone or calls the C library clock.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_logparse.c
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "logtime.h"

#define DAY_SECONDS 86400

/* digits - value of n decimal digits at s, or -1 */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* month_of - 1..12 for an English month abbreviation at s, or 0 */
static int
month_of(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int               m;

	switch (s[0]) { /* the first letter narrows it to at most three */
	case 'J':
		m = s[1] == 'a' ? 1 : s[2] == 'n' ? 6 : 7;
		break;
	case 'F':
		m = 2;
		break;
	case 'M':
		m = s[2] == 'r' ? 3 : 5;
		break;
	case 'A':
		m = s[1] == 'p' ? 4 : 8;
		break;
	case 'S':
		m = 9;
		break;
	case 'O':
		m = 10;
		break;
	case 'N':
		m = 11;
		break;
	case 'D':
		m = 12;
		break;
	default:
		return 0;
	}
	return memcmp(names + 3 * (m - 1), s, 3) == 0 ? m : 0;
}

/* days_in_month - days of month mon of year */
static int
days_in_month(int year, int mon)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	int                        leap;

	if (mon != 2)
		return dim[mon - 1];
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return 28 + leap;
}

/* parse_clock - "HH:MM[:SS[.frac]]" at s; returns bytes used or 0 */
static size_t
parse_clock(const char *s, size_t len, struct logtime *t, int need_sec)
{
	size_t i;
	int    scale;

	if (len < 5 || s[2] != ':')
		return 0;
	if ((t->hour = digits(s, 2)) < 0 || t->hour > 23 ||
	    (t->min = digits(s + 3, 2)) < 0 || t->min > 59)
		return 0;
	t->sec = 0;
	t->usec = 0;
	if (len < 8 || s[5] != ':')
		return need_sec ? 0 : 5;
	if ((t->sec = digits(s + 6, 2)) < 0 || t->sec > 60)
		return 0;
	i = 8;
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		i++;
		for (scale = 100000; i < len && s[i] >= '0' && s[i] <= '9';
		     i++) {
			t->usec += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	return i;
}

/* parse_zone - "Z", "+hh:mm" or "+hhmm" at s; returns bytes used */
static size_t
parse_zone(const char *s, size_t len, struct logtime *t)
{
	int h, m, sign;

	if (len >= 1 && (s[0] == 'Z' || s[0] == 'z')) {
		t->has_zone = 1;
		t->tzoff = 0;
		return 1;
	}
	if (len < 5 || (s[0] != '+' && s[0] != '-'))
		return 0;
	sign = s[0] == '-' ? -1 : 1;
	if ((h = digits(s + 1, 2)) < 0 || h > 23)
		return 0;
	if (s[3] == ':') {
		if (len < 6 || (m = digits(s + 4, 2)) < 0 || m > 59)
			return 0;
		t->has_zone = 1;
		t->tzoff = sign * (h * 3600 + m * 60);
		return 6;
	}
	if ((m = digits(s + 3, 2)) < 0 || m > 59)
		return 0;
	t->has_zone = 1;
	t->tzoff = sign * (h * 3600 + m * 60);
	return 5;
}

/* parse_classic - "Mmm dd HH:MM:SS" */
static size_t
parse_classic(const char *s, size_t len, struct logtime *t)
{
	size_t n;

	if (len < 15 || s[3] != ' ' || (t->mon = month_of(s)) == 0)
		return 0;
	if (s[4] == ' ')
		t->mday = digits(s + 5, 1);
	else
		t->mday = digits(s + 4, 2);
	if (t->mday < 1 || t->mday > 31 || s[6] != ' ')
		return 0;
	if ((n = parse_clock(s + 7, len - 7, t, 1)) == 0)
		return 0;
	t->year = 0;
	return 7 + n;
}

/* parse_iso - "YYYY-MM-DD[T ]HH:MM[:SS[.frac]][zone]" */
static size_t
parse_iso(const char *s, size_t len, struct logtime *t)
{
	size_t n, i;

	if (len < 16 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' '))
		return 0;
	if ((t->year = digits(s, 4)) < 1 || (t->mon = digits(s + 5, 2)) < 1 ||
	    t->mon > 12 || (t->mday = digits(s + 8, 2)) < 1 ||
	    t->mday > days_in_month(t->year, t->mon))
		return 0;
	if ((n = parse_clock(s + 11, len - 11, t, s[10] == 'T')) == 0)
		return 0;
	i = 11 + n;
	i += parse_zone(s + i, len - i, t);
	return i;
}

/*
 * logtime_parse - parse the timestamp at the start of s[0..len)
 *
 * Returns the bytes used, or 0 when there is no valid timestamp or it is
 * not followed by a space or the end of s.
 */
size_t
logtime_parse(const char *s, size_t len, struct logtime *t)
{
	size_t n;

	memset(t, 0, sizeof(*t));
	if (len == 0)
		return 0;
	if (s[0] >= '0' && s[0] <= '9')
		n = parse_iso(s, len, t);
	else
		n = parse_classic(s, len, t);
	if (n == 0 || (n < len && s[n] != ' '))
		return 0;
	return n;
}

/* logtime_days - days from 1970-01-01 to year-mon-mday (proleptic) */
int64_t
logtime_days(int year, int mon, int mday)
{
	int64_t y = year - (mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* logtime_civil - civil seconds of t, which must have a year */
int64_t
logtime_civil(const struct logtime *t)
{
	return logtime_days(t->year, t->mon, t->mday) * DAY_SECONDS +
	       t->hour * 3600 + t->min * 60 + t->sec;
}

/* logtime_split - the date and time of civil seconds c into t (no zone) */
void
logtime_split(int64_t c, struct logtime *t)
{
	int64_t  z, era, doe, yoe, y, doy, mp, secs;
	unsigned d, m;

	memset(t, 0, sizeof(*t));
	z = (c >= 0 ? c : c - (DAY_SECONDS - 1)) / DAY_SECONDS;
	secs = c - z * DAY_SECONDS;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned) (doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned) (mp < 10 ? mp + 3 : mp - 9);
	t->year = (int) (y + (m <= 2));
	t->mon = (int) m;
	t->mday = (int) d;
	t->hour = (int) (secs / 3600);
	t->min = (int) (secs / 60 % 60);
	t->sec = (int) (secs % 60);
}

/* civil_in - civil seconds of yearless t placed in year (Feb 29 kept) */
static int64_t
civil_in(const struct logtime *t, int year)
{
	struct logtime u = *t;

	u.year = year;
	if (u.mday > days_in_month(year, u.mon))
		u.mday = days_in_month(year, u.mon);
	return logtime_civil(&u);
}

/* logtime_guess_year - latest year with t <= ref + one day */
int
logtime_guess_year(const struct logtime *t, int64_t ref)
{
	struct logtime r;

	logtime_split(ref, &r);
	if (civil_in(t, r.year) <= ref + DAY_SECONDS)
		return r.year;
	return r.year - 1;
}

/* logtime_near_year - year of yearless t that puts it nearest to prev */
int
logtime_near_year(const struct logtime *t, int64_t prev)
{
	struct logtime p;
	int64_t        best = -1, d;
	int            year, y;

	logtime_split(prev, &p);
	year = p.year;
	for (y = p.year - 1; y <= p.year + 1; y++) {
		d = civil_in(t, y) - prev;
		if (d < 0)
			d = -d;
		if (best < 0 || d < best) {
			best = d;
			year = y;
		}
	}
	return year;
}
