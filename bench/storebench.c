/*
 * storebench.c - the state store's write rates, without the milter
 *
 * Three ways of recording messages, each on a fresh database in DIR
 * that first gets PREFILL passed messages, recorded over the three days
 * before (a store is never empty in service):
 *
 *   single  store_msgs_put of one held row per call: one transaction, one
 *           WAL append per message (what a writer without batching gets)
 *   async   storeq_msg of passed messages from one thread as fast as it
 *           goes, timed until the writer thread has committed every
 *           record (batches of up to STOREQ_TXN_MAX, packed into blobs by
 *           second of arrival)
 *   sync    T threads each calling storeq_msg_sync in a loop (the path of
 *           held messages: each caller waits for its commit; callers that
 *           arrive during a commit share the next one), with the latency
 *           of one call (p50, p99)
 *
 * Rows look like the daemon's: a random short queue ID, one of 10,000
 * users, sender equal to login, 1 to 5 recipients, a 10/8 client.
 *
 * Usage: storebench [-n N] [-s SECONDS] [-t THREADS] [-p PREFILL] DIR
 * Output: one line "RESULT single_rps=... async_rps=... sync_rps=...
 * sync_threads=... sync_p50_us=... sync_p99_us=..." on stdout.
 *
 * Thread safety: the sync phase's threads share only the storeq and an
 * atomic stop flag; each keeps its own latencies.
 * Tests: none (a benchmark); bench/run runs it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "storeq.h"

#define USERS   10000
#define MAX_LAT (1u << 22) /* latencies kept per sync thread */

struct opts {
	uint64_t    n;       /* async records */
	double      seconds; /* single and sync phases */
	int         threads;
	uint64_t    prefill;
	const char *dir;
};

struct syncer {
	pthread_t      thread;
	struct storeq *q;
	atomic_int    *stop;
	uint64_t       seed;
	uint64_t       done, failed;
	uint32_t      *lat; /* owned; µs per call */
	size_t         nlat;
};

/* die - print a message and exit */
static void
die(const char *what, const char *err)
{
	fprintf(stderr, "storebench: %s%s%s\n", what, err ? ": " : "",
	    err ? err : "");
	exit(1);
}

/* now_us - the monotonic clock in µs */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* rng - xorshift64 */
static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* make_msg - a row as the daemon records it */
static void
make_msg(struct store_msg *m, uint64_t *seed, int held)
{
	uint64_t r = rng(seed);
	unsigned u = (unsigned) (r % USERS);
	time_t   t = time(NULL);

	memset(m, 0, sizeof(*m));
	(void) snprintf(m->queue_id, sizeof(m->queue_id), "%05X%" PRIX64,
	    (unsigned) (r >> 20) % 1000000u, (r >> 40) + 0x100000u);
	(void) snprintf(m->user, sizeof(m->user), "u%u@bench.example", u);
	memcpy(m->sender, m->user, sizeof(m->sender));
	m->nrcpt = 1 + (uint32_t) (r >> 16) % 5;
	(void) snprintf(m->client, sizeof(m->client), "10.%u.%u.%u",
	    u >> 16 & 255, u >> 8 & 255, u & 255);
	m->arrival = t;
	m->held = held;
	m->state = STORE_QUEUED;
	m->recorded = t;
}

#define PREFILL_SPAN (3 * 86400) /* seconds of records before the run */

/* open_fresh - a new database DIR/NAME.db holding prefill rows */
static struct store *
open_fresh(const struct opts *o, const char *name)
{
	struct store     *st;
	struct store_msg *v;
	char              path[4096], err[512];
	uint64_t          seed = 0x9e3779b97f4a7c15u, i;
	int               n;
	const char       *ext[] = { "", "-wal", "-shm" };

	for (i = 0; i < 3; i++) {
		n = snprintf(
		    path, sizeof(path), "%s/%s.db%s", o->dir, name, ext[i]);
		if (n < 0 || (size_t) n >= sizeof(path))
			die("path too long", o->dir);
		if (unlink(path) == -1 && errno != ENOENT)
			die(path, strerror(errno));
	}
	(void) snprintf(path, sizeof(path), "%s/%s.db", o->dir, name);
	if (store_open(path, 0, &st, err, sizeof(err)) == -1)
		die("store_open", err);
	if (o->prefill == 0)
		return st;
	if ((v = calloc(o->prefill, sizeof(*v))) == NULL)
		die("out of memory", NULL);
	/* the records of the three days before, oldest first */
	for (i = 0; i < o->prefill; i++) {
		make_msg(&v[i], &seed, 0);
		v[i].arrival -= (time_t) ((o->prefill - i) * PREFILL_SPAN /
		    o->prefill);
		v[i].recorded = v[i].arrival;
	}
	if (store_msgs_put(st, v, o->prefill, err, sizeof(err)) == -1)
		die("prefill", err);
	free(v);
	return st;
}

/* on_error - a storeq failure: the figures would be meaningless */
static void
on_error(const char *msg, void *arg)
{
	(void) arg;
	die("storeq", msg);
}

/* phase_single - one row per transaction for o->seconds; rows/s */
static double
phase_single(const struct opts *o)
{
	struct store    *st = open_fresh(o, "single");
	struct store_msg m;
	char             err[512];
	uint64_t         seed = 1, n = 0, t0 = now_us(), t1;
	uint64_t         end = t0 + (uint64_t) (o->seconds * 1e6);

	do {
		make_msg(&m, &seed, 1);
		if (store_msgs_put(st, &m, 1, err, sizeof(err)) == -1)
			die("store_msgs_put", err);
		n++;
	} while ((t1 = now_us()) < end);
	store_close(st);
	return (double) n * 1e6 / (double) (t1 - t0);
}

/* phase_async - o->n records enqueued at once; rows/s until committed */
static double
phase_async(const struct opts *o)
{
	struct store    *st = open_fresh(o, "async");
	struct storeq   *q;
	struct store_msg m;
	uint64_t         seed = 2, i, t0, t1, written = 0, dropped = 0;

	if ((q = storeq_create(st, 100, on_error, NULL)) == NULL)
		die("storeq_create", strerror(errno));
	storeq_max_pending(q, (size_t) o->n + 1);
	t0 = now_us();
	for (i = 0; i < o->n; i++) {
		make_msg(&m, &seed, 0);
		if (storeq_msg(q, &m) == -1)
			die("storeq_msg", strerror(errno));
	}
	while (written < o->n) {
		storeq_stats(q, NULL, &written, NULL, &dropped);
		if (dropped > 0)
			die("storeq dropped records", NULL);
		if (written < o->n)
			usleep(500);
	}
	t1 = now_us();
	storeq_destroy(q);
	store_close(st);
	return (double) o->n * 1e6 / (double) (t1 - t0);
}

/* syncer_main - storeq_msg_sync in a loop until told to stop */
static void *
syncer_main(void *arg)
{
	struct syncer   *s = arg;
	struct store_msg m;
	uint64_t         t;

	while (!atomic_load(s->stop)) {
		make_msg(&m, &s->seed, 1);
		t = now_us();
		if (storeq_msg_sync(s->q, &m) == -1) {
			s->failed++;
			continue;
		}
		t = now_us() - t;
		if (s->nlat < MAX_LAT)
			s->lat[s->nlat++] =
			    t > UINT32_MAX ? UINT32_MAX : (uint32_t) t;
		s->done++;
	}
	return NULL;
}

/* cmp_u32 - qsort order of two latencies */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

/* phase_sync - o->threads waiting writers for o->seconds */
static double
phase_sync(const struct opts *o, uint32_t *p50, uint32_t *p99)
{
	struct store  *st = open_fresh(o, "sync");
	struct storeq *q;
	struct syncer *s;
	atomic_int     stop = 0;
	uint32_t      *all;
	uint64_t       t0, t1, done = 0, failed = 0;
	size_t         nall = 0;
	int            i;

	if ((q = storeq_create(st, 100, on_error, NULL)) == NULL)
		die("storeq_create", strerror(errno));
	if ((s = calloc((size_t) o->threads, sizeof(*s))) == NULL)
		die("out of memory", NULL);
	t0 = now_us();
	for (i = 0; i < o->threads; i++) {
		s[i].q = q;
		s[i].stop = &stop;
		s[i].seed = 1000u + (uint64_t) i;
		if ((s[i].lat = malloc(MAX_LAT * sizeof(uint32_t))) == NULL)
			die("out of memory", NULL);
		if (pthread_create(&s[i].thread, NULL, syncer_main, &s[i]) != 0)
			die("pthread_create", NULL);
	}
	usleep((useconds_t) (o->seconds * 1e6));
	atomic_store(&stop, 1);
	for (i = 0; i < o->threads; i++) {
		pthread_join(s[i].thread, NULL);
		done += s[i].done;
		failed += s[i].failed;
		nall += s[i].nlat;
	}
	t1 = now_us();
	if (failed > 0)
		die("storeq_msg_sync failed", NULL);
	if ((all = malloc((nall + 1) * sizeof(*all))) == NULL)
		die("out of memory", NULL);
	nall = 0;
	for (i = 0; i < o->threads; i++) {
		memcpy(all + nall, s[i].lat, s[i].nlat * sizeof(*all));
		nall += s[i].nlat;
		free(s[i].lat);
	}
	qsort(all, nall, sizeof(*all), cmp_u32);
	*p50 = nall ? all[(nall - 1) / 2] : 0;
	*p99 = nall ? all[(size_t) ((double) (nall - 1) * 0.99)] : 0;
	free(all);
	free(s);
	storeq_destroy(q);
	store_close(st);
	return (double) done * 1e6 / (double) (t1 - t0);
}

/* usage - print the synopsis and exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: storebench [-n N] [-s SECONDS] [-t THREADS] "
			"[-p PREFILL] DIR\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o = { 200000, 3.0, 16, 100000, NULL };
	double      single, async, sync;
	uint32_t    p50, p99;
	int         ch;

	while ((ch = getopt(argc, argv, "n:s:t:p:")) != -1) {
		switch (ch) {
		case 'n':
			o.n = strtoull(optarg, NULL, 10);
			break;
		case 's':
			o.seconds = strtod(optarg, NULL);
			break;
		case 't':
			o.threads = atoi(optarg);
			break;
		case 'p':
			o.prefill = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || o.n < 1 || o.seconds <= 0 || o.threads < 1 ||
	    o.threads > 1024)
		usage();
	o.dir = argv[optind];

	single = phase_single(&o);
	async = phase_async(&o);
	sync = phase_sync(&o, &p50, &p99);
	printf("RESULT single_rps=%.0f async_rps=%.0f async_n=%" PRIu64
	       " sync_rps=%.0f sync_threads=%d sync_p50_us=%u sync_p99_us=%u "
	       "prefill=%" PRIu64 "\n",
	    single, async, o.n, sync, o.threads, p50, p99, o.prefill);
	return 0;
}
