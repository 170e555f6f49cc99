/*
 * log.c - the daemon's logging: syslog, and standard error in the foreground
 *
 * Each line is formatted into a stack buffer first, then handed to
 * syslog(3) and, in the foreground, written to stderr with one write(2),
 * so lines from concurrent threads never interleave.
 *
 * Routine lines (log_info_batch: the pass decision, one per message) go
 * to stderr in batches: appended to one buffer, written when it is full
 * or LOG_BATCH_MS after its first line (by a flusher thread started on
 * first use), and before any other stderr line, so the file keeps the
 * order in which lines were logged.  Each keeps the time it was logged
 * at.  A hard kill loses at most the last LOG_BATCH_MS of them, as the
 * state store's batched message records; exit() writes them out.  Lines
 * for syslog are never held back.
 *
 * Thread safety: safe from any thread after log_init().
 */
#include <sys/stat.h>
#include <errno.h>
#include <paths.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"


/* errstr - the text of errno e, whichever strerror_r the C library has */
static const char *
errstr(int e, char *buf, size_t len)
{
#ifdef STRERROR_R_CHAR_P
	return strerror_r(e, buf, len);
#else
	if (strerror_r(e, buf, len) != 0)
		snprintf(buf, len, "error %d", e);
	return buf;
#endif
}

static int log_stderr;		/* set once in log_init */
static int log_stamp;		/* prefix stderr lines with time and host */
static int log_journal;		/* stderr is the systemd journal */
static pid_t log_pid;		/* getpid() at log_init */
static char log_host[256] = "localhost";
static time_t log_probe_at;	/* when /dev/log was last looked for */
static int log_syslog = 1;	/* /dev/log exists (atomic) */

#define LOG_PROBE_INTERVAL 60

/*
 * syslog_ok - is there a syslog socket to talk to?  With no syslog daemon
 * (many Debian 12 servers run only the journal, and containers often
 * nothing) glibc would try to reconnect on every line; look once a minute
 * instead.
 */
static int
syslog_ok(void)
{
	struct stat st;
	time_t now = time(NULL);

	if (now - __atomic_load_n(&log_probe_at, __ATOMIC_RELAXED) >=
	    LOG_PROBE_INTERVAL) {
		__atomic_store_n(&log_probe_at, now, __ATOMIC_RELAXED);
		__atomic_store_n(&log_syslog, stat(_PATH_LOG, &st) == 0 &&
		    S_ISSOCK(st.st_mode), __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&log_syslog, __ATOMIC_RELAXED);
}
static int log_debug_on;
static const char *log_ident = "saslguard";

/*
 * The stderr prefix ("Nov 28 02:57:14 mx saslguard[700]: ") of the
 * current second, made once a second for all threads: libmilter's threads
 * live for one connection, so a cache per thread would call localtime_r
 * (which takes a lock) for nearly every line.
 */
static pthread_mutex_t prefix_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t prefix_at = -1;
static char prefix_text[384];
static size_t prefix_len;

/* the batch of routine stderr lines; under prefix_lock */
#define LOG_BATCH    32768	/* bytes written at once */
#define LOG_BATCH_MS 100	/* longest a routine line waits */
static pthread_cond_t batch_cond = PTHREAD_COND_INITIALIZER;
static char batch[LOG_BATCH];
static size_t batch_len;
static int batch_flusher;	/* 1 running, -1 cannot start */

static const struct {
	const char *name;
	int         facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

/* log_init - ident, facility, copy to stderr */
int
log_init(const char *ident, const char *facility, int to_stderr)
{
	size_t i;
	int fac = -1;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facility != NULL && strcmp(facility, facilities[i].name) == 0)
			fac = facilities[i].facility;
	if (facility == NULL)
		fac = LOG_MAIL;
	log_ident = ident;
	log_stderr = to_stderr;
	prefix_at = -1; /* after fork: a new pid */
	log_pid = getpid();
	/*
	 * Under systemd the journal stamps each line itself; anywhere else a
	 * copy on stderr gets the classic syslog prefix, so a file of it can
	 * be read by "saslguardctl audit" like any maillog.
	 */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	log_stamp = !log_journal;
	if (gethostname(log_host, sizeof(log_host)) == -1)
		snprintf(log_host, sizeof(log_host), "localhost");
	log_host[sizeof(log_host) - 1] = '\0';
	closelog();
	openlog(ident, LOG_PID | LOG_NDELAY, fac == -1 ? LOG_MAIL : fac);
	return fac == -1 ? -1 : 0;
}

/* log_set_debug - turn debug lines on or off */
void
log_set_debug(int on)
{
	log_debug_on = on;
}

/* prefix_update - make the stderr prefix of this second; under prefix_lock */
static void
prefix_update(void)
{
	char stamp[64] = "";
	struct tm tm;
	time_t now = 0;
	int k;

	if (log_stamp)
		now = time(NULL);
	if (prefix_at == -1 || now != prefix_at) {
		prefix_at = now;
		if (log_stamp && localtime_r(&now, &tm) != NULL)
			strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S ", &tm);
		k = snprintf(prefix_text, sizeof(prefix_text), "%s%s%s%s[%ld]: ",
		    stamp, log_stamp ? log_host : "", log_stamp ? " " : "",
		    log_ident, (long) log_pid);
		prefix_len = k < 0 ? 0 : (size_t) k >= sizeof(prefix_text) ?
		    sizeof(prefix_text) - 1 : (size_t) k;
	}
}

/* prefix - the stderr prefix of this second into out; its length */
static size_t
prefix(char *out, size_t size)
{
	size_t k;

	pthread_mutex_lock(&prefix_lock);
	prefix_update();
	k = prefix_len < size ? prefix_len : 0;
	memcpy(out, prefix_text, k);
	pthread_mutex_unlock(&prefix_lock);
	return k;
}

/* batch_write - write out the batch; under prefix_lock */
static void
batch_write(void)
{
	int saved = errno;

	if (batch_len > 0)
		(void) fd_write_all(STDERR_FILENO, batch, batch_len);
	batch_len = 0;
	errno = saved;
}

/* log_flush - write out the routine lines still held back */
void
log_flush(void)
{
	pthread_mutex_lock(&prefix_lock);
	batch_write();
	pthread_mutex_unlock(&prefix_lock);
}

/* flusher - write the batch LOG_BATCH_MS after its first line */
static void *
flusher(void *arg)
{
	struct timespec at;

	(void) arg;
	pthread_mutex_lock(&prefix_lock);
	for (;;) {
		while (batch_len == 0)
			pthread_cond_wait(&batch_cond, &prefix_lock);
		pthread_mutex_unlock(&prefix_lock);
		at.tv_sec = 0;
		at.tv_nsec = LOG_BATCH_MS * 1000000L;
		while (nanosleep(&at, &at) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&prefix_lock);
		batch_write();
	}
	return NULL;
}

/* flusher_start - start the flusher once; under prefix_lock; 0 running */
static int
flusher_start(void)
{
	pthread_t t;

	if (batch_flusher == 0) {
		batch_flusher = -1;
		if (pthread_create(&t, NULL, flusher, NULL) == 0 &&
		    pthread_detach(t) == 0) {
			batch_flusher = 1;
			(void) atexit(log_flush);
		}
	}
	return batch_flusher == 1 ? 0 : -1;
}

/*
 * One buffer for the prefix and the line: it sits on the stack of every
 * libmilter thread that logs, and each page of it a new thread touches is
 * a page fault.
 */
#define LOG_OUT (LOG_LINE + 384)

/* route - where a line goes: syslog, stderr (looked up once a line) */
static void
route(int *to_syslog, int *to_stderr)
{
	*to_syslog = syslog_ok();
	/*
	 * Under systemd the journal gets stderr and /dev/log alike: one copy
	 * is enough, and syslog's keeps the mail facility.
	 */
	*to_stderr = log_stderr && !(log_journal && *to_syslog);
}

/*
 * begin - route the line, and the stderr prefix into
 * out[0 .. LOG_OUT - LOG_LINE); returns its length
 */
static size_t
begin(char *out, int *to_syslog, int *to_stderr)
{
	route(to_syslog, to_stderr);
	return *to_stderr ? prefix(out, LOG_OUT - LOG_LINE) : 0;
}

/*
 * emit - out[p .. p + n) is the line, out[0 .. p) its stderr prefix (from
 * begin); the buffer has room for one byte more
 */
static void
emit(int pri, char *out, size_t p, size_t n, int to_syslog, int to_stderr)
{
	char *line = out + p;

	line[n] = '\0';
	if (to_syslog)
		syslog(pri, "%s", line);
	if (to_stderr) {
		line[n] = '\n';
		pthread_mutex_lock(&prefix_lock);
		if (batch_len > 0 && batch_len + p + n + 1 <= sizeof(batch)) {
			/* after the routine lines logged before it */
			memcpy(batch + batch_len, out, p + n + 1);
			batch_len += p + n + 1;
			batch_write();
			pthread_mutex_unlock(&prefix_lock);
			return;
		}
		batch_write();
		pthread_mutex_unlock(&prefix_lock);
		(void) fd_write_all(STDERR_FILENO, out, p + n + 1);
	}
}

/* vlog - one line to syslog and maybe stderr */
static void
vlog(int pri, const char *suffix, const char *fmt, va_list ap)
{
	char out[LOG_OUT];
	char *line;
	size_t p, room = LOG_LINE, n;
	int k, to_syslog, to_stderr;

	p = begin(out, &to_syslog, &to_stderr);
	line = out + p;
	k = vsnprintf(line, room, fmt, ap);
	if (k < 0)
		return;
	n = (size_t) k >= room ? room - 1 : (size_t) k;
	if (suffix != NULL && n < room - 1) {
		k = snprintf(line + n, room - n, ": %s", suffix);
		if (k > 0)
			n = n + (size_t) k >= room ? room - 1 : n + (size_t) k;
	}
	emit(pri, out, p, n, to_syslog, to_stderr);
}

/* log_info_line - an informational line already formatted (no printf) */
void
log_info_line(const char *line)
{
	char out[LOG_OUT];
	size_t p, n = strlen(line);
	int to_syslog, to_stderr;

	p = begin(out, &to_syslog, &to_stderr);
	if (n > LOG_LINE - 1)
		n = LOG_LINE - 1;
	memcpy(out + p, line, n);
	emit(LOG_INFO, out, p, n, to_syslog, to_stderr);
}

/* emit_stderr_now - line[0 .. n) to stderr at once, with its prefix */
static void
emit_stderr_now(const char *line, size_t n)
{
	char out[LOG_OUT];
	size_t p = prefix(out, LOG_OUT - LOG_LINE);

	memcpy(out + p, line, n);
	out[p + n] = '\n';
	(void) fd_write_all(STDERR_FILENO, out, p + n + 1);
}

/* log_info_batch - a routine line already formatted: stderr in batches */
void
log_info_batch(const char *line)
{
	size_t n = strlen(line), need;
	int to_syslog, to_stderr;

	route(&to_syslog, &to_stderr);
	if (n > LOG_LINE - 1)
		n = LOG_LINE - 1;
	if (to_syslog)
		syslog(LOG_INFO, "%.*s", (int) n, line);
	if (!to_stderr)
		return;
	pthread_mutex_lock(&prefix_lock);
	if (flusher_start() == -1) {
		/* no flusher: no batch either */
		pthread_mutex_unlock(&prefix_lock);
		emit_stderr_now(line, n);
		return;
	}
	prefix_update();
	need = prefix_len + n + 1;
	if (batch_len + need > sizeof(batch))
		batch_write();
	if (batch_len == 0)
		pthread_cond_signal(&batch_cond);
	memcpy(batch + batch_len, prefix_text, prefix_len);
	memcpy(batch + batch_len + prefix_len, line, n);
	batch[batch_len + need - 1] = '\n';
	batch_len += need;
	pthread_mutex_unlock(&prefix_lock);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char ebuf[256];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, errstr(saved, ebuf, sizeof(ebuf)), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	char ebuf[256];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, errstr(saved, ebuf, sizeof(ebuf)), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* log_ratelimit_ok - 1 when a report may go out now */
int
log_ratelimit_ok(struct log_ratelimit *rl, time_t now, unsigned *suppressed)
{
	if (rl->last != 0 && now - rl->last < rl->interval) {
		rl->suppressed++;
		return 0;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->last = now;
	return 1;
}
