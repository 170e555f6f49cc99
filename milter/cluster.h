/*
 * cluster.h - cluster mode: several servers share counters and flags in
 * Redis
 *
 * With a redis group in the config, the end-of-message decision is taken
 * in Redis by one script call per transaction (clusterproto.h), so every
 * server counts against the same windows; flags live in a Redis hash and
 * are announced on a channel, and every daemon applies the flags and
 * unflags of the others to its own account table and store, so the
 * MAIL FROM check stays local; delete and release go to every server,
 * each acting on its own Postfix queue.
 *
 * Redis slow or down: no SMTP transaction waits longer than
 * redis.timeout on it; the daemon then decides with its local counters
 * (counted in stats as redis_fallback) until a background thread, trying
 * at most once a second, has reconnected, pulled the flags and pushed the
 * ones raised meanwhile.  Flags are never lost: the local store has them,
 * and a flag Redis does not know is pushed again on reconnection unless
 * it was unflagged later somewhere else.
 *
 * Redis is trusted: whoever can write to it can flag accounts and have
 * every server delete an account's queued mail.  Give it a password and
 * keep it on a private network.
 *
 * Thread safety: cluster_start/cluster_stop from main only; everything
 * else from any thread.  The redis settings are read at start; a reload
 * does not change them.
 */
#ifndef SASLGUARD_CLUSTER_H
#define SASLGUARD_CLUSTER_H

#include <stddef.h>
#include <time.h>

#include "accounts.h"
#include "clusterproto.h"
#include "conf.h"
#include "ctlproto.h"
#include "policy.h"

#define CLUSTER_POOL       16 /* Redis connections for the SMTP threads */
#define CLUSTER_REPLY_WAIT 10 /* seconds a delete/release waits for servers */
#define CLUSTER_HEARTBEAT  3  /* seconds between heartbeats */
#define CLUSTER_HB_TTL     10 /* a server without a heartbeat for so long is down */

/*
 * cluster_start - when c has a redis address: connect once (bounded by
 * the timeouts; a failure is logged, not fatal) and start the background
 * thread.  Call after the flags are loaded from the store, before
 * smfi_main().  Returns 0, or -1 with err when the thread cannot start.
 */
int cluster_start(const struct conf *c, char *err, size_t len);

/* cluster_stop - stop the thread and close every connection; accepts no start */
void cluster_stop(void);

/* cluster_enabled - 1 when the daemon runs in cluster mode */
int cluster_enabled(void);

/* cluster_state - "off", "up" (Redis decides) or "down" (local counters) */
const char *cluster_state(void);

/*
 * cluster_eom - decide one message in Redis
 *
 * Returns 0 with d filled (the same fields accounts_eom() gives; a flag
 * the decision raises is already latched in Redis and announced), 1 when
 * cluster mode is off, -1 when Redis cannot decide now (the caller uses
 * accounts_eom(); the fallback is counted).  client and queue_id go into
 * the flag record.
 */
int cluster_eom(const struct conf *c, const struct accounts_txn *t,
    const char *client, const char *queue_id, struct policy_decision *d);

/*
 * cluster_flag - write a flag raised on this server to Redis and announce
 * it; when Redis is down, keep it to push on reconnection.  A flag the
 * end-of-message script of this thread has just latched is not pushed
 * twice.
 */
void cluster_flag(const char *user, const struct account_flag *f,
    const char *reason, const char *source, const char *client,
    const char *queue_id);

/* cluster_unflag - remove user's flag from Redis and announce it (or keep it to push) */
void cluster_unflag(const char *user, time_t now);

/*
 * cluster_queue_cmd - delete or release user's mail on every server
 *
 * Publishes the request, waits up to CLUSTER_REPLY_WAIT seconds for the
 * servers' answers and sends the control client one row per server and
 * the ok line through emit.  Without Redis, acts on this server's queue
 * only and says so.  Returns 0, or -1 when emit failed (client gone).
 */
int cluster_queue_cmd(enum cluster_queue_op op, const char *user, int dry,
    int (*emit)(struct ctl_line *, void *), void *arg);

#endif
