/*
 * fuzz_queueid.c - libFuzzer target: queue-ID validation
 *
 * Every queue ID that reaches postsuper has passed these functions, so
 * they must agree with each other: queueid_form() on the bytes,
 * queueid_valid() on the same bytes as a string, queueid_long_time() only
 * for long IDs (it refuses those whose seconds do not fit a time_t), and
 * the list formatter, which must accept exactly the valid
 * IDs and write only them.
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queueid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort with a message when a property fails */
static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_queueid: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum queueid_form form;
	const char       *ids[2];
	char             *s, list[2 * (QUEUEID_MAX + 2)];
	time_t            sec;
	long              n;
	int               valid;

	form = (enum queueid_form) queueid_fuzz(data, size);
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	valid = queueid_valid(s);
	if (memchr(data, '\0', size) == NULL)
		check(valid == (form != QUEUEID_INVALID),
		    "queueid_valid and queueid_form disagree");
	if (valid)
		check(strlen(s) <= QUEUEID_MAX, "valid ID longer than the max");
	/* a valid long ID may still carry seconds past time_t: -1 */
	if (queueid_long_time(s, &sec) == 0)
		check(valid && queueid_form(s, strlen(s)) == QUEUEID_LONG &&
			  sec >= 0,
		    "queueid_long_time accepts what is not a long ID");

	ids[0] = s;
	ids[1] = "5F266A72241";
	n = queueid_list_format(list, sizeof(list), ids, 2);
	check((n >= 0) == (valid != 0), "list format accepts an invalid ID");
	if (n >= 0)
		check((size_t) n == strlen(s) + 1 + 12 &&
			  memcmp(list, s, strlen(s)) == 0 &&
			  list[strlen(s)] == '\n',
		    "list format wrote something else");
	free(s);
	return 0;
}
