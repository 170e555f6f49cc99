/*
 * fuzz_journal.c - libFuzzer target: the journal's line checker
 *
 * The verifier reads files an intruder may have written, so every byte
 * sequence must give an answer, not a crash: the input goes through
 * journal_verify_stream() as a file of lines.  It is also used as the
 * user and a field value of a formatted line, which must come out as
 * exactly one line that parses and verifies.
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - abort with a message when a property fails */
static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_journal: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_verify v;
	struct journal_chain  c;
	struct journal_line   l;
	struct journal_field  f[2];
	char                 *s, *line, err[256];
	uint64_t              n, bad;
	FILE                 *fp;
	int                   len;

	if (size > 0 && (fp = fmemopen((void *) data, size, "r")) != NULL) {
		journal_verify_init(&v, data[0] & 1);
		(void) journal_verify_stream(
		    &v, fp, &n, &bad, err, sizeof(err));
		fclose(fp);
	}

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((line = malloc(JOURNAL_LINE_MAX + 1)) == NULL) {
		free(s);
		return 0;
	}
	f[0].key = "reason";
	f[0].str = s;
	f[0].num = 0;
	f[1].key = "count";
	f[1].str = NULL;
	f[1].num = (int64_t) size * -7;
	journal_chain_init(&c);
	len = journal_format(line, JOURNAL_LINE_MAX + 1, &c, 1795834634,
	    JOURNAL_FLAG, s, f, 2, &c, err, sizeof(err));
	if (len > 0) {
		check(memchr(line, '\n', (size_t) len) == line + len - 1,
		    "formatted line is not one line");
		check(journal_line_parse(
			  line, (size_t) len - 1, &l, err, sizeof(err)) == 0,
		    "formatted line does not parse");
		journal_verify_init(&v, 0);
		check(journal_verify_line(
			  &v, line, (size_t) len - 1, err, sizeof(err)) == 0,
		    "formatted line does not verify");
		check(c.seq == 1, "chain did not advance");
	}
	free(line);
	free(s);
	return 0;
}
