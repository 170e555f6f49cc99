/*
 * test_logparse.c - tests for common/logparse.c and common/logtime.c
 *
 * Real line shapes: classic syslog and RFC 3339 timestamps, lines without
 * host or pid (Dovecot's own files), multi-instance Postfix program tags,
 * long and short queue IDs, IPv4 and IPv6 clients, saslguard's own lines.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "logparse.h"
#include "logtime.h"

/* parse - header and event of line; asserts the header parses */
static enum lp_kind
parse(const char *line, struct lp_head *h, struct lp_event *ev)
{
	cr_assert_eq(
	    lp_head_parse(line, strlen(line), h), 0, "no header: %s", line);
	return lp_event_parse(h, ev);
}

/* is - 1 when span s holds exactly c */
static int
is(struct lp_span s, const char *c)
{
	return lp_span_eq(s, c);
}

/* covers - 1 when any byte of span s lies inside line at needle */
static int
covers(struct lp_span s, const char *line, const char *needle)
{
	const char *p = strstr(line, needle);

	if (p == NULL || s.n == 0)
		return 0;
	return s.p < p + strlen(needle) && p < s.p + s.n;
}

Test(logtime, classic_timestamp_with_padded_day_has_no_year)
{
	struct logtime t;

	cr_assert_eq(logtime_parse("Nov  8 02:57:14 mx", 18, &t), 15);
	cr_assert_eq(t.year, 0);
	cr_assert_eq(t.mon, 11);
	cr_assert_eq(t.mday, 8);
	cr_assert_eq(t.hour, 2);
	cr_assert_eq(t.sec, 14);
	cr_assert_eq(logtime_parse("Nov 08 02:57:14", 15, &t), 15);
	cr_assert_eq(t.mday, 8);
}

Test(logtime, rfc3339_with_fraction_and_zone)
{
	struct logtime t;
	const char    *s = "2026-11-28T02:57:14.123456+01:00 mx";

	cr_assert_eq(logtime_parse(s, strlen(s), &t), 32);
	cr_assert_eq(t.year, 2026);
	cr_assert_eq(t.usec, 123456);
	cr_assert_eq(t.has_zone, 1);
	cr_assert_eq(t.tzoff, 3600);
	s = "2026-11-28T02:57:14Z";
	cr_assert_eq(logtime_parse(s, strlen(s), &t), 20);
	cr_assert_eq(t.tzoff, 0);
	cr_assert_eq(t.has_zone, 1);
}

Test(logtime, rfc3339_without_zone_and_space_form)
{
	struct logtime t;
	const char    *s = "2026-11-28T02:57:14.5 mx";

	cr_assert_eq(logtime_parse(s, strlen(s), &t), 21);
	cr_assert_eq(t.has_zone, 0);
	cr_assert_eq(t.usec, 500000);
	s = "2026-11-28 02:00";
	cr_assert_eq(logtime_parse(s, strlen(s), &t), 16);
	cr_assert_eq(t.hour, 2);
	cr_assert_eq(t.sec, 0);
}

Test(logtime, rejects_invalid_dates_and_words)
{
	struct logtime t;

	cr_assert_eq(logtime_parse("Foo 28 02:57:14", 15, &t), 0);
	cr_assert_eq(logtime_parse("2026-02-30T00:00:00", 19, &t), 0);
	cr_assert_eq(logtime_parse("Nov 28 25:57:14", 15, &t), 0);
	cr_assert_eq(logtime_parse("Nov 28 02:57:14x", 16, &t), 0);
}

Test(logtime, split_inverts_civil)
{
	struct logtime t = { .year = 2024,
		.mon = 2,
		.mday = 29,
		.hour = 23,
		.min = 59,
		.sec = 58 };
	struct logtime u;

	logtime_split(logtime_civil(&t), &u);
	cr_assert_eq(u.year, 2024);
	cr_assert_eq(u.mon, 2);
	cr_assert_eq(u.mday, 29);
	cr_assert_eq(u.hour, 23);
	cr_assert_eq(u.min, 59);
	cr_assert_eq(u.sec, 58);
	cr_assert_eq(logtime_days(1970, 1, 1), 0);
}

Test(logtime, december_line_before_january_reference_is_last_year)
{
	struct logtime dec,
	    ref = { .year = 2026, .mon = 1, .mday = 1, .hour = 2 };

	logtime_parse("Dec 31 23:59:59", 15, &dec);
	cr_assert_eq(logtime_guess_year(&dec, logtime_civil(&ref)), 2025);
	ref.mon = 12;
	ref.mday = 31;
	ref.hour = 23;
	ref.min = 59;
	ref.sec = 59;
	cr_assert_eq(logtime_guess_year(&dec, logtime_civil(&ref)), 2026);
}

Test(logtime, january_after_december_line_rolls_into_next_year)
{
	struct logtime jan, dec,
	    prev = { .year = 2025,
		    .mon = 12,
		    .mday = 31,
		    .hour = 23,
		    .min = 59,
		    .sec = 58 };

	logtime_parse("Jan  1 00:00:01", 15, &jan);
	cr_assert_eq(logtime_near_year(&jan, logtime_civil(&prev)), 2026);
	/* a line slightly out of order stays in its year */
	logtime_parse("Dec 31 23:59:50", 15, &dec);
	prev.year = 2026;
	prev.mon = 1;
	prev.mday = 1;
	prev.hour = 0;
	prev.min = 0;
	prev.sec = 3;
	cr_assert_eq(logtime_near_year(&dec, logtime_civil(&prev)), 2025);
}

Test(logparse, submission_smtpd_with_sasl_user)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(
	    parse("Nov 28 02:57:14 mx postfix/submission/smtpd[2101]: "
		  "5F266A72241: client=unknown[127.0.0.1], "
		  "sasl_method=PLAIN, sasl_username=alice@example.test",
		&h, &ev),
	    LP_SUBMIT);
	cr_assert(is(h.host, "mx"));
	cr_assert(is(h.instance, "postfix"));
	cr_assert(is(h.daemon, "smtpd"));
	cr_assert(is(h.pid, "2101"));
	cr_assert(is(ev.qid, "5F266A72241"));
	cr_assert(is(ev.client, "127.0.0.1"));
	cr_assert(is(ev.user, "alice@example.test"));
}

Test(logparse, daemon_is_the_last_tag_component)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov  8 02:57:14 mx postfix/smtp/smtpd[7]: "
			   "4Ym9Qk0gS9z8Tv: client=unknown[2001:db8::25], "
			   "sasl_method=PLAIN, sasl_username=dave@example.test",
			 &h, &ev),
	    LP_SUBMIT);
	cr_assert_eq(h.daemon_id, LP_D_SMTPD);
	cr_assert(is(ev.qid, "4Ym9Qk0gS9z8Tv"));
	cr_assert(is(ev.client, "2001:db8::25"));
	cr_assert_eq(h.ts.mday, 8);
}

Test(logparse, second_instance_delivery_sent)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("2026-11-28T02:57:14.123456+01:00 mx "
			   "postfix-out/smtp[2300]: C0FFEE1234: "
			   "to=<pal@partner.test>, relay=mx.partner.test"
			   "[192.0.2.99]:25, delay=1, delays=0/0/0.5/0.5, "
			   "dsn=2.0.0, status=sent (250 ok)",
			 &h, &ev),
	    LP_DELIVERY);
	cr_assert(is(h.instance, "postfix-out"));
	cr_assert_eq(h.daemon_id, LP_D_DELIVERY);
	cr_assert_eq(h.ts.tzoff, 3600);
	cr_assert_eq(ev.status, LP_ST_SENT);
	cr_assert(is(ev.rcpt, "pal@partner.test"));
	cr_assert_eq(ev.newqid.n, 0);
}

Test(logparse, deferred_delivery)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/smtp[9]: 58B5CA72751: "
			   "to=<d1@ext.test>, relay=none, delay=0.14, "
			   "delays=0.05/0.09/0/0, dsn=4.4.1, status=deferred "
			   "(connect to 127.0.0.1[127.0.0.1]:10026: Connection "
			   "refused)",
			 &h, &ev),
	    LP_DELIVERY);
	cr_assert_eq(ev.status, LP_ST_DEFERRED);
}

Test(logparse, content_filter_reply_names_the_new_queue_id)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/smtp[9]: 3A1B2C01F3: "
			   "to=<pal@partner.test>, relay=127.0.0.1[127.0.0.1]"
			   ":10024, delay=3, delays=1/0/0/2, dsn=2.0.0, "
			   "status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]"
			   ":10025): 250 2.0.0 Ok: queued as C0FFEE1234)",
			 &h, &ev),
	    LP_DELIVERY);
	cr_assert(is(ev.newqid, "C0FFEE1234"));
}

Test(logparse, orig_queue_id_on_reinjection)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/smtpd[9]: C0FFEE1234: "
			   "client=localhost[127.0.0.1], orig_queue_id="
			   "3A1B2C01F3, orig_client=unknown[198.51.100.7]",
			 &h, &ev),
	    LP_SUBMIT);
	cr_assert(is(ev.newqid, "3A1B2C01F3"));
	cr_assert_eq(ev.has_orig, 1);
	cr_assert_eq(ev.user.n, 0);
}

Test(logparse, qmgr_queued_and_removed)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/qmgr[1]: 5F266A72241: "
			   "from=<alice@example.test>, size=380, nrcpt=12 "
			   "(queue active)",
			 &h, &ev),
	    LP_QUEUED);
	cr_assert(is(ev.sender, "alice@example.test"));
	cr_assert_eq(ev.size, 380);
	cr_assert_eq(ev.nrcpt, 12);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/qmgr[1]: 5F266A72241: "
			   "removed",
			 &h, &ev),
	    LP_REMOVED);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/qmgr[1]: 5F266A72241: "
			   "from=<a@b.test>, status=expired, returned to "
			   "sender",
			 &h, &ev),
	    LP_EXPIRED);
}

Test(logparse, postsuper_actions)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/postsuper[5]: "
			   "5F266A72241: removed",
			 &h, &ev),
	    LP_DELETED);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/postsuper[5]: "
			   "5F266A72241: released from hold",
			 &h, &ev),
	    LP_RELEASED);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/postsuper[5]: "
			   "5F266A72241: placed on hold",
			 &h, &ev),
	    LP_HELD);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/postsuper[5]: "
			   "5F266A72241: requeued",
			 &h, &ev),
	    LP_REQUEUED);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/postsuper[5]: "
			   "Deleted: 3 messages",
			 &h, &ev),
	    LP_IGNORED);
}

Test(logparse, cleanup_milter_hold_and_bounce_notification)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/cleanup[3]: "
			   "5F266A72241: milter-hold: END-OF-MESSAGE from "
			   "unknown[127.0.0.1]: milter triggers HOLD action; "
			   "from=<a@b.test> to=<c@d.test> proto=ESMTP helo=<x>",
			 &h, &ev),
	    LP_HOLD);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/bounce[4]: "
			   "5F266A72241: sender non-delivery notification: "
			   "6A7B8C9D0E",
			 &h, &ev),
	    LP_NOTIFY);
	cr_assert(is(ev.newqid, "6A7B8C9D0E"));
}

Test(logparse, failed_login_names_the_account_tried)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/submission/smtpd[8]: "
			   "warning: unknown[203.0.113.67]: SASL LOGIN "
			   "authentication failed: authentication failure, "
			   "sasl_username=ghost@example.test",
			 &h, &ev),
	    LP_AUTH_FAIL);
	cr_assert(is(ev.client, "203.0.113.67"));
	cr_assert(is(ev.user, "ghost@example.test"));
	cr_assert_eq(ev.authsrc, LP_AUTH_FRONT);
	cr_assert_eq(ev.qid.n, 0);
}

Test(logparse, failed_login_without_name_and_ipv6)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/smtpd[8]: warning: "
			   "unknown[2001:db8::66]: SASL PLAIN authentication "
			   "failed: UGFzc3dvcmQ6",
			 &h, &ev),
	    LP_AUTH_FAIL);
	cr_assert(is(ev.client, "2001:db8::66"));
	cr_assert_eq(ev.user.n, 0);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/smtpd[8]: warning: "
			   "SASL authentication failure: Password verification "
			   "failed",
			 &h, &ev),
	    LP_IGNORED);
}

Test(logparse, saslguard_hold_values_are_escaped)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx saslguard[900]: "
			   "4Xk2Lm0ZzQz9vK: hold: user=al%20ice@example.org "
			   "sender=<x@y> rcpts=48 client=203.0.113.9 "
			   "limit=recipients count=301 max=300 window=1h",
			 &h, &ev),
	    LP_SG_DECISION);
	cr_assert_eq(ev.sg, LP_SG_HOLD);
	cr_assert_eq(ev.escaped, 1);
	cr_assert(is(ev.qid, "4Xk2Lm0ZzQz9vK"));
	cr_assert(is(ev.user, "al%20ice@example.org"));
	cr_assert(is(ev.sender, "x@y"));
	cr_assert_eq(ev.nrcpt, 48);
	cr_assert(is(ev.limit, "recipients"));
	cr_assert_eq(ev.count, 301);
	cr_assert_eq(ev.max, 300);
	cr_assert(is(ev.window, "1h"));
}

Test(logparse, saslguard_noqueue_and_control)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(
	    parse("Nov 28 02:57:14 mx saslguard[900]: NOQUEUE: "
		  "tempfail: user=alice@example.test client=198.51.100.7 "
		  "limit=flagged",
		&h, &ev),
	    LP_SG_DECISION);
	cr_assert_eq(ev.sg, LP_SG_TEMPFAIL);
	cr_assert_eq(ev.qid.n, 0);
	cr_assert_eq(parse("Nov 28 02:57:14 mx saslguard[900]: control: uid=0 "
			   "action=delete user=alice@example.test deleted=5200",
			 &h, &ev),
	    LP_SG_CONTROL);
	cr_assert_eq(ev.uid, 0);
	cr_assert(is(ev.action, "delete"));
	cr_assert_eq(ev.deleted, 5200);
}

Test(logparse, dovecot_own_file_without_host_keeps_password_out)
{
	struct lp_head  h;
	struct lp_event ev;
	const char     *line = "Nov 28 02:57:14 auth: Info: passwd-file("
			       "erin@example.test,203.0.113.80,<Qw12>): "
			       "Password mismatch (given password: hunter2)";

	cr_assert_eq(parse(line, &h, &ev), LP_AUTH_FAIL);
	cr_assert_eq(h.host.n, 0);
	cr_assert(is(h.tag, "auth"));
	cr_assert(is(ev.user, "erin@example.test"));
	cr_assert(is(ev.client, "203.0.113.80"));
	cr_assert_eq(ev.authsrc, LP_AUTH_BACKEND);
	cr_assert(!covers(ev.user, line, "hunter2"));
	cr_assert(!covers(ev.client, line, "hunter2"));
	cr_assert(!covers(ev.sender, line, "hunter2"));
}

Test(logparse, dovecot_login_process_counts_attempts)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("2026-11-28 02:57:14 imap-login: Info: Disconnected "
			   "(auth failed, 3 attempts in 12 secs): "
			   "user=<bob@example.test>, method=PLAIN, "
			   "rip=203.0.113.70, lip=192.0.2.1, TLS",
			 &h, &ev),
	    LP_AUTH_FAIL);
	cr_assert_eq(h.ts.year, 2026);
	cr_assert_eq(ev.count, 3);
	cr_assert(is(ev.user, "bob@example.test"));
	cr_assert(is(ev.client, "203.0.113.70"));
	cr_assert_eq(ev.authsrc, LP_AUTH_FRONT);
}

Test(logparse, dovecot_via_syslog_login)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx dovecot: imap-login: Login: "
			   "user=<alice@example.test>, method=PLAIN, "
			   "rip=198.51.100.7, lip=192.0.2.1, mpid=4242, TLS",
			 &h, &ev),
	    LP_LOGIN);
	cr_assert(is(ev.user, "alice@example.test"));
	cr_assert(is(ev.client, "198.51.100.7"));
}

Test(logparse, saslauthd_failures)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx saslauthd[812]: do_auth        "
			   " : auth failure: [user=carol] [service=smtp] "
			   "[realm=example.test] [mech=pam] [reason=PAM auth "
			   "error]",
			 &h, &ev),
	    LP_AUTH_FAIL);
	cr_assert(is(ev.user, "carol"));
	cr_assert(is(ev.realm, "example.test"));
	cr_assert_eq(ev.authsrc, LP_AUTH_BACKEND);
	cr_assert_eq(parse("Nov 28 02:57:14 mx saslauthd[812]: pam_unix(smtp:"
			   "auth): authentication failure; logname= uid=0 "
			   "euid=0 tty= ruser= rhost=  user=carol",
			 &h, &ev),
	    LP_AUTH_FAIL);
	cr_assert(is(ev.user, "carol"));
	cr_assert_eq(ev.authsrc, LP_AUTH_PAM);
}

Test(logparse, words_are_not_queue_ids)
{
	struct lp_head  h;
	struct lp_event ev;

	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/qmgr[1]: statistics: "
			   "removed",
			 &h, &ev),
	    LP_IGNORED);
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/smtpd[1]: connect from "
			   "unknown[203.0.113.5]",
			 &h, &ev),
	    LP_IGNORED);
	cr_assert_eq(
	    parse("Nov 28 02:57:14 mx CRON[7]: (root) CMD (true)", &h, &ev),
	    LP_IGNORED);
}

/*
 * The word searches and the queue-ID test look at sixteen bytes at a time;
 * a needle may sit anywhere, also in the last bytes of a line.
 */
Test(logparse, status_is_found_at_every_offset)
{
	struct lp_head  h;
	struct lp_event ev;
	char            line[512], relay[64];
	size_t          k;

	for (k = 0; k < 40; k++) {
		memset(relay, 'x', k);
		relay[k] = '\0';
		snprintf(line, sizeof(line),
		    "Nov 28 02:57:14 mx postfix/smtp[9]: 4F2A1B3C5D: "
		    "to=<b@example.net>, relay=%s, status=sent",
		    relay);
		cr_assert_eq(parse(line, &h, &ev), LP_DELIVERY, "%s", line);
		cr_assert_eq(ev.status, LP_ST_SENT, "%s", line);
		snprintf(line, sizeof(line),
		    "Nov 28 02:57:14 mx postfix/smtp[9]: 4F2A1B3C5D: "
		    "to=<b@example.net>, relay=%s, status=sen",
		    relay);
		cr_assert_eq(parse(line, &h, &ev), LP_IGNORED, "%s", line);
	}
}

Test(logparse, queue_ids_of_every_length_and_near_misses)
{
	static const struct {
		const char *qid;
		int         ok;
	} cases[] = {
		{ "4F2A1", 1 }, { "4F2A1B3C5D", 1 }, { "4F2A1B3C5D6E7F80", 1 },
		{ "4F2A", 0 }, { "4F2A1B3C5D6E7F801", 0 }, { "4F2a1B3C5D", 0 },
		{ "4F2G1B3C5D", 0 }, { "3Lq8fK0lz6zJ7H9", 1 },
		{ "3Lq8fK0lA6zJ7H9", 0 }, /* a vowel */
		{ "3Lq8fK0lb6xJ7H9", 0 }, /* no 'z' */
	};
	struct lp_head  h;
	struct lp_event ev;
	char            line[256];
	size_t          i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line),
		    "Nov 28 02:57:14 mx postfix/qmgr[9]: %s: removed",
		    cases[i].qid);
		cr_assert_eq(parse(line, &h, &ev),
		    cases[i].ok ? LP_REMOVED : LP_IGNORED, "%s", line);
		if (cases[i].ok)
			cr_assert(is(ev.qid, cases[i].qid));
	}
	/* too short to test sixteen bytes at once */
	cr_assert_eq(parse("Nov 28 02:57:14 mx postfix/qmgr[9]: 4F2A1B: "
			   "removed",
			 &h, &ev),
	    LP_REMOVED);
	cr_assert(is(ev.qid, "4F2A1B"));
}

/* names up to sixteen bytes are checked at once, longer ones byte by byte */
Test(logparse, program_names_short_long_and_bad)
{
	static const struct {
		const char *tag, *instance, *daemon;
	} good[] = {
		{ "postfix/qmgr[900]", "postfix", "qmgr" },
		{ "postfix-out/smtp[1]", "postfix-out", "smtp" },
		{ "postfix/submission/smtpd[2]", "postfix", "smtpd" },
		{ "postfix/smtps/smtpd/x/y/z/smtpd[3]", "postfix", "smtpd" },
		{ "saslguard[7]", "saslguard", "saslguard" },
		{ "0123456789abcdef[1]", "0123456789abcdef",
		    "0123456789abcdef" },
		{ "dovecot", "dovecot", "dovecot" },
		{ "a/b", "a", "b" },
	};
	static const char *bad[] = {
		"post\001fix/qmgr[1]",
		"postfix/qm\303\251r[1]",
		"postfix/submission/smt\177d[1]",
		"postfix/submission/smtp\377[1]",
		"/qmgr[1]",
		"postfix/[1]",
		"[1]",
	};
	struct lp_head h;
	char           line[256];
	size_t         i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "Nov 28 02:57:14 mx %s: x",
		    good[i].tag);
		cr_assert_eq(
		    lp_head_parse(line, strlen(line), &h), 0, "%s", line);
		cr_assert(is(h.instance, good[i].instance), "%s", line);
		cr_assert(is(h.daemon, good[i].daemon), "%s", line);
		cr_assert(is(h.text, "x"), "%s", line);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(
		    line, sizeof(line), "Nov 28 02:57:14 mx %s: x", bad[i]);
		cr_assert_eq(
		    lp_head_parse(line, strlen(line), &h), -1, "%s", line);
	}
}

Test(logparse, garbage_is_not_a_line)
{
	struct lp_head h;
	const char     bin[] = "\x00\x01\xff\xfe garbage";

	cr_assert_eq(lp_head_parse(bin, sizeof(bin) - 1, &h), -1);
	cr_assert_eq(lp_head_parse("Nov 28 02:57:14", 15, &h), -1);
	cr_assert_eq(lp_head_parse("Nov 28 02:57:14 mx", 18, &h), -1);
	cr_assert_eq(
	    lp_head_parse("Nov 28 02:57:14 mx no tag here", 30, &h), -1);
}
