/*
 * log.h - the daemon's logging: syslog, and standard error in the foreground
 *
 * One line per event.  Callers format key=value fields and escape every
 * value that came from outside (escape.h) before it reaches here.
 * log_warn appends strerror(errno); fatal/fatalx log and exit(1) and are
 * for start-up only.  log_ratelimit lets a caller report a recurring
 * failure at most once per interval.
 *
 * Thread safety: all functions may be called from any thread.
 */
#ifndef SASLGUARD_LOG_H
#define SASLGUARD_LOG_H

#include <time.h>

#define LOG_LINE 2048 /* the longest line, with its NUL; longer ones are cut */

/*
 * log_init - ident, syslog facility name ("mail"), copy lines to stderr;
 * call it again after fork (daemon()) so lines carry the new pid
 */
int	log_init(const char *ident, const char *facility, int to_stderr);

void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_info_line - a line already built (linebuf.h): no printf on the way */
void	log_info_line(const char *line);
/*
 * log_info_batch - a routine line already built (the pass decision): to
 * syslog at once, to stderr in batches, at most LOG_BATCH_MS late
 */
void	log_info_batch(const char *line);
/* log_flush - write out the routine lines still held back (also at exit) */
void	log_flush(void);
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* log_set_debug - turn debug lines on or off */
void	log_set_debug(int on);

struct log_ratelimit {
	time_t   last;		/* when last reported; 0 = never */
	unsigned suppressed;	/* reports dropped since */
	int      interval;	/* seconds */
};

/*
 * log_ratelimit_ok - 1 when a report may go out now; otherwise counts it
 * as suppressed.  *suppressed gets the number dropped since the last one.
 * The caller serialises access to rl.
 */
int	log_ratelimit_ok(struct log_ratelimit *rl, time_t now,
	    unsigned *suppressed);

#endif
