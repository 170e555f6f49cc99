/*
 * sockio.c - whole writes on the daemon's stream sockets
 *
 * Thread safety: see sockio.h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>

#include "sockio.h"

/* sock_send_all - send all n bytes of buf on fd */
int
sock_send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t) r;
	}
	return 0;
}
