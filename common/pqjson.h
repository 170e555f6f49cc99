/*
 * pqjson.h - one line of "postqueue -j" output into a struct pq_msg
 *
 * postqueue -j writes one JSON object per line (postqueue(1), "JSON
 * OBJECT FORMAT"), e.g.
 *
 *   {"queue_name": "deferred", "queue_id": "58B5CA72751",
 *    "arrival_time": 1764298634, "message_size": 380,
 *    "forced_expire": false, "sender": "alice@example.test",
 *    "recipients": [{"address": "d1@ext.test",
 *                    "delay_reason": "connect to ...: Connection refused"}]}
 *
 * (on one line).  queue_name, queue_id, arrival_time and sender must be
 * present; message_size and recipients count as 0 when absent; members
 * not listed here are skipped, whatever their value, as postqueue(1)
 * asks.  A known member of the wrong type, a duplicate known member, a
 * queue_id that queueid_valid() refuses, a value longer than its field,
 * a string with \u0000 or a lone surrogate, or anything that is not one
 * well-formed JSON object (trailing whitespace allowed) is an error: the
 * caller skips the line and counts it.  Raw bytes >= 0x80 in strings are
 * kept as they are (Postfix passes 8-bit addresses through).
 *
 * The scanner allocates nothing, keeps no state between calls and nests
 * at most PQ_DEPTH_MAX arrays/objects deep.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_pqjson.c
 */
#ifndef SASLGUARD_PQJSON_H
#define SASLGUARD_PQJSON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PQ_DEPTH_MAX 16

struct pq_msg {
	char     queue_name[16]; /* hold, incoming, active, deferred, ... */
	char     queue_id[32];   /* valid by queueid_valid() */
	time_t   arrival;        /* arrival_time, seconds since the epoch */
	uint64_t size;           /* message_size */
	char     sender[321];    /* decoded; "" for the null sender */
	uint32_t nrcpt;          /* recipients still to deliver */
	uint32_t ndelayed;       /* of those, with a delay_reason */
	int      forced_expire;  /* 1 when true */
};

/*
 * pq_parse_line - one JSON object of len bytes (need not end in NUL)
 *
 * Returns 0 and fills m, or -1 with "offset N: what" in err (m is then
 * unspecified).
 */
int pq_parse_line(
    const char *line, size_t len, struct pq_msg *m, char *err, size_t errlen);

/* pqjson_fuzz - fuzzing entry point: pq_parse_line() on data; 0 or -1 */
int pqjson_fuzz(const uint8_t *data, size_t size);

#endif
