/*
 * accounts.c - the per-user table: windows, networks, senders, flag latch
 *
 * Layout: NSTRIPES independent hash tables, each behind its own mutex,
 * chosen by the low bits of the user's hash.  An entry is one allocation
 * (the user name is stored inline after the counters); the rare extras
 * (flag details, senders other than the login) hang off a second,
 * lazily allocated struct, so a typical account costs about 160 bytes.
 *
 * The signals' long-lived state (baseline and known networks) lives in a
 * second chain of each stripe, under the same lock: a history entry is
 * created with an account's first counted message while a signal is on,
 * costs about 110 bytes with its name, and is dropped after baseline.keep
 * of silence, while the account entry beside it comes and goes with the
 * windows.  Rarer signal state (bounces, failed logins, recipient domains)
 * hangs off the extras.
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
#include "fnv.h"
#include "signals.h"
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

#define HIST_DIRTY 0x80000000u	/* in history.hash: changed since collected */
#define NET_PREFIX "net:"	/* stored name of a known network */

struct account_extra {
	int      flagged;
	struct account_flag flag;
	uint8_t  nsenders;
	char    *senders[ACCOUNT_SENDERS_MAX];	/* owned */
	struct window *bounces;		/* owned; NULL until a bounce */
	struct window *failures;	/* owned; NULL until a failed login */
	struct netset *doms;		/* owned; external recipient domains */
	struct netset *rcpts;		/* owned; external recipients */
};

/* the long-lived habit of an account */
struct history {
	struct history *next;	/* hash chain */
	uint32_t hash;		/* hash_user() | HIST_DIRTY */
	uint32_t last;		/* last time touched */
	struct baseline bl;
	struct netset nets;	/* networks of the last baseline.keep */
	char     user[];	/* canonical login */
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

/*
 * Users seen recently, as a two-generation Bloom filter per stripe.  A
 * history (baseline, known networks) costs more than the account itself,
 * so it is only started for a user seen before: one-off senders, the bulk
 * of a large table, never get one.  Generations turn over every
 * SEEN_GENERATION seconds, so "before" means within one to two of them; a
 * false positive (about 3% at 16,000 users a stripe) only starts a history
 * early.
 */
#define SEEN_BITS	(1u << 17)
#define SEEN_GENERATION (7u * 86400)

_Static_assert(offsetof(struct account, user) == 128,
    "struct account grew: check the memory per user in bench/");

struct stripe {
	pthread_mutex_t lock;
	struct account **buckets;	/* owned */
	size_t   nbuckets;		/* power of two */
	size_t   n;
	size_t   nflagged;
	struct history **hbuckets;	/* owned */
	size_t   nhbuckets;		/* power of two */
	size_t   nh;
	uint64_t *seen[2];		/* owned; SEEN_BITS each; see seen_before */
	uint32_t seen_since;		/* when seen[0] was started */
};

struct accounts {
	struct stripe s[NSTRIPES];
};

/* hash_user - FNV-1a, 31 bits */
static uint32_t
hash_user(const char *u)
{
	return fnv1a32(u) & HASH_MASK;
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
		free(e->extra->bounces);
		free(e->extra->failures);
		netset_free(e->extra->doms);
		free(e->extra->doms);
		if (e->extra->rcpts != NULL)
			netset_free(e->extra->rcpts);
		free(e->extra->rcpts);
		free(e->extra);
	}
	netset_free(&e->nets);
	free(e);
}

/* history_free - a history entry; accepts NULL */
static void
history_free(struct history *hi)
{
	if (hi == NULL)
		return;
	netset_free(&hi->nets);
	free(hi);
}

/* hbucket_of - the history chain head a hash lives in (nhbuckets > 0) */
static struct history **
hbucket_of(struct stripe *s, uint32_t h)
{
	return &s->hbuckets[(h >> STRIPE_SHIFT) & (s->nhbuckets - 1)];
}

/* history_find - the history of user in s, or NULL; caller holds the lock */
static struct history *
history_find(struct stripe *s, const char *user, uint32_t h)
{
	struct history *hi;

	if (s->nhbuckets == 0)
		return NULL;
	for (hi = *hbucket_of(s, h); hi != NULL; hi = hi->next)
		if ((hi->hash & HASH_MASK) == h && strcmp(hi->user, user) == 0)
			return hi;
	return NULL;
}

/* history_grow - double the history buckets of s (or make the first ones) */
static int
history_grow(struct stripe *s)
{
	struct history **nb, *hi, *next;
	size_t n = s->nhbuckets ? s->nhbuckets * 2 : INITIAL_BUCKETS, b, b2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return -1;
	for (b = 0; b < s->nhbuckets; b++)
		for (hi = s->hbuckets[b]; hi != NULL; hi = next) {
			next = hi->next;
			b2 = ((hi->hash & HASH_MASK) >> STRIPE_SHIFT) & (n - 1);
			hi->next = nb[b2];
			nb[b2] = hi;
		}
	free(s->hbuckets);
	s->hbuckets = nb;
	s->nhbuckets = n;
	return 0;
}

/* history_of - the history of user, created empty when new; NULL on ENOMEM */
static struct history *
history_of(struct stripe *s, const char *user, uint32_t h, time_t now)
{
	struct history *hi, **head;
	size_t len;

	if ((hi = history_find(s, user, h)) != NULL)
		return hi;
	if (s->nhbuckets == 0 && history_grow(s) == -1)
		return NULL;
	len = strlen(user);
	if ((hi = calloc(1, offsetof(struct history, user) + len + 1)) == NULL)
		return NULL;
	hi->hash = h;
	hi->last = now > 0 && (uint64_t) now <= UINT32_MAX ? (uint32_t) now : 0;
	baseline_init(&hi->bl);
	netset_init(&hi->nets);
	memcpy(hi->user, user, len + 1);
	/* a failed grow keeps the longer chains */
	if (s->nh >= s->nhbuckets)
		(void) history_grow(s);
	head = hbucket_of(s, h);
	hi->next = *head;
	*head = hi;
	s->nh++;
	return hi;
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
		a->s[i].seen[0] = calloc(SEEN_BITS / 64, sizeof(uint64_t));
		a->s[i].seen[1] = calloc(SEEN_BITS / 64, sizeof(uint64_t));
		if (a->s[i].buckets == NULL || a->s[i].seen[0] == NULL ||
		    a->s[i].seen[1] == NULL) {
			free(a->s[i].buckets);
			free(a->s[i].seen[0]);
			free(a->s[i].seen[1]);
			while (i-- > 0) {
				free(a->s[i].seen[0]);
				free(a->s[i].seen[1]);
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
	struct history *hi, *hnext;
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
		for (b = 0; b < a->s[i].nhbuckets; b++)
			for (hi = a->s[i].hbuckets[b]; hi != NULL; hi = hnext) {
				hnext = hi->next;
				history_free(hi);
			}
		free(a->s[i].hbuckets);
		free(a->s[i].buckets);
		free(a->s[i].seen[0]);
		free(a->s[i].seen[1]);
		pthread_mutex_destroy(&a->s[i].lock);
	}
	free(a);
}

/* mix - a second, independent 32-bit hash from the first (finaliser) */
static uint32_t
mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

/*
 * seen_before - 1 when user (hash h, name u) was seen in this generation
 * or the one before; records it in this one either way.  Caller holds the
 * stripe lock.
 */
static int
seen_before(struct stripe *s, const char *u, uint32_t h, time_t now)
{
	uint32_t bit[3], g = 0x9e3779b9u, k;
	uint64_t *t;
	int hit0 = 1, hit1 = 1, i;

	if ((uint32_t) now - s->seen_since >= SEEN_GENERATION ||
	    s->seen_since == 0) {
		/* the older generation is forgotten, a new one starts */
		t = s->seen[1];
		s->seen[1] = s->seen[0];
		s->seen[0] = t;
		memset(s->seen[0], 0, SEEN_BITS / 8);
		s->seen_since = (uint32_t) now;
	}
	for (; *u != '\0'; u++)
		g = (g ^ (unsigned char) *u) * 0x01000193u;
	k = mix(g);
	for (i = 0; i < 3; i++) {
		bit[i] = (h + (uint32_t) i * k) & (SEEN_BITS - 1);
		if ((s->seen[0][bit[i] / 64] & (1ull << (bit[i] % 64))) == 0)
			hit0 = 0;
		if ((s->seen[1][bit[i] / 64] & (1ull << (bit[i] % 64))) == 0)
			hit1 = 0;
		s->seen[0][bit[i] / 64] |= 1ull << (bit[i] % 64);
	}
	return hit0 || hit1;
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

/* signals_on - 1 when a signal needs the account's history */
static int
signals_on(const struct conf *c, const struct limits *l)
{
	return c->baseline.enabled || l->new_network_recipients != 0;
}

/* extra_window - a window of the extras, allocated on first use; NULL on ENOMEM */
static struct window *
extra_window(struct account *e, int bounces)
{
	struct account_extra *x;
	struct window       **w;

	if ((x = extra_of(e)) == NULL)
		return NULL;
	w = bounces ? &x->bounces : &x->failures;
	if (*w == NULL && (*w = malloc(sizeof(**w))) != NULL)
		window_init(*w);
	return *w;
}

/* domains_of - the domain set of e, allocated on first use; NULL on ENOMEM */
static struct netset *
domains_of(struct account *e)
{
	struct account_extra *x;

	if ((x = extra_of(e)) == NULL)
		return NULL;
	if (x->doms == NULL && (x->doms = malloc(sizeof(*x->doms))) != NULL)
		netset_init(x->doms);
	return x->doms;
}

/* rcpts_of - the recipient set of e, allocated on first use; NULL on ENOMEM */
static struct netset *
rcpts_of(struct account *e)
{
	struct account_extra *x;

	if ((x = extra_of(e)) == NULL)
		return NULL;
	if (x->rcpts == NULL && (x->rcpts = malloc(sizeof(*x->rcpts))) != NULL)
		netset_init(x->rcpts);
	return x->rcpts;
}

/* optional_total - the total of a window that may not exist (0) */
static uint32_t
optional_total(struct window *w, uint32_t length, time_t now)
{
	return w == NULL ? 0 : window_total(w, length, now);
}

/* known - 1 when key is live in s */
static int
known(const struct netset *s, uint64_t key, uint32_t window, time_t now)
{
	return netset_count(s, &key, window, now) ==
	       netset_count(s, NULL, window, now);
}

/* count_domains - distinct live keys of s (may be NULL) and keys[0..n) */
static uint32_t
count_domains(const struct netset *s, const uint64_t *keys, size_t n,
    uint32_t more, uint32_t window, time_t now)
{
	uint32_t base, total;
	size_t   i;

	if (s == NULL) {
		total = (uint32_t) n;
	} else {
		base = total = netset_count(s, NULL, window, now);
		for (i = 0; i < n; i++)
			if (netset_count(s, &keys[i], window, now) > base)
				total++;
	}
	return total > UINT32_MAX - more ? UINT32_MAX : total + more;
}

/* touch - move a last-seen time forward to now */
static void
touch(uint32_t *last, time_t now)
{
	if (now > 0 && (uint64_t) now <= UINT32_MAX && (uint32_t) now > *last)
		*last = (uint32_t) now;
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

/* latch_decision - latch the flag of e for the limit d broke */
static int
latch_decision(struct stripe *s, struct account *e,
    const struct policy_decision *d, time_t now)
{
	struct account_flag fl;

	memset(&fl, 0, sizeof(fl));
	fl.at = now;
	fl.limit = d->limit;
	fl.count = d->count;
	fl.max = d->max;
	fl.window = d->window;
	return latch(s, e, &fl);
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
	return accounts_eom_signals(a, c, t, NULL, now, d);
}

/* accounts_eom_signals - accounts_eom() with the recipients' signals */
int
accounts_eom_signals(struct accounts *a, const struct conf *c,
    const struct accounts_txn *t, const struct signals_msg *m, time_t now,
    struct policy_decision *d)
{
	const struct limits *l;
	char *const *senders;
	size_t nsenders, i, ndoms;
	struct policy_usage u;
	struct policy_facts f;
	struct signals_facts sf;
	struct history *x = NULL;
	struct netset *doms = NULL, *rs;
	struct account *e;
	struct stripe *s;
	uint32_t h = hash_user(t->user), keep = c->baseline.keep;
	uint64_t r;
	int rc = 0;

	l = conf_account(c, t->user, &senders, &nsenders);
	f.nrcpt = t->nrcpt;
	f.sender_belongs = t->sender_ok &&
	    addr_sender_belongs(t->sender, t->user, senders, nsenders);
	ndoms = m != NULL ? m->ndomains : 0;

	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((e = find_or_create(s, t->user, h, now)) == NULL) {
		rc = -1;
		goto out;
	}
	/*
	 * A history is started on a user's second appearance (seen_before);
	 * out of memory for one, the fixed limits still apply.
	 */
	if (signals_on(c, l) && (x = history_find(s, t->user, h)) == NULL &&
	    seen_before(s, t->user, h, now))
		x = history_of(s, t->user, h, now);
	u.flagged = flagged(e);
	u.messages = window_total(&e->msgs, l->messages.window, now);
	u.recipients = window_total(&e->rcpts, l->recipients.window, now);
	u.networks = t->have_net ? netset_count(&e->nets, &t->net,
	    l->client_addresses.window, now) : netset_count(&e->nets, NULL,
	    l->client_addresses.window, now);
	policy_eom(l, c->mode, &u, &f, d);

	/* the signals: measured here, decided in signals.c */
	memset(&sf, 0, sizeof(sf));
	sf.ext_rcpts = m != NULL ? m->ext_rcpts : t->nrcpt;
	r = (uint64_t) u.recipients + t->nrcpt;
	sf.recipients = r > UINT32_MAX ? UINT32_MAX : (uint32_t) r;
	if (x != NULL) {
		baseline_check(&x->bl, &c->baseline.p, now, 1, t->nrcpt, &sf.bl);
		sf.baseline = c->baseline.enabled;
		sf.new_network = t->have_net && l->new_network_recipients != 0 &&
				 x->nets.n > 0 &&
				 baseline_ready(&x->bl, &c->baseline.p, now) &&
				 !known(&x->nets, t->net, keep, now);
	}
	if (e->extra != NULL) {
		doms = e->extra->doms;
		sf.bounces = optional_total(e->extra->bounces,
		    l->bounces.window, now);
		sf.failures = optional_total(e->extra->failures,
		    l->failed_logins.window, now);
	}
	if (l->recipient_domains.max != 0)
		sf.domains = count_domains(doms, m != NULL ? m->domain : NULL,
		    ndoms, m != NULL ? m->more_domains : 0,
		    l->recipient_domains.window, now);
	if (l->distinct_recipients.max != 0)
		sf.distinct = count_domains(e->extra != NULL ?
		    e->extra->rcpts : NULL, m != NULL ? m->rcpt : NULL,
		    m != NULL ? m->nrcpt_keys : 0, m != NULL ? m->more_rcpts : 0,
		    l->distinct_recipients.window, now);
	signals_eom(l, c->mode, u.flagged, &sf, d);

	touch(&e->last, now);
	if (t->have_net)
		(void) netset_touch(&e->nets, t->net,
		    l->client_addresses.window, now);
	if (t->sender_ok)
		remember_sender(e, t->sender);
	if (d->action == ACTION_PASS) {
		window_add(&e->msgs, l->messages.window, now, 1);
		window_add(&e->rcpts, l->recipients.window, now, t->nrcpt);
		if (x != NULL)
			baseline_add(&x->bl, &c->baseline.p, now, 1, t->nrcpt);
		if (l->recipient_domains.max != 0 && ndoms > 0 &&
		    (doms = domains_of(e)) != NULL)
			for (i = 0; i < ndoms; i++)
				(void) netset_touch(doms, m->domain[i],
				    l->recipient_domains.window, now);
		if (l->distinct_recipients.max != 0 && m != NULL &&
		    m->nrcpt_keys > 0 && (rs = rcpts_of(e)) != NULL)
			for (i = 0; i < m->nrcpt_keys; i++)
				(void) netset_touch(rs, m->rcpt[i],
				    l->distinct_recipients.window, now);
	}
	/* only a clean message teaches the account a network */
	if (x != NULL && t->have_net && d->limit == LIMIT_NONE)
		(void) netset_touch(&x->nets, t->net, keep, now);
	if (x != NULL) {
		touch(&x->last, now);
		x->hash |= HIST_DIRTY;
	}
	if (d->flag && latch_decision(s, e, d, now) == -1)
		rc = -1;
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
	struct history **hp, *hi;
	uint32_t idle = conf_max_window(c), keep = c->baseline.keep;
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
		/* histories are not accounts: not counted in the result */
		for (b = 0; b < s->nhbuckets; b++) {
			hp = &s->hbuckets[b];
			while ((hi = *hp) != NULL) {
				if (now >= (time_t) hi->last &&
				    (uint64_t) (now - hi->last) > keep) {
					*hp = hi->next;
					history_free(hi);
					s->nh--;
				} else
					hp = &hi->next;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return dropped;
}

/* view_history - an account's history into v */
static void
view_history(const struct conf *c, struct history *hi, time_t now,
    struct account_view *v)
{
	size_t w;

	v->known_networks =
	    netset_count(&hi->nets, NULL, c->baseline.keep, now);
	if (baseline_empty(&hi->bl))
		return;
	baseline_roll(&hi->bl, &c->baseline.p, now);
	v->has_history = 1;
	v->history = baseline_history(&hi->bl, now);
	v->baseline_ready = baseline_ready(&hi->bl, &c->baseline.p, now);
	for (w = 0; w < BASELINE_N_; w++) {
		v->mean[w] = hi->bl.mean[w];
		v->sd[w] = baseline_sd(&hi->bl, (enum baseline_what) w);
		v->recent[w] =
		    baseline_recent(&hi->bl, (enum baseline_what) w, now);
		if (v->baseline_ready)
			v->bar[w] = baseline_bar(
			    &hi->bl, &c->baseline.p, (enum baseline_what) w);
	}
}

/* accounts_view - a copy of what is known about user */
void
accounts_view(struct accounts *a, const struct conf *c, const char *user,
    time_t now, struct account_view *v)
{
	const struct limits *l;
	char *const *senders;
	size_t nsenders, i;
	struct history *hi;
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
			v->bounces = optional_total(e->extra->bounces,
			    l->bounces.window, now);
			v->failures = optional_total(e->extra->failures,
			    l->failed_logins.window, now);
			if (e->extra->doms != NULL)
				v->domains = netset_count(e->extra->doms, NULL,
				    l->recipient_domains.window, now);
			if (e->extra->rcpts != NULL)
				v->distinct = netset_count(e->extra->rcpts,
				    NULL, l->distinct_recipients.window, now);
			v->flagged = e->extra->flagged;
			v->flag = e->extra->flag;
			for (i = 0; i < e->extra->nsenders &&
			     v->nsenders < ACCOUNT_SENDERS_MAX; i++)
				snprintf(v->senders[v->nsenders++],
				    sizeof(v->senders[0]), "%s",
				    e->extra->senders[i]);
		}
	}
	if ((hi = history_find(s, user, h)) != NULL)
		view_history(c, hi, now, v);
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

/* accounts_bounce - a bounce arrived for user: count it and decide */
int
accounts_bounce(struct accounts *a, const struct conf *c, const char *user,
    time_t now, struct policy_decision *d)
{
	const struct limits *l = conf_account(c, user, NULL, NULL);
	struct account *e;
	struct window *w;
	struct stripe *s;
	uint32_t h = hash_user(user), total;
	int rc = 0;

	signals_bounce(l, c->mode, 0, 0, d);
	if (l->bounces.max == 0)
		return 0;
	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((e = find_or_create(s, user, h, now)) == NULL ||
	    (w = extra_window(e, 1)) == NULL) {
		rc = -1;
		goto out;
	}
	touch(&e->last, now);
	window_add(w, l->bounces.window, now, 1);
	total = window_total(w, l->bounces.window, now);
	signals_bounce(l, c->mode, flagged(e), total, d);
	if (d->flag && latch_decision(s, e, d, now) == -1)
		rc = -1;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* accounts_auth_failure - count a failed login of user */
int
accounts_auth_failure(
    struct accounts *a, const struct conf *c, const char *user, time_t now)
{
	const struct limits *l = conf_account(c, user, NULL, NULL);
	struct account *e;
	struct window *w;
	struct stripe *s;
	uint32_t h = hash_user(user);
	int rc = 0;

	if (l->failed_logins.max == 0)
		return 0;
	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((e = find_or_create(s, user, h, now)) == NULL ||
	    (w = extra_window(e, 0)) == NULL) {
		rc = -1;
	} else {
		touch(&e->last, now);
		window_add(w, l->failed_logins.window, now, 1);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* parse_net - "net:HEX" into *key; -1 when name is not one */
static int
parse_net(const char *name, uint64_t *key)
{
	const char *p = name + sizeof(NET_PREFIX) - 1;
	uint64_t v = 0;
	size_t n = 0;

	if (strncmp(name, NET_PREFIX, sizeof(NET_PREFIX) - 1) != 0)
		return -1;
	for (; *p != '\0'; p++, n++) {
		if (n >= 16)
			return -1;
		if (*p >= '0' && *p <= '9')
			v = v << 4 | (uint64_t) (*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			v = v << 4 | (uint64_t) (*p - 'a' + 10);
		else
			return -1;
	}
	if (n == 0)
		return -1;
	*key = v;
	return 0;
}

/* accounts_history_load - one stored value of user's history */
int
accounts_history_load(struct accounts *a, const struct conf *c,
    const char *user, const char *name, double value, time_t updated)
{
	struct history *hi;
	struct baseline b;
	struct stripe *s;
	uint64_t key = 0;
	uint32_t h = hash_user(user);
	int rc = 0, net;

	net = parse_net(name, &key) == 0;
	if (net && !(value >= 1 && value <= (double) UINT32_MAX))
		return 1;
	/* check the name and the value before creating anything */
	baseline_init(&b);
	if (!net && baseline_import(&b, name, value) == -1)
		return 1;
	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((hi = history_of(s, user, h, updated)) == NULL) {
		rc = -1;
	} else if (net) {
		if (netset_touch(&hi->nets, key, c->baseline.keep,
			(time_t) value) == -1)
			rc = -1;
	} else {
		(void) baseline_import(&hi->bl, name, value);
		/* a row written by hand may lack the hour: start at since */
		if (hi->bl.hour < hi->bl.since)
			hi->bl.hour = hi->bl.since;
	}
	if (hi != NULL)
		touch(&hi->last, updated);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* accounts_history_mark - mark user's history changed (a failed write) */
void
accounts_history_mark(struct accounts *a, const char *user)
{
	struct history *hi;
	struct stripe *s;
	uint32_t h = hash_user(user);

	s = stripe_of(a, h);
	pthread_mutex_lock(&s->lock);
	if ((hi = history_find(s, user, h)) != NULL)
		hi->hash |= HIST_DIRTY;
	pthread_mutex_unlock(&s->lock);
}

/* history_copy - a copy of hi into r; -1 on ENOMEM */
static int
history_copy(const struct history *hi, struct account_history *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	if ((r->user = strdup(hi->user)) == NULL)
		return -1;
	r->bl = hi->bl;
	if (hi->nets.n > 0) {
		if ((r->nets = calloc(hi->nets.n, sizeof(*r->nets))) == NULL) {
			free(r->user);
			r->user = NULL;
			return -1;
		}
		for (i = 0; i < hi->nets.n; i++)
			r->nets[i] = *netset_get(&hi->nets, i);
		r->nnets = hi->nets.n;
	}
	return 0;
}

/* accounts_history_collect - the histories changed since the last call */
int
accounts_history_collect(
    struct accounts *a, struct account_history **out, size_t *n)
{
	struct account_history *v = NULL, *nv;
	struct history *hi;
	size_t cap = 0, cnt = 0, i, b;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (i = 0; i < NSTRIPES && rc == 0; i++) {
		struct stripe *s = &a->s[i];

		pthread_mutex_lock(&s->lock);
		for (b = 0; b < s->nhbuckets && rc == 0; b++)
			for (hi = s->hbuckets[b]; hi != NULL; hi = hi->next) {
				if (!(hi->hash & HIST_DIRTY))
					continue;
				if (cnt == cap) {
					cap = cap ? cap * 2 : 64;
					nv = realloc(v, cap * sizeof(*v));
					if (nv == NULL) {
						rc = -1;
						break;
					}
					v = nv;
				}
				if (history_copy(hi, &v[cnt]) == -1) {
					rc = -1;
					break;
				}
				hi->hash &= ~HIST_DIRTY;
				cnt++;
			}
		pthread_mutex_unlock(&s->lock);
	}
	if (rc == -1) {
		/* hand back what was taken: it is written next time */
		for (i = 0; i < cnt; i++)
			accounts_history_mark(a, v[i].user);
		accounts_history_free(v, cnt);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* accounts_history_free - free what accounts_history_collect returned */
void
accounts_history_free(struct account_history *h, size_t n)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(h[i].user);
		free(h[i].nets);
	}
	free(h);
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
