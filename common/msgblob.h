/*
 * msgblob.h - passed messages packed side by side into one byte string
 *
 * The store keeps a message that passed (not held, still queued) in a
 * blob of such records, as a rule one blob per arrival second and
 * commit, instead of one row each: a row costs the writer a B-tree insert in the table
 * and another in its key, a record in a blob costs a copy.  A record:
 *
 *   u8  length, queue ID (1 .. STORE_QID_SIZE - 1 bytes)
 *   u16 length, user     (1 .. STORE_USER_SIZE - 1)
 *   u16 length, sender   (0 .. STORE_USER_SIZE - 1)
 *   u8  length, client   (0 .. STORE_CLIENT_SIZE - 1)
 *   u32 recipients
 *   i64 arrival
 *   i64 recorded
 *
 * integers little-endian, text without its NUL (and never holding one).
 * A record decodes to a struct store_msg with held 0 and state queued.
 *
 * Errors: msgblob_add refuses a message that is not a passed one or does
 * not fit the format, and fails on ENOMEM; msgblob_next refuses any blob
 * that is cut short or breaks a rule above, so a damaged row is an error,
 * never a wrong record.
 *
 * Thread safety: none; a struct msgblob belongs to its caller.
 * Tests: tests/test_msgblob.c; fuzz/fuzz_msgblob.c
 */
#ifndef SASLGUARD_MSGBLOB_H
#define SASLGUARD_MSGBLOB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

/* the largest record: the fixed part and each text at its longest */
#define MSGBLOB_RECORD_MAX                                                     \
	(1 + 2 + 2 + 1 + 4 + 8 + 8 + (STORE_QID_SIZE - 1) +                   \
	    2 * (STORE_USER_SIZE - 1) + (STORE_CLIENT_SIZE - 1))

struct msgblob {
	unsigned char *buf;      /* owned; len bytes of records */
	size_t         len;
	size_t         cap;
	uint32_t       n;        /* records */
	time_t         arrival;  /* of the first record added */
	time_t         recorded; /* the latest of the records' */
};

/* msgblob_init - an empty blob */
void	msgblob_init(struct msgblob *b);

/* msgblob_reset - empty b, keeping its buffer */
void	msgblob_reset(struct msgblob *b);

/* msgblob_free - release b's buffer; b is empty again */
void	msgblob_free(struct msgblob *b);

/*
 * msgblob_add - append m (held 0, state STORE_QUEUED, texts that fit);
 * 0, or -1 when m cannot be packed (errno EINVAL) or memory ran out
 */
int	msgblob_add(struct msgblob *b, const struct store_msg *m);

/*
 * msgblob_next - decode the record at *off of the len bytes at p into *m
 * and move *off past it; 1 a record, 0 at the end, -1 a damaged blob
 */
int	msgblob_next(const unsigned char *p, size_t len, size_t *off,
	    struct store_msg *m);

#endif
