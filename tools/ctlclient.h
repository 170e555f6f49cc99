/*
 * ctlclient.h - the client side of the control socket
 *
 * Connects, checks the greeting's protocol version, sends one request and
 * hands each reply line, parsed, to a callback until the terminating ok or
 * err line.
 *
 * Thread safety: one connection per caller; no shared state.
 */
#ifndef SASLGUARD_CTLCLIENT_H
#define SASLGUARD_CTLCLIENT_H

#include <stddef.h>

#include "ctlproto.h"

struct ctlclient;

/* ctlclient_open - connect to path; NULL with err on failure */
struct ctlclient *ctlclient_open(const char *path, int timeout, char *err,
	    size_t len);

/* ctlclient_close - accepts NULL */
void	ctlclient_close(struct ctlclient *c);

/*
 * ctlclient_call - send cmd with args; cb for every reply line, the last
 * (ok or err) included.  Returns 0 when the reply ended with ok, 1 when it
 * ended with err, -1 with err on I/O or protocol failure.
 */
int	ctlclient_call(struct ctlclient *c, const char *cmd, int argc,
	    const char *const *argv,
	    int (*cb)(const struct ctl_reply *, void *), void *arg, char *err,
	    size_t len);

#endif
