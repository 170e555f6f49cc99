/*
 * audit_model.c - log events -> messages, accounts and incidents
 *
 * A message is one queue-ID lifecycle: it starts at smtpd "client=" (or
 * pickup), is joined by cleanup, qmgr, the delivery agents, postsuper and
 * saslguard lines carrying the same ID, and ends at qmgr or postsuper
 * "removed"; the ID may then be used again.  A hand-over to a content
 * filter or second instance ("queued as NEWID", "orig_queue_id=") makes
 * NEWID a child that counts for the same account.  Every count is kept
 * on the message and added to its account and incident, so an account or
 * incident learned late (a saslguard line naming the user, a burst seen
 * only after its first minutes) receives what happened before.
 *
 * Why incidents are found while streaming: keeping every message to look
 * at later would make memory grow with the logs.  Instead each account
 * keeps ten one-minute slots.  A burst opens an incident when the last
 * ten minutes hold at least "burst" messages (default 50, and ten times
 * the account's smoothed usual rate), ten times as many recipients, or
 * when saslguard held or flagged the account.  Its start is the first
 * message of those ten minutes; the account's messages of the last
 * minutes are kept (ended ones for RETAIN) so they can still be counted
 * in.  It stays open while the account keeps sending busily (a quarter of
 * the threshold per ten minutes) or is flagged, with gaps below GAP.
 *
 * Thread safety: none.
 * Tests: tests/test_audit.c
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "escape.h"
#include "logparse.h"

#define MINUTE_US   (60 * AUDIT_US)
#define GRACE_US    (60 * AUDIT_US)  /* late lines after "removed" */
#define RETAIN_US   (15 * MINUTE_US) /* ended messages kept for bursts */
#define GAP_US      (30 * MINUTE_US) /* quiet time that ends a burst */
#define BURST_DEF   50
#define MAX_DOMAINS 4096 /* per message, before an incident claims it */

enum {
	M_ENDED = 1 << 0,    /* removed or deleted */
	M_CHILD = 1 << 1,    /* hand-over: not counted as accepted */
	M_HELD = 1 << 2,     /* counted as held */
	M_RELEASED = 1 << 3, /* counted as released */
	M_DELETED = 1 << 4,  /* counted as deleted */
	M_ESCAPED = 1 << 5,  /* a recipient was delivered */
	M_DEFERRED = 1 << 6, /* counted as deferred */
	M_EXPIRED = 1 << 7,  /* counted as expired */
	M_REJECTED = 1 << 8, /* counted as rejected */
	M_QUEUED = 1 << 9,   /* recipients counted */
	M_INMAP = 1 << 10,   /* the queue-ID map points here */
	M_SENDER = 1 << 11   /* sender counted */
};

struct amsg {
	char                   qid[32];
	size_t                 qlen;
	uint64_t               qhash;
	unsigned               flags;
	struct audit_user     *user;
	struct audit_incident *inc;
	const char            *client; /* interned, or NULL */
	int64_t                accept_us, ended_us;
	uint32_t               c[AC_NCOUNTERS];
	uint64_t              *dom; /* delivered domains until inc is set */
	uint32_t               ndom, capdom;
	struct amsg           *uprev, *unext;      /* the account's messages */
	struct amsg           *rnext;              /* ended messages */
	struct amsg           *parent, *kid, *sib; /* hand-overs */
};

/* audit_init - an empty audit with options o */
void
audit_init(struct audit *a, const struct audit_opts *o)
{
	memset(a, 0, sizeof(*a));
	a->opts = *o;
	if (a->opts.burst == 0)
		a->opts.burst = BURST_DEF;
	a->now_us = AUDIT_NO_MIN;
	a->first_us = AUDIT_NO_MAX;
	a->last_us = AUDIT_NO_MIN;
}


/* ---- accounts ---- */

/* audit_find_user - the account named name, or NULL */
struct audit_user *
audit_find_user(const struct audit *a, const char *name)
{
	size_t n = strlen(name);

	return amap_get(&a->users, name, n, amap_hash(name, n));
}

/* get_user - the account named s[0..n), made when new; NULL on ENOMEM */
static struct audit_user *
get_user(struct audit *a, const char *s, size_t n)
{
	uint64_t           h = amap_hash(s, n);
	struct audit_user *u;

	if ((u = amap_get(&a->users, s, n, h)) != NULL)
		return u;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	if ((u->name = intern(&a->strings, &a->arena, s, n)) == NULL ||
	    amap_put(&a->users, u->name, n, h, u) == -1) {
		free(u);
		return NULL;
	}
	u->first_us = AUDIT_NO_MAX;
	u->last_us = AUDIT_NO_MIN;
	u->block = -1;
	return u;
}

/* seen - widen the first/last seen times of u */
static void
seen(struct audit_user *u, int64_t us)
{
	if (us < u->first_us)
		u->first_us = us;
	if (us > u->last_us)
		u->last_us = us;
}

/* tally - count n for key in a map of interned keys */
static int
tally(struct amap *m, const char *key, uint64_t n)
{
	size_t    len = strlen(key);
	uint64_t  h = amap_hash(key, len);
	uintptr_t v = (uintptr_t) amap_get(m, key, len, h);

	return amap_put(m, key, len, h, (void *) (v + n));
}

/* ---- messages ---- */

/* bump - add n to counter k of m, its account and its incident */
static void
bump(struct amsg *m, int k, uint32_t n)
{
	m->c[k] += n;
	if (m->user != NULL)
		m->user->c[k] += n;
	if (m->inc != NULL)
		m->inc->c[k] += n;
}

/* once - bump counter k of m by one the first time flag is set */
static void
once(struct amsg *m, unsigned flag, int k)
{
	if ((m->flags & flag) == 0) {
		m->flags |= flag;
		bump(m, k, 1);
	}
}

/* domain_hash - hash of the lower-cased domain of address r */
static uint64_t
domain_hash(struct lp_span r)
{
	const char *at = memchr(r.p, '@', r.n);
	char        buf[256];
	size_t      i, n;

	if (at == NULL)
		return amap_hash("", 0);
	at++;
	n = (size_t) (r.p + r.n - at);
	if (n > sizeof(buf))
		n = sizeof(buf);
	for (i = 0; i < n; i++)
		buf[i] = (at[i] >= 'A' && at[i] <= 'Z') ? (char) (at[i] + 32)
							: at[i];
	return amap_hash(buf, n);
}

/* attach - count message m (and its hand-overs) in incident inc */
static int
attach(struct amsg *m, struct audit_incident *inc)
{
	struct amsg *k;
	uint32_t     i;
	int          j;

	if (m->inc != NULL)
		return 0;
	m->inc = inc;
	for (j = 0; j < AC_NCOUNTERS; j++)
		inc->c[j] += m->c[j];
	for (i = 0; i < m->ndom; i++)
		if (aset_add(&inc->domains, m->dom[i]) == -1)
			return -1;
	free(m->dom);
	m->dom = NULL;
	m->ndom = m->capdom = 0;
	if (m->client != NULL && (m->flags & M_CHILD) == 0 &&
	    tally(&inc->addrs, m->client, 1) == -1)
		return -1;
	for (k = m->kid; k != NULL; k = k->sib)
		if (attach(k, inc) == -1)
			return -1;
	return 0;
}

/* set_user - m belongs to u: u receives what m counted so far */
static void
set_user(struct amsg *m, struct audit_user *u)
{
	int j;

	if (m->user != NULL || u == NULL)
		return;
	m->user = u;
	for (j = 0; j < AC_NCOUNTERS; j++)
		u->c[j] += m->c[j];
	if ((m->flags & M_CHILD) == 0) {
		m->uprev = u->mtail;
		m->unext = NULL;
		if (u->mtail != NULL)
			u->mtail->unext = m;
		else
			u->mhead = m;
		u->mtail = m;
	}
}

/* msg_free - unlink m from everything and free it */
static void
msg_free(struct audit *a, struct amsg *m)
{
	struct amsg **pp, *k;

	if ((m->flags & M_INMAP) != 0)
		amap_del(&a->msgs, m->qid, m->qlen, m->qhash);
	if (a->lastmsg == m)
		a->lastmsg = NULL;
	if (m->user != NULL && (m->flags & M_CHILD) == 0) {
		if (m->uprev != NULL)
			m->uprev->unext = m->unext;
		else if (m->user->mhead == m)
			m->user->mhead = m->unext;
		if (m->unext != NULL)
			m->unext->uprev = m->uprev;
		else if (m->user->mtail == m)
			m->user->mtail = m->uprev;
	}
	if (m->parent != NULL)
		for (pp = &m->parent->kid; *pp != NULL; pp = &(*pp)->sib)
			if (*pp == m) {
				*pp = m->sib;
				break;
			}
	for (k = m->kid; k != NULL; k = k->sib)
		k->parent = NULL;
	free(m->dom);
	free(m);
}

/* end_msg - the lifecycle of m is over; it is freed later */
static void
end_msg(struct audit *a, struct amsg *m, int64_t us)
{
	if ((m->flags & M_ENDED) != 0)
		return;
	m->flags |= M_ENDED;
	m->ended_us = us;
	m->rnext = NULL;
	if (a->rtail != NULL)
		a->rtail->rnext = m;
	else
		a->rhead = m;
	a->rtail = m;
}

/* expire - free ended messages no burst or late line can need now */
static void
expire(struct audit *a)
{
	struct amsg *m;

	while ((m = a->rhead) != NULL && a->now_us - m->ended_us > GRACE_US) {
		if (m->user != NULL && a->now_us - m->accept_us < RETAIN_US)
			break;
		a->rhead = m->rnext;
		if (a->rhead == NULL)
			a->rtail = NULL;
		msg_free(a, m);
	}
}

/*
 * find_msg - the message with queue ID q, or NULL
 *
 * Most lines name the queue ID of the line before (a message's
 * deliveries follow each other), so the last message found is tried
 * before the hash map; it counts only while the map still points to it.
 */
static struct amsg *
find_msg(struct audit *a, struct lp_span q)
{
	struct amsg *m = a->lastmsg;

	if (q.n == 0)
		return NULL;
	if (m != NULL && (m->flags & M_INMAP) != 0 && m->qlen == q.n &&
	    akey_eq(m->qid, q.p, q.n))
		return m;
	if ((m = amap_get(&a->msgs, q.p, q.n, amap_hash(q.p, q.n))) != NULL)
		a->lastmsg = m;
	return m;
}

/* new_msg - a new lifecycle of queue ID q; NULL on ENOMEM */
static struct amsg *
new_msg(struct audit *a, struct lp_span q, int64_t us)
{
	struct amsg *m, *old;

	if (q.n == 0 || q.n >= sizeof(m->qid))
		return NULL;
	if ((old = find_msg(a, q)) != NULL) {
		/* an ID used again: the old lifecycle is over */
		amap_del(&a->msgs, old->qid, old->qlen, old->qhash);
		old->flags &= ~(unsigned) M_INMAP;
		end_msg(a, old, us);
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	memcpy(m->qid, q.p, q.n);
	m->qlen = q.n;
	m->qhash = amap_hash(q.p, q.n);
	m->accept_us = us;
	if (amap_put(&a->msgs, m->qid, m->qlen, m->qhash, m) == -1) {
		free(m);
		return NULL;
	}
	m->flags |= M_INMAP;
	a->lastmsg = m;
	return m;
}

/* adopt - make kid a hand-over of parent */
static int
adopt(struct amsg *parent, struct amsg *kid)
{
	struct amsg *p;
	int          j, k;

	if (kid == parent || kid->parent != NULL)
		return 0;
	for (p = parent; p != NULL; p = p->parent)
		if (p == kid)
			return 0; /* no loops */
	/* what the kid counted as accepted belongs to the parent */
	for (j = 0; j < 2; j++) {
		k = j == 0 ? AC_MESSAGES : AC_RECIPIENTS;
		if (kid->user != NULL)
			kid->user->c[k] -= kid->c[k];
		if (kid->inc != NULL)
			kid->inc->c[k] -= kid->c[k];
		kid->c[k] = 0;
	}
	kid->flags |= M_CHILD;
	kid->parent = parent;
	kid->sib = parent->kid;
	parent->kid = kid;
	set_user(kid, parent->user);
	if (parent->inc != NULL)
		return attach(kid, parent->inc);
	return 0;
}

/* count_sender - the envelope sender of m, once, for its account */
static int
count_sender(
    struct audit *a, struct amsg *m, struct lp_span sender, int escaped)
{
	struct audit_value v;
	const char        *s;

	if (m->user == NULL || (m->flags & (M_SENDER | M_CHILD)) != 0 ||
	    sender.n == 0)
		return 0;
	m->flags |= M_SENDER;
	audit_value(&v, sender, escaped);
	if ((s = intern(&a->strings, &a->arena, v.s, v.n)) == NULL)
		return -1;
	return tally(&m->user->senders, s, 1);
}

/* ---- incidents ---- */

/* slot_sum - messages and recipients of u in the ten minutes to minute */
static void
slot_sum(const struct audit_user *u, int64_t minute, uint32_t *msgs,
    uint32_t *rcpts, int64_t *first)
{
	int i;

	*msgs = *rcpts = 0;
	*first = AUDIT_NO_MAX;
	for (i = 0; i < AUDIT_SLOTS; i++) {
		if (u->slot_min[i] <= minute - AUDIT_SLOTS ||
		    u->slot_min[i] > minute || u->slot_msgs[i] == 0)
			continue;
		*msgs += u->slot_msgs[i];
		*rcpts += u->slot_rcpts[i];
		if (u->slot_first[i] < *first)
			*first = u->slot_first[i];
	}
}

/* threshold - messages per ten minutes that make a burst for u */
static uint32_t
threshold(const struct audit *a, const struct audit_user *u)
{
	double t = 10.0 * u->typical;

	if (t < a->opts.burst)
		return a->opts.burst;
	return t > 1e9 ? 1000000000u : (uint32_t) t;
}

/* open_incident - u's burst opens (or extends) an incident at us */
static int
open_incident(
    struct audit *a, struct audit_user *u, int64_t us, const char *why)
{
	struct audit_incident *inc = u->open, **v;
	struct amsg           *m;
	uint32_t               msgs, rcpts;
	int64_t                first;
	int                    fresh = 0;

	if (inc != NULL && us - inc->end_us > GAP_US)
		inc = u->open = NULL;
	slot_sum(u, us / MINUTE_US, &msgs, &rcpts, &first);
	if (first > us)
		first = us;
	if (inc == NULL) {
		if (a->ninc == a->capinc) {
			size_t cap = a->capinc == 0 ? 8 : a->capinc * 2;

			if ((v = realloc(a->inc, cap * sizeof(*v))) == NULL)
				return -1;
			a->inc = v;
			a->capinc = cap;
		}
		if ((inc = calloc(1, sizeof(*inc))) == NULL)
			return -1;
		a->inc[a->ninc++] = inc;
		inc->user = u;
		inc->start_us = first;
		inc->end_us = us;
		snprintf(inc->why, sizeof(inc->why), "%s", why);
		u->open = inc;
		fresh = 1;
	}
	if (us > inc->end_us)
		inc->end_us = us;
	/* count in the messages of the burst seen before it was a burst */
	for (m = u->mtail; m != NULL; m = m->uprev) {
		if (m->accept_us < first - MINUTE_US)
			break;
		if (m->accept_us >= first && attach(m, inc) == -1)
			return -1;
		if (m->accept_us > inc->end_us)
			inc->end_us = m->accept_us;
	}
	if (fresh)
		return audit_fails_before(a, inc);
	return 0;
}

/* on_accept - an accepted message of u: count it, look for a burst */
static int
on_accept(struct audit *a, struct audit_user *u, struct amsg *m)
{
	int64_t                us = m->accept_us, minute = us / MINUTE_US;
	int                    i = (int) (minute % AUDIT_SLOTS);
	struct audit_incident *inc;
	uint32_t               msgs, rcpts, thr;
	int64_t                first;
	char                   why[96];

	if (i < 0)
		i += AUDIT_SLOTS;
	if (minute / AUDIT_SLOTS != u->block) {
		if (u->block_n > 0 && u->open == NULL)
			u->typical = u->typical == 0
					 ? u->block_n
					 : 0.8 * u->typical + 0.2 * u->block_n;
		u->block = minute / AUDIT_SLOTS;
		u->block_n = 0;
	}
	u->block_n++;
	if (u->slot_min[i] != minute) {
		u->slot_min[i] = minute;
		u->slot_msgs[i] = u->slot_rcpts[i] = 0;
		u->slot_first[i] = us;
	}
	u->slot_msgs[i]++;
	if (us < u->slot_first[i])
		u->slot_first[i] = us;
	if (a->opts.svg != NULL &&
	    audit_series_add(&u->series, minute, 1) == -1)
		return -1;
	bump(m, AC_MESSAGES, 1);
	if (m->client != NULL && tally(&u->addrs, m->client, 1) == -1)
		return -1;
	if (a->sg != NULL &&
	    suggest_message(a->sg, u, us, m->client, m->c[AC_RECIPIENTS]) == -1)
		return -1;
	if ((inc = u->open) != NULL && us - inc->end_us > GAP_US)
		inc = u->open = NULL;
	slot_sum(u, minute, &msgs, &rcpts, &first);
	thr = threshold(a, u);
	if (inc != NULL) {
		if (u->flagged || msgs * 4 >= thr) {
			if (us > inc->end_us)
				inc->end_us = us;
			return attach(m, inc);
		}
		return 0;
	}
	if (msgs >= thr) {
		snprintf(why, sizeof(why), "%u messages in 10 minutes", msgs);
		return open_incident(a, u, us, why);
	}
	return 0;
}

/* on_rcpts - recipients of m are known: count them, look for a burst */
static int
on_rcpts(struct audit *a, struct amsg *m, long nrcpt)
{
	struct audit_user *u = m->user;
	int64_t            minute = m->accept_us / MINUTE_US;
	int                i = (int) (minute % AUDIT_SLOTS);
	uint32_t           msgs, rcpts;
	int64_t            first;
	char               why[96];

	if (nrcpt <= 0 || (m->flags & (M_QUEUED | M_CHILD)) != 0)
		return 0;
	m->flags |= M_QUEUED;
	bump(m, AC_RECIPIENTS, (uint32_t) nrcpt);
	if (u == NULL)
		return 0;
	if (a->sg != NULL &&
	    suggest_rcpts(a->sg, u, m->accept_us, (uint32_t) nrcpt) == -1)
		return -1;
	if (i < 0)
		i += AUDIT_SLOTS;
	if (u->slot_min[i] == minute)
		u->slot_rcpts[i] += (uint32_t) nrcpt;
	if (m->inc != NULL ||
	    (u->open != NULL && m->accept_us - u->open->end_us <= GAP_US))
		return 0;
	slot_sum(u, minute, &msgs, &rcpts, &first);
	if (rcpts >= 10 * threshold(a, u)) {
		snprintf(
		    why, sizeof(why), "%u recipients in 10 minutes", rcpts);
		return open_incident(a, u, m->accept_us, why);
	}
	return 0;
}

/* ---- events ---- */

/* on_submit - smtpd "client=" or pickup: a new lifecycle */
static int
on_submit(struct audit *a, const struct lp_event *ev, int64_t us)
{
	struct audit_value v;
	struct amsg       *m, *parent = NULL;
	struct audit_user *u = NULL;

	if (ev->has_orig)
		parent = find_msg(a, ev->newqid);
	if ((m = new_msg(a, ev->qid, us)) == NULL)
		return ev->qid.n == 0 || ev->qid.n >= sizeof(m->qid) ? 0 : -1;
	/* only an account's client addresses are kept (inbound: millions) */
	if (ev->client.n > 0 && ev->user.n > 0) {
		audit_value(&v, ev->client, 0);
		if ((m->client = intern(&a->strings, &a->arena, v.s, v.n)) ==
		    NULL)
			return -1;
	}
	if (parent != NULL)
		return adopt(parent, m) == -1 ? -1 : 1;
	if (ev->user.n == 0)
		return 1;
	audit_value(&v, ev->user, 0);
	if ((u = get_user(a, v.s, v.n)) == NULL)
		return -1;
	set_user(m, u);
	seen(u, us);
	return on_accept(a, u, m) == -1 ? -1 : 1;
}

/* on_delivery - one recipient's delivery attempt */
static int
on_delivery(struct audit *a, struct amsg *m, const struct lp_event *ev)
{
	struct amsg *kid;
	uint64_t     h;
	uint64_t    *d;

	switch (ev->status) {
	case LP_ST_SENT:
		if (ev->newqid.n > 0 &&
		    (kid = find_msg(a, ev->newqid)) != NULL && kid != m &&
		    (kid->flags & M_ENDED) == 0 &&
		    (kid->user == NULL || kid->user == m->user))
			return adopt(m, kid); /* a hand-over, not out yet */
		bump(m, AC_DELIVERED, 1);
		once(m, M_ESCAPED, AC_ESCAPED);
		h = domain_hash(ev->rcpt);
		if (m->inc != NULL)
			return aset_add(&m->inc->domains, h) == -1 ? -1 : 0;
		if (m->user != NULL && m->ndom < MAX_DOMAINS) {
			if (m->ndom == m->capdom) {
				uint32_t cap =
				    m->capdom == 0 ? 4 : m->capdom * 2;

				if ((d = realloc(m->dom, cap * sizeof(*d))) ==
				    NULL)
					return -1;
				m->dom = d;
				m->capdom = cap;
			}
			m->dom[m->ndom++] = h;
		}
		return 0;
	case LP_ST_BOUNCED:
	case LP_ST_EXPIRED:
		bump(m, AC_BOUNCED, 1);
		return 0;
	case LP_ST_DEFERRED:
		once(m, M_DEFERRED, AC_DEFERRED);
		return 0;
	default:
		return 0;
	}
}

/* on_sg - a saslguard decision */
static int
on_sg(struct audit *a, const struct lp_event *ev, int64_t us)
{
	struct audit_value v;
	struct audit_user *u;
	struct amsg       *m = find_msg(a, ev->qid);
	char               why[96], lim[48];

	if (ev->user.n == 0)
		return m != NULL;
	audit_value(&v, ev->user, 1);
	if ((u = get_user(a, v.s, v.n)) == NULL)
		return -1;
	seen(u, us);
	if (m != NULL && m->user == NULL && (m->flags & M_CHILD) == 0) {
		if (m->client == NULL && ev->client.n > 0) {
			audit_value(&v, ev->client, 1);
			if ((m->client = intern(
				 &a->strings, &a->arena, v.s, v.n)) == NULL)
				return -1;
		}
		set_user(m, u);
		if (on_accept(a, u, m) == -1)
			return -1;
	}
	if (m != NULL && (count_sender(a, m, ev->sender, 1) == -1 ||
			     on_rcpts(a, m, ev->nrcpt) == -1))
		return -1;
	if (ev->sg == LP_SG_PASS)
		return 1; /* the common line: nothing more to format */
	audit_value(&v, ev->limit, 1);
	snprintf(lim, sizeof(lim), "%.40s", v.n > 0 ? v.s : "?");
	switch (ev->sg) {
	case LP_SG_HOLD:
		u->sg_hold++;
		if (m != NULL)
			once(m, M_HELD, AC_HELD);
		snprintf(
		    why, sizeof(why), "saslguard held mail (limit %s)", lim);
		break;
	case LP_SG_WOULD_HOLD:
		snprintf(why, sizeof(why),
		    "saslguard would hold mail (limit %s)", lim);
		break;
	case LP_SG_FLAG:
		u->sg_flag++;
		u->flagged = 1;
		snprintf(
		    why, sizeof(why), "saslguard flagged it (limit %s)", lim);
		break;
	default:
		snprintf(why, sizeof(why), "saslguard refused mail");
		break;
	}
	return open_incident(a, u, us, why) == -1 ? -1 : 1;
}

/* on_control - a saslguard control action */
static int
on_control(struct audit *a, const struct lp_event *ev, int64_t us)
{
	struct audit_value v;
	struct audit_user *u;

	if (ev->user.n == 0)
		return 1;
	audit_value(&v, ev->user, 1);
	if ((u = audit_find_user(a, v.s)) == NULL &&
	    (u = get_user(a, v.s, v.n)) == NULL)
		return -1;
	seen(u, us);
	if (lp_span_eq(ev->action, "unflag"))
		u->flagged = 0;
	else if (lp_span_eq(ev->action, "flag"))
		u->flagged = 1;
	if (ev->deleted > 0)
		u->ctl_deleted += (uint64_t) ev->deleted;
	if (ev->released > 0)
		u->ctl_released += (uint64_t) ev->released;
	if (ev->held > 0)
		u->ctl_held += (uint64_t) ev->held;
	return 1;
}

/* on_login - a successful IMAP/POP3 login */
static int
on_login(struct audit *a, const struct lp_event *ev, int64_t us)
{
	struct audit_value v;
	struct audit_user *u;

	(void) us;
	audit_value(&v, ev->user, 0);
	if ((u = audit_find_user(a, v.s)) == NULL &&
	    (u = get_user(a, v.s, v.n)) == NULL)
		return -1;
	u->logins++;
	return 1;
}

/* on_queue - the lines that need the message of their queue ID */
static int
on_queue(struct audit *a, const struct lp_event *ev, int64_t us)
{
	struct amsg *m = find_msg(a, ev->qid), *kid;

	if (ev->kind == LP_NOTIFY) {
		/* a bounce to the sender: its lines are not the account's */
		if ((kid = new_msg(a, ev->newqid, us)) == NULL)
			return -1;
		kid->flags |= M_CHILD;
		return 1;
	}
	if (m == NULL)
		return 0; /* began before the logs did */
	switch (ev->kind) {
	case LP_HOLD:
	case LP_HELD:
		once(m, M_HELD, AC_HELD);
		break;
	case LP_REJECT:
		once(m, M_REJECTED, AC_REJECTED);
		break;
	case LP_QUEUED:
		if (count_sender(a, m, ev->sender, 0) == -1 ||
		    on_rcpts(a, m, ev->nrcpt) == -1)
			return -1;
		break;
	case LP_EXPIRED:
		once(m, M_EXPIRED, AC_EXPIRED);
		break;
	case LP_REMOVED:
		end_msg(a, m, us);
		break;
	case LP_DELETED:
		once(m, M_DELETED, AC_DELETED);
		end_msg(a, m, us);
		break;
	case LP_RELEASED:
		once(m, M_RELEASED, AC_RELEASED);
		break;
	case LP_DELIVERY:
		if (on_delivery(a, m, ev) == -1)
			return -1;
		break;
	default:
		break;
	}
	if (m->user != NULL)
		seen(m->user, us);
	return 1;
}

/* apply - one event; 1 used, 0 not, -1 ENOMEM */
static int
apply(struct audit *a, const struct lp_event *ev, int64_t us)
{
	switch (ev->kind) {
	case LP_SUBMIT:
	case LP_PICKUP:
		return on_submit(a, ev, us);
	case LP_AUTH_FAIL:
		return audit_fail_line(a, ev, us);
	case LP_LOGIN:
		return on_login(a, ev, us);
	case LP_SG_DECISION:
		return on_sg(a, ev, us);
	case LP_SG_CONTROL:
		return on_control(a, ev, us);
	case LP_MSGID:
	case LP_REQUEUED:
		return find_msg(a, ev->qid) != NULL;
	default:
		return on_queue(a, ev, us);
	}
}

/* audit_line - apply one parsed line at time us; 1 used, 0 not, -1 ENOMEM */
int
audit_line(struct audit *a, const struct lp_head *h, int64_t us)
{
	struct lp_event ev;
	int             r;

	if (us > a->now_us) {
		a->now_us = us;
		if (a->rhead != NULL)
			expire(a);
	}
	if (lp_event_parse(h, &ev) == LP_IGNORED) {
		a->st.ignored++;
		return 0;
	}
	if ((r = apply(a, &ev, us)) == -1) {
		a->nomem = 1;
		return -1;
	}
	if (r == 0) {
		a->st.unmatched++;
		return 0;
	}
	a->st.used++;
	if (us < a->first_us)
		a->first_us = us;
	if (us > a->last_us)
		a->last_us = us;
	return 1;
}

/* ---- results ---- */

/* audit_series_add - count n at epoch minute m */
int
audit_series_add(struct audit_series *s, int64_t m, uint32_t n)
{
	struct audit_point *p;
	size_t              i;

	if (s->n > 0 && s->pt[s->n - 1].minute == m) {
		s->pt[s->n - 1].n += n;
		return 0;
	}
	for (i = s->n; i > 0 && s->pt[i - 1].minute > m; i--)
		;
	if (i > 0 && s->pt[i - 1].minute == m) {
		s->pt[i - 1].n += n;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 64 : s->cap * 2;

		if ((p = realloc(s->pt, cap * sizeof(*p))) == NULL)
			return -1;
		s->pt = p;
		s->cap = cap;
	}
	memmove(s->pt + i + 1, s->pt + i, (s->n - i) * sizeof(*s->pt));
	s->pt[i].minute = m;
	s->pt[i].n = n;
	s->n++;
	return 0;
}

/* by_tally - most first, then by key */
static int
by_tally(const void *x, const void *y)
{
	const struct audit_tally *a = x, *b = y;

	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* audit_tallies - the entries of an interned-key count map, sorted */
struct audit_tally *
audit_tallies(const struct amap *m, size_t *n)
{
	struct audit_tally *t;
	size_t              i, k = 0;

	*n = 0;
	if ((t = calloc(m->used + 1, sizeof(*t))) == NULL)
		return NULL;
	for (i = 0; i < m->cap; i++)
		if (m->slot[i].hash != 0) {
			t[k].key = m->slot[i].key;
			t[k].n = (uintptr_t) m->slot[i].val;
			k++;
		}
	qsort(t, k, sizeof(*t), by_tally);
	*n = k;
	return t;
}

/* by_messages - most messages first, then by name */
static int
by_messages(const void *x, const void *y)
{
	const struct audit_user *a = *(struct audit_user *const *) x;
	const struct audit_user *b = *(struct audit_user *const *) y;

	if (a->c[AC_MESSAGES] != b->c[AC_MESSAGES])
		return a->c[AC_MESSAGES] > b->c[AC_MESSAGES] ? -1 : 1;
	if (a->c[AC_HELD] != b->c[AC_HELD])
		return a->c[AC_HELD] > b->c[AC_HELD] ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* audit_users_sorted - the accounts, most messages first */
struct audit_user **
audit_users_sorted(const struct audit *a, size_t *n)
{
	struct audit_user **v;
	size_t              i, k = 0;

	*n = 0;
	if ((v = calloc(a->users.used + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < a->users.cap; i++)
		if (a->users.slot[i].hash != 0)
			v[k++] = a->users.slot[i].val;
	qsort(v, k, sizeof(*v), by_messages);
	*n = k;
	return v;
}

/* audit_free - everything an audit holds */
void
audit_free(struct audit *a)
{
	struct audit_user *u;
	struct amsg       *m;
	size_t             i;

	a->lastmsg = NULL;
	for (i = 0; i < a->msgs.cap; i++)
		if (a->msgs.slot[i].hash != 0) {
			m = a->msgs.slot[i].val;
			m->flags &= ~(unsigned) M_INMAP;
			if ((m->flags & M_ENDED) == 0) {
				free(m->dom);
				free(m);
			}
		}
	amap_free(&a->msgs);
	while ((m = a->rhead) != NULL) {
		a->rhead = m->rnext;
		free(m->dom);
		free(m);
	}
	for (i = 0; i < a->users.cap; i++)
		if (a->users.slot[i].hash != 0) {
			u = a->users.slot[i].val;
			amap_free(&u->addrs);
			amap_free(&u->senders);
			free(u->series.pt);
			free(u);
		}
	amap_free(&a->users);
	audit_fails_free(&a->fail_addr);
	audit_fails_free(&a->fail_user);
	for (i = 0; i < a->ninc; i++) {
		amap_free(&a->inc[i]->addrs);
		aset_free(&a->inc[i]->domains);
		free(a->inc[i]->fail_addrs);
		free(a->inc[i]);
	}
	free(a->inc);
	free(a->fails.pt);
	amap_free(&a->strings);
	arena_free(&a->arena);
	memset(a, 0, sizeof(*a));
}
