/*
 * test_verify.c - "saslguardctl audit --verify": output and exit status
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "verify.h"

static char dir[64];
static char path[128];

/* write_journal - n chained lines into path; line bad (1-based) edited */
static void
write_journal(int n, int bad)
{
	struct journal_chain c;
	char                 buf[JOURNAL_LINE_MAX + 1], err[128];
	FILE                *fp;
	int                  i, len;

	snprintf(dir, sizeof(dir), "/tmp/test_verify.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	journal_chain_init(&c);
	for (i = 1; i <= n; i++) {
		struct journal_field f[] = { JOURNAL_NUM("deleted", i) };

		len = journal_format(buf, sizeof(buf), &c, 1795834634 + i,
		    JOURNAL_DELETE, "alice@example.org", f, 1, &c, err,
		    sizeof(err));
		cr_assert_gt(len, 0, "%s", err);
		if (i == bad)
			buf[strstr(buf, "alice") - buf] = 'A';
		fwrite(buf, 1, (size_t) len, fp);
	}
	fclose(fp);
}

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

Test(verify, intact_journal_prints_its_line_count_and_exits_0,
    .init = cr_redirect_stdout)
{
	char  expect[256];
	char *argv[] = { "verify", path, NULL };
	int   rc;

	write_journal(12, 0);
	rc = verify_main(2, argv);
	fflush(stdout);
	snprintf(expect, sizeof(expect), "%s: 12 lines, chain intact\n", path);
	cleanup();
	cr_assert_eq(rc, 0);
	cr_assert_stdout_eq_str(expect);
}

Test(verify, edited_line_prints_file_line_and_reason_and_exits_1,
    .init = cr_redirect_stdout)
{
	char  expect[256];
	char *argv[] = { "verify", path, NULL };
	int   rc;

	write_journal(12, 7);
	rc = verify_main(2, argv);
	fflush(stdout);
	snprintf(expect, sizeof(expect),
	    "%s:7: chain broken: content does not match its hash: the line "
	    "was altered\n",
	    path);
	cleanup();
	cr_assert_eq(rc, 1);
	cr_assert_stdout_eq_str(expect);
}

Test(verify, missing_file_or_no_argument_fails)
{
	char *none[] = { "verify", NULL };
	char *bad[] = { "verify", "--bogus", "x", NULL };
	char *missing[] = { "verify", "/nonexistent/journal.jsonl", NULL };

	cr_assert_eq(verify_main(1, none), 2);
	cr_assert_eq(verify_main(3, bad), 2);
	cr_assert_eq(verify_main(2, missing), 1);
}
