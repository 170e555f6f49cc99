/*
 * test_journal.c - journal lines and the hash chain: format, verify,
 * and every kind of tampering found at the right line
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

#define T0     1795834634 /* 2026-11-28T02:57:14Z */
#define NLINES 100

/* a journal held in memory: lines[i] is line i + 1 with its "\n" */
struct mem {
	char *lines[NLINES + 2];
	int   n;
};

/* one line i (1-based) of a test journal after chain c */
static char *
make_line(struct journal_chain *c, int i, const char *user)
{
	struct journal_field f[] = {
		JOURNAL_STR("queue_id", "4Xk2Lm0ZzQz9vK"),
		JOURNAL_NUM("count", 300 + i),
		JOURNAL_STR("limit", "recipients"),
	};
	char  buf[JOURNAL_LINE_MAX + 1], err[128];
	char *line;
	int   n;

	n = journal_format(buf, sizeof(buf), c, T0 + i,
	    i % 3 == 0 ? JOURNAL_FLAG : JOURNAL_HOLD, user, f, 3, c, err,
	    sizeof(err));
	cr_assert_gt(n, 0, "%s", err);
	line = strdup(buf);
	cr_assert_not_null(line);
	return line;
}

/* build - a chain of NLINES lines */
static void
build(struct mem *m)
{
	struct journal_chain c;
	char                 user[64];
	int                  i;

	journal_chain_init(&c);
	for (i = 1; i <= NLINES; i++) {
		snprintf(user, sizeof(user), "user%d@example.org", i % 7);
		m->lines[i - 1] = make_line(&c, i, user);
	}
	m->n = NLINES;
}

static void
release(struct mem *m)
{
	int i;

	for (i = 0; i < m->n; i++)
		free(m->lines[i]);
}

/* check - verify m as one stream; returns the breaking line, 0 if none */
static uint64_t
check(const struct mem *m, int continued, char *err, size_t errlen,
    uint64_t *nlines)
{
	struct journal_verify v;
	char                 *all;
	size_t                len = 0, pos = 0;
	uint64_t              lineno, n;
	FILE                 *fp;
	int                   i, rc;

	for (i = 0; i < m->n; i++)
		len += strlen(m->lines[i]);
	all = malloc(len + 1);
	cr_assert_not_null(all);
	for (i = 0; i < m->n; i++) {
		memcpy(all + pos, m->lines[i], strlen(m->lines[i]));
		pos += strlen(m->lines[i]);
	}
	fp = fmemopen(all, len ? len : 1, "r");
	cr_assert_not_null(fp);
	if (len == 0)
		(void) fgetc(fp); /* fmemopen needs a size: skip the byte */
	journal_verify_init(&v, continued);
	err[0] = '\0';
	rc = journal_verify_stream(&v, fp, &n, &lineno, err, errlen);
	fclose(fp);
	free(all);
	if (nlines != NULL)
		*nlines = n;
	return rc == 0 ? 0 : lineno;
}

Test(journal, chain_of_100_lines_verifies)
{
	struct mem m;
	char       err[256];
	uint64_t   n;

	build(&m);
	cr_assert_eq(check(&m, 0, err, sizeof(err), &n), 0, "%s", err);
	cr_assert_eq(n, NLINES);
	release(&m);
}

Test(journal, first_line_has_the_documented_exact_form)
{
	struct journal_field f[] = {
		JOURNAL_STR("queue_id", "4Xk2Lm0ZzQz9vK"),
		JOURNAL_NUM("count", 301),
	};
	struct journal_chain c;
	char                 buf[1024], err[128];
	int                  n;

	journal_chain_init(&c);
	n = journal_format(buf, sizeof(buf), &c, T0, JOURNAL_HOLD,
	    "alice@example.org", f, 2, &c, err, sizeof(err));
	/* the hash was computed with an independent SHA-256 */
	cr_assert_str_eq(buf,
	    "{\"ts\":\"2026-11-28T02:57:14Z\",\"seq\":1,\"event\":\"hold\","
	    "\"user\":\"alice@example.org\",\"queue_id\":\"4Xk2Lm0ZzQz9vK\","
	    "\"count\":301,\"prev\":\"00000000000000000000000000000000"
	    "00000000000000000000000000000000\",\"hash\":\"bdf78c79b0a0f81d"
	    "3e64141302f8dcb85089bab627b64c3c5a36c9bc7b104451\"}\n");
	cr_assert_eq(n, (int) strlen(buf));
	cr_assert_eq(c.seq, 1);
}

Test(journal, prev_of_each_line_is_the_sha256_of_the_line_before)
{
	struct mem          m;
	struct journal_line l;
	char                h[SHA256_HEX], err[128];
	int                 i;

	build(&m);
	for (i = 1; i < NLINES; i++) {
		size_t len = strlen(m.lines[i]) - 1;

		cr_assert_eq(
		    journal_line_parse(m.lines[i], len, &l, err, sizeof(err)),
		    0, "%s", err);
		sha256_hex(m.lines[i - 1], strlen(m.lines[i - 1]) - 1, h);
		cr_assert_str_eq(l.prev, h);
		cr_assert_eq(l.seq, (uint64_t) i + 1);
	}
	release(&m);
}

Test(journal, edited_line_is_caught_at_that_line)
{
	struct mem m;
	char      *p, err[256];

	build(&m);
	p = strstr(m.lines[36], "recipients");
	cr_assert_not_null(p);
	p[0] = 'R';
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), 37);
	cr_assert_not_null(strstr(err, "altered"), "%s", err);
	release(&m);
}

Test(journal, edited_line_with_recomputed_hash_is_caught_at_the_next_line)
{
	struct journal_chain c;
	struct journal_line  l;
	struct mem           m;
	char                 err[256];

	build(&m);
	/* rewrite line 37 from the real state after line 36 */
	cr_assert_eq(journal_line_parse(m.lines[35], strlen(m.lines[35]) - 1,
			 &l, err, sizeof(err)),
	    0);
	journal_chain_after(&c, m.lines[35], strlen(m.lines[35]) - 1, l.seq);
	free(m.lines[36]);
	m.lines[36] = make_line(&c, 37, "innocent@example.org");
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), 38);
	cr_assert_not_null(strstr(err, "prev does not match"), "%s", err);
	release(&m);
}

Test(journal, deleted_line_is_caught_where_it_was)
{
	struct mem m;
	char       err[256];

	build(&m);
	free(m.lines[49]);
	memmove(&m.lines[49], &m.lines[50],
	    (size_t) (NLINES - 50) * sizeof(m.lines[0]));
	m.n--;
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), 50);
	cr_assert_not_null(strstr(err, "seq 51 where 50"), "%s", err);
	release(&m);
}

Test(journal, swapped_lines_are_caught_at_the_first_of_them)
{
	struct mem m;
	char      *t, err[256];

	build(&m);
	t = m.lines[19];
	m.lines[19] = m.lines[20];
	m.lines[20] = t;
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), 20);
	cr_assert_not_null(strstr(err, "reordered"), "%s", err);
	release(&m);
}

Test(journal, repeated_line_is_caught_where_it_was_inserted)
{
	struct mem m;
	char       err[256];

	build(&m);
	/* a copy of line 10 put after line 60 becomes line 61 */
	memmove(&m.lines[61], &m.lines[60],
	    (size_t) (NLINES - 60) * sizeof(m.lines[0]));
	m.lines[60] = strdup(m.lines[9]);
	m.n++;
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), 61);
	cr_assert_not_null(strstr(err, "inserted"), "%s", err);
	release(&m);
}

Test(journal, forged_line_inserted_with_a_valid_hash_breaks_the_next_line)
{
	struct journal_chain c;
	struct journal_line  l;
	struct mem           m;
	char                 err[256];

	build(&m);
	cr_assert_eq(journal_line_parse(m.lines[59], strlen(m.lines[59]) - 1,
			 &l, err, sizeof(err)),
	    0);
	journal_chain_after(&c, m.lines[59], strlen(m.lines[59]) - 1, l.seq);
	memmove(&m.lines[61], &m.lines[60],
	    (size_t) (NLINES - 60) * sizeof(m.lines[0]));
	m.lines[60] = make_line(&c, 61, "forged@example.org");
	m.n++;
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), 62);
	release(&m);
}

Test(journal, truncated_last_line_is_reported_as_truncated)
{
	struct mem m;
	char       err[256];
	uint64_t   n;

	build(&m);
	m.lines[NLINES - 1][strlen(m.lines[NLINES - 1]) - 30] = '\0';
	cr_assert_eq(check(&m, 0, err, sizeof(err), &n), NLINES);
	cr_assert_not_null(strstr(err, "truncated"), "%s", err);
	release(&m);
}

Test(journal, complete_last_line_without_newline_is_reported_as_truncated)
{
	struct mem m;
	char       err[256];

	build(&m);
	m.lines[NLINES - 1][strlen(m.lines[NLINES - 1]) - 1] = '\0';
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), NLINES);
	cr_assert_not_null(strstr(err, "truncated"), "%s", err);
	release(&m);
}

Test(journal, missing_start_fails_unless_continued)
{
	struct mem m;
	char       err[256];
	uint64_t   n;

	build(&m);
	free(m.lines[0]);
	memmove(&m.lines[0], &m.lines[1], (NLINES - 1) * sizeof(m.lines[0]));
	m.n--;
	cr_assert_eq(check(&m, 0, err, sizeof(err), NULL), 1);
	cr_assert_eq(check(&m, 1, err, sizeof(err), &n), 0, "%s", err);
	cr_assert_eq(n, NLINES - 1);
	release(&m);
}

Test(journal, empty_journal_is_intact)
{
	struct mem m;
	char       err[256];
	uint64_t   n = 99;

	m.n = 0;
	cr_assert_eq(check(&m, 0, err, sizeof(err), &n), 0);
	cr_assert_eq(n, 0);
}

Test(journal, chain_continues_across_two_files_in_order)
{
	struct journal_verify v;
	struct mem            m;
	char                  err[256], *a, *b;
	size_t                la = 0, lb = 0;
	uint64_t              n, bad;
	FILE                 *fp;
	int                   i;

	build(&m);
	a = calloc(1, 64 * 1024);
	b = calloc(1, 64 * 1024);
	for (i = 0; i < NLINES; i++) {
		char   *dst = i < 40 ? a : b;
		size_t *l = i < 40 ? &la : &lb;

		memcpy(dst + *l, m.lines[i], strlen(m.lines[i]));
		*l += strlen(m.lines[i]);
	}
	journal_verify_init(&v, 0);
	fp = fmemopen(a, la, "r");
	cr_assert_eq(journal_verify_stream(&v, fp, &n, &bad, err, sizeof(err)),
	    0, "%s", err);
	fclose(fp);
	cr_assert_eq(n, 40);
	fp = fmemopen(b, lb, "r");
	cr_assert_eq(journal_verify_stream(&v, fp, &n, &bad, err, sizeof(err)),
	    0, "%s", err);
	fclose(fp);
	cr_assert_eq(n, 60);
	/* the second file alone does not start a chain */
	journal_verify_init(&v, 0);
	fp = fmemopen(b, lb, "r");
	cr_assert_eq(
	    journal_verify_stream(&v, fp, &n, &bad, err, sizeof(err)), -1);
	cr_assert_eq(bad, 1);
	fclose(fp);
	free(a);
	free(b);
	release(&m);
}

Test(journal, quotes_newlines_and_control_bytes_are_escaped_in_json)
{
	struct journal_field f[] = {
		JOURNAL_STR("sender", "a\"b\\c\nd\re\x01\x1b[31m\x7f"),
		JOURNAL_STR("reason", "bad \xff\xfe utf-8"),
	};
	struct journal_chain c;
	struct journal_line  l;
	char                 buf[1024], err[128];
	int                  n;

	journal_chain_init(&c);
	n = journal_format(buf, sizeof(buf), &c, T0, JOURNAL_FLAG,
	    "ev\"il\n{\"seq\":9}", f, 2, &c, err, sizeof(err));
	cr_assert_gt(n, 0, "%s", err);
	/* one line: the only newline is the last byte, no raw control byte */
	cr_assert_eq(strchr(buf, '\n'), buf + n - 1);
	for (int i = 0; i < n - 1; i++)
		cr_assert(((unsigned char) buf[i] >= 0x20 &&
			      (unsigned char) buf[i] != 0x7f),
		    "raw byte 0x%02x at %d", (unsigned char) buf[i], i);
	cr_assert_not_null(
	    strstr(buf, "\"user\":\"ev\\\"il\\u000a{\\\"seq\\\":9}\""));
	cr_assert_not_null(strstr(buf,
	    "\"sender\":\"a\\\"b\\\\c\\u000ad\\u000de\\u0001\\u001b[31m\\u007f\""));
	cr_assert_not_null(
	    strstr(buf, "\"reason\":\"bad \\ufffd\\ufffd utf-8\""));
	cr_assert_eq(
	    journal_line_parse(buf, (size_t) n - 1, &l, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(l.seq, 1);
}

Test(journal, reserved_and_invalid_keys_and_long_lines_are_refused)
{
	struct journal_chain c;
	struct journal_field bad1[] = { JOURNAL_STR("hash", "x") };
	struct journal_field bad2[] = { JOURNAL_STR("Queue-ID", "x") };
	struct journal_field big[] = { JOURNAL_STR("reason", NULL) };
	char                 buf[JOURNAL_LINE_MAX + 1], err[128], *v;

	journal_chain_init(&c);
	cr_assert_eq(journal_format(buf, sizeof(buf), &c, T0, JOURNAL_HOLD, "a",
			 bad1, 1, &c, err, sizeof(err)),
	    -1);
	cr_assert_eq(journal_format(buf, sizeof(buf), &c, T0, JOURNAL_HOLD, "a",
			 bad2, 1, &c, err, sizeof(err)),
	    -1);
	cr_assert_eq(
	    journal_format(buf, sizeof(buf), &c, T0, JOURNAL_EVENT_MAX_, "a",
		NULL, 0, &c, err, sizeof(err)),
	    -1);
	v = malloc(JOURNAL_LINE_MAX);
	memset(v, 'x', JOURNAL_LINE_MAX - 1);
	v[JOURNAL_LINE_MAX - 1] = '\0';
	big[0].str = v;
	cr_assert_eq(journal_format(buf, sizeof(buf), &c, T0, JOURNAL_HOLD, "a",
			 big, 1, &c, err, sizeof(err)),
	    -1);
	cr_assert_eq(journal_format(buf, 200, &c, T0, JOURNAL_HOLD, "a", NULL,
			 0, &c, err, sizeof(err)),
	    -1);
	free(v);
	/* nothing was written, so the chain has not moved */
	cr_assert_eq(c.seq, 0);
}

Test(journal, event_names_cover_decisions_and_operator_actions)
{
	cr_assert_str_eq(journal_event_name(JOURNAL_WOULD_HOLD), "would-hold");
	cr_assert_str_eq(journal_event_name(JOURNAL_RELOAD), "reload");
	cr_assert_str_eq(journal_event_name(JOURNAL_DISCONNECT), "disconnect");
	cr_assert_null(journal_event_name(JOURNAL_EVENT_MAX_));
}
