/*
 * duration.c - durations as operators write them
 *
 * Only formatting lives here; parsing is conf_parse_duration() because the
 * config is where durations come from.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_duration.c
 */
#include <stdio.h>

#include "duration.h"

/* duration_format - the shortest exact form of secs */
int
duration_format(uint32_t secs, char *buf, size_t len)
{
	static const struct {
		uint32_t    secs;
		const char *unit;
	} units[] = {
		{ 604800, "w" }, { 86400, "d" }, { 3600, "h" }, { 60, "m" },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (secs != 0 && secs % units[i].secs == 0)
			return snprintf(buf, len, "%lu%s",
			    (unsigned long) (secs / units[i].secs), units[i].unit);
	return snprintf(buf, len, "%lus", (unsigned long) secs);
}
