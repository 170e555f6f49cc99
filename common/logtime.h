/*
 * logtime.h - timestamps of log lines: classic syslog and RFC 3339
 *
 * Recognised forms, at the start of a line:
 *   "Nov 28 02:57:14", "Nov  8 02:57:14", "Nov 08 02:57:14"  (no year)
 *   "2026-11-28T02:57:14", with ".123456" and "Z", "+01:00" or "+0100"
 *   "2026-11-28 02:57:14" (Dovecot's own files); seconds may be left out
 *   ("2026-11-28 02:00"), as an operator types it.
 * A classic timestamp has no year; logtime_guess_year() and
 * logtime_near_year() infer it from a reference time or the previous line.
 * "Civil seconds" are the seconds since 1970-01-01 00:00:00 of the wall
 * clock the line shows, as if it were UTC; the caller maps them to real
 * time (a zone offset, or the local zone for lines without one).
 *
 * Thread safety: pure functions.
 * Tests: tests/test_logparse.c
 */
#ifndef SASLGUARD_LOGTIME_H
#define SASLGUARD_LOGTIME_H

#include <stddef.h>
#include <stdint.h>

struct logtime {
	int year;     /* 0 when the timestamp has none */
	int mon;      /* 1..12 */
	int mday;     /* 1..31 */
	int hour;     /* 0..23 */
	int min;      /* 0..59 */
	int sec;      /* 0..60 */
	int usec;     /* 0..999999 */
	int has_zone; /* 1 when "Z" or an offset was given */
	int tzoff;    /* seconds east of UTC when has_zone */
};

/*
 * logtime_parse - parse the timestamp at the start of s[0..len)
 *
 * Returns the number of bytes it used (the timestamp ends at len or at a
 * space), or 0 when s does not start with a valid timestamp.
 */
size_t logtime_parse(const char *s, size_t len, struct logtime *t);

/* logtime_days - days from 1970-01-01 to year-mon-mday (proleptic) */
int64_t logtime_days(int year, int mon, int mday);

/* logtime_civil - civil seconds of t, which must have a year */
int64_t logtime_civil(const struct logtime *t);

/* logtime_split - the date and time of civil seconds c into t (no zone) */
void logtime_split(int64_t c, struct logtime *t);

/*
 * logtime_guess_year - year of a yearless t, given civil seconds ref
 *
 * The latest year in which t is not later than ref plus one day (a log
 * file is written before its modification time; the day absorbs zone and
 * clock differences).
 */
int logtime_guess_year(const struct logtime *t, int64_t ref);

/*
 * logtime_near_year - year of a yearless t that puts it nearest to prev
 *
 * prev is the civil time of an earlier line of the same file; the year is
 * prev's year, the one before or the one after, so December to January
 * rolls over and a slightly earlier line does not jump a year ahead.
 */
int logtime_near_year(const struct logtime *t, int64_t prev);

#endif
