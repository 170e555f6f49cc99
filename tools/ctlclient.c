/*
 * ctlclient.c - the client side of the control socket
 *
 * Thread safety: see ctlclient.h.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlclient.h"

struct ctlclient {
	int    fd;
	size_t have;
	char   buf[CTL_REPLY_MAX + 1];
};

/* read_line - the next line into c->buf [0, *n); -1 at EOF or error */
static int
read_line(struct ctlclient *c, size_t *n, char *err, size_t len)
{
	char *nl;
	ssize_t r;

	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->have)) != NULL) {
			*n = (size_t) (nl - c->buf) + 1;
			return 0;
		}
		if (c->have == sizeof(c->buf)) {
			snprintf(err, len, "reply line too long");
			return -1;
		}
		r = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, len, "%s", r == 0 ?
			    "the daemon closed the connection" :
			    strerror(errno));
			return -1;
		}
		c->have += (size_t) r;
	}
}

/* consume - drop the first n bytes of the buffer */
static void
consume(struct ctlclient *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->have - n);
	c->have -= n;
}

/* ctlclient_open - connect to path */
struct ctlclient *
ctlclient_open(const char *path, int timeout, char *err, size_t len)
{
	struct sockaddr_un sun;
	struct timeval tv;
	struct ctlclient *c;
	struct ctl_reply *rep;
	unsigned version;
	size_t n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    (int) sizeof(sun.sun_path)) {
		snprintf(err, len, "%s: path too long", path);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *) &sun, sizeof(sun)) == -1) {
		snprintf(err, len, "cannot connect to %s: %s (is saslguard "
		    "running?)", path, strerror(errno));
		ctlclient_close(c);
		return NULL;
	}
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	(void) setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_line(c, &n, err, len) == -1) {
		ctlclient_close(c);
		return NULL;
	}
	if (ctl_greeting_parse(c->buf, n, &version, err, len) == -1) {
		/* a refusal comes as an err line instead of the greeting */
		if ((rep = malloc(sizeof(*rep))) != NULL) {
			if (ctl_reply_parse(c->buf, n, rep, err, len) == 0 &&
			    rep->kind == CTL_ERR)
				snprintf(err, len, "%s: %s", rep->code,
				    rep->message);
			free(rep);
		}
		ctlclient_close(c);
		return NULL;
	}
	if (version != CTL_VERSION) {
		snprintf(err, len, "the daemon speaks control protocol %u, "
		    "this saslguardctl %d", version, CTL_VERSION);
		ctlclient_close(c);
		return NULL;
	}
	consume(c, n);
	return c;
}

/* ctlclient_close - accepts NULL */
void
ctlclient_close(struct ctlclient *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

/* ctlclient_call - one request, its reply lines to cb */
int
ctlclient_call(struct ctlclient *c, const char *cmd, int argc,
    const char *const *argv, int (*cb)(const struct ctl_reply *, void *),
    void *arg, char *err, size_t len)
{
	char req[CTL_LINE_MAX];
	struct ctl_reply *rep;
	size_t n;
	ssize_t w;
	int l, off = 0, rc = -1;

	if ((l = ctl_request_format(req, sizeof(req), cmd, argc, argv)) < 0) {
		snprintf(err, len, "request too long");
		return -1;
	}
	while (off < l) {
		if ((w = write(c->fd, req + off, (size_t) (l - off))) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, len, "write: %s", strerror(errno));
			return -1;
		}
		off += (int) w;
	}
	if ((rep = malloc(sizeof(*rep))) == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	for (;;) {
		if (read_line(c, &n, err, len) == -1)
			break;
		if (ctl_reply_parse(c->buf, n, rep, err, len) == -1)
			break;
		consume(c, n);
		if (cb != NULL && cb(rep, arg) == -1) {
			snprintf(err, len, "output failed");
			break;
		}
		if (rep->kind == CTL_OK) {
			rc = 0;
			break;
		}
		if (rep->kind == CTL_ERR) {
			snprintf(err, len, "%s", rep->message);
			rc = 1;
			break;
		}
	}
	free(rep);
	return rc;
}
