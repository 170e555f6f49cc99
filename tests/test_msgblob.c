/*
 * test_msgblob.c - tests for common/msgblob.c
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "msgblob.h"

static struct store_msg
passed(const char *qid, const char *user, time_t arrival)
{
	struct store_msg m;

	memset(&m, 0, sizeof(m));
	(void) snprintf(m.queue_id, sizeof(m.queue_id), "%s", qid);
	(void) snprintf(m.user, sizeof(m.user), "%s", user);
	(void) snprintf(m.sender, sizeof(m.sender), "%s", user);
	(void) snprintf(m.client, sizeof(m.client), "192.0.2.7");
	m.nrcpt = 3;
	m.arrival = arrival;
	m.recorded = arrival + 1;
	m.state = STORE_QUEUED;
	return m;
}

static void
assert_same(const struct store_msg *a, const struct store_msg *b)
{
	cr_assert_str_eq(a->queue_id, b->queue_id);
	cr_assert_str_eq(a->user, b->user);
	cr_assert_str_eq(a->sender, b->sender);
	cr_assert_str_eq(a->client, b->client);
	cr_assert_eq(a->nrcpt, b->nrcpt);
	cr_assert_eq(a->arrival, b->arrival);
	cr_assert_eq(a->recorded, b->recorded);
	cr_assert_eq(b->held, 0);
	cr_assert_eq(b->state, STORE_QUEUED);
}

/* the bytes of one record, field by field, little-endian */
Test(msgblob, record_layout_is_fixed)
{
	struct msgblob   b;
	struct store_msg m = passed("4AB", "al", 0x0102030405060708LL);
	const unsigned char want[] = { 3, '4', 'A', 'B', 2, 0, 'a', 'l', 0, 0,
		1, '1', 0x10, 0x20, 0x30, 0x40, 0x08, 0x07, 0x06, 0x05, 0x04,
		0x03, 0x02, 0x01, 0x09, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02,
		0x01 };

	m.sender[0] = '\0';
	(void) snprintf(m.client, sizeof(m.client), "1");
	m.nrcpt = 0x40302010u;
	m.recorded = m.arrival + 1;
	msgblob_init(&b);
	cr_assert_eq(msgblob_add(&b, &m), 0);
	cr_assert_eq(b.len, sizeof(want));
	cr_assert_eq(memcmp(b.buf, want, sizeof(want)), 0);
	msgblob_free(&b);
}

Test(msgblob, records_come_back_as_they_went_in)
{
	struct msgblob   b;
	struct store_msg m[300], r;
	size_t           off = 0, i;
	char             q[16];

	msgblob_init(&b);
	for (i = 0; i < 300; i++) {
		(void) snprintf(q, sizeof(q), "Q%zu", i);
		m[i] = passed(q, i % 2 ? "bob@example.org" : "a@example.org",
		    -5 + (time_t) i);
		m[i].nrcpt = (uint32_t) i * 1000003u;
		cr_assert_eq(msgblob_add(&b, &m[i]), 0);
	}
	cr_assert_eq(b.n, 300);
	cr_assert_eq(b.arrival, -5);
	cr_assert_eq(b.recorded, 295);
	for (i = 0; i < 300; i++) {
		cr_assert_eq(msgblob_next(b.buf, b.len, &off, &r), 1);
		assert_same(&m[i], &r);
	}
	cr_assert_eq(msgblob_next(b.buf, b.len, &off, &r), 0);
	cr_assert_eq(off, b.len);
	/* reset keeps the buffer for the next group */
	msgblob_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.n, 0);
	cr_assert_not_null(b.buf);
	msgblob_free(&b);
	cr_assert_null(b.buf);
}

/* every text at its longest still fits, and MSGBLOB_RECORD_MAX holds it */
Test(msgblob, longest_texts_fit)
{
	struct msgblob   b;
	struct store_msg m = passed("Q", "u", 1), r;
	size_t           off = 0;

	memset(m.queue_id, 'q', sizeof(m.queue_id) - 1);
	memset(m.user, 'u', sizeof(m.user) - 1);
	memset(m.sender, 's', sizeof(m.sender) - 1);
	memset(m.client, 'c', sizeof(m.client) - 1);
	msgblob_init(&b);
	cr_assert_eq(msgblob_add(&b, &m), 0);
	cr_assert_eq(b.len, MSGBLOB_RECORD_MAX);
	cr_assert_eq(msgblob_next(b.buf, b.len, &off, &r), 1);
	assert_same(&m, &r);
	msgblob_free(&b);
}

/* only a passed message with texts that end in their arrays is packed */
Test(msgblob, add_refuses_what_is_not_a_passed_message)
{
	struct msgblob   b;
	struct store_msg m[6];
	size_t           i;

	for (i = 0; i < 6; i++)
		m[i] = passed("Q1", "alice@example.org", 100);
	m[0].held = 1;
	m[1].state = STORE_DELETED;
	m[2].queue_id[0] = '\0';
	m[3].user[0] = '\0';
	memset(m[4].user, 'u', sizeof(m[4].user)); /* no NUL */
	memset(m[5].client, 'c', sizeof(m[5].client));
	msgblob_init(&b);
	for (i = 0; i < 6; i++) {
		errno = 0;
		cr_assert_eq(msgblob_add(&b, &m[i]), -1, "message %zu", i);
		cr_assert_eq(errno, EINVAL);
	}
	cr_assert_eq(b.n, 0);
	cr_assert_eq(b.len, 0);
	msgblob_free(&b);
}

/* a blob cut anywhere inside a record is damaged, not a shorter record */
Test(msgblob, cut_short_is_damaged_at_every_length)
{
	struct msgblob   b;
	struct store_msg m = passed("4AB", "alice@example.org", 100), r;
	size_t           len, off;

	msgblob_init(&b);
	cr_assert_eq(msgblob_add(&b, &m), 0);
	for (len = 1; len < b.len; len++) {
		off = 0;
		cr_assert_eq(msgblob_next(b.buf, len, &off, &r), -1, "%zu", len);
		cr_assert_eq(off, 0);
	}
	off = 0;
	cr_assert_eq(msgblob_next(b.buf, 0, &off, &r), 0);
	msgblob_free(&b);
}

/* lengths past a field, empty keys and NULs inside a text are refused */
Test(msgblob, bad_fields_are_damaged)
{
	struct msgblob   b;
	struct store_msg m = passed("4AB", "al", 100), r;
	unsigned char    bad[128];
	size_t           off;

	msgblob_init(&b);
	cr_assert_eq(msgblob_add(&b, &m), 0);
	cr_assert_lt(b.len, sizeof(bad));

	/* queue ID of 32 bytes (the array holds 31 and the NUL) */
	memcpy(bad, b.buf, b.len);
	bad[0] = STORE_QID_SIZE;
	off = 0;
	cr_assert_eq(msgblob_next(bad, b.len, &off, &r), -1);
	/* empty queue ID */
	bad[0] = 0;
	off = 0;
	cr_assert_eq(msgblob_next(bad, b.len, &off, &r), -1);
	/* user length 0x0141 = 321 */
	memcpy(bad, b.buf, b.len);
	bad[4] = 0x41;
	bad[5] = 0x01;
	off = 0;
	cr_assert_eq(msgblob_next(bad, b.len, &off, &r), -1);
	/* a NUL inside the user */
	memcpy(bad, b.buf, b.len);
	bad[7] = '\0';
	off = 0;
	cr_assert_eq(msgblob_next(bad, b.len, &off, &r), -1);
	/* as it was: fine */
	memcpy(bad, b.buf, b.len);
	off = 0;
	cr_assert_eq(msgblob_next(bad, b.len, &off, &r), 1);
	msgblob_free(&b);
}
