/*
 * netset.c - a small set of recently seen keys with expiry
 *
 * Most accounts use one network, so one entry lives inline in the struct
 * and costs no allocation.  A second distinct key moves the set to a heap
 * array that grows by doubling up to NETSET_MAX; when pruning leaves at
 * most one entry, the array is freed and the set goes back inline.
 * Lookups are linear: the set is small.
 *
 * An entry is live at now when its time is in (now - window, now]; an entry
 * seen "in the future" (the clock went backwards) stays live, which can
 * only make counts higher.
 *
 * Thread safety: none; the caller locks.
 * Tests: tests/test_netset.c
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netset.h"
#include "window.h"

#define NETSET_FIRST_CAP 4

/* live - 1 when an entry seen at seen is inside (now - window, now] */
static int
live(uint32_t seen, uint32_t window, uint32_t now)
{
	return seen > now || now - seen < window;
}

/* entries - the entry array of s (inline or heap) */
static struct netent *
entries(struct netset *s)
{
	return s->cap == 0 ? &s->u.one : s->u.many;
}

/* netset_init - an empty set */
void
netset_init(struct netset *s)
{
	memset(s, 0, sizeof(*s));
}

/* netset_free - release storage; the set is empty afterwards */
void
netset_free(struct netset *s)
{
	if (s == NULL)
		return;
	if (s->cap > 0)
		free(s->u.many);
	netset_init(s);
}

/*
 * netset_count - distinct keys seen in (now - window, now], plus key when it
 * is not among them (key may be NULL); does not change the set
 */
uint32_t
netset_count(
    const struct netset *s, const uint64_t *key, uint32_t window, time_t now)
{
	const struct netent *e = s->cap == 0 ? &s->u.one : s->u.many;
	uint32_t             t = window_clock(now), n = 0;
	int                  found = 0;
	size_t               i;

	for (i = 0; i < s->n; i++) {
		if (!live(e[i].seen, window, t))
			continue;
		n++;
		if (key != NULL && e[i].key == *key)
			found = 1;
	}
	if (key != NULL && !found)
		n++;
	return n;
}

/* prune - drop entries that are not live; go inline when one is left */
static void
prune(struct netset *s, uint32_t window, uint32_t t)
{
	struct netent *e = entries(s), keep;
	size_t         i, n = 0;

	for (i = 0; i < s->n; i++)
		if (live(e[i].seen, window, t))
			e[n++] = e[i];
	s->n = (uint16_t) n;
	if (s->cap > 0 && n <= 1) {
		memset(&keep, 0, sizeof(keep));
		if (n == 1)
			keep = e[0];
		free(s->u.many);
		s->cap = 0;
		s->u.one = keep;
	} else if (s->cap == 0 && n == 0) {
		memset(&s->u.one, 0, sizeof(s->u.one));
	}
}

/* grow - make room for one more entry; -1 on ENOMEM */
static int
grow(struct netset *s)
{
	struct netent *many;
	size_t         cap;

	if (s->cap == 0) {
		if (s->n == 0)
			return 0;
		if ((many = calloc(NETSET_FIRST_CAP, sizeof(*many))) == NULL)
			return -1;
		many[0] = s->u.one;
		s->u.many = many;
		s->cap = NETSET_FIRST_CAP;
		return 0;
	}
	if (s->n < s->cap || s->cap >= NETSET_MAX)
		return 0;
	cap =
	    (size_t) s->cap * 2 > NETSET_MAX ? NETSET_MAX : (size_t) s->cap * 2;
	if ((many = realloc(s->u.many, cap * sizeof(*many))) == NULL)
		return -1;
	s->u.many = many;
	s->cap = (uint16_t) cap;
	return 0;
}

/*
 * netset_touch - record key as seen at now, pruning entries older than
 * window; -1 on ENOMEM (the set is then pruned but otherwise unchanged)
 *
 * A full set replaces its least recently seen entry.  A key seen again
 * keeps the later of its two times.
 */
int
netset_touch(struct netset *s, uint64_t key, uint32_t window, time_t now)
{
	uint32_t       t = window_clock(now);
	struct netent *e;
	size_t         i, old;

	prune(s, window, t);
	e = entries(s);
	for (i = 0; i < s->n; i++) {
		if (e[i].key == key) {
			if (t > e[i].seen)
				e[i].seen = t;
			return 0;
		}
	}
	if (s->n >= NETSET_MAX) {
		for (old = 0, i = 1; i < s->n; i++)
			if (e[i].seen < e[old].seen)
				old = i;
		e[old].key = key;
		e[old].seen = t;
		return 0;
	}
	if (grow(s) == -1)
		return -1;
	e = entries(s);
	e[s->n].key = key;
	e[s->n].seen = t;
	s->n++;
	return 0;
}

/* netset_get - entry i (0 <= i < s->n), or NULL outside that */
const struct netent *
netset_get(const struct netset *s, size_t i)
{
	if (i >= s->n)
		return NULL;
	return s->cap == 0 ? &s->u.one : &s->u.many[i];
}
