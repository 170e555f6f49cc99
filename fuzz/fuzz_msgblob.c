/*
 * fuzz_msgblob.c - libFuzzer target: decoding of passed-message blobs
 *
 * The store reads these blobs back from its file.  Whatever the bytes,
 * msgblob_next must stay inside them and either stop with an error or
 * return records whose texts fit their arrays; and the format has one
 * spelling only, so the records it returns must pack again into exactly
 * the bytes they were read from.
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgblob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort with a message when a property fails */
static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_msgblob: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgblob   b;
	struct store_msg m;
	size_t           off = 0, before;
	int              rc;

	msgblob_init(&b);
	for (;;) {
		before = off;
		rc = msgblob_next(data, size, &off, &m);
		check(rc >= -1 && rc <= 1, "unknown answer");
		if (rc != 1) {
			check(off == before, "moved on without a record");
			break;
		}
		check(off > before && off <= size, "position out of the blob");
		check(strlen(m.queue_id) > 0 &&
			  strlen(m.queue_id) < sizeof(m.queue_id) &&
			  strlen(m.user) > 0 && strlen(m.user) < sizeof(m.user) &&
			  strlen(m.sender) < sizeof(m.sender) &&
			  strlen(m.client) < sizeof(m.client),
		    "a text that does not fit");
		check(msgblob_add(&b, &m) == 0, "a decoded record is refused");
	}
	check(rc == -1 || off == size, "stopped inside the blob");
	check(b.len == off && (off == 0 || memcmp(b.buf, data, off) == 0),
	    "records do not pack back into their bytes");
	msgblob_free(&b);
	return 0;
}
