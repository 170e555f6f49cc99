/*
 * test_store.c - tests of the SQLite state store
 *
 * Each test works in its own temporary directory.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

static char dir[64];
static char path[128];
static char err[512];

static void
setup(void)
{
	int n;

	n = snprintf(dir, sizeof(dir), "/tmp/test_store.XXXXXX");
	cr_assert(n > 0 && (size_t) n < sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	n = snprintf(path, sizeof(path), "%s/state.db", dir);
	cr_assert(n > 0 && (size_t) n < sizeof(path));
}

static void
teardown(void)
{
	const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char        p[160];
	size_t      i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) <
		    (int) sizeof(p))
			(void) unlink(p);
	}
	(void) rmdir(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

static struct store *
open_rw(void)
{
	struct store *st = NULL;

	cr_assert_eq(store_open(path, 0, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(st);
	return st;
}

static struct store *
open_ro(void)
{
	struct store *st = NULL;

	cr_assert_eq(store_open(path, 1, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(st);
	return st;
}

static struct store_flag
make_flag(const char *user, const char *limit, uint32_t count)
{
	struct store_flag f;

	memset(&f, 0, sizeof(f));
	(void) snprintf(f.user, sizeof(f.user), "%s", user);
	f.flagged_at = 1700000000;
	(void) snprintf(f.limit, sizeof(f.limit), "%s", limit);
	f.count = count;
	f.max = 300;
	f.window = 3600;
	(void) snprintf(f.reason, sizeof(f.reason), "over %s", limit);
	(void) snprintf(f.source, sizeof(f.source), "policy");
	(void) snprintf(f.client, sizeof(f.client), "203.0.113.9");
	(void) snprintf(f.queue_id, sizeof(f.queue_id), "4Xk2Lm0ZzQz9vK");
	return f;
}

static struct store_msg
make_msg(const char *qid, const char *user, time_t arrival, int held)
{
	struct store_msg m;

	memset(&m, 0, sizeof(m));
	(void) snprintf(m.queue_id, sizeof(m.queue_id), "%s", qid);
	(void) snprintf(m.user, sizeof(m.user), "%s", user);
	(void) snprintf(m.sender, sizeof(m.sender), "%s", user);
	m.nrcpt = 3;
	(void) snprintf(m.client, sizeof(m.client), "198.51.100.7");
	m.arrival = arrival;
	m.held = held;
	m.state = STORE_QUEUED;
	m.recorded = arrival;
	return m;
}

/* collects listed messages */
struct msgs {
	struct store_msg m[16];
	size_t           n;
	size_t           stop_after; /* 0 = never stop */
};

static int
collect_msg(const struct store_msg *m, void *arg)
{
	struct msgs *c = arg;

	cr_assert_lt(c->n, 16);
	c->m[c->n++] = *m;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static struct msgs
list_msgs(struct store *st, const char *user, int held_only, time_t since)
{
	struct msgs c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(store_msgs_each(st, user, held_only, since, collect_msg,
			 &c, err, sizeof(err)),
	    0, "%s", err);
	return c;
}

struct users {
	char   user[8][STORE_USER_SIZE];
	size_t n;
};

static int
collect_flag(const struct store_flag *f, void *arg)
{
	struct users *u = arg;

	cr_assert_lt(u->n, 8);
	(void) snprintf(u->user[u->n++], STORE_USER_SIZE, "%s", f->user);
	return 0;
}

Test(store, open_creates_schema_that_rw_and_readonly_handles_accept)
{
	struct store *st = open_rw();
	struct store *ro;

	store_close(st);
	st = open_rw();
	ro = open_ro();
	store_close(ro);
	store_close(st);
	store_close(NULL); /* accepted */
}

Test(store, readonly_open_of_missing_database_fails_and_creates_nothing)
{
	struct store *st = NULL;
	struct stat   sb;

	cr_assert_eq(store_open(path, 1, &st, err, sizeof(err)), -1);
	cr_assert_null(st);
	cr_assert_neq(err[0], '\0');
	cr_assert_eq(stat(path, &sb), -1);
}

Test(store, open_of_a_file_that_is_not_a_database_fails_with_message)
{
	struct store *st = NULL;
	FILE         *fp;

	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("this is not an SQLite database, just some text of some length "
	      "that fills more than the header of one page........\n",
	    fp);
	fclose(fp);
	cr_assert_eq(store_open(path, 0, &st, err, sizeof(err)), -1);
	cr_assert_null(st);
	cr_assert_not_null(strstr(err, "not a database"), "%s", err);
}

Test(store, new_database_and_wal_files_have_mode_0600)
{
	struct store     *st;
	struct store_flag f = make_flag("alice@example.org", "messages", 1);
	struct stat       sb;
	char              wal[160];
	mode_t            old = umask(0);

	st = open_rw();
	umask(old);
	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", sb.st_mode & 07777);
	cr_assert_lt(
	    snprintf(wal, sizeof(wal), "%s-wal", path), (int) sizeof(wal));
	cr_assert_eq(stat(wal, &sb), 0);
	cr_assert_eq(
	    sb.st_mode & 07777, 0600, "wal mode %o", sb.st_mode & 07777);
	store_close(st);
}

Test(store, flag_put_then_get_returns_every_field)
{
	struct store     *st = open_rw();
	struct store_flag f = make_flag("alice@example.org", "recipients", 301);
	struct store_flag g;

	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0, "%s", err);
	memset(&g, 0xff, sizeof(g));
	cr_assert_eq(
	    store_flag_get(st, "alice@example.org", &g, err, sizeof(err)), 1,
	    "%s", err);
	cr_assert_str_eq(g.user, "alice@example.org");
	cr_assert_eq(g.flagged_at, 1700000000);
	cr_assert_str_eq(g.limit, "recipients");
	cr_assert_eq(g.count, 301);
	cr_assert_eq(g.max, 300);
	cr_assert_eq(g.window, 3600);
	cr_assert_str_eq(g.reason, "over recipients");
	cr_assert_str_eq(g.source, "policy");
	cr_assert_str_eq(g.client, "203.0.113.9");
	cr_assert_str_eq(g.queue_id, "4Xk2Lm0ZzQz9vK");
	store_close(st);
}

Test(store, flag_get_of_unflagged_user_returns_zero)
{
	struct store     *st = open_rw();
	struct store_flag g;

	cr_assert_eq(
	    store_flag_get(st, "nobody@example.org", &g, err, sizeof(err)), 0,
	    "%s", err);
	store_close(st);
}

Test(store, flag_put_for_same_user_replaces_the_flag)
{
	struct store     *st = open_rw();
	struct store_flag f = make_flag("alice@example.org", "messages", 101);
	struct store_flag g;
	struct users      u = { .n = 0 };

	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0, "%s", err);
	f = make_flag("alice@example.org", "operator", 0);
	(void) snprintf(f.source, sizeof(f.source), "operator");
	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(
	    store_flag_get(st, "alice@example.org", &g, err, sizeof(err)), 1);
	cr_assert_str_eq(g.limit, "operator");
	cr_assert_str_eq(g.source, "operator");
	cr_assert_eq(
	    store_flags_each(st, collect_flag, &u, err, sizeof(err)), 0);
	cr_assert_eq(u.n, 1);
	store_close(st);
}

Test(store, flag_del_removes_flag_and_reports_whether_it_existed)
{
	struct store     *st = open_rw();
	struct store_flag f = make_flag("alice@example.org", "messages", 101);
	struct store_flag g;

	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_flag_del(st, "alice@example.org", err, sizeof(err)),
	    1, "%s", err);
	cr_assert_eq(
	    store_flag_get(st, "alice@example.org", &g, err, sizeof(err)), 0);
	cr_assert_eq(store_flag_del(st, "alice@example.org", err, sizeof(err)),
	    0, "%s", err);
	store_close(st);
}

Test(store, flags_each_lists_every_flag_ordered_by_user)
{
	struct store     *st = open_rw();
	struct store_flag f;
	struct users      u = { .n = 0 };

	f = make_flag("carol@example.org", "messages", 1);
	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0);
	f = make_flag("alice@example.org", "messages", 1);
	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0);
	f = make_flag("bob@example.org", "cluster", 1);
	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0);
	cr_assert_eq(store_flags_each(st, collect_flag, &u, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(u.n, 3);
	cr_assert_str_eq(u.user[0], "alice@example.org");
	cr_assert_str_eq(u.user[1], "bob@example.org");
	cr_assert_str_eq(u.user[2], "carol@example.org");
	store_close(st);
}

Test(store, reopen_after_close_keeps_flags_messages_and_baselines)
{
	struct store     *st = open_rw();
	struct store_flag f = make_flag("alice@example.org", "messages", 101);
	struct store_msg  m[2];
	struct msgs       c;
	double            v = 0;
	time_t            upd = 0;

	m[0] = make_msg("AAA111", "alice@example.org", 1000, 1);
	m[1] = make_msg("AAA222", "alice@example.org", 1001, 0);
	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0);
	cr_assert_eq(store_msgs_put(st, m, 2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_baseline_put(st, "alice@example.org", "rcpt_day",
			 42.5, 1002, err, sizeof(err)),
	    0, "%s", err);
	store_close(st);

	st = open_rw();
	cr_assert_eq(
	    store_flag_get(st, "alice@example.org", &f, err, sizeof(err)), 1);
	cr_assert_eq(f.count, 101);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.m[0].queue_id, "AAA111");
	cr_assert_eq(c.m[0].held, 1);
	cr_assert_str_eq(c.m[1].queue_id, "AAA222");
	cr_assert_eq(store_baseline_get(st, "alice@example.org", "rcpt_day", &v,
			 &upd, err, sizeof(err)),
	    1, "%s", err);
	cr_assert_float_eq(v, 42.5, 1e-9);
	cr_assert_eq(upd, 1002);
	store_close(st);
}

Test(store, committed_flag_survives_kill_9_of_the_writer)
{
	struct store_flag f = make_flag("alice@example.org", "messages", 7);
	struct store     *st;
	pid_t             pid;
	int               status;

	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (store_open(path, 0, &st, err, sizeof(err)) == -1 ||
		    store_flag_put(st, &f, err, sizeof(err)) == -1)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	st = open_ro();
	memset(&f, 0, sizeof(f));
	cr_assert_eq(
	    store_flag_get(st, "alice@example.org", &f, err, sizeof(err)), 1,
	    "%s", err);
	cr_assert_eq(f.count, 7);
	store_close(st);
}

Test(store, msgs_put_batch_then_list_returns_only_that_users_rows_in_order)
{
	struct store    *st = open_rw();
	struct store_msg m[5];
	struct msgs      c;

	m[0] = make_msg("Q3", "alice@example.org", 300, 0);
	m[1] = make_msg("Q1", "alice@example.org", 100, 1);
	m[2] = make_msg("Q2", "bob@example.org", 200, 1);
	m[3] = make_msg("Q4", "alice@example.org", 400, 1);
	m[4] = make_msg("Q5", "bob@example.org", 500, 0);
	m[3].state = STORE_RELEASED;
	cr_assert_eq(store_msgs_put(st, m, 5, err, sizeof(err)), 0, "%s", err);

	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 3);
	cr_assert_str_eq(c.m[0].queue_id, "Q1");
	cr_assert_str_eq(c.m[1].queue_id, "Q3");
	cr_assert_str_eq(c.m[2].queue_id, "Q4");
	cr_assert_eq(c.m[2].state, STORE_RELEASED);
	cr_assert_str_eq(c.m[0].sender, "alice@example.org");
	cr_assert_str_eq(c.m[0].client, "198.51.100.7");
	cr_assert_eq(c.m[0].nrcpt, 3);
	cr_assert_eq(c.m[0].arrival, 100);

	/* since and held-only filters */
	c = list_msgs(st, "alice@example.org", 0, 300);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.m[0].queue_id, "Q3");
	c = list_msgs(st, "alice@example.org", 1, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.m[0].queue_id, "Q1");
	c = list_msgs(st, "carol@example.org", 0, 0);
	cr_assert_eq(c.n, 0);
	store_close(st);
}

Test(store, msgs_each_stops_when_callback_returns_nonzero)
{
	struct store    *st = open_rw();
	struct store_msg m[3];
	struct msgs      c;

	m[0] = make_msg("Q1", "alice@example.org", 100, 0);
	m[1] = make_msg("Q2", "alice@example.org", 200, 0);
	m[2] = make_msg("Q3", "alice@example.org", 300, 0);
	cr_assert_eq(store_msgs_put(st, m, 3, err, sizeof(err)), 0);
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	cr_assert_eq(store_msgs_each(st, "alice@example.org", 0, 0, collect_msg,
			 &c, err, sizeof(err)),
	    0);
	cr_assert_eq(c.n, 2);
	/* the statement was reset: a second listing starts over */
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 3);
	store_close(st);
}

Test(store, msgs_qid_finds_every_recording_of_an_id_oldest_first)
{
	struct store    *st = open_rw();
	struct store_msg m[4];
	struct msgs      c;

	/* Postfix reuses IDs: Q1 twice, for two accounts, 3 s apart */
	m[0] = make_msg("Q1", "bob@example.org", 103, 0);
	m[1] = make_msg("Q1", "alice@example.org", 100, 1);
	m[2] = make_msg("Q2", "alice@example.org", 100, 0);
	m[3] = make_msg("Q10", "alice@example.org", 300, 0);
	cr_assert_eq(store_msgs_put(st, m, 4, err, sizeof(err)), 0, "%s", err);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(
	    store_msgs_qid(st, "Q1", 101, collect_msg, &c, err, sizeof(err)),
	    0);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.m[0].user, "alice@example.org");
	cr_assert_eq(c.m[0].arrival, 100);
	cr_assert_eq(c.m[0].held, 1);
	cr_assert_str_eq(c.m[1].user, "bob@example.org");
	memset(&c, 0, sizeof(c));
	cr_assert_eq(
	    store_msgs_qid(st, "Q3", 100, collect_msg, &c, err, sizeof(err)),
	    0);
	cr_assert_eq(c.n, 0);
	/* stopping early resets the statement */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	cr_assert_eq(
	    store_msgs_qid(st, "Q1", 101, collect_msg, &c, err, sizeof(err)),
	    0);
	cr_assert_eq(c.n, 1);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(
	    store_msgs_qid(st, "Q10", 300, collect_msg, &c, err, sizeof(err)),
	    0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0].arrival, 300);
	store_close(st);
}

/*
 * The recorded arrival (MAIL FROM, taken by the filter) is the queued
 * one or a second before it, give or take STORE_ARRIVAL_SLACK seconds of
 * clock difference; anything further is another message.
 */
Test(store, msgs_qid_finds_a_row_only_within_the_arrival_slack)
{
	struct store    *st = open_rw();
	struct store_msg m[2];
	struct msgs      c;
	time_t           q;

	/* a held message (a row) and a passed one (a blob record) */
	m[0] = make_msg("QW", "alice@example.org", 1000, 1);
	m[1] = make_msg("QP", "alice@example.org", 1000, 0);
	cr_assert_eq(store_msgs_put(st, m, 2, err, sizeof(err)), 0);
	for (q = 980; q <= 1020; q++) {
		memset(&c, 0, sizeof(c));
		cr_assert_eq(store_msgs_qid(st, "QW", q, collect_msg, &c, err,
				 sizeof(err)),
		    0, "%s", err);
		cr_assert_eq(store_msgs_qid(st, "QP", q, collect_msg, &c, err,
				 sizeof(err)),
		    0, "%s", err);
		cr_assert_eq(c.n,
		    q >= 1000 - STORE_ARRIVAL_SLACK &&
			    q <= 1000 + STORE_ARRIVAL_SLACK + 1 ?
			2 :
			0,
		    "queued arrival %ld", (long) q);
	}
	store_close(st);
}

/* the lookups use the key's index, not a scan of the table */
Test(store, msgs_qid_and_mark_are_index_lookups)
{
	struct store *st = open_rw();
	sqlite3      *db;
	sqlite3_stmt *q;
	const char   *sql[] = {
                "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE arrival IN "
                "(?2-6,?2-5,?2-4,?2-3,?2-2,?2-1,?2,?2+1,?2+2,?2+3,?2+4,?2+5) "
                "AND queue_id = ?1",
                "EXPLAIN QUERY PLAN UPDATE messages SET state = 'deleted' "
                "WHERE arrival IN (?4-6,?4-5,?4,?4+5) AND queue_id = ?2 "
                "AND +user = ?1 AND state = 'queued'",
	};
	size_t i;
	char   plan[512];

	store_close(st);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		cr_assert_eq(sqlite3_prepare_v2(db, sql[i], -1, &q, NULL),
		    SQLITE_OK, "%s", sqlite3_errmsg(db));
		plan[0] = '\0';
		while (sqlite3_step(q) == SQLITE_ROW)
			snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan),
			    "%s;", (const char *) sqlite3_column_text(q, 3));
		sqlite3_finalize(q);
		cr_assert_not_null(strstr(plan, "USING INDEX"), "%s", plan);
		cr_assert_not_null(strstr(plan, "arrival=? AND queue_id=?"),
		    "%s", plan);
	}
	sqlite3_close(db);
}

/* a version 1 store, keyed (queue_id, arrival), is rebuilt at open */
Test(store, open_upgrades_a_version_1_store_keeping_its_rows)
{
	struct store *st;
	sqlite3      *db;
	sqlite3_stmt *q;
	struct msgs       c;
	struct store_flag f;
	char              ddl[512] = "";
	uint32_t          held = 0;

	unlink(path);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
			 "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT "
			 "NOT NULL);"
			 "INSERT INTO meta VALUES ('schema_version', '1');"
			 "CREATE TABLE flags (user TEXT PRIMARY KEY, flagged_at "
			 "INTEGER NOT NULL, limit_name TEXT NOT NULL, count "
			 "INTEGER NOT NULL, max INTEGER NOT NULL, window_s "
			 "INTEGER NOT NULL, reason TEXT NOT NULL, source TEXT "
			 "NOT NULL, client TEXT NOT NULL, queue_id TEXT NOT "
			 "NULL);"
			 "CREATE TABLE messages (id INTEGER PRIMARY KEY, "
			 "queue_id TEXT NOT NULL, user TEXT NOT NULL, sender "
			 "TEXT NOT NULL, nrcpt INTEGER NOT NULL, client TEXT NOT "
			 "NULL, arrival INTEGER NOT NULL, held INTEGER NOT NULL, "
			 "state TEXT NOT NULL CHECK (state = 'queued' OR state "
			 "= 'deleted' OR state = 'released'), recorded_at "
			 "INTEGER NOT NULL, UNIQUE (queue_id, arrival));"
			 "CREATE INDEX messages_held ON messages (user) WHERE "
			 "held = 1 AND state = 'queued';"
			 "CREATE TABLE baselines (user TEXT NOT NULL, key TEXT "
			 "NOT NULL, value REAL NOT NULL, updated INTEGER NOT "
			 "NULL, PRIMARY KEY (user, key));"
			 "INSERT INTO messages VALUES (7, 'QOLD', "
			 "'alice@example.org', 'alice@example.org', 3, "
			 "'192.0.2.1', 500, 1, 'queued', 500);"
			 "INSERT INTO flags VALUES ('alice@example.org', 500, "
			 "'messages', 101, 100, 3600, '', 'policy', "
			 "'192.0.2.1', 'QOLD');",
			 NULL, NULL, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);

	/* a read-only handle reads version 1 as it is */
	cr_assert_eq(store_open(path, 1, &st, err, sizeof(err)), 0, "%s", err);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(store_msgs_qid(st, "QOLD", 500, collect_msg, &c, err,
			 sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(c.n, 1);
	store_close(st);

	st = open_rw();
	memset(&c, 0, sizeof(c));
	cr_assert_eq(store_msgs_qid(st, "QOLD", 501, collect_msg, &c, err,
			 sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.m[0].user, "alice@example.org");
	cr_assert_eq(c.m[0].nrcpt, 3);
	cr_assert_eq(c.m[0].held, 1);
	cr_assert_eq(
	    store_held_count(st, "alice@example.org", &held, err, sizeof(err)),
	    0);
	cr_assert_eq(held, 1);
	cr_assert_eq(store_flag_get(st, "alice@example.org", &f, err,
			 sizeof(err)),
	    1, "%s", err);
	cr_assert_str_eq(f.queue_id, "QOLD");
	store_close(st);

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db,
			 "SELECT (SELECT value FROM meta WHERE key = "
			 "'schema_version') || ' ' || (SELECT sql FROM "
			 "sqlite_master WHERE name = 'messages') || ' ' || "
			 "(SELECT id FROM messages)",
			 -1, &q, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	snprintf(ddl, sizeof(ddl), "%s", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	cr_assert_eq(strncmp(ddl, "3 ", 2), 0, "%s", ddl);
	cr_assert_not_null(strstr(ddl, "UNIQUE (arrival, queue_id)"), "%s", ddl);
	cr_assert_not_null(strstr(ddl, " 7"), "rowid kept: %s", ddl);
}

/* an index by user, as releases of schema 1 made, is gone after the upgrade */
Test(store, open_drops_the_index_by_user_of_earlier_releases)
{
	struct store *st = open_rw();
	sqlite3      *db;
	sqlite3_stmt *q;
	int           n = -1;

	store_close(st);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(
	    sqlite3_exec(db,
		"UPDATE meta SET value = '1' WHERE key = 'schema_version';"
		"CREATE INDEX messages_user ON messages (user, arrival)", NULL,
		NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	st = open_rw();
	store_close(st);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db,
			 "SELECT count(*) FROM sqlite_master WHERE type = "
			 "'index' AND name = 'messages_user'",
			 -1, &q, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	cr_assert_eq(n, 0);
}

Test(store, msgs_put_with_bad_state_stores_none_of_the_batch)
{
	struct store    *st = open_rw();
	struct store_msg m[2];
	struct msgs      c;

	m[0] = make_msg("Q1", "alice@example.org", 100, 0);
	m[1] = make_msg("Q2", "alice@example.org", 200, 0);
	m[1].state = 9;
	cr_assert_eq(store_msgs_put(st, m, 2, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "bad state"), "%s", err);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 0);
	store_close(st);
}

Test(store, reused_queue_id_with_other_arrival_is_a_distinct_row)
{
	struct store    *st = open_rw();
	struct store_msg m[2];
	struct msgs      c;

	m[0] = make_msg("4Xk2Lm0ZzQz9vK", "alice@example.org", 1000, 0);
	m[1] = make_msg("4Xk2Lm0ZzQz9vK", "alice@example.org", 90000, 1);
	cr_assert_eq(store_msgs_put(st, m, 2, err, sizeof(err)), 0, "%s", err);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[0].arrival, 1000);
	cr_assert_eq(c.m[1].arrival, 90000);

	/* the same (queue ID, arrival) again replaces its row */
	m[1].nrcpt = 50;
	cr_assert_eq(store_msgs_put(st, &m[1], 1, err, sizeof(err)), 0);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.m[1].nrcpt, 50);
	store_close(st);
}

Test(store, mark_changes_only_queued_rows_of_the_given_user)
{
	struct store    *st = open_rw();
	struct store_msg m[4];
	/* as the queue shows them: arrival at or a second after the row's */
	const struct store_key qids[] = { { "QA", 100 }, { "QB", 201 },
		{ "QX", 300 } };
	struct msgs      c;
	uint32_t         changed = 99, held = 99;

	m[0] = make_msg("QA", "alice@example.org", 100, 1);
	m[1] = make_msg("QB", "alice@example.org", 200, 1);
	m[2] = make_msg("QX", "bob@example.org", 300, 1); /* not alice's */
	m[3] = make_msg("QC", "alice@example.org", 400, 1);
	cr_assert_eq(store_msgs_put(st, m, 4, err, sizeof(err)), 0);

	cr_assert_eq(store_msgs_mark(st, "alice@example.org", qids, 3,
			 STORE_RELEASED, &changed, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(changed, 2);
	c = list_msgs(st, "bob@example.org", 0, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0].state, STORE_QUEUED);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.m[0].state, STORE_RELEASED);
	cr_assert_eq(c.m[1].state, STORE_RELEASED);
	cr_assert_eq(c.m[2].state, STORE_QUEUED);
	cr_assert_eq(
	    store_held_count(st, "alice@example.org", &held, err, sizeof(err)),
	    0);
	cr_assert_eq(held, 1);

	/* a released message is not deleted afterwards */
	cr_assert_eq(store_msgs_mark(st, "alice@example.org", qids, 1,
			 STORE_DELETED, &changed, err, sizeof(err)),
	    0);
	cr_assert_eq(changed, 0);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.m[0].state, STORE_RELEASED);
	store_close(st);
}

Test(store, mark_refuses_queued_as_target_state)
{
	struct store          *st = open_rw();
	const struct store_key qids[] = { { "QA", 100 } };

	cr_assert_eq(store_msgs_mark(st, "alice@example.org", qids, 1,
			 STORE_QUEUED, NULL, err, sizeof(err)),
	    -1);
	store_close(st);
}

Test(store, expire_removes_rows_recorded_before_cutoff)
{
	struct store    *st = open_rw();
	struct store_msg m[3];
	struct msgs      c;
	uint32_t         n = 0;

	m[0] = make_msg("Q1", "alice@example.org", 100, 1);
	m[1] = make_msg("Q2", "alice@example.org", 200, 0);
	m[2] = make_msg("Q3", "bob@example.org", 300, 0);
	cr_assert_eq(store_msgs_put(st, m, 3, err, sizeof(err)), 0);
	cr_assert_eq(
	    store_msgs_expire(st, 250, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 2);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 0);
	c = list_msgs(st, "bob@example.org", 0, 0);
	cr_assert_eq(c.n, 1);
	store_close(st);
}

Test(store, held_counts_per_user_count_only_held_and_queued)
{
	struct store    *st = open_rw();
	struct store_msg m[5];
	const char      *users[] = { "alice@example.org", "bob@example.org",
		     "carol@example.org" };
	uint32_t         counts[3] = { 99, 99, 99 };

	m[0] = make_msg("Q1", "alice@example.org", 100, 1);
	m[1] = make_msg("Q2", "alice@example.org", 200, 1);
	m[2] = make_msg("Q3", "alice@example.org", 300, 0);
	m[3] = make_msg("Q4", "bob@example.org", 400, 1);
	m[4] = make_msg("Q5", "bob@example.org", 500, 1);
	m[4].state = STORE_DELETED;
	cr_assert_eq(store_msgs_put(st, m, 5, err, sizeof(err)), 0);
	cr_assert_eq(store_held_counts(st, users, 3, counts, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(counts[0], 2);
	cr_assert_eq(counts[1], 1);
	cr_assert_eq(counts[2], 0);
	store_close(st);
}

Test(store, baseline_get_of_unset_key_returns_zero_and_put_overwrites)
{
	struct store *st = open_rw();
	double        v = -1;

	cr_assert_eq(store_baseline_get(st, "alice@example.org", "msgs_hour",
			 &v, NULL, err, sizeof(err)),
	    0);
	cr_assert_eq(store_baseline_put(st, "alice@example.org", "msgs_hour",
			 3.0, 10, err, sizeof(err)),
	    0);
	cr_assert_eq(store_baseline_put(st, "alice@example.org", "msgs_hour",
			 4.25, 20, err, sizeof(err)),
	    0);
	cr_assert_eq(store_baseline_get(st, "alice@example.org", "msgs_hour",
			 &v, NULL, err, sizeof(err)),
	    1);
	cr_assert_float_eq(v, 4.25, 1e-9);
	store_close(st);
}

Test(store, writer_and_readonly_reader_work_at_once)
{
	struct store     *w = open_rw();
	struct store     *r = open_ro();
	struct store_flag f = make_flag("alice@example.org", "messages", 1);
	struct store_flag g;

	cr_assert_eq(store_flag_put(w, &f, err, sizeof(err)), 0);
	cr_assert_eq(
	    store_flag_get(r, "alice@example.org", &g, err, sizeof(err)), 1,
	    "%s", err);

	/* the reader is not blocked by an open write transaction */
	cr_assert_eq(store_begin(w, err, sizeof(err)), 0, "%s", err);
	f = make_flag("bob@example.org", "messages", 1);
	cr_assert_eq(store_flag_put(w, &f, err, sizeof(err)), 0);
	cr_assert_eq(
	    store_flag_get(r, "alice@example.org", &g, err, sizeof(err)), 1,
	    "%s", err);
	cr_assert_eq(store_flag_get(r, "bob@example.org", &g, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(store_commit(w, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_flag_get(r, "bob@example.org", &g, err, sizeof(err)),
	    1, "%s", err);

	/* the read-only handle cannot write */
	cr_assert_eq(
	    store_flag_del(r, "bob@example.org", err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "readonly"), "%s", err);
	store_close(r);
	store_close(w);
}

Test(store, second_writer_fails_with_locked_error_after_busy_timeout)
{
	struct store     *a = open_rw();
	struct store     *b = open_rw();
	struct store_flag f = make_flag("alice@example.org", "messages", 1);

	cr_assert_eq(store_busy_timeout(b, 20, err, sizeof(err)), 0);
	cr_assert_eq(store_begin(a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_flag_put(b, &f, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "locked"), "%s", err);
	cr_assert_not_null(strstr(err, "alice@example.org"), "%s", err);
	store_rollback(a);
	cr_assert_eq(store_flag_put(b, &f, err, sizeof(err)), 0, "%s", err);
	store_close(a);
	store_close(b);
}

Test(store, rollback_discards_writes_of_the_transaction)
{
	struct store     *st = open_rw();
	struct store_flag f = make_flag("alice@example.org", "messages", 1);
	struct store_msg  m = make_msg("Q1", "alice@example.org", 100, 1);
	struct store_flag g;
	struct msgs       c;

	cr_assert_eq(store_begin(st, err, sizeof(err)), 0);
	cr_assert_eq(store_flag_put(st, &f, err, sizeof(err)), 0);
	cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)), 0);
	store_rollback(st);
	cr_assert_eq(
	    store_flag_get(st, "alice@example.org", &g, err, sizeof(err)), 0);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 0);
	store_close(st);
}

Test(store, state_names_match_enum)
{
	cr_assert_str_eq(store_state_name(STORE_QUEUED), "queued");
	cr_assert_str_eq(store_state_name(STORE_DELETED), "deleted");
	cr_assert_str_eq(store_state_name(STORE_RELEASED), "released");
	cr_assert_null(store_state_name(3));
	cr_assert_null(store_state_name(-1));
}

/* count - the one integer the SQL query q answers on the file */
static long long
count(const char *q)
{
	sqlite3      *db;
	sqlite3_stmt *s;
	long long     n;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK, "%s",
	    sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* passed messages: one blob per arrival second, no row; all fields kept */
Test(store, passed_messages_are_packed_one_blob_per_second)
{
	struct store    *st = open_rw();
	struct store_msg m[4];
	struct msgs      c;

	m[0] = make_msg("QA", "alice@example.org", 100, 0);
	m[1] = make_msg("QB", "bob@example.org", 100, 0);
	m[2] = make_msg("QC", "alice@example.org", 101, 0);
	m[3] = make_msg("QH", "alice@example.org", 101, 1);
	m[2].nrcpt = 77;
	m[2].recorded = 104;
	(void) snprintf(m[2].sender, sizeof(m[2].sender), "forged@example.net");
	(void) snprintf(m[2].client, sizeof(m[2].client), "2001:db8::25");
	cr_assert_eq(store_msgs_put(st, m, 4, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count("SELECT count(*) FROM passed"), 2);
	cr_assert_eq(count("SELECT sum(n) FROM passed"), 3);
	cr_assert_eq(count("SELECT count(*) FROM messages"), 1);
	cr_assert_eq(count("SELECT recorded_at FROM passed WHERE arrival = 101"),
	    104);

	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 3);
	cr_assert_str_eq(c.m[0].queue_id, "QA");
	/* same second: the row first, then the blob's records */
	cr_assert_str_eq(c.m[1].queue_id, "QH");
	cr_assert_eq(c.m[1].held, 1);
	cr_assert_str_eq(c.m[2].queue_id, "QC");
	cr_assert_eq(c.m[2].held, 0);
	cr_assert_eq(c.m[2].state, STORE_QUEUED);
	cr_assert_eq(c.m[2].nrcpt, 77);
	cr_assert_eq(c.m[2].arrival, 101);
	cr_assert_eq(c.m[2].recorded, 104);
	cr_assert_str_eq(c.m[2].sender, "forged@example.net");
	cr_assert_str_eq(c.m[2].client, "2001:db8::25");
	/* held_only and since see the blobs as they see the rows */
	c = list_msgs(st, "alice@example.org", 1, 0);
	cr_assert_eq(c.n, 1);
	c = list_msgs(st, "alice@example.org", 0, 101);
	cr_assert_eq(c.n, 2);
	c = list_msgs(st, "bob@example.org", 0, 0);
	cr_assert_eq(c.n, 1);
	store_close(st);
}

/* records of the join: which key each message was found under */
struct joined {
	size_t key[64];
	char   qid[64][STORE_QID_SIZE];
	size_t n;
};

static int
collect_join(size_t i, const struct store_msg *m, void *arg)
{
	struct joined *j = arg;

	cr_assert_lt(j->n, 64);
	j->key[j->n] = i;
	(void) snprintf(j->qid[j->n], STORE_QID_SIZE, "%s", m->queue_id);
	j->n++;
	return 0;
}

/*
 * A join over many keys finds each message under its own key, rows and
 * blobs alike, across many seconds and transactions, and nothing else.
 */
Test(store, join_finds_each_recorded_message_under_its_key)
{
	struct store    *st = open_rw();
	struct store_msg m;
	struct store_key keys[40];
	struct joined    j;
	char             qid[40][16];
	size_t           i, hits[40];
	int              t;

	/* 3,000 messages over 300 seconds, 10 transactions */
	for (t = 0; t < 10; t++) {
		cr_assert_eq(store_begin(st, err, sizeof(err)), 0, "%s", err);
		for (i = 0; i < 300; i++) {
			(void) snprintf(qid[0], sizeof(qid[0]), "Q%dN%zu", t, i);
			m = make_msg(qid[0], i % 2 ? "bob@example.org" :
			    "alice@example.org", 1000 + (time_t) (t * 30 + i / 10),
			    i % 50 == 0);
			cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)),
			    0, "%s", err);
		}
		cr_assert_eq(store_commit(st, err, sizeof(err)), 0, "%s", err);
	}
	/* keys as the queue shows them: a second after the recording */
	for (i = 0; i < 40; i++) {
		t = (int) (i % 10);
		(void) snprintf(qid[i], sizeof(qid[i]), "Q%dN%zu", t, i * 7);
		keys[i].queue_id = qid[i];
		keys[i].arrival = 1000 + t * 30 + (time_t) (i * 7 / 10) + 1;
	}
	/* one the store never saw, one outside the slack */
	keys[38].queue_id = "QNONE";
	keys[39].arrival += 60;
	memset(&j, 0, sizeof(j));
	cr_assert_eq(store_msgs_join(st, keys, 40, collect_join, &j, err,
			 sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(j.n, 38);
	memset(hits, 0, sizeof(hits));
	for (i = 0; i < j.n; i++) {
		cr_assert_str_eq(j.qid[i], keys[j.key[i]].queue_id);
		hits[j.key[i]]++;
	}
	for (i = 0; i < 38; i++)
		cr_assert_eq(hits[i], 1, "key %zu (%s)", i, keys[i].queue_id);
	store_close(st);
}

/* deleting a passed message gives it a row; the blob record is then hidden */
Test(store, mark_gives_a_passed_message_a_row_of_its_own)
{
	struct store          *st = open_rw();
	struct store_msg       m[3];
	const struct store_key k[] = { { "QA", 101 }, { "QB", 101 },
		{ "QC", 101 } };
	struct msgs            c;
	uint32_t               changed = 0, held = 9;

	m[0] = make_msg("QA", "alice@example.org", 100, 0);
	m[1] = make_msg("QB", "alice@example.org", 100, 0);
	m[2] = make_msg("QC", "bob@example.org", 100, 0);
	cr_assert_eq(store_msgs_put(st, m, 3, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_msgs_mark(st, "alice@example.org", k, 1,
			 STORE_DELETED, &changed, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(changed, 1);
	cr_assert_eq(count("SELECT count(*) FROM messages WHERE queue_id = "
			   "'QA' AND state = 'deleted' AND held = 0"),
	    1);
	/* listed once, with its new state; the others as they were */
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.m[0].queue_id, "QA");
	cr_assert_eq(c.m[0].state, STORE_DELETED);
	cr_assert_str_eq(c.m[1].queue_id, "QB");
	cr_assert_eq(c.m[1].state, STORE_QUEUED);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(
	    store_msgs_qid(st, "QA", 101, collect_msg, &c, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0].state, STORE_DELETED);
	/* marked once only; another account's message is left alone */
	cr_assert_eq(store_msgs_mark(st, "alice@example.org", k, 3,
			 STORE_RELEASED, &changed, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(changed, 1);
	c = list_msgs(st, "bob@example.org", 0, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.m[0].state, STORE_QUEUED);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.m[0].state, STORE_DELETED);
	cr_assert_eq(c.m[1].state, STORE_RELEASED);
	/* passed mail is never counted as held */
	cr_assert_eq(
	    store_held_count(st, "alice@example.org", &held, err, sizeof(err)),
	    0);
	cr_assert_eq(held, 0);
	store_close(st);
}

/* passed messages wait for the commit; a rollback drops them */
Test(store, passed_messages_are_written_at_commit_only)
{
	struct store    *st = open_rw();
	struct store_msg m = make_msg("Q1", "alice@example.org", 100, 0);
	struct msgs      c;

	cr_assert_eq(store_begin(st, err, sizeof(err)), 0);
	cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)), 0);
	store_rollback(st);
	cr_assert_eq(count("SELECT count(*) FROM passed"), 0);
	cr_assert_eq(store_begin(st, err, sizeof(err)), 0);
	cr_assert_eq(store_commit(st, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count("SELECT count(*) FROM passed"), 0);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 0);
	cr_assert_eq(store_begin(st, err, sizeof(err)), 0);
	cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)), 0);
	cr_assert_eq(store_commit(st, err, sizeof(err)), 0, "%s", err);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 1);
	store_close(st);
}

/*
 * Stragglers: more seconds in one transaction than are gathered at once;
 * every message is kept.  A straggler's blob written early can stand
 * before older ones, and expiry, which walks the rowids from the oldest,
 * then stops early: it may keep a message longer, never drop a young one.
 */
Test(store, many_seconds_in_one_transaction_keep_every_message)
{
	struct store    *st = open_rw();
	struct store_msg m[60];
	struct msgs      c;
	char             q[16];
	uint32_t         n = 0;
	int              i;

	for (i = 0; i < 60; i++) {
		(void) snprintf(q, sizeof(q), "Q%d", i);
		/* 20 seconds, out of order */
		m[i] = make_msg(q, "alice@example.org", 100 + (i * 7) % 20, 0);
	}
	cr_assert_eq(store_msgs_put(st, m, 60, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count("SELECT sum(n) FROM passed"), 60);
	for (i = 0; i < 60; i++) {
		memset(&c, 0, sizeof(c));
		cr_assert_eq(store_msgs_qid(st, m[i].queue_id, m[i].arrival,
				 collect_msg, &c, err, sizeof(err)),
		    0, "%s", err);
		cr_assert_eq(c.n, 1, "%s", m[i].queue_id);
	}
	cr_assert_eq(store_msgs_expire(st, 110, &n, err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_eq(count("SELECT coalesce(sum(n), 0) FROM passed"), 60 - n);
	for (i = 0; i < 60; i++) {
		if (m[i].recorded < 110)
			continue;
		memset(&c, 0, sizeof(c));
		cr_assert_eq(store_msgs_qid(st, m[i].queue_id, m[i].arrival,
				 collect_msg, &c, err, sizeof(err)),
		    0, "%s", err);
		cr_assert_eq(c.n, 1, "%s expired too early", m[i].queue_id);
	}
	/* once all of them are old, all go */
	cr_assert_eq(store_msgs_expire(st, 200, &n, err, sizeof(err)), 0, "%s",
	    err);
	cr_assert_eq(count("SELECT count(*) FROM passed"), 0);
	store_close(st);
}

/* a damaged blob is an error, never a wrong record */
Test(store, damaged_blob_is_an_error)
{
	struct store    *st = open_rw();
	struct store_msg m = make_msg("Q1", "alice@example.org", 100, 0);
	struct msgs      c;
	sqlite3         *db;

	cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)), 0);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
			 "UPDATE passed SET data = substr(data, 1, 20)", NULL,
			 NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(
	    store_msgs_qid(st, "Q1", 100, collect_msg, &c, err, sizeof(err)),
	    -1);
	cr_assert_not_null(strstr(err, "damaged"), "%s", err);
	cr_assert_eq(c.n, 0);
	store_close(st);
}

/* a version 2 file: read as it is read-only, upgraded when opened to write */
Test(store, version_2_store_is_read_then_upgraded)
{
	struct store    *st = open_rw();
	struct store_msg m = make_msg("QOLD", "alice@example.org", 500, 0);
	struct msgs      c;
	sqlite3         *db;

	store_close(st);
	/* what version 2 wrote: the passed message as a row */
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
			 "DROP TABLE passed;"
			 "UPDATE meta SET value = '2' WHERE key = "
			 "'schema_version';"
			 "INSERT INTO messages (queue_id, user, sender, nrcpt, "
			 "client, arrival, held, state, recorded_at) VALUES "
			 "('QOLD', 'alice@example.org', 'alice@example.org', "
			 "3, '192.0.2.1', 500, 0, 'queued', 500);",
			 NULL, NULL, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	st = open_ro();
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 1);
	memset(&c, 0, sizeof(c));
	cr_assert_eq(
	    store_msgs_qid(st, "QOLD", 501, collect_msg, &c, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(c.n, 1);
	store_close(st);
	cr_assert_eq(count("SELECT count(*) FROM sqlite_master WHERE name = "
			   "'passed'"),
	    0);

	st = open_rw();
	cr_assert_eq(count("SELECT value FROM meta WHERE key = "
			   "'schema_version'"),
	    3);
	(void) snprintf(m.queue_id, sizeof(m.queue_id), "QNEW");
	cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)), 0, "%s", err);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(count("SELECT count(*) FROM passed"), 1);
	store_close(st);
}

/* the blobs of a span of seconds are found through the arrival index */
Test(store, passed_lookup_is_an_index_range)
{
	struct store *st = open_rw();
	sqlite3      *db;
	sqlite3_stmt *q;
	char          plan[512] = "";

	store_close(st);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db,
			 "EXPLAIN QUERY PLAN SELECT id, data FROM passed "
			 "WHERE arrival BETWEEN ?1 AND ?2 ORDER BY arrival, id",
			 -1, &q, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(db));
	while (sqlite3_step(q) == SQLITE_ROW)
		snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan),
		    "%s;", (const char *) sqlite3_column_text(q, 3));
	sqlite3_finalize(q);
	sqlite3_close(db);
	cr_assert_not_null(strstr(plan, "USING INDEX passed_arrival"), "%s",
	    plan);
	cr_assert_null(strstr(plan, "TEMP B-TREE"), "%s", plan);
}

/* a record found under two keys is marked, and counted, once */
Test(store, mark_counts_a_passed_message_once_under_two_keys)
{
	struct store          *st = open_rw();
	struct store_msg       m = make_msg("QA", "alice@example.org", 100, 0);
	const struct store_key k[] = { { "QA", 100 }, { "QA", 103 } };
	uint32_t               changed = 0;

	cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)), 0);
	cr_assert_eq(store_msgs_mark(st, "alice@example.org", k, 2,
			 STORE_DELETED, &changed, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(changed, 1);
	cr_assert_eq(count("SELECT count(*) FROM messages"), 1);
	store_close(st);
}

/*
 * A marked passed message's row lives as long as its blob: expiry must
 * not drop the row and leave the blob's record to stand for it again.
 */
Test(store, marked_row_outlives_its_blob_record)
{
	struct store          *st = open_rw();
	struct store_msg       m[2];
	const struct store_key k[] = { { "QA", 100 } };
	struct msgs            c;
	uint32_t               changed = 0, n = 0;

	m[0] = make_msg("QA", "alice@example.org", 100, 0);
	m[1] = make_msg("QB", "alice@example.org", 100, 0);
	m[1].recorded = 150; /* the blob is kept until 150 */
	cr_assert_eq(store_msgs_put(st, m, 2, err, sizeof(err)), 0);
	cr_assert_eq(store_msgs_mark(st, "alice@example.org", k, 1,
			 STORE_DELETED, &changed, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(changed, 1);
	cr_assert_eq(count("SELECT recorded_at FROM messages"), 150);
	cr_assert_eq(store_msgs_expire(st, 120, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 0);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.m[0].queue_id, "QA");
	cr_assert_eq(c.m[0].state, STORE_DELETED);
	/* past the blob's time both go */
	cr_assert_eq(store_msgs_expire(st, 151, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 3);
	c = list_msgs(st, "alice@example.org", 0, 0);
	cr_assert_eq(c.n, 0);
	store_close(st);
}

/* a blob whose records do not match its row (arrival, count) is damaged */
Test(store, blob_unlike_its_row_is_damaged)
{
	const char *bad[] = { "UPDATE passed SET arrival = 101",
		"UPDATE passed SET n = 2", "UPDATE passed SET n = 0" };
	struct store    *st;
	struct store_msg m = make_msg("Q1", "alice@example.org", 100, 0);
	struct msgs      c;
	sqlite3         *db;
	size_t           i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = open_rw();
		cr_assert_eq(store_msgs_expire(st, 1000, NULL, err,
				 sizeof(err)),
		    0);
		cr_assert_eq(store_msgs_put(st, &m, 1, err, sizeof(err)), 0);
		store_close(st);
		cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
		cr_assert_eq(sqlite3_exec(db, bad[i], NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
		st = open_rw();
		memset(&c, 0, sizeof(c));
		cr_assert_eq(store_msgs_qid(st, "Q1", 101, collect_msg, &c,
				 err, sizeof(err)),
		    -1, "%s", bad[i]);
		cr_assert_not_null(strstr(err, "damaged"), "%s", err);
		store_close(st);
	}
}
