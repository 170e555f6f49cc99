/*
 * test_journal_writer.c - the journal file: creation, continuing the
 * chain across restarts and rotation, crash leftovers, write failures
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "journal_writer.h"

#define T0 1795834634

static char dir[64];
static char path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_journal_writer.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
}

static void
teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void) system(cmd);
}

TestSuite(journal_writer, .init = setup, .fini = teardown);

/* verify_file - lines of file p, or -(breaking line) when broken */
static long
verify_file(const char *p, int continued)
{
	struct journal_verify v;
	char                  err[256];
	uint64_t              n, bad;
	FILE                 *fp = fopen(p, "r");
	int                   rc;

	cr_assert_not_null(fp, "%s", p);
	journal_verify_init(&v, continued);
	rc = journal_verify_stream(&v, fp, &n, &bad, err, sizeof(err));
	fclose(fp);
	return rc == 0 ? (long) n : -(long) bad;
}

/* append_n - n hold lines for user */
static void
append_n(struct journal_writer *w, int n, const char *user)
{
	struct journal_field f[] = { JOURNAL_STR("queue_id", "5F266A72241"),
		JOURNAL_NUM("rcpts", 48) };
	int                  i;

	for (i = 0; i < n; i++)
		cr_assert_eq(
		    journal_append(w, T0 + i, JOURNAL_HOLD, user, f, 2), 0);
}

/* read_all - the file's content in a new string */
static char *
read_all(const char *p)
{
	FILE  *fp = fopen(p, "r");
	char  *s = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(fp);
	n = fread(s, 1, (1 << 20) - 1, fp);
	s[n] = '\0';
	fclose(fp);
	return s;
}

Test(journal_writer, new_file_has_mode_0600_and_a_verifiable_chain)
{
	struct journal_writer *w;
	struct stat            st;
	char                   err[256];

	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 3, "alice@example.org");
	journal_writer_close(w);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(verify_file(path, 0), 3);
}

Test(journal_writer, restart_continues_seq_and_prev_from_the_last_line)
{
	struct journal_writer *w;
	char                   err[256], *s;

	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 2, "alice@example.org");
	journal_writer_close(w);
	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 2, "bob@example.org");
	journal_writer_close(w);
	cr_assert_eq(verify_file(path, 0), 4);
	s = read_all(path);
	cr_assert_not_null(strstr(s, "\"seq\":4,\"event\":\"hold\",\"user\":"
				     "\"bob@example.org\""));
	free(s);
}

Test(journal_writer, incomplete_last_line_is_cut_before_appending)
{
	struct journal_writer *w;
	char                   err[256];
	FILE                  *fp;

	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 2, "alice@example.org");
	journal_writer_close(w);
	fp = fopen(path, "a");
	fputs("{\"ts\":\"2026-11-28T03:00:00Z\",\"seq\":3,\"ev", fp);
	fclose(fp);
	cr_assert_lt(verify_file(path, 0), 0);
	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 1, "alice@example.org");
	journal_writer_close(w);
	cr_assert_eq(verify_file(path, 0), 3);
}

Test(journal_writer,
    rotated_files_verify_in_order_and_the_new_one_alone_is_continued)
{
	struct journal_writer *w;
	struct journal_verify  v;
	char                   err[256], old[160];
	uint64_t               n, bad;
	FILE                  *fp;

	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 5, "alice@example.org");
	snprintf(old, sizeof(old), "%s.1", path);
	cr_assert_eq(rename(path, old), 0);
	cr_assert_eq(journal_writer_reopen(w, err, sizeof(err)), 0, "%s", err);
	append_n(w, 4, "alice@example.org");
	journal_writer_close(w);

	journal_verify_init(&v, 0);
	fp = fopen(old, "r");
	cr_assert_eq(journal_verify_stream(&v, fp, &n, &bad, err, sizeof(err)),
	    0, "%s", err);
	fclose(fp);
	cr_assert_eq(n, 5);
	fp = fopen(path, "r");
	cr_assert_eq(journal_verify_stream(&v, fp, &n, &bad, err, sizeof(err)),
	    0, "%s", err);
	fclose(fp);
	cr_assert_eq(n, 4);
	cr_assert_eq(verify_file(path, 0), -1);
	cr_assert_eq(verify_file(path, 1), 4);
}

Test(journal_writer, reopen_of_the_same_file_changes_nothing)
{
	struct journal_writer *w;
	char                   err[256];

	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 2, "a@b");
	cr_assert_eq(journal_writer_reopen(w, err, sizeof(err)), 0, "%s", err);
	append_n(w, 2, "a@b");
	journal_writer_close(w);
	cr_assert_eq(verify_file(path, 0), 4);
}

Test(journal_writer, symlink_and_directory_are_refused)
{
	char err[256], link[160];

	snprintf(link, sizeof(link), "%s/link", dir);
	cr_assert_eq(symlink("/etc/passwd", link), 0);
	cr_assert_null(journal_writer_open(link, err, sizeof(err)));
	cr_assert_null(journal_writer_open(dir, err, sizeof(err)));
	cr_assert_not_null(strstr(err, dir), "%s", err);
}

Test(journal_writer, failed_writes_leave_no_half_line_and_are_counted)
{
	struct journal_writer *w;
	struct rlimit          rl;
	char                   err[256], *s;
	int                    i, failed = 0;

	signal(SIGXFSZ, SIG_IGN);
	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	append_n(w, 2, "alice@example.org");
	/* the file may grow by half a line more: the next write is short */
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = 600;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (i = 0; i < 3; i++)
		failed += journal_append(w, T0, JOURNAL_FLAG,
			      "alice@example.org", NULL, 0) == -1;
	cr_assert_eq(failed, 3);
	rl.rlim_cur = rl.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_assert_eq(
	    journal_append(w, T0, JOURNAL_UNFLAG, "alice@example.org", NULL, 0),
	    0);
	journal_writer_close(w);
	cr_assert_eq(verify_file(path, 0), 3);
	s = read_all(path);
	cr_assert_not_null(
	    strstr(s, "\"event\":\"unflag\",\"user\":"
		      "\"alice@example.org\",\"journal_lost\":3,"));
	free(s);
}

Test(journal_writer, null_writer_accepts_and_ignores_events)
{
	cr_assert_eq(
	    journal_append(NULL, T0, JOURNAL_RELOAD, NULL, NULL, 0), 0);
	journal_writer_close(NULL);
}

struct worker {
	struct journal_writer *w;
	int                    id;
};

static void *
worker(void *arg)
{
	struct worker *k = arg;
	char           user[32];
	int            i;

	snprintf(user, sizeof(user), "user%d@example.org", k->id);
	for (i = 0; i < 200; i++) {
		struct journal_field f[] = { JOURNAL_NUM("i", i) };

		if (journal_append(
			k->w, T0 + i, JOURNAL_WOULD_HOLD, user, f, 1) != 0)
			return k;
	}
	return NULL;
}

Test(journal_writer, concurrent_appends_form_one_unbroken_chain)
{
	struct journal_writer *w;
	struct worker          k[8];
	pthread_t              t[8];
	char                   err[256];
	void                  *res;
	int                    i;

	w = journal_writer_open(path, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	for (i = 0; i < 8; i++) {
		k[i].w = w;
		k[i].id = i;
		cr_assert_eq(pthread_create(&t[i], NULL, worker, &k[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], &res);
		cr_assert_null(res);
	}
	journal_writer_close(w);
	cr_assert_eq(verify_file(path, 0), 1600);
}
