/*
 * store.c - the persistent state store (SQLite)
 *
 * One struct store wraps one SQLite connection and its prepared
 * statements, prepared once at open and reset after each use.  Writes that
 * touch several rows run in one transaction, either their own or the
 * caller's (store_begin), so a batch is all or nothing.
 *
 * Why WAL with synchronous=NORMAL is enough: in WAL mode a commit is a
 * write(2) of the pages plus a commit frame to the -wal file; with NORMAL
 * the fsync happens only at checkpoints.  Data handed to the kernel
 * survives the death of the process, so kill -9 or a crash of the daemon
 * loses nothing that was committed; only an OS crash or power cut can lose
 * the last transactions (the database stays consistent).  FULL would add
 * an fsync per commit for that case alone.
 *
 * Checkpoints run every 10,000 WAL pages (40 MB) instead of SQLite's
 * 1,000: a page the writer dirties in commit after commit (the table's
 * last page, the last pages of its key) is then copied into the database once
 * instead of ten times.  Measured: about 2 us less CPU per recorded
 * message.  The WAL file is reused after each checkpoint, so it stays
 * near that size.
 *
 * Messages that pass (most of them) are not rows of their own: they are
 * packed into blobs (msgblob.h), as a rule one per arrival second and
 * transaction (a group gathered is written early when a straggler's
 * second needs its place or it grows past STORE_PEND_BYTES), in the
 * passed table, which costs the writer a copy per message where a row
 * cost two B-tree inserts (measured under load: the writer thread's CPU
 * 0.7 us per message against 2.2 to 2.5 us, and about 3 us less of the
 * daemon's CPU per message).  What the store is
 * asked is "what was recorded under these queue IDs and arrivals", and
 * the answer reads the blobs of the seconds around each arrival once for
 * all the keys (store_msgs_join).  A passed message that the operator then
 * deletes or releases gets a row in messages with its new state, and that
 * row stands for it from then on.
 *
 * The file is created here with mode 0600 before SQLite opens it; SQLite
 * gives the -wal and -shm files the same mode.
 *
 * Thread safety: a handle is used by one thread at a time (connections are
 * opened without SQLite's own mutex); open one handle per thread.
 * Tests: tests/test_store.c
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fnv.h"
#include "msgblob.h"
#include "store.h"

/*
 * Passed messages of the open transaction are gathered by arrival second,
 * at most STORE_PEND_GROUPS seconds at a time (a straggler's second pushes
 * out the smallest group early) and STORE_PEND_BYTES a group.
 */
#define STORE_PEND_GROUPS 8
#define STORE_PEND_BYTES  (1024 * 1024)
#define STORE_PEND_KEEP   (256 * 1024) /* a written group's buffer kept */

enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_FLAG_PUT,
	S_FLAG_DEL,
	S_FLAG_GET,
	S_FLAG_ALL,
	S_MSG_PUT,
	S_MSG_USER,
	S_MSG_QID,
	S_MSG_MARK,
	S_MSG_EXPIRE,
	S_HELD_COUNT,
	S_BASE_PUT,
	S_BASE_GET,
	S_BASE_ALL,
	S_MSG_EXACT,
	S_MSG_ADD,
	/* from here on, the statements on the passed table (version 3) */
	S_PASS_PUT,
	S_PASS_RANGE,
	S_PASS_OLD,
	S_PASS_EXPIRE,
	S_COUNT
};

#define FLAG_COLS                                                              \
	"user, flagged_at, limit_name, count, max, window_s, reason, "         \
	"source, client, queue_id"
#define MSG_COLS                                                               \
	"queue_id, user, sender, nrcpt, client, arrival, held, state, "        \
	"recorded_at"

/*
 * ARRIVALS(p) - the recorded arrivals that fit the queued arrival p: the
 * list for "arrival IN", which SQLite turns into one index lookup each
 * (a range would read every row of those seconds).  It must span
 * -(STORE_ARRIVAL_SLACK + 1) .. +STORE_ARRIVAL_SLACK.
 */
#define ARRIVALS(p)                                                            \
	"(" p "-6," p "-5," p "-4," p "-3," p "-2," p "-1," p "," p "+1,"      \
	p "+2," p "+3," p "+4," p "+5)"
#if STORE_ARRIVAL_SLACK != 5
#error "ARRIVALS() spans STORE_ARRIVAL_SLACK = 5"
#endif

/*
 * OLDER_THAN(t) - the rows of t recorded before ?1: rows are appended in
 * time order, so those before the first one recorded since (by rowid; no
 * index on recorded_at needed)
 */
#define OLDER_THAN(t)                                                          \
	"FROM " t " WHERE id < coalesce((SELECT id FROM " t " WHERE "        \
	"recorded_at >= ?1 ORDER BY id LIMIT 1), 9223372036854775807)"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_FLAG_PUT] = "INSERT OR REPLACE INTO flags (" FLAG_COLS ") "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_FLAG_DEL] = "DELETE FROM flags WHERE user = ?1",
	[S_FLAG_GET] = "SELECT " FLAG_COLS " FROM flags WHERE user = ?1",
	[S_FLAG_ALL] = "SELECT " FLAG_COLS " FROM flags ORDER BY user",
	[S_MSG_PUT] = "INSERT INTO messages (" MSG_COLS ") "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
		      "ON CONFLICT (arrival, queue_id) DO UPDATE SET "
		      "user = excluded.user, sender = excluded.sender, "
		      "nrcpt = excluded.nrcpt, client = excluded.client, "
		      "held = excluded.held, state = excluded.state, "
		      "recorded_at = excluded.recorded_at",
	[S_MSG_USER] = "SELECT " MSG_COLS " FROM messages "
		       "WHERE user = ?1 AND arrival >= ?2 AND "
		       "(?3 = 0 OR (held = 1 AND state = 'queued')) "
		       "ORDER BY arrival, id",
	/* point lookups in the unique (arrival, queue_id) index */
	[S_MSG_QID] = "SELECT " MSG_COLS " FROM messages "
		      "WHERE arrival IN " ARRIVALS("?2") " AND queue_id = ?1 "
		      "ORDER BY arrival, id",
	/*
	 * "+user": look the row up by its key (the unique index), not by
	 * user (the partial index of held mail would scan every held row of
	 * the account for each ID and make a bulk delete quadratic).
	 */
	[S_MSG_MARK] = "UPDATE messages SET state = ?3 "
		       "WHERE arrival IN " ARRIVALS("?4") " AND queue_id = ?2 "
		       "AND +user = ?1 AND state = 'queued'",
	[S_MSG_EXPIRE] = "DELETE " OLDER_THAN("messages"),
	[S_HELD_COUNT] = "SELECT count(*) FROM messages "
			 "WHERE user = ?1 AND held = 1 AND state = 'queued'",
	[S_BASE_PUT] = "INSERT OR REPLACE INTO baselines "
		       "(user, key, value, updated) VALUES (?1, ?2, ?3, ?4)",
	[S_BASE_GET] = "SELECT value, updated FROM baselines "
		       "WHERE user = ?1 AND key = ?2",
	[S_BASE_ALL] = "SELECT user, key, value, updated FROM baselines "
		       "ORDER BY user, key",
	/* does a row stand for this passed message? */
	[S_MSG_EXACT] = "SELECT 1 FROM messages "
			"WHERE arrival = ?1 AND queue_id = ?2",
	/* a row for a passed message, unless one stands for it already */
	[S_MSG_ADD] = "INSERT INTO messages (" MSG_COLS ") "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
		      "ON CONFLICT (arrival, queue_id) DO NOTHING",
	[S_PASS_PUT] = "INSERT INTO passed (arrival, recorded_at, n, data) "
		       "VALUES (?1, ?2, ?3, ?4)",
	[S_PASS_RANGE] = "SELECT id, data, arrival, n, recorded_at FROM passed "
			 "WHERE arrival BETWEEN ?1 AND ?2 ORDER BY arrival, id",
	/* blobs come in commit order, as messages rows do */
	[S_PASS_OLD] = "SELECT coalesce(sum(n), 0) " OLDER_THAN("passed"),
	[S_PASS_EXPIRE] = "DELETE " OLDER_THAN("passed"),
};

/*
 * The messages table, named n.  Its key leads with the arrival time: rows
 * come in time order, so each insert lands at the end of the index, where
 * a key led by the (random) queue ID put every insert somewhere else in
 * it and each commit rewrote most of its pages (measured: 2.5 us of the
 * store's 3.9 us per message).
 */
#define MESSAGES_TABLE(n)                                                      \
	"CREATE TABLE IF NOT EXISTS " n " ("                                   \
	" id INTEGER PRIMARY KEY,"                                             \
	" queue_id TEXT NOT NULL,"                                             \
	" user TEXT NOT NULL,"                                                 \
	" sender TEXT NOT NULL,"                                               \
	" nrcpt INTEGER NOT NULL,"                                             \
	" client TEXT NOT NULL,"                                               \
	" arrival INTEGER NOT NULL,"                                           \
	" held INTEGER NOT NULL,"                                              \
	" state TEXT NOT NULL"                                                 \
	/* not IN (...): a temporary table on every insert */                 \
	"  CHECK (state = 'queued' OR state = 'deleted' OR state = 'released'),"\
	" recorded_at INTEGER NOT NULL,"                                       \
	" UNIQUE (arrival, queue_id));"
/* the held mail of an account (counts for list and stats) */
#define MESSAGES_HELD_INDEX                                                    \
	"CREATE INDEX IF NOT EXISTS messages_held ON messages (user)"          \
	" WHERE held = 1 AND state = 'queued';"

/*
 * The passed messages (msgblob.h): as a rule one blob per arrival second
 * and transaction; recorded_at is the latest of its records', for expiry.
 */
#define PASSED_TABLE                                                           \
	"CREATE TABLE IF NOT EXISTS passed ("                                  \
	" id INTEGER PRIMARY KEY,"                                             \
	" arrival INTEGER NOT NULL,"                                           \
	" recorded_at INTEGER NOT NULL,"                                       \
	" n INTEGER NOT NULL,"                                                 \
	" data BLOB NOT NULL);"                                                \
	"CREATE INDEX IF NOT EXISTS passed_arrival ON passed (arrival);"

#define TEXT_(x)     #x
#define TEXT(x)      TEXT_(x)
#define VERSION_TEXT TEXT(STORE_SCHEMA_VERSION)

/*
 * Version 3.  A later version adds its steps after these and bumps
 * STORE_SCHEMA_VERSION; upgrade_1_2 and upgrade_2_3 bring older files up.
 */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta ("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS flags ("
    " user TEXT PRIMARY KEY,"
    " flagged_at INTEGER NOT NULL,"
    " limit_name TEXT NOT NULL,"
    " count INTEGER NOT NULL,"
    " max INTEGER NOT NULL,"
    " window_s INTEGER NOT NULL,"
    " reason TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " client TEXT NOT NULL,"
    " queue_id TEXT NOT NULL);"
    MESSAGES_TABLE("messages")
    /*
     * No index by user: with messages from thousands of accounts, its
     * inserts land all over the tree and a commit rewrites most of its
     * pages.  An account's queued mail is found from the queue side
     * instead, by queue ID and arrival (store_msgs_join); a scan by user
     * is left for rare reads (store_msgs_each).  Rows and blobs are
     * appended in time order, so expiry walks the rowids from the oldest
     * and needs no index on recorded_at either.
     */
    MESSAGES_HELD_INDEX
    PASSED_TABLE
    "CREATE TABLE IF NOT EXISTS baselines ("
    " user TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value REAL NOT NULL,"
    " updated INTEGER NOT NULL,"
    " PRIMARY KEY (user, key));"
    "INSERT INTO meta VALUES ('schema_version', '" VERSION_TEXT "');";

struct store {
	sqlite3       *db;          /* owned; sqlite3_close_v2 */
	sqlite3_stmt  *st[S_COUNT]; /* owned; sqlite3_finalize */
	int            readonly;
	int            passed;      /* the file has the passed table */
	/* passed messages of the open transaction, one group a second */
	struct msgblob pend[STORE_PEND_GROUPS]; /* owned */
	size_t         npend;
};

static const char *const state_names[] = {
	[STORE_QUEUED] = "queued",
	[STORE_DELETED] = "deleted",
	[STORE_RELEASED] = "released",
};

/* store_state_name - "queued", "deleted", "released"; NULL when invalid */
const char *
store_state_name(int state)
{
	if (state < 0 ||
	    (size_t) state >= sizeof(state_names) / sizeof(state_names[0]))
		return NULL;
	return state_names[state];
}

/* state_parse - the enum store_state of name; -1 when unknown */
static int
state_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(name, state_names[i]) == 0)
			return (int) i;
	return -1;
}

/*
 * fail - "<what>: <SQLite's message>" into err; returns -1.  An error text
 * longer than the buffer is cut short, which is all a reader needs.
 */
static int __attribute__((format(printf, 4, 5)))
fail(sqlite3 *db, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int     len;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	len = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (len < 0) {
		err[0] = '\0';
		len = 0;
	}
	if (db != NULL && (size_t) len < errlen)
		(void) snprintf(err + len, errlen - (size_t) len, ": %s",
		    sqlite3_errmsg(db));
	return -1;
}

/* bind_text - bind the text in the array src of size bytes (NUL or end) */
static int
bind_text(sqlite3_stmt *s, int i, const char *src, size_t size)
{
	return sqlite3_bind_text(
	    s, i, src, (int) strnlen(src, size), SQLITE_STATIC);
}

/* bind_str - bind a NUL-terminated string */
static int
bind_str(sqlite3_stmt *s, int i, const char *src)
{
	return sqlite3_bind_text(s, i, src, -1, SQLITE_STATIC);
}

/* col_text - copy column i into dst of size bytes; -1 when it does not fit */
static int
col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t               len = (size_t) sqlite3_column_bytes(s, i);

	if (t == NULL)
		len = 0;
	if (len >= size)
		return -1;
	if (len > 0)
		memcpy(dst, t, len);
	dst[len] = '\0';
	return 0;
}

/* col_u32 - column i as uint32_t, clamped */
static uint32_t
col_u32(sqlite3_stmt *s, int i)
{
	sqlite3_int64 v = sqlite3_column_int64(s, i);

	if (v < 0)
		return 0;
	if (v > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t) v;
}

/* stmt_done - reset s for its next use */
static void
stmt_done(sqlite3_stmt *s)
{
	(void) sqlite3_reset(s);
	(void) sqlite3_clear_bindings(s);
}

/* exec_step - run a statement that returns no rows, then reset it */
static int
exec_step(
    struct store *st, int which, char *err, size_t errlen, const char *what)
{
	sqlite3_stmt *s = st->st[which];
	int           rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		(void) fail(st->db, err, errlen, "%s", what);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* pend_drop - forget the passed messages gathered so far */
static void
pend_drop(struct store *st)
{
	size_t i;

	for (i = 0; i < st->npend; i++)
		msgblob_reset(&st->pend[i]);
	st->npend = 0;
}

/* pend_write - write group i as one blob and take it out of the list */
static int
pend_write(struct store *st, size_t i, char *err, size_t errlen)
{
	sqlite3_stmt  *s = st->st[S_PASS_PUT];
	struct msgblob b = st->pend[i];
	int            rc = 0;

	sqlite3_bind_int64(s, 1, (sqlite3_int64) b.arrival);
	sqlite3_bind_int64(s, 2, (sqlite3_int64) b.recorded);
	sqlite3_bind_int64(s, 3, b.n);
	sqlite3_bind_blob(s, 4, b.buf, (int) b.len, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = fail(st->db, err, errlen, "record %u passed messages",
		    (unsigned) b.n);
	stmt_done(s);
	if (rc == -1)
		return -1;
	/* the last group takes the freed place; its buffer is reused */
	st->pend[i] = st->pend[--st->npend];
	st->pend[st->npend] = b;
	/* a buffer grown by a burst is not kept for the quiet after it */
	if (b.cap > STORE_PEND_KEEP)
		msgblob_free(&st->pend[st->npend]);
	else
		msgblob_reset(&st->pend[st->npend]);
	return 0;
}

/*
 * pend_add - gather the passed message m with the others of its arrival
 * second; a group written early makes room or keeps memory bounded.
 * 1 when m does not fit a blob (msgblob.h) and needs a row of its own.
 */
static int
pend_add(struct store *st, const struct store_msg *m, char *err,
    size_t errlen)
{
	size_t i, small = 0;
	int    e;

	for (i = 0; i < st->npend; i++)
		if (st->pend[i].arrival == m->arrival)
			break;
	if (i == st->npend && st->npend == STORE_PEND_GROUPS) {
		for (i = 1; i < st->npend; i++)
			if (st->pend[i].n < st->pend[small].n)
				small = i;
		if (pend_write(st, small, err, errlen) == -1)
			return -1;
		i = st->npend;
	}
	if (i == st->npend)
		st->npend++;
	if (msgblob_add(&st->pend[i], m) == -1) {
		e = errno;
		if (st->pend[i].n == 0)
			st->npend--;
		if (e == EINVAL)
			return 1;
		return fail(NULL, err, errlen, "record message %.*s: %s",
		    (int) strnlen(m->queue_id, sizeof(m->queue_id)),
		    m->queue_id, strerror(e));
	}
	if (st->pend[i].len >= STORE_PEND_BYTES)
		return pend_write(st, i, err, errlen);
	return 0;
}

/*
 * pend_flush - write every group gathered, the oldest second first: the
 * blobs' rowids then follow their record times, and expiry, which walks
 * the rowids from the oldest and stops at the first blob still young,
 * keeps no old blob behind a young one
 */
static int
pend_flush(struct store *st, char *err, size_t errlen)
{
	size_t i, old;

	while (st->npend > 0) {
		for (old = 0, i = 1; i < st->npend; i++)
			if (st->pend[i].arrival < st->pend[old].arrival)
				old = i;
		if (pend_write(st, old, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* store_begin - start a write transaction (takes the write lock now) */
int
store_begin(struct store *st, char *err, size_t errlen)
{
	if (!sqlite3_get_autocommit(st->db))
		return fail(
		    NULL, err, errlen, "begin: transaction already open");
	pend_drop(st);
	return exec_step(st, S_BEGIN, err, errlen, "begin transaction");
}

/* store_commit - commit the transaction started by store_begin */
int
store_commit(struct store *st, char *err, size_t errlen)
{
	if (sqlite3_get_autocommit(st->db))
		return fail(NULL, err, errlen, "commit: no transaction open");
	if (pend_flush(st, err, errlen) == -1)
		return -1;
	return exec_step(st, S_COMMIT, err, errlen, "commit");
}

/* store_rollback - abandon the open transaction, if any */
void
store_rollback(struct store *st)
{
	if (st == NULL)
		return;
	pend_drop(st);
	if (sqlite3_get_autocommit(st->db))
		return;
	/* SQLite may have rolled back by itself after I/O errors */
	(void) exec_step(st, S_ROLLBACK, NULL, 0, "rollback");
}

/* txn_enter - start a transaction unless the caller has one; sets *own */
static int
txn_enter(struct store *st, int *own, char *err, size_t errlen)
{
	*own = 0;
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	if (store_begin(st, err, errlen) == -1)
		return -1;
	*own = 1;
	return 0;
}

/* txn_leave - commit (rc 0) or roll back our own transaction; returns rc */
static int
txn_leave(struct store *st, int own, int rc, char *err, size_t errlen)
{
	if (!own)
		return rc;
	if (rc == 0 && store_commit(st, err, errlen) == 0)
		return 0;
	store_rollback(st);
	return -1;
}

/*
 * create_file - create path with mode 0600 unless it exists
 *
 * An existing file is not opened: closing any descriptor of the database
 * drops every POSIX lock this process holds on it, so a second handle
 * opened that way would strip the first one's locks, and another process
 * (the sqlite3 shell) closing last would then delete the live WAL.
 */
static int
create_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int         fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 && errno == EEXIST) {
		if (stat(path, &sb) == 0)
			return 0;
		/* a symbolic link to a file still to be made: make it */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (fd == -1)
		return fail(
		    NULL, err, errlen, "open %s: %s", path, strerror(errno));
	(void) close(fd);
	return 0;
}

/* pragma_set - run a PRAGMA; when want is set, its one-row answer must match */
static int
pragma_set(struct store *st, const char *sql, const char *want, char *err,
    size_t errlen)
{
	sqlite3_stmt        *s;
	const unsigned char *got;
	int                  rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return fail(st->db, err, errlen, "%s", sql);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		(void) fail(st->db, err, errlen, "%s", sql);
		sqlite3_finalize(s);
		return -1;
	}
	if (want != NULL) {
		got = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
		if (got == NULL || strcmp((const char *) got, want) != 0) {
			(void) fail(NULL, err, errlen, "%s: got %s", sql,
			    got != NULL ? (const char *) got : "nothing");
			sqlite3_finalize(s);
			return -1;
		}
	}
	sqlite3_finalize(s);
	return 0;
}

/* schema_version - the stored schema version into *v; 0 when none */
static int
schema_version(struct store *st, long *v, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	const char   *text;
	char         *end;
	int           rc;

	*v = 0;
	rc = sqlite3_prepare_v2(st->db,
	    "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'table' AND name = 'meta'",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(st->db, err, errlen, "read schema version");
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		(void) fail(st->db, err, errlen, "read schema version");
		sqlite3_finalize(s);
		return -1;
	}
	rc = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc == 0)
		return 0; /* no meta table: an empty (new) database */

	if (sqlite3_prepare_v2(st->db,
		"SELECT value FROM meta WHERE key = 'schema_version'", -1, &s,
		NULL) != SQLITE_OK)
		return fail(st->db, err, errlen, "read schema version");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		text = (const char *) sqlite3_column_text(s, 0);
		errno = 0;
		*v = text != NULL ? strtol(text, &end, 10) : 0;
		if (text == NULL || *end != '\0' || errno != 0 || *v <= 0) {
			sqlite3_finalize(s);
			return fail(NULL, err, errlen,
			    "bad schema version in meta table");
		}
	} else if (rc != SQLITE_DONE) {
		(void) fail(st->db, err, errlen, "read schema version");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

/* schema_check - the version must be ours; 0 means "create" when writable */
static int
schema_check(long v, char *err, size_t errlen)
{
	if (v > STORE_SCHEMA_VERSION)
		return fail(NULL, err, errlen,
		    "database schema version %ld is newer than this "
		    "program's %d",
		    v, STORE_SCHEMA_VERSION);
	return 0;
}

/*
 * Version 1 to 2: the messages table keyed by (arrival, queue_id) instead
 * of (queue_id, arrival).  A key of a table cannot be dropped, so the table
 * is copied, rows and rowids as they are; the indexes version 1 made and
 * this one does without (by user, by recorded_at) go with the old table.  Rows of version 1 recorded the
 * end of the message as their arrival, a little after Postfix's; a long
 * transaction's row is then out of reach of store_msgs_qid, which the
 * expiry of old rows soon makes moot.
 */
static const char upgrade_1_2[] =
    MESSAGES_TABLE("messages_v2")
    "INSERT INTO messages_v2 SELECT * FROM messages;"
    "DROP TABLE messages;"
    "ALTER TABLE messages_v2 RENAME TO messages;"
    MESSAGES_HELD_INDEX
    "UPDATE meta SET value = '2' WHERE key = 'schema_version';";

/*
 * Version 2 to 3: the passed table.  The messages rows of version 2 stay
 * where they are and are found as before; new passed messages go to blobs.
 */
static const char upgrade_2_3[] =
    PASSED_TABLE
    "UPDATE meta SET value = '3' WHERE key = 'schema_version';";

/*
 * schema_step - run sql in one transaction when the schema version, read
 * again inside it, is from (another process may have moved it on while
 * we waited); what names the step in errors
 */
static int
schema_step(struct store *st, long from, const char *sql, const char *what,
    char *err, size_t errlen)
{
	char *msg = NULL;
	long  v;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return fail(st->db, err, errlen, "%s: begin", what);
	if (schema_version(st, &v, err, errlen) == -1 ||
	    schema_check(v, err, errlen) == -1)
		goto bad;
	if (v == from &&
	    sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		(void) fail(NULL, err, errlen, "%s: %s", what,
		    msg != NULL ? msg : "unknown error");
		sqlite3_free(msg);
		goto bad;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		(void) fail(st->db, err, errlen, "%s: commit", what);
		goto bad;
	}
	return 0;
bad:
	(void) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * library_setup - once per process, before SQLite starts: no memory
 * statistics, which would take a global mutex on every allocation of
 * every handle (a refusal, when the program started SQLite earlier, only
 * keeps them on)
 */
static void
library_setup(void)
{
	(void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* store_open - open (and create, unless readonly) the database at path */
int
store_open(const char *path, int readonly, struct store **out, char *err,
    size_t errlen)
{
	struct store *st;
	long          v;
	int           flags, i;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	*out = NULL;
	(void) pthread_once(&once, library_setup);
	if (!readonly && create_file(path, err, errlen) == -1)
		return -1;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return fail(NULL, err, errlen, "open %s: out of memory", path);
	st->readonly = readonly;
	flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			(void) fail(
			    NULL, err, errlen, "open %s: out of memory", path);
		else
			(void) fail(st->db, err, errlen, "open %s", path);
		goto bad;
	}
	(void) sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT) != SQLITE_OK) {
		(void) fail(st->db, err, errlen, "open %s: busy timeout", path);
		goto bad;
	}
	if (!readonly) {
		if (pragma_set(st, "PRAGMA journal_mode = WAL", "wal", err,
			errlen) == -1 ||
		    pragma_set(st, "PRAGMA synchronous = NORMAL", NULL, err,
			errlen) == -1 ||
		    pragma_set(st, "PRAGMA wal_autocheckpoint = 10000", NULL,
			err, errlen) == -1)
			goto bad;
	}
	if (schema_version(st, &v, err, errlen) == -1 ||
	    schema_check(v, err, errlen) == -1)
		goto bad;
	if (v == 0) {
		if (readonly) {
			(void) fail(NULL, err, errlen,
			    "open %s: no saslguard schema (not created yet?)",
			    path);
			goto bad;
		}
		if (schema_step(st, 0, schema_sql, "create schema", err,
		    errlen) == -1)
			goto bad;
	}
	/* a read-only handle reads an older schema as it is */
	if (v == 1 && !readonly && schema_step(st, 1, upgrade_1_2,
	    "upgrade schema 1 to 2", err, errlen) == -1)
		goto bad;
	if (v >= 1 && v <= 2 && !readonly && schema_step(st, 2, upgrade_2_3,
	    "upgrade schema 2 to 3", err, errlen) == -1)
		goto bad;
	st->passed = !readonly || v >= 3;
	for (i = 0; i < (st->passed ? S_COUNT : S_PASS_PUT); i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &st->st[i],
			NULL) != SQLITE_OK) {
			(void) fail(
			    st->db, err, errlen, "open %s: prepare", path);
			goto bad;
		}
	}
	*out = st;
	return 0;
bad:
	store_close(st);
	return -1;
}

/* store_close - finalize statements and close; accepts NULL */
void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	if (st->db != NULL && st->st[S_ROLLBACK] != NULL)
		store_rollback(st);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->st[i]);
	(void) sqlite3_close_v2(st->db);
	for (i = 0; i < STORE_PEND_GROUPS; i++)
		msgblob_free(&st->pend[i]);
	free(st);
}

/* store_busy_timeout - how long a statement waits for another writer (ms) */
int
store_busy_timeout(struct store *st, unsigned ms, char *err, size_t errlen)
{
	if (ms > INT32_MAX)
		ms = INT32_MAX;
	if (sqlite3_busy_timeout(st->db, (int) ms) != SQLITE_OK)
		return fail(st->db, err, errlen, "set busy timeout");
	return 0;
}

/* store_flag_put - insert or replace the flag of f->user */
int
store_flag_put(
    struct store *st, const struct store_flag *f, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_FLAG_PUT];

	bind_text(s, 1, f->user, sizeof(f->user));
	sqlite3_bind_int64(s, 2, (sqlite3_int64) f->flagged_at);
	bind_text(s, 3, f->limit, sizeof(f->limit));
	sqlite3_bind_int64(s, 4, f->count);
	sqlite3_bind_int64(s, 5, f->max);
	sqlite3_bind_int64(s, 6, f->window);
	bind_text(s, 7, f->reason, sizeof(f->reason));
	bind_text(s, 8, f->source, sizeof(f->source));
	bind_text(s, 9, f->client, sizeof(f->client));
	bind_text(s, 10, f->queue_id, sizeof(f->queue_id));
	if (sqlite3_step(s) != SQLITE_DONE) {
		(void) fail(st->db, err, errlen, "flag %.*s",
		    (int) strnlen(f->user, sizeof(f->user)), f->user);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* store_flag_del - unflag user; 1 when a flag was removed, 0 when none */
int
store_flag_del(struct store *st, const char *user, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_FLAG_DEL];

	bind_str(s, 1, user);
	if (sqlite3_step(s) != SQLITE_DONE) {
		(void) fail(st->db, err, errlen, "unflag %s", user);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

/* flag_row - the current row of a flags SELECT into *f */
static int
flag_row(sqlite3_stmt *s, struct store_flag *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (col_text(s, 0, f->user, sizeof(f->user)) == -1 ||
	    col_text(s, 2, f->limit, sizeof(f->limit)) == -1 ||
	    col_text(s, 6, f->reason, sizeof(f->reason)) == -1 ||
	    col_text(s, 7, f->source, sizeof(f->source)) == -1 ||
	    col_text(s, 8, f->client, sizeof(f->client)) == -1 ||
	    col_text(s, 9, f->queue_id, sizeof(f->queue_id)) == -1)
		return fail(NULL, err, errlen, "flags row %lld: text too long",
		    (long long) sqlite3_column_int64(s, 1));
	f->flagged_at = (time_t) sqlite3_column_int64(s, 1);
	f->count = col_u32(s, 3);
	f->max = col_u32(s, 4);
	f->window = col_u32(s, 5);
	return 0;
}

/* store_flag_get - the flag of user into *f; 1 found, 0 not flagged */
int
store_flag_get(struct store *st, const char *user, struct store_flag *f,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_FLAG_GET];
	int           rc;

	bind_str(s, 1, user);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		rc = flag_row(s, f, err, errlen) == -1 ? -1 : 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = fail(st->db, err, errlen, "read flag of %s", user);
	}
	stmt_done(s);
	return rc;
}

/* store_flags_each - call cb for every flag, ordered by user */
int
store_flags_each(
    struct store *st, store_flag_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt     *s = st->st[S_FLAG_ALL];
	struct store_flag f;
	int               rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (flag_row(s, &f, err, errlen) == -1) {
			stmt_done(s);
			return -1;
		}
		if (cb(&f, arg) != 0) {
			stmt_done(s);
			return 0;
		}
	}
	if (rc != SQLITE_DONE) {
		(void) fail(st->db, err, errlen, "read flags");
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* msg_bind_put - bind m to the insert statement */
static int
msg_bind_put(
    sqlite3_stmt *s, const struct store_msg *m, char *err, size_t errlen)
{
	const char *state = store_state_name(m->state);

	if (state == NULL)
		return fail(NULL, err, errlen, "message %.*s: bad state %d",
		    (int) strnlen(m->queue_id, sizeof(m->queue_id)),
		    m->queue_id, m->state);
	bind_text(s, 1, m->queue_id, sizeof(m->queue_id));
	bind_text(s, 2, m->user, sizeof(m->user));
	bind_text(s, 3, m->sender, sizeof(m->sender));
	sqlite3_bind_int64(s, 4, m->nrcpt);
	bind_text(s, 5, m->client, sizeof(m->client));
	sqlite3_bind_int64(s, 6, (sqlite3_int64) m->arrival);
	sqlite3_bind_int(s, 7, m->held ? 1 : 0);
	bind_str(s, 8, state);
	sqlite3_bind_int64(s, 9, (sqlite3_int64) m->recorded);
	return 0;
}

/* store_msgs_put - insert n messages in one transaction */
int
store_msgs_put(struct store *st, const struct store_msg *m, size_t n, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_PUT];
	size_t        i;
	int           own, rc = 0;

	if (n == 0)
		return 0;
	if (txn_enter(st, &own, err, errlen) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		/* a passed message goes into the blob of its second */
		if (st->passed && !m[i].held && m[i].state == STORE_QUEUED) {
			if ((rc = pend_add(st, &m[i], err, errlen)) != 1)
				continue; /* packed, or failed */
			rc = 0;   /* it does not fit a blob: a row */
		}
		if (msg_bind_put(s, &m[i], err, errlen) == -1) {
			rc = -1;
		} else if (sqlite3_step(s) != SQLITE_DONE) {
			rc = fail(st->db, err, errlen, "record message %.*s",
			    (int) strnlen(m[i].queue_id, sizeof(m[i].queue_id)),
			    m[i].queue_id);
		}
		stmt_done(s);
	}
	return txn_leave(st, own, rc, err, errlen);
}

/* msg_row - the current row of a messages SELECT into *m */
static int
msg_row(sqlite3_stmt *s, struct store_msg *m, char *err, size_t errlen)
{
	const char *state;

	memset(m, 0, sizeof(*m));
	if (col_text(s, 0, m->queue_id, sizeof(m->queue_id)) == -1 ||
	    col_text(s, 1, m->user, sizeof(m->user)) == -1 ||
	    col_text(s, 2, m->sender, sizeof(m->sender)) == -1 ||
	    col_text(s, 4, m->client, sizeof(m->client)) == -1)
		return fail(NULL, err, errlen,
		    "messages row at %lld: text too long",
		    (long long) sqlite3_column_int64(s, 5));
	m->nrcpt = col_u32(s, 3);
	m->arrival = (time_t) sqlite3_column_int64(s, 5);
	m->held = sqlite3_column_int(s, 6) != 0;
	state = (const char *) sqlite3_column_text(s, 7);
	if (state == NULL || (m->state = state_parse(state)) == -1)
		return fail(
		    NULL, err, errlen, "message %s: bad state", m->queue_id);
	m->recorded = (time_t) sqlite3_column_int64(s, 8);
	return 0;
}

/*
 * msg_rows - step the bound messages SELECT s, cb for each row, reset s;
 * an error names the rows with what and key ("of queue ID ", "Q1")
 */
static int
msg_rows(struct store *st, sqlite3_stmt *s, store_msg_cb cb, void *arg,
    const char *what, const char *key, char *err, size_t errlen)
{
	struct store_msg m;
	int              rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (msg_row(s, &m, err, errlen) == -1) {
			stmt_done(s);
			return -1;
		}
		if (cb(&m, arg) != 0) {
			stmt_done(s);
			return 0;
		}
	}
	if (rc != SQLITE_DONE) {
		(void) fail(
		    st->db, err, errlen, "read messages %s%s", what, key);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* slack_lo, slack_hi - the recorded arrivals that fit the queued arrival a */
static sqlite3_int64
slack_lo(time_t a)
{
	return (sqlite3_int64) a < INT64_MIN + STORE_ARRIVAL_SLACK + 1 ?
	    INT64_MIN : (sqlite3_int64) a - (STORE_ARRIVAL_SLACK + 1);
}

static sqlite3_int64
slack_hi(time_t a)
{
	return (sqlite3_int64) a > INT64_MAX - STORE_ARRIVAL_SLACK ?
	    INT64_MAX : (sqlite3_int64) a + STORE_ARRIVAL_SLACK;
}

/*
 * exact_row - 1 when a messages row stands for the passed message m (the
 * same arrival and queue ID: marked by the operator since), 0 when none
 */
static int
exact_row(struct store *st, const struct store_msg *m, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_EXACT];
	int           rc;

	sqlite3_bind_int64(s, 1, (sqlite3_int64) m->arrival);
	bind_text(s, 2, m->queue_id, sizeof(m->queue_id));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = fail(st->db, err, errlen, "read message %s", m->queue_id);
	stmt_done(s);
	return rc;
}

/*
 * what passed_scan hands each record to, with kept, the recorded_at of
 * its blob (which decides when the record expires): 0 go on, 1 stop, -1
 * error
 */
typedef int (*pass_fn)(const struct store_msg *m, time_t kept, void *arg);

/*
 * passed_scan - fn for each record of the blobs of arrivals lo .. hi, in
 * arrival order; 0 when all were read, 1 when fn stopped, -1 on error (fn
 * writes err for its own).  A blob whose records do not match its row
 * (arrival, count) is damaged: an error, like one that does not decode.
 */
static int
passed_scan(struct store *st, sqlite3_int64 lo, sqlite3_int64 hi, pass_fn fn,
    void *arg, char *err, size_t errlen)
{
	sqlite3_stmt        *s = st->st[S_PASS_RANGE];
	struct store_msg     m;
	const unsigned char *p;
	sqlite3_int64        arrival, n, seen;
	time_t               kept;
	size_t               len, off;
	int                  d, rc = SQLITE_DONE, r = 0;

	if (!st->passed)
		return 0;
	sqlite3_bind_int64(s, 1, lo);
	sqlite3_bind_int64(s, 2, hi);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		p = sqlite3_column_blob(s, 1);
		len = (size_t) sqlite3_column_bytes(s, 1);
		arrival = sqlite3_column_int64(s, 2);
		n = sqlite3_column_int64(s, 3);
		kept = (time_t) sqlite3_column_int64(s, 4);
		if (p == NULL && sqlite3_errcode(st->db) == SQLITE_NOMEM) {
			r = fail(st->db, err, errlen, "read passed messages");
			break;
		}
		for (off = 0, seen = 0, d = 1; r == 0 && d == 1; seen++) {
			if ((d = msgblob_next(p, len, &off, &m)) == 1 &&
			    (sqlite3_int64) m.arrival != arrival)
				d = -1;
			if (d == 1)
				r = fn(&m, kept, arg);
			else if (d == -1 || seen != n)
				r = fail(NULL, err, errlen,
				    "passed messages row %lld: damaged",
				    (long long) sqlite3_column_int64(s, 0));
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(st->db, err, errlen, "read passed messages");
	stmt_done(s);
	return r;
}

/* what passed_join hands each record to: store_join_cb, and kept */
typedef int (*join_fn)(size_t i, const struct store_msg *m, time_t kept,
    void *arg);

/* the keys of a join, hashed by queue ID */
struct join {
	struct store           *st;
	const struct store_key *keys;
	uint32_t               *head; /* bucket: key index + 1, or 0 */
	uint32_t               *next; /* chain: key index + 1, or 0 */
	size_t                  mask;
	join_fn                 cb;
	void                   *arg;
	char                   *err;
	size_t                  errlen;
};

/* join_record - hand the passed record m to the keys it fits */
static int
join_record(const struct store_msg *m, time_t kept, void *arg)
{
	struct join            *j = arg;
	const struct store_key *k;
	uint32_t                i;
	int                     marked = -1;

	for (i = j->head[fnv1a32(m->queue_id) & j->mask]; i != 0;
	    i = j->next[i - 1]) {
		k = &j->keys[i - 1];
		if (m->arrival < slack_lo(k->arrival) ||
		    m->arrival > slack_hi(k->arrival) ||
		    strcmp(k->queue_id, m->queue_id) != 0)
			continue;
		/* a row of its own stands for it now (and was handed over) */
		if (marked == -1 &&
		    (marked = exact_row(j->st, m, j->err, j->errlen)) == -1)
			return -1;
		if (marked)
			return 0;
		if (j->cb(i - 1, m, kept, j->arg) != 0)
			return 1;
	}
	return 0;
}

/* cmp_time - ascending */
static int
cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *) a, y = *(const time_t *) b;

	return x < y ? -1 : x > y;
}

/*
 * passed_join - cb for each passed record that fits one of the n keys:
 * the blobs of the seconds around the keys' arrivals are read once, in
 * arrival order, and each record is looked up among the keys by its
 * queue ID.  0 done, 1 stopped by cb, -1 on error.
 */
static int
passed_join(struct store *st, const struct store_key *keys, size_t n,
    join_fn cb, void *arg, char *err, size_t errlen)
{
	struct join    j = { st, keys, NULL, NULL, 0, cb, arg, err, errlen };
	time_t        *when = NULL;
	sqlite3_int64  lo, hi;
	size_t         i, nb = 16;
	uint32_t       b;
	int            rc = 0;

	if (!st->passed || n == 0)
		return 0;
	if (n > UINT32_MAX / 4)
		return fail(NULL, err, errlen, "look up %zu messages: too many",
		    n);
	while (nb < 2 * n)
		nb *= 2;
	j.mask = nb - 1;
	j.head = calloc(nb, sizeof(*j.head));
	j.next = calloc(n, sizeof(*j.next));
	when = calloc(n, sizeof(*when));
	if (j.head == NULL || j.next == NULL || when == NULL) {
		rc = fail(NULL, err, errlen, "look up %zu messages: out of "
		    "memory", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		b = fnv1a32(keys[i].queue_id) & (uint32_t) j.mask;
		j.next[i] = j.head[b];
		j.head[b] = (uint32_t) i + 1;
		when[i] = keys[i].arrival;
	}
	qsort(when, n, sizeof(*when), cmp_time);
	/* the seconds around each arrival, overlapping spans merged */
	lo = slack_lo(when[0]);
	hi = slack_hi(when[0]);
	for (i = 1; i <= n && rc == 0; i++) {
		if (i < n && (hi == INT64_MAX || slack_lo(when[i]) <= hi + 1)) {
			if (slack_hi(when[i]) > hi)
				hi = slack_hi(when[i]);
			continue;
		}
		rc = passed_scan(st, lo, hi, join_record, &j, err, errlen);
		if (i < n) {
			lo = slack_lo(when[i]);
			hi = slack_hi(when[i]);
		}
	}
out:
	free(j.head);
	free(j.next);
	free(when);
	return rc;
}

/* the index of a key, for a row handed to a store_join_cb */
struct keyed {
	store_join_cb cb;
	void         *arg;
	size_t        i;
	int           stopped;
};

/* keyed_row - msg_rows callback: the row for key k->i */
static int
keyed_row(const struct store_msg *m, void *arg)
{
	struct keyed *k = arg;

	return k->stopped = k->cb(k->i, m, k->arg) != 0;
}

/* keyed_record - passed_join callback: the record for key i */
static int
keyed_record(size_t i, const struct store_msg *m, time_t kept, void *arg)
{
	struct keyed *k = arg;

	(void) kept;
	return k->cb(i, m, k->arg);
}

/* store_msgs_join - cb for each message recorded under one of the keys */
int
store_msgs_join(struct store *st, const struct store_key *keys, size_t n,
    store_join_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_QID];
	struct keyed  k = { cb, arg, 0, 0 };
	int           rc;

	for (k.i = 0; k.i < n; k.i++) {
		bind_str(s, 1, keys[k.i].queue_id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64) keys[k.i].arrival);
		rc = msg_rows(st, s, keyed_row, &k, "of queue ID ",
		    keys[k.i].queue_id, err, errlen);
		if (rc != 0 || k.stopped)
			return rc;
	}
	rc = passed_join(st, keys, n, keyed_record, &k, err, errlen);
	return rc == -1 ? -1 : 0;
}

/* rows read ahead, to be handed over in arrival order with the records */
struct merge {
	struct store_msg *rows; /* owned */
	size_t            n;
	size_t            cap;
	size_t            next;   /* first not handed over yet */
	int               oom;    /* a row could not be kept */
	const char       *user;   /* NULL: any user */
	store_msg_cb      cb;
	void             *arg;
	struct store     *st;
	char             *err;
	size_t            errlen;
};

/* merge_row - msg_rows callback: keep the row for later */
static int
merge_row(const struct store_msg *m, void *arg)
{
	struct merge     *g = arg;
	struct store_msg *nv;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 8;
		if ((nv = realloc(g->rows, g->cap * sizeof(*nv))) == NULL) {
			g->oom = 1;
			return 1;
		}
		g->rows = nv;
	}
	g->rows[g->n++] = *m;
	return 0;
}

/* merge_upto - hand over the rows that arrived at or before t; 1 stopped */
static int
merge_upto(struct merge *g, sqlite3_int64 t)
{
	for (; g->next < g->n && g->rows[g->next].arrival <= t; g->next++)
		if (g->cb(&g->rows[g->next], g->arg) != 0)
			return 1;
	return 0;
}

/* merge_key - passed_join callback: the rows before m, then m; 1 stopped */
static int
merge_key(size_t i, const struct store_msg *m, time_t kept, void *arg)
{
	struct merge *g = arg;

	(void) i;
	(void) kept;
	if (merge_upto(g, (sqlite3_int64) m->arrival) != 0)
		return 1;
	return g->cb(m, g->arg) != 0 ? 1 : 0;
}

/*
 * merge_record - passed_scan callback: merge_key for the account's
 * records that no row stands for
 */
static int
merge_record(const struct store_msg *m, time_t kept, void *arg)
{
	struct merge *g = arg;
	int           marked;

	if (g->user != NULL && strcmp(m->user, g->user) != 0)
		return 0;
	if ((marked = exact_row(g->st, m, g->err, g->errlen)) != 0)
		return marked == 1 ? 0 : -1;
	return merge_key(0, m, kept, arg);
}

/* store_msgs_each - call cb for the messages of user since "since" */
int
store_msgs_each(struct store *st, const char *user, int held_only, time_t since,
    store_msg_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_USER];
	struct merge  g = { NULL, 0, 0, 0, 0, user, cb, arg, st, err, errlen };
	int           rc;

	bind_str(s, 1, user);
	sqlite3_bind_int64(s, 2, (sqlite3_int64) since);
	sqlite3_bind_int(s, 3, held_only ? 1 : 0);
	rc = msg_rows(st, s, merge_row, &g, "of ", user, err, errlen);
	if (rc == 0 && g.oom)
		rc = fail(NULL, err, errlen, "read messages of %s: out of "
		    "memory", user);
	if (rc == 0 && !held_only)
		rc = passed_scan(st, (sqlite3_int64) since, INT64_MAX,
		    merge_record, &g, err, errlen);
	if (rc == 0)
		(void) merge_upto(&g, INT64_MAX);
	free(g.rows);
	return rc == -1 ? -1 : 0;
}

/* store_msgs_qid - call cb for the messages recorded under queue ID qid */
int
store_msgs_qid(struct store *st, const char *qid, time_t arrival,
    store_msg_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt    *s = st->st[S_MSG_QID];
	struct merge     g = { NULL, 0, 0, 0, 0, NULL, cb, arg, st, err,
		errlen };
	struct store_key k = { qid, arrival };
	int              rc;

	bind_str(s, 1, qid);
	sqlite3_bind_int64(s, 2, (sqlite3_int64) arrival);
	rc = msg_rows(st, s, merge_row, &g, "of queue ID ", qid, err, errlen);
	if (rc == 0 && g.oom)
		rc = fail(NULL, err, errlen, "read messages of queue ID %s: "
		    "out of memory", qid);
	if (rc == 0)
		rc = passed_join(st, &k, 1, merge_key, &g, err, errlen);
	if (rc == 0)
		(void) merge_upto(&g, INT64_MAX);
	free(g.rows);
	return rc == -1 ? -1 : 0;
}

/* the state a mark gives the passed records of one account */
struct mark {
	struct store *st;
	const char   *user;
	int           state;
	uint32_t      changed;
	char         *err;
	size_t        errlen;
};

/*
 * mark_record - passed_join callback: a row with the new state.  The row
 * is kept as long as the blob (kept), or the blob's record would stand
 * for the message again once the row expired.
 */
static int
mark_record(size_t i, const struct store_msg *m, time_t kept, void *arg)
{
	struct mark     *k = arg;
	sqlite3_stmt    *s = k->st->st[S_MSG_ADD];
	struct store_msg r;
	int              rc = 0;

	(void) i;
	if (strcmp(m->user, k->user) != 0)
		return 0;
	r = *m;
	r.state = k->state;
	if (kept > r.recorded)
		r.recorded = kept;
	if (msg_bind_put(s, &r, k->err, k->errlen) == -1)
		rc = -1;
	else if (sqlite3_step(s) != SQLITE_DONE)
		rc = fail(k->st->db, k->err, k->errlen,
		    "mark message %s of %s", m->queue_id, k->user);
	else
		/* 0 for one found under two keys: marked under the first */
		k->changed += (uint32_t) sqlite3_changes(k->st->db);
	stmt_done(s);
	/* stopping is the only way to end a join early; the error is in err */
	return rc == -1 ? 1 : 0;
}

/* store_msgs_mark - mark the still-queued messages of user under keys */
int
store_msgs_mark(struct store *st, const char *user,
    const struct store_key *keys, size_t n, int state, uint32_t *changed,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_MARK];
	struct mark   k = { st, user, state, 0, err, errlen };
	size_t        i;
	int           own, rc = 0;

	if (changed != NULL)
		*changed = 0;
	if (state != STORE_DELETED && state != STORE_RELEASED)
		return fail(
		    NULL, err, errlen, "mark messages: bad state %d", state);
	if (n == 0)
		return 0;
	if (txn_enter(st, &own, err, errlen) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		bind_str(s, 1, user);
		bind_str(s, 2, keys[i].queue_id);
		bind_str(s, 3, store_state_name(state));
		sqlite3_bind_int64(s, 4, (sqlite3_int64) keys[i].arrival);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = fail(st->db, err, errlen, "mark message %s of %s",
			    keys[i].queue_id, user);
		else
			k.changed += (uint32_t) sqlite3_changes(st->db);
		stmt_done(s);
	}
	/* passed ones get a row of their own (the blob is not rewritten) */
	if (rc == 0)
		rc = passed_join(st, keys, n, mark_record, &k, err, errlen);
	rc = txn_leave(st, own, rc == 0 ? 0 : -1, err, errlen);
	if (rc == 0 && changed != NULL)
		*changed = k.changed;
	return rc;
}

/* store_msgs_expire - remove messages recorded before "before" */
int
store_msgs_expire(
    struct store *st, time_t before, uint32_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_EXPIRE];
	uint64_t      total;
	int           own, rc;

	if (n != NULL)
		*n = 0;
	if (txn_enter(st, &own, err, errlen) == -1)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64) before);
	rc = exec_step(st, S_MSG_EXPIRE, err, errlen, "expire messages");
	total = rc == 0 ? (uint64_t) sqlite3_changes(st->db) : 0;
	if (rc == 0 && st->passed) {
		/* the count first, in the same transaction */
		s = st->st[S_PASS_OLD];
		sqlite3_bind_int64(s, 1, (sqlite3_int64) before);
		if (sqlite3_step(s) == SQLITE_ROW)
			total += (uint64_t) sqlite3_column_int64(s, 0);
		else
			rc = fail(st->db, err, errlen, "count passed messages");
		stmt_done(s);
	}
	if (rc == 0 && st->passed) {
		sqlite3_bind_int64(st->st[S_PASS_EXPIRE], 1,
		    (sqlite3_int64) before);
		rc = exec_step(st, S_PASS_EXPIRE, err, errlen,
		    "expire passed messages");
	}
	rc = txn_leave(st, own, rc, err, errlen);
	if (rc == 0 && n != NULL)
		*n = total > UINT32_MAX ? UINT32_MAX : (uint32_t) total;
	return rc;
}

/* store_held_count - messages of user held and still queued */
int
store_held_count(
    struct store *st, const char *user, uint32_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_HELD_COUNT];

	*n = 0;
	bind_str(s, 1, user);
	if (sqlite3_step(s) != SQLITE_ROW) {
		(void) fail(
		    st->db, err, errlen, "count held messages of %s", user);
		stmt_done(s);
		return -1;
	}
	*n = col_u32(s, 0);
	stmt_done(s);
	return 0;
}

/* store_held_counts - store_held_count for users[0..n-1] into counts[] */
int
store_held_counts(struct store *st, const char *const *users, size_t n,
    uint32_t *counts, char *err, size_t errlen)
{
	size_t i;
	int    own = 0, rc = 0;

	/* a read transaction, so all counts come from one snapshot */
	if (n > 1 && sqlite3_get_autocommit(st->db)) {
		if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) !=
		    SQLITE_OK)
			return fail(st->db, err, errlen, "count held messages");
		own = 1;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = store_held_count(st, users[i], &counts[i], err, errlen);
	if (own)
		(void) sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* store_baseline_put - set the named value of user */
int
store_baseline_put(struct store *st, const char *user, const char *key,
    double value, time_t updated, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_BASE_PUT];

	bind_str(s, 1, user);
	bind_str(s, 2, key);
	sqlite3_bind_double(s, 3, value);
	sqlite3_bind_int64(s, 4, (sqlite3_int64) updated);
	if (sqlite3_step(s) != SQLITE_DONE) {
		(void) fail(
		    st->db, err, errlen, "baseline %s of %s", key, user);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* store_baseline_get - the named value of user; 1 found, 0 not set */
int
store_baseline_get(struct store *st, const char *user, const char *key,
    double *value, time_t *updated, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_BASE_GET];
	int           rc;

	bind_str(s, 1, user);
	bind_str(s, 2, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_double(s, 0);
		if (updated != NULL)
			*updated = (time_t) sqlite3_column_int64(s, 1);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = fail(
		    st->db, err, errlen, "read baseline %s of %s", key, user);
	}
	stmt_done(s);
	return rc;
}

/* store_baselines_each - call cb for every baseline value, by user and key */
int
store_baselines_each(struct store *st, store_baseline_cb cb, void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_BASE_ALL];
	const char   *user, *key;
	int           rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		user = (const char *) sqlite3_column_text(s, 0);
		key = (const char *) sqlite3_column_text(s, 1);
		if (user == NULL || key == NULL)
			continue;
		if (cb(user, key, sqlite3_column_double(s, 2),
			(time_t) sqlite3_column_int64(s, 3), arg) != 0) {
			stmt_done(s);
			return 0;
		}
	}
	if (rc != SQLITE_DONE) {
		(void) fail(st->db, err, errlen, "read baselines");
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}
