/*
 * cluster.c - cluster mode: the glue in front of hiredis
 *
 * The only file that talks to Redis.  Three kinds of connection:
 *   - a pool of CLUSTER_POOL connections for the SMTP threads, one
 *     EVALSHA each per transaction (EVAL when Redis lost its script
 *     cache); a thread takes an idle one, waiting at most redis.timeout,
 *     so a slow Redis never serialises the transactions behind one lock;
 *   - the background thread's two: one subscribed to the flag and
 *     request channels, one for heartbeats, pulls and pushes;
 *   - a short-lived one per delete/release request, on either side.
 *
 * Failure handling is a circuit breaker: the first error or timeout on
 * the SMTP path marks the cluster down (logged once), after which every
 * transaction uses the local counters at once, without touching Redis.
 * Only the background thread connects: at most once a second (backing
 * off to 4 s), it reconnects both of its connections, subscribes, pushes
 * what was kept while Redis was away, reconciles the flags, refills the
 * pool and marks the cluster up again (logged once).
 *
 * Reconciling flags after a reconnection: every flag in Redis that is not
 * in the local table is applied locally; every local flag that Redis does
 * not have is pushed, unless Redis remembers an unflag of that account not
 * older than the flag (it was unflagged elsewhere meanwhile), in which case
 * it is cleared here.  So a flag raised during an outage, or kept only by
 * the local store of a server whose Redis lost its data, reaches Redis,
 * and an unflag is not undone.
 *
 * Thread safety: the pool, the pending list and the script's SHA-1 are
 * under one mutex, held only to take or give back a connection; no I/O
 * is done under it.  The up/down state and the stop flag are atomics.
 */
#include <sys/time.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "addr.h"
#include "cluster.h"
#include "control.h"
#include "daemon.h"
#include "escape.h"
#include "log.h"

#define MAINT_TIMEOUT_MS 3000 /* background and operator commands */
#define BACKOFF_MAX      4    /* seconds between reconnection attempts */
#define PENDING_MAX      100000
#define REPLY_TTL        60 /* seconds a request's replies are kept */

#define ESCBUF(n) char n[3 * (ADDR_MAX + 1)]

struct pconn {
	redisContext *c;      /* owned */
	unsigned      gen;    /* pool generation it belongs to */
	uint32_t      tmo_ms; /* timeout set on its socket now */
};

struct pending {
	struct pending *next;
	int             unflag; /* 0: push a flag record, 1: an unflag */
	time_t          at;
	char            user[ADDR_MAX + 1];
	char            record[CLUSTER_RECORD_MAX];
};

struct cluster {
	struct conf  *conf; /* pinned at start: the redis settings */
	char          host[256];
	int           port;
	int           unix_socket;
	char          k_flags[CLUSTER_KEY_MAX];
	char          k_unflags[CLUSTER_KEY_MAX];
	char          k_servers[CLUSTER_KEY_MAX];
	char          k_heartbeat[CLUSTER_KEY_MAX];
	char          ch_flags[CLUSTER_KEY_MAX];
	char          ch_ctl[CLUSTER_KEY_MAX];
	pthread_t     thread;
	int           started;
	int           stop;        /* atomic */
	int           up;          /* atomic: the pool may be used */
	int           requests;    /* atomic: request threads running */
	int           down_logged; /* "unreachable" logged, recovery not yet */
	redisContext *mc;          /* the thread's: heartbeats, pulls, pushes */
	redisContext *sc;          /* the thread's: the subscription */
	uint64_t      last_try; /* mono_ms() of the last connection attempt */

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t  cond; /* a connection came back, or state changed */
	struct pconn   *idle[CLUSTER_POOL];
	size_t          nidle;
	size_t          nconn; /* idle and in use */
	unsigned        gen;
	char            sha[48];
	struct pending *pend, **pend_tail;
	size_t          npend;
	unsigned long   seq; /* request ids */
	int             disagree_logged;
};

static struct cluster *cl;

/* mono_ms - a monotonic clock in milliseconds */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* tv_ms - milliseconds as a struct timeval */
static struct timeval
tv_ms(uint32_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t) (ms % 1000) * 1000;
	return tv;
}

/* connect_redis - a new connection with the command timeout tmo_ms */
static redisContext *
connect_redis(struct cluster *k, uint32_t tmo_ms, char *err, size_t len)
{
	const struct conf_redis *r = &k->conf->redis;
	struct timeval           ct = tv_ms(r->connect_timeout_ms);
	redisContext            *c;
	redisReply              *rep;

	if (k->unix_socket)
		c = redisConnectUnixWithTimeout(r->address, ct);
	else
		c = redisConnectWithTimeout(k->host, k->port, ct);
	if (c == NULL) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if (c->err) {
		snprintf(err, len, "connect %s: %s", r->address, c->errstr);
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, tv_ms(tmo_ms)) != REDIS_OK) {
		snprintf(err, len, "cannot set the timeout");
		redisFree(c);
		return NULL;
	}
	if (r->password != NULL) {
		rep = redisCommand(c, "AUTH %s", r->password);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			snprintf(err, len, "AUTH: %s",
			    rep != NULL ? rep->str : c->errstr);
			if (rep != NULL)
				freeReplyObject(rep);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(rep);
	}
	return c;
}

/* reply_err - describe a failed or error reply; 1 when it is unusable */
static int
reply_bad(redisContext *c, redisReply *rep, char *err, size_t len)
{
	if (rep == NULL) {
		snprintf(err, len, "%s", c->errstr[0] ? c->errstr : "no reply");
		return 1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(err, len, "%s", rep->str);
		return 1;
	}
	return 0;
}

/* mark_down - stop using the pool until the background thread reconnects */
static void
mark_down(struct cluster *k, const char *why)
{
	if (__atomic_exchange_n(&k->up, 0, __ATOMIC_ACQ_REL) == 1 &&
	    !__atomic_exchange_n(&k->down_logged, 1, __ATOMIC_ACQ_REL))
		log_warnx("redis: unreachable (%s), using local counters", why);
	pthread_mutex_lock(&k->lock);
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

/* pool_take - an idle connection, waiting until deadline (ms); NULL if none */
static struct pconn *
pool_take(struct cluster *k, uint64_t deadline)
{
	struct pconn   *pc = NULL;
	struct timespec ts;
	uint64_t        now;

	pthread_mutex_lock(&k->lock);
	while (k->nidle == 0 && __atomic_load_n(&k->up, __ATOMIC_ACQUIRE)) {
		if ((now = mono_ms()) >= deadline)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t) ((deadline - now) / 1000);
		ts.tv_nsec += (long) ((deadline - now) % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void) pthread_cond_timedwait(&k->cond, &k->lock, &ts);
	}
	if (k->nidle > 0 && __atomic_load_n(&k->up, __ATOMIC_ACQUIRE))
		pc = k->idle[--k->nidle];
	pthread_mutex_unlock(&k->lock);
	return pc;
}

/* pool_give - put pc back (or close it when the pool was renewed) */
static void
pool_give(struct cluster *k, struct pconn *pc)
{
	pthread_mutex_lock(&k->lock);
	if (pc->gen == k->gen && k->nidle < CLUSTER_POOL) {
		k->idle[k->nidle++] = pc;
		pc = NULL;
		pthread_cond_signal(&k->cond);
	} else
		k->nconn--;
	pthread_mutex_unlock(&k->lock);
	if (pc != NULL) {
		redisFree(pc->c);
		free(pc);
	}
}

/* pool_fail - pc failed: close it and stop using Redis */
static void
pool_fail(struct cluster *k, struct pconn *pc, const char *why)
{
	pthread_mutex_lock(&k->lock);
	k->nconn--;
	pthread_mutex_unlock(&k->lock);
	redisFree(pc->c);
	free(pc);
	mark_down(k, why);
}

/* pool_drain - close every idle connection; the busy ones close on return */
static void
pool_drain(struct cluster *k)
{
	struct pconn *v[CLUSTER_POOL];
	size_t        n, i;

	pthread_mutex_lock(&k->lock);
	k->gen++;
	n = k->nidle;
	memcpy(v, k->idle, n * sizeof(v[0]));
	k->nidle = 0;
	k->nconn -= n;
	pthread_mutex_unlock(&k->lock);
	for (i = 0; i < n; i++) {
		redisFree(v[i]->c);
		free(v[i]);
	}
}

/* pool_fill - open connections until the pool is full; 0 or -1 */
static int
pool_fill(struct cluster *k, char *err, size_t len)
{
	struct pconn *pc;
	unsigned      gen;
	size_t        want;
	uint32_t      tmo = k->conf->redis.timeout_ms;

	for (;;) {
		pthread_mutex_lock(&k->lock);
		want = CLUSTER_POOL - k->nconn;
		gen = k->gen;
		pthread_mutex_unlock(&k->lock);
		if (want == 0)
			return 0;
		if ((pc = calloc(1, sizeof(*pc))) == NULL) {
			snprintf(err, len, "out of memory");
			return -1;
		}
		if ((pc->c = connect_redis(k, tmo, err, len)) == NULL) {
			free(pc);
			return -1;
		}
		pc->gen = gen;
		pc->tmo_ms = tmo;
		pthread_mutex_lock(&k->lock);
		k->nconn++;
		pthread_mutex_unlock(&k->lock);
		pool_give(k, pc);
	}
}

/* pending_add - keep an operation to push when Redis is back */
static void
pending_add(struct cluster *k, int unflag, const char *user, time_t at,
    const char *record)
{
	struct pending *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return; /* the reconciliation pushes the flag anyway */
	p->unflag = unflag;
	p->at = at;
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->record, sizeof(p->record), "%s", record ? record : "");
	pthread_mutex_lock(&k->lock);
	if (k->npend >= PENDING_MAX) {
		pthread_mutex_unlock(&k->lock);
		free(p);
		return;
	}
	*k->pend_tail = p;
	k->pend_tail = &p->next;
	k->npend++;
	pthread_mutex_unlock(&k->lock);
}

/* push_flag - run the flag script for user with record on c; 0 or -1 */
static int
push_flag(struct cluster *k, redisContext *c, const char *user,
    const char *record, char *err, size_t len)
{
	char msg[CLUSTER_RECORD_MAX + 1024];
	ESCBUF(euser);
	redisReply *rep;
	int         bad;

	escape_value(euser, sizeof(euser), user);
	if (snprintf(msg, sizeof(msg), "type=flag user=%s %s", euser, record) >=
	    (int) sizeof(msg)) {
		snprintf(err, len, "flag record too long");
		return 0; /* nothing to retry */
	}
	rep = redisCommand(c, "EVAL %s 1 %s %s %s %s %s",
	    clusterproto_flag_script, k->k_flags, user, record, k->ch_flags,
	    msg);
	bad = reply_bad(c, rep, err, len);
	if (rep != NULL)
		freeReplyObject(rep);
	return bad ? -1 : 0;
}

/* push_unflag - run the unflag script for user unflagged at at; 0 or -1 */
static int
push_unflag(struct cluster *k, redisContext *c, const char *user, time_t at,
    char *err, size_t len)
{
	char msg[1024], when[24], keep[24];
	ESCBUF(euser);
	redisReply *rep;
	int         bad;

	escape_value(euser, sizeof(euser), user);
	snprintf(msg, sizeof(msg), "type=unflag user=%s at=%lld server=%s",
	    euser, (long long) at, k->conf->redis.server_id);
	snprintf(when, sizeof(when), "%lld", (long long) at);
	snprintf(keep, sizeof(keep), "%d", CLUSTER_UNFLAG_KEEP);
	rep = redisCommand(c, "EVAL %s 2 %s %s %s %s %s %s %s",
	    clusterproto_unflag_script, k->k_flags, k->k_unflags, user, when,
	    k->ch_flags, msg, keep);
	bad = reply_bad(c, rep, err, len);
	if (rep != NULL)
		freeReplyObject(rep);
	return bad ? -1 : 0;
}

/* push_pending - push what was kept, in order; 0, or -1 (the rest stays) */
static int
push_pending(struct cluster *k, redisContext *c, char *err, size_t len)
{
	struct pending *p;
	int             rc;

	for (;;) {
		pthread_mutex_lock(&k->lock);
		p = k->pend;
		pthread_mutex_unlock(&k->lock);
		if (p == NULL)
			return 0;
		rc = p->unflag ? push_unflag(k, c, p->user, p->at, err, len)
			       : push_flag(k, c, p->user, p->record, err, len);
		if (rc == -1)
			return -1;
		pthread_mutex_lock(&k->lock);
		k->pend = p->next;
		if (k->pend == NULL)
			k->pend_tail = &k->pend;
		k->npend--;
		pthread_mutex_unlock(&k->lock);
		free(p);
	}
}

/* record_of - the flag record of a local flag, with what the store adds */
static int
record_of(struct cluster *k, const char *user, const struct account_flag *f,
    char *buf, size_t len)
{
	struct cluster_flag cf;
	struct store_flag   sf;
	char                err[256], *at;
	int                 have;

	pthread_mutex_lock(&sg->reader_lock);
	have = store_flag_get(sg->reader, user, &sf, err, sizeof(err)) == 1;
	pthread_mutex_unlock(&sg->reader_lock);
	memset(&cf, 0, sizeof(cf));
	cf.at = f->at;
	cf.limit = f->limit;
	cf.count = f->count;
	cf.max = f->max;
	cf.window = f->window;
	snprintf(cf.server, sizeof(cf.server), "%s", k->conf->redis.server_id);
	if (have) {
		/* "policy@mx2": a flag this server learnt from mx2 */
		if ((at = strchr(sf.source, '@')) != NULL) {
			*at = '\0';
			snprintf(cf.server, sizeof(cf.server), "%s", at + 1);
		}
		snprintf(cf.source, sizeof(cf.source), "%s", sf.source);
		snprintf(cf.client, sizeof(cf.client), "%s", sf.client);
		snprintf(cf.queue_id, sizeof(cf.queue_id), "%s", sf.queue_id);
		snprintf(cf.reason, sizeof(cf.reason), "%s", sf.reason);
	}
	return clusterproto_flag_format(buf, len, &cf) < 0 ? -1 : 0;
}

/* apply_flag - a flag raised elsewhere, into the table and the store */
static void
apply_flag(const char *user, const struct cluster_flag *cf)
{
	struct account_flag f;
	struct conf        *c;
	char                source[128];
	ESCBUF(euser);
	int r;

	if (accounts_flagged_p(sg->accounts, user))
		return;
	memset(&f, 0, sizeof(f));
	f.at = cf->at;
	f.limit = cf->limit;
	f.count = cf->count;
	f.max = cf->max;
	f.window = cf->window;
	snprintf(source, sizeof(source), "%s@%s",
	    cf->source[0] ? cf->source : "cluster", cf->server);
	if ((r = accounts_flag(sg->accounts, user, &f, f.at)) != 1)
		return;
	(void) daemon_persist_flag(user, &f, cf->reason[0] ? cf->reason : NULL,
	    source, cf->client, cf->queue_id);
	escape_value(euser, sizeof(euser), user);
	log_info("cluster: flag: user=%s limit=%s server=%s", euser,
	    policy_limit_name(f.limit), cf->server);
	c = daemon_conf();
	if (c->hold_queued_on_flag)
		control_contain(user);
	conf_unref(c);
}

/* apply_unflag - an unflag made elsewhere */
static void
apply_unflag(const char *user, const char *server)
{
	ESCBUF(euser);

	if (accounts_unflag(sg->accounts, user) != 1)
		return;
	if (storeq_flag_del_sync(sg->storeq, user) == -1)
		log_warnx("store: unflag not yet written; it will be retried");
	escape_value(euser, sizeof(euser), user);
	log_info("cluster: unflag: user=%s server=%s", euser, server);
}

/* cmp_str - qsort/bsearch order of string pointers */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* find_score - the score of user in a ZRANGE WITHSCORES reply; -1 if none */
static long long
find_score(const redisReply *z, const char *user)
{
	size_t i;

	for (i = 0; i + 1 < z->elements; i += 2)
		if (z->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(z->element[i]->str, user) == 0)
			return strtoll(z->element[i + 1]->str, NULL, 10);
	return -1;
}

/* reconcile - flags of Redis into the table, local ones into Redis */
static int
reconcile(struct cluster *k, redisContext *c, char *err, size_t len)
{
	struct account_flagged *v = NULL;
	struct cluster_flag     cf;
	redisReply             *h, *z;
	const char            **users = NULL, *key;
	char                    rec[CLUSTER_RECORD_MAX], perr[128];
	size_t                  n = 0, i, nu = 0;
	long long               unflagged;
	int                     rc = -1;

	h = redisCommand(c, "HGETALL %s", k->k_flags);
	z = redisCommand(c, "ZRANGE %s 0 -1 WITHSCORES", k->k_unflags);
	if (reply_bad(c, h, err, len) || reply_bad(c, z, err, len) ||
	    h->type != REDIS_REPLY_ARRAY || z->type != REDIS_REPLY_ARRAY) {
		if (err[0] == '\0')
			snprintf(err, len, "unexpected reply to HGETALL");
		goto out;
	}
	if ((users = calloc(h->elements / 2 + 1, sizeof(*users))) == NULL) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	for (i = 0; i + 1 < h->elements; i += 2) {
		if (h->element[i]->type != REDIS_REPLY_STRING ||
		    h->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		users[nu++] = h->element[i]->str;
		if (clusterproto_flag_parse(h->element[i + 1]->str, &cf, perr,
			sizeof(perr)) == -1) {
			log_warnx("cluster: flag of %s in Redis: %s",
			    h->element[i]->str, perr);
			continue;
		}
		apply_flag(h->element[i]->str, &cf);
	}
	qsort(users, nu, sizeof(*users), cmp_str);
	if (accounts_list_flagged(sg->accounts, &v, &n) == -1) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		key = v[i].user;
		if (bsearch(&key, users, nu, sizeof(*users), cmp_str) != NULL)
			continue;
		unflagged = find_score(z, v[i].user);
		if (unflagged >= 0 && unflagged >= (long long) v[i].flag.at) {
			apply_unflag(v[i].user, "redis");
			continue;
		}
		if (record_of(k, v[i].user, &v[i].flag, rec, sizeof(rec)) == -1)
			continue;
		if (push_flag(k, c, v[i].user, rec, err, len) == -1)
			goto out;
	}
	rc = 0;
out:
	free(v);
	free(users);
	if (h != NULL)
		freeReplyObject(h);
	if (z != NULL)
		freeReplyObject(z);
	return rc;
}

/* heartbeat - say this server is alive; 0 or -1 */
static int
heartbeat(struct cluster *k, redisContext *c, char *err, size_t len)
{
	redisReply *r1 = NULL, *r2 = NULL;
	int         bad;

	(void) redisAppendCommand(c, "SET %s %lld EX %d", k->k_heartbeat,
	    (long long) time(NULL), CLUSTER_HB_TTL);
	(void) redisAppendCommand(
	    c, "SADD %s %s", k->k_servers, k->conf->redis.server_id);
	if (redisGetReply(c, (void **) &r1) != REDIS_OK ||
	    redisGetReply(c, (void **) &r2) != REDIS_OK) {
		snprintf(err, len, "heartbeat: %s", c->errstr);
		bad = 1;
	} else
		bad = reply_bad(c, r1, err, len) || reply_bad(c, r2, err, len);
	if (r1 != NULL)
		freeReplyObject(r1);
	if (r2 != NULL)
		freeReplyObject(r2);
	return bad ? -1 : 0;
}

/* session_open - connect, subscribe, load the script, sync; 0 or -1 */
static int
session_open(struct cluster *k, redisContext **mc, redisContext **sc, char *err,
    size_t len)
{
	redisReply *rep;
	void       *r;
	int         i;

	if ((*mc = connect_redis(k, MAINT_TIMEOUT_MS, err, len)) == NULL ||
	    (*sc = connect_redis(k, MAINT_TIMEOUT_MS, err, len)) == NULL)
		return -1;
	rep = redisCommand(*mc, "SCRIPT LOAD %s", clusterproto_eom_script);
	if (reply_bad(*mc, rep, err, len) || rep->type != REDIS_REPLY_STRING) {
		if (rep != NULL)
			freeReplyObject(rep);
		return -1;
	}
	pthread_mutex_lock(&k->lock);
	snprintf(k->sha, sizeof(k->sha), "%s", rep->str);
	pthread_mutex_unlock(&k->lock);
	freeReplyObject(rep);
	/* subscribe first, so nothing announced during the sync is missed */
	if (redisAppendCommand(
		*sc, "SUBSCRIBE %s %s", k->ch_flags, k->ch_ctl) != REDIS_OK) {
		snprintf(err, len, "SUBSCRIBE: %s", (*sc)->errstr);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		if (redisGetReply(*sc, &r) != REDIS_OK) {
			snprintf(err, len, "SUBSCRIBE: %s", (*sc)->errstr);
			return -1;
		}
		freeReplyObject(r);
	}
	if (push_pending(k, *mc, err, len) == -1 ||
	    reconcile(k, *mc, err, len) == -1 ||
	    heartbeat(k, *mc, err, len) == -1)
		return -1;
	pthread_mutex_lock(&k->lock);
	k->gen++;
	pthread_mutex_unlock(&k->lock);
	return pool_fill(k, err, len);
}

/* request_main - act on this server's queue for a request, reply */
static void *
request_main(void *arg)
{
	struct cluster *k = cl;
	char           *msg = arg, id[128], op[16], user[ADDR_MAX + 1];
	char            dry[8], origin[80], reply[CLUSTER_KEY_MAX];
	char            rec[CLUSTER_RECORD_MAX], err[256];
	ESCBUF(euser);
	struct cluster_result r;
	enum cluster_queue_op o;
	redisContext         *c;
	redisReply           *rep;

	if (clusterproto_kv_get(msg, "id", id, sizeof(id)) != 1 ||
	    clusterproto_kv_get(msg, "op", op, sizeof(op)) != 1 ||
	    clusterproto_kv_get(msg, "user", user, sizeof(user)) != 1 ||
	    clusterproto_kv_get(msg, "dry", dry, sizeof(dry)) != 1 ||
	    clusterproto_kv_get(msg, "origin", origin, sizeof(origin)) != 1 ||
	    clusterproto_kv_get(msg, "reply", reply, sizeof(reply)) != 1 ||
	    clusterproto_op_parse(op, &o) == -1 || !addr_valid_user(user) ||
	    strncmp(reply, k->conf->redis.prefix,
		strlen(k->conf->redis.prefix)) != 0) {
		log_warnx("cluster: malformed request ignored");
		goto out;
	}
	memset(&r, 0, sizeof(r));
	(void) control_queue_local(o, user, strcmp(dry, "1") == 0, &r);
	snprintf(r.server, sizeof(r.server), "%s", k->conf->redis.server_id);
	escape_value(euser, sizeof(euser), user);
	log_info("cluster: request=%s from=%s action=%s user=%s dry_run=%s "
		 "done=%lu%s%s",
	    id, origin, op, euser, strcmp(dry, "1") == 0 ? "yes" : "no", r.done,
	    r.error[0] ? " error=" : "", r.error);
	if (clusterproto_result_format(rec, sizeof(rec), &r) == -1 ||
	    (c = connect_redis(k, MAINT_TIMEOUT_MS, err, sizeof(err))) ==
		NULL) {
		log_warnx("cluster: request=%s: cannot answer", id);
		goto out;
	}
	rep = redisCommand(c, "RPUSH %s %s", reply, rec);
	if (!reply_bad(c, rep, err, sizeof(err))) {
		freeReplyObject(rep);
		rep = redisCommand(c, "EXPIRE %s %d", reply, REPLY_TTL);
	}
	if (reply_bad(c, rep, err, sizeof(err)))
		log_warnx("cluster: request=%s: cannot answer: %s", id, err);
	if (rep != NULL)
		freeReplyObject(rep);
	redisFree(c);
out:
	free(msg);
	__atomic_sub_fetch(&k->requests, 1, __ATOMIC_ACQ_REL);
	return NULL;
}

/* on_message - one message from a channel */
static void
on_message(struct cluster *k, const char *channel, const char *msg)
{
	struct cluster_flag cf;
	char                type[16], user[ADDR_MAX + 1], server[80], err[128];
	char               *copy;
	pthread_t           t;

	if (clusterproto_kv_get(msg, "type", type, sizeof(type)) != 1)
		return;
	if (strcmp(channel, k->ch_ctl) == 0 && strcmp(type, "req") == 0) {
		if ((copy = strdup(msg)) == NULL)
			return;
		__atomic_add_fetch(&k->requests, 1, __ATOMIC_ACQ_REL);
		if (pthread_create(&t, NULL, request_main, copy) != 0) {
			__atomic_sub_fetch(&k->requests, 1, __ATOMIC_ACQ_REL);
			free(copy);
			return;
		}
		pthread_detach(t);
		return;
	}
	if (clusterproto_kv_get(msg, "user", user, sizeof(user)) != 1 ||
	    !addr_valid_user(user) ||
	    clusterproto_kv_get(msg, "server", server, sizeof(server)) == -1)
		return;
	/* this server's own announcements were applied where they arose */
	if (strcmp(server, k->conf->redis.server_id) == 0)
		return;
	if (strcmp(type, "flag") == 0) {
		if (clusterproto_flag_parse(msg, &cf, err, sizeof(err)) == -1) {
			log_warnx("cluster: %s", err);
			return;
		}
		apply_flag(user, &cf);
	} else if (strcmp(type, "unflag") == 0)
		apply_unflag(user, server);
}

/* sub_read - handle what the subscription brings within wait_ms; 0 or -1 */
static int
sub_read(struct cluster *k, redisContext *sc, int wait_ms)
{
	struct pollfd p;
	redisReply   *r;
	void         *v;

	for (;;) {
		if (redisReaderGetReply(sc->reader, &v) != REDIS_OK)
			return -1;
		if (v == NULL) {
			p.fd = sc->fd;
			p.events = POLLIN;
			p.revents = 0;
			if (poll(&p, 1, wait_ms) <= 0)
				return 0;
			if (redisBufferRead(sc) != REDIS_OK)
				return -1;
			wait_ms = 0;
			continue;
		}
		r = v;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[0]->str, "message") == 0 &&
		    r->element[1]->type == REDIS_REPLY_STRING &&
		    r->element[2]->type == REDIS_REPLY_STRING)
			on_message(k, r->element[1]->str, r->element[2]->str);
		freeReplyObject(r);
	}
}

/* nap - wait ms, or less when stopping */
static void
nap(struct cluster *k, unsigned ms)
{
	unsigned done = 0;

	while (done < ms && !__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		usleep(ms - done < 100 ? (ms - done) * 1000 : 100000);
		done += 100;
	}
}

/* session_close - drop the thread's connections and the idle pool */
static void
session_close(struct cluster *k)
{
	pool_drain(k);
	if (k->mc != NULL)
		redisFree(k->mc);
	if (k->sc != NULL)
		redisFree(k->sc);
	k->mc = k->sc = NULL;
}

/* try_connect - one connection attempt; 0 (now up) or -1 */
static int
try_connect(struct cluster *k)
{
	char err[512] = "";

	k->last_try = mono_ms();
	if (session_open(k, &k->mc, &k->sc, err, sizeof(err)) == -1) {
		if (!__atomic_exchange_n(&k->down_logged, 1, __ATOMIC_ACQ_REL))
			log_warnx("redis: unreachable (%s), using local "
				  "counters",
			    err);
		session_close(k);
		return -1;
	}
	__atomic_store_n(&k->up, 1, __ATOMIC_RELEASE);
	if (__atomic_exchange_n(&k->down_logged, 0, __ATOMIC_ACQ_REL))
		log_info("redis: %s: reachable again, cluster counters in use",
		    k->conf->redis.address);
	else
		log_info("redis: %s: connected, cluster counters in use "
			 "(server_id=%s)",
		    k->conf->redis.address, k->conf->redis.server_id);
	return 0;
}

/* cluster_main - the background thread: reconnect, listen, heartbeat */
static void *
cluster_main(void *arg)
{
	struct cluster *k = arg;
	uint64_t        next_hb = mono_ms() + CLUSTER_HEARTBEAT * 1000, now;
	unsigned        backoff = 1;
	char            err[512];

	while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		if (!__atomic_load_n(&k->up, __ATOMIC_ACQUIRE)) {
			if (k->mc != NULL || k->sc != NULL)
				session_close(k);
			now = mono_ms();
			if (now - k->last_try < backoff * 1000) {
				nap(k, (unsigned) (backoff * 1000 -
						   (now - k->last_try)));
				continue;
			}
			if (try_connect(k) == -1) {
				if (backoff < BACKOFF_MAX)
					backoff *= 2;
				continue;
			}
			backoff = 1;
			next_hb = mono_ms() + CLUSTER_HEARTBEAT * 1000;
		}
		err[0] = '\0';
		if (mono_ms() >= next_hb) {
			if (heartbeat(k, k->mc, err, sizeof(err)) == -1 ||
			    push_pending(k, k->mc, err, sizeof(err)) == -1 ||
			    pool_fill(k, err, sizeof(err)) == -1) {
				mark_down(k, err);
				continue;
			}
			next_hb = mono_ms() + CLUSTER_HEARTBEAT * 1000;
		}
		if (sub_read(k, k->sc, 200) == -1)
			mark_down(k, k->sc->errstr[0] ? k->sc->errstr
						      : "subscription lost");
	}
	session_close(k);
	return NULL;
}

/* cluster_start - connect and start the background thread */
int
cluster_start(const struct conf *c, char *err, size_t len)
{
	struct cluster *k;
	const char     *colon, *p;
	size_t          hl;

	if (c->redis.address == NULL)
		return 0;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	k->conf = conf_ref((struct conf *) c);
	p = c->redis.prefix != NULL ? c->redis.prefix : "";
	if (c->redis.address[0] == '/')
		k->unix_socket = 1;
	else {
		colon = strrchr(c->redis.address, ':');
		hl = (size_t) (colon - c->redis.address);
		if (c->redis.address[0] == '[' && hl >= 2 && colon[-1] == ']')
			snprintf(k->host, sizeof(k->host), "%.*s", (int) hl - 2,
			    c->redis.address + 1);
		else
			snprintf(k->host, sizeof(k->host), "%.*s", (int) hl,
			    c->redis.address);
		k->port = atoi(colon + 1);
	}
	if (clusterproto_key(
		k->k_flags, sizeof(k->k_flags), p, "flags", NULL) == -1 ||
	    clusterproto_key(
		k->k_unflags, sizeof(k->k_unflags), p, "unflags", NULL) == -1 ||
	    clusterproto_key(
		k->k_servers, sizeof(k->k_servers), p, "servers", NULL) == -1 ||
	    snprintf(k->k_heartbeat, sizeof(k->k_heartbeat), "%sserver:%s", p,
		c->redis.server_id) >= (int) sizeof(k->k_heartbeat) ||
	    clusterproto_key(k->ch_flags, sizeof(k->ch_flags), p, "chan:flags",
		NULL) == -1 ||
	    clusterproto_key(
		k->ch_ctl, sizeof(k->ch_ctl), p, "chan:ctl", NULL) == -1) {
		snprintf(err, len, "redis.prefix too long");
		conf_unref(k->conf);
		free(k);
		return -1;
	}
	pthread_mutex_init(&k->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&k->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	k->pend_tail = &k->pend;
	cl = k;
	/* one attempt now, so a healthy cluster is in use from the start */
	(void) try_connect(k);
	if (pthread_create(&k->thread, NULL, cluster_main, k) != 0) {
		snprintf(err, len, "cannot start the cluster thread");
		return -1;
	}
	k->started = 1;
	return 0;
}

/* cluster_stop - stop the thread and close every connection */
void
cluster_stop(void)
{
	struct cluster *k = cl;
	struct pending *p;
	int             i;

	if (k == NULL)
		return;
	__atomic_store_n(&k->stop, 1, __ATOMIC_RELEASE);
	if (k->started)
		pthread_join(k->thread, NULL);
	for (i = 0; i < 50 && __atomic_load_n(&k->requests, __ATOMIC_ACQUIRE);
	     i++)
		usleep(100000);
	if (__atomic_load_n(&k->requests, __ATOMIC_ACQUIRE) > 0)
		return; /* a request still runs: leave it what it uses */
	cl = NULL;
	while ((p = k->pend) != NULL) {
		k->pend = p->next;
		free(p);
	}
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	conf_unref(k->conf);
	free(k);
}

/* cluster_enabled - 1 in cluster mode */
int
cluster_enabled(void)
{
	return cl != NULL;
}

/* cluster_state - "off", "up" or "down" */
const char *
cluster_state(void)
{
	if (cl == NULL)
		return "off";
	return __atomic_load_n(&cl->up, __ATOMIC_ACQUIRE) ? "up" : "down";
}

/* warn_once - a problem with replies, logged the first time only */
static void
warn_once(struct cluster *k, const char *what)
{
	int first;

	pthread_mutex_lock(&k->lock);
	first = !k->disagree_logged;
	k->disagree_logged = 1;
	pthread_mutex_unlock(&k->lock);
	if (first)
		log_warnx("redis: %s (logged once)", what);
}

/* eval_eom - run the script on pc; the reply, or NULL (pc is then broken) */
static redisReply *
eval_eom(struct cluster *k, struct pconn *pc, struct cluster_eom_args *a)
{
	redisReply *rep;
	char        sha[48];

	pthread_mutex_lock(&k->lock);
	snprintf(sha, sizeof(sha), "%s", k->sha);
	pthread_mutex_unlock(&k->lock);
	a->argv[0] = "EVALSHA";
	a->argvlen[0] = 7;
	a->argv[1] = sha;
	a->argvlen[1] = strlen(sha);
	rep = redisCommandArgv(pc->c, a->argc, a->argv, a->argvlen);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		/* Redis restarted or flushed its scripts: send the body */
		freeReplyObject(rep);
		a->argv[0] = "EVAL";
		a->argvlen[0] = 4;
		a->argv[1] = clusterproto_eom_script;
		a->argvlen[1] = strlen(clusterproto_eom_script);
		rep = redisCommandArgv(pc->c, a->argc, a->argv, a->argvlen);
	}
	a->argv[1] = NULL; /* sha is gone with this frame */
	return rep;
}

/*
 * eom_redis - cluster_eom's work in cluster mode
 *
 * Apart so that local mode, which calls cluster_eom for every message,
 * never enters its large stack frame: a new libmilter thread would fault
 * those pages in.
 */
static int __attribute__((noinline))
eom_redis(struct cluster *k, const struct conf *c,
    const struct accounts_txn *t, const char *client, const char *queue_id,
    struct policy_decision *d)
{
	const struct limits      *l;
	char *const              *senders;
	size_t                    nsenders, i;
	struct policy_facts       f;
	struct policy_usage       u;
	struct cluster_eom_result res;
	struct cluster_eom_args   a;
	struct account_flag       fl;
	char                      tail[CLUSTER_RECORD_MAX], err[256];
	long long                 v[CLUSTER_EOM_REPLY];
	struct pconn             *pc;
	redisReply               *rep;
	uint64_t                  start, waited;
	uint32_t                  tmo, want;

	if (!__atomic_load_n(&k->up, __ATOMIC_ACQUIRE))
		goto fallback;
	tmo = k->conf->redis.timeout_ms;
	start = mono_ms();
	l = conf_account(c, t->user, &senders, &nsenders);
	f.nrcpt = t->nrcpt;
	f.sender_belongs = t->sender_ok && addr_sender_belongs(t->sender,
					       t->user, senders, nsenders);
	if (clusterproto_tail(tail, sizeof(tail), "policy",
		k->conf->redis.server_id, client, queue_id, NULL) == -1 ||
	    clusterproto_eom_args(&a, k->conf->redis.prefix, t->user, l,
		c->mode, &f, t->have_net ? &t->net : NULL, k->ch_flags, tail,
		err, sizeof(err)) == -1)
		goto fallback;
	if ((pc = pool_take(k, start + tmo)) == NULL)
		goto fallback;
	/* the wait for a connection is part of the budget */
	waited = mono_ms() - start;
	want = waited == 0 ? tmo : waited >= tmo ? 1 : tmo - (uint32_t) waited;
	if (want != pc->tmo_ms) {
		(void) redisSetTimeout(pc->c, tv_ms(want));
		pc->tmo_ms = want;
	}
	if ((rep = eval_eom(k, pc, &a)) == NULL) {
		snprintf(err, sizeof(err), "%s",
		    pc->c->errstr[0] ? pc->c->errstr : "no reply");
		pool_fail(k, pc, err);
		goto fallback;
	}
	pool_give(k, pc);
	if (rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != CLUSTER_EOM_REPLY) {
		snprintf(err, sizeof(err), "end-of-message script failed: %s",
		    rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply");
		freeReplyObject(rep);
		warn_once(k, err);
		goto fallback;
	}
	for (i = 0; i < CLUSTER_EOM_REPLY; i++)
		v[i] = rep->element[i]->type == REDIS_REPLY_INTEGER
			   ? rep->element[i]->integer
			   : -1;
	freeReplyObject(rep);
	if (clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, l, c->mode, &f, &u,
		&res, d, err, sizeof(err)) == -1) {
		warn_once(k, err);
		goto fallback;
	}
	if (!res.agree)
		warn_once(k, "the end-of-message script and the policy "
			     "disagree; the policy's decision is applied");
	/* latched here as accounts_eom() does; Redis has it already */
	if (d->flag) {
		memset(&fl, 0, sizeof(fl));
		fl.at = res.now;
		fl.limit = d->limit;
		fl.count = d->count;
		fl.max = d->max;
		fl.window = d->window;
		(void) accounts_flag(sg->accounts, t->user, &fl, res.now);
	}
	daemon_count(CNT_REDIS_DECIDED, 1);
	return 0;
fallback:
	daemon_count(CNT_REDIS_FALLBACK, 1);
	return -1;
}

/* cluster_eom - decide one message in Redis */
int
cluster_eom(const struct conf *c, const struct accounts_txn *t,
    const char *client, const char *queue_id, struct policy_decision *d)
{
	if (cl == NULL)
		return 1;
	return eom_redis(cl, c, t, client, queue_id, d);
}

/* cluster_flag - push a flag raised here */
void
cluster_flag(const char *user, const struct account_flag *f, const char *reason,
    const char *source, const char *client, const char *queue_id)
{
	struct cluster     *k = cl;
	struct cluster_flag cf;
	struct pconn       *pc;
	char                rec[CLUSTER_RECORD_MAX], err[256];

	if (k == NULL)
		return;
	memset(&cf, 0, sizeof(cf));
	cf.at = f->at;
	cf.limit = f->limit;
	cf.count = f->count;
	cf.max = f->max;
	cf.window = f->window;
	snprintf(cf.source, sizeof(cf.source), "%s", source ? source : "");
	snprintf(cf.server, sizeof(cf.server), "%s", k->conf->redis.server_id);
	snprintf(cf.client, sizeof(cf.client), "%s", client ? client : "");
	snprintf(
	    cf.queue_id, sizeof(cf.queue_id), "%s", queue_id ? queue_id : "");
	snprintf(cf.reason, sizeof(cf.reason), "%s", reason ? reason : "");
	if (clusterproto_flag_format(rec, sizeof(rec), &cf) < 0)
		return; /* cannot happen with these sizes */
	if (__atomic_load_n(&k->up, __ATOMIC_ACQUIRE) &&
	    (pc = pool_take(k, mono_ms() + k->conf->redis.timeout_ms)) !=
		NULL) {
		if (push_flag(k, pc->c, user, rec, err, sizeof(err)) == 0) {
			pool_give(k, pc);
			return;
		}
		pool_fail(k, pc, err);
	}
	pending_add(k, 0, user, f->at, rec);
}

/* cluster_unflag - push an unflag made here */
void
cluster_unflag(const char *user, time_t now)
{
	struct cluster *k = cl;
	struct pconn   *pc;
	char            err[256];

	if (k == NULL)
		return;
	if (__atomic_load_n(&k->up, __ATOMIC_ACQUIRE) &&
	    (pc = pool_take(k, mono_ms() + k->conf->redis.timeout_ms)) !=
		NULL) {
		if (push_unflag(k, pc->c, user, now, err, sizeof(err)) == 0) {
			pool_give(k, pc);
			return;
		}
		pool_fail(k, pc, err);
	}
	pending_add(k, 1, user, now, NULL);
}

/* result_line - one server's row */
static void
result_line(struct ctl_line *l, enum cluster_queue_op op, int dry,
    const struct cluster_result *r)
{
	ctl_line_init(l, CTL_ROW);
	ctl_line_add_str(l, "server", r->server);
	if (op == CLUSTER_OP_DELETE)
		ctl_line_add_u64(l, dry ? "would_delete" : "deleted", r->done);
	else {
		ctl_line_add_u64(
		    l, dry ? "would_release" : "released", r->done);
		ctl_line_add_u64(l, "requeued", r->requeued);
	}
	ctl_line_add_u64(l, "hold", r->hold);
	ctl_line_add_u64(l, "incoming", r->incoming);
	ctl_line_add_u64(l, "active", r->active);
	ctl_line_add_u64(l, "deferred", r->deferred);
	if (r->other)
		ctl_line_add_u64(l, "other", r->other);
	if (r->error[0] != '\0')
		ctl_line_add_str(l, "error", r->error);
}

/* ok_line - the closing line with the totals */
static int
ok_line(enum cluster_queue_op op, const char *user, int dry,
    const struct cluster_result *res, size_t n, const char *missing,
    const char *cluster, int (*emit)(struct ctl_line *, void *), void *arg)
{
	struct ctl_line       l;
	struct cluster_result t;
	size_t                i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < n; i++) {
		t.done += res[i].done;
		t.requeued += res[i].requeued;
		t.hold += res[i].hold;
		t.incoming += res[i].incoming;
		t.active += res[i].active;
		t.deferred += res[i].deferred;
		t.other += res[i].other;
	}
	ctl_line_init(&l, CTL_OK);
	ctl_line_add_str(&l, "user", user);
	if (op == CLUSTER_OP_DELETE)
		ctl_line_add_u64(&l, dry ? "would_delete" : "deleted", t.done);
	else {
		ctl_line_add_u64(
		    &l, dry ? "would_release" : "released", t.done);
		ctl_line_add_u64(&l, "requeued", t.requeued);
	}
	ctl_line_add_u64(&l, "hold", t.hold);
	ctl_line_add_u64(&l, "incoming", t.incoming);
	ctl_line_add_u64(&l, "active", t.active);
	ctl_line_add_u64(&l, "deferred", t.deferred);
	if (t.other)
		ctl_line_add_u64(&l, "other", t.other);
	ctl_line_add_u64(&l, "servers", n);
	ctl_line_add_str(&l, "missing", missing);
	ctl_line_add_str(&l, "cluster", cluster);
	ctl_line_add_str(&l, "dry_run", dry ? "yes" : "no");
	return emit(&l, arg);
}

/* local_only - Redis cannot be reached: this server's queue alone */
static int
local_only(struct cluster *k, enum cluster_queue_op op, const char *user,
    int dry, const char *why, int (*emit)(struct ctl_line *, void *), void *arg)
{
	struct cluster_result r;
	struct ctl_line       l;

	ESCBUF(euser);

	escape_value(euser, sizeof(euser), user);
	log_warnx("cluster: %s user=%s: redis unreachable (%s); this server's "
		  "queue only",
	    clusterproto_op_name(op), euser, why);
	memset(&r, 0, sizeof(r));
	(void) control_queue_local(op, user, dry, &r);
	snprintf(r.server, sizeof(r.server), "%s", k->conf->redis.server_id);
	result_line(&l, op, dry, &r);
	if (emit(&l, arg) == -1)
		return -1;
	return ok_line(
	    op, user, dry, &r, 1, "unknown", "unreachable", emit, arg);
}

/* cmp_result - order rows by server */
static int
cmp_result(const void *a, const void *b)
{
	return strcmp(((const struct cluster_result *) a)->server,
	    ((const struct cluster_result *) b)->server);
}

/* live_servers - SMEMBERS of the servers and their heartbeats (MGET) */
static int
live_servers(struct cluster *k, redisContext *c, redisReply **mem,
    redisReply **hb, char *err, size_t len)
{
	const char **argv;
	size_t      *lens, i;
	char(*keys)[CLUSTER_KEY_MAX];

	*hb = NULL;
	*mem = redisCommand(c, "SMEMBERS %s", k->k_servers);
	if (reply_bad(c, *mem, err, len) || (*mem)->type != REDIS_REPLY_ARRAY)
		return -1;
	argv = calloc((*mem)->elements + 1, sizeof(*argv));
	lens = calloc((*mem)->elements + 1, sizeof(*lens));
	keys = calloc((*mem)->elements + 1, sizeof(*keys));
	if (argv == NULL || lens == NULL || keys == NULL) {
		free(argv);
		free(lens);
		free(keys);
		snprintf(err, len, "out of memory");
		return -1;
	}
	argv[0] = "MGET";
	lens[0] = 4;
	for (i = 0; i < (*mem)->elements; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%sserver:%s",
		    k->conf->redis.prefix,
		    (*mem)->element[i]->type == REDIS_REPLY_STRING
			? (*mem)->element[i]->str
			: "");
		argv[i + 1] = keys[i];
		lens[i + 1] = strlen(keys[i]);
	}
	if ((*mem)->elements > 0)
		*hb =
		    redisCommandArgv(c, (int) (*mem)->elements + 1, argv, lens);
	free(argv);
	free(lens);
	free(keys);
	if ((*mem)->elements > 0 &&
	    (reply_bad(c, *hb, err, len) || (*hb)->type != REDIS_REPLY_ARRAY ||
		(*hb)->elements != (*mem)->elements))
		return -1;
	return 0;
}

/* collect - wait for up to want replies on key; the count received */
static size_t
collect(
    redisContext *c, const char *key, struct cluster_result *res, size_t want)
{
	uint64_t    deadline = mono_ms() + CLUSTER_REPLY_WAIT * 1000, now;
	redisReply *rep;
	char        secs[32], err[128];
	size_t      n = 0, i;

	while (n < want && (now = mono_ms()) < deadline) {
		(void) redisSetTimeout(
		    c, tv_ms((uint32_t) (deadline - now) + 1000));
		snprintf(secs, sizeof(secs), "%.3f",
		    (double) (deadline - now) / 1000.0);
		rep = redisCommand(c, "BLPOP %s %s", key, secs);
		if (rep == NULL)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[1]->type != REDIS_REPLY_STRING) {
			freeReplyObject(rep);
			break; /* nil: the time is up */
		}
		if (clusterproto_result_parse(
			rep->element[1]->str, &res[n], err, sizeof(err)) == 0) {
			for (i = 0; i < n; i++)
				if (strcmp(res[i].server, res[n].server) == 0)
					break;
			if (i == n)
				n++;
		} else
			log_warnx("cluster: reply to %s: %s", key, err);
		freeReplyObject(rep);
	}
	return n;
}

/* cluster_queue_cmd - delete or release user's mail on every server */
int
cluster_queue_cmd(enum cluster_queue_op op, const char *user, int dry,
    int (*emit)(struct ctl_line *, void *), void *arg)
{
	struct cluster        *k = cl;
	struct cluster_result *res = NULL;
	struct ctl_line        l;
	redisContext          *c;
	redisReply            *mem = NULL, *hb = NULL, *rep;
	char                   err[256] = "", id[160], key[CLUSTER_KEY_MAX];
	char                   msg[CLUSTER_RECORD_MAX], missing[1024] = "";
	ESCBUF(euser);
	const char   *name;
	unsigned long seq;
	long long     receivers;
	size_t        n = 0, i, j, pos = 0;
	int           rc = 0, found;

	if ((c = connect_redis(k, MAINT_TIMEOUT_MS, err, sizeof(err))) == NULL)
		return local_only(k, op, user, dry, err, emit, arg);
	if (live_servers(k, c, &mem, &hb, err, sizeof(err)) == -1)
		goto unreachable;
	pthread_mutex_lock(&k->lock);
	seq = ++k->seq;
	pthread_mutex_unlock(&k->lock);
	snprintf(id, sizeof(id), "%s-%lld-%ld-%lu", k->conf->redis.server_id,
	    (long long) time(NULL), (long) getpid(), seq);
	escape_value(euser, sizeof(euser), user);
	if (snprintf(key, sizeof(key), "%sreply:%s", k->conf->redis.prefix,
		id) >= (int) sizeof(key) ||
	    snprintf(msg, sizeof(msg),
		"type=req id=%s op=%s user=%s dry=%d origin=%s reply=%s", id,
		clusterproto_op_name(op), euser, dry ? 1 : 0,
		k->conf->redis.server_id, key) >= (int) sizeof(msg)) {
		snprintf(err, sizeof(err), "request too long");
		goto unreachable;
	}
	rep = redisCommand(c, "PUBLISH %s %s", k->ch_ctl, msg);
	if (reply_bad(c, rep, err, sizeof(err)) ||
	    rep->type != REDIS_REPLY_INTEGER) {
		if (rep != NULL)
			freeReplyObject(rep);
		goto unreachable;
	}
	receivers = rep->integer;
	freeReplyObject(rep);
	if ((res = calloc((size_t) receivers + 1, sizeof(*res))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto unreachable;
	}
	n = collect(c, key, res, (size_t) receivers);
	qsort(res, n, sizeof(*res), cmp_result);
	for (i = 0; i < n && rc == 0; i++) {
		result_line(&l, op, dry, &res[i]);
		rc = emit(&l, arg);
	}
	/* the servers that did not answer: alive (no answer) or down */
	for (i = 0; i < mem->elements && rc == 0; i++) {
		name = mem->element[i]->type == REDIS_REPLY_STRING
			   ? mem->element[i]->str
			   : "";
		for (found = 0, j = 0; j < n && !found; j++)
			found = strcmp(res[j].server, name) == 0;
		if (found || name[0] == '\0')
			continue;
		ctl_line_init(&l, CTL_ROW);
		ctl_line_add_str(&l, "server", name);
		ctl_line_add_str(&l, "status",
		    hb != NULL && hb->element[i]->type != REDIS_REPLY_NIL
			? "no-answer"
			: "down");
		rc = emit(&l, arg);
		if (pos + strlen(name) + 2 < sizeof(missing))
			pos += (size_t) snprintf(missing + pos,
			    sizeof(missing) - pos, "%s%s", pos ? "," : "",
			    name);
	}
	if (rc == 0)
		rc = ok_line(op, user, dry, res, n, missing, "up", emit, arg);
	free(res);
	freeReplyObject(mem);
	if (hb != NULL)
		freeReplyObject(hb);
	redisFree(c);
	return rc;
unreachable:
	free(res);
	if (mem != NULL)
		freeReplyObject(mem);
	if (hb != NULL)
		freeReplyObject(hb);
	redisFree(c);
	return local_only(k, op, user, dry, err, emit, arg);
}
