/*
 * store.h - the persistent state store (SQLite)
 *
 * Holds what must survive a restart, including kill -9: the flagged
 * accounts, a record of each message seen from an authenticated account
 * (so its queued mail can be listed, released or deleted per account), a
 * few named per-account baselines, and the schema version.  This module
 * is the only code that knows SQLite; callers see fixed-size records and
 * callbacks.
 *
 * A held message, or one the operator deleted or released, is a row of
 * its own; the many that simply passed are packed into blobs, one per
 * second of arrival (msgblob.h), and read back through the same calls.
 * They are written when the transaction commits, or earlier when many
 * seconds or a very busy one are gathered; reads of the same handle
 * inside the transaction may not see them yet.
 *
 * Durability: the database runs in WAL mode with synchronous=NORMAL.  A
 * commit is appended to the WAL by write(2) before store_*() returns, so
 * it survives the death of the process (kill -9, abort); only an operating
 * system crash or power loss can lose the last commits, never corrupt the
 * file.  That is the failure model of a mail filter whose queue lives on
 * the same machine.
 *
 * Errors: functions return 0 (or a count, where said) and -1 on failure,
 * with what was being done and SQLite's message in the caller's buffer.
 * Strings in the records are fixed arrays; text is bound up to the first
 * NUL or the end of the array.  A stored text that does not fit its array
 * on the way out is an error, never silently truncated.
 *
 * Thread safety: a struct store is used by one thread at a time.  Several
 * handles may be open on the same file at once, in one process or several
 * (e.g. a writer thread and a read-only handle for the control socket):
 * WAL lets readers run while one writer commits.
 * Tests: tests/test_store.c
 */
#ifndef SASLGUARD_STORE_H
#define SASLGUARD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_SCHEMA_VERSION 3
#define STORE_BUSY_TIMEOUT   2000 /* ms; default wait for another writer */

#define STORE_USER_SIZE   321 /* a canonical login or address, 320 + NUL */
#define STORE_QID_SIZE    32
#define STORE_CLIENT_SIZE 64
#define STORE_LIMIT_SIZE  32
#define STORE_REASON_SIZE 256
#define STORE_SOURCE_SIZE 16

/*
 * A message is found by its queue ID and the arrival time Postfix gives
 * it (postqueue -j): the recorded arrival (the time of MAIL FROM, taken
 * by the filter just before Postfix takes its own) may be up to
 * STORE_ARRIVAL_SLACK seconds away, for a filter on another host whose
 * clock is a little off, and one second earlier besides.
 */
#define STORE_ARRIVAL_SLACK 5

/* the key of a recorded message, as the queue shows it */
struct store_key {
	const char *queue_id;
	time_t      arrival; /* arrival_time of postqueue -j */
};

/* what happened to a recorded message */
enum store_state {
	STORE_QUEUED = 0, /* in the queue (held or delivered normally) */
	STORE_DELETED,    /* deleted by the operator */
	STORE_RELEASED    /* released from hold by the operator */
};

/* a flagged account; user is the key */
struct store_flag {
	char     user[STORE_USER_SIZE];
	time_t   flagged_at;
	char     limit[STORE_LIMIT_SIZE];   /* "messages", "operator", ... */
	uint32_t count;                     /* what was counted */
	uint32_t max;                       /* the limit it exceeded */
	uint32_t window;                    /* seconds */
	char     reason[STORE_REASON_SIZE]; /* free text, may be empty */
	char     source[STORE_SOURCE_SIZE]; /* "policy", "operator", ... */
	char     client[STORE_CLIENT_SIZE]; /* client address, may be empty */
	char     queue_id[STORE_QID_SIZE];  /* first held, may be empty */
};

/*
 * a message from an authenticated account; (arrival, queue_id) is the key,
 * because Postfix reuses queue IDs over time
 */
struct store_msg {
	char     queue_id[STORE_QID_SIZE];
	char     user[STORE_USER_SIZE];
	char     sender[STORE_USER_SIZE];
	uint32_t nrcpt;
	char     client[STORE_CLIENT_SIZE];
	time_t   arrival;  /* MAIL FROM, as Postfix's arrival_time */
	int      held;     /* 1 = quarantined by the filter */
	int      state;    /* enum store_state */
	time_t   recorded; /* set by the caller: when written; for expiry */
};

struct store;

/* callbacks return 0 to go on, non-zero to stop early (not an error) */

/* store_msgs_join's callback: the message m was recorded under keys[i] */
typedef int (*store_join_cb)(size_t i, const struct store_msg *m, void *arg);
typedef int (*store_flag_cb)(const struct store_flag *f, void *arg);
typedef int (*store_msg_cb)(const struct store_msg *m, void *arg);

/*
 * store_open - open (and create, unless readonly) the database at path
 *
 * A new file is created with mode 0600 and the schema; an existing one
 * must carry a schema version this code knows.  A read-only handle never
 * creates anything and fails on a missing or empty database.
 */
int store_open(const char *path, int readonly, struct store **out, char *err,
    size_t errlen);

/* store_close - finalize statements and close; accepts NULL */
void store_close(struct store *st);

/* store_busy_timeout - how long a statement waits for another writer (ms) */
int store_busy_timeout(struct store *st, unsigned ms, char *err, size_t errlen);

/*
 * store_begin - start a write transaction (takes the write lock now)
 *
 * Between store_begin and store_commit the other store_* calls join the
 * transaction instead of committing on their own.  After any failure the
 * caller calls store_rollback.
 */
int store_begin(struct store *st, char *err, size_t errlen);

/* store_commit - commit the transaction started by store_begin */
int store_commit(struct store *st, char *err, size_t errlen);

/* store_rollback - abandon the open transaction, if any */
void store_rollback(struct store *st);

/* store_flag_put - insert or replace the flag of f->user */
int store_flag_put(
    struct store *st, const struct store_flag *f, char *err, size_t errlen);

/* store_flag_del - unflag user; 1 when a flag was removed, 0 when none */
int store_flag_del(
    struct store *st, const char *user, char *err, size_t errlen);

/* store_flag_get - the flag of user into *f; 1 found, 0 not flagged */
int store_flag_get(struct store *st, const char *user, struct store_flag *f,
    char *err, size_t errlen);

/* store_flags_each - call cb for every flag, ordered by user */
int store_flags_each(
    struct store *st, store_flag_cb cb, void *arg, char *err, size_t errlen);

/*
 * store_msgs_put - insert n messages in one transaction; a row with the
 * same (arrival, queue_id) is replaced (a passed message is only added,
 * and is hidden by a held or marked one of the same key).  All or nothing.
 */
int store_msgs_put(struct store *st, const struct store_msg *m, size_t n,
    char *err, size_t errlen);

/*
 * store_msgs_each - call cb for the messages of user that arrived at or
 * after since (0 = all), oldest first; with held_only, only those held and
 * still queued.  cb must not use st.  There is no index by user: this
 * reads every row and blob kept since "since" (see store_msgs_join), and
 * holds the account's rows in memory while it reads the blobs.
 */
int store_msgs_each(struct store *st, const char *user, int held_only,
    time_t since, store_msg_cb cb, void *arg, char *err, size_t errlen);

/*
 * store_msgs_qid - call cb for the messages recorded under queue ID qid
 * whose arrival fits the queued message's (Postfix reuses IDs: there may
 * be several), oldest first.  A few point lookups in the (arrival, queue
 * ID) index and the passed blobs of the seconds around arrival; for many
 * queued messages, store_msgs_join reads those blobs once for all.  cb
 * must not use st.
 */
int store_msgs_qid(struct store *st, const char *qid, time_t arrival,
    store_msg_cb cb, void *arg, char *err, size_t errlen);

/*
 * store_msgs_join - call cb(i, m) for each message recorded under keys[i]
 * (as store_msgs_qid finds them), for all n keys at once: the rows first,
 * key by key, then the passed messages in arrival order.  The blobs of
 * the seconds around all the keys' arrivals are read once each, so the
 * cost is that of the records of those seconds, plus memory for the keys.
 * cb must not use st.
 */
int store_msgs_join(struct store *st, const struct store_key *keys, size_t n,
    store_join_cb cb, void *arg, char *err, size_t errlen);

/*
 * store_msgs_mark - set state (STORE_DELETED or STORE_RELEASED) on the
 * still-queued messages of user found under the n keys (as by
 * store_msgs_qid); a message of another account is left alone.  *changed
 * (may be NULL) gets the number of rows changed.  All or nothing.
 */
int store_msgs_mark(struct store *st, const char *user,
    const struct store_key *keys, size_t n, int state, uint32_t *changed,
    char *err, size_t errlen);

/* store_msgs_expire - remove messages recorded before "before"; count in *n */
int store_msgs_expire(
    struct store *st, time_t before, uint32_t *n, char *err, size_t errlen);

/* store_held_count - messages of user held and still queued */
int store_held_count(
    struct store *st, const char *user, uint32_t *n, char *err, size_t errlen);

/* store_held_counts - store_held_count for users[0..n-1] into counts[] */
int store_held_counts(struct store *st, const char *const *users, size_t n,
    uint32_t *counts, char *err, size_t errlen);

/* store_baseline_put - set the named value of user */
int store_baseline_put(struct store *st, const char *user, const char *key,
    double value, time_t updated, char *err, size_t errlen);

/* store_baseline_get - the named value of user; 1 found, 0 not set */
int store_baseline_get(struct store *st, const char *user, const char *key,
    double *value, time_t *updated, char *err, size_t errlen);

/* callback of store_baselines_each; 0 to go on, non-zero to stop */
typedef int (*store_baseline_cb)(const char *user, const char *key,
    double value, time_t updated, void *arg);

/*
 * store_baselines_each - call cb for every baseline value, ordered by user
 * and key (start-up load); cb must not use st
 */
int store_baselines_each(struct store *st, store_baseline_cb cb, void *arg,
    char *err, size_t errlen);

/* store_state_name - "queued", "deleted", "released"; NULL when invalid */
const char *store_state_name(int state);

#endif
