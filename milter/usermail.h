/*
 * usermail.h - one account's mail still in Postfix's queue
 *
 * Which mail belongs to an account comes from what the filter recorded
 * (queue IDs per user in the store), checked against the live queue
 * (postqueue -j): never from the envelope sender alone, since two
 * accounts may share a sender and an attacker forges senders.  Postfix
 * reuses queue IDs, so a recorded ID only matches a queued message whose
 * arrival time fits the recording (queuematch.h).
 *
 * Thread safety: uses sg->reader under sg->reader_lock and the queue
 * helper, which serialises itself.
 */
#ifndef SASLGUARD_USERMAIL_H
#define SASLGUARD_USERMAIL_H

#include <stddef.h>

#include "pqjson.h"

struct usermail {
	struct pq_msg *msgs;	/* owned; the account's queued messages */
	size_t   n;
	size_t   stale;		/* recorded IDs now used by other messages */
};

/* usermail_collect - the queued mail of user; 0, or -1 with err */
int	usermail_collect(const char *user, struct usermail *um, char *err,
	    size_t len);

/* usermail_free - release um's storage; accepts an empty um */
void	usermail_free(struct usermail *um);

#endif
