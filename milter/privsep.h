/*
 * privsep.h - give up root for good
 *
 * After the privileged queue helper is forked and the milter socket is
 * open, the daemon becomes the configured user (conf "user"): its own
 * group, that user's supplementary groups, real, effective and saved IDs
 * all changed, and a check that root cannot be regained.  The state
 * database, its WAL files and the journal are handed to that user first.
 *
 * Thread safety: call from main before any thread starts.
 */
#ifndef SASLGUARD_PRIVSEP_H
#define SASLGUARD_PRIVSEP_H

#include <stddef.h>

#include "conf.h"

/* privsep_drop - become c->user (no-op when unset); 0 or -1 with err */
int	privsep_drop(const struct conf *c, char *err, size_t len);

#endif
