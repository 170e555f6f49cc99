/*
 * usermail.c - one account's mail still in Postfix's queue
 *
 * The account's recorded queue IDs (state "queued") are loaded from the
 * store and sorted; one postqueue listing is then joined against them.
 *
 * Thread safety: see usermail.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "queuematch.h"
#include "queuetool.h"
#include "usermail.h"

struct rec {
	char   qid[STORE_QID_SIZE];
	char   sender[STORE_USER_SIZE];
	time_t at;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

struct join {
	struct recs *r;
	struct usermail *um;
	size_t cap;
	int match_sender;
};

/* add_rec - store_msgs_each callback: keep the still-queued rows */
static int
add_rec(const struct store_msg *m, void *arg)
{
	struct recs *r = arg;
	struct rec *nv;

	if (m->state != STORE_QUEUED || m->queue_id[0] == '\0')
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		if ((nv = realloc(r->v, r->cap * sizeof(*nv))) == NULL)
			return -1;
		r->v = nv;
	}
	memcpy(r->v[r->n].qid, m->queue_id, sizeof(r->v[r->n].qid));
	memcpy(r->v[r->n].sender, m->sender, sizeof(r->v[r->n].sender));
	r->v[r->n].at = m->recorded ? m->recorded : m->arrival;
	r->n++;
	return 0;
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return strcmp(x->qid, y->qid);
}

/* join_msg - queuetool_list callback: keep the account's messages */
static int
join_msg(const struct pq_msg *m, void *arg)
{
	struct join *j = arg;
	struct rec key, *lo, *hi, *p;
	struct pq_msg *nv;
	int found = 0;

	memset(&key, 0, sizeof(key));
	snprintf(key.qid, sizeof(key.qid), "%s", m->queue_id);
	if ((p = bsearch(&key, j->r->v, j->r->n, sizeof(key), cmp_rec)) == NULL)
		return 0;
	/* the same ID may be recorded several times (reuse): try each */
	lo = hi = p;
	while (lo > j->r->v && strcmp((lo - 1)->qid, key.qid) == 0)
		lo--;
	while (hi + 1 < j->r->v + j->r->n && strcmp((hi + 1)->qid, key.qid) == 0)
		hi++;
	for (p = lo; p <= hi && !found; p++)
		found = queuematch(m->arrival, m->sender, p->at, p->sender,
		    j->match_sender);
	if (!found) {
		j->um->stale++;
		return 0;
	}
	if (j->um->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		if ((nv = realloc(j->um->msgs, j->cap * sizeof(*nv))) == NULL)
			return -1;
		j->um->msgs = nv;
	}
	j->um->msgs[j->um->n++] = *m;
	return 0;
}

/* cmp_arrival - oldest first, then by queue ID */
static int
cmp_arrival(const void *a, const void *b)
{
	const struct pq_msg *x = a, *y = b;

	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	return strcmp(x->queue_id, y->queue_id);
}

/* usermail_collect - the queued mail of user */
int
usermail_collect(const char *user, struct usermail *um, char *err, size_t len)
{
	struct recs r = { NULL, 0, 0 };
	struct join j;
	struct conf *c;
	size_t bad;
	int rc;

	memset(um, 0, sizeof(*um));
	pthread_mutex_lock(&sg->reader_lock);
	rc = store_msgs_each(sg->reader, user, 0, 0, add_rec, &r, err, len);
	pthread_mutex_unlock(&sg->reader_lock);
	if (rc == -1) {
		free(r.v);
		return -1;
	}
	um->recorded = r.n;
	if (r.n == 0)
		return 0;
	qsort(r.v, r.n, sizeof(*r.v), cmp_rec);
	c = daemon_conf();
	j.r = &r;
	j.um = um;
	j.cap = 0;
	j.match_sender = c->queue_match_sender;
	conf_unref(c);
	rc = queuetool_list(join_msg, &j, &bad, err, len);
	free(r.v);
	if (rc == -1)
		usermail_free(um);
	else if (um->n > 1)
		qsort(um->msgs, um->n, sizeof(*um->msgs), cmp_arrival);
	return rc;
}

/* usermail_free - release um's storage */
void
usermail_free(struct usermail *um)
{
	free(um->msgs);
	um->msgs = NULL;
	um->n = 0;
}
