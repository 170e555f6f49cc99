/*
 * audit_input.c - read log files in time order for the audit
 *
 * Every file goes through zlib's gz* functions, which read gzip and plain
 * files alike; "-" is standard input.  Lines are cut with memchr from a
 * large buffer; a line that does not fit the buffer is skipped to its end
 * and counted, and so is a last line without its newline (a file still
 * being written).
 *
 * Why a merge and not a sort: rotated files may be named in any order and
 * mail.log may overlap syslog.  Each file is opened once up front to find
 * its first timestamp; then the files are merged by line time, a file
 * being opened only when the merge reaches its first line, so rotated
 * files are read one at a time and overlapping ones side by side.  Lines
 * slightly out of order inside a file stay in file order; the model does
 * not depend on strict order.  While two files are open, a line identical
 * (time, host, program, pid, text) to one just read from another file is
 * a duplicate; a small direct-mapped table of recent line hashes bounds
 * the memory this takes.
 *
 * Progress (--progress, by default when standard error is a terminal):
 * the compressed bytes read of all files, the percentage and the rate,
 * rewritten in place at most every 250 ms and cleared at the end.  The
 * clock is read once per PROGRESS_LINES lines, so it costs nothing.
 *
 * Classic syslog lines have no year: the first line of a file takes the
 * latest year that puts it before the file's modification time (or
 * --now); each later line takes the year nearest to the line before, so
 * December rolls over into January.  Lines without a zone are local time.
 *
 * Thread safety: none (mktime and the process time zone).
 * Tests: tests/test_audit.c
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "audit.h"
#include "logparse.h"
#include "logtime.h"

#define BUF_DEFAULT    (1024 * 1024)
#define BUF_MIN        256
#define DEDUP_SLOTS    65536
#define PRESCAN_LINES  10000
#define DEDUP_AFTER_US (10 * AUDIT_US) /* files' clocks may differ */
#define PROGRESS_US    (250 * 1000)    /* least time between updates */
#define PROGRESS_LINES 4096            /* lines between clock reads */

struct stream {
	const char    *name;
	unsigned       id;
	gzFile         gz;
	int            open, eof, discard, prescan;
	unsigned       skipped; /* lines without timestamp, prescan */
	char          *buf;
	size_t         cap, pos, end;
	int64_t        ref;  /* civil time before which the file was written */
	uint64_t       size; /* bytes, when a regular file */
	int            sized;
	int64_t        prev; /* civil time of the previous line */
	int            have_prev;
	struct logtime ck;      /* hour cache: the last line's hour ... */
	int64_t        ck_base; /* ... as epoch seconds */
	int64_t        ck_civil;
	int            have_ck;
	struct lp_head head; /* the current line */
	int64_t        us;
	int64_t        first_us;
};

struct dedup {
	uint64_t h;
	unsigned id;
};

/* civil_of - local civil seconds of epoch e */
static int64_t
civil_of(time_t e)
{
	struct tm tm;

	if (localtime_r(&e, &tm) == NULL)
		return (int64_t) e;
	return logtime_days(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) *
		   86400 +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

/* audit_local_epoch - epoch seconds of local civil seconds c */
int64_t
audit_local_epoch(int64_t c)
{
	struct logtime t;
	struct tm      tm;
	time_t         e;

	logtime_split(c, &t);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = t.year - 1900;
	tm.tm_mon = t.mon - 1;
	tm.tm_mday = t.mday;
	tm.tm_hour = t.hour;
	tm.tm_min = t.min;
	tm.tm_sec = t.sec;
	tm.tm_isdst = -1;
	if ((e = mktime(&tm)) == (time_t) -1)
		return c;
	return (int64_t) e;
}

/* line_time - the epoch microseconds of the current line of s */
static int64_t
line_time(struct stream *s)
{
	const struct logtime *t = &s->head.ts;
	struct logtime        h;
	int64_t               off = t->min * 60 + t->sec;

	if (!s->have_ck || t->hour != s->ck.hour || t->mday != s->ck.mday ||
	    t->mon != s->ck.mon || t->year != s->ck.year ||
	    t->has_zone != s->ck.has_zone || t->tzoff != s->ck.tzoff) {
		h = *t;
		if (h.year == 0)
			h.year = s->have_prev ? logtime_near_year(t, s->prev)
					      : logtime_guess_year(t, s->ref);
		h.min = h.sec = h.usec = 0;
		s->ck_civil = logtime_civil(&h);
		s->ck_base = t->has_zone ? s->ck_civil - t->tzoff
					 : audit_local_epoch(s->ck_civil);
		s->ck = *t;
		s->have_ck = 1;
	}
	s->prev = s->ck_civil + off;
	s->have_prev = 1;
	return (s->ck_base + off) * AUDIT_US + t->usec;
}

/* fill - read more of s after its unread bytes; 0 at EOF, -1 on error */
static int
fill(struct stream *s, char *err, size_t errlen)
{
	int n, zerr;

	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->end - s->pos);
		s->end -= s->pos;
		s->pos = 0;
	}
	if (s->end == s->cap)
		return 1;
	n = gzread(s->gz, s->buf + s->end, (unsigned) (s->cap - s->end));
	if (n < 0) {
		const char *msg = gzerror(s->gz, &zerr);

		if (zerr == Z_BUF_ERROR)
			return 0; /* a cut gzip file: what there was is read */
		snprintf(err, errlen, "%s: %s", s->name,
		    zerr == Z_ERRNO ? strerror(errno) : msg);
		return -1;
	}
	s->end += (size_t) n;
	return n > 0;
}

/*
 * next_line - the next complete line of s into *line, *len
 *
 * Returns 1, 0 at the end, -1 on a read error.  Lines too long for the
 * buffer and a last line without newline are counted and skipped.
 */
static int
next_line(struct audit *a, struct stream *s, const char **line, size_t *len,
    char *err, size_t errlen)
{
	char *nl;
	int   r;

	for (;;) {
		nl = memchr(s->buf + s->pos, '\n', s->end - s->pos);
		if (nl != NULL) {
			*line = s->buf + s->pos;
			*len = (size_t) (nl - *line);
			s->pos = (size_t) (nl + 1 - s->buf);
			if (!s->prescan)
				a->st.bytes += *len + 1;
			if (s->discard) {
				s->discard = 0;
				continue;
			}
			if (*len > 0 && (*line)[*len - 1] == '\r')
				(*len)--;
			if (!s->prescan)
				a->st.read++;
			return 1;
		}
		if (s->eof) {
			if (s->pos < s->end && !s->discard && !s->prescan) {
				a->st.read++;
				a->st.truncated++;
			}
			s->pos = s->end;
			return 0;
		}
		if (s->pos == 0 && s->end == s->cap) {
			if (!s->discard && !s->prescan) {
				a->st.read++;
				a->st.too_long++;
			}
			if (!s->prescan)
				a->st.bytes += s->end;
			s->discard = 1;
			s->pos = s->end;
		}
		if ((r = fill(s, err, errlen)) == -1)
			return -1;
		if (r == 0)
			s->eof = 1;
	}
}

/* advance - move s to its next line with a timestamp; 0 at the end */
static int
advance(struct audit *a, struct stream *s, char *err, size_t errlen)
{
	const char *line;
	size_t      len;
	int         r;

	while ((r = next_line(a, s, &line, &len, err, errlen)) == 1) {
		if (lp_head_parse(line, len, &s->head) == 0) {
			s->us = line_time(s);
			return 1;
		}
		if (!s->prescan)
			a->st.malformed++;
		else if (++s->skipped > PRESCAN_LINES)
			return 0; /* no timestamps here: read it last */
	}
	return r;
}

/* stream_close - close s and free its buffer */
static void
stream_close(struct stream *s)
{
	if (s->gz != NULL)
		gzclose(s->gz);
	s->gz = NULL;
	free(s->buf);
	s->buf = NULL;
	s->open = 0;
}

/* stream_open - open s at its start and read its first line */
static int
stream_open(
    struct audit *a, struct stream *s, size_t bufsize, char *err, size_t errlen)
{
	struct stat sb;
	int         fd;

	if (strcmp(s->name, "-") == 0)
		fd = dup(STDIN_FILENO);
	else
		fd = open(s->name, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", s->name, strerror(errno));
		return -1;
	}
	s->sized = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
	if (s->sized)
		s->size = (uint64_t) sb.st_size;
	if (a->opts.now != 0)
		s->ref = civil_of((time_t) a->opts.now);
	else if (s->sized)
		s->ref = civil_of(sb.st_mtime);
	else
		s->ref = civil_of(time(NULL));
	if ((s->gz = gzdopen(fd, "rb")) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", s->name);
		return -1;
	}
	gzbuffer(s->gz, 256 * 1024);
	if ((s->buf = malloc(bufsize)) == NULL) {
		stream_close(s);
		snprintf(err, errlen, "%s: out of memory", s->name);
		return -1;
	}
	s->cap = bufsize;
	s->pos = s->end = 0;
	s->eof = s->discard = 0;
	s->have_prev = s->have_ck = 0;
	s->open = 1;
	return advance(a, s, err, errlen) == -1 ? -1 : 0;
}

/* by_first - streams in the order of their first line */
static int
by_first(const void *x, const void *y)
{
	const struct stream *a = *(struct stream *const *) x;
	const struct stream *b = *(struct stream *const *) y;

	if (a->first_us != b->first_us)
		return a->first_us < b->first_us ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* is_dup - 1 when the current line of s was just read from another file */
static int
is_dup(struct dedup *d, const struct stream *s)
{
	uint64_t      h;
	struct dedup *e;

	h = amap_hash(s->head.body.p, s->head.body.n) ^
	    ((uint64_t) (s->us / AUDIT_US) * 0x9e3779b97f4a7c15ULL);
	e = &d[h & (DEDUP_SLOTS - 1)];
	if (e->h == h && e->id != s->id)
		return 1;
	e->h = h;
	e->id = s->id;
	return 0;
}

/* feed - give the current line of s to the model */
static int
feed(struct audit *a, struct stream *s, struct dedup *d)
{
	if (s->us < a->opts.since_us || s->us > a->opts.until_us) {
		a->st.out_of_range++;
		return 0;
	}
	if (d != NULL && is_dup(d, s)) {
		a->st.duplicate++;
		return 0;
	}
	return audit_line(a, &s->head, s->us) == -1 ? -1 : 0;
}

/* mono_us - the monotonic clock in microseconds */
static int64_t
mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t) ts.tv_sec * AUDIT_US + ts.tv_nsec / 1000;
}

/* raw_offset - compressed bytes of s read so far */
static uint64_t
raw_offset(const struct stream *s)
{
	z_off_t off;

	if (!s->open || s->gz == NULL || (off = gzoffset(s->gz)) < 0)
		return 0;
	return (uint64_t) off;
}

/* progress - rewrite the progress line when it is due */
static void
progress(struct audit *a, struct stream *const *act, size_t nact)
{
	struct audit_progress *p = &a->pg;
	int64_t                now, every = a->opts.progress_us;
	uint64_t               bytes = p->done;
	double                 mb, secs;
	size_t                 i;

	if (!a->opts.progress)
		return;
	if (++p->pending < PROGRESS_LINES)
		return;
	p->pending = 0;
	now = mono_us();
	if (every <= 0)
		every = PROGRESS_US;
	if (now - p->last < every)
		return;
	p->last = now;
	for (i = 0; i < nact; i++)
		bytes += raw_offset(act[i]);
	if (p->total > 0 && bytes > p->total)
		bytes = p->total;
	mb = (double) bytes / 1e6;
	secs = (double) (now - p->start) / 1e6;
	if (p->total > 0)
		fprintf(stderr,
		    "\rreading %.1f of %.1f MB (%u%%), %.0f MB/s\033[K", mb,
		    (double) p->total / 1e6,
		    (unsigned) (bytes * 100 / p->total),
		    secs > 0 ? mb / secs : 0.0);
	else
		fprintf(stderr, "\rreading %.1f MB, %.0f MB/s\033[K", mb,
		    secs > 0 ? mb / secs : 0.0);
	fflush(stderr);
	p->shown = 1;
}

/* progress_end - clear the progress line */
static void
progress_end(struct audit *a)
{
	if (a->pg.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		a->pg.shown = 0;
	}
}

/* merge - read the streams (sorted by first line) in time order */
static int
merge(struct audit *a, struct stream **order, size_t n, size_t bufsize,
    char *err, size_t errlen)
{
	struct stream **act, *best, *s;
	struct dedup   *d = NULL;
	size_t          nact = 0, next = 0, i;
	int64_t         dedup_until = AUDIT_NO_MIN, last;
	int             r, rc = -1;

	if ((act = calloc(n + 1, sizeof(*act))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		best = NULL;
		for (i = 0; i < nact; i++)
			if (best == NULL || act[i]->us < best->us)
				best = act[i];
		while (next < n &&
		       (best == NULL || order[next]->first_us <= best->us)) {
			s = order[next++];
			if (!s->open &&
			    stream_open(a, s, bufsize, err, errlen) == -1)
				goto out;
			if (s->us == AUDIT_NO_MIN) {
				stream_close(s);
				continue;
			}
			act[nact++] = s;
			if (best == NULL || s->us < best->us)
				best = s;
		}
		if (best == NULL)
			break;
		if (nact > 1 && d == NULL &&
		    (d = calloc(DEDUP_SLOTS, sizeof(*d))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (feed(a, best,
			nact > 1 || best->us <= dedup_until ? d : NULL) == -1) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		last = best->us;
		best->us = AUDIT_NO_MIN;
		if ((r = advance(a, best, err, errlen)) == -1)
			goto out;
		progress(a, act, nact);
		if (r == 0) {
			a->pg.done += raw_offset(best);
			/* its last lines may still come from another file */
			if (d != NULL && last + DEDUP_AFTER_US > dedup_until)
				dedup_until = last + DEDUP_AFTER_US;
			stream_close(best);
			for (i = 0; i < nact && act[i] != best; i++)
				;
			act[i] = act[--nact];
		}
	}
	rc = 0;
out:
	free(d);
	free(act);
	return rc;
}

/*
 * audit_run - read files ("-" is standard input) in time order into a
 *
 * Returns 0, or -1 with a message in err.
 */
int
audit_run(
    struct audit *a, char *const files[], int nfiles, char *err, size_t errlen)
{
	struct stream *st, **order;
	size_t         bufsize = a->opts.bufsize, n = (size_t) nfiles, i;
	int            rc = -1, r;

	if (bufsize < BUF_MIN)
		bufsize = bufsize == 0 ? BUF_DEFAULT : BUF_MIN;
	if (nfiles <= 0) {
		snprintf(err, errlen, "no log files");
		return -1;
	}
	st = calloc(n, sizeof(*st));
	order = calloc(n, sizeof(*order));
	if (st == NULL || order == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		st[i].name = files[i];
		st[i].id = (unsigned) i;
		order[i] = &st[i];
		st[i].us = AUDIT_NO_MIN;
		/* standard input cannot be read twice: keep it open */
		st[i].prescan = strcmp(files[i], "-") != 0;
		if (stream_open(a, &st[i], st[i].prescan ? 65536 : bufsize, err,
			errlen) == -1)
			goto out;
		r = st[i].us != AUDIT_NO_MIN;
		st[i].first_us = r ? st[i].us : AUDIT_NO_MAX;
		if (st[i].prescan) {
			stream_close(&st[i]);
			st[i].prescan = 0;
			st[i].us = AUDIT_NO_MIN;
		}
	}
	qsort(order, n, sizeof(*order), by_first);
	a->nfiles = (unsigned) n;
	memset(&a->pg, 0, sizeof(a->pg));
	for (i = 0; i < n && st[i].sized; i++)
		a->pg.total += st[i].size;
	if (i < n)
		a->pg.total = 0;
	a->pg.start = a->pg.last = mono_us();
	rc = merge(a, order, n, bufsize, err, errlen);
	progress_end(a);
out:
	if (st != NULL)
		for (i = 0; i < n; i++)
			stream_close(&st[i]);
	free(st);
	free(order);
	return rc;
}
