/*
 * storeq.h - the asynchronous, batching writer in front of the store
 *
 * One writer thread owns a struct store and commits what the milter
 * threads enqueue, many records per transaction: every flush_ms after the
 * oldest pending record, at once when STOREQ_BATCH records are pending, and
 * at once when a caller waits (group commit: waiters that arrive while a
 * commit runs share the next one).  Records are written in the order they
 * were enqueued.
 *
 * Failure contract: when a commit fails (disk full, file unwritable,
 * database locked), nothing is dropped; the records stay queued in memory
 * and the writer retries every flush_ms.  A *_sync caller then gets -1: at
 * once while the store is known to be failing, otherwise after the failed
 * attempt or STOREQ_SYNC_WAIT_MS, whichever comes first; its record stays
 * queued and is retried like the others.  Memory is bounded: beyond the
 * maximum (STOREQ_MAX_PENDING unless changed), the oldest message records
 * are dropped and counted; flags are never dropped.
 *
 * Errors are reported through on_error, from the writer thread and with no
 * lock held: the first failure, then at most one report per
 * STOREQ_REPORT_INTERVAL seconds while failures go on, and one report when
 * a commit succeeds again.
 *
 * Thread safety: every storeq_* function may be called from any thread,
 * except storeq_destroy, which the owner calls once, after the others.
 * The store handed to storeq_create belongs to the writer thread until
 * storeq_destroy returns.
 * Tests: tests/test_storeq.c
 */
#ifndef SASLGUARD_STOREQ_H
#define SASLGUARD_STOREQ_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STOREQ_BATCH           512  /* pending records that trigger a commit */
#define STOREQ_TXN_MAX         4096 /* records per transaction at most */
#define STOREQ_MAX_PENDING     100000 /* records kept while the store fails */
#define STOREQ_SYNC_WAIT_MS    5000   /* longest a *_sync caller waits */
#define STOREQ_REPORT_INTERVAL 60     /* seconds between failure reports */

struct storeq;

typedef void (*storeq_error_fn)(const char *msg, void *arg);

/*
 * storeq_create - start the writer thread on st, which nobody else may use
 * until storeq_destroy returns; NULL with errno set on failure.  on_error
 * may be NULL.
 */
struct storeq *storeq_create(
    struct store *st, unsigned flush_ms, storeq_error_fn on_error, void *arg);

/*
 * storeq_destroy - commit what can be committed, stop the thread and free
 * the queue (not the store); records the store refuses at that point are
 * reported and lost.  Accepts NULL.
 */
void storeq_destroy(struct storeq *q);

/* storeq_max_pending - change the bound on queued records (minimum 1) */
void storeq_max_pending(struct storeq *q, size_t max);

/* storeq_msg - enqueue a message record; never waits for I/O; -1 on ENOMEM */
int storeq_msg(struct storeq *q, const struct store_msg *m);

/* storeq_msg_sync - enqueue m and wait until it is committed; 0 or -1 */
int storeq_msg_sync(struct storeq *q, const struct store_msg *m);

/* storeq_flag_put_sync - enqueue a flag and wait until it is committed */
int storeq_flag_put_sync(struct storeq *q, const struct store_flag *f);

/* storeq_flag_del_sync - enqueue an unflag and wait until it is committed */
int storeq_flag_del_sync(struct storeq *q, const char *user);

/*
 * storeq_stats - records queued or being written, records committed,
 * failed commit attempts, message records dropped; any pointer may be NULL
 */
void storeq_stats(struct storeq *q, uint64_t *pending, uint64_t *written,
    uint64_t *failed, uint64_t *dropped);

#endif
