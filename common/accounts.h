/*
 * accounts.h - the per-user table: windows, networks, senders, flag latch
 *
 * One entry per authenticated user seen recently.  An entry holds the
 * sliding windows of messages and recipients that passed, the client
 * networks and envelope senders it used, and its flag.  The flag is a
 * latch: only accounts_unflag() clears it, and a flagged entry never
 * expires.  Entries idle for longer than the longest window are dropped
 * by accounts_expire(), so memory follows the active users only.
 *
 * The signals (signals.h) add a long-lived history per account, created
 * with its first counted message while a signal is on: the baseline
 * (baseline.h) and the client networks of the last baseline.keep (for the
 * new-network signal).  Histories are kept apart from the entries above
 * and dropped only after baseline.keep of silence; they are not counted
 * as tracked accounts.  Bounces received, failed logins and external
 * recipient domains are windows and sets allocated only for the accounts
 * that have them.  Histories are loaded from the store at start-up
 * (accounts_history_load) and written back by the daemon from
 * accounts_history_collect(); nothing here does I/O.
 *
 * The table is split into stripes, each with its own lock and hash table,
 * so concurrent SMTP transactions of different users rarely contend.  The
 * check and the update of one message happen under one lock, so two
 * parallel messages of one account can never both slip under a limit.
 *
 * Thread safety: every function locks internally; no I/O under a lock.
 * Tests: tests/test_accounts.c
 */
#ifndef SASLGUARD_ACCOUNTS_H
#define SASLGUARD_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "baseline.h"
#include "conf.h"
#include "netset.h"
#include "policy.h"
#include "signals.h"

#define ACCOUNT_SENDERS_MAX 8	/* distinct senders remembered for "show" */

struct accounts;

/* The flag latch and why it was set. */
struct account_flag {
	time_t   at;
	enum policy_limit limit;
	uint32_t count;
	uint32_t max;
	uint32_t window;
};

/* One message at end of data. */
struct accounts_txn {
	const char *user;	/* canonical login */
	const char *sender;	/* canonical envelope sender; "" = null sender */
	int      sender_ok;	/* 0 when the sender failed validation */
	uint32_t nrcpt;
	uint64_t net;		/* client network key (netaddr.h) */
	int      have_net;	/* 0 when the client address is unknown */
};

/* What "show" prints of one account. */
struct account_view {
	int      known;		/* 0: not in the table (counts are 0) */
	uint32_t messages;	/* in the messages window now */
	uint32_t recipients;	/* in the recipients window now */
	uint32_t networks;	/* distinct networks in the client window */
	int      flagged;
	struct account_flag flag;
	time_t   last_seen;
	size_t   nnets;
	struct netent nets[NETSET_MAX];
	size_t   nsenders;
	char     senders[ACCOUNT_SENDERS_MAX][321];
	/* signals; zero when the account has no such record */
	int      has_history;	/* a baseline record exists */
	uint32_t history;	/* seconds since its first counted message */
	int      baseline_ready;	/* history >= baseline.min_history */
	double   mean[BASELINE_N_];	/* per hour: messages, recipients */
	double   sd[BASELINE_N_];
	uint32_t recent[BASELINE_N_];	/* last hour */
	uint32_t bar[BASELINE_N_];	/* 0 when not ready */
	uint32_t known_networks;	/* networks of the last baseline.keep */
	uint32_t domains;	/* distinct external domains in the window */
	uint32_t distinct;	/* distinct external recipients in the window */
	uint32_t bounces;	/* bounces received in the window */
	uint32_t failures;	/* failed logins in the window */
};

/* One account's history as written to the store. */
struct account_history {
	char    *user;		/* owned */
	struct baseline bl;
	size_t   nnets;
	struct netent *nets;	/* owned; known client networks */
};

struct account_flagged {
	char     user[321];
	struct account_flag flag;
};

/* accounts_create - an empty table; NULL on ENOMEM */
struct accounts *accounts_create(void);

/* accounts_destroy - free the table; accepts NULL */
void	accounts_destroy(struct accounts *a);

/*
 * accounts_eom - decide and account for one message at end of data
 *
 * Looks up (or creates) t->user, asks the policy with the limits of c that
 * apply to the user, and commits: a message that passes (also in monitor
 * mode) is counted in both windows; the client network and sender are
 * remembered either way; a decision with flag = 1 latches the flag.
 * Returns 0, or -1 when memory ran out (d then says nothing).
 */
int	accounts_eom(struct accounts *a, const struct conf *c,
	    const struct accounts_txn *t, time_t now, struct policy_decision *d);

/*
 * accounts_eom_signals - accounts_eom() with what the message's recipients
 * tell (external recipients, their domains); m NULL: every recipient is
 * external and no domain is known
 */
int	accounts_eom_signals(struct accounts *a, const struct conf *c,
	    const struct accounts_txn *t, const struct signals_msg *m,
	    time_t now, struct policy_decision *d);

/* accounts_flagged_p - 1 when user is flagged (no entry is created) */
int	accounts_flagged_p(struct accounts *a, const char *user);

/*
 * accounts_flag - latch the flag of user with f (creating the entry)
 *
 * Returns 1 when the account was not flagged before, 0 when it was (its
 * original reason is kept), -1 on ENOMEM.
 */
int	accounts_flag(struct accounts *a, const char *user,
	    const struct account_flag *f, time_t now);

/* accounts_unflag - clear the latch; 1 if it was set, 0 if not */
int	accounts_unflag(struct accounts *a, const char *user);

/* accounts_expire - drop idle, unflagged entries; returns how many */
size_t	accounts_expire(struct accounts *a, const struct conf *c, time_t now);

/* accounts_view - a copy of what is known about user, for "show" */
void	accounts_view(struct accounts *a, const struct conf *c,
	    const char *user, time_t now, struct account_view *v);

/*
 * accounts_list_flagged - every flagged account, in user order
 *
 * *out is a malloc'ed array of *n entries, for the caller to free.
 * Returns 0, or -1 on ENOMEM.
 */
int	accounts_list_flagged(struct accounts *a, struct account_flagged **out,
	    size_t *n);

/*
 * accounts_bounce - a bounce (null sender) arrived for user: count it and
 * decide with signals_bounce(); a decision with flag = 1 latches the flag.
 * Returns 0, or -1 when memory ran out.
 */
int	accounts_bounce(struct accounts *a, const struct conf *c,
	    const char *user, time_t now, struct policy_decision *d);

/* accounts_auth_failure - count a failed login of user; -1 on ENOMEM */
int	accounts_auth_failure(struct accounts *a, const struct conf *c,
	    const char *user, time_t now);

/*
 * accounts_history_load - one stored value of user's history: a baseline
 * field (baseline_export names) or "net:HEX" with the time last seen.
 * updated is when it was written.  Returns 0, -1 on ENOMEM, and 1 for a
 * name or value it does not know (skipped).
 */
int	accounts_history_load(struct accounts *a, const struct conf *c,
	    const char *user, const char *name, double value, time_t updated);

/*
 * accounts_history_collect - the histories changed since the last call,
 * with their changed marks cleared; *out is a malloc'ed array of *n for
 * accounts_history_free().  Returns 0, or -1 on ENOMEM (the marks of what
 * could not be returned stay set).
 */
int	accounts_history_collect(struct accounts *a, struct account_history **out,
	    size_t *n);

/* accounts_history_mark - mark user's history changed (a failed write) */
void	accounts_history_mark(struct accounts *a, const char *user);

/* accounts_history_free - free what accounts_history_collect returned */
void	accounts_history_free(struct account_history *h, size_t n);

/* accounts_count - entries tracked and flagged now */
void	accounts_count(struct accounts *a, size_t *tracked, size_t *flagged);

#endif
