/*
 * signals.c - the signals beyond fixed limits -> a decision
 *
 * See signals.h for the order.  Like policy.c, arithmetic on the
 * caller's numbers only.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_signals.c
 */
#include <stdio.h>
#include <string.h>

#include "fnv.h"
#include "signals.h"

/* signals_msg_reset - forget the message */
void
signals_msg_reset(struct signals_msg *m)
{
	m->ext_rcpts = 0;
	m->int_rcpts = 0;
	m->ndomains = 0;
	m->more_domains = 0;
	m->nrcpt_keys = 0;
	m->more_rcpts = 0;
	m->bounce = 0;
	m->nbounce = 0;
}

/* signals_domain_key - FNV-1a, 64 bits, of a lower-case domain */
uint64_t
signals_domain_key(const char *domain)
{
	return fnv1a64(domain);
}

/* signals_msg_rcpt - one accepted recipient of an authenticated message */
void
signals_msg_rcpt(struct signals_msg *m, const struct conf *c, const char *canon)
{
	const char *dom = addr_domain(canon);
	uint64_t    key;
	uint32_t    i;

	/* a bare local part has no domain: the server's own */
	if (c->nlocal_domains > 0 &&
	    (dom == NULL || conf_local_domain(c, dom))) {
		if (m->int_rcpts < UINT32_MAX)
			m->int_rcpts++;
		return;
	}
	if (m->ext_rcpts < UINT32_MAX)
		m->ext_rcpts++;
	/* the whole address, for distinct recipients */
	key = signals_domain_key(canon);
	for (i = 0; i < m->nrcpt_keys && m->rcpt[i] != key; i++)
		;
	if (i == m->nrcpt_keys) {
		if (m->nrcpt_keys < SIGNALS_MSG_RCPTS)
			m->rcpt[m->nrcpt_keys++] = key;
		else if (m->more_rcpts < UINT32_MAX)
			m->more_rcpts++;
	}
	key = signals_domain_key(dom != NULL ? dom : "");
	for (i = 0; i < m->ndomains; i++)
		if (m->domain[i] == key)
			return;
	if (m->ndomains < SIGNALS_MSG_DOMAINS)
		m->domain[m->ndomains++] = key;
	else if (m->more_domains < UINT32_MAX)
		m->more_domains++;
}

/* signals_msg_bounce_rcpt - one recipient of a bounce */
void
signals_msg_bounce_rcpt(struct signals_msg *m, const char *canon)
{
	uint32_t i;

	if (canon[0] == '\0' || m->nbounce >= SIGNALS_MSG_BOUNCES)
		return;
	for (i = 0; i < m->nbounce; i++)
		if (strcmp(m->bounce_rcpt[i], canon) == 0)
			return;
	if ((size_t) snprintf(m->bounce_rcpt[m->nbounce],
		sizeof(m->bounce_rcpt[0]), "%s",
		canon) >= sizeof(m->bounce_rcpt[0]))
		return;
	m->nbounce++;
}

/* add - list one signal in d */
static void
add(struct policy_decision *d, enum policy_limit l, uint32_t count,
    uint32_t max)
{
	if (d->nsig >= POLICY_SIGNALS_MAX)
		return;
	d->sig[d->nsig].limit = l;
	d->sig[d->nsig].count = count;
	d->sig[d->nsig].max = max;
	d->nsig++;
}

/* hold - the message breaks signal l (when nothing broke before) */
static void
hold(struct policy_decision *d, enum policy_limit l, uint32_t count,
    uint32_t max, uint32_t window)
{
	if (d->limit == LIMIT_NONE)
		policy_hold(d, l, count, max, window);
}

/* signals_eom - list the signals present and hold for the first that breaks */
void
signals_eom(const struct limits *l, enum conf_mode mode, int flagged,
    const struct signals_facts *f, struct policy_decision *d)
{
	enum baseline_what w = f->bl.which;
	uint32_t           bar = l->failed_logins_recipients;
	int                failed =
	    l->failed_logins.max != 0 && f->failures >= l->failed_logins.max;
	int newnet = f->new_network && l->new_network_recipients != 0;
	int base = f->baseline && f->bl.ready && f->bl.broken;
	int doms = l->recipient_domains.max != 0 &&
		   f->domains > l->recipient_domains.max;
	int bounced = l->bounces.max != 0 && f->bounces > l->bounces.max;
	int dist = l->distinct_recipients.max != 0 &&
		   f->distinct > l->distinct_recipients.max;
	enum policy_limit before = d->limit;

	d->nsig = 0;
	if (base)
		add(d, LIMIT_BASELINE, f->bl.count[w], f->bl.bar[w]);
	if (doms)
		add(d, LIMIT_RECIPIENT_DOMAINS, f->domains,
		    l->recipient_domains.max);
	if (dist)
		add(d, LIMIT_DISTINCT_RECIPIENTS, f->distinct,
		    l->distinct_recipients.max);
	if (bounced)
		add(d, LIMIT_BACKSCATTER, f->bounces, l->bounces.max);
	if (newnet)
		add(d, LIMIT_NEW_NETWORK, f->ext_rcpts,
		    l->new_network_recipients);
	if (failed)
		add(d, LIMIT_FAILED_LOGINS, f->failures, l->failed_logins.max);

	if (failed && (f->recipients > bar ||
			  (f->new_network && f->recipients > bar / 2)))
		hold(d, LIMIT_FAILED_LOGINS, f->failures, l->failed_logins.max,
		    l->failed_logins.window);
	if (newnet && f->ext_rcpts >= l->new_network_recipients)
		hold(d, LIMIT_NEW_NETWORK, f->ext_rcpts,
		    l->new_network_recipients, 0);
	if (base)
		hold(d, LIMIT_BASELINE, f->bl.count[w], f->bl.bar[w],
		    BASELINE_HOUR);
	if (doms)
		hold(d, LIMIT_RECIPIENT_DOMAINS, f->domains,
		    l->recipient_domains.max, l->recipient_domains.window);
	if (dist)
		hold(d, LIMIT_DISTINCT_RECIPIENTS, f->distinct,
		    l->distinct_recipients.max, l->distinct_recipients.window);
	if (bounced)
		hold(d, LIMIT_BACKSCATTER, f->bounces, l->bounces.max,
		    l->bounces.window);

	if (before == LIMIT_NONE && d->limit != LIMIT_NONE)
		policy_settle(d, mode, flagged);
}

/* signals_bounce - one more bounce arrived for an account */
void
signals_bounce(const struct limits *l, enum conf_mode mode, int flagged,
    uint32_t bounces, struct policy_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->action = ACTION_PASS;
	d->limit = LIMIT_NONE;
	if (l->bounces.max == 0 || bounces <= l->bounces.max)
		return;
	d->limit = LIMIT_BACKSCATTER;
	d->count = bounces;
	d->max = l->bounces.max;
	d->window = l->bounces.window;
	add(d, LIMIT_BACKSCATTER, bounces, l->bounces.max);
	if (mode == MODE_MONITOR)
		d->monitor = 1;
	else
		d->flag = !flagged;
}
