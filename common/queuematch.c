/*
 * queuematch.c - is the queued message behind a recorded ID the recorded one?
 *
 * Thread safety: pure functions.
 * Tests: tests/test_queuematch.c
 */
#include <strings.h>

#include "queuematch.h"

/* queuematch - 1 when the queued message is the recorded one */
int
queuematch(time_t queued_arrival, const char *queued_sender,
    time_t recorded_at, const char *recorded_sender, int match_sender)
{
	if (queued_arrival > recorded_at + QUEUEMATCH_SLACK)
		return 0;
	if (queued_arrival < recorded_at - QUEUEMATCH_MAX_TXN)
		return 0;
	if (match_sender && strcasecmp(queued_sender, recorded_sender) != 0)
		return 0;
	return 1;
}
