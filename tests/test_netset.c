/*
 * test_netset.c - tests for common/netset.c
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "netset.h"

#define T0 ((time_t) 1700000000)
#define W  3600u

/* has_key - 1 when key is an entry of s */
static int
has_key(const struct netset *s, uint64_t key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (netset_get(s, i)->key == key)
			return 1;
	return 0;
}

Test(netset, empty_set_counts_only_the_candidate)
{
	struct netset s;
	uint64_t      k = 7;

	netset_init(&s);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(netset_count(&s, NULL, W, T0), 0);
	cr_assert_eq(netset_count(&s, &k, W, T0), 1);
	cr_assert_null(netset_get(&s, 0));
	netset_free(&s);
}

Test(netset, single_key_stays_inline)
{
	struct netset s;
	int           i;

	netset_init(&s);
	for (i = 0; i < 10; i++)
		cr_assert_eq(netset_touch(&s, 42, W, T0 + i), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.cap, 0);
	cr_assert_eq(netset_get(&s, 0)->key, 42);
	cr_assert_eq(netset_get(&s, 0)->seen, (uint32_t) (T0 + 9));
	netset_free(&s);
}

Test(netset, struct_stays_small)
{
	cr_assert_leq(sizeof(struct netset), 24);
}

Test(netset, distinct_keys_are_counted_once_each)
{
	struct netset s;
	uint64_t      k1 = 1, k3 = 3;

	netset_init(&s);
	cr_assert_eq(netset_touch(&s, 1, W, T0), 0);
	cr_assert_eq(netset_touch(&s, 2, W, T0 + 1), 0);
	cr_assert_eq(netset_touch(&s, 1, W, T0 + 2), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_gt(s.cap, 0);
	cr_assert_eq(netset_count(&s, NULL, W, T0 + 2), 2);
	cr_assert_eq(netset_count(&s, &k1, W, T0 + 2), 2);
	cr_assert_eq(netset_count(&s, &k3, W, T0 + 2), 3);
	netset_free(&s);
}

Test(netset, entry_at_now_minus_window_is_expired)
{
	struct netset s;
	uint64_t      k1 = 1;

	netset_init(&s);
	netset_touch(&s, 1, W, T0);
	netset_touch(&s, 2, W, T0 + 10);
	cr_assert_eq(netset_count(&s, NULL, W, T0 + W - 1), 2);
	cr_assert_eq(netset_count(&s, NULL, W, T0 + W), 1);
	/* counting does not change the set */
	cr_assert_eq(s.n, 2);
	/* a stale key offered as candidate counts once, as new */
	cr_assert_eq(netset_count(&s, &k1, W, T0 + W), 2);
	netset_free(&s);
}

Test(netset, touch_prunes_and_returns_inline)
{
	struct netset s;

	netset_init(&s);
	netset_touch(&s, 1, W, T0);
	netset_touch(&s, 2, W, T0 + 1);
	netset_touch(&s, 3, W, T0 + 2);
	cr_assert_gt(s.cap, 0);
	cr_assert_eq(netset_touch(&s, 3, W, T0 + 2 + W - 1), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.cap, 0);
	cr_assert_eq(netset_get(&s, 0)->key, 3);
	cr_assert_eq(netset_touch(&s, 9, W, T0 + 3 * W), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.cap, 0);
	cr_assert_eq(netset_get(&s, 0)->key, 9);
	netset_free(&s);
}

Test(netset, full_set_drops_least_recently_seen)
{
	struct netset s;
	uint64_t      k;

	netset_init(&s);
	for (k = 0; k < NETSET_MAX; k++)
		cr_assert_eq(netset_touch(&s, k, W, T0 + (time_t) k), 0);
	cr_assert_eq(s.n, NETSET_MAX);
	/* refresh key 0: key 1 is now the least recently seen */
	netset_touch(&s, 0, W, T0 + 100);
	netset_touch(&s, 1000, W, T0 + 101);
	cr_assert_eq(s.n, NETSET_MAX);
	cr_assert(has_key(&s, 0));
	cr_assert(!has_key(&s, 1));
	cr_assert(has_key(&s, 1000));
	cr_assert(has_key(&s, 2));
	for (k = 2000; k < 2100; k++)
		netset_touch(&s, k, W, T0 + 200 + (time_t) k);
	cr_assert_eq(s.n, NETSET_MAX);
	for (k = 2100 - NETSET_MAX; k < 2100; k++)
		cr_assert(has_key(&s, k), "key %llu", (unsigned long long) k);
	cr_assert_eq(netset_count(&s, NULL, W, T0 + 2400), NETSET_MAX);
	netset_free(&s);
}

Test(netset, clock_going_backwards_keeps_later_time)
{
	struct netset s;

	netset_init(&s);
	netset_touch(&s, 5, W, T0 + 100);
	netset_touch(&s, 5, W, T0);
	cr_assert_eq(netset_get(&s, 0)->seen, (uint32_t) (T0 + 100));
	/* an entry from the "future" stays counted */
	cr_assert_eq(netset_count(&s, NULL, W, T0 - 5000), 1);
	netset_touch(&s, 6, W, T0 - 5000);
	cr_assert(has_key(&s, 5));
	cr_assert_eq(s.n, 2);
	netset_free(&s);
}

Test(netset, get_outside_range_is_null)
{
	struct netset s;

	netset_init(&s);
	netset_touch(&s, 1, W, T0);
	netset_touch(&s, 2, W, T0);
	cr_assert_not_null(netset_get(&s, 1));
	cr_assert_null(netset_get(&s, 2));
	netset_free(&s);
}

Test(netset, free_empties_and_accepts_null)
{
	struct netset s;

	netset_free(NULL);
	netset_init(&s);
	netset_touch(&s, 1, W, T0);
	netset_touch(&s, 2, W, T0);
	netset_free(&s);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(s.cap, 0);
	cr_assert_eq(netset_touch(&s, 3, W, T0), 0);
	cr_assert_eq(s.n, 1);
	netset_free(&s);
}

Test(netset, random_touches_match_reference_model)
{
	struct netset s;
	uint32_t      seen[40];
	int           used[40];
	uint64_t      x = 88172645463325252ULL;
	time_t        now = T0;
	int           step;
	size_t        i;

	memset(used, 0, sizeof(used));
	netset_init(&s);
	for (step = 0; step < 20000; step++) {
		uint64_t k, cand;
		uint32_t want = 0;
		int      cand_live = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		now += (time_t) (x >> 50) % 200;
		k = (x >> 8) % 40;
		cand = (x >> 20) % 45;
		for (i = 0; i < 40; i++) {
			if (used[i] && (uint32_t) now - seen[i] < W) {
				want++;
				if (i == cand)
					cand_live = 1;
			}
		}
		cr_assert_eq(
		    netset_count(&s, NULL, W, now), want, "step %d", step);
		cr_assert_eq(netset_count(&s, &cand, W, now),
		    want + (cand_live ? 0 : 1), "step %d", step);
		cr_assert_eq(netset_touch(&s, k, W, now), 0);
		used[k] = 1;
		seen[k] = (uint32_t) now;
		cr_assert_leq(s.n, 40);
	}
	netset_free(&s);
}
