/*
 * signals.h - the signals beyond fixed limits -> a decision
 *
 * Fixed limits (policy.h) must fit the busiest account.  The signals look
 * at what gives a takeover away instead: a burst far above the account's
 * own habit (baseline.h), many distinct external recipient domains, a
 * surge of bounces coming back to the account (backscatter), many
 * external recipients from a client network the account never used, and
 * failed logins before the success that sends.  Each is measured by the
 * account table (accounts.c) on this server only: nothing goes through
 * Redis, and in cluster mode, where Redis decides, only backscatter is
 * evaluated (it flags, and flags are shared).
 *
 * signals_eom() runs after policy_eom() on the same decision.  It lists
 * every signal that is present in d->sig[] (the decision line names them
 * all), and, only when no fixed limit broke, holds the message for the
 * first signal that breaks, in this order:
 *   failed_logins      failures >= max in the window, and the recipients
 *                      of the recipients window (this message included)
 *                      above failed_logins.recipients, or above half of it
 *                      from a new network
 *   new_network        a network unknown to a history of at least
 *                      baseline.min_history, and external recipients of
 *                      this message >= new_network_recipients
 *   baseline           a last-hour count above the account's bar
 *   recipient_domains  distinct external domains incl. this message > max
 *   backscatter        bounces received in the window > max
 * A hold flags the account, as a fixed limit does; in monitor mode the
 * action stays PASS and monitor = 1.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_signals.c
 */
#ifndef SASLGUARD_SIGNALS_H
#define SASLGUARD_SIGNALS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "baseline.h"
#include "conf.h"
#include "policy.h"

/* What the account table measured for one message. */
struct signals_facts {
	int baseline; /* 1: bl below holds a judgement (enabled) */
	struct baseline_result bl;
	uint32_t domains;     /* distinct external domains in the window */
	uint32_t distinct;    /* distinct external recipients in the window */
	uint32_t bounces;     /* bounces received in the window */
	int      new_network; /* network unknown to a mature history */
	uint32_t ext_rcpts;   /* external recipients of this message */
	uint32_t failures;    /* failed logins in the window */
	uint32_t recipients;  /* recipients window total, this one included */
};

#define SIGNALS_MSG_DOMAINS 32 /* distinct domains kept per message */
#define SIGNALS_MSG_RCPTS   64 /* distinct recipients kept per message */
#define SIGNALS_MSG_BOUNCES 4  /* bounce recipients kept per message */

/*
 * What one message's recipients tell, gathered at RCPT without allocating:
 * internal and external recipients apart, the distinct external domains
 * (as keys; past SIGNALS_MSG_DOMAINS they are only counted, as if all
 * distinct), and for a bounce the first recipients as logins.
 */
struct signals_msg {
	uint32_t ext_rcpts;
	uint32_t int_rcpts;
	uint32_t ndomains;     /* keys in domain[] */
	uint32_t more_domains; /* not kept: counted as distinct */
	uint64_t domain[SIGNALS_MSG_DOMAINS];
	uint32_t nrcpt_keys;   /* keys in rcpt[] */
	uint32_t more_rcpts;   /* not kept: counted as distinct */
	uint64_t rcpt[SIGNALS_MSG_RCPTS];
	int      bounce; /* unauthenticated, null sender */
	uint32_t nbounce;
	char     bounce_rcpt[SIGNALS_MSG_BOUNCES][ADDR_MAX + 1];
};

/* signals_msg_reset - forget the message */
void signals_msg_reset(struct signals_msg *m);

/*
 * signals_msg_rcpt - one accepted recipient (canonical address) of an
 * authenticated message: internal when its domain is in local_domains
 */
void signals_msg_rcpt(
    struct signals_msg *m, const struct conf *c, const char *canon);

/* signals_msg_bounce_rcpt - one recipient (canonical) of a bounce */
void signals_msg_bounce_rcpt(struct signals_msg *m, const char *canon);

/* signals_domain_key - the 64-bit key of a lower-case domain */
uint64_t signals_domain_key(const char *domain);

/* signals_eom - list the signals present and hold for the first that breaks */
void signals_eom(const struct limits *l, enum conf_mode mode, int flagged,
    const struct signals_facts *f, struct policy_decision *d);

/*
 * signals_bounce - one more bounce arrived for an account
 *
 * The bounce itself always passes (it is inbound mail); when bounces goes
 * over the limit the decision names backscatter and, in enforce mode for
 * an account not yet flagged, flag = 1; in monitor mode monitor = 1.
 */
void signals_bounce(const struct limits *l, enum conf_mode mode, int flagged,
    uint32_t bounces, struct policy_decision *d);

#endif
