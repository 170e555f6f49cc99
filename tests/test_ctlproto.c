/*
 * test_ctlproto.c - tests for common/ctlproto.c
 *
 * Requests and replies are checked byte for byte, then round-tripped
 * (format -> parse, build -> parse) with hostile values, and every parser
 * is fed a stream of pseudo-random mutations (fixed seed) to show that
 * garbage gives an error, never a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "ctlproto.h"

#define T_2026 ((time_t) 1795834634) /* 2026-11-28T02:57:14Z */

/* parse - ctl_request_parse() of a NUL-terminated line */
static int
parse(const char *line, struct ctl_request *r)
{
	char err[128];

	return ctl_request_parse(line, strlen(line), r, err, sizeof(err));
}

/* rparse - ctl_reply_parse() of a NUL-terminated line */
static int
rparse(const char *line, struct ctl_reply *r)
{
	char err[128];

	return ctl_reply_parse(line, strlen(line), r, err, sizeof(err));
}

/* append - add s to the string in buf (size bytes); fails the test if full */
static void
append(char *buf, size_t size, const char *s)
{
	size_t l = strlen(buf);
	int    n = snprintf(buf + l, size - l, "%s", s);

	cr_assert(n >= 0 && (size_t) n < size - l);
}

/* fill - a string of n copies of c in buf (n + 1 bytes) */
static char *
fill(char *buf, size_t n, char c)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

Test(ctlproto, greeting_constant_parses_as_version_one)
{
	unsigned v = 0;
	char     err[64];

	cr_assert_eq(ctl_greeting_parse(CTL_GREETING "\n",
			 strlen(CTL_GREETING) + 1, &v, err, sizeof(err)),
	    0);
	cr_assert_eq(v, 1);
	cr_assert_str_eq(CTL_GREETING, "saslguard-control 1");
}

Test(ctlproto, greeting_with_later_version_reports_it)
{
	unsigned v = 0;
	char     err[64];

	cr_assert_eq(ctl_greeting_parse(
			 "saslguard-control 2\r\n", 21, &v, err, sizeof(err)),
	    0);
	cr_assert_eq(v, 2);
}

Test(ctlproto, greeting_of_another_service_is_refused)
{
	const char *bad[] = { "", "saslguard-control", "saslguard-control ",
		"saslguard-control 01", "saslguard-control 1x",
		"saslguard-control -1", "SASLGUARD-CONTROL 1",
		"220 mx.example.test ESMTP", "saslguard-control 1234567" };
	unsigned    v;
	char        err[64];
	size_t      i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(ctl_greeting_parse(
				 bad[i], strlen(bad[i]), &v, err, sizeof(err)),
		    -1, "accepted \"%s\"", bad[i]);
		cr_assert_neq(err[0], '\0');
	}
}

Test(ctlproto, command_without_arguments_parses)
{
	struct ctl_request r;

	cr_assert_eq(parse("list\n", &r), 0);
	cr_assert_str_eq(r.cmd, "list");
	cr_assert_eq(r.argc, 0);
	cr_assert_null(r.errcode);
}

Test(ctlproto, arguments_are_unescaped)
{
	struct ctl_request r;

	cr_assert_eq(parse("flag bob%20smith@example.org too%20many%0Arcpts "
			   "50%25\n",
			 &r),
	    0);
	cr_assert_str_eq(r.cmd, "flag");
	cr_assert_eq(r.argc, 3);
	cr_assert_str_eq(r.argv[0], "bob smith@example.org");
	cr_assert_str_eq(r.argv[1], "too many\nrcpts");
	cr_assert_str_eq(r.argv[2], "50%");
}

Test(ctlproto, line_without_newline_or_with_crlf_parses)
{
	struct ctl_request r;

	cr_assert_eq(parse("show alice", &r), 0);
	cr_assert_str_eq(r.argv[0], "alice");
	cr_assert_eq(parse("show alice\r\n", &r), 0);
	cr_assert_eq(r.argc, 1);
	cr_assert_str_eq(r.argv[0], "alice");
}

Test(ctlproto, lower_case_hex_escapes_decode)
{
	struct ctl_request r;

	cr_assert_eq(parse("show a%c3%a9\n", &r), 0);
	cr_assert_str_eq(r.argv[0], "a\xc3\xa9");
}

Test(ctlproto, malformed_requests_are_syntax_errors)
{
	const char *bad[] = { "", "\n", " list", "List", "li$t", "l\xc3\xafst",
		"show  alice", "show alice ", "show ", "show al\tice",
		"show al\x80ice", "show a%zz", "show a%4", "show a%",
		"show a%00b", "show a\"b", "show a\\b", "show a=b",
		"show\talice", "show\r", "list\n\n" };
	struct ctl_request r;
	char               err[128];
	size_t             i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(ctl_request_parse(
				 bad[i], strlen(bad[i]), &r, err, sizeof(err)),
		    -1, "accepted \"%s\"", bad[i]);
		cr_assert_str_eq(r.errcode, CTL_E_SYNTAX, "for \"%s\"", bad[i]);
		cr_assert_neq(err[0], '\0');
	}
}

Test(ctlproto, nul_byte_inside_line_is_refused)
{
	struct ctl_request r;
	char               err[128];

	cr_assert_eq(
	    ctl_request_parse("show al\0ice\n", 12, &r, err, sizeof(err)), -1);
	cr_assert_str_eq(r.errcode, CTL_E_SYNTAX);
	cr_assert_eq(ctl_request_parse("\0", 1, &r, err, sizeof(err)), -1);
}

Test(ctlproto, null_line_is_refused)
{
	struct ctl_request r;
	char               err[128];

	cr_assert_eq(ctl_request_parse(NULL, 4, &r, err, sizeof(err)), -1);
}

Test(ctlproto, command_of_31_bytes_passes_and_32_fails)
{
	struct ctl_request r;
	char               cmd[40];

	cr_assert_eq(parse(fill(cmd, 31, 'a'), &r), 0);
	cr_assert_eq(strlen(r.cmd), 31);
	cr_assert_eq(parse(fill(cmd, 32, 'a'), &r), -1);
	cr_assert_str_eq(r.errcode, CTL_E_SYNTAX);
}

Test(ctlproto, sixteen_arguments_pass_and_seventeen_are_too_long)
{
	struct ctl_request r;
	char               line[128] = "cmd";
	int                i;

	for (i = 0; i < 16; i++)
		append(line, sizeof(line), " x");
	cr_assert_eq(parse(line, &r), 0);
	cr_assert_eq(r.argc, 16);
	cr_assert_str_eq(r.argv[15], "x");
	append(line, sizeof(line), " y");
	cr_assert_eq(parse(line, &r), -1);
	cr_assert_str_eq(r.errcode, CTL_E_TOO_LONG);
}

Test(ctlproto, line_of_4096_bytes_with_newline_passes_one_more_fails)
{
	static char        line[CTL_LINE_MAX + 8];
	struct ctl_request r;

	memcpy(line, "show ", 5);
	memset(line + 5, 'a', CTL_LINE_MAX - 6);
	line[CTL_LINE_MAX - 1] = '\n';
	cr_assert_eq(ctl_request_parse(line, CTL_LINE_MAX, &r, NULL, 0), 0);
	cr_assert_eq(strlen(r.argv[0]), CTL_LINE_MAX - 6);

	line[CTL_LINE_MAX - 1] = 'a';
	line[CTL_LINE_MAX] = '\n';
	cr_assert_eq(
	    ctl_request_parse(line, CTL_LINE_MAX + 1, &r, NULL, 0), -1);
	cr_assert_str_eq(r.errcode, CTL_E_TOO_LONG);
	/* the same 4096 bytes without a newline leave it no room either */
	cr_assert_eq(ctl_request_parse(line, CTL_LINE_MAX, &r, NULL, 0), -1);
	cr_assert_str_eq(r.errcode, CTL_E_TOO_LONG);
}

Test(ctlproto, format_escapes_arguments_and_ends_with_newline)
{
	const char *argv[] = { "bob smith", "a=b%c\n" };
	char        buf[128];
	int         n;

	n = ctl_request_format(buf, sizeof(buf), "flag", 2, argv);
	cr_assert_str_eq(buf, "flag bob%20smith a%3Db%25c%0A\n");
	cr_assert_eq(n, (int) strlen(buf));
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), "stats", 0, NULL), 6);
	cr_assert_str_eq(buf, "stats\n");
}

Test(ctlproto, format_refuses_what_parse_would_refuse)
{
	const char *empty[] = { "" };
	const char *null[] = { NULL };
	const char *many[17];
	char        buf[256];
	int         i;

	for (i = 0; i < 17; i++)
		many[i] = "x";
	cr_assert_eq(
	    ctl_request_format(buf, sizeof(buf), "show", 1, empty), -1);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), "show", 1, null), -1);
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), "Show", 0, NULL), -1);
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), "", 0, NULL), -1);
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), NULL, 0, NULL), -1);
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), "x", -1, NULL), -1);
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), "x", 17, many), -1);
	cr_assert_eq(ctl_request_format(buf, sizeof(buf), "x", 16, many), 34);
}

Test(ctlproto, format_refuses_a_buffer_one_byte_short)
{
	const char *argv[] = { "a b" };
	char        buf[64];

	/* "show a%20b\n" is 11 bytes and needs 12 with the NUL */
	cr_assert_eq(ctl_request_format(buf, 12, "show", 1, argv), 11);
	cr_assert_eq(ctl_request_format(buf, 11, "show", 1, argv), -1);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(ctl_request_format(buf, 8, "show", 1, argv), -1);
	cr_assert_eq(ctl_request_format(buf, 1, "show", 1, argv), -1);
	cr_assert_eq(ctl_request_format(buf, 0, "show", 1, argv), -1);
}

Test(ctlproto, format_refuses_a_line_over_the_protocol_limit)
{
	static char big[CTL_LINE_MAX * 4];
	static char arg[CTL_LINE_MAX];
	const char *argv[] = { arg };

	/* "show " + 4090 + "\n" = 4096: the limit exactly */
	fill(arg, CTL_LINE_MAX - 6, 'a');
	cr_assert_eq(ctl_request_format(big, sizeof(big), "show", 1, argv),
	    CTL_LINE_MAX);
	fill(arg, CTL_LINE_MAX - 5, 'a');
	cr_assert_eq(ctl_request_format(big, sizeof(big), "show", 1, argv), -1);
	/* escaping triples a space: 1500 spaces need 4500 bytes */
	fill(arg, 1500, ' ');
	cr_assert_eq(ctl_request_format(big, sizeof(big), "show", 1, argv), -1);
}

Test(ctlproto, hostile_arguments_survive_format_and_parse)
{
	const char *argv[] = { "alice@example.org", "two words", "line\nbreak",
		"\x01\x1b[31mred", "caf\xc3\xa9", "\xff\xfe", "%41", "=",
		"\"q\"", "back\\slash", "\x7f" };
	int         argc = (int) (sizeof(argv) / sizeof(argv[0]));
	struct ctl_request r;
	char               line[CTL_LINE_MAX];
	int                n, i;

	n = ctl_request_format(line, sizeof(line), "flag", argc, argv);
	cr_assert_gt(n, 0);
	cr_assert_null(memchr(line, '\n', (size_t) n - 1));
	cr_assert_eq(ctl_request_parse(line, (size_t) n, &r, NULL, 0), 0);
	cr_assert_str_eq(r.cmd, "flag");
	cr_assert_eq(r.argc, argc);
	for (i = 0; i < argc; i++)
		cr_assert_str_eq(r.argv[i], argv[i]);
}

Test(ctlproto, random_arguments_round_trip)
{
	struct ctl_request r;
	char               args[CTL_ARGS_MAX][64];
	const char        *argv[CTL_ARGS_MAX];
	char               line[CTL_LINE_MAX];
	int                round, argc, i, n;
	size_t             len, j;

	srand(12345);
	for (round = 0; round < 2000; round++) {
		argc = rand() % (CTL_ARGS_MAX + 1);
		for (i = 0; i < argc; i++) {
			len = 1 + (size_t) (rand() % 63);
			for (j = 0; j < len; j++)
				args[i][j] = (char) (1 + rand() % 255);
			args[i][len] = '\0';
			argv[i] = args[i];
		}
		n = ctl_request_format(line, sizeof(line), "x-y", argc, argv);
		cr_assert_gt(n, 0);
		cr_assert_eq(
		    ctl_request_parse(line, (size_t) n, &r, NULL, 0), 0);
		cr_assert_eq(r.argc, argc);
		for (i = 0; i < argc; i++)
			cr_assert_str_eq(r.argv[i], argv[i]);
	}
}

Test(ctlproto, row_line_holds_escaped_pairs_in_order)
{
	struct ctl_line l;
	size_t          len = 0;
	const char     *s;

	ctl_line_init(&l, CTL_ROW);
	cr_assert_eq(ctl_line_add_str(&l, "user", "bob smith"), 0);
	cr_assert_eq(ctl_line_add_u64(&l, "held", 3), 0);
	cr_assert_eq(ctl_line_add_time(&l, "flagged_at", T_2026), 0);
	cr_assert_eq(ctl_line_add_str(&l, "reason", "recipients=301>300"), 0);
	cr_assert_eq(ctl_line_add_u64(&l, "max_u64", UINT64_MAX), 0);
	s = ctl_line_end(&l, &len);
	cr_assert_str_eq(s, "row user=bob%20smith held=3 "
			    "flagged_at=2026-11-28T02:57:14Z "
			    "reason=recipients%3D301>300 "
			    "max_u64=18446744073709551615\n");
	cr_assert_eq(len, strlen(s));
}

Test(ctlproto, ok_line_without_pairs_is_just_ok)
{
	struct ctl_line l;

	ctl_line_init(&l, CTL_OK);
	cr_assert_str_eq(ctl_line_end(&l, NULL), "ok\n");
}

Test(ctlproto, ending_a_line_twice_adds_one_newline)
{
	struct ctl_line l;
	size_t          len;

	ctl_line_init(&l, CTL_OK);
	ctl_line_add_u64(&l, "n", 1);
	ctl_line_end(&l, &len);
	cr_assert_str_eq(ctl_line_end(&l, &len), "ok n=1\n");
	cr_assert_eq(len, 7);
}

Test(ctlproto, null_value_is_written_empty)
{
	struct ctl_line l;

	ctl_line_init(&l, CTL_ROW);
	ctl_line_add_str(&l, "reason", NULL);
	cr_assert_str_eq(ctl_line_end(&l, NULL), "row reason=\n");
}

Test(ctlproto, bad_key_fails_the_whole_line)
{
	const char     *bad[] = { "", "User", "a-b", "a b", "a=b", "\xc3\xa9",
		    "abcdefghijklmnopqrstuvwxyz012345", NULL };
	struct ctl_line l;
	size_t          i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctl_line_init(&l, CTL_ROW);
		cr_assert_eq(ctl_line_add_str(&l, bad[i], "v"), -1);
		cr_assert_eq(ctl_line_add_u64(&l, "ok", 1), -1, "not sticky");
		cr_assert_null(ctl_line_end(&l, NULL));
	}
	ctl_line_init(&l, CTL_ROW);
	cr_assert_eq(
	    ctl_line_add_str(&l, "abcdefghijklmnopqrstuvwxyz_0123", "v"), 0);
}

Test(ctlproto, line_of_err_kind_cannot_be_built_with_init)
{
	struct ctl_line l;

	ctl_line_init(&l, CTL_ERR);
	cr_assert_eq(ctl_line_add_str(&l, "a", "b"), -1);
	cr_assert_null(ctl_line_end(&l, NULL));
}

Test(ctlproto, value_that_does_not_fit_fails_the_line)
{
	static char     big[CTL_REPLY_MAX];
	struct ctl_line l;

	ctl_line_init(&l, CTL_ROW);
	/* "row v=" + 8185 = 8191 bytes, the "\n" makes 8192: fits */
	cr_assert_eq(
	    ctl_line_add_str(&l, "v", fill(big, CTL_REPLY_MAX - 7, 'a')), 0);
	cr_assert_eq(strlen(ctl_line_end(&l, NULL)), CTL_REPLY_MAX);

	ctl_line_init(&l, CTL_ROW);
	cr_assert_eq(
	    ctl_line_add_str(&l, "v", fill(big, CTL_REPLY_MAX - 6, 'a')), -1);
	cr_assert_null(ctl_line_end(&l, NULL));

	/* many small pairs run out of room the same way */
	ctl_line_init(&l, CTL_ROW);
	while (ctl_line_add_str(&l, "k", "%%%%%%%%") == 0)
		;
	cr_assert_null(ctl_line_end(&l, NULL));
	cr_assert_leq(l.len, CTL_REPLY_MAX - 1);
}

Test(ctlproto, time_is_rfc3339_utc)
{
	char buf[CTL_TIME_BUFSIZE];

	cr_assert_eq(ctl_format_time(buf, sizeof(buf), T_2026), 0);
	cr_assert_str_eq(buf, "2026-11-28T02:57:14Z");
	cr_assert_eq(ctl_format_time(buf, sizeof(buf), 0), 0);
	cr_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	cr_assert_eq(ctl_format_time(buf, sizeof(buf), -1), 0);
	cr_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	cr_assert_eq(
	    ctl_format_time(buf, sizeof(buf), (time_t) 253402300799), 0);
	cr_assert_str_eq(buf, "9999-12-31T23:59:59Z");
}

Test(ctlproto, time_past_year_9999_or_small_buffer_fails)
{
	struct ctl_line l;
	char            buf[CTL_TIME_BUFSIZE];

	cr_assert_eq(
	    ctl_format_time(buf, sizeof(buf), (time_t) 253402300800), -1);
	cr_assert_eq(ctl_format_time(buf, sizeof(buf) - 1, T_2026), -1);
	ctl_line_init(&l, CTL_ROW);
	cr_assert_eq(ctl_line_add_time(&l, "t", (time_t) 253402300800), -1);
	cr_assert_null(ctl_line_end(&l, NULL));
}

Test(ctlproto, err_line_has_code_and_escaped_message)
{
	struct ctl_line l;
	size_t          len;

	cr_assert_str_eq(
	    ctl_line_err(&l, CTL_E_NOT_FOUND, "no such user: bob smith", &len),
	    "err not-found no%20such%20user:%20bob%20smith\n");
	cr_assert_eq(len, strlen(l.text));
	cr_assert_str_eq(ctl_line_err(&l, CTL_E_BUSY, "", NULL), "err busy\n");
	cr_assert_str_eq(
	    ctl_line_err(&l, CTL_E_BUSY, NULL, NULL), "err busy\n");
}

Test(ctlproto, err_line_with_bad_code_says_internal)
{
	struct ctl_line l;

	cr_assert_str_eq(
	    ctl_line_err(&l, "Bad Code", "x", NULL), "err internal x\n");
	cr_assert_str_eq(ctl_line_err(&l, NULL, "x", NULL), "err internal x\n");
}

Test(ctlproto, err_line_with_huge_message_is_cut_and_still_parses)
{
	static char      msg[CTL_REPLY_MAX];
	struct ctl_line  l;
	struct ctl_reply r;
	size_t           len;
	const char      *s;

	s = ctl_line_err(&l, CTL_E_INTERNAL, fill(msg, 5000, ' '), &len);
	cr_assert_leq(len, CTL_REPLY_MAX);
	cr_assert_eq(s[len - 1], '\n');
	cr_assert_eq(ctl_reply_parse(s, len, &r, NULL, 0), 0);
	cr_assert_eq(r.kind, CTL_ERR);
	cr_assert_gt(strlen(r.message), 2000);
	cr_assert_eq(strspn(r.message, " "), strlen(r.message));
}

Test(ctlproto, row_reply_parses_pairs_in_order)
{
	struct ctl_reply r;

	cr_assert_eq(rparse("row user=bob%20smith held=3 reason= "
			    "at=2026-11-28T02:57:14Z\n",
			 &r),
	    0);
	cr_assert_eq(r.kind, CTL_ROW);
	cr_assert_eq(r.npairs, 4);
	cr_assert_str_eq(r.pair[0].key, "user");
	cr_assert_str_eq(r.pair[0].value, "bob smith");
	cr_assert_str_eq(r.pair[1].key, "held");
	cr_assert_str_eq(r.pair[1].value, "3");
	cr_assert_str_eq(r.pair[2].value, "");
	cr_assert_str_eq(ctl_reply_get(&r, "at"), "2026-11-28T02:57:14Z");
	cr_assert_null(ctl_reply_get(&r, "missing"));
	cr_assert_null(ctl_reply_get(&r, NULL));
}

Test(ctlproto, ok_reply_with_and_without_pairs)
{
	struct ctl_reply r;

	cr_assert_eq(rparse("ok\n", &r), 0);
	cr_assert_eq(r.kind, CTL_OK);
	cr_assert_eq(r.npairs, 0);
	cr_assert_eq(rparse("ok deleted=12 hold=10 deferred=2", &r), 0);
	cr_assert_eq(r.kind, CTL_OK);
	cr_assert_eq(r.npairs, 3);
	cr_assert_str_eq(ctl_reply_get(&r, "deferred"), "2");
}

Test(ctlproto, err_reply_gives_code_and_message)
{
	struct ctl_reply r;

	cr_assert_eq(
	    rparse("err bad-user user%20name%0Ahas%20a%20newline\n", &r), 0);
	cr_assert_eq(r.kind, CTL_ERR);
	cr_assert_str_eq(r.code, "bad-user");
	cr_assert_str_eq(r.message, "user name\nhas a newline");
	cr_assert_eq(rparse("err busy\r\n", &r), 0);
	cr_assert_str_eq(r.code, "busy");
	cr_assert_str_eq(r.message, "");
}

Test(ctlproto, malformed_replies_are_refused)
{
	const char      *bad[] = { "", "\n", "rows a=1", "OK", "ok ", "ok  a=1",
		     "ok a=1 ", "row a", "row =1", "row A=1", "row a-b=1",
		     "row a=1=2", "row a=b\"", "row a=%00", "row a=%G0",
		     "row a=\x80", "row a=\t", "err", "err ", "err Bad", "err busy ",
		     "err busy two words", "err busy %zz", "err busy%20x",
		     "row abcdefghijklmnopqrstuvwxyz012345=1", " ok" };
	struct ctl_reply r;
	char             err[128];
	size_t           i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(ctl_reply_parse(
				 bad[i], strlen(bad[i]), &r, err, sizeof(err)),
		    -1, "accepted \"%s\"", bad[i]);
		cr_assert_neq(err[0], '\0');
	}
}

Test(ctlproto, reply_with_nul_or_over_limit_is_refused)
{
	static char      line[CTL_REPLY_MAX + 8];
	struct ctl_reply r;

	cr_assert_eq(ctl_reply_parse("ok a=1\0b", 8, &r, NULL, 0), -1);
	cr_assert_eq(ctl_reply_parse(NULL, 0, &r, NULL, 0), -1);

	memcpy(line, "row v=", 6);
	memset(line + 6, 'a', CTL_REPLY_MAX - 7);
	line[CTL_REPLY_MAX - 1] = '\n';
	cr_assert_eq(ctl_reply_parse(line, CTL_REPLY_MAX, &r, NULL, 0), 0);
	cr_assert_eq(strlen(r.pair[0].value), CTL_REPLY_MAX - 7);
	line[CTL_REPLY_MAX - 1] = 'a';
	line[CTL_REPLY_MAX] = '\n';
	cr_assert_eq(ctl_reply_parse(line, CTL_REPLY_MAX + 1, &r, NULL, 0), -1);
}

Test(ctlproto, thirty_two_pairs_pass_and_thirty_three_fail)
{
	struct ctl_reply r;
	char             line[512] = "row";
	int              i;

	for (i = 0; i < CTL_PAIRS_MAX; i++)
		append(line, sizeof(line), " k=v");
	cr_assert_eq(rparse(line, &r), 0);
	cr_assert_eq(r.npairs, CTL_PAIRS_MAX);
	append(line, sizeof(line), " k=v");
	cr_assert_eq(rparse(line, &r), -1);
}

Test(ctlproto, built_line_parses_back_to_the_same_values)
{
	const char      *vals[] = { "plain", "two words", "line\nbreak", "a=b",
		     "\x1b[2J", "caf\xc3\xa9", "\xff", "100%", "" };
	struct ctl_line  l;
	struct ctl_reply r;
	char             key[8];
	const char      *s;
	size_t           i, len;

	ctl_line_init(&l, CTL_ROW);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		(void) snprintf(key, sizeof(key), "k%zu", i);
		cr_assert_eq(ctl_line_add_str(&l, key, vals[i]), 0);
	}
	cr_assert_eq(ctl_line_add_time(&l, "t", T_2026), 0);
	s = ctl_line_end(&l, &len);
	cr_assert_not_null(s);
	cr_assert_eq(ctl_reply_parse(s, len, &r, NULL, 0), 0);
	cr_assert_eq(r.npairs, (int) (sizeof(vals) / sizeof(vals[0])) + 1);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		cr_assert_str_eq(r.pair[i].value, vals[i]);
	cr_assert_str_eq(ctl_reply_get(&r, "t"), "2026-11-28T02:57:14Z");
}

Test(ctlproto, json_string_escapes_quote_backslash_and_controls)
{
	char buf[128];
	int  n;

	n = ctl_json_str(buf, sizeof(buf), "a\"b\\c\nd\x01\x1f\x7f/");
	cr_assert_str_eq(buf, "\"a\\\"b\\\\c\\u000ad\\u0001\\u001f\\u007f/\"");
	cr_assert_eq(n, (int) strlen(buf));
	cr_assert_eq(ctl_json_str(buf, sizeof(buf), NULL), 2);
	cr_assert_str_eq(buf, "\"\"");
	cr_assert_eq(ctl_json_strn(buf, sizeof(buf), "a\0b", 3), 10);
	cr_assert_str_eq(buf, "\"a\\u0000b\"");
}

Test(ctlproto, json_string_keeps_valid_utf8)
{
	char buf[64];

	ctl_json_str(
	    buf, sizeof(buf), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	cr_assert_str_eq(buf, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	ctl_json_str(buf, sizeof(buf), "\xf4\x8f\xbf\xbf\xef\xbf\xbf");
	cr_assert_str_eq(buf, "\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"");
}

Test(ctlproto, json_string_replaces_ill_formed_utf8)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "\xff", "\"\\ufffd\"" },            /* never a lead */
		{ "a\x80z", "\"a\\ufffdz\"" },        /* lone continuation */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" }, /* overlong '/' */
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" }, /* overlong */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
		{ "\xf4\x90\x80\x80",
		    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },  /* > U+10FFFF */
		{ "\xe2\x82", "\"\\ufffd\"" },             /* cut at the end */
		{ "\xe2\x82x", "\"\\ufffdx\"" },           /* cut by ASCII */
		{ "\xf0\x9f\x98", "\"\\ufffd\"" },         /* 3 of 4 bytes */
		{ "\xc3\xc3\xa9", "\"\\ufffd\xc3\xa9\"" }, /* new lead */
	};
	char   buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_gt(ctl_json_str(buf, sizeof(buf), cases[i].in), 0);
		cr_assert_str_eq(buf, cases[i].out, "case %zu", i);
	}
}

Test(ctlproto, json_string_that_does_not_fit_fails_empty)
{
	char buf[8];

	cr_assert_eq(ctl_json_str(buf, 4, "a"), 3);
	cr_assert_str_eq(buf, "\"a\"");
	cr_assert_eq(ctl_json_str(buf, 3, "a"), -1);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(ctl_json_str(buf, sizeof(buf), "\x01\x01"), -1);
	cr_assert_eq(ctl_json_str(buf, 0, "a"), -1);
}

Test(ctlproto, parsers_survive_random_mutations)
{
	static const char *seeds[] = { "flag bob%20smith reason\n",
		"row user=a%20b held=3 at=2026-11-28T02:57:14Z\n",
		"err not-found no%20such%20user\n", "saslguard-control 1\n",
		"ok deleted=2\n" };
	uint8_t            buf[256];
	size_t             len, k;
	int                round, n;

	srand(777);
	for (round = 0; round < 50000; round++) {
		const char *seed = seeds[round % 5];

		len = strlen(seed);
		memcpy(buf, seed, len);
		for (k = 0; k < 1 + (size_t) (rand() % 4); k++) {
			switch (rand() % 3) {
			case 0: /* flip a byte */
				buf[rand() % len] = (uint8_t) rand();
				break;
			case 1: /* cut */
				len = (size_t) rand() % (len + 1);
				if (len == 0)
					len = 1;
				break;
			default: /* grow with random bytes */
				if (len < sizeof(buf))
					buf[len++] = (uint8_t) rand();
				break;
			}
		}
		n = ctlproto_fuzz(buf, len);
		cr_assert(n >= 0 && n <= 4);
	}
	/* json always succeeds on short input; nothing else on garbage */
	cr_assert_eq(ctlproto_fuzz((const uint8_t *) "\xff\x00\x01", 3), 1);
	cr_assert_eq(ctlproto_fuzz((const uint8_t *) "", 0), 1);
}
