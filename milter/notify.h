/*
 * notify.h - the on_flag hook: run the operator's program when an account
 * is flagged
 *
 * Once per incident (when the flag latches, not per held message) the
 * configured command runs with execve, no shell, in its own thread so that
 * no SMTP transaction ever waits for it; it is killed after its timeout.
 * It gets the facts as arguments appended to the configured argv
 * (USER LIMIT COUNT MAX WINDOW CLIENT QUEUE_ID) and as environment
 * variables (SASLGUARD_USER, SASLGUARD_LIMIT, SASLGUARD_COUNT,
 * SASLGUARD_MAX, SASLGUARD_WINDOW, SASLGUARD_CLIENT, SASLGUARD_QUEUE_ID,
 * SASLGUARD_REASON).  Its exit status and a timeout are logged.
 *
 * Thread safety: any thread may call notify_flag().
 */
#ifndef SASLGUARD_NOTIFY_H
#define SASLGUARD_NOTIFY_H

#include "accounts.h"
#include "conf.h"

/* notify_flag - start the on_flag command of c for user, if configured */
void	notify_flag(const struct conf *c, const char *user,
	    const struct account_flag *f, const char *reason,
	    const char *client, const char *queue_id);

#endif
