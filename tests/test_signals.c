/*
 * test_signals.c - each signal's decision, alone and together with the
 * fixed limits, and as the account table measures it
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "policy.h"
#include "signals.h"

/* limits - the fixed limits and signal settings of these tests */
static struct limits
limits(void)
{
	struct limits l;

	memset(&l, 0, sizeof(l));
	l.messages.max = 100;
	l.messages.window = 3600;
	l.recipients.max = 300;
	l.recipients.window = 3600;
	l.recipients_per_message = 50;
	l.recipient_domains.max = 10;
	l.recipient_domains.window = 3600;
	l.bounces.max = 30;
	l.bounces.window = 3600;
	l.new_network_recipients = 20;
	l.failed_logins.max = 10;
	l.failed_logins.window = 3600;
	l.failed_logins_recipients = 20;
	return l;
}

/* decide - policy_eom with an unused account, then signals_eom */
static void
decide(const struct limits *l, enum conf_mode mode,
    const struct signals_facts *f, struct policy_decision *d)
{
	struct policy_usage u;
	struct policy_facts pf;

	memset(&u, 0, sizeof(u));
	u.networks = 1;
	pf.nrcpt = f->ext_rcpts;
	pf.sender_belongs = 1;
	policy_eom(l, mode, &u, &pf, d);
	signals_eom(l, mode, 0, f, d);
}

/* quiet - the facts of an ordinary message */
static struct signals_facts
quiet(void)
{
	struct signals_facts f;

	memset(&f, 0, sizeof(f));
	f.baseline = 1;
	f.bl.ready = 1;
	f.bl.count[BASELINE_MESSAGES] = 2;
	f.bl.bar[BASELINE_MESSAGES] = 20;
	f.bl.count[BASELINE_RECIPIENTS] = 3;
	f.bl.bar[BASELINE_RECIPIENTS] = 100;
	f.domains = 1;
	f.ext_rcpts = 1;
	f.recipients = 3;
	return f;
}

Test(signals, ordinary_message_passes_with_no_signal)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.limit, LIMIT_NONE);
	cr_assert_eq(d.nsig, 0);
	cr_assert_eq(d.flag, 0);
}

Test(signals, burst_above_the_baseline_holds_and_flags)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.bl.count[BASELINE_MESSAGES] = 21;
	f.bl.broken = 1;
	f.bl.which = BASELINE_MESSAGES;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_BASELINE);
	cr_assert_eq(d.count, 21);
	cr_assert_eq(d.max, 20);
	cr_assert_eq(d.window, 3600);
	cr_assert_eq(d.flag, 1);
	cr_assert_eq(d.nsig, 1);
	cr_assert_eq(d.sig[0].limit, LIMIT_BASELINE);
}

Test(signals, baseline_that_is_off_or_not_ready_never_holds)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.bl.count[BASELINE_MESSAGES] = 99;
	f.bl.broken = 1;
	f.bl.ready = 0;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	f.bl.ready = 1;
	f.baseline = 0;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
}

Test(signals, many_external_recipients_from_a_new_network_are_held)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.new_network = 1;
	f.ext_rcpts = 20;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_NEW_NETWORK);
	cr_assert_eq(d.count, 20);
	cr_assert_eq(d.max, 20);
	cr_assert_eq(d.window, 0);
	cr_assert_eq(d.flag, 1);
}

Test(signals, same_message_from_a_known_network_passes)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.ext_rcpts = 20;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.nsig, 0);
}

Test(signals, few_recipients_from_a_new_network_pass_but_are_named)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.new_network = 1;
	f.ext_rcpts = 2;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.nsig, 1);
	cr_assert_eq(d.sig[0].limit, LIMIT_NEW_NETWORK);
	cr_assert_eq(d.sig[0].count, 2);
}

Test(signals, new_network_recipients_of_zero_turns_the_signal_off)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	l.new_network_recipients = 0;
	f.new_network = 1;
	f.ext_rcpts = 45;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.nsig, 0);
}

Test(signals, failures_then_a_success_then_a_burst_is_one_story)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.failures = 37;
	f.recipients = 21;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_FAILED_LOGINS);
	cr_assert_eq(d.count, 37);
	cr_assert_eq(d.max, 10);
	cr_assert_eq(d.window, 3600);
	cr_assert_eq(d.nsig, 1);
}

Test(signals, failures_without_a_burst_pass)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.failures = 37;
	f.recipients = 15;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.nsig, 1);
	cr_assert_eq(d.sig[0].limit, LIMIT_FAILED_LOGINS);
	/* fewer failures than the limit: no story at all */
	f.failures = 9;
	f.recipients = 200;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.nsig, 0);
}

Test(signals, failures_from_a_new_network_halve_the_bar)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.failures = 12;
	f.recipients = 11;
	f.ext_rcpts = 5;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	f.new_network = 1;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_FAILED_LOGINS);
}

Test(signals, too_many_external_domains_hold)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.domains = 10;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	f.domains = 11;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_RECIPIENT_DOMAINS);
	cr_assert_eq(d.count, 11);
	cr_assert_eq(d.max, 10);
}

Test(signals, bounce_surge_holds_the_accounts_own_mail)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.bounces = 31;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_BACKSCATTER);
}

Test(signals, fixed_limit_keeps_its_reason_and_signals_are_still_named)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	l.recipients_per_message = 10;
	f.ext_rcpts = 25;
	f.new_network = 1;
	f.failures = 37;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.limit, LIMIT_RCPT_PER_MESSAGE);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.nsig, 2);
	cr_assert_eq(d.sig[0].limit, LIMIT_NEW_NETWORK);
	cr_assert_eq(d.sig[1].limit, LIMIT_FAILED_LOGINS);
	cr_assert_eq(d.sig[1].count, 37);
}

Test(signals, every_signal_present_is_named_in_a_fixed_order)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.bl.broken = 1;
	f.bl.count[BASELINE_MESSAGES] = 212;
	f.bl.bar[BASELINE_MESSAGES] = 60;
	f.domains = 40;
	f.bounces = 31;
	f.new_network = 1;
	f.ext_rcpts = 30;
	f.failures = 37;
	f.recipients = 250;
	decide(&l, MODE_ENFORCE, &f, &d);
	cr_assert_eq(d.nsig, 5);
	cr_assert_eq(d.sig[0].limit, LIMIT_BASELINE);
	cr_assert_eq(d.sig[0].count, 212);
	cr_assert_eq(d.sig[0].max, 60);
	cr_assert_eq(d.sig[1].limit, LIMIT_RECIPIENT_DOMAINS);
	cr_assert_eq(d.sig[2].limit, LIMIT_BACKSCATTER);
	cr_assert_eq(d.sig[3].limit, LIMIT_NEW_NETWORK);
	cr_assert_eq(d.sig[4].limit, LIMIT_FAILED_LOGINS);
	/* the strongest story is the reason */
	cr_assert_eq(d.limit, LIMIT_FAILED_LOGINS);
}

Test(signals, monitor_mode_would_hold_and_flags_nothing)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	f.new_network = 1;
	f.ext_rcpts = 30;
	decide(&l, MODE_MONITOR, &f, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.monitor, 1);
	cr_assert_eq(d.flag, 0);
	cr_assert_eq(d.limit, LIMIT_NEW_NETWORK);
}

Test(signals, flagged_account_is_not_flagged_again)
{
	struct limits          l = limits();
	struct signals_facts   f = quiet();
	struct policy_decision d;

	memset(&d, 0, sizeof(d));
	f.new_network = 1;
	f.ext_rcpts = 30;
	signals_eom(&l, MODE_ENFORCE, 1, &f, &d);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.flag, 0);
}

Test(signals, bounce_over_the_limit_flags_the_account)
{
	struct limits          l = limits();
	struct policy_decision d;

	signals_bounce(&l, MODE_ENFORCE, 0, 30, &d);
	cr_assert_eq(d.limit, LIMIT_NONE);
	cr_assert_eq(d.flag, 0);
	signals_bounce(&l, MODE_ENFORCE, 0, 31, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.limit, LIMIT_BACKSCATTER);
	cr_assert_eq(d.count, 31);
	cr_assert_eq(d.max, 30);
	cr_assert_eq(d.window, 3600);
	cr_assert_eq(d.flag, 1);
	signals_bounce(&l, MODE_ENFORCE, 1, 32, &d);
	cr_assert_eq(d.flag, 0);
	signals_bounce(&l, MODE_MONITOR, 0, 32, &d);
	cr_assert_eq(d.flag, 0);
	cr_assert_eq(d.monitor, 1);
	l.bounces.max = 0;
	signals_bounce(&l, MODE_ENFORCE, 0, 1000, &d);
	cr_assert_eq(d.limit, LIMIT_NONE);
}

static char  local_dom[] = "example.org";
static char *local_doms[] = { local_dom };

/* conf_with_local - a conf whose local_domains is [ "example.org" ] */
static struct conf *
conf_with_local(void)
{
	struct conf *c = conf_default();

	cr_assert_not_null(c);
	c->local_domains = local_doms;
	c->nlocal_domains = 1;
	return c;
}

/* conf_done - drop c without freeing the static list */
static void
conf_done(struct conf *c)
{
	c->local_domains = NULL;
	c->nlocal_domains = 0;
	conf_unref(c);
}

Test(signals, internal_and_external_recipients_are_counted_apart)
{
	struct conf       *c = conf_with_local();
	struct signals_msg m;

	signals_msg_reset(&m);
	signals_msg_rcpt(&m, c, "bob@example.org");
	signals_msg_rcpt(&m, c, "carol");
	signals_msg_rcpt(&m, c, "x@ext.test");
	signals_msg_rcpt(&m, c, "y@ext.test");
	signals_msg_rcpt(&m, c, "z@other.test");
	cr_assert_eq(m.int_rcpts, 2);
	cr_assert_eq(m.ext_rcpts, 3);
	cr_assert_eq(m.ndomains, 2);
	cr_assert_eq(m.domain[0], signals_domain_key("ext.test"));
	conf_done(c);
}

Test(signals, without_local_domains_every_recipient_is_external)
{
	struct conf       *c = conf_default();
	struct signals_msg m;

	signals_msg_reset(&m);
	signals_msg_rcpt(&m, c, "bob@example.org");
	signals_msg_rcpt(&m, c, "carol");
	cr_assert_eq(m.int_rcpts, 0);
	cr_assert_eq(m.ext_rcpts, 2);
	conf_unref(c);
}

Test(signals, domains_past_the_per_message_set_are_counted_as_distinct)
{
	struct conf       *c = conf_default();
	struct signals_msg m;
	char               a[64];
	int                i;

	signals_msg_reset(&m);
	for (i = 0; i < SIGNALS_MSG_DOMAINS + 5; i++) {
		snprintf(a, sizeof(a), "u@d%d.test", i);
		signals_msg_rcpt(&m, c, a);
		signals_msg_rcpt(&m, c, a);
	}
	cr_assert_eq(m.ndomains, SIGNALS_MSG_DOMAINS);
	cr_assert_eq(m.more_domains, 10);
	cr_assert_eq(m.ext_rcpts, 2 * (SIGNALS_MSG_DOMAINS + 5));
	conf_unref(c);
}

Test(signals, bounce_recipients_are_kept_once_up_to_the_cap)
{
	struct signals_msg m;
	char               a[64];
	int                i;

	signals_msg_reset(&m);
	signals_msg_bounce_rcpt(&m, "alice@example.org");
	signals_msg_bounce_rcpt(&m, "alice@example.org");
	signals_msg_bounce_rcpt(&m, "");
	cr_assert_eq(m.nbounce, 1);
	cr_assert_str_eq(m.bounce_rcpt[0], "alice@example.org");
	for (i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "u%d@example.org", i);
		signals_msg_bounce_rcpt(&m, a);
	}
	cr_assert_eq(m.nbounce, SIGNALS_MSG_BOUNCES);
}

/* The signals measured by the account table, with an injected clock. */

#define T0   ((time_t) 1700000000)
#define HOUR 3600
#define DAY  (24 * HOUR)

/* table_conf - default signals, small fixed limits out of the way */
static struct conf *
table_conf(void)
{
	struct conf *c = conf_default();

	cr_assert_not_null(c);
	c->limits.messages.max = 1000;
	c->limits.recipients.max = 10000;
	c->limits.recipients_per_message = 100;
	c->limits.sender_mismatch = 0;
	c->limits.bounces.max = 3;
	c->limits.failed_logins.max = 2;
	c->limits.failed_logins_recipients = 10;
	return c;
}

/* eom - one message of user from network net to m's recipients */
static struct policy_decision
eom(struct accounts *a, struct conf *c, const char *user, uint64_t net,
    const struct signals_msg *m, time_t now)
{
	struct accounts_txn    t;
	struct policy_decision d;

	memset(&t, 0, sizeof(t));
	t.user = user;
	t.sender = user;
	t.sender_ok = 1;
	t.nrcpt = m->ext_rcpts + m->int_rcpts;
	t.net = net;
	t.have_net = 1;
	cr_assert_eq(accounts_eom_signals(a, c, &t, m, now, &d), 0);
	return d;
}

/* rcpts - a message to n external recipients at ext.test */
static void
rcpts(struct conf *c, struct signals_msg *m, int n)
{
	char a[64];
	int  i;

	signals_msg_reset(m);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "r%d@ext.test", i);
		signals_msg_rcpt(m, c, a);
	}
}

/* week - a quiet week for user from net: two messages a day */
static void
week(struct accounts *a, struct conf *c, const char *user, uint64_t net)
{
	struct signals_msg m;
	int                d;

	rcpts(c, &m, 1);
	for (d = 0; d < 7; d++) {
		cr_assert_eq(
		    eom(a, c, user, net, &m, T0 + d * DAY + 9 * HOUR).action,
		    ACTION_PASS);
		cr_assert_eq(
		    eom(a, c, user, net, &m, T0 + d * DAY + 15 * HOUR).action,
		    ACTION_PASS);
	}
}

Test(signals, table_holds_many_recipients_from_a_new_network_only)
{
	struct accounts       *a = accounts_create();
	struct conf           *c = table_conf();
	struct signals_msg     m;
	struct policy_decision d;
	time_t                 t = T0 + 7 * DAY + 10 * HOUR;

	week(a, c, "home@x", 11);
	week(a, c, "away@x", 11);
	rcpts(c, &m, 25);
	d = eom(a, c, "home@x", 11, &m, t);
	cr_assert_eq(d.action, ACTION_PASS, "limit %d", d.limit);
	d = eom(a, c, "away@x", 99, &m, t);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_NEW_NETWORK);
	cr_assert_eq(d.flag, 1);
	conf_unref(c);
	accounts_destroy(a);
}

Test(signals, table_holds_a_burst_of_a_quiet_account)
{
	struct accounts       *a = accounts_create();
	struct conf           *c = table_conf();
	struct signals_msg     m;
	struct policy_decision d;
	time_t                 t = T0 + 7 * DAY + 10 * HOUR;
	int                    i;

	week(a, c, "quiet@x", 11);
	rcpts(c, &m, 1);
	for (i = 0; i < 20; i++)
		cr_assert_eq(eom(a, c, "quiet@x", 11, &m, t + i).action,
		    ACTION_PASS, "message %d", i);
	d = eom(a, c, "quiet@x", 11, &m, t + 20);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_BASELINE);
	cr_assert_eq(d.count, 21);
	cr_assert_eq(d.max, 20);
	conf_unref(c);
	accounts_destroy(a);
}

Test(signals, table_flags_an_account_on_a_bounce_surge)
{
	struct accounts       *a = accounts_create();
	struct conf           *c = table_conf();
	struct policy_decision d;
	int                    i;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(accounts_bounce(a, c, "v@x", T0 + i, &d), 0);
		cr_assert_eq(d.flag, 0);
	}
	cr_assert_eq(accounts_flagged_p(a, "v@x"), 0);
	cr_assert_eq(accounts_bounce(a, c, "v@x", T0 + 3, &d), 0);
	cr_assert_eq(d.limit, LIMIT_BACKSCATTER);
	cr_assert_eq(d.flag, 1);
	cr_assert_eq(accounts_flagged_p(a, "v@x"), 1);
	conf_unref(c);
	accounts_destroy(a);
}

Test(signals, table_counts_failed_logins_before_a_burst)
{
	struct accounts       *a = accounts_create();
	struct conf           *c = table_conf();
	struct signals_msg     m;
	struct policy_decision d;
	struct account_view    v;

	cr_assert_eq(accounts_auth_failure(a, c, "f@x", T0), 0);
	cr_assert_eq(accounts_auth_failure(a, c, "f@x", T0 + 1), 0);
	accounts_view(a, c, "f@x", T0 + 2, &v);
	cr_assert_eq(v.failures, 2);
	rcpts(c, &m, 11);
	d = eom(a, c, "f@x", 11, &m, T0 + 5);
	cr_assert_eq(d.limit, LIMIT_FAILED_LOGINS);
	/* another account, without failures, passes */
	d = eom(a, c, "g@x", 11, &m, T0 + 5);
	cr_assert_eq(d.action, ACTION_PASS);
	conf_unref(c);
	accounts_destroy(a);
}

Test(signals, table_counts_distinct_external_domains_over_messages)
{
	struct accounts       *a = accounts_create();
	struct conf           *c = table_conf();
	struct signals_msg     m;
	struct policy_decision d;
	char                   r[64];
	int                    i;

	c->limits.recipient_domains.max = 5;
	for (i = 0; i < 5; i++) {
		signals_msg_reset(&m);
		snprintf(r, sizeof(r), "a@d%d.test", i);
		signals_msg_rcpt(&m, c, r);
		signals_msg_rcpt(&m, c, "b@d0.test");
		d = eom(a, c, "dom@x", 11, &m, T0 + i);
		cr_assert_eq(d.action, ACTION_PASS, "message %d", i);
	}
	signals_msg_reset(&m);
	signals_msg_rcpt(&m, c, "c@d9.test");
	d = eom(a, c, "dom@x", 11, &m, T0 + 10);
	cr_assert_eq(d.limit, LIMIT_RECIPIENT_DOMAINS);
	cr_assert_eq(d.count, 6);
	conf_unref(c);
	accounts_destroy(a);
}

Test(signals, table_counts_distinct_external_recipients_over_messages)
{
	struct accounts       *a = accounts_create();
	struct conf           *c = table_conf();
	struct signals_msg     m;
	struct policy_decision d;
	char                   r[64];
	int                    i;

	c->limits.distinct_recipients.max = 8;
	/* the same two recipients every time count twice, not ten times */
	for (i = 0; i < 5; i++) {
		signals_msg_reset(&m);
		signals_msg_rcpt(&m, c, "boss@partner.test");
		signals_msg_rcpt(&m, c, "team@partner.test");
		d = eom(a, c, "rcp@x", 2, &m, T0 + i);
		cr_assert_eq(d.action, ACTION_PASS, "message %d", i);
	}
	/* six new ones: 8 in all, still at the limit */
	signals_msg_reset(&m);
	for (i = 0; i < 6; i++) {
		snprintf(r, sizeof(r), "n%d@else.test", i);
		signals_msg_rcpt(&m, c, r);
	}
	d = eom(a, c, "rcp@x", 6, &m, T0 + 10);
	cr_assert_eq(d.action, ACTION_PASS);
	/* the ninth distinct recipient breaks it */
	signals_msg_reset(&m);
	signals_msg_rcpt(&m, c, "ninth@else.test");
	signals_msg_rcpt(&m, c, "boss@partner.test");
	d = eom(a, c, "rcp@x", 2, &m, T0 + 11);
	cr_assert_eq(d.limit, LIMIT_DISTINCT_RECIPIENTS);
	cr_assert_eq(d.count, 9);
	cr_assert_eq(d.max, 8);
	/* after the window the old ones are forgotten */
	accounts_unflag(a, "rcp@x");
	signals_msg_reset(&m);
	signals_msg_rcpt(&m, c, "later@else.test");
	d = eom(a, c, "rcp@x", 1, &m, T0 + 3 * HOUR);
	cr_assert_eq(d.action, ACTION_PASS);
	conf_unref(c);
	accounts_destroy(a);
}

Test(signals, history_outlives_the_account_entry_and_round_trips)
{
	struct accounts        *a = accounts_create(), *b = accounts_create();
	struct conf            *c = table_conf();
	struct account_history *h;
	struct account_view     v;
	struct policy_decision  d;
	struct signals_msg      m;
	const char             *name;
	char                    key[32];
	size_t                  n, i, k;
	size_t                  tracked, flagged;
	double                  val;

	week(a, c, "quiet@x", 11);
	/* the entry goes with its windows; the history stays */
	cr_assert_eq(accounts_expire(a, c, T0 + 7 * DAY + 2 * HOUR), 1);
	accounts_count(a, &tracked, &flagged);
	cr_assert_eq(tracked, 0);
	accounts_view(a, c, "quiet@x", T0 + 7 * DAY + 2 * HOUR, &v);
	cr_assert(v.has_history);
	cr_assert(v.baseline_ready);
	cr_assert_eq(v.known_networks, 1);
	/* written out once, then only when changed again */
	cr_assert_eq(accounts_history_collect(a, &h, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(h[0].user, "quiet@x");
	cr_assert_eq(h[0].nnets, 1);
	for (i = 0; i < n; i++) {
		for (k = 0; baseline_export(&h[i].bl, k, &name, &val) == 0; k++)
			cr_assert_eq(accounts_history_load(b, c, h[i].user,
					 name, val, T0 + 7 * DAY),
			    0);
		snprintf(key, sizeof(key), "net:%llx",
		    (unsigned long long) h[i].nets[0].key);
		cr_assert_eq(accounts_history_load(b, c, h[i].user, key,
				 (double) h[i].nets[0].seen, T0 + 7 * DAY),
		    0);
	}
	cr_assert_eq(accounts_history_load(b, c, "quiet@x", "bogus", 1, T0), 1);
	accounts_history_free(h, n);
	cr_assert_eq(accounts_history_collect(a, &h, &n), 0);
	cr_assert_eq(n, 0);
	accounts_history_free(h, n);
	/* the loaded copy judges as the original would */
	rcpts(c, &m, 25);
	d = eom(b, c, "quiet@x", 99, &m, T0 + 7 * DAY + 3 * HOUR);
	cr_assert_eq(d.limit, LIMIT_NEW_NETWORK);
	/* after baseline.keep of silence the history goes too */
	accounts_expire(a, c, T0 + 40 * DAY);
	accounts_view(a, c, "quiet@x", T0 + 40 * DAY, &v);
	cr_assert_not(v.has_history);
	conf_unref(c);
	accounts_destroy(a);
	accounts_destroy(b);
}
