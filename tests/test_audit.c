/*
 * test_audit.c - tests for tools/audit*.c over the logs in
 * tests/data/audit/
 *
 * The fixture is one incident around a new year: mail.log.2.gz (Dec 31,
 * gzipped: normal mail, a password-guessing run against alice), mail.log.1
 * (Dec 31 23:50 to Jan 1 00:30: alice's burst from 198.51.100.7/.8, 30
 * messages to 10 recipients each delivered, then saslguard holds and
 * flags, 30 held), mail.log (Jan 1: the held mail deleted, RFC 3339 lines
 * mixed in, garbage and a cut last line), dovecot.log (Dovecot's own
 * format, a "given password" line) and syslog (50 lines repeated from
 * mail.log.1).  The time zone is UTC.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "audit.h"

#ifndef AUDIT_DATA
#define AUDIT_DATA "tests/data/audit"
#endif

#define T_BURST    1767225430 /* 2025-12-31T23:57:10Z */
#define T_FIRST    1767211201 /* 2025-12-31T20:00:01Z */
#define T_LOG_ENDS 1767234600 /* 2026-01-01T02:30:00Z */

static void
utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

TestSuite(audit, .init = utc);

/* run - audit the fixture files named (relative to AUDIT_DATA) */
static void
run(struct audit *a, struct audit_opts *o, const char *const *names, int n)
{
	char *paths[8], err[256];
	int   i;

	cr_assert(n <= 8);
	for (i = 0; i < n; i++) {
		size_t len = strlen(AUDIT_DATA) + strlen(names[i]) + 2;

		paths[i] = malloc(len);
		snprintf(paths[i], len, "%s/%s", AUDIT_DATA, names[i]);
	}
	if (o->since_us == 0 && o->until_us == 0) {
		o->since_us = AUDIT_NO_MIN;
		o->until_us = AUDIT_NO_MAX;
	}
	if (o->now == 0)
		o->now = T_LOG_ENDS;
	audit_init(a, o);
	cr_assert_eq(audit_run(a, paths, n, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < n; i++)
		free(paths[i]);
}

/* report - the text (or JSON) report of a as a string, to be freed */
static char *
report(const struct audit *a, int json)
{
	char  *buf = NULL;
	size_t len = 0;
	FILE  *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(
	    json ? audit_report_json(a, fp) : audit_report_text(a, fp), 0);
	fclose(fp);
	return buf;
}

/* write_file - a temporary file with content; returns its path */
static char *
write_file(const char *content, size_t len)
{
	char *path = strdup("/tmp/test_audit.XXXXXX");
	int   fd = mkstemp(path);

	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, content, len), (ssize_t) len);
	close(fd);
	return path;
}

static const char *const rotated[] = { "mail.log", "mail.log.2.gz",
	"mail.log.1" };

Test(audit, rotated_files_out_of_order_across_new_year)
{
	struct audit_opts  o = { 0 };
	struct audit       a;
	struct audit_user *u;

	run(&a, &o, rotated, 3);
	cr_assert_eq(a.first_us, T_FIRST * AUDIT_US);
	u = audit_find_user(&a, "alice@example.test");
	cr_assert_not_null(u);
	cr_assert_eq(u->c[AC_MESSAGES], 60);
	cr_assert_eq(u->c[AC_RECIPIENTS], 600);
	cr_assert_eq(u->c[AC_DELIVERED], 300);
	cr_assert_eq(u->c[AC_HELD], 30);
	cr_assert_eq(u->c[AC_DELETED], 30);
	cr_assert_eq(u->first_us, T_BURST * AUDIT_US);
	cr_assert_eq(u->addrs.used, 2);
	u = audit_find_user(&a, "bob@example.test");
	cr_assert_not_null(u);
	cr_assert_eq(u->c[AC_MESSAGES], 4);
	cr_assert_eq(u->c[AC_DEFERRED], 1);
	cr_assert_eq(u->c[AC_DELIVERED], 4);
	audit_free(&a);
}

Test(audit, file_order_does_not_change_the_result)
{
	static const char *const other[] = { "mail.log.1", "mail.log",
		"mail.log.2.gz" };
	struct audit_opts        o1 = { 0 }, o2 = { 0 };
	struct audit             a, b;
	char                    *r1, *r2;

	run(&a, &o1, rotated, 3);
	run(&b, &o2, other, 3);
	r1 = report(&a, 1);
	r2 = report(&b, 1);
	cr_assert_str_eq(r1, r2);
	free(r1);
	free(r2);
	audit_free(&a);
	audit_free(&b);
}

Test(audit, incident_names_account_start_addresses_and_held_count)
{
	struct audit_opts      o = { 0 };
	struct audit           a;
	struct audit_incident *inc;
	char                   s[512];

	run(&a, &o, rotated, 3);
	cr_assert_eq(a.ninc, 1);
	inc = a.inc[0];
	cr_assert_str_eq(inc->user->name, "alice@example.test");
	cr_assert_eq(inc->start_us, T_BURST * AUDIT_US);
	cr_assert_eq(inc->c[AC_MESSAGES], 60);
	cr_assert_eq(inc->c[AC_ESCAPED], 30);
	cr_assert_eq(inc->c[AC_DELIVERED], 300);
	cr_assert_eq(inc->c[AC_HELD], 30);
	cr_assert_eq(inc->c[AC_DELETED], 30);
	cr_assert_eq(inc->domains.used, 37);
	cr_assert_eq(inc->addrs.used, 2);
	audit_summary(s, sizeof(s), inc);
	cr_assert_str_eq(s,
	    "alice@example.test: 30 messages to 300 recipients in 37 domains "
	    "escaped between 2025-12-31 23:57 and 2026-01-01 00:08; 30 held, "
	    "0 released, 30 deleted.");
	audit_free(&a);
}

Test(audit, incident_reports_failed_logins_before_it)
{
	struct audit_opts      o = { 0 };
	struct audit           a;
	struct audit_incident *inc;

	run(&a, &o, rotated, 3);
	inc = a.inc[0];
	/* every 3 minutes 22:00..23:54 from .66, plus 3 Dovecot attempts */
	cr_assert_eq(inc->fail_day, 42);
	cr_assert_eq(inc->fail_hour, 22);
	cr_assert_geq(inc->nfail_addrs, 2);
	cr_assert_str_eq(inc->fail_addrs[0].key, "203.0.113.66");
	cr_assert_eq(inc->fail_addrs[0].n, 39);
	audit_free(&a);
}

Test(audit, names_tried_in_failed_logins_are_not_senders)
{
	struct audit_opts  o = { 0 };
	struct audit       a;
	struct audit_fail *f;
	size_t             n = strlen("ghost@example.test");

	run(&a, &o, rotated, 3);
	cr_assert_null(audit_find_user(&a, "ghost@example.test"));
	f = amap_get(&a.fail_user, "ghost@example.test", n,
	    amap_hash("ghost@example.test", n));
	cr_assert_not_null(f);
	cr_assert_eq(audit_fail_count(f), 5);
	/* one Dovecot attempt logged twice (login and auth process) */
	f = amap_get(
	    &a.fail_addr, "203.0.113.70", 12, amap_hash("203.0.113.70", 12));
	cr_assert_not_null(f);
	cr_assert_eq(audit_fail_count(f), 3);
	audit_free(&a);
}

Test(audit, hand_over_and_reused_queue_id)
{
	struct audit_opts  o = { 0 };
	struct audit       a;
	struct audit_user *u;

	run(&a, &o, rotated, 3);
	/* carol's message went through a content filter: one delivery */
	u = audit_find_user(&a, "carol@example.test");
	cr_assert_not_null(u);
	cr_assert_eq(u->c[AC_MESSAGES], 1);
	cr_assert_eq(u->c[AC_RECIPIENTS], 1);
	cr_assert_eq(u->c[AC_DELIVERED], 1);
	/* dave: one bounced, one sent; the bounce's own delivery is not his */
	u = audit_find_user(&a, "dave@example.test");
	cr_assert_not_null(u);
	cr_assert_eq(u->c[AC_BOUNCED], 1);
	cr_assert_eq(u->c[AC_DELIVERED], 1);
	audit_free(&a);
}

Test(audit, duplicate_lines_of_syslog_count_once)
{
	static const char *const names[] = { "mail.log", "syslog",
		"mail.log.2.gz", "mail.log.1" };
	struct audit_opts        o = { 0 };
	struct audit             a;
	struct audit_user       *u;

	run(&a, &o, names, 4);
	cr_assert_eq(a.st.duplicate, 50);
	u = audit_find_user(&a, "alice@example.test");
	cr_assert_eq(u->c[AC_MESSAGES], 60);
	cr_assert_eq(u->c[AC_DELIVERED], 300);
	audit_free(&a);
}

Test(audit, every_line_is_counted_once)
{
	struct audit_opts   o = { 0 };
	struct audit        a;
	struct audit_stats *st = &a.st;

	run(&a, &o, rotated, 3);
	cr_assert_eq(st->malformed, 1);
	cr_assert_eq(st->truncated, 1);
	cr_assert_eq(st->unmatched, 1);
	cr_assert_eq(st->read, st->used + st->ignored + st->unmatched +
				   st->malformed + st->too_long +
				   st->truncated + st->duplicate +
				   st->out_of_range);
	audit_free(&a);
}

Test(audit, secrets_never_reach_any_output)
{
	static const char *const names[] = { "dovecot.log", "mail.log",
		"mail.log.2.gz", "mail.log.1" };
	struct audit_opts        o = { 0 };
	struct audit             a;
	char                    *text, *json, *svg = NULL;
	size_t                   len = 0;
	FILE                    *fp;

	o.svg = "unused";
	run(&a, &o, names, 4);
	text = report(&a, 0);
	json = report(&a, 1);
	fp = open_memstream(&svg, &len);
	cr_assert_eq(audit_svg(&a, fp), 0);
	fclose(fp);
	cr_assert_not_null(strstr(text, "erin@example.test"));
	cr_assert_null(strstr(text, "hunter2"));
	cr_assert_null(strstr(json, "hunter2"));
	cr_assert_null(strstr(svg, "hunter2"));
	free(text);
	free(json);
	free(svg);
	audit_free(&a);
}

Test(audit, json_has_the_documented_keys)
{
	struct audit_opts o = { 0 };
	struct audit      a;
	char             *j;

	run(&a, &o, rotated, 3);
	j = report(&a, 1);
	cr_assert_not_null(strstr(j, "\"users\": ["));
	cr_assert_not_null(strstr(j, "{\"user\": \"alice@example.test\", "
				     "\"messages\": 60, \"recipients\": 600"));
	cr_assert_not_null(strstr(j, "\"client_addresses\": [\"198.51.100.7\", "
				     "\"198.51.100.8\"]"));
	cr_assert_not_null(strstr(j, "\"first_seen\": "
				     "\"2025-12-31T23:57:10+00:00\""));
	cr_assert_not_null(strstr(j, "\"auth_failures\": ["));
	cr_assert_not_null(strstr(j, "{\"client_address\": \"203.0.113.66\", "
				     "\"count\": 39"));
	cr_assert_not_null(strstr(j, "\"incidents\": ["));
	cr_assert_not_null(
	    strstr(j, "\"start\": \"2025-12-31T23:57:10+00:00\""));
	cr_assert_not_null(strstr(j, "\"held\": 30"));
	free(j);
	audit_free(&a);
}

Test(audit, year_comes_from_the_file_time_without_now)
{
	static const char  line[] = "Dec 31 23:59:59 mx postfix/smtpd[1]: "
				    "0123456789: client=unknown[192.0.2.1], "
				    "sasl_method=PLAIN, sasl_username=x@y.test\n"
				    "Jan  1 00:00:01 mx postfix/qmgr[2]: "
				    "0123456789: from=<x@y.test>, size=1, "
				    "nrcpt=1 (queue active)\n";
	struct audit_opts  o = { 0 };
	struct audit       a;
	struct audit_user *u;
	struct timeval     tv[2];
	char              *path = write_file(line, sizeof(line) - 1), err[256];

	tv[0].tv_sec = tv[1].tv_sec = 1767229200; /* 2026-01-01T01:00Z */
	tv[0].tv_usec = tv[1].tv_usec = 0;
	cr_assert_eq(utimes(path, tv), 0);
	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &path, 1, err, sizeof(err)), 0);
	u = audit_find_user(&a, "x@y.test");
	cr_assert_not_null(u);
	cr_assert_eq(u->first_us, 1767225599LL * AUDIT_US);
	cr_assert_eq(u->last_us, 1767225601LL * AUDIT_US);
	cr_assert_eq(u->c[AC_RECIPIENTS], 1);
	audit_free(&a);
	unlink(path);
	free(path);
}

Test(audit, long_line_garbage_and_cut_line_are_skipped)
{
	const char       *ok = "Jan  1 00:00:01 mx postfix/smtpd[1]: "
			       "0123456789: client=unknown[192.0.2.1], "
			       "sasl_method=PLAIN, sasl_username=x@y.test\n";
	size_t            big = 1024 * 1024 + 10, n = 0, k = strlen(ok);
	char             *buf = malloc(3 * k + big + 64), *path, err[256];
	struct audit_opts o = { 0 };
	struct audit      a;

	memcpy(buf + n, ok, k);
	n += k;
	memset(buf + n, 'A', big);
	n += big;
	buf[n++] = '\n';
	memcpy(buf + n, "\x01\xff\x00garbage\n", 11);
	n += 11;
	memcpy(buf + n, ok, k);
	n += k;
	memcpy(buf + n, ok, k - 20); /* no newline: still being written */
	n += k - 20;
	path = write_file(buf, n);
	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &path, 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(a.st.read, 5);
	cr_assert_eq(a.st.used, 2);
	cr_assert_eq(a.st.too_long, 1);
	cr_assert_eq(a.st.malformed, 1);
	cr_assert_eq(a.st.truncated, 1);
	audit_free(&a);
	unlink(path);
	free(path);
	free(buf);
}

Test(audit, standard_input_is_read)
{
	struct audit_opts  o = { 0 };
	struct audit       a;
	char              *dash = "-", err[256];
	struct audit_user *u;

	cr_assert_not_null(freopen(AUDIT_DATA "/mail.log.1", "r", stdin));
	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &dash, 1, err, sizeof(err)), 0, "%s", err);
	u = audit_find_user(&a, "alice@example.test");
	cr_assert_not_null(u);
	cr_assert_eq(u->c[AC_MESSAGES], 60);
	audit_free(&a);
}

Test(audit, since_and_until_limit_the_lines)
{
	struct audit_opts  o = { 0 };
	struct audit       a;
	struct audit_user *u;

	cr_assert_eq(audit_parse_time("2026-01-01 00:00", &o.since_us), 0);
	cr_assert_eq(audit_parse_time("2026-01-01T00:30:00Z", &o.until_us), 0);
	run(&a, &o, rotated, 3);
	cr_assert_gt(a.st.out_of_range, 0);
	cr_assert_geq(a.first_us, o.since_us);
	cr_assert_leq(a.last_us, o.until_us);
	u = audit_find_user(&a, "alice@example.test");
	cr_assert_not_null(u);
	cr_assert_lt(u->c[AC_MESSAGES], 60);
	audit_free(&a);
}

Test(audit, svg_is_a_document_with_escaped_names)
{
	static const char log[] = "Jan  1 00:00:01 mx postfix/smtpd[1]: "
				  "0123456789: client=unknown[192.0.2.1], "
				  "sasl_method=PLAIN, sasl_username=a<b&c\n";
	struct audit_opts o = { 0 };
	struct audit      a;
	char             *path = write_file(log, sizeof(log) - 1), *svg = NULL;
	char              err[256];
	size_t            len = 0;
	FILE             *fp;

	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	o.svg = "unused";
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &path, 1, err, sizeof(err)), 0);
	fp = open_memstream(&svg, &len);
	cr_assert_eq(audit_svg(&a, fp), 0);
	fclose(fp);
	cr_assert_eq(strncmp(svg, "<?xml", 5), 0);
	cr_assert_not_null(strstr(svg, "a&lt;b&amp;c"));
	cr_assert_null(strstr(svg, "a<b"));
	cr_assert_str_eq(svg + len - 7, "</svg>\n");
	free(svg);
	audit_free(&a);
	unlink(path);
	free(path);
}

Test(audit, svg_marks_incident_and_failed_logins)
{
	struct audit_opts o = { 0 };
	struct audit      a;
	char             *svg = NULL;
	size_t            len = 0;
	FILE             *fp;

	o.svg = "unused";
	run(&a, &o, rotated, 3);
	fp = open_memstream(&svg, &len);
	cr_assert_eq(audit_svg(&a, fp), 0);
	fclose(fp);
	cr_assert_not_null(strstr(svg, "class=\"incident\""));
	cr_assert_not_null(strstr(svg, "class=\"failed-login\""));
	cr_assert_not_null(strstr(svg, "alice@example.test"));
	free(svg);
	audit_free(&a);
}

Test(audit, main_reports_usage_and_missing_files)
{
	char *noargs[] = { "audit", NULL };
	char *missing[] = { "audit", "/nonexistent/mail.log", NULL };
	char *badtime[] = { "audit", "--since", "yesterday", "x", NULL };

	cr_assert(freopen("/dev/null", "w", stderr) != NULL);
	cr_assert_eq(audit_main(1, noargs), 2);
	cr_assert_eq(audit_main(4, badtime), 2);
	cr_assert_eq(audit_main(2, missing), 1);
}

/* burst_log - lines pre, then n messages of user u from 192.0.2.9, one
 * every step seconds from Jan 1 00:00:00 */
static char *
burst_log(const char *pre, const char *u, int n, int step)
{
	char  *buf = NULL, *path;
	size_t len = 0;
	FILE  *fp = open_memstream(&buf, &len);
	int    i, t;

	cr_assert_not_null(fp);
	if (pre != NULL)
		fputs(pre, fp);
	for (i = 0; i < n; i++) {
		t = i * step;
		fprintf(fp,
		    "Jan  1 %02d:%02d:%02d mx postfix/submission/smtpd[1]: "
		    "%010X: client=unknown[192.0.2.9], sasl_method=PLAIN, "
		    "sasl_username=%s\n",
		    t / 3600, t / 60 % 60, t % 60, 0x100000 + i, u);
		fprintf(fp,
		    "Jan  1 %02d:%02d:%02d mx postfix/qmgr[2]: %010X: "
		    "from=<%s>, size=100, nrcpt=1 (queue active)\n",
		    t / 3600, t / 60 % 60, t % 60, 0x100000 + i, u);
	}
	fclose(fp);
	path = write_file(buf, len);
	free(buf);
	return path;
}

Test(audit, burst_without_saslguard_opens_an_incident_at_its_first_message)
{
	struct audit_opts o = { 0 };
	struct audit      a;
	char *path = burst_log(NULL, "eve@example.test", 80, 5), err[256];

	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &path, 1, err, sizeof(err)), 0);
	cr_assert_eq(a.ninc, 1);
	cr_assert_eq(a.inc[0]->start_us, 1767225600LL * AUDIT_US);
	cr_assert_eq(a.inc[0]->c[AC_MESSAGES], 80);
	cr_assert_eq(a.inc[0]->c[AC_RECIPIENTS], 80);
	audit_free(&a);
	unlink(path);
	free(path);
}

Test(audit, steady_mail_below_the_burst_rate_is_no_incident)
{
	struct audit_opts o = { 0 };
	struct audit      a;
	char             *path = burst_log(NULL, "frank@example.test", 80, 60);
	char              err[256];

	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &path, 1, err, sizeof(err)), 0);
	cr_assert_eq(a.ninc, 0);
	cr_assert_eq(
	    audit_find_user(&a, "frank@example.test")->c[AC_MESSAGES], 80);
	audit_free(&a);
	unlink(path);
	free(path);
}

Test(audit, failed_logins_in_the_first_second_of_a_burst_count_as_before)
{
	static const char fails[] =
	    "Jan  1 00:00:00 mx postfix/submission/smtpd[1]: warning: "
	    "unknown[192.0.2.77]: SASL LOGIN authentication failed: "
	    "authentication failure, sasl_username=eve@example.test\n"
	    "Jan  1 00:00:00 mx postfix/submission/smtpd[1]: warning: "
	    "unknown[192.0.2.78]: SASL LOGIN authentication failed: "
	    "authentication failure, sasl_username=eve@example.test\n"
	    "Jan  1 00:00:00 mx postfix/submission/smtpd[1]: warning: "
	    "unknown[192.0.2.78]: SASL LOGIN authentication failed: "
	    "authentication failure, sasl_username=eve@example.test\n";
	struct audit_opts      o = { 0 };
	struct audit           a;
	struct audit_incident *inc;
	char *path = burst_log(fails, "eve@example.test", 80, 5), err[256];

	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &path, 1, err, sizeof(err)), 0);
	cr_assert_eq(a.ninc, 1);
	inc = a.inc[0];
	cr_assert_eq(inc->start_us, 1767225600LL * AUDIT_US);
	cr_assert_eq(inc->fail_hour, 3);
	cr_assert_eq(inc->nfail_addrs, 2);
	cr_assert_str_eq(inc->fail_addrs[0].key, "192.0.2.78");
	cr_assert_eq(inc->fail_addrs[0].n, 2);
	cr_assert_str_eq(inc->fail_addrs[1].key, "192.0.2.77");
	cr_assert_eq(inc->fail_addrs[1].n, 1);
	audit_free(&a);
	unlink(path);
	free(path);
}

Test(audit, failed_logins_merged_late_from_another_file_still_count_as_before)
{
	static const char fails[] =
	    "Jan  1 00:00:00 mx postfix/submission/smtpd[1]: warning: "
	    "unknown[192.0.2.77]: SASL LOGIN authentication failed: "
	    "authentication failure, sasl_username=eve@example.test\n"
	    "Jan  1 00:00:00 mx postfix/submission/smtpd[1]: warning: "
	    "unknown[192.0.2.78]: SASL LOGIN authentication failed: "
	    "authentication failure, sasl_username=eve@example.test\n";
	struct audit_opts o = { 0 };
	struct audit      a;
	char             *paths[2], err[256];

	/* the burst's file first: its lines of 00:00:00 are read first */
	paths[0] = burst_log(NULL, "eve@example.test", 80, 5);
	paths[1] = write_file(fails, sizeof(fails) - 1);
	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	o.burst = 1; /* the first message opens the incident */
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, paths, 2, err, sizeof(err)), 0);
	cr_assert_eq(a.ninc, 1);
	cr_assert_eq(a.inc[0]->start_us, 1767225600LL * AUDIT_US);
	cr_assert_eq(a.inc[0]->fail_hour, 2);
	cr_assert_eq(a.inc[0]->nfail_addrs, 2);
	audit_free(&a);
	unlink(paths[0]);
	unlink(paths[1]);
	free(paths[0]);
	free(paths[1]);
}

/* stderr_of_run - audit path with progress p, every 1 us; stderr text */
static char *
stderr_of_run(char *path, int p)
{
	struct audit_opts o = { 0 };
	struct audit      a;
	char              err[256], *out = strdup("/tmp/test_audit_err.XXXXXX");
	char             *buf;
	int               fd = mkstemp(out);
	FILE             *fp;
	long              len;

	cr_assert_neq(fd, -1);
	close(fd);
	cr_assert(freopen(out, "w", stderr) != NULL);
	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T_LOG_ENDS;
	o.progress = p;
	o.progress_us = 1;
	audit_init(&a, &o);
	cr_assert_eq(audit_run(&a, &path, 1, err, sizeof(err)), 0);
	cr_assert_eq(a.st.read, 20000);
	audit_free(&a);
	fflush(stderr);
	fp = fopen(out, "r");
	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t) len + 1);
	cr_assert_eq(fread(buf, 1, (size_t) len, fp), (size_t) len);
	fclose(fp);
	unlink(out);
	free(out);
	return buf;
}

Test(audit, progress_shows_bytes_of_total_percent_and_rate_then_clears)
{
	char       *path = burst_log(NULL, "pat@example.test", 10000, 1);
	char       *e = stderr_of_run(path, 1), total[64];
	struct stat sb;
	size_t      n = strlen(e);

	cr_assert_eq(stat(path, &sb), 0);
	snprintf(
	    total, sizeof(total), " of %.1f MB (", (double) sb.st_size / 1e6);
	cr_assert_not_null(strstr(e, "\rreading "), "%s", e);
	cr_assert_not_null(strstr(e, total), "%s", e);
	cr_assert_not_null(strstr(e, "%), "), "%s", e);
	cr_assert_not_null(strstr(e, " MB/s"), "%s", e);
	/* the line is cleared at the end */
	cr_assert_geq(n, 4);
	cr_assert_str_eq(e + n - 4, "\r\033[K");
	free(e);
	unlink(path);
	free(path);
}

Test(audit, no_progress_when_it_is_off)
{
	char *path = burst_log(NULL, "pat@example.test", 10000, 1);
	char *e = stderr_of_run(path, 0);

	cr_assert_str_eq(e, "");
	free(e);
	unlink(path);
	free(path);
}

Test(audit, help_lists_every_option_and_the_exit_status)
{
	static const char *const opts[] = { "--json", "--svg", "--since",
		"--until", "--user", "--now", "--burst", "--suggest-limits",
		"--verify", "--progress", "--no-progress", "--help",
		"Exit status: 0", "2 usage", NULL };
	char                    *argv[] = { "audit", "--help", NULL };
	char   out[] = "/tmp/test_audit_help.XXXXXX", buf[8192];
	int    fd = mkstemp(out), i;
	FILE  *fp;
	size_t n;

	cr_assert_neq(fd, -1);
	close(fd);
	cr_assert(freopen(out, "w", stdout) != NULL);
	cr_assert_eq(audit_main(2, argv), 0);
	fflush(stdout);
	fp = fopen(out, "r");
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	unlink(out);
	for (i = 0; opts[i] != NULL; i++)
		cr_assert_not_null(strstr(buf, opts[i]), "%s missing", opts[i]);
}
