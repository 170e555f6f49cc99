/*
 * authwatch.c - failed SASL logins from the mail log, per account
 *
 * The follower keeps the open descriptor and the (device, inode) it was
 * opened on.  At the end of the file it stats the path: another inode
 * means the file was rotated, so whatever the old descriptor still holds
 * is read first and then the new file is read from its start; a size
 * smaller than the offset means it was truncated, so reading starts over
 * at 0.  Only the very first open seeks to the end: old failures must not
 * count against an account at start-up.
 *
 * Thread safety: one reader thread; authwatch_start/stop from main only.
 * Tests: tests/integration_signals.sh
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "addr.h"
#include "authwatch.h"
#include "daemon.h"
#include "logparse.h"
#include "log.h"

struct follower {
	char  *path; /* owned */
	int    fd;   /* -1 while the file is missing */
	dev_t  dev;
	ino_t  ino;
	off_t  off; /* bytes consumed from fd */
	char   buf[AUTHWATCH_LINE_MAX];
	size_t n;        /* bytes of an unfinished line in buf */
	int    skipping; /* dropping the rest of an overlong line */
	int    warned;   /* "cannot open" said once */
};

static pthread_t       reader;
static int             running;
static int             stop; /* atomic */
static struct follower fw;

/* authwatch_line - a failed-login line that counts, and the name tried */
int
authwatch_line(
    const char *line, size_t len, char *user, size_t ulen, uint32_t *count)
{
	struct lp_head  h;
	struct lp_event ev;
	size_t          i, n;

	if (lp_head_parse(line, len, &h) == -1 ||
	    lp_event_parse(&h, &ev) != LP_AUTH_FAIL || ev.user.n == 0 ||
	    ev.authsrc != LP_AUTH_FRONT)
		return 0;
	n = ev.user.n;
	if (n >= ulen || n > ADDR_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char) ev.user.p[i];

		if (ch <= ' ' || ch == 0x7f)
			return 0;
		user[i] =
		    (ch >= 'A' && ch <= 'Z') ? (char) (ch + 32) : (char) ch;
	}
	user[n] = '\0';
	if (ev.realm.n > 0 && strchr(user, '@') == NULL) {
		if (n + 1 + ev.realm.n >= ulen || n + 1 + ev.realm.n > ADDR_MAX)
			return 0;
		user[n++] = '@';
		for (i = 0; i < ev.realm.n; i++) {
			unsigned char ch = (unsigned char) ev.realm.p[i];

			user[n++] = (ch >= 'A' && ch <= 'Z') ? (char) (ch + 32)
							     : (char) ch;
		}
		user[n] = '\0';
	}
	*count =
	    ev.count > 0 ? (uint32_t) (ev.count > 1000 ? 1000 : ev.count) : 1;
	return 1;
}

/* account_line - count the failures one complete line reports */
static void
account_line(const char *line, size_t len)
{
	char         user[ADDR_MAX + 1];
	uint32_t     count, i;
	struct conf *c;
	time_t       now;

	if (!authwatch_line(line, len, user, sizeof(user), &count))
		return;
	c = daemon_conf();
	now = time(NULL);
	for (i = 0; i < count; i++)
		if (accounts_auth_failure(sg->accounts, c, user, now) == -1) {
			log_warnx("auth_log: cannot count a failed login: out "
				  "of memory");
			break;
		}
	conf_unref(c);
}

/* consume - split the bytes read into lines */
static void
consume(struct follower *f, const char *p, size_t n)
{
	const char *nl;
	size_t      k;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t) (nl - p) : n;
		if (!f->skipping) {
			if (f->n + k >= sizeof(f->buf)) {
				f->skipping = 1;
				f->n = 0;
			} else {
				memcpy(f->buf + f->n, p, k);
				f->n += k;
			}
		}
		if (nl == NULL)
			return;
		if (!f->skipping && f->n > 0)
			account_line(f->buf, f->n);
		f->n = 0;
		f->skipping = 0;
		p = nl + 1;
		n -= k + 1;
	}
}

/* drain - read fd to its end; -1 on a read error */
static int
drain(struct follower *f)
{
	char    chunk[16384];
	ssize_t r;

	for (;;) {
		r = read(f->fd, chunk, sizeof(chunk));
		if (r > 0) {
			f->off += r;
			consume(f, chunk, (size_t) r);
			if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
				return 0;
			continue;
		}
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		return -1;
	}
}

/* reopen - open the path; at_end: start at its end (the first open) */
static void
reopen(struct follower *f, int at_end)
{
	struct stat st;
	int         fd;

	if (f->fd != -1)
		(void) close(f->fd);
	f->fd = -1;
	f->n = 0;
	f->skipping = 0;
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (!f->warned)
			log_warn(
			    "auth_log: cannot open %s (retrying)", f->path);
		f->warned = 1;
		return;
	}
	if (fstat(fd, &st) == -1) {
		(void) close(fd);
		return;
	}
	f->warned = 0;
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->off = 0;
	if (at_end && (f->off = lseek(fd, 0, SEEK_END)) == (off_t) -1)
		f->off = 0;
}

/* check_path - reopen after a rotation or start over after truncation */
static void
check_path(struct follower *f)
{
	struct stat st;

	if (f->fd == -1) {
		reopen(f, 0);
		return;
	}
	if (stat(f->path, &st) == -1)
		return; /* rotated away, not yet recreated */
	if (st.st_dev != f->dev || st.st_ino != f->ino) {
		(void) drain(f); /* the rest of the old file */
		reopen(f, 0);
		return;
	}
	if (st.st_size < f->off) {
		f->off = lseek(f->fd, 0, SEEK_SET) == 0 ? 0 : f->off;
		f->n = 0;
		f->skipping = 0;
	}
}

/* reader_thread - follow the file until told to stop */
static void *
reader_thread(void *arg)
{
	struct follower *f = arg;
	struct timespec  ts = { 0, AUTHWATCH_POLL_MS * 1000000L };

	reopen(f, 1);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (f->fd != -1 && drain(f) == -1)
			log_warn("auth_log: read %s", f->path);
		check_path(f);
		if (f->fd != -1 && drain(f) == -1)
			log_warn("auth_log: read %s", f->path);
		(void) nanosleep(&ts, NULL);
	}
	return NULL;
}

/* authwatch_start - start following c->auth_log */
int
authwatch_start(const struct conf *c, char *err, size_t len)
{
	int e;

	if (c->auth_log == NULL || running)
		return 0;
	memset(&fw, 0, sizeof(fw));
	fw.fd = -1;
	if ((fw.path = strdup(c->auth_log)) == NULL) {
		snprintf(err, len, "auth_log: out of memory");
		return -1;
	}
	__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
	if ((e = pthread_create(&reader, NULL, reader_thread, &fw)) != 0) {
		snprintf(err, len, "auth_log: cannot start the reader: %s",
		    strerror(e));
		free(fw.path);
		fw.path = NULL;
		return -1;
	}
	running = 1;
	log_info("auth_log: following %s for failed logins", c->auth_log);
	return 0;
}

/* authwatch_stop - stop the reader and wait for it */
void
authwatch_stop(void)
{
	if (!running)
		return;
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	(void) pthread_join(reader, NULL);
	running = 0;
	if (fw.fd != -1)
		(void) close(fw.fd);
	free(fw.path);
	memset(&fw, 0, sizeof(fw));
	fw.fd = -1;
}
