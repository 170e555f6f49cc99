/*
 * test_storeq.c - tests of the batching store writer
 *
 * Failures are made by holding the database's write lock from a second
 * handle (store_begin), with a short busy timeout on the writer's handle.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../milter/storeq.h"

static char dir[64];
static char path[128];
static char err[512];

/* what on_error reported */
struct reports {
	pthread_mutex_t lock;
	int             n;
	char            msg[4][1024];
};

static struct reports reports = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
on_error(const char *msg, void *arg)
{
	struct reports *r = arg;

	pthread_mutex_lock(&r->lock);
	if (r->n < 4)
		(void) snprintf(r->msg[r->n], sizeof(r->msg[0]), "%s", msg);
	r->n++;
	pthread_mutex_unlock(&r->lock);
}

static int
reports_n(void)
{
	int n;

	pthread_mutex_lock(&reports.lock);
	n = reports.n;
	pthread_mutex_unlock(&reports.lock);
	return n;
}

static void
setup(void)
{
	int n;

	n = snprintf(dir, sizeof(dir), "/tmp/test_storeq.XXXXXX");
	cr_assert(n > 0 && (size_t) n < sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	n = snprintf(path, sizeof(path), "%s/state.db", dir);
	cr_assert(n > 0 && (size_t) n < sizeof(path));
}

static void
teardown(void)
{
	const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char        p[160];
	size_t      i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) <
		    (int) sizeof(p))
			(void) unlink(p);
	}
	(void) rmdir(dir);
}

TestSuite(storeq, .init = setup, .fini = teardown);

static struct store *
open_store(int readonly)
{
	struct store *st = NULL;

	cr_assert_eq(
	    store_open(path, readonly, &st, err, sizeof(err)), 0, "%s", err);
	return st;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct store_msg
make_msg(const char *user, unsigned i, int held)
{
	struct store_msg m;

	memset(&m, 0, sizeof(m));
	(void) snprintf(m.queue_id, sizeof(m.queue_id), "Q%06u", i);
	(void) snprintf(m.user, sizeof(m.user), "%s", user);
	(void) snprintf(m.sender, sizeof(m.sender), "%s", user);
	m.nrcpt = 1;
	(void) snprintf(m.client, sizeof(m.client), "192.0.2.1");
	m.arrival = 1000 + (time_t) i;
	m.held = held;
	m.state = STORE_QUEUED;
	m.recorded = m.arrival;
	return m;
}

static struct store_flag
make_flag(const char *user)
{
	struct store_flag f;

	memset(&f, 0, sizeof(f));
	(void) snprintf(f.user, sizeof(f.user), "%s", user);
	f.flagged_at = 1700000000;
	(void) snprintf(f.limit, sizeof(f.limit), "messages");
	f.count = 101;
	f.max = 100;
	f.window = 3600;
	(void) snprintf(f.source, sizeof(f.source), "policy");
	return f;
}

static int
count_cb(const struct store_msg *m, void *arg)
{
	(void) m;
	(*(size_t *) arg)++;
	return 0;
}

static size_t
count_msgs(struct store *st, const char *user)
{
	size_t n = 0;

	cr_assert_eq(
	    store_msgs_each(st, user, 0, 0, count_cb, &n, err, sizeof(err)), 0,
	    "%s", err);
	return n;
}

/* has_qid - 1 when user has a row with queue ID "Q<i>" */
struct find {
	char qid[STORE_QID_SIZE];
	int  found;
};

static int
find_cb(const struct store_msg *m, void *arg)
{
	struct find *f = arg;

	if (strcmp(m->queue_id, f->qid) == 0)
		f->found = 1;
	return f->found;
}

static int
has_qid(struct store *st, const char *user, unsigned i)
{
	struct find f = { .found = 0 };

	(void) snprintf(f.qid, sizeof(f.qid), "Q%06u", i);
	cr_assert_eq(
	    store_msgs_each(st, user, 0, 0, find_cb, &f, err, sizeof(err)), 0,
	    "%s", err);
	return f.found;
}

/* wait_pending - poll until nothing is pending; 0 on time-out */
static int
wait_pending(struct storeq *q, unsigned ms)
{
	uint64_t pending = 1;
	unsigned waited;

	for (waited = 0; waited < ms; waited += 10) {
		storeq_stats(q, &pending, NULL, NULL, NULL);
		if (pending == 0)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

Test(storeq, enqueued_messages_all_land_after_destroy)
{
	struct store  *st = open_store(0);
	struct storeq *q;
	struct store  *r;
	unsigned       i;

	q = storeq_create(st, 50, on_error, &reports);
	cr_assert_not_null(q);
	for (i = 0; i < 3000; i++) {
		struct store_msg m = make_msg(
		    i % 2 ? "alice@example.org" : "bob@example.org", i, 0);
		cr_assert_eq(storeq_msg(q, &m), 0);
	}
	storeq_destroy(q);
	store_close(st);

	r = open_store(1);
	cr_assert_eq(count_msgs(r, "alice@example.org"), 1500);
	cr_assert_eq(count_msgs(r, "bob@example.org"), 1500);
	store_close(r);
	cr_assert_eq(reports_n(), 0);
}

Test(storeq, messages_are_committed_within_the_flush_interval)
{
	struct store  *st = open_store(0);
	struct store  *r = open_store(1);
	struct storeq *q = storeq_create(st, 20, on_error, &reports);
	uint64_t       written = 0;
	unsigned       i;

	cr_assert_not_null(q);
	for (i = 0; i < 10; i++) {
		struct store_msg m = make_msg("alice@example.org", i, 0);
		cr_assert_eq(storeq_msg(q, &m), 0);
	}
	cr_assert(wait_pending(q, 3000));
	storeq_stats(q, NULL, &written, NULL, NULL);
	cr_assert_eq(written, 10);
	/* visible to another handle while the writer still runs */
	cr_assert_eq(count_msgs(r, "alice@example.org"), 10);
	storeq_destroy(q);
	store_close(st);
	store_close(r);
}

Test(storeq, sync_flag_put_is_durable_on_return)
{
	struct store     *st = open_store(0);
	struct storeq    *q;
	struct store     *r;
	struct store_flag f = make_flag("alice@example.org");
	struct store_flag g;
	double            t0;

	/* a long interval: only the waiting caller can make it commit now */
	q = storeq_create(st, 60000, on_error, &reports);
	cr_assert_not_null(q);
	t0 = now_s();
	cr_assert_eq(storeq_flag_put_sync(q, &f), 0);
	cr_assert_lt(now_s() - t0, 2.0);
	r = open_store(1);
	cr_assert_eq(
	    store_flag_get(r, "alice@example.org", &g, err, sizeof(err)), 1,
	    "%s", err);
	cr_assert_eq(g.count, 101);

	cr_assert_eq(storeq_flag_del_sync(q, "alice@example.org"), 0);
	cr_assert_eq(
	    store_flag_get(r, "alice@example.org", &g, err, sizeof(err)), 0,
	    "%s", err);
	store_close(r);
	storeq_destroy(q);
	store_close(st);
}

Test(storeq, sync_message_commits_earlier_async_messages_in_order)
{
	struct store    *st = open_store(0);
	struct storeq   *q = storeq_create(st, 60000, on_error, &reports);
	struct store    *r = open_store(1);
	struct store_msg m;
	unsigned         i;

	cr_assert_not_null(q);
	for (i = 0; i < 5; i++) {
		m = make_msg("alice@example.org", i, 0);
		cr_assert_eq(storeq_msg(q, &m), 0);
	}
	m = make_msg("alice@example.org", 5, 1);
	cr_assert_eq(storeq_msg_sync(q, &m), 0);
	cr_assert_eq(count_msgs(r, "alice@example.org"), 6);
	store_close(r);
	storeq_destroy(q);
	store_close(st);
}

struct waiter_arg {
	struct storeq *q;
	unsigned       base;
	int            failures;
};

static void *
sync_writer(void *arg)
{
	struct waiter_arg *w = arg;
	unsigned           i;

	for (i = 0; i < 50; i++) {
		struct store_msg m =
		    make_msg("carol@example.org", w->base + i, 1);
		if (storeq_msg_sync(w->q, &m) != 0)
			w->failures++;
	}
	return NULL;
}

Test(storeq, concurrent_sync_callers_all_succeed)
{
	struct store     *st = open_store(0);
	struct storeq    *q = storeq_create(st, 1000, on_error, &reports);
	struct waiter_arg w[8];
	pthread_t         t[8];
	uint64_t          written = 0;
	struct store     *r;
	int               i;

	cr_assert_not_null(q);
	for (i = 0; i < 8; i++) {
		w[i] = (struct waiter_arg){ q, (unsigned) i * 1000, 0 };
		cr_assert_eq(
		    pthread_create(&t[i], NULL, sync_writer, &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].failures, 0);
	}
	storeq_stats(q, NULL, &written, NULL, NULL);
	cr_assert_eq(written, 400);
	r = open_store(1);
	cr_assert_eq(count_msgs(r, "carol@example.org"), 400);
	store_close(r);
	storeq_destroy(q);
	store_close(st);
}

Test(storeq, locked_store_reports_once_keeps_records_and_writes_them_later)
{
	struct store     *st = open_store(0);
	struct store     *blocker = open_store(0);
	struct storeq    *q;
	struct store_flag f = make_flag("alice@example.org");
	struct store_flag g;
	uint64_t          pending = 0, failed = 0, written = 0;
	double            t0;
	unsigned          i;

	cr_assert_eq(store_busy_timeout(st, 200, err, sizeof(err)), 0);
	q = storeq_create(st, 30, on_error, &reports);
	cr_assert_not_null(q);
	cr_assert_eq(store_begin(blocker, err, sizeof(err)), 0, "%s", err);

	for (i = 0; i < 100; i++) {
		struct store_msg m = make_msg("alice@example.org", i, 0);
		cr_assert_eq(storeq_msg(q, &m), 0);
	}
	t0 = now_s();
	cr_assert_eq(storeq_flag_put_sync(q, &f), -1);
	cr_assert_lt(now_s() - t0, 1.0);
	/* known to be failing: the next caller does not wait at all */
	t0 = now_s();
	cr_assert_eq(storeq_flag_del_sync(q, "nobody@example.org"), -1);
	cr_assert_lt(now_s() - t0, 0.15);

	sleep_ms(1000);
	storeq_stats(q, &pending, &written, &failed, NULL);
	cr_assert_eq(pending, 102);
	cr_assert_eq(written, 0);
	cr_assert_geq(failed, 3, "failed %llu", (unsigned long long) failed);
	cr_assert_eq(reports_n(), 1);
	cr_assert_not_null(
	    strstr(reports.msg[0], "locked"), "%s", reports.msg[0]);

	store_rollback(blocker);
	cr_assert(wait_pending(q, 5000));
	storeq_stats(q, NULL, &written, NULL, NULL);
	cr_assert_eq(written, 102);
	cr_assert_eq(reports_n(), 2);
	cr_assert_not_null(
	    strstr(reports.msg[1], "recovered"), "%s", reports.msg[1]);

	cr_assert_eq(
	    store_flag_get(blocker, "alice@example.org", &g, err, sizeof(err)),
	    1, "%s", err);
	cr_assert_eq(count_msgs(blocker, "alice@example.org"), 100);
	storeq_destroy(q);
	store_close(st);
	store_close(blocker);
}

Test(storeq, bound_drops_oldest_messages_but_never_flags)
{
	struct store     *st = open_store(0);
	struct store     *blocker = open_store(0);
	struct storeq    *q;
	struct store_flag f = make_flag("alice@example.org");
	struct store_flag g;
	uint64_t          dropped = 0, pending = 0;
	struct store     *r;
	unsigned          i;

	cr_assert_eq(store_busy_timeout(st, 20, err, sizeof(err)), 0);
	/* retries only far away, so nothing is in flight while we count */
	q = storeq_create(st, 60000, on_error, &reports);
	cr_assert_not_null(q);
	storeq_max_pending(q, 10);
	cr_assert_eq(store_begin(blocker, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(storeq_flag_put_sync(q, &f), -1);
	for (i = 0; i < 20; i++) {
		struct store_msg m = make_msg("bob@example.org", i, 0);
		cr_assert_eq(storeq_msg(q, &m), 0);
	}
	storeq_stats(q, &pending, NULL, NULL, &dropped);
	cr_assert_eq(pending, 10);
	cr_assert_eq(dropped, 11);

	/* destroy makes one last attempt, which now succeeds */
	store_rollback(blocker);
	storeq_destroy(q);
	store_close(st);

	r = open_store(1);
	cr_assert_eq(
	    store_flag_get(r, "alice@example.org", &g, err, sizeof(err)), 1,
	    "%s", err);
	cr_assert_eq(count_msgs(r, "bob@example.org"), 9);
	cr_assert_eq(has_qid(r, "bob@example.org", 10), 0);
	cr_assert_eq(has_qid(r, "bob@example.org", 11), 1);
	cr_assert_eq(has_qid(r, "bob@example.org", 19), 1);
	store_close(r);
	store_close(blocker);
}

Test(storeq, destroy_reports_records_it_could_not_write)
{
	struct store  *st = open_store(0);
	struct store  *blocker = open_store(0);
	struct storeq *q;
	unsigned       i;

	cr_assert_eq(store_busy_timeout(st, 20, err, sizeof(err)), 0);
	q = storeq_create(st, 60000, on_error, &reports);
	cr_assert_not_null(q);
	cr_assert_eq(store_begin(blocker, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 3; i++) {
		struct store_msg m = make_msg("bob@example.org", i, 0);
		cr_assert_eq(storeq_msg(q, &m), 0);
	}
	storeq_destroy(q);
	cr_assert_eq(reports_n(), 2);
	cr_assert_not_null(
	    strstr(reports.msg[0], "locked"), "%s", reports.msg[0]);
	cr_assert_not_null(strstr(reports.msg[1], "3 records not written"),
	    "%s", reports.msg[1]);
	store_rollback(blocker);
	store_close(blocker);
	store_close(st);
	storeq_destroy(NULL); /* accepted */
}

Test(storeq, message_with_invalid_state_is_refused)
{
	struct store    *st = open_store(0);
	struct storeq   *q = storeq_create(st, 10, on_error, &reports);
	struct store_msg m = make_msg("alice@example.org", 1, 0);
	uint64_t         pending = 9;

	cr_assert_not_null(q);
	m.state = 7;
	cr_assert_eq(storeq_msg(q, &m), -1);
	cr_assert_eq(storeq_msg_sync(q, &m), -1);
	storeq_stats(q, &pending, NULL, NULL, NULL);
	cr_assert_eq(pending, 0);
	storeq_destroy(q);
	store_close(st);
}
