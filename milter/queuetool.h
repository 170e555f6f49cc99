/*
 * queuetool.h - Postfix's queue tools, run by a small privileged helper
 *
 * postsuper refuses anyone but root, yet the process that parses SMTP
 * input must not be root.  So, as OpenSMTPD separates privileges, main()
 * forks a helper before anything else runs; the helper keeps root, owns
 * nothing but one end of a socket pair, and does exactly two things on
 * request: run "postqueue -j" and hand back its lines, or run postsuper
 * with one fixed operation and a list of queue IDs on standard input.
 * Every ID is validated again in the helper; the paths and the Postfix
 * config directory are fixed when the helper starts.  No shell anywhere.
 *
 * Thread safety: requests are serialised by a mutex; any thread may call.
 */
#ifndef SASLGUARD_QUEUETOOL_H
#define SASLGUARD_QUEUETOOL_H

#include <stddef.h>

#include "conf.h"
#include "pqjson.h"
#include "queueid.h"

/*
 * queuetool_start - fork the helper; call before any thread is started
 * and before privileges are dropped.  Returns 0 or -1 with err.
 */
int	queuetool_start(const struct conf *c, char *err, size_t len);

/* queuetool_stop - end the helper; accepts being called without a start */
void	queuetool_stop(void);

/*
 * queuetool_list - every message in the queue, one callback each
 *
 * Lines that do not parse are counted in *bad (may be NULL) and skipped.
 * A callback returning -1 stops the listing (the rest is drained).
 * Returns 0, or -1 with err when postqueue could not run or failed.
 */
int	queuetool_list(int (*cb)(const struct pq_msg *, void *), void *arg,
	    size_t *bad, char *err, size_t len);

/*
 * queuetool_apply - one postsuper operation on ids
 *
 * op is QUEUE_DELETE, QUEUE_RELEASE, QUEUE_REQUEUE or QUEUE_HOLD; queue
 * NULL or one queue name.  *done gets the count postsuper reported.
 * Returns 0, or -1 with err (an invalid ID refuses the whole request).
 */
int	queuetool_apply(enum queue_op op, const char *queue,
	    const char *const *ids, size_t n, unsigned long *done, char *err,
	    size_t len);

/*
 * queuetool_schedule - ask for immediate delivery of deferred ids
 * ("postqueue -i ID" each; for more than QUEUETOOL_SCHEDULE_MAX, one
 * "postqueue -f").  *done gets the IDs scheduled.  Returns 0 or -1.
 */
#define QUEUETOOL_SCHEDULE_MAX 200
int	queuetool_schedule(const char *const *ids, size_t n,
	    unsigned long *done, char *err, size_t len);

#endif
