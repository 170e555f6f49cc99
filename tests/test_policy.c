/*
 * test_policy.c - the decision at end of message and at MAIL FROM
 */
#include <criterion/criterion.h>
#include <string.h>

#include "policy.h"

static struct limits
limits(void)
{
	struct limits l;

	memset(&l, 0, sizeof(l));
	l.messages.max = 3;
	l.messages.window = 3600;
	l.recipients.max = 10;
	l.recipients.window = 3600;
	l.recipients_per_message = 5;
	l.client_addresses.max = 2;
	l.client_addresses.window = 3600;
	l.sender_mismatch = 1;
	return l;
}

static struct policy_decision
decide(const struct limits *l, enum conf_mode mode, uint32_t msgs,
    uint32_t rcpts, uint32_t nets, int flagged, uint32_t nrcpt, int belongs)
{
	struct policy_usage u = { msgs, rcpts, nets, flagged };
	struct policy_facts f = { nrcpt, belongs };
	struct policy_decision d;

	policy_eom(l, mode, &u, &f, &d);
	return d;
}

Test(policy, message_under_every_limit_passes)
{
	struct limits l = limits();
	struct policy_decision d = decide(&l, MODE_ENFORCE, 2, 5, 1, 0, 5, 1);

	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.limit, LIMIT_NONE);
	cr_assert_eq(d.flag, 0);
}

Test(policy, fourth_message_in_window_exceeds_limit_of_three)
{
	struct limits l = limits();
	struct policy_decision d = decide(&l, MODE_ENFORCE, 3, 3, 1, 0, 1, 1);

	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_MESSAGES);
	cr_assert_eq(d.count, 4);
	cr_assert_eq(d.max, 3);
	cr_assert_eq(d.window, 3600);
	cr_assert_eq(d.flag, 1);
}

Test(policy, recipients_are_counted_apart_from_messages)
{
	struct limits l = limits();
	struct policy_decision d;

	/* one message, but its recipients push the window over 10 */
	d = decide(&l, MODE_ENFORCE, 0, 8, 1, 0, 3, 1);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_RECIPIENTS);
	cr_assert_eq(d.count, 11);
	/* exactly at the bound passes */
	d = decide(&l, MODE_ENFORCE, 0, 7, 1, 0, 3, 1);
	cr_assert_eq(d.action, ACTION_PASS);
}

Test(policy, too_many_recipients_in_one_message_is_held)
{
	struct limits l = limits();
	struct policy_decision d = decide(&l, MODE_ENFORCE, 0, 0, 1, 0, 6, 1);

	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_RCPT_PER_MESSAGE);
	cr_assert_eq(d.count, 6);
	cr_assert_eq(d.max, 5);
	cr_assert_eq(d.window, 0);
}

Test(policy, forged_sender_is_held_when_mismatch_check_is_on)
{
	struct limits l = limits();
	struct policy_decision d = decide(&l, MODE_ENFORCE, 0, 0, 1, 0, 1, 0);

	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_SENDER_MISMATCH);
	l.sender_mismatch = 0;
	d = decide(&l, MODE_ENFORCE, 0, 0, 1, 0, 1, 0);
	cr_assert_eq(d.action, ACTION_PASS);
}

Test(policy, third_network_exceeds_limit_of_two)
{
	struct limits l = limits();
	struct policy_decision d = decide(&l, MODE_ENFORCE, 0, 0, 3, 0, 1, 1);

	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_CLIENT_ADDRESSES);
	cr_assert_eq(d.count, 3);
	cr_assert_eq(d.max, 2);
}

Test(policy, flagged_account_is_held_without_flagging_again)
{
	struct limits l = limits();
	struct policy_decision d = decide(&l, MODE_ENFORCE, 0, 0, 1, 1, 1, 1);

	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_FLAGGED);
	cr_assert_eq(d.flag, 0);
}

Test(policy, zero_max_disables_a_limit)
{
	struct limits l = limits();
	struct policy_decision d;

	l.messages.max = 0;
	l.recipients.max = 0;
	l.recipients_per_message = 0;
	l.client_addresses.max = 0;
	d = decide(&l, MODE_ENFORCE, 100000, 100000, 60, 0, 1000, 1);
	cr_assert_eq(d.action, ACTION_PASS);
}

Test(policy, monitor_mode_passes_but_says_what_it_would_do)
{
	struct limits l = limits();
	struct policy_decision d = decide(&l, MODE_MONITOR, 3, 0, 1, 0, 1, 1);

	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.monitor, 1);
	cr_assert_eq(d.limit, LIMIT_MESSAGES);
	cr_assert_eq(d.flag, 0);
}

Test(policy, counters_near_overflow_saturate_instead_of_wrapping)
{
	struct limits l = limits();
	struct policy_decision d;

	l.recipients.max = UINT32_MAX - 1;
	d = decide(&l, MODE_ENFORCE, 0, UINT32_MAX - 1, 1, 0, 3, 1);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_RECIPIENTS);
	cr_assert_eq(d.count, UINT32_MAX);
}

Test(policy, mail_from_of_flagged_account_follows_flagged_action)
{
	struct policy_decision d;

	policy_mail(MODE_ENFORCE, FLAGGED_HOLD, 1, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	policy_mail(MODE_ENFORCE, FLAGGED_TEMPFAIL, 1, &d);
	cr_assert_eq(d.action, ACTION_TEMPFAIL);
	policy_mail(MODE_ENFORCE, FLAGGED_DISCONNECT, 1, &d);
	cr_assert_eq(d.action, ACTION_DISCONNECT);
	policy_mail(MODE_ENFORCE, FLAGGED_DISCONNECT, 0, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	policy_mail(MODE_MONITOR, FLAGGED_TEMPFAIL, 1, &d);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.monitor, 1);
}

Test(policy, limit_names_round_trip)
{
	int i;

	for (i = 1; i < LIMIT_MAX_; i++)
		cr_assert_eq(policy_limit_parse(policy_limit_name(i)), i);
	cr_assert_eq(policy_limit_parse("bogus"), LIMIT_NONE);
}
