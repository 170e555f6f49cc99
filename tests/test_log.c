/*
 * test_log.c - tests for milter/log.c: the stderr copy, routine lines in
 * batches, and the order of lines
 *
 * Each test (a process of its own under Criterion) points standard error
 * at a temporary file and reads it back.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "log.h"

static char path[] = "/tmp/test_log.XXXXXX";

/* setup - stderr to a new file, logging to stderr without syslog stamps */
static void
setup(void)
{
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_geq(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	cr_assert_eq(log_init("sgtest", "mail", 1), 0);
}

static void
teardown(void)
{
	unlink(path);
}

/* contents - what the file holds now (static buffer) */
static const char *
contents(void)
{
	static char buf[1 << 20];
	FILE       *f = fopen(path, "r");
	size_t      n;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* sleep_ms - wait ms milliseconds */
static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, a_routine_line_reaches_stderr_by_itself_within_the_batch_delay)
{
	int i;

	log_info_batch("Q1: pass: user=alice");
	/* the flusher writes it within 100 ms; allow a slow machine 5 s */
	for (i = 0; i < 500 && strstr(contents(), "Q1: pass") == NULL; i++)
		sleep_ms(10);
	cr_assert_not_null(strstr(contents(), "sgtest["));
	cr_assert_not_null(strstr(contents(), "]: Q1: pass: user=alice\n"));
}

Test(log, another_line_comes_after_the_routine_lines_logged_before_it)
{
	const char *c, *a, *b, *h;

	log_info_batch("Q1: pass: user=a");
	log_info_batch("Q2: pass: user=b");
	log_info("Q3: hold: user=%s", "c");
	/* no wait: the hold line wrote the batch out ahead of itself */
	c = contents();
	a = strstr(c, "Q1: pass");
	b = strstr(c, "Q2: pass");
	h = strstr(c, "Q3: hold");
	cr_assert(a != NULL && b != NULL && h != NULL, "got: %s", c);
	cr_assert(a < b && b < h, "out of order: %s", c);
}

Test(log, log_flush_writes_the_batch_at_once)
{
	log_info_batch("Q4: pass: user=d");
	log_flush();
	cr_assert_not_null(strstr(contents(), "Q4: pass: user=d\n"));
}

Test(log, a_batch_larger_than_the_buffer_keeps_every_line_in_order)
{
	char        line[160], want[32];
	const char *c, *p;
	int         i;

	for (i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line), "Q%05d: pass: user=u%d %0100d", i,
		    i, 0);
		log_info_batch(line);
	}
	log_flush();
	c = contents();
	for (i = 0, p = c; i < 2000; i++) {
		snprintf(want, sizeof(want), "]: Q%05d: pass:", i);
		p = strstr(p, want);
		cr_assert_not_null(p, "line %d missing or out of order", i);
	}
	/* 2,000 lines, each with its own prefix and newline */
	for (i = 0, p = c; (p = strchr(p, '\n')) != NULL; p++)
		i++;
	cr_assert_eq(i, 2000);
}

Test(log, an_overlong_routine_line_is_cut_to_the_longest_line)
{
	static char big[3 * LOG_LINE];
	const char *c, *nl;

	memset(big, 'x', sizeof(big) - 1);
	log_info_batch(big);
	log_flush();
	c = contents();
	nl = strchr(c, '\n');
	cr_assert_not_null(nl);
	cr_assert_eq(nl[1], '\0', "one line");
	cr_assert_eq((size_t) (nl - strchr(c, 'x')), LOG_LINE - 1);
}
