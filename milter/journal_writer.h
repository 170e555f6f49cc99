/*
 * journal_writer.h - the daemon's tamper-evident journal file
 *
 * Appends one line per decision or operator action (format: journal.h)
 * to the file named by the "journal" config key.  The file is opened
 * O_APPEND|O_CLOEXEC|O_NOFOLLOW with mode 0600 (it must be a regular
 * file); at open the last line is read so the chain continues (seq and
 * prev); an incomplete last line left by a crash is cut off, with a
 * warning.  journal_writer_reopen() (after logrotate moved the file, on
 * reload) starts the new file where the old one ended, so the files
 * verify in order: "saslguardctl audit --verify journal.1 journal".
 *
 * Durability: lines are written at once, synced in the background:
 * fdatasync() runs in the writer's own thread after every
 * JOURNAL_SYNC_LINES lines or once a second when something is pending,
 * never on the caller's thread and never under the lock.  A crash (of
 * the machine, not the process) may lose the last second of lines.
 *
 * Failures never stop mail: a line that cannot be formatted or written
 * is dropped, counted, and reported at most once a minute in the log;
 * the next line that is written carries "journal_lost":N.  A short write
 * (disk full) is undone with ftruncate, so the file never holds half a
 * line.
 *
 * Thread safety: journal_append() and journal_writer_reopen() may be
 * called from any thread (one mutex); open and close from main only.
 */
#ifndef SASLGUARD_JOURNAL_WRITER_H
#define SASLGUARD_JOURNAL_WRITER_H

#include <stddef.h>
#include <time.h>

#include "journal.h"

#define JOURNAL_SYNC_LINES 64 /* fdatasync at least every N lines */
#define JOURNAL_FIELDS_MAX 15 /* event fields of one line */

struct journal_writer;

/*
 * journal_writer_open - open (or create) path and continue its chain
 *
 * Starts the sync thread: call it after the signal mask is set.
 * Returns the writer, or NULL with a message in err.
 */
struct journal_writer *journal_writer_open(
    const char *path, char *err, size_t errlen);

/* journal_writer_close - sync, stop the thread, close; accepts NULL */
void journal_writer_close(struct journal_writer *w);

/*
 * journal_writer_reopen - open the path again (after rotation)
 *
 * The same file: nothing changes.  A new empty file continues the chain
 * in memory; a non-empty one continues its own last line.  On failure
 * the old file stays in use; returns -1 with a message in err.
 */
int journal_writer_reopen(struct journal_writer *w, char *err, size_t errlen);

/*
 * journal_append - append one event line; w may be NULL (no journal)
 *
 * user may be NULL; fields as in journal_format() (at most
 * JOURNAL_FIELDS_MAX).  Returns 0, or -1 when the line was dropped
 * (already logged, rate-limited): callers go on as before.
 */
int journal_append(struct journal_writer *w, time_t now, enum journal_event ev,
    const char *user, const struct journal_field *fields, size_t nfields);

#endif
