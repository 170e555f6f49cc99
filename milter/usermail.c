/*
 * usermail.c - one account's mail still in Postfix's queue
 *
 * One postqueue listing is joined against the store, a chunk of queued
 * messages at a time: each is looked up by its queue ID and arrival time,
 * and kept when a still-queued record of the account was made under that
 * ID with a fitting arrival and sender.
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

/*
 * Queued messages are joined against the store USERMAIL_CHUNK at a time:
 * the store reads the records of the seconds around a chunk's arrivals
 * once for the whole chunk, and memory stays bounded on a large queue.
 */
#define USERMAIL_CHUNK 4096

/* what the store said of one queued message */
struct probe {
	int mine;	/* a still-queued record of the account */
	int found;	/* ... whose arrival and sender fit the queued one */
};

struct join {
	const char *user;
	struct usermail *um;
	size_t cap;
	int match_sender;
	int failed;		/* the list is cut short ... */
	char err[256];		/* ... and why */
	struct pq_msg *chunk;	/* owned; USERMAIL_CHUNK queued messages */
	struct store_key *keys;	/* owned; theirs */
	struct probe *probe;	/* owned; theirs */
	size_t n;		/* in the chunk */
};

/* probe_row - store_msgs_join callback: is this record the account's? */
static int
probe_row(size_t i, const struct store_msg *r, void *arg)
{
	struct join *j = arg;
	struct probe *p = &j->probe[i];
	const struct pq_msg *m = &j->chunk[i];

	if (p->found || r->state != STORE_QUEUED ||
	    strcmp(r->user, j->user) != 0)
		return 0;
	p->mine = 1;
	p->found = queuematch(m->arrival, m->sender,
	    r->recorded ? r->recorded : r->arrival, r->sender,
	    j->match_sender);
	return 0;
}

/* keep - add the queued message m to the account's list */
static int
keep(struct join *j, const struct pq_msg *m)
{
	struct pq_msg *nv;

	if (j->um->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		if ((nv = realloc(j->um->msgs, j->cap * sizeof(*nv))) == NULL) {
			snprintf(j->err, sizeof(j->err), "out of memory");
			return -1;
		}
		j->um->msgs = nv;
	}
	j->um->msgs[j->um->n++] = *m;
	return 0;
}

/*
 * join_chunk - look the chunk up in the store and keep the account's
 * messages; the queue side bounds the work, not the days of records kept
 */
static int
join_chunk(struct join *j)
{
	size_t i;
	int rc;

	if (j->n == 0)
		return 0;
	for (i = 0; i < j->n; i++) {
		j->keys[i].queue_id = j->chunk[i].queue_id;
		j->keys[i].arrival = j->chunk[i].arrival;
		j->probe[i].mine = j->probe[i].found = 0;
	}
	pthread_mutex_lock(&sg->reader_lock);
	rc = store_msgs_join(sg->reader, j->keys, j->n, probe_row, j,
	    j->err, sizeof(j->err));
	pthread_mutex_unlock(&sg->reader_lock);
	for (i = 0; i < j->n && rc == 0; i++) {
		if (j->probe[i].found)
			rc = keep(j, &j->chunk[i]);
		else if (j->probe[i].mine)
			/* recorded for the account; the ID is another's now */
			j->um->stale++;
	}
	j->n = 0;
	return rc;
}

/* join_msg - queuetool_list callback: gather, then join a full chunk */
static int
join_msg(const struct pq_msg *m, void *arg)
{
	struct join *j = arg;

	j->chunk[j->n++] = *m;
	if (j->n == USERMAIL_CHUNK && join_chunk(j) == -1) {
		j->failed = 1;
		return -1;
	}
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
	memset(&j, 0, sizeof(j));
	j.user = user;
	j.um = um;
	j.chunk = calloc(USERMAIL_CHUNK, sizeof(*j.chunk));
	j.keys = calloc(USERMAIL_CHUNK, sizeof(*j.keys));
	j.probe = calloc(USERMAIL_CHUNK, sizeof(*j.probe));
	if (j.chunk == NULL || j.keys == NULL || j.probe == NULL) {
		snprintf(err, len, "out of memory");
		rc = -1;
		goto out;
	}
	c = daemon_conf();
	j.match_sender = c->queue_match_sender;
	conf_unref(c);
	rc = queuetool_list(join_msg, &j, &bad, err, len);
	if (rc == 0 && !j.failed && join_chunk(&j) == -1)
		j.failed = 1;
	if (rc == 0 && j.failed) {
		/* half a list must not pass for the whole of it */
		snprintf(err, len, "%s", j.err);
		rc = -1;
	}
out:
	free(j.chunk);
	free(j.keys);
	free(j.probe);
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
