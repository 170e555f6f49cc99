/*
 * duration.h - durations as operators write them: "90s", "10m", "1h", "2d"
 *
 * Thread safety: pure functions.
 * Tests: tests/test_duration.c
 */
#ifndef SASLGUARD_DURATION_H
#define SASLGUARD_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * duration_format - the shortest exact form of secs: "1h", "90m", "45s",
 * "1d"; "0s" for 0.  Returns snprintf's value.
 */
int	duration_format(uint32_t secs, char *buf, size_t len);

#endif
