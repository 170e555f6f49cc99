/*
 * policy.h - one transaction's facts and an account's usage -> a decision
 *
 * The policy is a pure function: it reads the limits that apply to the
 * account, what the account has already used inside each window, and the
 * facts of the message at end of data, and says what to do and why.  It
 * does no I/O, takes no locks and keeps no state; the account table
 * (accounts.c) supplies the usage and commits the counters afterwards.
 *
 * Checks, in order; the first one broken is the reason:
 *   flagged                  the account's latch is set
 *   recipients_per_message   nrcpt > max
 *   sender_mismatch          the envelope sender does not belong to the login
 *   messages                 used + 1 > max in the window
 *   recipients               used + nrcpt > max in the window
 *   client_addresses         distinct networks incl. this one > max
 *
 * Then the signals (signals.h), which only this server sees: they are
 * listed in the decision whether or not a fixed limit broke, and hold the
 * message only when no fixed limit did.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_policy.c
 */
#ifndef SASLGUARD_POLICY_H
#define SASLGUARD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum policy_action {
	ACTION_PASS = 0,	/* let it through and count it */
	ACTION_HOLD,		/* smfi_quarantine: Postfix's hold queue */
	ACTION_TEMPFAIL,	/* refuse at MAIL FROM with 451 4.7.1 */
	ACTION_DISCONNECT	/* refuse at MAIL FROM with 421, session ends */
};

enum policy_limit {
	LIMIT_NONE = 0,
	LIMIT_FLAGGED,
	LIMIT_RCPT_PER_MESSAGE,
	LIMIT_SENDER_MISMATCH,
	LIMIT_MESSAGES,
	LIMIT_RECIPIENTS,
	LIMIT_CLIENT_ADDRESSES,
	LIMIT_OPERATOR,		/* flagged by hand on the control socket */
	LIMIT_BASELINE,		/* a burst far above the account's habit */
	LIMIT_RECIPIENT_DOMAINS, /* distinct external recipient domains */
	LIMIT_BACKSCATTER,	/* a surge of bounces to the account */
	LIMIT_NEW_NETWORK,	/* many recipients from a network never used */
	LIMIT_FAILED_LOGINS,	/* failed logins, then a success and a burst */
	LIMIT_DISTINCT_RECIPIENTS, /* distinct external recipients */
	LIMIT_MAX_
};

#define POLICY_SIGNALS_MAX 6

/* One signal that contributed to a decision, as logged: "name:count/max". */
struct policy_signal {
	enum policy_limit limit;
	uint32_t count;
	uint32_t max;			/* 0: logged as "name:count" */
};

/* What the account used inside each window before this message. */
struct policy_usage {
	uint32_t messages;
	uint32_t recipients;
	uint32_t networks;	/* distinct client networks, this one included */
	int      flagged;
};

/* What this message is. */
struct policy_facts {
	uint32_t nrcpt;			/* recipients accepted */
	int      sender_belongs;	/* 1 when the sender belongs to the login */
};

struct policy_decision {
	enum policy_action action;	/* what to do (PASS in monitor mode) */
	enum policy_limit  limit;	/* why; LIMIT_NONE when nothing broke */
	uint32_t count;			/* the value that broke the limit */
	uint32_t max;			/* the bound */
	uint32_t window;		/* seconds; 0 for per-message limits */
	int      flag;			/* 1: latch the account's flag now */
	int      monitor;		/* 1: would have acted; monitor mode */
	size_t   nsig;			/* signals that contributed */
	struct policy_signal sig[POLICY_SIGNALS_MAX];
};

/*
 * policy_eom - decide at end of message
 *
 * A broken limit gives ACTION_HOLD and flag = 1 (flag stays 0 when the
 * account is already flagged).  In monitor mode the action is always
 * ACTION_PASS, flag is 0, and monitor = 1 says what would have happened.
 */
void	policy_eom(const struct limits *l, enum conf_mode mode,
	    const struct policy_usage *u, const struct policy_facts *f,
	    struct policy_decision *d);

/* policy_hold - fill d: hold the message for limit l (count, max, window) */
void	policy_hold(struct policy_decision *d, enum policy_limit l,
	    uint32_t count, uint32_t max, uint32_t window);

/*
 * policy_settle - finish a decision that holds: in enforce mode latch the
 * flag (unless the account already is flagged); in monitor mode pass the
 * message and set monitor instead
 */
void	policy_settle(struct policy_decision *d, enum conf_mode mode,
	    int flagged);

/*
 * policy_mail - decide at MAIL FROM for an account whose flag is flagged
 *
 * Only a flagged account in enforce mode with flagged_action tempfail or
 * disconnect is refused here; everything else goes on to end of message.
 */
void	policy_mail(enum conf_mode mode, enum flagged_action fa, int flagged,
	    struct policy_decision *d);

/* policy_limit_name - "messages", "recipients_per_message", ... */
const char *policy_limit_name(enum policy_limit l);

/* policy_limit_parse - the inverse; LIMIT_NONE for an unknown name */
enum policy_limit policy_limit_parse(const char *name);

/* policy_action_name - "pass", "hold", "tempfail", "disconnect" */
const char *policy_action_name(enum policy_action a);

#endif
