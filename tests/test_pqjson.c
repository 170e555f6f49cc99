/*
 * test_pqjson.c - tests for common/pqjson.c
 *
 * The first lines are verbatim "postqueue -j" output of Postfix 3.7
 * (deferred by a retry transport, and held with postsuper -h); the rest
 * are built to reach every escape, every error and every prefix of a
 * valid line.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "pqjson.h"

#define DEFERRED                                                               \
	"{\"queue_name\": \"deferred\", \"queue_id\": \"4jbyHN34c0z1bYX0\", "  \
	"\"arrival_time\": 1795840763, \"message_size\": 260, "                \
	"\"forced_expire\": false, \"sender\": \"odd@mx.example.test\", "      \
	"\"recipients\": [{\"address\": \"c@example.test\", "                  \
	"\"delay_reason\": \"testing deferral\"}, {\"address\": "              \
	"\"d@example.test\", \"delay_reason\": \"testing deferral\"}]}\n"

#define HOLD                                                                   \
	"{\"queue_name\": \"hold\", \"queue_id\": \"87472A720B7\", "           \
	"\"arrival_time\": 1795840782, \"message_size\": 260, "                \
	"\"forced_expire\": false, \"sender\": \"b@example.test\", "           \
	"\"recipients\": [{\"address\": \"e@example.test\"}]}\n"

/* parse - pq_parse_line() of a NUL-terminated line */
static int
parse(const char *line, struct pq_msg *m)
{
	char err[128];

	return pq_parse_line(line, strlen(line), m, err, sizeof(err));
}

/* pq_parse_line_str - pq_parse_line() of a NUL-terminated line */
static int
pq_parse_line_str(const char *line, struct pq_msg *m, char *err, size_t errlen)
{
	return pq_parse_line(line, strlen(line), m, err, errlen);
}

/* append - add t to the string in buf (size bytes); fails the test if full */
static void
append(char *buf, size_t size, const char *t)
{
	size_t l = strlen(buf);
	int    n = snprintf(buf + l, size - l, "%s", t);

	cr_assert(n >= 0 && (size_t) n < size - l);
}

/* with_sender - a minimal valid line whose sender is the JSON text s */
static char *
with_sender(char *buf, size_t len, const char *s)
{
	(void) snprintf(buf, len,
	    "{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
	    "\"arrival_time\":1,\"sender\":\"%s\"}",
	    s);
	return buf;
}

Test(pqjson, deferred_message_with_delay_reasons_parses)
{
	struct pq_msg m;
	char          err[128] = "";

	cr_assert_eq(
	    pq_parse_line(DEFERRED, strlen(DEFERRED), &m, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_str_eq(m.queue_name, "deferred");
	cr_assert_str_eq(m.queue_id, "4jbyHN34c0z1bYX0");
	cr_assert_eq(m.arrival, (time_t) 1795840763);
	cr_assert_eq(m.size, 260);
	cr_assert_str_eq(m.sender, "odd@mx.example.test");
	cr_assert_eq(m.nrcpt, 2);
	cr_assert_eq(m.ndelayed, 2);
	cr_assert_eq(m.forced_expire, 0);
}

Test(pqjson, held_message_with_short_id_parses)
{
	struct pq_msg m;

	cr_assert_eq(parse(HOLD, &m), 0);
	cr_assert_str_eq(m.queue_name, "hold");
	cr_assert_str_eq(m.queue_id, "87472A720B7");
	cr_assert_eq(m.arrival, (time_t) 1795840782);
	cr_assert_eq(m.nrcpt, 1);
	cr_assert_eq(m.ndelayed, 0);
}

Test(pqjson, line_without_newline_or_with_crlf_parses)
{
	char          line[1024];
	struct pq_msg m;
	size_t        n = strlen(HOLD) - 1;

	memcpy(line, HOLD, n);
	cr_assert_eq(pq_parse_line(line, n, &m, NULL, 0), 0);
	memcpy(line + n, "\r\n", 2);
	cr_assert_eq(pq_parse_line(line, n + 2, &m, NULL, 0), 0);
}

Test(pqjson, null_sender_is_empty)
{
	char          line[256];
	struct pq_msg m;

	cr_assert_eq(parse(with_sender(line, sizeof(line), ""), &m), 0);
	cr_assert_str_eq(m.sender, "");
	cr_assert_eq(m.nrcpt, 0);
	cr_assert_eq(m.size, 0);
}

Test(pqjson, escaped_sender_is_decoded)
{
	char          line[512];
	struct pq_msg m;

	cr_assert_eq(parse(with_sender(line, sizeof(line),
			       "\\\"odd \\\\ name\\\"\\/x\\b\\f\\n\\r\\t@ex"),
			 &m),
	    0);
	cr_assert_str_eq(m.sender, "\"odd \\ name\"/x\b\f\n\r\t@ex");
}

Test(pqjson, unicode_escapes_become_utf8)
{
	char          line[512];
	struct pq_msg m;

	cr_assert_eq(parse(with_sender(line, sizeof(line),
			       "\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u007f"),
			 &m),
	    0);
	cr_assert_str_eq(m.sender, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f");
}

Test(pqjson, raw_utf8_and_8bit_bytes_are_kept)
{
	char          line[512];
	struct pq_msg m;

	cr_assert_eq(
	    parse(with_sender(line, sizeof(line), "j\xc3\xb6rg@\xff.example"),
		&m),
	    0);
	cr_assert_str_eq(m.sender, "j\xc3\xb6rg@\xff.example");
}

Test(pqjson, nul_escape_and_lone_surrogates_are_refused)
{
	const char   *bad[] = { "a\\u0000b", "\\ud83d", "\\ud83dx",
		  "\\ud83d\\u0041", "\\ude00", "\\ud83d\\ud83d", "\\u12",
		  "\\u12G4", "\\x41", "\\", "\\U0041" };
	char          line[512], err[128];
	struct pq_msg m;
	size_t        i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		with_sender(line, sizeof(line), bad[i]);
		err[0] = '\0';
		cr_assert_eq(
		    pq_parse_line(line, strlen(line), &m, err, sizeof(err)), -1,
		    "accepted %s", line);
		cr_assert_neq(err[0], '\0');
	}
}

Test(pqjson, raw_control_bytes_in_strings_are_refused)
{
	char          line[256];
	struct pq_msg m;

	cr_assert_eq(parse(with_sender(line, sizeof(line), "a\tb"), &m), -1);
	cr_assert_eq(parse(with_sender(line, sizeof(line), "a\nb"), &m), -1);
	cr_assert_eq(parse(with_sender(line, sizeof(line), "a\x1f"), &m), -1);
}

Test(pqjson, nul_byte_anywhere_is_refused)
{
	char          line[1024];
	struct pq_msg m;
	size_t        n = strlen(HOLD), i;

	for (i = 0; i < n - 1; i++) {
		memcpy(line, HOLD, n);
		line[i] = '\0';
		cr_assert_eq(pq_parse_line(line, n, &m, NULL, 0), -1,
		    "NUL at %zu accepted", i);
	}
}

Test(pqjson, every_truncation_of_a_line_is_refused)
{
	struct pq_msg m;
	char          err[128];
	size_t        n = strlen(DEFERRED) - 1, i; /* without the "\n" */

	for (i = 0; i < n; i++) {
		err[0] = '\0';
		cr_assert_eq(pq_parse_line(DEFERRED, i, &m, err, sizeof(err)),
		    -1, "prefix of %zu bytes accepted", i);
		cr_assert_neq(err[0], '\0');
	}
	cr_assert_eq(pq_parse_line(DEFERRED, n, &m, NULL, 0), 0);
}

Test(pqjson, sender_of_320_bytes_fits_and_321_is_an_error)
{
	char          s[400], line[512];
	struct pq_msg m;

	memset(s, 'a', 320);
	s[320] = '\0';
	cr_assert_eq(parse(with_sender(line, sizeof(line), s), &m), 0);
	cr_assert_eq(strlen(m.sender), 320);
	append(s, sizeof(s), "a");
	cr_assert_eq(parse(with_sender(line, sizeof(line), s), &m), -1);
	/* escapes count once decoded: 319 + a 2-byte character is 321 */
	s[319] = '\0';
	append(s, sizeof(s), "\\u00e9");
	cr_assert_eq(parse(with_sender(line, sizeof(line), s), &m), -1);
}

Test(pqjson, over_long_or_invalid_queue_id_is_an_error)
{
	const char   *ids[] = { "5F266A72241ABCDEF0123456789ABCDEF0",
		  "../../etc/passwd", "5f266a72241", "ALL", "", "5F266 A72241" };
	char          line[512];
	struct pq_msg m;
	size_t        i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		(void) snprintf(line, sizeof(line),
		    "{\"queue_name\":\"hold\",\"queue_id\":\"%s\","
		    "\"arrival_time\":1,\"sender\":\"\"}",
		    ids[i]);
		cr_assert_eq(parse(line, &m), -1, "accepted %s", ids[i]);
	}
	/* an escaped valid ID is fine: \u0035 is '5' */
	cr_assert_eq(parse("{\"queue_name\":\"hold\",\"queue_id\":"
			   "\"\\u0035F266A72241\",\"arrival_time\":1,"
			   "\"sender\":\"\"}",
			 &m),
	    0);
	cr_assert_str_eq(m.queue_id, "5F266A72241");
}

Test(pqjson, over_long_or_odd_queue_name_is_an_error)
{
	const char   *names[] = { "deferreddeferred", "Hold", "", "ho ld",
		  "hold/" };
	char          line[512];
	struct pq_msg m;
	size_t        i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void) snprintf(line, sizeof(line),
		    "{\"queue_name\":\"%s\",\"queue_id\":\"5F266A72241\","
		    "\"arrival_time\":1,\"sender\":\"\"}",
		    names[i]);
		cr_assert_eq(parse(line, &m), -1, "accepted %s", names[i]);
	}
	cr_assert_eq(
	    parse("{\"queue_name\":\"maildropmaildro\",\"queue_id\":"
		  "\"5F266A72241\",\"arrival_time\":1,\"sender\":\"\"}",
		&m),
	    0);
}

Test(pqjson, missing_required_member_is_an_error)
{
	const char *lines[] = {
		"{\"queue_id\":\"5F266A72241\",\"arrival_time\":1,\"sender\":\"\"}",
		"{\"queue_name\":\"hold\",\"arrival_time\":1,\"sender\":\"\"}",
		"{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\",\"sender\":\"\"}",
		"{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\",\"arrival_time\":1}",
		"{}",
	};
	struct pq_msg m;
	char          err[128];
	size_t        i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cr_assert_eq(pq_parse_line(lines[i], strlen(lines[i]), &m, err,
				 sizeof(err)),
		    -1, "accepted %s", lines[i]);
		cr_assert_not_null(strstr(err, "missing"), "%s", err);
	}
}

Test(pqjson, duplicate_member_is_an_error)
{
	struct pq_msg m;

	cr_assert_eq(
	    parse("{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		  "\"arrival_time\":1,\"sender\":\"a\",\"sender\":\"b\"}",
		&m),
	    -1);
	cr_assert_eq(
	    parse("{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		  "\"arrival_time\":1,\"sender\":\"a\",\"recipients\":"
		  "[{\"address\":\"x\",\"address\":\"y\"}]}",
		&m),
	    -1);
}

Test(pqjson, unknown_members_of_any_shape_are_skipped)
{
	struct pq_msg m;
	char          err[128] = "";

	cr_assert_eq(
	    pq_parse_line_str(
		"{\"future\":{\"a\":[1,-2.5e+3,true,null,{}],\"b\":[]},"
		"\"queue_name\":\"active\",\"n\":-0.0E-1,"
		"\"queue_id\":\"5F266A72241\",\"arrival_time\":7,"
		"\"x\":\"\\u00e9\",\"sender\":\"s\",\"recipients\":"
		"[{\"address\":\"a\",\"orig\":[\"x\"],\"delay_reason\":"
		"\"r\"},{}],\"really_long_member_name_that_is_unknown\":0}",
		&m, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_str_eq(m.queue_name, "active");
	cr_assert_eq(m.arrival, 7);
	cr_assert_eq(m.nrcpt, 2);
	cr_assert_eq(m.ndelayed, 1);
}

Test(pqjson, whitespace_between_tokens_is_allowed)
{
	struct pq_msg m;

	cr_assert_eq(
	    parse(" \t{ \"queue_name\" :\"hold\" ,\r\n\"queue_id\": "
		  "\"5F266A72241\" , \"arrival_time\" : 1 , \"sender\" "
		  ": \"\" , \"recipients\" : [ { } , { \"address\" : "
		  "\"a\" } ] } \n",
		&m),
	    0);
	cr_assert_eq(m.nrcpt, 2);
}

Test(pqjson, forced_expire_true_is_kept)
{
	struct pq_msg m;

	cr_assert_eq(
	    parse("{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		  "\"arrival_time\":1,\"sender\":\"\","
		  "\"forced_expire\":true}",
		&m),
	    0);
	cr_assert_eq(m.forced_expire, 1);
}

Test(pqjson, known_members_of_the_wrong_type_are_errors)
{
	const char   *bad[] = { "\"forced_expire\":1", "\"forced_expire\":null",
		  "\"forced_expire\":\"true\"", "\"message_size\":\"260\"",
		  "\"message_size\":-1", "\"message_size\":1.5",
		  "\"message_size\":1e3", "\"message_size\":18446744073709551616",
		  "\"recipients\":{}", "\"recipients\":[\"a\"]",
		  "\"recipients\":[[]]", "\"recipients\":null",
		  "\"recipients\":[{\"address\":1}]",
		  "\"recipients\":[{\"delay_reason\":null}]", "\"sender2\":tru",
		  "\"z\":01", "\"z\":-", "\"z\":1.", "\"z\":1e", "\"z\":.5",
		  "\"z\":+1", "\"z\":[1,]", "\"z\":{\"a\"}", "\"z\":{1:2}",
		  "\"z\":nul", "\"z\":[1 2]" };
	char          line[512];
	struct pq_msg m;
	size_t        i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void) snprintf(line, sizeof(line),
		    "{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		    "\"arrival_time\":1,\"sender\":\"\",%s}",
		    bad[i]);
		cr_assert_eq(parse(line, &m), -1, "accepted %s", line);
	}
	cr_assert_eq(
	    parse("{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		  "\"arrival_time\":1,\"sender\":\"\","
		  "\"message_size\":18446744073709551615}",
		&m),
	    0);
	cr_assert_eq(m.size, UINT64_MAX);
}

Test(pqjson, arrival_time_must_be_a_non_negative_integer_that_fits)
{
	const char   *bad[] = { "-1", "1.0", "\"1\"", "9223372036854775808",
		  "99999999999999999999", "true", "01" };
	char          line[512];
	struct pq_msg m;
	size_t        i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void) snprintf(line, sizeof(line),
		    "{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		    "\"arrival_time\":%s,\"sender\":\"\"}",
		    bad[i]);
		cr_assert_eq(parse(line, &m), -1, "accepted %s", bad[i]);
	}
	cr_assert_eq(
	    parse("{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		  "\"arrival_time\":0,\"sender\":\"\"}",
		&m),
	    0);
	cr_assert_eq(m.arrival, 0);
}

Test(pqjson, anything_but_one_object_is_an_error)
{
	const char   *bad[] = { "", "\n", "null", "[]", "\"x\"", "{", "}",
		  "{\"a\":1}{\"b\":2}", "{\"a\" 1}", "{\"a\":1,}", "{,}",
		  "{'a':1}", "{a:1}", "\xef\xbb\xbf{}", "{\"a\":1} x" };
	struct pq_msg m;
	char          line[1024];
	size_t        i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i], &m), -1, "accepted %s", bad[i]);
	cr_assert_eq(pq_parse_line(NULL, 5, &m, NULL, 0), -1);
	(void) snprintf(
	    line, sizeof(line), "%.*s %s", (int) strlen(HOLD) - 1, HOLD, HOLD);
	cr_assert_eq(parse(line, &m), -1, "two objects on one line");
}

Test(pqjson, nesting_is_bounded)
{
	char          line[512], deep[128];
	struct pq_msg m;
	int           d;

	for (d = 1; d <= PQ_DEPTH_MAX + 2; d++) {
		memset(deep, '[', (size_t) d);
		memset(deep + d, ']', (size_t) d);
		deep[2 * d] = '\0';
		(void) snprintf(line, sizeof(line),
		    "{\"queue_name\":\"hold\",\"queue_id\":\"5F266A72241\","
		    "\"arrival_time\":1,\"sender\":\"\",\"z\":%s}",
		    deep);
		/* the object itself is level 1 */
		cr_assert_eq(
		    parse(line, &m), d < PQ_DEPTH_MAX ? 0 : -1, "depth %d", d);
	}
}

Test(pqjson, deep_garbage_does_not_recurse_without_bound)
{
	static char   line[200000];
	struct pq_msg m;

	memcpy(line, "{\"z\":", 5);
	memset(line + 5, '[', sizeof(line) - 5);
	cr_assert_eq(pq_parse_line(line, sizeof(line), &m, NULL, 0), -1);
}

Test(pqjson, error_message_names_the_offset)
{
	struct pq_msg m;
	char          err[128];

	cr_assert_eq(
	    pq_parse_line("{\"queue_name\" 1}", 16, &m, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "offset 14: expected ':'");
}

Test(pqjson, parser_survives_random_mutations)
{
	uint8_t buf[512];
	size_t  len, k, base = strlen(DEFERRED);
	int     round, ok = 0;

	srand(99);
	for (round = 0; round < 50000; round++) {
		memcpy(buf, DEFERRED, base);
		len = base;
		for (k = 0; k < 1 + (size_t) (rand() % 3); k++) {
			switch (rand() % 4) {
			case 0:
				buf[rand() % len] = (uint8_t) rand();
				break;
			case 1:
				buf[rand() % len] = "{}[]\",:\\u0"[rand() % 11];
				break;
			case 2:
				len = 1 + (size_t) rand() % len;
				break;
			default:
				if (len < sizeof(buf))
					buf[len++] = (uint8_t) rand();
				break;
			}
		}
		if (pqjson_fuzz(buf, len) == 0)
			ok++;
	}
	/* some mutations land in skipped text and still parse */
	cr_assert_gt(ok, 0);
	cr_assert_lt(ok, 50000);
}
