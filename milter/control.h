/*
 * control.h - the control socket: saslguardctl talks to the daemon here
 *
 * A Unix socket (control_socket) speaking the line protocol of
 * ctlproto.h (doc/control-protocol.md).  Every connection's peer
 * credentials are checked (SO_PEERCRED): root, the uids in
 * control_allow_users and members of control_allow_groups may talk;
 * anyone else gets "err denied" and is dropped.  Each client has its own
 * thread with an idle timeout, at most CONTROL_CLIENTS run at once and at
 * most CONTROL_PER_UID of one uid (so one user's stalled clients cannot
 * lock the others out), so
 * a stalled or hostile client never blocks another client or the mail.
 *
 * Thread safety: control_start/control_stop from main only.
 */
#ifndef SASLGUARD_CONTROL_H
#define SASLGUARD_CONTROL_H

#include <stddef.h>

#include "clusterproto.h"
#include "conf.h"

#define CONTROL_CLIENTS 64	/* clients at once, all uids */
#define CONTROL_PER_UID 16	/* clients at once of one uid */
#define CONTROL_IDLE	30	/* seconds a client may stay silent */
#define CONTROL_FIRST	10	/* seconds to send the first request */

/* control_start - open the socket and start the accept thread; 0 or -1 */
int	control_start(const struct conf *c, char *err, size_t len);

/* control_stop - stop accepting and remove the socket */
void	control_stop(void);

/*
 * control_contain - put the queued (not yet held) mail of user on hold,
 * in the background; used when an account is flagged
 */
void	control_contain(const char *user);

/*
 * control_queue_local - what "delete" and "release" do, on this server's
 * queue only (dry: count only); r gets the counts per queue (its server
 * is left empty).  Returns 0, or -1 with r->error.  Used by the cluster
 * module to answer another server's request.
 */
int	control_queue_local(enum cluster_queue_op op, const char *user,
	    int dry, struct cluster_result *r);

#endif
