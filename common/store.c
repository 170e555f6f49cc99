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

#include "store.h"

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
	[S_MSG_EXPIRE] = "DELETE FROM messages WHERE id < coalesce("
			 "(SELECT id FROM messages WHERE recorded_at >= ?1 "
			 "ORDER BY id LIMIT 1), 9223372036854775807)",
	[S_HELD_COUNT] = "SELECT count(*) FROM messages "
			 "WHERE user = ?1 AND held = 1 AND state = 'queued'",
	[S_BASE_PUT] = "INSERT OR REPLACE INTO baselines "
		       "(user, key, value, updated) VALUES (?1, ?2, ?3, ?4)",
	[S_BASE_GET] = "SELECT value, updated FROM baselines "
		       "WHERE user = ?1 AND key = ?2",
	[S_BASE_ALL] = "SELECT user, key, value, updated FROM baselines "
		       "ORDER BY user, key",
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

#define TEXT_(x)     #x
#define TEXT(x)      TEXT_(x)
#define VERSION_TEXT TEXT(STORE_SCHEMA_VERSION)

/*
 * Version 2.  A later version adds its steps after these and bumps
 * STORE_SCHEMA_VERSION; upgrade_sql brings version 1 to 2.
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
     * No index by user: with one row per message from thousands of
     * accounts, its inserts land all over the tree and a commit rewrites
     * most of its pages.  An account's queued mail is found from the
     * queue side instead, one queued message at a time (store_msgs_qid);
     * a scan by user is left for rare reads (store_msgs_each).  Rows are
     * appended in time order, so expiry walks the rowids from the oldest
     * and needs no index on recorded_at either.
     */
    MESSAGES_HELD_INDEX
    "CREATE TABLE IF NOT EXISTS baselines ("
    " user TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value REAL NOT NULL,"
    " updated INTEGER NOT NULL,"
    " PRIMARY KEY (user, key));"
    "INSERT INTO meta VALUES ('schema_version', '" VERSION_TEXT "');";

struct store {
	sqlite3      *db;          /* owned; sqlite3_close_v2 */
	sqlite3_stmt *st[S_COUNT]; /* owned; sqlite3_finalize */
	int           readonly;
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

/* store_begin - start a write transaction (takes the write lock now) */
int
store_begin(struct store *st, char *err, size_t errlen)
{
	if (!sqlite3_get_autocommit(st->db))
		return fail(
		    NULL, err, errlen, "begin: transaction already open");
	return exec_step(st, S_BEGIN, err, errlen, "begin transaction");
}

/* store_commit - commit the transaction started by store_begin */
int
store_commit(struct store *st, char *err, size_t errlen)
{
	if (sqlite3_get_autocommit(st->db))
		return fail(NULL, err, errlen, "commit: no transaction open");
	return exec_step(st, S_COMMIT, err, errlen, "commit");
}

/* store_rollback - abandon the open transaction, if any */
void
store_rollback(struct store *st)
{
	if (st == NULL || sqlite3_get_autocommit(st->db))
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
static const char upgrade_sql[] =
    MESSAGES_TABLE("messages_v2")
    "INSERT INTO messages_v2 SELECT * FROM messages;"
    "DROP TABLE messages;"
    "ALTER TABLE messages_v2 RENAME TO messages;"
    MESSAGES_HELD_INDEX
    "UPDATE meta SET value = '2' WHERE key = 'schema_version';";

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
	if (v == 1 && !readonly && schema_step(st, 1, upgrade_sql,
	    "upgrade schema 1 to 2", err, errlen) == -1)
		goto bad;
	for (i = 0; i < S_COUNT; i++) {
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

/* store_msgs_each - call cb for the messages of user since "since" */
int
store_msgs_each(struct store *st, const char *user, int held_only, time_t since,
    store_msg_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_USER];

	bind_str(s, 1, user);
	sqlite3_bind_int64(s, 2, (sqlite3_int64) since);
	sqlite3_bind_int(s, 3, held_only ? 1 : 0);
	return msg_rows(st, s, cb, arg, "of ", user, err, errlen);
}

/* store_msgs_qid - call cb for the messages recorded under queue ID qid */
int
store_msgs_qid(struct store *st, const char *qid, time_t arrival,
    store_msg_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_QID];

	bind_str(s, 1, qid);
	sqlite3_bind_int64(s, 2, (sqlite3_int64) arrival);
	return msg_rows(st, s, cb, arg, "of queue ID ", qid, err, errlen);
}

/* store_msgs_mark - mark the still-queued messages of user under keys */
int
store_msgs_mark(struct store *st, const char *user,
    const struct store_key *keys, size_t n, int state, uint32_t *changed,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_MARK];
	uint32_t      total = 0;
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
			total += (uint32_t) sqlite3_changes(st->db);
		stmt_done(s);
	}
	rc = txn_leave(st, own, rc, err, errlen);
	if (rc == 0 && changed != NULL)
		*changed = total;
	return rc;
}

/* store_msgs_expire - remove messages recorded before "before" */
int
store_msgs_expire(
    struct store *st, time_t before, uint32_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->st[S_MSG_EXPIRE];

	if (n != NULL)
		*n = 0;
	sqlite3_bind_int64(s, 1, (sqlite3_int64) before);
	if (exec_step(st, S_MSG_EXPIRE, err, errlen, "expire messages") == -1)
		return -1;
	if (n != NULL)
		*n = (uint32_t) sqlite3_changes(st->db);
	return 0;
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
