/*
 * verify.c - "saslguardctl audit --verify": check journal hash chains
 *
 * Reads each file named, in order, as one chain (a rotated journal is
 * given oldest first) and stops at the first line where the chain
 * breaks.  The checks and their limits are described in journal.h;
 * --continued accepts a first line that does not start a chain, for a
 * journal whose older files are gone.  File names are printed escaped
 * (escape.h), so a hostile name cannot forge output.
 *
 * Thread safety: single-threaded.
 * Tests: tests/test_verify.c
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "journal.h"
#include "verify.h"

#define NAME_MAX_ESC 1024

/* usage - the synopsis on stderr; returns 2 */
static int
usage(void)
{
	fprintf(stderr, "usage: saslguardctl audit --verify [--continued] "
			"JOURNAL...\n");
	return 2;
}

/* verify_main - verify [--continued] JOURNAL... */
int
verify_main(int argc, char *argv[])
{
	struct journal_verify v;
	char                  name[NAME_MAX_ESC], err[256];
	uint64_t              n, bad;
	FILE                 *fp;
	int                   i, first, continued = 0, rc;

	for (first = 1; first < argc; first++) {
		if (strcmp(argv[first], "--continued") == 0)
			continued = 1;
		else if (strcmp(argv[first], "--") == 0) {
			first++;
			break;
		} else if (strcmp(argv[first], "-h") == 0 ||
			   strcmp(argv[first], "--help") == 0) {
			(void) usage();
			return 0;
		} else if (argv[first][0] == '-' && argv[first][1] != '\0')
			return usage();
		else
			break;
	}
	if (first >= argc)
		return usage();

	journal_verify_init(&v, continued);
	for (i = first; i < argc; i++) {
		(void) escape_value(name, sizeof(name), argv[i]);
		if (strcmp(argv[i], "-") == 0)
			fp = stdin;
		else if ((fp = fopen(argv[i], "r")) == NULL) {
			fprintf(stderr, "%s: %s\n", name, strerror(errno));
			return 1;
		}
		rc = journal_verify_stream(&v, fp, &n, &bad, err, sizeof(err));
		if (fp != stdin)
			(void) fclose(fp);
		if (rc == -1 && bad == 0) {
			fprintf(stderr, "%s: %s\n", name, err);
			return 1;
		}
		if (rc == -1) {
			printf("%s:%" PRIu64 ": chain broken: %s\n", name, bad,
			    err);
			return 1;
		}
		printf("%s: %" PRIu64 " lines, chain intact\n", name, n);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
