/*
 * authwatch.h - failed SASL logins from the mail log, per account
 *
 * With auth_log set, one thread follows that file the way "tail -F" does:
 * it starts at the end, reads what is appended, and reopens the path when
 * the file is rotated (another inode) or truncated (shorter than what was
 * read), or appears after being missing.  Each line is parsed with
 * logparse.h; a failed login reported by a front end (Postfix smtpd's
 * "SASL ... authentication failed ... sasl_username=", Dovecot's login
 * process "auth failed, N attempts") is counted against the name tried
 * with accounts_auth_failure(), so the failed_logins signal sees it.
 * Back-end reports (saslauthd, Dovecot's auth process, PAM) repeat the
 * same attempts and are not counted.
 *
 * The path is read at start; a reload does not move the reader (restart
 * for that).  The daemon's user must be able to read the file.
 *
 * Thread safety: authwatch_start/stop from the main thread only;
 * authwatch_line is a pure function.
 * Tests: tests/integration_signals.sh (failures, then a rotation)
 */
#ifndef SASLGUARD_AUTHWATCH_H
#define SASLGUARD_AUTHWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define AUTHWATCH_LINE_MAX 8192 /* longer lines are skipped */
#define AUTHWATCH_POLL_MS  250  /* pause at the end of the file */

/*
 * authwatch_start - start following c->auth_log (nothing when unset);
 * 0, or -1 with the reason in err
 */
int authwatch_start(const struct conf *c, char *err, size_t len);

/* authwatch_stop - stop the reader and wait for it; harmless when off */
void authwatch_stop(void);

/*
 * authwatch_line - 1 when line[0..len) reports failed logins that count,
 * with the canonical name tried in user (lower case, "name@realm" for a
 * saslauthd realm) and the number of attempts in *count; 0 otherwise
 */
int authwatch_line(
    const char *line, size_t len, char *user, size_t ulen, uint32_t *count);

#endif
