/*
 * hostile_milter.c - a peer that speaks saslguard's protocols badly on purpose
 *
 * Used by tests/integration_faults.sh.  One run plays one scenario against
 * the milter socket (as a broken or malicious MTA) or the control socket
 * (as a broken or malicious saslguardctl), prints one line
 * "SCENARIO: what the peer observed" and exits 0 when the daemon answered
 * the way it must (the connection closed, a reply, a quarantine), 1 when
 * it did not, 2 on a usage error.  Whether the daemon survived is for the
 * calling script to check (process and log).
 *
 * Milter scenarios (SOCKET is "unix:/path" or "inet:port@host"):
 *   short-header   2 bytes of a length field, then end of input
 *   zero-length    a packet whose length field is 0 (libmilter drops
 *                  the peer once milter_timeout has passed)
 *   short-data     a length field of 100 with 10 bytes, then end of input
 *   huge-length    a length field of 1 GB with a few bytes behind it
 *   big-macro      a 1 MB macro packet
 *   long-values    64 kB-class login, sender, recipient and queue ID
 *   nul-bytes      NUL bytes inside macro values and addresses, and a
 *                  macro packet that ends inside a string
 *   unknown-cmd    unknown command bytes and commands out of order
 *   rcpts N USER   one transaction of USER with N recipients
 *   good USER      one ordinary transaction of USER with one recipient
 *   stall SECONDS  half a length field, then silence: is it dropped?
 * Control scenarios (SOCKET is a path):
 *   ctl-binary         binary garbage, then "stats" on the same connection
 *   ctl-long           a 1 MB line, then "stats"
 *   ctl-flood N        N pipelined "stats" requests on one connection
 *   ctl-conns N        N connections, one "stats" each
 *   ctl-stall SECONDS  connect, read the greeting, send nothing
 *   ctl-half SECONDS   send half a request line, then nothing
 *
 * Thread safety: single-threaded.
 * Tests: this is test code, run by tests/integration_faults.sh and
 * tests/valgrind_daemon.sh.
 */
#include "milterproto.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define TIMEOUT_MS 10000 /* per read or write on the milter socket */
#define CLOSE_WAIT 5000  /* ms the daemon has to drop a broken peer */
#define SLOW_WAIT  15000 /* the same when it waits for milter_timeout */
#define BIG        (1024 * 1024)
#define LONG_VALUE 60000 /* below libmilter's 64 kB packet limit */

/* a growing packet or line buffer */
struct buf {
	unsigned char *p;
	size_t         len, cap;
};

static const char *scenario;

/* say - print the observation line */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", scenario);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* buf_add - append n bytes (which may hold NULs); exits on ENOMEM */
static void
buf_add(struct buf *b, const void *d, size_t n)
{
	unsigned char *np;
	size_t         ncap;

	if (b->len + n > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			perror("realloc");
			exit(1);
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* buf_str - append s and its terminating NUL */
static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s) + 1);
}

/* buf_fill - append n copies of byte c */
static void
buf_fill(struct buf *b, int c, size_t n)
{
	unsigned char chunk[4096];
	size_t        k;

	memset(chunk, c, sizeof(chunk));
	while (n > 0) {
		k = n < sizeof(chunk) ? n : sizeof(chunk);
		buf_add(b, chunk, k);
		n -= k;
	}
}

/* put32 - a big-endian 32-bit word into p */
static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

/* write_all - write n bytes; -1 when the peer is gone or times out */
static int
write_all(int fd, const void *d, size_t n)
{
	const unsigned char *p = d;
	ssize_t              r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t) r;
	}
	return 0;
}

/* now_ms - the monotonic clock in milliseconds */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * wait_closed - discard input until the peer closes fd or ms pass;
 * 1 closed, 0 still open
 */
static int
wait_closed(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char          junk[4096];
	long long     end = now_ms() + ms;
	ssize_t       r;

	for (;;) {
		long long left = end - now_ms();

		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int) left) <= 0)
			continue;
		r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
}

/* milter_open - connect to the filter and negotiate as Postfix does */
static int
milter_open(struct mp_conn *c, const char *spec)
{
	struct mp_addr a;
	char           err[256];

	mp_init(c, TIMEOUT_MS);
	if (mp_parse_addr(spec, &a, err, sizeof(err)) == -1 ||
	    mp_connect(c, &a, err, sizeof(err)) == -1 ||
	    mp_negotiate(
		c, 6, SMFI_CURR_ACTS, SMFI_CURR_PROT, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", scenario, err);
		mp_close(c);
		return -1;
	}
	return 0;
}

/* milter_raw - connect without negotiating */
static int
milter_raw(struct mp_conn *c, const char *spec)
{
	struct mp_addr a;
	char           err[256];

	mp_init(c, TIMEOUT_MS);
	if (mp_parse_addr(spec, &a, err, sizeof(err)) == -1 ||
	    mp_connect(c, &a, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", scenario, err);
		return -1;
	}
	return 0;
}

/* put_buf - queue one command whose data is b */
static int
put_buf(struct mp_conn *c, int cmd, const struct buf *b)
{
	return mp_put(c, cmd, b->p, b->len);
}

/* macro_start - a macro packet for the stage of command cmd */
static void
macro_start(struct buf *b, int cmd)
{
	unsigned char ch = (unsigned char) cmd;

	b->len = 0;
	buf_add(b, &ch, 1);
}

/* put_connect - the connect macros and SMFIC_CONNECT from 203.0.113.9 */
static int
put_connect(struct mp_conn *c)
{
	struct buf    b = { 0 };
	unsigned char fam_port[3] = { SMFIA_INET, 0x30, 0x39 };
	int           rc;

	macro_start(&b, SMFIC_CONNECT);
	buf_str(&b, "j");
	buf_str(&b, "mx.example.test");
	rc = put_buf(c, SMFIC_MACRO, &b);
	b.len = 0;
	buf_str(&b, "client.test");
	buf_add(&b, fam_port, sizeof(fam_port));
	buf_str(&b, "203.0.113.9");
	if (rc == 0)
		rc = put_buf(c, SMFIC_CONNECT, &b);
	if (rc == 0 && mp_wants(c, SMFIP_NOHELO))
		rc = mp_put(c, SMFIC_HELO, "client.test", 12);
	free(b.p);
	return rc;
}

/* is_final - does reply cmd end a protocol step? */
static int
is_final(int cmd)
{
	return strchr("acdrty4", cmd) != NULL;
}

/* reply_name - a word for a final reply */
static const char *
reply_name(int cmd)
{
	switch (cmd) {
	case SMFIR_ACCEPT:
		return "accept";
	case SMFIR_CONTINUE:
		return "continue";
	case SMFIR_DISCARD:
		return "discard";
	case SMFIR_REJECT:
		return "reject";
	case SMFIR_TEMPFAIL:
		return "tempfail";
	case SMFIR_REPLYCODE:
		return "replycode";
	case SMFIR_SHUTDOWN:
		return "shutdown";
	default:
		return "other";
	}
}

/*
 * await - read replies up to a final one; its command, or -1 when the
 * connection failed; *quarantined is set on SMFIR_QUARANTINE
 */
static int
await(struct mp_conn *c, int *quarantined)
{
	const unsigned char *d;
	size_t               len;
	char                 err[256];
	int                  cmd;

	for (;;) {
		if (mp_read(c, &cmd, &d, &len, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: %s\n", scenario, err);
			return -1;
		}
		if (cmd == SMFIR_QUARANTINE && quarantined != NULL)
			*quarantined = 1;
		if (is_final(cmd))
			return cmd;
	}
}

/* step - queue cmd with data b; await a reply unless it is not sent */
static int
step(struct mp_conn *c, int cmd, const struct buf *b, uint32_t noreply)
{
	if (put_buf(c, cmd, b) == -1)
		return -1;
	if (noreply != 0 && (c->pflags & noreply) != 0)
		return SMFIR_CONTINUE;
	return await(c, NULL);
}

/*
 * transaction - one message: login (a macro value, maybe with NULs),
 * sender and recipients as raw strings, n recipients, queue ID; prints
 * the outcome; 0 when the filter answered the end of message
 */
static int
transaction(struct mp_conn *c, const struct buf *login, const struct buf *from,
    const struct buf *rcpt, unsigned long n, const struct buf *qid)
{
	struct buf    b = { 0 };
	unsigned long i;
	int           r, q = 0;

	if (put_connect(c) == -1)
		goto fail;
	if (!(c->pflags & SMFIP_NR_CONN) && await(c, NULL) == -1)
		goto fail;
	if (mp_wants(c, SMFIP_NOHELO) && !(c->pflags & SMFIP_NR_HELO) &&
	    await(c, NULL) == -1)
		goto fail;
	macro_start(&b, SMFIC_MAIL);
	buf_str(&b, "{auth_type}");
	buf_str(&b, "LOGIN");
	buf_str(&b, "{auth_authen}");
	buf_add(&b, login->p, login->len);
	if (put_buf(c, SMFIC_MACRO, &b) == -1)
		goto fail;
	r = step(c, SMFIC_MAIL, from, SMFIP_NR_MAIL);
	if (r == -1)
		goto fail;
	if (r != SMFIR_CONTINUE) {
		say("%s at MAIL", reply_name(r));
		free(b.p);
		return 0;
	}
	for (i = 0; i < n; i++) {
		r = step(c, SMFIC_RCPT, rcpt, SMFIP_NR_RCPT);
		if (r == -1)
			goto fail;
	}
	macro_start(&b, SMFIC_BODYEOB);
	buf_str(&b, "i");
	buf_add(&b, qid->p, qid->len);
	if (put_buf(c, SMFIC_MACRO, &b) == -1 ||
	    mp_put(c, SMFIC_BODYEOB, NULL, 0) == -1 || (r = await(c, &q)) == -1)
		goto fail;
	say("%s", q ? "quarantine" : reply_name(r));
	(void) mp_put(c, SMFIC_ABORT, NULL, 0);
	(void) mp_put(c, SMFIC_QUIT, NULL, 0);
	(void) mp_flush(c, NULL, 0);
	free(b.p);
	return 0;
fail:
	say("%s", "connection failed before the end of message");
	free(b.p);
	return 1;
}

/* plain_transaction - user sends one message with n recipients */
static int
plain_transaction(const char *spec, const char *user, unsigned long n)
{
	struct mp_conn c;
	struct buf     login = { 0 }, from = { 0 }, rcpt = { 0 }, qid = { 0 };
	char           qbuf[32];
	int            rc;

	if (milter_open(&c, spec) == -1)
		return 1;
	buf_str(&login, user);
	buf_add(&from, "<", 1);
	buf_add(&from, user, strlen(user));
	buf_str(&from, ">");
	buf_str(&rcpt, "<someone@ext.test>");
	snprintf(qbuf, sizeof(qbuf), "4F%010llX",
	    (unsigned long long) now_ms() & 0xffffffffffULL);
	buf_str(&qid, qbuf);
	rc = transaction(&c, &login, &from, &rcpt, n, &qid);
	mp_close(&c);
	free(login.p);
	free(from.p);
	free(rcpt.p);
	free(qid.p);
	return rc;
}

/* expect_closed - did the daemon drop c within ms? print it; 0 when so */
static int
expect_closed(struct mp_conn *c, int shut, int ms)
{
	long long t0 = now_ms();
	int       closed;

	if (shut)
		(void) shutdown(c->fd, SHUT_WR);
	closed = wait_closed(c->fd, ms);
	say("%s after %lld ms", closed ? "closed by the daemon" : "still open",
	    now_ms() - t0);
	mp_close(c);
	return closed ? 0 : 1;
}

/* send_header - a length field len and command cmd, nothing more */
static int
send_header(struct mp_conn *c, uint32_t len, int cmd)
{
	unsigned char h[5];

	put32(h, len);
	h[4] = (unsigned char) cmd;
	return write_all(c->fd, h, sizeof(h));
}

/* sc_short_header - 2 bytes of a length field, then end of input */
static int
sc_short_header(const char *spec)
{
	struct mp_conn c;

	if (milter_raw(&c, spec) == -1)
		return 1;
	if (write_all(c.fd, "\0\0", 2) == -1) {
		mp_close(&c);
		return 1;
	}
	return expect_closed(&c, 1, CLOSE_WAIT);
}

/* sc_zero_length - a zero length field after negotiation */
static int
sc_zero_length(const char *spec)
{
	struct mp_conn c;

	if (milter_open(&c, spec) == -1)
		return 1;
	if (write_all(c.fd, "\0\0\0\0", 4) == -1) {
		say("%s", "closed by the daemon while writing");
		mp_close(&c);
		return 0;
	}
	return expect_closed(&c, 0, SLOW_WAIT);
}

/* sc_short_data - a length field of 100 with 10 bytes behind it */
static int
sc_short_data(const char *spec)
{
	struct mp_conn c;

	if (milter_open(&c, spec) == -1)
		return 1;
	if (send_header(&c, 100, SMFIC_MAIL) == -1 ||
	    write_all(c.fd, "<a@b.test>", 10) == -1) {
		mp_close(&c);
		return 1;
	}
	return expect_closed(&c, 1, CLOSE_WAIT);
}

/* sc_huge_length - a 1 GB length field; the daemon must not wait for it */
static int
sc_huge_length(const char *spec)
{
	struct mp_conn c;
	unsigned char  junk[1000];

	if (milter_open(&c, spec) == -1)
		return 1;
	memset(junk, 'x', sizeof(junk));
	if (send_header(&c, 1U << 30, SMFIC_MACRO) == -1 ||
	    write_all(c.fd, junk, sizeof(junk)) == -1) {
		say("%s", "closed by the daemon while writing");
		mp_close(&c);
		return 0;
	}
	/* the connection stays open on our side: the daemon must act */
	return expect_closed(&c, 0, CLOSE_WAIT);
}

/* sc_big_macro - a 1 MB macro packet, beyond libmilter's limit */
static int
sc_big_macro(const char *spec)
{
	struct mp_conn c;
	struct buf     b = { 0 };
	int            rc;

	if (milter_open(&c, spec) == -1)
		return 1;
	macro_start(&b, SMFIC_MAIL);
	buf_str(&b, "{auth_authen}");
	buf_fill(&b, 'a', BIG);
	buf_add(&b, "", 1);
	if (put_buf(&c, SMFIC_MACRO, &b) == -1 || mp_flush(&c, NULL, 0) == -1) {
		say("%s", "closed by the daemon while writing");
		free(b.p);
		mp_close(&c);
		return 0;
	}
	free(b.p);
	rc = expect_closed(&c, 0, CLOSE_WAIT);
	return rc;
}

/* sc_long_values - 60 kB login, sender, recipient and queue ID */
static int
sc_long_values(const char *spec)
{
	struct mp_conn c;
	struct buf     login = { 0 }, from = { 0 }, rcpt = { 0 }, qid = { 0 };
	int            rc;

	if (milter_open(&c, spec) == -1)
		return 1;
	buf_fill(&login, 'l', LONG_VALUE);
	buf_str(&login, "@example.test");
	buf_add(&from, "<", 1);
	buf_fill(&from, 's', LONG_VALUE);
	buf_str(&from, "@example.test>");
	buf_add(&rcpt, "<", 1);
	buf_fill(&rcpt, 'r', LONG_VALUE);
	buf_str(&rcpt, "@ext.test>");
	buf_fill(&qid, 'Q', LONG_VALUE);
	buf_add(&qid, "", 1);
	rc = transaction(&c, &login, &from, &rcpt, 3, &qid);
	mp_close(&c);
	free(login.p);
	free(from.p);
	free(rcpt.p);
	free(qid.p);
	return rc;
}

/* sc_nul_bytes - NUL bytes inside values; strings cut off by the packet end */
static int
sc_nul_bytes(const char *spec)
{
	static const char login_v[] = "nul\0user@example.test";
	static const char from_v[] = "<nul\0user@example.test>\0SIZE=1\0";
	static const char rcpt_v[] = "<r\0cpt@ext.test>";
	static const char qid_v[] = "4F\0QUEUEID";
	struct mp_conn    c;
	struct buf login = { 0 }, from = { 0 }, rcpt = { 0 }, qid = { 0 };
	struct buf b = { 0 };
	int        rc;

	if (milter_open(&c, spec) == -1)
		return 1;
	buf_add(&login, login_v, sizeof(login_v));
	buf_add(&from, from_v, sizeof(from_v));
	buf_add(&rcpt, rcpt_v, sizeof(rcpt_v));
	buf_add(&qid, qid_v, sizeof(qid_v));
	rc = transaction(&c, &login, &from, &rcpt, 2, &qid);
	mp_close(&c);

	/* a macro packet and a MAIL that end inside a string */
	if (rc == 0 && milter_open(&c, spec) == 0) {
		if (put_connect(&c) == 0) {
			macro_start(&b, SMFIC_MAIL);
			buf_str(&b, "{auth_authen}");
			buf_add(&b, "unterminated", 12);
			(void) put_buf(&c, SMFIC_MACRO, &b);
			(void) mp_put(&c, SMFIC_MAIL, "<open", 5);
			(void) mp_flush(&c, NULL, 0);
		}
		(void) wait_closed(c.fd, 1000);
		mp_close(&c);
	}
	free(login.p);
	free(from.p);
	free(rcpt.p);
	free(qid.p);
	free(b.p);
	return rc;
}

/* sc_unknown_cmd - unknown command bytes, then commands out of order */
static int
sc_unknown_cmd(const char *spec)
{
	static const unsigned char cmds[] = { 'Z', 0xff, 0x00, '~' };
	struct mp_conn             c;
	size_t                     i;
	int                        closed;

	for (i = 0; i < sizeof(cmds); i++) {
		if (milter_open(&c, spec) == -1)
			return 1;
		(void) mp_put(&c, cmds[i], "junk", 4);
		(void) mp_flush(&c, NULL, 0);
		closed = wait_closed(c.fd, CLOSE_WAIT);
		mp_close(&c);
		say("command 0x%02x: %s", cmds[i],
		    closed ? "closed" : "ignored");
	}
	/* out of order: RCPT and end of message before MAIL */
	if (milter_open(&c, spec) == -1)
		return 1;
	(void) put_connect(&c);
	(void) mp_put(&c, SMFIC_RCPT, "<x@ext.test>", 13);
	(void) mp_put(&c, SMFIC_BODYEOB, NULL, 0);
	(void) mp_flush(&c, NULL, 0);
	(void) wait_closed(c.fd, 1000);
	mp_close(&c);
	say("%s", "out-of-order commands sent");
	return 0;
}

/* sc_stall - half a length field, then silence until dropped */
static int
sc_stall(const char *spec, int seconds)
{
	struct mp_conn c;
	long long      t0;

	if (milter_open(&c, spec) == -1)
		return 1;
	t0 = now_ms();
	if (write_all(c.fd, "\0\0", 2) == -1) {
		mp_close(&c);
		return 1;
	}
	if (wait_closed(c.fd, seconds * 1000)) {
		say("dropped by the daemon after %.1f s",
		    (double) (now_ms() - t0) / 1000);
		mp_close(&c);
		return 0;
	}
	say("still open after %d s", seconds);
	mp_close(&c);
	return 1;
}

/* ctl_open - connect to the control socket and read the greeting */
static int
ctl_open(const char *path)
{
	struct sockaddr_un un;
	struct timeval     tv = { 10, 0 };
	char               line[256];
	ssize_t            n;
	int                fd;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	if (snprintf(un.sun_path, sizeof(un.sun_path), "%s", path) >=
	    (int) sizeof(un.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *) &un, sizeof(un)) == -1) {
		perror(path);
		close(fd);
		return -1;
	}
	/* the greeting is one short line; a peek finds its end */
	n = recv(fd, line, sizeof(line) - 1, MSG_PEEK);
	if (n > 0) {
		char *nl = memchr(line, '\n', (size_t) n);

		if (nl != NULL)
			(void) recv(fd, line, (size_t) (nl - line) + 1, 0);
	}
	return fd;
}

/*
 * ctl_count - read reply lines until want "ok ... uptime=" lines or EOF;
 * the number seen, and in *errs the number of "err" lines
 */
static unsigned long
ctl_count(int fd, unsigned long want, unsigned long *errs)
{
	struct buf    b = { 0 };
	char          chunk[65536];
	unsigned long got = 0;
	size_t        start = 0, i;
	ssize_t       n;

	*errs = 0;
	while (got < want) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		buf_add(&b, chunk, (size_t) n);
		for (i = start; i < b.len; i++) {
			if (b.p[i] != '\n')
				continue;
			if (i - start >= 3 &&
			    memcmp(b.p + start, "ok ", 3) == 0)
				got++;
			else if (i - start >= 4 &&
				 memcmp(b.p + start, "err ", 4) == 0)
				(*errs)++;
			start = i + 1;
		}
	}
	free(b.p);
	return got;
}

/* sc_ctl_binary - binary garbage, then "stats" on the same connection */
static int
sc_ctl_binary(const char *path)
{
	unsigned char g[8192];
	unsigned long errs, ok;
	size_t        i;
	int           fd;

	if ((fd = ctl_open(path)) == -1)
		return 1;
	srand(7);
	for (i = 0; i < sizeof(g); i++)
		g[i] = (unsigned char) rand();
	if (write_all(fd, g, sizeof(g)) == -1 ||
	    write_all(fd, "\n\0\xff\r\nstats\n", 11) == -1) {
		close(fd);
		say("%s", "dropped while writing garbage");
		return 1;
	}
	ok = ctl_count(fd, 1, &errs);
	close(fd);
	say("%lu error replies, stats %s", errs,
	    ok == 1 ? "answered" : "not answered");
	return ok == 1 && errs > 0 ? 0 : 1;
}

/* sc_ctl_long - a 1 MB request line, then "stats" */
static int
sc_ctl_long(const char *path)
{
	struct buf    b = { 0 };
	unsigned long errs, ok;
	int           fd;

	if ((fd = ctl_open(path)) == -1)
		return 1;
	buf_fill(&b, 'x', BIG);
	buf_add(&b, "\nstats\n", 7);
	if (write_all(fd, b.p, b.len) == -1) {
		free(b.p);
		close(fd);
		say("%s", "dropped while writing");
		return 1;
	}
	free(b.p);
	ok = ctl_count(fd, 1, &errs);
	close(fd);
	say("%lu error replies, stats %s", errs,
	    ok == 1 ? "answered" : "not answered");
	return ok == 1 && errs == 1 ? 0 : 1;
}

/* sc_ctl_flood - n pipelined "stats" requests on one connection */
static int
sc_ctl_flood(const char *path, unsigned long n)
{
	struct pollfd p;
	struct buf    out = { 0 };
	char          in[65536];
	unsigned long got = 0, errs = 0, i;
	size_t        off = 0;
	ssize_t       r;
	int           fd;

	if ((fd = ctl_open(path)) == -1)
		return 1;
	for (i = 0; i < n; i++)
		buf_add(&out, "stats\n", 6);
	/* write and read at once: both socket buffers fill up otherwise */
	p.fd = fd;
	while (got + errs < n) {
		p.events = POLLIN | (off < out.len ? POLLOUT : 0);
		if (poll(&p, 1, 10000) <= 0)
			break;
		if ((p.revents & POLLOUT) && off < out.len) {
			r = send(fd, out.p + off, out.len - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0)
				off += (size_t) r;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (r == 0 || (r == -1 && errno != EAGAIN))
				break;
			for (i = 0; r > 0 && i < (size_t) r; i++)
				if (in[i] == '\n')
					got++;
		}
	}
	close(fd);
	free(out.p);
	say("%lu of %lu requests answered", got, n);
	return got == n ? 0 : 1;
}

/* sc_ctl_conns - n connections in a row, one "stats" each */
static int
sc_ctl_conns(const char *path, unsigned long n)
{
	unsigned long i, ok = 0, errs;
	int           fd;

	for (i = 0; i < n; i++) {
		if ((fd = ctl_open(path)) == -1)
			continue;
		if (write_all(fd, "stats\n", 6) == 0)
			ok += ctl_count(fd, 1, &errs);
		close(fd);
	}
	say("%lu of %lu connections answered", ok, n);
	return ok == n ? 0 : 1;
}

/* sc_ctl_stall - connect (and send half a line) and stay silent */
static int
sc_ctl_stall(const char *path, int seconds, const char *half)
{
	int fd;

	if ((fd = ctl_open(path)) == -1)
		return 1;
	if (half != NULL && write_all(fd, half, strlen(half)) == -1) {
		close(fd);
		return 1;
	}
	if (wait_closed(fd, seconds * 1000)) {
		say("%s", "dropped by the daemon early");
		close(fd);
		return 1;
	}
	say("stalled for %d s", seconds);
	close(fd);
	return 0;
}

/* usage - print the scenarios and exit 2 */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: hostile_milter SOCKET SCENARIO [ARG...]\n"
	    "milter: short-header zero-length short-data huge-length "
	    "big-macro long-values\n"
	    "        nul-bytes unknown-cmd 'rcpts N USER' 'good USER' "
	    "'stall SECONDS'\n"
	    "control: ctl-binary ctl-long 'ctl-flood N' 'ctl-conns N' "
	    "'ctl-stall SECONDS'\n"
	    "         'ctl-half SECONDS'\n");
	exit(2);
}

/* arg_num - argv[i] as a positive number, or usage */
static unsigned long
arg_num(int argc, char **argv, int i)
{
	char         *end;
	unsigned long v;

	if (i >= argc)
		usage();
	v = strtoul(argv[i], &end, 10);
	if (*end != '\0' || v == 0 || v > 1000000)
		usage();
	return v;
}

/* main - run the scenario named by argv[2] against socket argv[1] */
int
main(int argc, char **argv)
{
	const char *s;

	if (argc < 3)
		usage();
	s = argv[1];
	scenario = argv[2];
	if (strcmp(scenario, "short-header") == 0)
		return sc_short_header(s);
	if (strcmp(scenario, "zero-length") == 0)
		return sc_zero_length(s);
	if (strcmp(scenario, "short-data") == 0)
		return sc_short_data(s);
	if (strcmp(scenario, "huge-length") == 0)
		return sc_huge_length(s);
	if (strcmp(scenario, "big-macro") == 0)
		return sc_big_macro(s);
	if (strcmp(scenario, "long-values") == 0)
		return sc_long_values(s);
	if (strcmp(scenario, "nul-bytes") == 0)
		return sc_nul_bytes(s);
	if (strcmp(scenario, "unknown-cmd") == 0)
		return sc_unknown_cmd(s);
	if (strcmp(scenario, "rcpts") == 0 && argc == 5)
		return plain_transaction(s, argv[4], arg_num(argc, argv, 3));
	if (strcmp(scenario, "good") == 0 && argc == 4)
		return plain_transaction(s, argv[3], 1);
	if (strcmp(scenario, "stall") == 0)
		return sc_stall(s, (int) arg_num(argc, argv, 3));
	if (strcmp(scenario, "ctl-binary") == 0)
		return sc_ctl_binary(s);
	if (strcmp(scenario, "ctl-long") == 0)
		return sc_ctl_long(s);
	if (strcmp(scenario, "ctl-flood") == 0)
		return sc_ctl_flood(s, arg_num(argc, argv, 3));
	if (strcmp(scenario, "ctl-conns") == 0)
		return sc_ctl_conns(s, arg_num(argc, argv, 3));
	if (strcmp(scenario, "ctl-stall") == 0)
		return sc_ctl_stall(s, (int) arg_num(argc, argv, 3), NULL);
	if (strcmp(scenario, "ctl-half") == 0)
		return sc_ctl_stall(s, (int) arg_num(argc, argv, 3), "sta");
	usage();
	return 2;
}
