/*
 * test_fdio.c - tests for common/fdio.c
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fdio.h"

#define BIG (1 << 20) /* far more than a pipe holds: many short writes */

struct reader {
	int    fd;
	char  *buf;
	size_t n;
};

/* drain - read the pipe to its end, slowly at first */
static void *
drain(void *arg)
{
	struct reader *r = arg;
	ssize_t        k;

	usleep(50000);
	while ((k = read(r->fd, r->buf + r->n, BIG - r->n)) > 0)
		r->n += (size_t) k;
	return NULL;
}

Test(fdio, writes_everything_through_a_pipe_smaller_than_the_buffer)
{
	static char    src[BIG], dst[BIG];
	struct reader  r = { 0, dst, 0 };
	pthread_t      t;
	int            p[2];
	size_t         i;

	for (i = 0; i < BIG; i++)
		src[i] = (char) (i * 7 + i / 251);
	cr_assert_eq(pipe(p), 0);
	r.fd = p[0];
	cr_assert_eq(pthread_create(&t, NULL, drain, &r), 0);
	cr_assert_eq(fd_write_all(p[1], src, BIG), 0);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	cr_assert_eq(r.n, (size_t) BIG);
	cr_assert_eq(memcmp(src, dst, BIG), 0);
}

Test(fdio, nothing_to_write_is_success)
{
	cr_assert_eq(fd_write_all(-1, "", 0), 0);
}

Test(fdio, a_failed_write_returns_its_errno)
{
	int p[2];

	cr_assert_eq(fd_write_all(-1, "x", 1), -1);
	cr_assert_eq(errno, EBADF);
	/* a pipe with no reader: EPIPE (SIGPIPE ignored) */
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	cr_assert_eq(fd_write_all(p[1], "x", 1), -1);
	cr_assert_eq(errno, EPIPE);
	close(p[1]);
}

Test(fdio, send_all_reaches_the_peer_and_a_gone_peer_gives_epipe_not_sigpipe)
{
	char buf[8];
	int  sv[2];

	/* SIGPIPE keeps its default action: it would end this test */
	signal(SIGPIPE, SIG_DFL);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(fd_send_all(sv[0], "hello", 5), 0);
	cr_assert_eq(read(sv[1], buf, sizeof(buf)), 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	close(sv[1]);
	cr_assert_eq(fd_send_all(sv[0], "x", 1), -1);
	cr_assert_eq(errno, EPIPE);
	close(sv[0]);
}
