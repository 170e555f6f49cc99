/*
 * journal_writer.c - append decision and action lines to the journal
 *
 * One mutex guards the descriptor, the chain and the line buffer, so
 * lines reach the file whole and in seq order.  The write happens under
 * it (page cache; fast); fdatasync does not: the sync thread takes a
 * dup() of the descriptor, drops the lock and syncs that, so a slow disk
 * delays no SMTP session.  See journal_writer.h for the policy.
 *
 * Thread safety: see journal_writer.h.
 * Tests: tests/test_journal_writer.c
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "journal_writer.h"
#include "log.h"

#define OPEN_FLAGS (O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW)

struct journal_writer {
	pthread_mutex_t      lock;
	pthread_cond_t       wake; /* the sync thread: lines pending */
	pthread_t            syncer;
	int                  fd;       /* owned */
	char                *path;     /* owned */
	struct journal_chain chain;    /* after the last line written */
	unsigned             unsynced; /* lines since the last fdatasync */
	uint64_t             lost;     /* lines dropped since the last one */
	int                  stop;     /* close: the sync thread ends */
	struct log_ratelimit rl;       /* write failures */
	char                 buf[JOURNAL_LINE_MAX + 1]; /* the line */
};

/* read_at - pread n bytes at off, retrying; 0 or -1 */
static int
read_at(int fd, char *buf, size_t n, off_t off)
{
	ssize_t r;

	while (n > 0) {
		if ((r = pread(fd, buf, n, off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EIO; /* shorter than fstat said */
			return -1;
		}
		buf += r;
		n -= (size_t) r;
		off += r;
	}
	return 0;
}

/*
 * load_tail - the chain after the file's last line into c
 *
 * Cuts off an incomplete last line (a crash between write and newline
 * cannot happen with one write(2), but a power loss can leave a
 * partly written block).  buf holds JOURNAL_LINE_MAX + 1 bytes.
 */
static int
load_tail(int fd, const char *path, struct journal_chain *c, char *buf,
    char *err, size_t errlen)
{
	struct journal_line l;
	struct stat         st;
	char                why[128];
	size_t              want, end, start;
	off_t               cut;

	journal_chain_init(c);
	for (;;) {
		if (fstat(fd, &st) == -1) {
			snprintf(err, errlen, "journal %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "journal %s: not a regular file",
			    path);
			return -1;
		}
		if (st.st_size == 0)
			return 0;
		want = (uintmax_t) st.st_size > JOURNAL_LINE_MAX + 1
			   ? JOURNAL_LINE_MAX + 1
			   : (size_t) st.st_size;
		if (read_at(fd, buf, want, st.st_size - (off_t) want) == -1) {
			snprintf(err, errlen, "journal %s: read: %s", path,
			    strerror(errno));
			return -1;
		}
		if (buf[want - 1] == '\n')
			break;
		/* an incomplete last line: cut after the last newline */
		for (end = want; end > 0 && buf[end - 1] != '\n'; end--)
			;
		if (end == 0 && want < (size_t) st.st_size) {
			snprintf(err, errlen,
			    "journal %s: last line longer than %d bytes: not "
			    "a journal",
			    path, JOURNAL_LINE_MAX);
			return -1;
		}
		cut = st.st_size - (off_t) (want - end);
		if (ftruncate(fd, cut) == -1) {
			snprintf(err, errlen,
			    "journal %s: cannot cut an incomplete last line: "
			    "%s",
			    path, strerror(errno));
			return -1;
		}
		log_warnx("journal %s: removed an incomplete last line of %zu "
			  "bytes",
		    path, want - end);
	}
	end = want - 1; /* the newline */
	for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (start == 0 && want < (size_t) st.st_size) {
		snprintf(err, errlen,
		    "journal %s: last line longer than %d bytes: not a journal",
		    path, JOURNAL_LINE_MAX);
		return -1;
	}
	if (journal_line_parse(
		buf + start, end - start, &l, why, sizeof(why)) == -1) {
		/* continue from it anyway: verify will show the break */
		log_warnx("journal %s: last line is not valid (%s); run "
			  "saslguardctl audit --verify",
		    path, why);
		l.seq = 0;
	}
	journal_chain_after(c, buf + start, end - start, l.seq);
	return 0;
}

/* open_file - open path for appending; the descriptor or -1 */
static int
open_file(const char *path, char *err, size_t errlen)
{
	int fd;

	if ((fd = open(path, OPEN_FLAGS, 0600)) == -1)
		snprintf(err, errlen, "journal %s: %s", path, strerror(errno));
	return fd;
}

/* sync_thread - fdatasync pending lines, outside the lock */
static void *
sync_thread(void *arg)
{
	struct journal_writer *w = arg;
	struct log_ratelimit   rl = { 0, 0, 60 };
	struct timespec        until;
	unsigned               dropped;
	int                    fd, stop;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		stop = w->stop;
		if (!stop && w->unsynced < JOURNAL_SYNC_LINES) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += 1;
			(void) pthread_cond_timedwait(
			    &w->wake, &w->lock, &until);
			stop = w->stop;
		}
		if (w->unsynced > 0) {
			w->unsynced = 0;
			fd = dup(w->fd);
			pthread_mutex_unlock(&w->lock);
			if (fd == -1 || fdatasync(fd) == -1) {
				if (log_ratelimit_ok(&rl, time(NULL), &dropped))
					log_warn("journal %s: sync (%u more "
						 "reports dropped)",
					    w->path, dropped);
			}
			if (fd != -1)
				(void) close(fd);
			pthread_mutex_lock(&w->lock);
		}
		if (stop)
			break;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* journal_writer_open - open (or create) path and continue its chain */
struct journal_writer *
journal_writer_open(const char *path, char *err, size_t errlen)
{
	struct journal_writer *w;
	pthread_condattr_t     ca;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->path = strdup(path)) == NULL) {
		free(w);
		snprintf(err, errlen, "journal %s: out of memory", path);
		return NULL;
	}
	w->rl.interval = 60;
	if ((w->fd = open_file(path, err, errlen)) == -1)
		goto fail;
	if (load_tail(w->fd, path, &w->chain, w->buf, err, errlen) == -1)
		goto fail_fd;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->syncer, NULL, sync_thread, w) != 0) {
		snprintf(
		    err, errlen, "journal %s: cannot start a thread", path);
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		goto fail_fd;
	}
	return w;
fail_fd:
	(void) close(w->fd);
fail:
	free(w->path);
	free(w);
	return NULL;
}

/* journal_writer_close - sync, stop the thread, close */
void
journal_writer_close(struct journal_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->syncer, NULL);
	if (close(w->fd) == -1)
		log_warn("journal %s: close", w->path);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
}

/* journal_writer_reopen - open the path again (after rotation) */
int
journal_writer_reopen(struct journal_writer *w, char *err, size_t errlen)
{
	struct journal_chain c, empty;
	struct stat          a, b;
	int                  fd, old;

	if ((fd = open_file(w->path, err, errlen)) == -1)
		return -1;
	pthread_mutex_lock(&w->lock);
	if (fstat(fd, &b) == -1 || fstat(w->fd, &a) == -1) {
		snprintf(
		    err, errlen, "journal %s: %s", w->path, strerror(errno));
		pthread_mutex_unlock(&w->lock);
		(void) close(fd);
		return -1;
	}
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		pthread_mutex_unlock(&w->lock);
		(void) close(fd);
		return 0;
	}
	if (load_tail(fd, w->path, &c, w->buf, err, errlen) == -1) {
		pthread_mutex_unlock(&w->lock);
		(void) close(fd);
		return -1;
	}
	/* an empty file continues the chain in memory */
	journal_chain_init(&empty);
	if (strcmp(c.last, empty.last) != 0 &&
	    strcmp(c.last, w->chain.last) != 0) {
		log_warnx("journal %s: the new file is not empty; continuing "
			  "its own chain at seq %llu",
		    w->path, (unsigned long long) c.seq);
		w->chain = c;
	}
	old = w->fd;
	w->fd = fd;
	pthread_mutex_unlock(&w->lock);
	/* the sync thread may hold a dup of old: it syncs that itself */
	if (fdatasync(old) == -1 || close(old) == -1)
		log_warn("journal %s: closing the old file", w->path);
	return 0;
}

/* write_line - the whole line at the end of the file, or nothing */
static int
write_line(int fd, const char *line, size_t len)
{
	struct stat st;
	size_t      done = 0;
	ssize_t     n;
	int         saved;

	if (fstat(fd, &st) == -1)
		return -1;
	while (done < len) {
		if ((n = write(fd, line + done, len - done)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0) {
			errno = EIO;
			break;
		}
		done += (size_t) n;
	}
	if (done == len)
		return 0;
	saved = errno;
	if (done > 0)
		(void) ftruncate(fd, st.st_size); /* no half line */
	errno = saved;
	return -1;
}

/* journal_append - append one event line */
int
journal_append(struct journal_writer *w, time_t now, enum journal_event ev,
    const char *user, const struct journal_field *fields, size_t nfields)
{
	struct journal_field f[JOURNAL_FIELDS_MAX + 1];
	struct journal_chain next;
	char                 err[256];
	unsigned             dropped;
	size_t               n = 0;
	int                  len, rc = -1;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->lock);
	if (nfields > JOURNAL_FIELDS_MAX) {
		snprintf(err, sizeof(err), "more than %d fields",
		    JOURNAL_FIELDS_MAX);
		goto fail;
	}
	if (nfields > 0)
		memcpy(f, fields, nfields * sizeof(f[0]));
	n = nfields;
	if (w->lost > 0) {
		f[n].key = "journal_lost";
		f[n].str = NULL;
		f[n].num = (int64_t) w->lost;
		n++;
	}
	len = journal_format(w->buf, sizeof(w->buf), &w->chain, now, ev, user,
	    f, n, &next, err, sizeof(err));
	if (len == -1)
		goto fail;
	if (write_line(w->fd, w->buf, (size_t) len) == -1) {
		snprintf(err, sizeof(err), "write: %s", strerror(errno));
		goto fail;
	}
	w->chain = next;
	w->lost = 0;
	if (++w->unsynced >= JOURNAL_SYNC_LINES)
		pthread_cond_signal(&w->wake);
	rc = 0;
	goto out;
fail:
	w->lost++;
	if (log_ratelimit_ok(&w->rl, now, &dropped))
		log_warnx("journal %s: %s event dropped: %s (%u more reports "
			  "suppressed; mail is not affected)",
		    w->path,
		    journal_event_name(ev) ? journal_event_name(ev) : "?", err,
		    dropped);
out:
	pthread_mutex_unlock(&w->lock);
	return rc;
}
