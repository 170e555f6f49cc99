/*
 * accounts.c - the per-user table: windows, networks, senders, flag latch
 *
 * Layout: NSTRIPES independent hash tables, each behind its own mutex,
 * chosen by the low bits of the user's hash.  An entry is one allocation
 * (the user name is stored inline after the counters); the rare extras
 * (flag details, senders other than the login) hang off a second,
 * lazily allocated struct, so a typical account costs about 160 bytes.
 *
 * Thread safety: every function locks the stripe it touches; the policy
 * is called under that lock (it is pure arithmetic), no I/O ever is.
 * Tests: tests/test_accounts.c
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "addr.h"
#include "window.h"

#define NSTRIPES	64
#define STRIPE_SHIFT	6
#define INITIAL_BUCKETS 64

/*
 * The top bit of the stored hash is a flag: the account used its own login
 * as sender.  Keeping it there (the hash needs 31 bits) keeps the entry at
 * 128 bytes before the name, so a typical entry fits a 160-byte chunk.
 */
#define ACCT_OWN_SENDER 0x80000000u
#define HASH_MASK	0x7fffffffu

struct account_extra {
	int      flagged;
	struct account_flag flag;
	uint8_t  nsenders;
	char    *senders[ACCOUNT_SENDERS_MAX];	/* owned */
};

struct account {
	struct account *next;	/* hash chain */
	uint32_t hash;		/* hash_user() | ACCT_OWN_SENDER */
	uint32_t last;		/* last time touched */
	struct window msgs;
	struct window rcpts;
	struct netset nets;
	struct account_extra *extra;	/* owned; NULL for most accounts */
	char     user[];	/* canonical login */
};

_Static_assert(offsetof(struct account, user) == 128,
    "struct account grew: check the memory per user in bench/");

struct stripe {
	pthread_mutex_t lock;
	struct account **buckets;	/* owned */
	size_t   nbuckets;		/* power of two */
	size_t   n;
	size_t   nflagged;
};

struct accounts {
	struct stripe s[NSTRIPES];
};

/* hash_user - FNV-1a, 31 bits */
static uint32_t
hash_user(const char *u)
{
	uint32_t h = 2166136261u;

	for (; *u != '\0'; u++) {
		h ^= (unsigned char) *u;
		h *= 16777619u;
	}
	return h & HASH_MASK;
}

/* stripe_of - the stripe a hash lives in */
static struct stripe *
stripe_of(struct accounts *a, uint32_t h)
{
	return &a->s[h & (NSTRIPES - 1)];
}

/* bucket_of - the chain head a hash lives in */
static struct account **
bucket_of(struct stripe *s, uint32_t h)
{
	return &s->buckets[(h >> STRIPE_SHIFT) & (s->nbuckets - 1)];
}

/* account_free - an entry and its extras */
static void
account_free(struct account *e)
{
	size_t i;

	if (e == NULL)
		return;
	if (e->extra != NULL) {
		for (i = 0; i < e->extra->nsenders; i++)
			free(e->extra->senders[i]);
		free(e->extra);
	}
	netset_free(&e->nets);
	free(e);
}

/* accounts_create - an empty table */
struct accounts *
accounts_create(void)
{
	struct accounts *a;
	size_t i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	for (i = 0; i < NSTRIPES; i++) {
		a->s[i].nbuckets = INITIAL_BUCKETS;
		a->s[i].buckets = calloc(INITIAL_BUCKETS, sizeof(struct account *));
		if (a->s[i].buckets == NULL) {
			while (i-- > 0) {
				free(a->s[i].buckets);
				pthread_mutex_destroy(&a->s[i].lock);
			}
			free(a);
			return NULL;
		}
		pthread_mutex_init(&a->s[i].lock, NULL);
	}
	return a;
}

/* accounts_destroy - free the table; accepts NULL */
void
accounts_destroy(struct accounts *a)
{
	struct account *e, *next;
	size_t i, b;

	if (a == NULL)
		return;
	for (i = 0; i < NSTRIPES; i++) {
		for (b = 0; b < a->s[i].nbuckets; b++)
			for (e = a->s[i].buckets[b]; e != NULL; e = next) {
				next = e->next;
				account_free(e);
			}
		free(a->s[i].buckets);
		pthread_mutex_destroy(&a->s[i].lock);
	}
	free(a);
}

/* find - the entry of user in s, or NULL; caller holds the lock */
static struct account *
find(struct stripe *s, const char *user, uint32_t h)
{
	struct account *e;

	for (e = *bucket_of(s, h); e != NULL; e = e->next)
		if ((e->hash & HASH_MASK) == h && strcmp(e->user, user) == 0)
			return e;
	return NULL;
}

/* grow - double the buckets of s; on ENOMEM keep the longer chains */
static void
grow(struct stripe *s)
{
	struct account **nb, *e, *next;
	size_t n = s->nbuckets * 2, b, b2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (b = 0; b < s->nbuckets; b++)
		for (e = s->buckets[b]; e != NULL; e = next) {
			next = e->next;
			b2 = ((e->hash & HASH_MASK) >> STRIPE_SHIFT) & (n - 1);
			e->next = nb[b2];
			nb[b2] = e;
		}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

/* find_or_create - the entry of user, created empty when new; NULL on ENOMEM */
static struct account *
find_or_create(struct stripe *s, const char *user, uint32_t h, time_t now)
{
	struct account *e, **head;
	size_t len;

	if ((e = find(s, user, h)) != NULL)
		return e;
	len = strlen(user);
	if ((e = calloc(1, offsetof(struct account, user) + len + 1)) == NULL)
		return NULL;
	e->hash = h;
	e->last = (uint32_t) now;
	window_init(&e->msgs);
	window_init(&e->rcpts);
	netset_init(&e->nets);
	memcpy(e->user, user, len + 1);
	if (s->n >= s->nbuckets)
		grow(s);
	head = bucket_of(s, h);
	e->next = *head;
	*head = e;
	s->n++;
	return e;
}

/* extra_of - the extras of e, allocated on first use; NULL on ENOMEM */
static struct account_extra *
extra_of(struct account *e)
{
	if (e->extra == NULL)
		e->extra = calloc(1, sizeof(*e->extra));
	return e->extra;
}

/* remember_sender - keep sender among the last few distinct ones */
static void
remember_sender(struct account *e, const char *sender)
{
	struct account_extra *x;
	char *copy;
	size_t i;

	if (strcmp(sender, e->user) == 0) {
		e->hash |= ACCT_OWN_SENDER;
		return;
	}
	if (e->extra != NULL)
		for (i = 0; i < e->extra->nsenders; i++)
			if (strcmp(e->extra->senders[i], sender) == 0)
				return;
	if ((x = extra_of(e)) == NULL || (copy = strdup(sender)) == NULL)
		return;
	if (x->nsenders == ACCOUNT_SENDERS_MAX) {
		free(x->senders[0]);
		memmove(&x->senders[0], &x->senders[1],
		    (ACCOUNT_SENDERS_MAX - 1) * sizeof(x->senders[0]));
		x->nsenders--;
	}
	x->senders[x->nsenders++] = copy;
}

/* latch - set the flag of e; 1 when newly set */
static int
latch(struct stripe *s, struct account *e, const struct account_flag *f)
{
	struct account_extra *x;

	if ((x = extra_of(e)) == NULL)
		return -1;
	if (x->flagged)
		return 0;
	x->flagged = 1;
	x->flag = *f;
	s->nflagged++;
	return 1;
}

/* flagged - 1 when e's latch is set */
static int
flagged(const struct account *e)
{
	return e->extra != NULL && e->extra->flagged;
}

/* accounts_eom - decide and account for one message at end of data */
int
accounts_eom(struct accounts *a, const struct conf *c,
    const struct accounts_txn *t, time_t now, struct policy_decision *d)
{
	const struct limits *l;
	char *const *senders;
	size_t nsenders;
	struct policy_usage u;
	struct policy_facts f;
	struct account_flag fl;
	struct account *e;
	struct stripe *s;
	uint32_t h = hash_user(t->user);
	int rc = 0;

	l = conf_account(c, t->user, &senders, &nsenders);
	f.nrcpt = t->nrcpt;
	f.sender_belongs = t->sender_ok &&
	    addr_sender_belongs(t->sender, t->user, senders, nsenders);

	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((e = find_or_create(s, t->user, h, now)) == NULL) {
		rc = -1;
		goto out;
	}
	u.flagged = flagged(e);
	u.messages = window_total(&e->msgs, l->messages.window, now);
	u.recipients = window_total(&e->rcpts, l->recipients.window, now);
	u.networks = t->have_net ? netset_count(&e->nets, &t->net,
	    l->client_addresses.window, now) : netset_count(&e->nets, NULL,
	    l->client_addresses.window, now);
	policy_eom(l, c->mode, &u, &f, d);

	if ((uint32_t) now > e->last)
		e->last = (uint32_t) now;
	if (t->have_net)
		(void) netset_touch(&e->nets, t->net,
		    l->client_addresses.window, now);
	if (t->sender_ok)
		remember_sender(e, t->sender);
	if (d->action == ACTION_PASS) {
		window_add(&e->msgs, l->messages.window, now, 1);
		window_add(&e->rcpts, l->recipients.window, now, t->nrcpt);
	}
	if (d->flag) {
		fl.at = now;
		fl.limit = d->limit;
		fl.count = d->count;
		fl.max = d->max;
		fl.window = d->window;
		if (latch(s, e, &fl) == -1)
			rc = -1;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* accounts_flagged_p - 1 when user is flagged */
int
accounts_flagged_p(struct accounts *a, const char *user)
{
	struct account *e;
	struct stripe *s;
	uint32_t h = hash_user(user);
	int r;

	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	e = find(s, user, h);
	r = e != NULL && flagged(e);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* accounts_flag - latch the flag of user */
int
accounts_flag(struct accounts *a, const char *user,
    const struct account_flag *f, time_t now)
{
	struct account *e;
	struct stripe *s;
	uint32_t h = hash_user(user);
	int r;

	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((e = find_or_create(s, user, h, now)) == NULL)
		r = -1;
	else
		r = latch(s, e, f);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* accounts_unflag - clear the latch */
int
accounts_unflag(struct accounts *a, const char *user)
{
	struct account *e;
	struct stripe *s;
	uint32_t h = hash_user(user);
	int r = 0;

	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((e = find(s, user, h)) != NULL && flagged(e)) {
		e->extra->flagged = 0;
		s->nflagged--;
		r = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* accounts_expire - drop idle, unflagged entries */
size_t
accounts_expire(struct accounts *a, const struct conf *c, time_t now)
{
	struct account **pp, *e;
	uint32_t idle = conf_max_window(c);
	size_t i, b, dropped = 0;

	for (i = 0; i < NSTRIPES; i++) {
		struct stripe *s = &a->s[i];

		pthread_mutex_lock(&s->lock);
		for (b = 0; b < s->nbuckets; b++) {
			pp = &s->buckets[b];
			while ((e = *pp) != NULL) {
				if (!flagged(e) && now >= (time_t) e->last &&
				    (uint64_t) (now - e->last) > idle) {
					*pp = e->next;
					account_free(e);
					s->n--;
					dropped++;
				} else
					pp = &e->next;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return dropped;
}

/* accounts_view - a copy of what is known about user */
void
accounts_view(struct accounts *a, const struct conf *c, const char *user,
    time_t now, struct account_view *v)
{
	const struct limits *l;
	char *const *senders;
	size_t nsenders, i;
	struct account *e;
	struct stripe *s;
	uint32_t h = hash_user(user);

	memset(v, 0, sizeof(*v));
	l = conf_account(c, user, &senders, &nsenders);
	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((e = find(s, user, h)) != NULL) {
		v->known = 1;
		v->messages = window_total(&e->msgs, l->messages.window, now);
		v->recipients = window_total(&e->rcpts, l->recipients.window,
		    now);
		v->networks = netset_count(&e->nets, NULL,
		    l->client_addresses.window, now);
		v->last_seen = e->last;
		v->nnets = e->nets.n;
		for (i = 0; i < v->nnets && i < NETSET_MAX; i++)
			v->nets[i] = *netset_get(&e->nets, i);
		if (e->hash & ACCT_OWN_SENDER)
			snprintf(v->senders[v->nsenders++],
			    sizeof(v->senders[0]), "%s", e->user);
		if (e->extra != NULL) {
			v->flagged = e->extra->flagged;
			v->flag = e->extra->flag;
			for (i = 0; i < e->extra->nsenders &&
			     v->nsenders < ACCOUNT_SENDERS_MAX; i++)
				snprintf(v->senders[v->nsenders++],
				    sizeof(v->senders[0]), "%s",
				    e->extra->senders[i]);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* cmp_flagged - order by user */
static int
cmp_flagged(const void *x, const void *y)
{
	const struct account_flagged *p = x, *q = y;

	return strcmp(p->user, q->user);
}

/* accounts_list_flagged - every flagged account, in user order */
int
accounts_list_flagged(struct accounts *a, struct account_flagged **out,
    size_t *n)
{
	struct account_flagged *v = NULL, *nv;
	struct account *e;
	size_t cap = 0, cnt = 0, i, b;

	for (i = 0; i < NSTRIPES; i++) {
		struct stripe *s = &a->s[i];

		pthread_mutex_lock(&s->lock);
		for (b = 0; b < s->nbuckets; b++)
			for (e = s->buckets[b]; e != NULL; e = e->next) {
				if (!flagged(e))
					continue;
				if (cnt == cap) {
					cap = cap ? cap * 2 : 16;
					nv = realloc(v, cap * sizeof(*v));
					if (nv == NULL) {
						pthread_mutex_unlock(&s->lock);
						free(v);
						return -1;
					}
					v = nv;
				}
				snprintf(v[cnt].user, sizeof(v[cnt].user),
				    "%s", e->user);
				v[cnt].flag = e->extra->flag;
				cnt++;
			}
		pthread_mutex_unlock(&s->lock);
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_flagged);
	*out = v;
	*n = cnt;
	return 0;
}

/* accounts_count - entries tracked and flagged now */
void
accounts_count(struct accounts *a, size_t *tracked, size_t *nflagged)
{
	size_t i;

	*tracked = *nflagged = 0;
	for (i = 0; i < NSTRIPES; i++) {
		pthread_mutex_lock(&a->s[i].lock);
		*tracked += a->s[i].n;
		*nflagged += a->s[i].nflagged;
		pthread_mutex_unlock(&a->s[i].lock);
	}
}
