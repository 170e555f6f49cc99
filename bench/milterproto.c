/*
 * milterproto.c - the MTA side of the milter protocol, for the load generator
 *
 * Framing: every packet is a 4-byte big-endian length (command byte
 * included), the command byte, then the data.  The filter's answer to
 * SMFIC_OPTNEG is version, actions and protocol flags (three 32-bit
 * words), optionally followed by macro lists: a 32-bit stage number and a
 * NUL-terminated string of space-separated macro names, repeated.
 *
 * Thread safety: one connection belongs to one thread.
 * Tests: driven against the no-op filters by bench/run.
 */
#include "milterproto.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

/* the largest reply we accept: a replaced body chunk and some slack */
#define MP_MAX_PACKET (1024 * 1024 + 16)

/* mp_parse_addr - "unix:/path", "local:/path" or "inet:port@host" */
int
mp_parse_addr(const char *spec, struct mp_addr *a, char *err, size_t errlen)
{
	const char *p, *at;
	int         n;

	memset(a, 0, sizeof(*a));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		p = strchr(spec, ':') + 1;
		a->family = AF_UNIX;
		n = snprintf(a->path, sizeof(a->path), "%s", p);
		if (n < 0 || (size_t) n >= sizeof(a->path)) {
			snprintf(err, errlen, "%s: socket path too long", spec);
			return -1;
		}
		return 0;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		p = spec + 5;
		a->family = AF_INET;
		at = strchr(p, '@');
		if (at == NULL || at == p ||
		    (size_t) (at - p) >= sizeof(a->port)) {
			snprintf(
			    err, errlen, "%s: expected inet:port@host", spec);
			return -1;
		}
		memcpy(a->port, p, (size_t) (at - p));
		a->port[at - p] = '\0';
		n = snprintf(a->host, sizeof(a->host), "%s", at + 1);
		if (n <= 0 || (size_t) n >= sizeof(a->host)) {
			snprintf(err, errlen, "%s: bad host", spec);
			return -1;
		}
		return 0;
	}
	if (spec[0] == '/') {
		a->family = AF_UNIX;
		n = snprintf(a->path, sizeof(a->path), "%s", spec);
		if (n < 0 || (size_t) n >= sizeof(a->path)) {
			snprintf(err, errlen, "%s: socket path too long", spec);
			return -1;
		}
		return 0;
	}
	snprintf(
	    err, errlen, "%s: expected unix:/path or inet:port@host", spec);
	return -1;
}

/* mp_init - an unconnected conn; mp_close frees what it holds */
void
mp_init(struct mp_conn *c, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms;
}

/* symlist_free - drop a parsed macro list */
static void
symlist_free(struct mp_symlist *l)
{
	free(l->buf);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

/* mp_close - close the socket and free buffers; accepts a closed conn */
void
mp_close(struct mp_conn *c)
{
	int i;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	for (i = 0; i < MP_NSTAGES; i++) {
		symlist_free(&c->symlist[i]);
		c->has_symlist[i] = 0;
	}
	free(c->out);
	free(c->in);
	c->out = c->in = NULL;
	c->outlen = c->outcap = 0;
	c->inoff = c->inlen = c->incap = 0;
	c->version = c->actions = c->pflags = 0;
}

/* set_timeouts - bound every read and write on fd; takes fd into c */
static int
set_timeouts(struct mp_conn *c, int fd, char *err, size_t errlen)
{
	struct timeval tv;

	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

/* mp_connect - open the socket; 0 or -1 */
int
mp_connect(struct mp_conn *c, const struct mp_addr *a, char *err, size_t errlen)
{
	struct sockaddr_un un;
	struct addrinfo    hints, *res, *ai;
	int                fd = -1, rc;

	if (a->family == AF_UNIX) {
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		memcpy(un.sun_path, a->path, sizeof(un.sun_path) - 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
			-1 ||
		    connect(fd, (struct sockaddr *) &un, sizeof(un)) == -1) {
			snprintf(err, errlen, "connect %s: %s", a->path,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		return set_timeouts(c, fd, err, errlen);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(a->host, a->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", a->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(err, errlen, "connect %s@%s: %s", a->port, a->host,
		    strerror(errno));
		return -1;
	}
	return set_timeouts(c, fd, err, errlen);
}

/* reserve - make room for n more bytes in a growing buffer */
static int
reserve(unsigned char **buf, size_t *cap, size_t used, size_t n)
{
	unsigned char *nb;
	size_t         ncap;

	if (used + n <= *cap)
		return 0;
	ncap = *cap ? *cap : 4096;
	while (ncap < used + n)
		ncap *= 2;
	if ((nb = realloc(*buf, ncap)) == NULL)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* put32 - store v big-endian */
static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

/* get32 - load a big-endian 32-bit word */
static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
	       (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

/* mp_put - queue one command with its data; 0 or -1 (ENOMEM) */
int
mp_put(struct mp_conn *c, int cmd, const void *data, size_t len)
{
	if (reserve(&c->out, &c->outcap, c->outlen, len + 5) == -1)
		return -1;
	put32(c->out + c->outlen, (uint32_t) (len + 1));
	c->out[c->outlen + 4] = (unsigned char) cmd;
	if (len > 0)
		memcpy(c->out + c->outlen + 5, data, len);
	c->outlen += len + 5;
	return 0;
}

/* mp_put_strs - queue one command whose data is n NUL-terminated strings */
int
mp_put_strs(struct mp_conn *c, int cmd, const char *const *strs, size_t n)
{
	size_t         i, len = 0, l;
	unsigned char *p;

	for (i = 0; i < n; i++)
		len += strlen(strs[i]) + 1;
	if (reserve(&c->out, &c->outcap, c->outlen, len + 5) == -1)
		return -1;
	p = c->out + c->outlen;
	put32(p, (uint32_t) (len + 1));
	p[4] = (unsigned char) cmd;
	p += 5;
	for (i = 0; i < n; i++) {
		l = strlen(strs[i]) + 1;
		memcpy(p, strs[i], l);
		p += l;
	}
	c->outlen += len + 5;
	return 0;
}

/* mp_flush - write every queued command */
int
mp_flush(struct mp_conn *c, char *err, size_t errlen)
{
	size_t  off = 0;
	ssize_t n;

	while (off < c->outlen) {
		n = send(c->fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			snprintf(err, errlen, "write: timeout after %d ms",
			    c->timeout_ms);
			return -1;
		}
		if (n == -1) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return -1;
		}
		off += (size_t) n;
	}
	c->outlen = 0;
	return 0;
}

/* fill - read at least need bytes into the input buffer */
static int
fill(struct mp_conn *c, size_t need, char *err, size_t errlen)
{
	ssize_t n;

	if (c->inoff > 0 && c->inoff == c->inlen)
		c->inoff = c->inlen = 0;
	if (c->inoff > 0 && c->inoff + need > c->incap) {
		memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
		c->inlen -= c->inoff;
		c->inoff = 0;
	}
	if (reserve(&c->in, &c->incap, c->inoff, need) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (c->inlen - c->inoff < need) {
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			snprintf(err, errlen, "read: timeout after %d ms",
			    c->timeout_ms);
			return -1;
		}
		if (n == -1) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen, "filter closed the connection");
			return -1;
		}
		c->inlen += (size_t) n;
	}
	return 0;
}

/* mp_read - flush, then read one reply packet */
int
mp_read(struct mp_conn *c, int *cmd, const unsigned char **data, size_t *len,
    char *err, size_t errlen)
{
	uint32_t plen;

	if (c->outlen > 0 && mp_flush(c, err, errlen) == -1)
		return -1;
	if (fill(c, 4, err, errlen) == -1)
		return -1;
	plen = get32(c->in + c->inoff);
	if (plen == 0 || plen > MP_MAX_PACKET) {
		snprintf(err, errlen, "bad packet length %u", plen);
		return -1;
	}
	if (fill(c, 4 + (size_t) plen, err, errlen) == -1)
		return -1;
	*cmd = c->in[c->inoff + 4];
	*data = c->in + c->inoff + 5;
	*len = plen - 1;
	c->inoff += 4 + (size_t) plen;
	return 0;
}

/* symlist_parse - split "a {b} c" into names */
static int
symlist_parse(struct mp_symlist *l, const char *s, size_t len)
{
	size_t i, n = 0;

	if ((l->buf = malloc(len + 1)) == NULL)
		return -1;
	memcpy(l->buf, s, len);
	l->buf[len] = '\0';
	for (i = 0; i < len; i++)
		if (l->buf[i] == ' ' || l->buf[i] == ',')
			l->buf[i] = '\0';
	for (i = 0; i < len; i++)
		if (l->buf[i] != '\0' && (i == 0 || l->buf[i - 1] == '\0'))
			n++;
	if ((l->names = calloc(n + 1, sizeof(*l->names))) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		if (l->buf[i] != '\0' && (i == 0 || l->buf[i - 1] == '\0'))
			l->names[l->n++] = l->buf + i;
	return 0;
}

/* mp_negotiate - send SMFIC_OPTNEG and read the filter's answer */
int
mp_negotiate(struct mp_conn *c, uint32_t version, uint32_t actions,
    uint32_t protocol, char *err, size_t errlen)
{
	unsigned char        opt[MILTER_OPTLEN];
	const unsigned char *d, *end, *nul;
	size_t               len;
	uint32_t             stage;
	int                  cmd;

	put32(opt, version);
	put32(opt + 4, actions);
	put32(opt + 8, protocol);
	if (mp_put(c, SMFIC_OPTNEG, opt, sizeof(opt)) == -1 ||
	    mp_read(c, &cmd, &d, &len, err, errlen) == -1)
		return -1;
	if (cmd != SMFIC_OPTNEG || len < MILTER_OPTLEN) {
		snprintf(err, errlen, "option negotiation: reply '%c' len %zu",
		    cmd, len);
		return -1;
	}
	c->version = get32(d);
	c->actions = get32(d + 4);
	c->pflags = get32(d + 8);
	if ((c->pflags & ~protocol & SMFI_CURR_PROT) != 0) {
		snprintf(err, errlen,
		    "filter asks for protocol flags 0x%x "
		    "not offered",
		    c->pflags & ~protocol);
		return -1;
	}
	end = d + len;
	d += MILTER_OPTLEN;
	while (end - d >= 5) {
		stage = get32(d);
		d += 4;
		if ((nul = memchr(d, '\0', (size_t) (end - d))) == NULL) {
			snprintf(err, errlen, "macro list not terminated");
			return -1;
		}
		if (stage < MP_NSTAGES && !c->has_symlist[stage]) {
			if (symlist_parse(&c->symlist[stage], (const char *) d,
				(size_t) (nul - d)) == -1) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			c->has_symlist[stage] = 1;
		}
		d = nul + 1;
	}
	return 0;
}

/* mp_wants - 1 when the filter did not ask to skip the step "no_flag" */
int
mp_wants(const struct mp_conn *c, uint32_t no_flag)
{
	return (c->pflags & no_flag) == 0;
}
