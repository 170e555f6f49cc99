/*
 * fdio.c - writing a whole buffer to a file descriptor or a socket
 *
 * Thread safety: no state of its own.
 * Tests: tests/test_fdio.c
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <unistd.h>

#include "fdio.h"

/* put_all - the n bytes at buf to fd, with send() when sock is set */
static int
put_all(int fd, const void *buf, size_t n, int sock)
{
	const char *p = buf;
	ssize_t     w;

	while (n > 0) {
		w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

/* fd_write_all - the n bytes at buf to fd, however many writes it takes */
int
fd_write_all(int fd, const void *buf, size_t n)
{
	return put_all(fd, buf, n, 0);
}

/* fd_send_all - the n bytes at buf to the socket fd, without SIGPIPE */
int
fd_send_all(int fd, const void *buf, size_t n)
{
	return put_all(fd, buf, n, 1);
}
