/*
 * fuzz_logparse.c - libFuzzer target: the mail log line parser
 *
 * The input is one log line (without its newline).  lp_head_parse() and,
 * when it accepts, lp_event_parse() run on an exact-size copy, and every
 * span of the result must lie inside the line: a span is a pointer into
 * the caller's buffer, so one that strays would make the audit read
 * memory that is not the line.  The timestamp goes through the calendar
 * helpers of logtime.h as the audit uses them.
 *
 * Thread safety: single-threaded fuzz target.
 * Tests: fuzz/run (fuzzing), fuzz/run --regress (replay of the corpus).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_span - abort unless s is absent or inside line[0..len) */
static void
check_span(struct lp_span s, const char *line, size_t len, const char *name)
{
	if (s.n == 0)
		return;
	if (s.p < line || s.p > line + len || s.n > len ||
	    (size_t) (s.p - line) + s.n > len) {
		fprintf(
		    stderr, "fuzz_logparse: span %s outside the line\n", name);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_head  h;
	struct lp_event ev;
	const char     *line = (const char *) data;
	struct logtime  t;
	int64_t         civil;

	if (lp_head_parse(line, size, &h) == -1)
		return 0;
	check_span(h.host, line, size, "host");
	check_span(h.tag, line, size, "tag");
	check_span(h.instance, line, size, "instance");
	check_span(h.daemon, line, size, "daemon");
	check_span(h.body, line, size, "body");
	check_span(h.text, line, size, "text");
	if (h.ts.year != 0) {
		civil = logtime_civil(&h.ts);
		logtime_split(civil, &t);
	} else {
		(void) logtime_guess_year(&h.ts, 1764298634);
		(void) logtime_near_year(&h.ts, 1764298634);
	}

	memset(&ev, 0, sizeof(ev));
	(void) lp_event_parse(&h, &ev);
	check_span(ev.qid, line, size, "qid");
	check_span(ev.newqid, line, size, "newqid");
	check_span(ev.user, line, size, "user");
	check_span(ev.realm, line, size, "realm");
	check_span(ev.client, line, size, "client");
	check_span(ev.sender, line, size, "sender");
	check_span(ev.rcpt, line, size, "rcpt");
	check_span(ev.limit, line, size, "limit");
	check_span(ev.window, line, size, "window");
	check_span(ev.action, line, size, "action");
	(void) lp_span_eq(ev.user, "alice@example.test");
	return 0;
}
