/*
 * policy.c - one transaction's facts and an account's usage -> a decision
 *
 * See policy.h for the order of checks.  Everything here is arithmetic on
 * the caller's numbers; nothing is remembered between calls.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_policy.c
 */
#include <string.h>

#include "policy.h"

static const char *const limit_names[LIMIT_MAX_] = {
	[LIMIT_NONE] = "none",
	[LIMIT_FLAGGED] = "flagged",
	[LIMIT_RCPT_PER_MESSAGE] = "recipients_per_message",
	[LIMIT_SENDER_MISMATCH] = "sender_mismatch",
	[LIMIT_MESSAGES] = "messages",
	[LIMIT_RECIPIENTS] = "recipients",
	[LIMIT_CLIENT_ADDRESSES] = "client_addresses",
	[LIMIT_OPERATOR] = "operator",
	[LIMIT_BASELINE] = "baseline",
	[LIMIT_RECIPIENT_DOMAINS] = "recipient_domains",
	[LIMIT_DISTINCT_RECIPIENTS] = "distinct_recipients",
	[LIMIT_BACKSCATTER] = "backscatter",
	[LIMIT_NEW_NETWORK] = "new_network",
	[LIMIT_FAILED_LOGINS] = "failed_logins",
};

/* exceeds - 1 when adding add to used goes over max (max 0 = no limit) */
static int
exceeds(uint32_t max, uint32_t used, uint32_t add, uint32_t *total)
{
	uint64_t t = (uint64_t) used + add;

	*total = t > UINT32_MAX ? UINT32_MAX : (uint32_t) t;
	return max != 0 && t > max;
}

/* policy_hold - d holds the message for limit l */
void
policy_hold(struct policy_decision *d, enum policy_limit l, uint32_t count,
    uint32_t max, uint32_t window)
{
	d->action = ACTION_HOLD;
	d->limit = l;
	d->count = count;
	d->max = max;
	d->window = window;
}

/* policy_eom - decide at end of message */
void
policy_eom(const struct limits *l, enum conf_mode mode,
    const struct policy_usage *u, const struct policy_facts *f,
    struct policy_decision *d)
{
	uint32_t total;

	memset(d, 0, sizeof(*d));
	d->action = ACTION_PASS;
	d->limit = LIMIT_NONE;

	if (u->flagged)
		policy_hold(d, LIMIT_FLAGGED, 0, 0, 0);
	else if (l->recipients_per_message != 0 &&
	    f->nrcpt > l->recipients_per_message)
		policy_hold(d, LIMIT_RCPT_PER_MESSAGE, f->nrcpt,
		    l->recipients_per_message, 0);
	else if (l->sender_mismatch && !f->sender_belongs)
		policy_hold(d, LIMIT_SENDER_MISMATCH, 1, 0, 0);
	else if (exceeds(l->messages.max, u->messages, 1, &total))
		policy_hold(d, LIMIT_MESSAGES, total, l->messages.max,
		    l->messages.window);
	else if (exceeds(l->recipients.max, u->recipients, f->nrcpt, &total))
		policy_hold(d, LIMIT_RECIPIENTS, total, l->recipients.max,
		    l->recipients.window);
	else if (l->client_addresses.max != 0 &&
	    u->networks > l->client_addresses.max)
		policy_hold(d, LIMIT_CLIENT_ADDRESSES, u->networks,
		    l->client_addresses.max, l->client_addresses.window);

	if (d->action != ACTION_PASS)
		policy_settle(d, mode, u->flagged);
}

/* policy_settle - a hold in enforce mode flags; monitor mode only says so */
void
policy_settle(struct policy_decision *d, enum conf_mode mode, int flagged)
{
	if (mode == MODE_MONITOR) {
		d->action = ACTION_PASS;
		d->monitor = 1;
		return;
	}
	d->flag = !flagged;
}

/* policy_mail - decide at MAIL FROM for a flagged account */
void
policy_mail(enum conf_mode mode, enum flagged_action fa, int flagged,
    struct policy_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->action = ACTION_PASS;
	d->limit = LIMIT_NONE;
	if (!flagged || fa == FLAGGED_HOLD)
		return;
	d->limit = LIMIT_FLAGGED;
	if (mode == MODE_MONITOR) {
		d->monitor = 1;
		return;
	}
	d->action = fa == FLAGGED_TEMPFAIL ? ACTION_TEMPFAIL : ACTION_DISCONNECT;
}

/* policy_limit_name - the name of a limit as logged and configured */
const char *
policy_limit_name(enum policy_limit l)
{
	if ((int) l < 0 || l >= LIMIT_MAX_)
		return "none";
	return limit_names[l];
}

/* policy_limit_parse - a limit by name; LIMIT_NONE when unknown */
enum policy_limit
policy_limit_parse(const char *name)
{
	int i;

	for (i = 1; i < LIMIT_MAX_; i++)
		if (strcmp(name, limit_names[i]) == 0)
			return (enum policy_limit) i;
	return LIMIT_NONE;
}

/* policy_action_name - the name of an action as logged */
const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case ACTION_HOLD:
		return "hold";
	case ACTION_TEMPFAIL:
		return "tempfail";
	case ACTION_DISCONNECT:
		return "disconnect";
	case ACTION_PASS:
	default:
		return "pass";
	}
}
