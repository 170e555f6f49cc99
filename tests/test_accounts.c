/*
 * test_accounts.c - the per-user table with an injected clock
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "conf.h"

static struct conf *
small_conf(void)
{
	struct conf *c = conf_default();

	cr_assert_not_null(c);
	c->limits.messages.max = 3;
	c->limits.messages.window = 3600;
	c->limits.recipients.max = 10;
	c->limits.recipients.window = 3600;
	c->limits.recipients_per_message = 5;
	c->limits.client_addresses.max = 2;
	c->limits.client_addresses.window = 3600;
	c->limits.sender_mismatch = 1;
	return c;
}

static struct policy_decision
send1(struct accounts *a, struct conf *c, const char *user,
    const char *sender, uint32_t nrcpt, uint64_t net, time_t now)
{
	struct accounts_txn t = { user, sender, 1, nrcpt, net, 1 };
	struct policy_decision d;

	cr_assert_eq(accounts_eom(a, c, &t, now, &d), 0);
	return d;
}

#define T0 1700000000

Test(accounts, burst_is_held_at_the_limit_and_account_stays_flagged)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct policy_decision d;
	int i;

	for (i = 0; i < 3; i++) {
		d = send1(a, c, "alice@x.test", "alice@x.test", 1, 1, T0 + i);
		cr_assert_eq(d.action, ACTION_PASS, "message %d", i + 1);
	}
	d = send1(a, c, "alice@x.test", "alice@x.test", 1, 1, T0 + 3);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_MESSAGES);
	cr_assert_eq(d.flag, 1);
	cr_assert_eq(accounts_flagged_p(a, "alice@x.test"), 1);
	/* hours later, the window is empty, but the latch holds */
	d = send1(a, c, "alice@x.test", "alice@x.test", 1, 1, T0 + 86400);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_FLAGGED);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, users_are_counted_apart)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	int i;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(send1(a, c, "a@x", "a@x", 1, 1, T0).action,
		    ACTION_PASS);
		cr_assert_eq(send1(a, c, "b@x", "b@x", 1, 1, T0).action,
		    ACTION_PASS);
	}
	cr_assert_eq(accounts_flagged_p(a, "a@x"), 0);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, window_slides_so_steady_senders_are_never_held)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	int i;

	/* 3 per hour, forever: one every 20 minutes plus a margin */
	for (i = 0; i < 200; i++)
		cr_assert_eq(send1(a, c, "steady@x", "steady@x", 1, 1,
		    T0 + (time_t) i * 1400).action, ACTION_PASS,
		    "message %d", i);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, held_messages_are_not_counted_as_passed)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct account_view v;

	send1(a, c, "a@x", "a@x", 2, 1, T0);
	send1(a, c, "a@x", "a@x", 6, 1, T0);	/* over 5 per message */
	accounts_view(a, c, "a@x", T0, &v);
	cr_assert_eq(v.known, 1);
	cr_assert_eq(v.messages, 1);
	cr_assert_eq(v.recipients, 2);
	cr_assert_eq(v.flagged, 1);
	cr_assert_eq(v.flag.limit, LIMIT_RCPT_PER_MESSAGE);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, third_network_in_window_is_held)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct policy_decision d;

	c->limits.messages.max = 100;
	cr_assert_eq(send1(a, c, "a@x", "a@x", 1, 100, T0).action, ACTION_PASS);
	cr_assert_eq(send1(a, c, "a@x", "a@x", 1, 200, T0 + 1).action,
	    ACTION_PASS);
	cr_assert_eq(send1(a, c, "a@x", "a@x", 1, 100, T0 + 2).action,
	    ACTION_PASS);
	d = send1(a, c, "a@x", "a@x", 1, 300, T0 + 3);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_CLIENT_ADDRESSES);
	cr_assert_eq(d.count, 3);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, networks_older_than_the_window_do_not_count)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();

	cr_assert_eq(send1(a, c, "a@x", "a@x", 1, 100, T0).action, ACTION_PASS);
	cr_assert_eq(send1(a, c, "a@x", "a@x", 1, 200, T0 + 10).action,
	    ACTION_PASS);
	cr_assert_eq(send1(a, c, "a@x", "a@x", 1, 300, T0 + 7200).action,
	    ACTION_PASS);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, forged_sender_is_held_and_allowed_sender_is_not)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct accounts_txn bad = { "a@x", "", 0, 1, 1, 1 };
	struct policy_decision d;

	cr_assert_eq(send1(a, c, "b@x", "ceo@bank.test", 1, 1, T0).action,
	    ACTION_HOLD);
	/* a sender that failed validation never belongs */
	cr_assert_eq(accounts_eom(a, c, &bad, T0, &d), 0);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_SENDER_MISMATCH);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, exception_user_gets_its_own_limits)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct conf_exception ex;
	char *senders[] = { (char *) "@lists.x" };
	int i;

	memset(&ex, 0, sizeof(ex));
	ex.user = (char *) "news@x";
	ex.limits = c->limits;
	ex.limits.messages.max = 50;
	ex.limits.recipients.max = 0;
	ex.senders = senders;
	ex.nsenders = 1;
	c->exceptions = &ex;
	c->nexceptions = 1;
	for (i = 0; i < 50; i++)
		cr_assert_eq(send1(a, c, "news@x", "bulletin@lists.x", 1, 1,
		    T0 + i).action, ACTION_PASS, "message %d", i);
	cr_assert_eq(send1(a, c, "news@x", "news@x", 1, 1, T0 + 60).action,
	    ACTION_HOLD);
	c->exceptions = NULL;
	c->nexceptions = 0;
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, monitor_mode_counts_and_never_flags)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct policy_decision d;
	int i;

	c->mode = MODE_MONITOR;
	for (i = 0; i < 5; i++)
		d = send1(a, c, "a@x", "a@x", 1, 1, T0 + i);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.monitor, 1);
	cr_assert_eq(d.count, 5);
	cr_assert_eq(accounts_flagged_p(a, "a@x"), 0);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, idle_users_expire_but_flagged_ones_stay)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct account_flag f = { T0, LIMIT_OPERATOR, 0, 0, 0 };
	size_t tracked, flagged;
	char u[32];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(u, sizeof(u), "u%d@x", i);
		send1(a, c, u, u, 1, 1, T0);
	}
	cr_assert_eq(accounts_flag(a, "u7@x", &f, T0), 1);
	cr_assert_eq(accounts_flag(a, "u7@x", &f, T0), 0);
	accounts_count(a, &tracked, &flagged);
	cr_assert_eq(tracked, 1000);
	cr_assert_eq(flagged, 1);
	cr_assert_eq(accounts_expire(a, c, T0 + 60), 0);
	cr_assert_eq(accounts_expire(a, c, T0 + 3601), 999);
	accounts_count(a, &tracked, &flagged);
	cr_assert_eq(tracked, 1);
	cr_assert_eq(accounts_flagged_p(a, "u7@x"), 1);
	cr_assert_eq(accounts_unflag(a, "u7@x"), 1);
	cr_assert_eq(accounts_unflag(a, "u7@x"), 0);
	accounts_destroy(a);
	conf_unref(c);
}

Test(accounts, list_of_flagged_is_sorted_by_user)
{
	struct accounts *a = accounts_create();
	struct account_flag f = { T0, LIMIT_OPERATOR, 0, 0, 0 };
	struct account_flagged *v;
	size_t n;

	accounts_flag(a, "zed@x", &f, T0);
	accounts_flag(a, "amy@x", &f, T0);
	accounts_flag(a, "kim@x", &f, T0);
	cr_assert_eq(accounts_list_flagged(a, &v, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(v[0].user, "amy@x");
	cr_assert_str_eq(v[1].user, "kim@x");
	cr_assert_str_eq(v[2].user, "zed@x");
	free(v);
	accounts_destroy(a);
}

Test(accounts, view_lists_networks_and_senders)
{
	struct accounts *a = accounts_create();
	struct conf *c = small_conf();
	struct account_view v;

	c->limits.sender_mismatch = 0;
	send1(a, c, "a@x", "a@x", 1, 100, T0);
	send1(a, c, "a@x", "other@y", 1, 200, T0 + 1);
	accounts_view(a, c, "a@x", T0 + 2, &v);
	cr_assert_eq(v.nnets, 2);
	cr_assert_eq(v.nsenders, 2);
	cr_assert_str_eq(v.senders[0], "a@x");
	cr_assert_str_eq(v.senders[1], "other@y");
	accounts_view(a, c, "nobody@x", T0, &v);
	cr_assert_eq(v.known, 0);
	accounts_destroy(a);
	conf_unref(c);
}

struct race {
	struct accounts *a;
	struct conf *c;
	int passed;
};

static void *
racer(void *arg)
{
	struct race *r = arg;
	struct accounts_txn t = { "shared@x", "shared@x", 1, 1, 1, 1 };
	struct policy_decision d;
	int i;

	for (i = 0; i < 100; i++) {
		accounts_eom(r->a, r->c, &t, T0, &d);
		if (d.action == ACTION_PASS)
			__atomic_add_fetch(&r->passed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(accounts, parallel_messages_of_one_account_never_exceed_the_limit)
{
	struct race r = { accounts_create(), small_conf(), 0 };
	pthread_t t[8];
	int i;

	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, racer, &r);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(r.passed, 3);
	accounts_destroy(r.a);
	conf_unref(r.c);
}
