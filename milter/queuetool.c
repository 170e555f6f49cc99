/*
 * queuetool.c - Postfix's queue tools, run by a small privileged helper
 *
 * Wire format on the socket pair (host byte order, same machine):
 *   request:  u32 op, u32 queue (0 none, else index in queue_names),
 *             u32 n, then n times { u8 len, len bytes of queue ID }
 *   list reply: repeated { u32 len, len bytes of one postqueue line },
 *             u32 0, then the status record
 *   status:   i32 rc (0 ok), u32 done, u32 errlen, errlen bytes
 * The helper handles one request at a time and exits when the pair
 * closes.
 *
 * Thread safety: the daemon side serialises requests with a mutex.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "queuetool.h"

#define LINE_MAX_BYTES	(16u * 1024 * 1024)	/* longest postqueue line */
#define IDS_MAX		(4u * 1024 * 1024)	/* IDs in one request */
#define OP_SCHEDULE	100			/* postqueue -i / -f */

static const char *const queue_names[] = {
	NULL, "hold", "incoming", "active", "deferred",
};

struct helper_conf {
	char *postsuper;	/* owned */
	char *postqueue;	/* owned */
	char *config_dir;	/* owned; NULL = default */
};

static pthread_mutex_t qt_lock = PTHREAD_MUTEX_INITIALIZER;
static int qt_fd = -1;		/* daemon's end */
static pid_t qt_pid = -1;

extern char **environ;

/* full_read - read exactly n bytes; -1 on error or early EOF */
static int
full_read(int fd, void *buf, size_t n)
{
	char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return -1;
		p += r;
		n -= (size_t) r;
	}
	return 0;
}

/* send_status - the status record */
static int
send_status(int fd, int32_t rc, uint32_t done, const char *msg)
{
	uint32_t len = msg ? (uint32_t) strlen(msg) : 0;

	if (fd_send_all(fd, &rc, sizeof(rc)) == -1 ||
	    fd_send_all(fd, &done, sizeof(done)) == -1 ||
	    fd_send_all(fd, &len, sizeof(len)) == -1)
		return -1;
	return len ? fd_send_all(fd, msg, len) : 0;
}

/* spawn - run argv with stdin/stdout/stderr as given; no shell */
static pid_t
spawn(const char **argv, int in, int out, int err)
{
	static char *const envp[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		NULL };
	pid_t pid;

	if ((pid = fork()) != 0)
		return pid;
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(127);
	execve(argv[0], (char *const *) argv, envp);
	_exit(127);
}

/* wait_status - exit status of pid; -1 if it did not exit 0 */
static int
wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* helper_list - run postqueue -j and forward its lines */
static int
helper_list(int fd, const struct helper_conf *hc)
{
	const char *argv[QUEUE_ARGV_MAX];
	char *buf = NULL, *nl, *nb;
	size_t cap = 65536, have = 0, off;
	int out[2], devnull;
	uint32_t len, zero = 0;
	ssize_t r;
	pid_t pid;
	int rc = 0;

	if (queue_argv(QUEUE_LIST, hc->postsuper, hc->postqueue,
	    hc->config_dir, NULL, argv, QUEUE_ARGV_MAX) == -1)
		return send_status(fd, -1, 0, "bad postqueue arguments");
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 || pipe2(out, O_CLOEXEC) == -1)
		return send_status(fd, -1, 0, "cannot create a pipe");
	if ((pid = spawn(argv, devnull, out[1], devnull)) == -1) {
		close(out[0]);
		close(out[1]);
		close(devnull);
		return send_status(fd, -1, 0, "cannot fork postqueue");
	}
	close(out[1]);
	close(devnull);
	if ((buf = malloc(cap)) == NULL)
		rc = -1;
	while (rc == 0) {
		if (have == cap) {
			if (cap >= LINE_MAX_BYTES) {
				have = 0;	/* a monster line: drop it */
				continue;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				rc = -1;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		if ((r = read(out[0], buf + have, cap - have)) == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		have += (size_t) r;
		off = 0;
		while ((nl = memchr(buf + off, '\n', have - off)) != NULL) {
			len = (uint32_t) (nl - (buf + off));
			if (len > 0 && (fd_send_all(fd, &len, sizeof(len)) == -1 ||
			    fd_send_all(fd, buf + off, len) == -1)) {
				rc = -2;
				break;
			}
			off += len + 1;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	close(out[0]);
	free(buf);
	if (wait_status(pid) == -1 && rc == 0)
		rc = -3;
	if (rc == -2)
		return -1;
	if (fd_send_all(fd, &zero, sizeof(zero)) == -1)
		return -1;
	return send_status(fd, rc == 0 ? 0 : -1, 0, rc == 0 ? NULL :
	    "postqueue -j failed");
}

/* count_done - the number in postsuper's "Deleted: N messages" style line */
static unsigned long
count_done(const char *text)
{
	static const char *const words[] = { "Deleted: ", "Released from hold: ",
		"Requeued: ", "Placed on hold: " };
	unsigned long total = 0;
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if ((p = strstr(text, words[i])) != NULL)
			total += strtoul(p + strlen(words[i]), NULL, 10);
	return total;
}

/* helper_apply - run postsuper op on the IDs that follow */
static int
helper_apply(int fd, const struct helper_conf *hc, uint32_t op,
    uint32_t queue, uint32_t n)
{
	const char *argv[QUEUE_ARGV_MAX];
	char id[256], out[8192], *list = NULL;
	size_t used = 0, got = 0, i;
	uint8_t len;
	int in[2], err[2], bad = 0, devnull;
	ssize_t r;
	pid_t pid;

	if (n > IDS_MAX || (list = malloc((size_t) n * (QUEUEID_MAX + 1) + 1)) == NULL)
		bad = 2;
	for (i = 0; i < n; i++) {
		if (full_read(fd, &len, 1) == -1 || full_read(fd, id, len) == -1) {
			free(list);
			return -1;
		}
		id[len] = '\0';
		if (bad || !queueid_valid(id)) {
			bad = bad ? bad : 1;
			continue;
		}
		memcpy(list + used, id, len);
		used += len;
		list[used++] = '\n';
	}
	if (bad) {
		free(list);
		return send_status(fd, -1, 0, bad == 1 ? "invalid queue ID" :
		    "too many queue IDs");
	}
	if (op < QUEUE_DELETE || op > QUEUE_HOLD || queue >= sizeof(queue_names) /
	    sizeof(queue_names[0]) || queue_argv((enum queue_op) op,
	    hc->postsuper, hc->postqueue, hc->config_dir, queue_names[queue],
	    argv, QUEUE_ARGV_MAX) == -1) {
		free(list);
		return send_status(fd, -1, 0, "bad postsuper arguments");
	}
	if (n == 0) {
		free(list);
		return send_status(fd, 0, 0, NULL);
	}
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 || pipe2(in, O_CLOEXEC) == -1 ||
	    pipe2(err, O_CLOEXEC) == -1) {
		free(list);
		return send_status(fd, -1, 0, "cannot create a pipe");
	}
	pid = spawn(argv, in[0], devnull, err[1]);
	close(in[0]);
	close(err[1]);
	close(devnull);
	if (pid == -1) {
		close(in[1]);
		close(err[0]);
		free(list);
		return send_status(fd, -1, 0, "cannot fork postsuper");
	}
	/*
	 * postsuper reads all IDs before it reports much, but it may write
	 * one line per ID: write stdin and drain stderr together.
	 */
	{
		struct pollfd p[2];
		size_t woff = 0;
		int wopen = 1;

		fcntl(in[1], F_SETFL, O_NONBLOCK);
		while (1) {
			int np = 0;

			if (wopen) {
				p[np].fd = in[1];
				p[np++].events = POLLOUT;
			}
			p[np].fd = err[0];
			p[np++].events = POLLIN;
			if (poll(p, (nfds_t) np, -1) == -1) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (wopen && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
				r = write(in[1], list + woff, used - woff);
				if (r > 0)
					woff += (size_t) r;
				if ((r == -1 && errno != EAGAIN && errno != EINTR) ||
				    woff == used) {
					close(in[1]);
					wopen = 0;
				}
			}
			if (p[np - 1].revents & (POLLIN | POLLHUP)) {
				char tmp[4096];

				r = read(err[0], tmp, sizeof(tmp));
				if (r <= 0) {
					if (r == -1 && errno == EINTR)
						continue;
					break;
				}
				/* keep the tail: the summary line comes last */
				{
					if (got + (size_t) r > sizeof(out) - 1) {
						size_t drop = got + (size_t) r -
						    (sizeof(out) - 1);
						memmove(out, out + drop, got - drop);
						got -= drop;
					}
					memcpy(out + got, tmp, (size_t) r);
					got += (size_t) r;
				}
			}
		}
		if (wopen)
			close(in[1]);
	}
	close(err[0]);
	out[got] = '\0';
	free(list);
	if (wait_status(pid) == -1)
		return send_status(fd, -1, 0, "postsuper failed");
	return send_status(fd, 0, (uint32_t) count_done(out), NULL);
}

/* run_postqueue - postqueue [-c dir] flag [id]; 0 when it exits 0 */
static int
run_postqueue(const struct helper_conf *hc, const char *flag, const char *id)
{
	const char *argv[8];
	int i = 0, devnull;
	pid_t pid;

	argv[i++] = hc->postqueue;
	if (hc->config_dir != NULL) {
		argv[i++] = "-c";
		argv[i++] = hc->config_dir;
	}
	argv[i++] = flag;
	if (id != NULL)
		argv[i++] = id;
	argv[i] = NULL;
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	pid = spawn(argv, devnull, devnull, devnull);
	close(devnull);
	return pid == -1 ? -1 : wait_status(pid);
}

/* helper_schedule - immediate delivery of the deferred IDs that follow */
static int
helper_schedule(int fd, const struct helper_conf *hc, uint32_t n)
{
	char id[256];
	uint32_t i, done = 0;
	uint8_t len;
	int bad = 0;

	for (i = 0; i < n; i++) {
		if (full_read(fd, &len, 1) == -1 || full_read(fd, id, len) == -1)
			return -1;
		id[len] = '\0';
		if (!queueid_valid(id)) {
			bad = 1;
			continue;
		}
		if (n <= QUEUETOOL_SCHEDULE_MAX && run_postqueue(hc, "-i", id) == 0)
			done++;
	}
	if (bad)
		return send_status(fd, -1, 0, "invalid queue ID");
	if (n > QUEUETOOL_SCHEDULE_MAX) {
		if (run_postqueue(hc, "-f", NULL) == -1)
			return send_status(fd, -1, 0, "postqueue -f failed");
		done = n;
	}
	return send_status(fd, 0, done, NULL);
}

/* helper_main - the privileged helper's loop */
static void
helper_main(int fd, const struct helper_conf *hc)
{
	uint32_t hdr[3];

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	while (full_read(fd, hdr, sizeof(hdr)) == 0) {
		if (hdr[0] == QUEUE_LIST) {
			if (helper_list(fd, hc) == -1)
				break;
		} else if (hdr[0] == OP_SCHEDULE) {
			if (helper_schedule(fd, hc, hdr[2]) == -1)
				break;
		} else if (helper_apply(fd, hc, hdr[0], hdr[1], hdr[2]) == -1)
			break;
	}
	_exit(0);
}

/* queuetool_start - fork the helper */
int
queuetool_start(const struct conf *c, char *err, size_t len)
{
	struct helper_conf hc;
	int sv[2], fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	hc.postsuper = c->postsuper_path;
	hc.postqueue = c->postqueue_path;
	hc.config_dir = c->postfix_config_directory;
	if ((pid = fork()) == -1) {
		snprintf(err, len, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		/* keep only the pair and the standard descriptors */
		for (fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		helper_main(sv[1], &hc);
	}
	close(sv[1]);
	qt_fd = sv[0];
	qt_pid = pid;
	return 0;
}

/* queuetool_stop - end the helper */
void
queuetool_stop(void)
{
	pthread_mutex_lock(&qt_lock);	/* a control client may be using it */
	if (qt_fd != -1) {
		close(qt_fd);
		qt_fd = -1;
	}
	pthread_mutex_unlock(&qt_lock);
	if (qt_pid > 0) {
		(void) waitpid(qt_pid, NULL, 0);
		qt_pid = -1;
	}
}

/* read_status - the status record; fills err from it */
static int
read_status(unsigned long *done, char *err, size_t len)
{
	int32_t rc;
	uint32_t d, elen;
	char msg[512];

	if (full_read(qt_fd, &rc, sizeof(rc)) == -1 ||
	    full_read(qt_fd, &d, sizeof(d)) == -1 ||
	    full_read(qt_fd, &elen, sizeof(elen)) == -1 ||
	    elen >= sizeof(msg) || full_read(qt_fd, msg, elen) == -1) {
		snprintf(err, len, "queue helper did not answer");
		return -1;
	}
	msg[elen] = '\0';
	if (done != NULL)
		*done = d;
	if (rc != 0) {
		snprintf(err, len, "%s", msg);
		return -1;
	}
	return 0;
}

/* queuetool_list - every message in the queue, one callback each */
int
queuetool_list(int (*cb)(const struct pq_msg *, void *), void *arg,
    size_t *bad, char *err, size_t len)
{
	uint32_t hdr[3] = { QUEUE_LIST, 0, 0 }, l;
	struct pq_msg m;
	char perr[128], *line = NULL, *nl;
	size_t cap = 0, nbad = 0;
	int stop = 0, rc;

	pthread_mutex_lock(&qt_lock);
	if (qt_fd == -1 || fd_send_all(qt_fd, hdr, sizeof(hdr)) == -1) {
		pthread_mutex_unlock(&qt_lock);
		snprintf(err, len, "queue helper is not running");
		return -1;
	}
	for (;;) {
		if (full_read(qt_fd, &l, sizeof(l)) == -1) {
			rc = -1;
			snprintf(err, len, "queue helper did not answer");
			goto out;
		}
		if (l == 0)
			break;
		if (l > LINE_MAX_BYTES) {
			rc = -1;
			snprintf(err, len, "queue helper sent garbage");
			goto out;
		}
		if (l + 1 > cap) {
			if ((nl = realloc(line, l + 1)) == NULL) {
				rc = -1;
				snprintf(err, len, "out of memory");
				goto out;
			}
			line = nl;
			cap = l + 1;
		}
		if (full_read(qt_fd, line, l) == -1) {
			rc = -1;
			snprintf(err, len, "queue helper did not answer");
			goto out;
		}
		line[l] = '\0';
		if (pq_parse_line(line, l, &m, perr, sizeof(perr)) == -1) {
			nbad++;
			continue;
		}
		if (!stop && cb(&m, arg) == -1)
			stop = 1;
	}
	rc = read_status(NULL, err, len);
out:
	pthread_mutex_unlock(&qt_lock);
	free(line);
	if (bad != NULL)
		*bad = nbad;
	return rc;
}

static int send_ids(uint32_t op, uint32_t q, const char *const *ids, size_t n,
    unsigned long *done, char *err, size_t len);

/* queuetool_schedule - ask for immediate delivery of deferred ids */
int
queuetool_schedule(const char *const *ids, size_t n, unsigned long *done,
    char *err, size_t len)
{
	size_t i;

	*done = 0;
	for (i = 0; i < n; i++)
		if (!queueid_valid(ids[i])) {
			snprintf(err, len, "invalid queue ID");
			return -1;
		}
	if (n == 0)
		return 0;
	return send_ids(OP_SCHEDULE, 0, ids, n, done, err, len);
}

/* queuetool_apply - one postsuper operation on ids */
int
queuetool_apply(enum queue_op op, const char *queue, const char *const *ids,
    size_t n, unsigned long *done, char *err, size_t len)
{
	size_t i, q = 0;

	*done = 0;
	if (queue != NULL) {
		for (q = 1; q < sizeof(queue_names) / sizeof(queue_names[0]); q++)
			if (strcmp(queue, queue_names[q]) == 0)
				break;
		if (q == sizeof(queue_names) / sizeof(queue_names[0])) {
			snprintf(err, len, "unknown queue %s", queue);
			return -1;
		}
	}
	for (i = 0; i < n; i++)
		if (!queueid_valid(ids[i])) {
			snprintf(err, len, "invalid queue ID");
			return -1;
		}
	return send_ids((uint32_t) op, (uint32_t) q, ids, n, done, err, len);
}

/* send_ids - one request with IDs; the status back */
static int
send_ids(uint32_t op, uint32_t q, const char *const *ids, size_t n,
    unsigned long *done, char *err, size_t len)
{
	uint32_t hdr[3];
	size_t i;
	uint8_t l;
	int rc = 0;

	*done = 0;
	hdr[0] = op;
	hdr[1] = q;
	hdr[2] = (uint32_t) n;
	pthread_mutex_lock(&qt_lock);
	if (qt_fd == -1 || fd_send_all(qt_fd, hdr, sizeof(hdr)) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < n; i++) {
		l = (uint8_t) strlen(ids[i]);
		if (fd_send_all(qt_fd, &l, 1) == -1 ||
		    fd_send_all(qt_fd, ids[i], l) == -1)
			rc = -1;
	}
	if (rc == -1)
		snprintf(err, len, "queue helper is not running");
	else
		rc = read_status(done, err, len);
	pthread_mutex_unlock(&qt_lock);
	return rc;
}
