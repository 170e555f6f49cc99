/*
 * storeq.c - the asynchronous, batching writer in front of the store
 *
 * Records wait in one FIFO list under q->lock.  The writer thread cuts a
 * prefix of at most STOREQ_TXN_MAX records off the list, commits it in one
 * transaction with the lock released, then settles it: on success the
 * records are freed and their waiters told 0; on failure their waiters are
 * told -1 and the whole prefix goes back to the head of the list, so the
 * order of writes never changes (an unflag queued after a flag stays after
 * it).
 *
 * A waiter is a struct on the caller's stack; item->waiter points to it
 * and is only read or cleared under q->lock.  A waiter that gives up
 * clears the pointer itself, so the writer never touches a stack frame
 * that is gone.
 *
 * Thread safety: see storeq.h.
 * Tests: tests/test_storeq.c
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storeq.h"

enum item_kind { ITEM_MSG, ITEM_FLAG_PUT, ITEM_FLAG_DEL };

struct waiter {
	int done; /* the item was settled */
	int rc;   /* 0 committed, -1 not (yet) */
};

struct item {
	struct item    *next;
	struct waiter  *waiter; /* borrowed; NULL when nobody waits */
	struct timespec at;     /* when enqueued (monotonic) */
	enum item_kind  kind;
	union {
		struct store_msg  msg;
		struct store_flag flag;
		char              user[STORE_USER_SIZE];
	} u;
};

/*
 * Items are recycled through a small pool instead of malloc/free: they are
 * short-lived and large next to the account entries, and freeing them
 * into the same heaps as the long-lived entries fragments those heaps
 * (measured: about 35 bytes of resident memory per tracked user).
 */
#define STOREQ_POOL_MAX 1024

struct storeq {
	pthread_mutex_t pool_lock;
	struct item    *pool;  /* owned; free items, linked by next */
	size_t          npool;
	pthread_mutex_t lock;
	pthread_cond_t  wake; /* the writer: work to do, or stop */
	pthread_cond_t  done; /* the waiters: items were settled */
	pthread_t       thread;
	struct store   *st; /* borrowed; used by the writer thread only */
	unsigned        flush_ms;
	storeq_error_fn on_error;
	void           *arg;

	/* under lock */
	struct item    *head, *tail; /* owned; queued, oldest first */
	size_t          nqueued;
	size_t          ninflight; /* being committed by the writer */
	size_t          max_pending;
	struct timespec retry_at; /* next attempt while failing */
	int             urgent;   /* someone waits: commit now */
	int             failing;  /* the last commit failed */
	int             stop;
	uint64_t        written, failed, dropped;

	/* writer thread only */
	struct timespec last_report;
	uint64_t        streak;     /* failed attempts since the last success */
	uint64_t        unreported; /* failures not reported yet */
};

/* item_alloc - a zeroed item, from the pool when it has one; NULL on ENOMEM */
static struct item *
item_alloc(struct storeq *q)
{
	struct item *it;

	pthread_mutex_lock(&q->pool_lock);
	if ((it = q->pool) != NULL) {
		q->pool = it->next;
		q->npool--;
	}
	pthread_mutex_unlock(&q->pool_lock);
	if (it == NULL)
		return calloc(1, sizeof(*it));
	memset(it, 0, offsetof(struct item, u));
	return it;
}

/*
 * item_free_list - a list of items back to the pool in one lock hold (the
 * writer settles thousands at a time, and the connections take the same
 * lock for each new record), the overflow to malloc
 */
static void
item_free_list(struct storeq *q, struct item *list)
{
	struct item *it, *next;

	pthread_mutex_lock(&q->pool_lock);
	for (it = list; it != NULL && q->npool < STOREQ_POOL_MAX; it = next) {
		next = it->next;
		it->next = q->pool;
		q->pool = it;
		q->npool++;
	}
	pthread_mutex_unlock(&q->pool_lock);
	for (; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
}

/* item_free - one item back to the pool, or to malloc when it is full */
static void
item_free(struct storeq *q, struct item *it)
{
	it->next = NULL;
	item_free_list(q, it);
}

/* ts_now - the monotonic clock */
static struct timespec
ts_now(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

/* ts_add_ms - ts plus ms milliseconds */
static struct timespec
ts_add_ms(struct timespec ts, unsigned ms)
{
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* ts_before - 1 when a is earlier than b */
static int
ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* settle - tell the waiter of it (if any) the outcome rc; under lock */
static void
settle(struct item *it, int rc)
{
	if (it->waiter == NULL)
		return;
	it->waiter->rc = rc;
	it->waiter->done = 1;
	it->waiter = NULL;
}

/*
 * make_room - drop the oldest message records until fewer than max_pending
 * are queued; flags are kept even past the bound.  Under lock.
 */
static void
make_room(struct storeq *q)
{
	struct item *it, *prev = NULL, *next;

	for (it = q->head; it != NULL && q->nqueued >= q->max_pending;
	     it = next) {
		next = it->next;
		if (it->kind != ITEM_MSG) {
			prev = it;
			continue;
		}
		if (prev == NULL)
			q->head = next;
		else
			prev->next = next;
		if (q->tail == it)
			q->tail = prev;
		settle(it, -1);
		item_free(q, it);
		q->nqueued--;
		q->dropped++;
		pthread_cond_broadcast(&q->done);
	}
}

/*
 * enqueue - append it (taking ownership) and, with wait, block until it is
 * settled: 0 once committed, -1 when the store is failing or the wait ends
 */
static int
enqueue(struct storeq *q, struct item *it, int wait)
{
	struct waiter   w = { 0, -1 };
	struct timespec deadline;

	it->next = NULL;
	it->waiter = NULL;
	it->at = ts_now();
	pthread_mutex_lock(&q->lock);
	if (q->stop) {
		pthread_mutex_unlock(&q->lock);
		item_free(q, it);
		errno = EPIPE;
		return -1;
	}
	make_room(q);
	if (q->tail == NULL)
		q->head = it;
	else
		q->tail->next = it;
	q->tail = it;
	q->nqueued++;
	if (!wait) {
		/* the writer sleeps without a deadline while the queue is empty */
		if (!q->failing &&
		    (q->nqueued == 1 || q->nqueued >= STOREQ_BATCH))
			pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	if (q->failing) {
		/* do not hold mail up on a store known to be broken */
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	it->waiter = &w;
	q->urgent = 1;
	pthread_cond_signal(&q->wake);
	deadline = ts_add_ms(it->at, STOREQ_SYNC_WAIT_MS);
	while (!w.done) {
		if (pthread_cond_timedwait(&q->done, &q->lock, &deadline) ==
		    ETIMEDOUT)
			break;
	}
	/* not settled: the item is still queued or being written */
	if (!w.done)
		it->waiter = NULL;
	pthread_mutex_unlock(&q->lock);
	return w.done ? w.rc : -1;
}

/* commit_batch - write the items of the list batch in one transaction */
static int
commit_batch(struct store *st, struct item *batch, char *err, size_t errlen)
{
	struct item *it;
	int          rc = 0;

	if (store_begin(st, err, errlen) == -1)
		return -1;
	for (it = batch; it != NULL && rc != -1; it = it->next) {
		switch (it->kind) {
		case ITEM_MSG:
			rc = store_msgs_put(st, &it->u.msg, 1, err, errlen);
			break;
		case ITEM_FLAG_PUT:
			rc = store_flag_put(st, &it->u.flag, err, errlen);
			break;
		case ITEM_FLAG_DEL:
			rc = store_flag_del(st, it->u.user, err, errlen);
			break;
		}
	}
	if (rc == -1 || store_commit(st, err, errlen) == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* report - hand msg to on_error; called without the lock */
static void
report(struct storeq *q, const char *msg)
{
	if (q->on_error != NULL)
		q->on_error(msg, q->arg);
}

/*
 * report_failure - compose a rate-limited report of a failed commit into
 * msg; 0 when this one is to be kept quiet
 */
static int
report_failure(struct storeq *q, const char *err, size_t pending,
    uint64_t dropped, char *msg, size_t len)
{
	struct timespec now = ts_now();
	int             n;

	q->streak++;
	if (q->streak > 1 &&
	    now.tv_sec - q->last_report.tv_sec < STOREQ_REPORT_INTERVAL) {
		q->unreported++;
		return 0;
	}
	n = snprintf(msg, len,
	    "store write failed: %s; %zu records kept in memory, will retry "
	    "(%llu failures not reported, %llu message records dropped)",
	    err, pending, (unsigned long long) q->unreported,
	    (unsigned long long) dropped);
	if (n < 0)
		return 0;
	/* a cut-short report is still worth sending */
	q->last_report = now;
	q->unreported = 0;
	return 1;
}

/* report_recovery - compose the report of the first success after failures */
static int
report_recovery(
    struct storeq *q, size_t pending, uint64_t dropped, char *msg, size_t len)
{
	int n;

	if (q->streak == 0)
		return 0;
	n = snprintf(msg, len,
	    "store writes recovered after %llu failed attempts; %zu records "
	    "pending, %llu message records dropped",
	    (unsigned long long) q->streak, pending,
	    (unsigned long long) dropped);
	q->streak = 0;
	q->unreported = 0;
	return n >= 0;
}

/*
 * settle_batch - after a commit: free the batch or put it back at the head
 * of the queue; under lock
 */
static void
settle_batch(
    struct storeq *q, struct item *batch, struct item *last, size_t n, int rc)
{
	struct item *it;

	q->ninflight = 0;
	if (rc == 0) {
		for (it = batch; it != NULL; it = it->next)
			settle(it, 0);
		item_free_list(q, batch);
		q->written += n;
		q->failing = 0;
	} else {
		for (it = batch; it != NULL; it = it->next)
			settle(it, -1);
		last->next = q->head;
		q->head = batch;
		if (q->tail == NULL)
			q->tail = last;
		q->nqueued += n;
		q->failed++;
		q->failing = 1;
		q->retry_at = ts_add_ms(ts_now(), q->flush_ms);
		make_room(q);
	}
	pthread_cond_broadcast(&q->done);
}

/* writer - the writer thread: wait for work, commit, settle, repeat */
static void *
writer(void *arg)
{
	struct storeq  *q = arg;
	struct item    *batch, *last;
	struct timespec now, deadline;
	char            err[512], msg[768];
	size_t          n;
	int             rc, say, stopping;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->head == NULL) {
			if (q->stop)
				break;
			pthread_cond_wait(&q->wake, &q->lock);
			continue;
		}
		if (!q->stop) {
			now = ts_now();
			if (q->failing)
				deadline = q->retry_at;
			else if (q->urgent || q->nqueued >= STOREQ_BATCH)
				deadline = now;
			else
				deadline = ts_add_ms(q->head->at, q->flush_ms);
			if (ts_before(now, deadline)) {
				(void) pthread_cond_timedwait(
				    &q->wake, &q->lock, &deadline);
				continue;
			}
		}

		/* cut off the oldest STOREQ_TXN_MAX items */
		batch = last = q->head;
		for (n = 1; n < STOREQ_TXN_MAX && last->next != NULL; n++)
			last = last->next;
		q->head = last->next;
		last->next = NULL;
		if (q->head == NULL) {
			q->tail = NULL;
			q->urgent = 0;
		}
		q->nqueued -= n;
		q->ninflight = n;
		stopping = q->stop;
		pthread_mutex_unlock(&q->lock);

		err[0] = '\0';
		rc = commit_batch(q->st, batch, err, sizeof(err));

		pthread_mutex_lock(&q->lock);
		settle_batch(q, batch, last, n, rc);
		if (rc == 0)
			say = report_recovery(
			    q, q->nqueued, q->dropped, msg, sizeof(msg));
		else
			say = report_failure(
			    q, err, q->nqueued, q->dropped, msg, sizeof(msg));
		if (say) {
			pthread_mutex_unlock(&q->lock);
			report(q, msg);
			pthread_mutex_lock(&q->lock);
		}
		/*
		 * Once stopping, one failed attempt ends it (storeq_destroy
		 * counts the rest); a failure from before the stop does not.
		 */
		if (rc == -1 && stopping)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* storeq_create - start the writer thread on st */
struct storeq *
storeq_create(
    struct store *st, unsigned flush_ms, storeq_error_fn on_error, void *arg)
{
	struct storeq     *q;
	pthread_condattr_t attr;
	int                e;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->st = st;
	q->flush_ms = flush_ms;
	q->on_error = on_error;
	q->arg = arg;
	q->max_pending = STOREQ_MAX_PENDING;
	if ((e = pthread_condattr_init(&attr)) != 0)
		goto bad;
	if ((e = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) != 0 ||
	    (e = pthread_cond_init(&q->wake, &attr)) != 0) {
		pthread_condattr_destroy(&attr);
		goto bad;
	}
	if ((e = pthread_cond_init(&q->done, &attr)) != 0) {
		pthread_condattr_destroy(&attr);
		pthread_cond_destroy(&q->wake);
		goto bad;
	}
	pthread_condattr_destroy(&attr);
	if ((e = pthread_mutex_init(&q->lock, NULL)) != 0)
		goto bad_conds;
	if ((e = pthread_mutex_init(&q->pool_lock, NULL)) != 0) {
		pthread_mutex_destroy(&q->lock);
		goto bad_conds;
	}
	if ((e = pthread_create(&q->thread, NULL, writer, q)) != 0) {
		pthread_mutex_destroy(&q->pool_lock);
		pthread_mutex_destroy(&q->lock);
		goto bad_conds;
	}
	return q;
bad_conds:
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->done);
bad:
	free(q);
	errno = e;
	return NULL;
}

/* storeq_destroy - commit what can be committed, stop the thread, free */
void
storeq_destroy(struct storeq *q)
{
	struct item *it, *next;
	size_t       lost = 0;
	char         msg[128];
	int          n;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	(void) pthread_join(q->thread, NULL);

	for (it = q->head; it != NULL; it = next) {
		next = it->next;
		settle(it, -1);
		item_free(q, it);
		lost++;
	}
	if (lost > 0) {
		n = snprintf(msg, sizeof(msg),
		    "store writer stopped with %zu records not written", lost);
		if (n > 0)
			report(q, msg);
	}
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->done);
	pthread_mutex_destroy(&q->lock);
	while ((it = q->pool) != NULL) {
		q->pool = it->next;
		free(it);
	}
	pthread_mutex_destroy(&q->pool_lock);
	free(q);
}

/* storeq_max_pending - change the bound on queued records (minimum 1) */
void
storeq_max_pending(struct storeq *q, size_t max)
{
	pthread_mutex_lock(&q->lock);
	q->max_pending = max > 0 ? max : 1;
	pthread_mutex_unlock(&q->lock);
}

/* item_msg - a new message item holding a copy of m; NULL with errno */
static struct item *
item_msg(struct storeq *q, const struct store_msg *m)
{
	struct item *it;

	/* a record the store would refuse must not block the queue */
	if (store_state_name(m->state) == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((it = item_alloc(q)) == NULL)
		return NULL;
	it->kind = ITEM_MSG;
	it->u.msg = *m;
	return it;
}

/* storeq_msg - enqueue a message record; never waits for I/O */
int
storeq_msg(struct storeq *q, const struct store_msg *m)
{
	struct item *it;

	if ((it = item_msg(q, m)) == NULL)
		return -1;
	return enqueue(q, it, 0);
}

/* storeq_msg_sync - enqueue m and wait until it is committed */
int
storeq_msg_sync(struct storeq *q, const struct store_msg *m)
{
	struct item *it;

	if ((it = item_msg(q, m)) == NULL)
		return -1;
	return enqueue(q, it, 1);
}

/* storeq_flag_put_sync - enqueue a flag and wait until it is committed */
int
storeq_flag_put_sync(struct storeq *q, const struct store_flag *f)
{
	struct item *it;

	if ((it = item_alloc(q)) == NULL)
		return -1;
	it->kind = ITEM_FLAG_PUT;
	it->u.flag = *f;
	return enqueue(q, it, 1);
}

/* storeq_flag_del_sync - enqueue an unflag and wait until it is committed */
int
storeq_flag_del_sync(struct storeq *q, const char *user)
{
	struct item *it;
	int          n;

	if ((it = item_alloc(q)) == NULL)
		return -1;
	it->kind = ITEM_FLAG_DEL;
	n = snprintf(it->u.user, sizeof(it->u.user), "%s", user);
	if (n < 0 || (size_t) n >= sizeof(it->u.user)) {
		item_free(q, it);
		errno = ENAMETOOLONG;
		return -1;
	}
	return enqueue(q, it, 1);
}

/* storeq_stats - counters; any pointer may be NULL */
void
storeq_stats(struct storeq *q, uint64_t *pending, uint64_t *written,
    uint64_t *failed, uint64_t *dropped)
{
	pthread_mutex_lock(&q->lock);
	if (pending != NULL)
		*pending = q->nqueued + q->ninflight;
	if (written != NULL)
		*written = q->written;
	if (failed != NULL)
		*failed = q->failed;
	if (dropped != NULL)
		*dropped = q->dropped;
	pthread_mutex_unlock(&q->lock);
}
