/*
 * audit_map.c - hash map, hash set, string arena and interning for the
 * audit
 *
 * The audit looks up a queue ID for nearly every line it uses, so the map
 * is the plain, fast kind: open addressing with linear probing, the hash
 * stored in the slot (0 means empty), and backward-shift deletion so the
 * churn of queue IDs leaves no tombstones behind.  Keys are not copied:
 * the value owns its key, or the key is an interned string.
 *
 * audit_value() turns a span of a log line into a bounded C string,
 * decoding saslguard's percent-escapes.
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

#define ARENA_CHUNK 65536

struct arena_chunk {
	struct arena_chunk *next;
	size_t              used, cap;
	char                data[];
};

/*
 * amap_hash - 64-bit hash of key[0..n), eight bytes a step; never 0
 *
 * One multiply per word and a final avalanche: keys are short (queue
 * IDs, addresses) and hashed for nearly every line.
 */
uint64_t
amap_hash(const char *key, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL * (n + 1), w;
	size_t   i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (i < n) {
		/* the tail: the last eight bytes again when there are eight
		 * (no variable-length copy, which is a call) */
		w = 0;
		if (n >= 8)
			memcpy(&w, key + n - 8, 8);
		else
			for (; i < n; i++)
				w = w << 8 | (unsigned char) key[i];
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h == 0 ? 1 : h;
}

/* amap_get - the value stored under key, or NULL */
void *
amap_get(const struct amap *m, const char *key, size_t n, uint64_t h)
{
	size_t i, mask;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask; m->slot[i].hash != 0; i = (i + 1) & mask)
		if (m->slot[i].hash == h && m->slot[i].klen == n &&
		    akey_eq(m->slot[i].key, key, n))
			return m->slot[i].val;
	return NULL;
}

/* grow - double the table (or make the first one) */
static int
grow(struct amap *m)
{
	struct amap_slot *old = m->slot, *s;
	size_t            oldcap = m->cap, i, j, cap;

	cap = oldcap == 0 ? 16 : oldcap * 2;
	if ((s = calloc(cap, sizeof(*s))) == NULL)
		return -1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].hash == 0)
			continue;
		for (j = old[i].hash & (cap - 1); s[j].hash != 0;
		     j = (j + 1) & (cap - 1))
			;
		s[j] = old[i];
	}
	free(old);
	m->slot = s;
	m->cap = cap;
	return 0;
}

/* amap_put - store val under key, replacing any value; -1 on ENOMEM */
int
amap_put(struct amap *m, const char *key, size_t n, uint64_t h, void *val)
{
	size_t i, mask;

	if ((m->used + 1) * 4 > m->cap * 3 && grow(m) == -1)
		return -1;
	mask = m->cap - 1;
	for (i = h & mask; m->slot[i].hash != 0; i = (i + 1) & mask) {
		if (m->slot[i].hash == h && m->slot[i].klen == n &&
		    akey_eq(m->slot[i].key, key, n)) {
			m->slot[i].key = key;
			m->slot[i].val = val;
			return 0;
		}
	}
	m->slot[i].hash = h;
	m->slot[i].key = key;
	m->slot[i].klen = n;
	m->slot[i].val = val;
	m->used++;
	return 0;
}

/* amap_del - remove key, shifting later slots of its cluster back */
void
amap_del(struct amap *m, const char *key, size_t n, uint64_t h)
{
	size_t i, j, k, mask;

	if (m->cap == 0)
		return;
	mask = m->cap - 1;
	for (i = h & mask; m->slot[i].hash != 0; i = (i + 1) & mask)
		if (m->slot[i].hash == h && m->slot[i].klen == n &&
		    akey_eq(m->slot[i].key, key, n))
			break;
	if (m->slot[i].hash == 0)
		return;
	for (j = (i + 1) & mask; m->slot[j].hash != 0; j = (j + 1) & mask) {
		k = m->slot[j].hash & mask;
		/* move j back to i unless its home lies in (i, j] */
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && k <= i && k > j)) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	memset(&m->slot[i], 0, sizeof(m->slot[i]));
	m->used--;
}

/* amap_free - the table (not the keys or values) */
void
amap_free(struct amap *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/* aset_add - add h; returns 1 when new, 0 when present, -1 on ENOMEM */
int
aset_add(struct aset *s, uint64_t h)
{
	uint64_t *v;
	size_t    i, j, cap;

	if (h == 0)
		h = 1;
	if ((s->used + 1) * 4 > s->cap * 3) {
		cap = s->cap == 0 ? 16 : s->cap * 2;
		if ((v = calloc(cap, sizeof(*v))) == NULL)
			return -1;
		for (i = 0; i < s->cap; i++) {
			if (s->v[i] == 0)
				continue;
			for (j = s->v[i] & (cap - 1); v[j] != 0;
			     j = (j + 1) & (cap - 1))
				;
			v[j] = s->v[i];
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	for (i = h & (s->cap - 1); s->v[i] != 0; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			return 0;
	s->v[i] = h;
	s->used++;
	return 1;
}

/* aset_free - the set's memory */
void
aset_free(struct aset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* arena_strndup - a NUL-terminated copy of s[0..n) in the arena */
char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t              cap;
	char               *p;

	if (c == NULL || c->cap - c->used < n + 1) {
		cap = n + 1 > ARENA_CHUNK / 2 ? n + 1 : ARENA_CHUNK;
		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		if (a->head != NULL && n + 1 > ARENA_CHUNK / 2) {
			/* a big string: keep filling the current chunk */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

/* arena_free - every string of the arena */
void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* intern - the one arena copy of s[0..n), found or made; NULL on ENOMEM */
const char *
intern(struct amap *m, struct arena *a, const char *s, size_t n)
{
	uint64_t h = amap_hash(s, n);
	char    *p;

	if ((p = amap_get(m, s, n, h)) != NULL)
		return p;
	if ((p = arena_strndup(a, s, n)) == NULL)
		return NULL;
	if (amap_put(m, p, n, h, p) == -1)
		return NULL;
	return p;
}

/* audit_value - span s as a C string, percent-decoded when escaped */
void
audit_value(struct audit_value *v, struct lp_span s, int escaped)
{
	char   raw[sizeof(v->s)];
	size_t n = s.n < sizeof(raw) - 1 ? s.n : sizeof(raw) - 1;
	int    k;

	if (n > 0)
		memcpy(raw, s.p, n);
	raw[n] = '\0';
	if (escaped && memchr(raw, '%', n) != NULL &&
	    (k = unescape_value(v->s, sizeof(v->s), raw)) >= 0) {
		v->n = (size_t) k;
		return;
	}
	memcpy(v->s, raw, n + 1);
	v->n = n;
}
