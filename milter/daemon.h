/*
 * daemon.h - the daemon's shared state: config snapshot, account table,
 * store, counters
 *
 * libmilter callbacks receive no user pointer, so the daemon keeps one
 * process-wide struct daemon, set up in main() before smfi_main() starts
 * any thread and torn down after it returns.  The config pointer is
 * swapped atomically on reload; users pin a snapshot with daemon_conf().
 *
 * Thread safety: daemon_conf/daemon_set_conf lock; counters are atomic;
 * everything else is set up before threads start and is internally locked.
 */
#ifndef SASLGUARD_DAEMON_H
#define SASLGUARD_DAEMON_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "accounts.h"
#include "conf.h"
#include "store.h"
#include "storeq.h"
#include "journal_writer.h"

enum daemon_counter {
	CNT_CONNECTIONS = 0,
	CNT_TRANSACTIONS,	/* MAIL FROM seen */
	CNT_AUTHENTICATED,	/* ... from an authenticated client */
	CNT_PASSED,		/* authenticated messages let through */
	CNT_HELD,		/* quarantined */
	CNT_REFUSED,		/* tempfail or 421 at MAIL FROM */
	CNT_WOULD_HOLD,		/* monitor mode */
	CNT_FLAGGED,		/* accounts flagged by the policy */
	CNT_ERRORS,		/* internal errors (fail_action applied) */
	CNT_REDIS_DECIDED,	/* cluster mode: decided in Redis */
	CNT_REDIS_FALLBACK,	/* cluster mode: Redis unusable, local counters */
	CNT_MAX_
};

struct daemon {
	pthread_mutex_t conf_lock;	/* serialises daemon_set_conf */
	struct conf    *conf;		/* current; owned reference; atomic */
	struct conf   **retired;	/* owned; replaced configs, see daemon.c */
	size_t          nretired;
	const char     *conf_path;	/* argv */
	struct accounts *accounts;	/* owned */
	struct store   *store;		/* owned by the writer (storeq) */
	struct store   *reader;		/* owned; control socket's read handle */
	pthread_mutex_t reader_lock;	/* serialises use of reader */
	struct storeq  *storeq;		/* owned */
	struct journal_writer *journal;	/* owned; NULL when off */
	time_t          started;
	int             foreground;
	uint64_t        counters[CNT_MAX_];	/* atomic */
};

extern struct daemon *sg;

/* daemon_conf - the current config, pinned; conf_unref() when done */
struct conf *daemon_conf(void);

/* daemon_set_conf - make c current (takes over the caller's reference) */
void	daemon_set_conf(struct conf *c);

/* daemon_conf_free - drop the current and every replaced config (at exit) */
void	daemon_conf_free(void);

/* daemon_count - add n to a counter */
void	daemon_count(enum daemon_counter k, uint64_t n);

/* daemon_counter - read a counter */
uint64_t daemon_counter(enum daemon_counter k);

/* daemon_counter_name - "transactions", "held", ... */
const char *daemon_counter_name(enum daemon_counter k);

/*
 * daemon_flag - flag user everywhere: memory, then the store (waiting for
 * the commit).  Returns 1 if newly flagged, 0 if it already was, -1 when
 * the store failed (the flag holds in memory and is written later).
 */
int	daemon_flag(const char *user, const struct account_flag *f,
	    const char *reason, const char *source, const char *client,
	    const char *queue_id);

/*
 * daemon_persist_flag - write a flag the account table has already latched
 * (the policy latches it inside accounts_eom) to the store; 0 or -1 (the
 * flag then holds in memory and the store writer retries it)
 */
int	daemon_persist_flag(const char *user, const struct account_flag *f,
	    const char *reason, const char *source, const char *client,
	    const char *queue_id);

/* daemon_unflag - clear user's flag in memory and in the store; 1, 0 or -1 */
int	daemon_unflag(const char *user);

/*
 * daemon_journal - append one event to the tamper-evident journal (a
 * no-op when it is off); failures are the journal writer's to report
 */
void	daemon_journal(enum journal_event ev, const char *user,
	    const struct journal_field *fields, size_t nfields);

/* daemon_reload - load the config file again; 0, or -1 with errors in err */
int	daemon_reload(char *err, size_t len);

#endif
