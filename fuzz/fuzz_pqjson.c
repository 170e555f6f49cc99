/*
 * fuzz_pqjson.c - libFuzzer target: one line of "postqueue -j" output
 *
 * pqjson_fuzz() runs the parser on the input; a line that parses must
 * yield NUL-terminated fields and a queue ID that queueid_valid() accepts.
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pqjson.h"
#include "queueid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pq_msg m;
	char          err[128];

	(void) pqjson_fuzz(data, size);
	if (pq_parse_line((const char *) data, size, &m, err, sizeof(err)) ==
	    -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	if (memchr(m.queue_name, '\0', sizeof(m.queue_name)) == NULL ||
	    memchr(m.sender, '\0', sizeof(m.sender)) == NULL ||
	    !queueid_valid(m.queue_id) || m.ndelayed > m.nrcpt) {
		fprintf(stderr, "fuzz_pqjson: accepted an invalid message\n");
		abort();
	}
	return 0;
}
