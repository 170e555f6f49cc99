/*
 * fdio.c - writing a whole buffer to a file descriptor
 *
 * Thread safety: no state of its own.
 * Tests: tests/test_fdio.c
 */
#include <errno.h>
#include <unistd.h>

#include "fdio.h"

/* fd_write_all - the n bytes at buf to fd, however many writes it takes */
int
fd_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t     w;

	while (n > 0) {
		w = write(fd, p, n);
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
