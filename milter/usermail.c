/*
 * usermail.c - one account's mail still in Postfix's queue
 *
 * One postqueue listing is joined against the store: each queued message
 * is looked up by its queue ID and arrival time, and kept when a
 * still-queued row of the account was recorded under that ID with a
 * fitting arrival and sender.
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

struct join {
	const char *user;
	struct usermail *um;
	size_t cap;
	int match_sender;
	int failed;		/* a callback failed: the list is cut short */
	char err[256];		/* ... and why */
};

/* one queued message against the rows recorded under its queue ID */
struct probe {
	const struct join *j;
	const struct pq_msg *m;
	int mine;	/* a still-queued row of the account */
	int found;	/* ... whose arrival and sender fit m */
};

/* probe_row - store_msgs_qid callback: is this row the account's m? */
static int
probe_row(const struct store_msg *r, void *arg)
{
	struct probe *p = arg;

	if (r->state != STORE_QUEUED || strcmp(r->user, p->j->user) != 0)
		return 0;
	p->mine = 1;
	p->found = queuematch(p->m->arrival, p->m->sender,
	    r->recorded ? r->recorded : r->arrival, r->sender,
	    p->j->match_sender);
	return p->found; /* stop at the first fit */
}

/*
 * join_msg - queuetool_list callback: keep the account's messages
 *
 * The join runs from the queue side, a few index lookups per queued
 * message (one per second of the arrival slack, store.h):
 * the store has no index by user (see store.c), and the queue is what
 * bounds the work, not the days of records kept.
 */
static int
join_msg(const struct pq_msg *m, void *arg)
{
	struct join *j = arg;
	struct probe p = { j, m, 0, 0 };
	struct pq_msg *nv;
	int rc;

	pthread_mutex_lock(&sg->reader_lock);
	rc = store_msgs_qid(sg->reader, m->queue_id, m->arrival, probe_row,
	    &p, j->err, sizeof(j->err));
	pthread_mutex_unlock(&sg->reader_lock);
	if (rc == -1) {
		j->failed = 1;
		return -1;
	}
	if (!p.found) {
		/* recorded for the account, but the ID is another message's now */
		if (p.mine)
			j->um->stale++;
		return 0;
	}
	if (j->um->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		if ((nv = realloc(j->um->msgs, j->cap * sizeof(*nv))) == NULL) {
			snprintf(j->err, sizeof(j->err), "out of memory");
			j->failed = 1;
			return -1;
		}
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
	struct join j;
	struct conf *c;
	size_t bad;
	int rc;

	memset(um, 0, sizeof(*um));
	c = daemon_conf();
	j.user = user;
	j.um = um;
	j.cap = 0;
	j.match_sender = c->queue_match_sender;
	j.failed = 0;
	j.err[0] = '\0';
	conf_unref(c);
	rc = queuetool_list(join_msg, &j, &bad, err, len);
	if (rc == 0 && j.failed) {
		/* half a list must not pass for the whole of it */
		snprintf(err, len, "%s", j.err);
		rc = -1;
	}
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
