/*
 * netset.h - a small set of recently seen keys with expiry
 *
 * Holds the distinct 64-bit keys (client networks, sender hashes) an
 * account used, each with the time it was last seen.  Entries older than
 * the window passed by the caller are pruned when the set is touched; the
 * set is capped at NETSET_MAX entries (the least recently seen is dropped
 * first, which can only make a count lower than max+1 when max >= NETSET_MAX,
 * so limits are validated to stay below it).  A set of one key does not
 * allocate.
 *
 * Thread safety: none; the caller locks.
 * Tests: tests/test_netset.c
 */
#ifndef SASLGUARD_NETSET_H
#define SASLGUARD_NETSET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NETSET_MAX 64

struct netent {
	uint64_t key;
	uint32_t seen;		/* time last seen (seconds since the epoch) */
};

struct netset {
	uint16_t n;		/* entries in use */
	uint16_t cap;		/* allocated entries in e.many; 0 = inline */
	union {
		struct netent  one;	/* when cap == 0 and n <= 1 */
		struct netent *many;	/* owned when cap > 0 */
	} u;
};

/* netset_init - an empty set */
void	netset_init(struct netset *s);

/* netset_free - release storage; the set is empty afterwards */
void	netset_free(struct netset *s);

/*
 * netset_count - distinct keys seen in (now - window, now], plus key when it
 * is not among them (key may be NULL); does not change the set
 */
uint32_t netset_count(const struct netset *s, const uint64_t *key,
	    uint32_t window, time_t now);

/* netset_touch - record key as seen at now, pruning entries older than window; -1 on ENOMEM */
int	netset_touch(struct netset *s, uint64_t key, uint32_t window, time_t now);

/* netset_get - entry i (0 <= i < s->n) */
const struct netent *netset_get(const struct netset *s, size_t i);

#endif
