/*
 * test_queueid.c - tests for common/queueid.c
 *
 * The sample IDs were produced by Postfix 3.7 (enable_long_queue_ids yes
 * and no); the long ones' creation times were checked against the queue
 * files' mtimes.  Long IDs are also built here from (seconds,
 * microseconds, inode) with the alphabet postconf(5) describes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "queueid.h"

static const char alphabet[] =
    "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

/* encode - v in base (52 or 51), at least pad digits, into buf */
static char *
encode(char *buf, uint64_t v, unsigned base, size_t pad)
{
	char   tmp[32];
	size_t n = 0, i;

	do {
		tmp[n++] = alphabet[v % base];
		v /= base;
	} while (v > 0);
	while (n < pad)
		tmp[n++] = '0';
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return buf;
}

/* long_id - a long queue ID as Postfix builds one */
static char *
long_id(char *buf, size_t len, uint64_t sec, unsigned usec, uint64_t inum)
{
	char s[32], u[32], i[32];

	(void) snprintf(buf, len, "%s%sz%s", encode(s, sec, 52, 6),
	    encode(u, usec, 52, 4), encode(i, inum, 51, 0));
	return buf;
}

Test(queueid, short_ids_from_postfix_are_valid)
{
	const char *ids[] = { "5F266A72241", "58B5CA72751", "87472A720B7",
		"6C1D6A72577", "C8D33E07DCF" };
	size_t      i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		cr_assert_eq(queueid_valid(ids[i]), 1, "%s", ids[i]);
		cr_assert_eq(
		    queueid_form(ids[i], strlen(ids[i])), QUEUEID_SHORT);
	}
}

Test(queueid, long_ids_from_postfix_are_valid)
{
	const char *ids[] = { "4jbyH15QtTz1bYTJ", "4jbyHN34c0z1bYX0",
		"4jbyHS36DWz1bYMF", "3Pt2mN2VXxznjll" };
	size_t      i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		cr_assert_eq(queueid_valid(ids[i]), 1, "%s", ids[i]);
		cr_assert_eq(
		    queueid_form(ids[i], strlen(ids[i])), QUEUEID_LONG);
	}
}

Test(queueid, long_id_time_decodes_to_its_creation_second)
{
	time_t t = 0;

	/* the queue file's mtime was 1795840749 */
	cr_assert_eq(queueid_long_time("4jbyH15QtTz1bYTJ", &t), 0);
	cr_assert_eq(t, (time_t) 1795840749);
	cr_assert_eq(queueid_long_time("5F266A72241", &t), -1);
	cr_assert_eq(queueid_long_time("4jbyH15QtTz1bYTa", &t), -1);
	cr_assert_eq(queueid_long_time(NULL, &t), -1);
}

Test(queueid, built_long_ids_are_valid_and_round_trip)
{
	const uint64_t secs[] = { 0, 1, 1795840749, 19770609663ULL, /* 52^6-1 */
		19770609664ULL, (uint64_t) INT64_MAX };
	const unsigned usecs[] = { 0, 1, 140607, 999999 };
	const uint64_t inums[] = { 0, 1, 50, 51, 1234567, UINT64_MAX };
	char           id[64];
	time_t         t;
	size_t         a, b, c;

	for (a = 0; a < sizeof(secs) / sizeof(secs[0]); a++)
		for (b = 0; b < sizeof(usecs) / sizeof(usecs[0]); b++)
			for (c = 0; c < sizeof(inums) / sizeof(inums[0]); c++) {
				long_id(id, sizeof(id), secs[a], usecs[b],
				    inums[c]);
				cr_assert_eq(queueid_valid(id), 1, "%s", id);
				cr_assert_eq(queueid_long_time(id, &t), 0);
				cr_assert_eq((uint64_t) t, secs[a], "%s", id);
			}
}

Test(queueid, z_inside_the_time_part_is_not_the_separator)
{
	char id[64];

	/* usec 140607 is "0zzz": the last 'z' is still the separator */
	long_id(id, sizeof(id), 1795840749, 140607, 7);
	cr_assert_str_eq(id, "4jbyH10zzzz7");
	cr_assert_eq(queueid_valid(id), 1);
}

Test(queueid, short_id_length_is_6_to_21)
{
	cr_assert_eq(queueid_valid("00000A"), 1);
	cr_assert_eq(queueid_valid("00000"), 0);
	cr_assert_eq(queueid_valid("F423F"
				   "FFFFFFFFFFFFFFFF"),
	    1);
	cr_assert_eq(queueid_valid("F423F"
				   "FFFFFFFFFFFFFFFF0"),
	    0);
	cr_assert_eq(queueid_valid("F423F"
				   "10000000000000000"),
	    0);
}

Test(queueid, short_id_microseconds_must_be_below_one_million)
{
	cr_assert_eq(queueid_valid("F423FA"), 1);
	cr_assert_eq(queueid_valid("F4240A"), 0);
	cr_assert_eq(queueid_valid("FFFFFA"), 0);
}

Test(queueid, long_id_microseconds_must_be_below_one_million)
{
	char id[64], u[8];

	/* 1000000 in base 52 needs the same 4 digits: "7bDP"-ish */
	(void) snprintf(
	    id, sizeof(id), "4jbyH1%sz1bYTJ", encode(u, 1000000, 52, 4));
	cr_assert_eq(strlen(id), 16);
	cr_assert_eq(queueid_valid(id), 0);
	(void) snprintf(
	    id, sizeof(id), "4jbyH1%sz1bYTJ", encode(u, 999999, 52, 4));
	cr_assert_eq(queueid_valid(id), 1);
	cr_assert_eq(queueid_valid("4jbyH1zzzzz1bYTJ"), 0);
}

Test(queueid, long_id_shapes_that_postfix_never_makes_are_invalid)
{
	const char *bad[] = {
		"4jbyH15QtTz",              /* no inode */
		"4jbyH5QtTz1bYTJ",          /* 9 time characters */
		"jbyz1",                    /* separator far too early */
		"4jbyH15QtTz1bATJ",         /* vowel in the inode */
		"4jbyA15QtTz1bYTJ",         /* vowel in the seconds */
		"4jbyH15QtTz1b-TJ",         /* not in the alphabet */
		"4jbyH15QtTz1bYTJ1bYTJ1bY", /* 13 inode characters */
		"4jbyH15QtT4jbyH15z1bYTJ",  /* 13 second characters */
		"zzzzzzzzzzzzzzzzz1",       /* 2^64 and more seconds */
		"4jbyH15QtTz1bYTJ\n",
		"4jbyH15QtTz1bY TJ",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(
		    queueid_valid(bad[i]), 0, "accepted \"%s\"", bad[i]);
}

Test(queueid, hostile_strings_are_invalid)
{
	const char *bad[] = { "", "ALL", "-d", "-", "../../etc/passwd",
		"5F266/A72241", "5F266.A72241", "5F266A7224 ", " 5F266A72241",
		"5F266A72241\n", "5f266a72241", "5F266A72G41", "5F266A72241;ls",
		"deferred/5/5F266A72241",
		"\xc3\x89"
		"5F266A72241",
		"5F266A72241"
		"5F266A72241"
		"5F266A72241" };
	size_t      i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(
		    queueid_valid(bad[i]), 0, "accepted \"%s\"", bad[i]);
	cr_assert_eq(queueid_valid(NULL), 0);
}

Test(queueid, nul_inside_the_given_length_is_invalid)
{
	cr_assert_eq(queueid_form("5F266A\0"
				  "72241",
			 12),
	    QUEUEID_INVALID);
	cr_assert_eq(queueid_form("5F266A72241", 11), QUEUEID_SHORT);
	cr_assert_eq(queueid_form("5F266A72241", 6), QUEUEID_SHORT);
	cr_assert_eq(queueid_form("5F266A72241", 5), QUEUEID_INVALID);
	cr_assert_eq(queueid_form(NULL, 3), QUEUEID_INVALID);
}

Test(queueid, list_is_one_id_per_line)
{
	const char *ids[] = { "5F266A72241", "4jbyH15QtTz1bYTJ" };
	char        buf[64];

	cr_assert_eq(queueid_list_format(buf, sizeof(buf), ids, 2), 29);
	cr_assert_str_eq(buf, "5F266A72241\n4jbyH15QtTz1bYTJ\n");
	cr_assert_eq(queueid_list_format(buf, sizeof(buf), ids, 0), 0);
	cr_assert_str_eq(buf, "");
}

Test(queueid, list_with_one_bad_id_is_refused_whole)
{
	const char *ids[] = { "5F266A72241", "ALL", "58B5CA72751" };
	const char *null[] = { "5F266A72241", NULL };
	char        buf[64];

	cr_assert_eq(queueid_list_format(buf, sizeof(buf), ids, 3), -1);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(queueid_list_format(buf, sizeof(buf), null, 2), -1);
}

Test(queueid, list_that_does_not_fit_is_refused)
{
	const char *ids[] = { "5F266A72241", "58B5CA72751" };
	char        buf[32];

	cr_assert_eq(queueid_list_format(buf, 25, ids, 2), 24);
	cr_assert_eq(queueid_list_format(buf, 24, ids, 2), -1);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(queueid_list_format(buf, 0, ids, 2), -1);
}

/* read_all - everything in the file behind fd, from the start */
static size_t
read_all(int fd, char *buf, size_t len)
{
	size_t  got = 0;
	ssize_t n;

	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	while ((n = read(fd, buf + got, len - got)) > 0)
		got += (size_t) n;
	return got;
}

Test(queueid, write_list_writes_many_ids_in_chunks)
{
	enum { N = 10000 };
	static char ids[N][24];
	static char got[N * 24];
	const char *p[N];
	char        tmpl[] = "/tmp/test_queueid.XXXXXX";
	char        err[128];
	size_t      i, len, off = 0;
	int         fd;

	for (i = 0; i < N; i++) {
		(void) snprintf(ids[i], sizeof(ids[i]), "%05X%lX",
		    (unsigned) (i * 97 % 1000000), (unsigned long) i + 1);
		p[i] = ids[i];
	}
	fd = mkstemp(tmpl);
	cr_assert_geq(fd, 0);
	unlink(tmpl);
	cr_assert_eq(
	    queueid_write_list(fd, p, N, err, sizeof(err)), 0, "%s", err);
	len = read_all(fd, got, sizeof(got));
	for (i = 0; i < N; i++) {
		size_t l = strlen(ids[i]);

		cr_assert_leq(off + l + 1, len);
		cr_assert_eq(memcmp(got + off, ids[i], l), 0);
		cr_assert_eq(got[off + l], '\n');
		off += l + 1;
	}
	cr_assert_eq(off, len);
	close(fd);
}

Test(queueid, write_list_writes_nothing_when_an_id_is_bad)
{
	const char *ids[] = { "5F266A72241", "5F266A72241;rm" };
	char        tmpl[] = "/tmp/test_queueid.XXXXXX";
	char        err[128] = "", got[64];
	int         fd;

	fd = mkstemp(tmpl);
	cr_assert_geq(fd, 0);
	unlink(tmpl);
	cr_assert_eq(queueid_write_list(fd, ids, 2, err, sizeof(err)), -1);
	cr_assert_neq(err[0], '\0');
	cr_assert_eq(read_all(fd, got, sizeof(got)), 0);
	close(fd);
}

Test(queueid, write_list_reports_a_reader_that_went_away)
{
	const char *ids[] = { "5F266A72241" };
	char        err[128] = "";
	int         pfd[2];

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(pfd), 0);
	close(pfd[0]);
	cr_assert_eq(queueid_write_list(pfd[1], ids, 1, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "write"), "%s", err);
	close(pfd[1]);
}

Test(queueid, list_argv_is_postqueue_j)
{
	const char *argv[QUEUE_ARGV_MAX];

	cr_assert_eq(
	    queue_argv(QUEUE_LIST, "/usr/sbin/postsuper", "/usr/sbin/postqueue",
		NULL, NULL, argv, QUEUE_ARGV_MAX),
	    2);
	cr_assert_str_eq(argv[0], "/usr/sbin/postqueue");
	cr_assert_str_eq(argv[1], "-j");
	cr_assert_null(argv[2]);
}

Test(queueid, list_argv_with_config_dir)
{
	const char *argv[QUEUE_ARGV_MAX];

	cr_assert_eq(
	    queue_argv(QUEUE_LIST, "/usr/sbin/postsuper", "/usr/sbin/postqueue",
		"/etc/postfix-out", NULL, argv, QUEUE_ARGV_MAX),
	    4);
	cr_assert_str_eq(argv[1], "-c");
	cr_assert_str_eq(argv[2], "/etc/postfix-out");
	cr_assert_str_eq(argv[3], "-j");
	cr_assert_null(argv[4]);
}

Test(queueid, postsuper_ops_read_ids_from_stdin)
{
	static const struct {
		enum queue_op op;
		const char   *flag;
	} ops[] = { { QUEUE_DELETE, "-d" }, { QUEUE_RELEASE, "-H" },
		{ QUEUE_REQUEUE, "-r" }, { QUEUE_HOLD, "-h" } };
	const char *argv[QUEUE_ARGV_MAX];
	size_t      i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		cr_assert_eq(queue_argv(ops[i].op, "/usr/sbin/postsuper",
				 "/usr/sbin/postqueue", NULL, NULL, argv,
				 QUEUE_ARGV_MAX),
		    3);
		cr_assert_str_eq(argv[0], "/usr/sbin/postsuper");
		cr_assert_str_eq(argv[1], ops[i].flag);
		cr_assert_str_eq(argv[2], "-");
		cr_assert_null(argv[3]);
	}
}

Test(queueid, delete_argv_with_config_dir_and_queue)
{
	const char *argv[QUEUE_ARGV_MAX];

	cr_assert_eq(queue_argv(QUEUE_DELETE, "/usr/sbin/postsuper",
			 "/usr/sbin/postqueue", "/etc/postfix-out", "hold",
			 argv, QUEUE_ARGV_MAX),
	    6);
	cr_assert_str_eq(argv[0], "/usr/sbin/postsuper");
	cr_assert_str_eq(argv[1], "-c");
	cr_assert_str_eq(argv[2], "/etc/postfix-out");
	cr_assert_str_eq(argv[3], "-d");
	cr_assert_str_eq(argv[4], "-");
	cr_assert_str_eq(argv[5], "hold");
	cr_assert_null(argv[6]);
}

Test(queueid, argv_refuses_relative_paths_bad_queues_and_small_arrays)
{
	const char *argv[QUEUE_ARGV_MAX];
	const char *ps = "/usr/sbin/postsuper", *pq = "/usr/sbin/postqueue";

	cr_assert_eq(queue_argv(QUEUE_DELETE, "postsuper", pq, NULL, NULL, argv,
			 QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(queue_argv(QUEUE_LIST, ps, "postqueue", NULL, NULL, argv,
			 QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(
	    queue_argv(QUEUE_LIST, ps, NULL, NULL, NULL, argv, QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(queue_argv(QUEUE_DELETE, ps, pq, "etc/postfix", NULL, argv,
			 QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(
	    queue_argv(QUEUE_DELETE, ps, pq, "-d", NULL, argv, QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(queue_argv(QUEUE_DELETE, ps, pq, NULL, "corrupt", argv,
			 QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(queue_argv(QUEUE_DELETE, ps, pq, NULL, "../hold", argv,
			 QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(
	    queue_argv(QUEUE_LIST, ps, pq, NULL, "hold", argv, QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(queue_argv((enum queue_op) 99, ps, pq, NULL, NULL, argv,
			 QUEUE_ARGV_MAX),
	    -1);
	cr_assert_eq(queue_argv(QUEUE_DELETE, ps, pq, NULL, NULL, argv, 3), -1);
	cr_assert_eq(queue_argv(QUEUE_DELETE, ps, pq, NULL, NULL, argv, 4), 3);
	cr_assert_eq(queue_argv(QUEUE_DELETE, ps, pq, NULL, NULL, NULL, 4), -1);
}

Test(queueid, every_queue_postsuper_knows_is_accepted)
{
	const char *queues[] = { "hold", "incoming", "active", "deferred" };
	const char *argv[QUEUE_ARGV_MAX];
	size_t      i;

	for (i = 0; i < 4; i++) {
		cr_assert_eq(queue_argv(QUEUE_REQUEUE, "/usr/sbin/postsuper",
				 "/usr/sbin/postqueue", NULL, queues[i], argv,
				 QUEUE_ARGV_MAX),
		    4);
		cr_assert_str_eq(argv[3], queues[i]);
	}
}

Test(queueid, validator_survives_random_bytes)
{
	uint8_t buf[40];
	size_t  len, i;
	int     round, valid = 0;

	srand(4242);
	for (round = 0; round < 100000; round++) {
		len = (size_t) (rand() % (int) sizeof(buf));
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t) alphabet[rand() % 52];
		if (rand() % 4 == 0 && len > 0)
			buf[rand() % len] = (uint8_t) rand();
		if (queueid_fuzz(buf, len) != QUEUEID_INVALID) {
			valid++;
			/* whatever passes is alphanumeric and short */
			cr_assert_leq(len, QUEUEID_MAX);
			for (i = 0; i < len; i++)
				cr_assert_not_null(
				    memchr(alphabet, buf[i], 52));
		}
	}
	cr_assert_gt(valid, 0);
}
