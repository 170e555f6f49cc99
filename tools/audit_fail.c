/*
 * audit_fail.c - failed logins for the audit: by client address, by
 * account name tried, and the ones that preceded an incident
 *
 * Why the largest source wins: one attempt may be logged by a front end
 * (Postfix smtpd, Dovecot's login process) and again by a back end
 * (Dovecot's auth process, saslauthd, PAM).  Each source is counted apart
 * and a record's count is the largest, so an attempt counts once whether
 * one or both logged it.  The sasl_username on a failed-login line is the
 * name tried, never a sender, so these records never make accounts.
 *
 * For "before the incident", each account tried keeps a ring of its
 * failures per address and minute (at most a day of minutes), so memory
 * stays bounded however long a password-guessing run lasts.  Syslog times
 * have whole seconds, so failures in the incident's first second count
 * as before it: a takeover often logs in and sends within one second.
 * A failure merged in after its incident opened (a line of the same
 * second from another file) makes the incident count them again.
 *
 * Thread safety: none.
 * Tests: tests/test_audit.c
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "logparse.h"

#define MINUTE_US (60 * AUDIT_US)
#define HOUR_US   (60 * MINUTE_US)
#define DAY_US    (24 * HOUR_US)
#define MAX_RUNS  1440 /* failed-login minutes kept per account tried */

/* audit_fail_count - failed logins of f, one per attempt */
uint64_t
audit_fail_count(const struct audit_fail *f)
{
	uint64_t n = f->n[0];

	if (f->n[1] > n)
		n = f->n[1];
	if (f->n[2] > n)
		n = f->n[2];
	return n;
}

/* get_fail - the failure record of key in m; NULL on ENOMEM */
static struct audit_fail *
get_fail(struct audit *a, struct amap *m, const char *key)
{
	size_t             n = strlen(key);
	uint64_t           h = amap_hash(key, n);
	struct audit_fail *f;

	if ((f = amap_get(m, key, n, h)) != NULL)
		return f;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->key = intern(&a->strings, &a->arena, key, n)) == NULL ||
	    amap_put(m, f->key, n, h, f) == -1) {
		free(f);
		return NULL;
	}
	f->first_us = AUDIT_NO_MAX;
	f->last_us = AUDIT_NO_MIN;
	return f;
}

/* count_fail - add n failures of source src at us to f */
static void
count_fail(struct audit_fail *f, int src, uint64_t n, int64_t us)
{
	f->n[src] += n;
	if (us < f->first_us)
		f->first_us = us;
	if (us > f->last_us)
		f->last_us = us;
}

/* add_run - remember n failures from addr at us for account f */
static int
add_run(struct audit_fail *f, const char *addr, int src, uint64_t n, int64_t us)
{
	struct afrun *r, *v;
	size_t        last;

	if (f->nrun > 0) {
		last = (f->headrun + f->nrun - 1) % f->caprun;
		r = &f->run[last];
		if (r->addr == addr && r->src == src &&
		    us / MINUTE_US == r->first_us / MINUTE_US) {
			r->n += n;
			if (us > r->last_us)
				r->last_us = us;
			return 0;
		}
	}
	if (f->nrun == f->caprun && f->caprun < MAX_RUNS) {
		size_t cap = f->caprun == 0 ? 4 : f->caprun * 2, i;

		if ((v = calloc(cap, sizeof(*v))) == NULL)
			return -1;
		for (i = 0; i < f->nrun; i++)
			v[i] = f->run[(f->headrun + i) % f->caprun];
		free(f->run);
		f->run = v;
		f->caprun = cap;
		f->headrun = 0;
	}
	if (f->nrun == f->caprun) { /* full: forget the oldest run */
		f->headrun = (f->headrun + 1) % f->caprun;
		f->nrun--;
	}
	r = &f->run[(f->headrun + f->nrun) % f->caprun];
	f->nrun++;
	r->addr = addr;
	r->src = src;
	r->n = n;
	r->first_us = r->last_us = us;
	return 0;
}

/* audit_fail_line - a failed login; 1 used, -1 ENOMEM */
int
audit_fail_line(struct audit *a, const struct lp_event *ev, int64_t us)
{
	struct audit_value user, realm, addr;
	struct audit_fail *f;
	struct audit_user *u;
	const char        *ip = "";
	uint64_t           n = ev->count > 0 ? (uint64_t) ev->count : 1;
	int                src = (int) ev->authsrc;

	audit_value(&user, ev->user, 0);
	audit_value(&addr, ev->client, 0);
	if (ev->realm.n > 0 && memchr(user.s, '@', user.n) == NULL &&
	    user.n > 0) {
		audit_value(&realm, ev->realm, 0);
		if (user.n + 1 + realm.n < sizeof(user.s)) {
			user.s[user.n++] = '@';
			memcpy(user.s + user.n, realm.s, realm.n + 1);
			user.n += realm.n;
		}
	}
	if (addr.n > 0 && strcmp(addr.s, "unknown") != 0) {
		if ((ip = intern(&a->strings, &a->arena, addr.s, addr.n)) ==
			NULL ||
		    (f = get_fail(a, &a->fail_addr, ip)) == NULL)
			return -1;
		count_fail(f, src, n, us);
	} else {
		ip = "";
	}
	if (user.n > 0) {
		if ((f = get_fail(a, &a->fail_user, user.s)) == NULL)
			return -1;
		count_fail(f, src, n, us);
		if (add_run(f, ip, src, n, us) == -1)
			return -1;
		/* read after the incident opened (another file's lines of
		 * the same second), yet before it: count the failures again */
		if ((u = audit_find_user(a, user.s)) != NULL &&
		    u->open != NULL && us <= u->open->start_us &&
		    audit_fails_before(a, u->open) == -1)
			return -1;
	}
	if (a->opts.svg != NULL && src == LP_AUTH_FRONT &&
	    audit_series_add(&a->fails, us / MINUTE_US, (uint32_t) n) == -1)
		return -1;
	return 1;
}

/* audit_fails_before - failed logins for inc's account before its start */
int
audit_fails_before(struct audit *a, struct audit_incident *inc)
{
	const char        *name = inc->user->name;
	size_t             n = strlen(name), i, j, k;
	struct audit_fail *f =
	    amap_get(&a->fail_user, name, n, amap_hash(name, n));
	uint64_t      hour[3] = { 0, 0, 0 }, day[3] = { 0, 0, 0 };
	int           best = 0, s;
	struct afrun *r;

	if (f == NULL)
		return 0;
	for (i = 0; i < f->nrun; i++) {
		r = &f->run[(f->headrun + i) % f->caprun];
		if (r->first_us > inc->start_us ||
		    r->last_us < inc->start_us - DAY_US)
			continue;
		day[r->src] += r->n;
		if (r->last_us >= inc->start_us - HOUR_US)
			hour[r->src] += r->n;
	}
	for (s = 1; s < 3; s++)
		if (day[s] > day[best])
			best = s;
	inc->fail_day = day[best];
	inc->fail_hour = hour[0] > hour[1] ? hour[0] : hour[1];
	if (hour[2] > inc->fail_hour)
		inc->fail_hour = hour[2];
	free(inc->fail_addrs);
	inc->fail_addrs = NULL;
	inc->nfail_addrs = 0;
	if (f->nrun == 0)
		return 0;
	if ((inc->fail_addrs = calloc(f->nrun, sizeof(*inc->fail_addrs))) ==
	    NULL)
		return -1;
	for (i = 0; i < f->nrun; i++) {
		r = &f->run[(f->headrun + i) % f->caprun];
		if (r->src != best || r->first_us > inc->start_us ||
		    r->last_us < inc->start_us - DAY_US || r->addr[0] == '\0')
			continue;
		for (j = 0; j < inc->nfail_addrs; j++)
			if (inc->fail_addrs[j].key == r->addr)
				break;
		if (j == inc->nfail_addrs) {
			inc->fail_addrs[j].key = r->addr;
			inc->nfail_addrs++;
		}
		inc->fail_addrs[j].n += r->n;
	}
	/* most first; few entries, insertion sort */
	for (i = 1; i < inc->nfail_addrs; i++) {
		struct audit_tally t = inc->fail_addrs[i];

		for (k = i; k > 0 && inc->fail_addrs[k - 1].n < t.n; k--)
			inc->fail_addrs[k] = inc->fail_addrs[k - 1];
		inc->fail_addrs[k] = t;
	}
	return 0;
}

/* by_failures - most failures first, then by key */
static int
by_failures(const void *x, const void *y)
{
	const struct audit_fail *a = *(struct audit_fail *const *) x;
	const struct audit_fail *b = *(struct audit_fail *const *) y;
	uint64_t                 na = audit_fail_count(a);
	uint64_t                 nb = audit_fail_count(b);

	if (na != nb)
		return na > nb ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* audit_fails_sorted - failure records of map m, most first */
struct audit_fail **
audit_fails_sorted(const struct amap *m, size_t *n)
{
	struct audit_fail **v;
	size_t              i, k = 0;

	*n = 0;
	if ((v = calloc(m->used + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < m->cap; i++)
		if (m->slot[i].hash != 0)
			v[k++] = m->slot[i].val;
	qsort(v, k, sizeof(*v), by_failures);
	*n = k;
	return v;
}

/* audit_fails_free - the records of a failure map, and the map */
void
audit_fails_free(struct amap *m)
{
	struct audit_fail *f;
	size_t             i;

	for (i = 0; i < m->cap; i++)
		if (m->slot[i].hash != 0) {
			f = m->slot[i].val;
			free(f->run);
			free(f);
		}
	amap_free(m);
}
