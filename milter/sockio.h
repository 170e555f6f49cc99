/*
 * sockio.h - whole writes on the daemon's stream sockets
 *
 * Thread safety: stateless; safe from any thread and in the queue helper.
 */
#ifndef SASLGUARD_SOCKIO_H
#define SASLGUARD_SOCKIO_H

#include <stddef.h>

/*
 * sock_send_all - send all n bytes of buf on fd (no SIGPIPE; a signal's
 * EINTR goes on); 0, or -1 with errno
 */
int	sock_send_all(int fd, const void *buf, size_t n);

#endif
