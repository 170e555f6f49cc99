/*
 * queuematch.h - is the queued message behind a recorded queue ID still
 * the one the filter recorded?
 *
 * Postfix reuses queue IDs (short IDs come from the clock's microseconds
 * and the queue file's inode).  A recorded ID matches a message in the
 * live queue only when the queue file's arrival time lies between the
 * start of the SMTP transaction and the moment the filter recorded it
 * (end of message), with QUEUEMATCH_SLACK seconds of slack for clock
 * granularity; a message that took longer than QUEUEMATCH_MAX_TXN to
 * upload is not recognised (it is left alone rather than risk deleting
 * someone else's).  When the recorded sender is known, the queued one must
 * be equal, ignoring case (a sender_canonical_maps rewrite makes them
 * differ; such a site sets queue_match_sender = false).
 *
 * Thread safety: pure functions.
 * Tests: tests/test_queuematch.c
 */
#ifndef SASLGUARD_QUEUEMATCH_H
#define SASLGUARD_QUEUEMATCH_H

#include <time.h>

#define QUEUEMATCH_SLACK   5
#define QUEUEMATCH_MAX_TXN 3600

/*
 * queuematch - 1 when the queued message (arrival, sender) is the recorded
 * one (recorded_at, recorded_sender); match_sender 0 skips the sender test
 */
int	queuematch(time_t queued_arrival, const char *queued_sender,
	    time_t recorded_at, const char *recorded_sender, int match_sender);

#endif
