/*
 * fdio.h - writing a whole buffer to a file descriptor or a socket
 *
 * Thread safety: no state of its own.
 * Tests: tests/test_fdio.c
 */
#ifndef SASLGUARD_FDIO_H
#define SASLGUARD_FDIO_H

#include <stddef.h>

/*
 * fd_write_all - write the n bytes at buf to fd, resuming after short
 * writes and EINTR; 0, or -1 with errno (a write of 0 bytes gives EIO)
 */
int	fd_write_all(int fd, const void *buf, size_t n);

/*
 * fd_send_all - the same on a stream socket, with send(MSG_NOSIGNAL): a
 * peer that went away gives EPIPE, never SIGPIPE
 */
int	fd_send_all(int fd, const void *buf, size_t n);

#endif
