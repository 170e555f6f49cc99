/*
 * queueid.c - Postfix queue IDs: validation, and argv and standard input
 * for postsuper and postqueue
 *
 * Why so strict: a queue ID is a file name inside Postfix's queue
 * directories and an argument of a root-run tool.  Checking the exact
 * shape Postfix produces (queueid.h) keeps '/', "..", options and
 * whitespace out by construction, not by a list of bad characters.
 * Digits are decoded with overflow checks, so an ID that only looks right
 * (microseconds >= 1000000, an inode past 64 bits) fails too.
 *
 * Thread safety: pure functions; queueid_write_list() writes to the
 * caller's file descriptor only.
 * Tests: tests/test_queueid.c
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "queueid.h"

/* postconf(5): digits, then consonants upper- and lower-case */
static const char safe_alphabet[] =
    "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

#define SAFE_BASE   52
#define INUM_BASE   51 /* safe_alphabet without its last letter 'z' */
#define USEC_LIMIT  1000000
#define SH_USEC_LEN 5
#define SH_MIN      6
#define SH_MAX      21 /* 5 + 16 hex digits of a 64-bit inode */
#define LG_USEC_LEN 4
#define LG_SEC_MIN  6
#define LG_SEC_MAX  12 /* 52^12 > 2^64 */
#define LG_INUM_MAX 12 /* 51^12 > 2^64 */
#define WRITE_CHUNK 4096

/* safe_value - the digit value of c in the safe alphabet, or -1 */
static int
safe_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(safe_alphabet, c)) == NULL)
		return -1;
	return (int) (p - safe_alphabet);
}

/* hex_value - the value of upper-case hex digit c, or -1 */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * decode - n digits at s in base (16: upper-case hex, else safe alphabet)
 *
 * Returns 0 and the value, or -1 for a bad digit or a value past 64 bits.
 */
static int
decode(const char *s, size_t n, unsigned base, uint64_t *val)
{
	uint64_t v = 0;
	size_t   i;
	int      d;

	for (i = 0; i < n; i++) {
		d = base == 16 ? hex_value(s[i]) : safe_value(s[i]);
		if (d < 0 || (unsigned) d >= base)
			return -1;
		if (v > (UINT64_MAX - (unsigned) d) / base)
			return -1;
		v = v * base + (unsigned) d;
	}
	*val = v;
	return 0;
}

/* long_parts - check a long ID; store its seconds */
static int
long_parts(const char *s, size_t len, uint64_t *sec)
{
	uint64_t usec, inum;
	size_t   z, tlen;

	for (z = len; z > 0 && s[z - 1] != 'z'; z--)
		;
	if (z == 0)
		return -1;
	tlen = z - 1; /* seconds and microseconds */
	if (tlen < LG_SEC_MIN + LG_USEC_LEN || tlen > LG_SEC_MAX + LG_USEC_LEN)
		return -1;
	if (len - z < 1 || len - z > LG_INUM_MAX)
		return -1;
	if (decode(s, tlen - LG_USEC_LEN, SAFE_BASE, sec) == -1 ||
	    decode(s + tlen - LG_USEC_LEN, LG_USEC_LEN, SAFE_BASE, &usec) ==
		-1 ||
	    usec >= USEC_LIMIT)
		return -1;
	if (decode(s + z, len - z, INUM_BASE, &inum) == -1)
		return -1;
	return 0;
}

/* short_ok - check a short ID */
static int
short_ok(const char *s, size_t len)
{
	uint64_t usec, inum;

	if (len < SH_MIN || len > SH_MAX)
		return 0;
	if (decode(s, SH_USEC_LEN, 16, &usec) == -1 || usec >= USEC_LIMIT)
		return 0;
	return decode(s + SH_USEC_LEN, len - SH_USEC_LEN, 16, &inum) == 0;
}

/* queueid_form - the form of the len bytes at s, or QUEUEID_INVALID */
enum queueid_form
queueid_form(const char *s, size_t len)
{
	uint64_t sec;

	if (s == NULL || len == 0 || len > QUEUEID_MAX)
		return QUEUEID_INVALID;
	if (memchr(s, 'z', len) != NULL)
		return long_parts(s, len, &sec) == 0 ? QUEUEID_LONG
						     : QUEUEID_INVALID;
	return short_ok(s, len) ? QUEUEID_SHORT : QUEUEID_INVALID;
}

/* queueid_valid - 1 when the string s is a valid queue ID, else 0 */
int
queueid_valid(const char *s)
{
	if (s == NULL)
		return 0;
	return queueid_form(s, strnlen(s, QUEUEID_MAX + 1)) != QUEUEID_INVALID;
}

/* queueid_long_time - the creation time encoded in a long queue ID */
int
queueid_long_time(const char *s, time_t *sec)
{
	uint64_t v;
	size_t   len;

	if (s == NULL || (len = strnlen(s, QUEUEID_MAX + 1)) > QUEUEID_MAX ||
	    queueid_form(s, len) != QUEUEID_LONG)
		return -1;
	if (long_parts(s, len, &v) == -1 || v > (uint64_t) INT64_MAX ||
	    (sizeof(time_t) < 8 && v > (uint64_t) INT32_MAX))
		return -1;
	*sec = (time_t) v;
	return 0;
}

/* queueid_list_format - "ID\nID\n..." into buf, for postsuper's stdin */
long
queueid_list_format(char *buf, size_t len, const char *const *ids, size_t n)
{
	size_t pos = 0, i, l;

	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (n > 0 && ids == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (!queueid_valid(ids[i]))
			goto fail;
		l = strlen(ids[i]);
		if (l + 1 >= len - pos)
			goto fail;
		memcpy(buf + pos, ids[i], l);
		pos += l;
		buf[pos++] = '\n';
	}
	if (pos > LONG_MAX)
		goto fail;
	buf[pos] = '\0';
	return (long) pos;
fail:
	buf[0] = '\0';
	return -1;
}

/* seterr - format a message into err when there is one */
static void
seterr(char *err, size_t errlen, const char *what, const char *detail)
{
	if (err != NULL && errlen > 0)
		(void) snprintf(err, errlen, "%s%s", what, detail);
}

/* queueid_write_list - write "ID\n" for each of n IDs to fd */
int
queueid_write_list(
    int fd, const char *const *ids, size_t n, char *err, size_t errlen)
{
	char   chunk[WRITE_CHUNK];
	size_t i, pos = 0, l;

	if (n > 0 && ids == NULL) {
		seterr(err, errlen, "no queue ID list", "");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!queueid_valid(ids[i])) {
			seterr(err, errlen, "invalid queue ID in list", "");
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		l = strlen(ids[i]);
		if (pos + l + 1 > sizeof(chunk)) {
			if (fd_write_all(fd, chunk, pos) == -1)
				goto fail;
			pos = 0;
		}
		memcpy(chunk + pos, ids[i], l);
		pos += l;
		chunk[pos++] = '\n';
	}
	if (pos > 0 && fd_write_all(fd, chunk, pos) == -1)
		goto fail;
	return 0;
fail:
	seterr(err, errlen, "write queue IDs: ", strerror(errno));
	return -1;
}

/* queue_ok - 1 when q names a queue postsuper may be restricted to */
static int
queue_ok(const char *q)
{
	return strcmp(q, "hold") == 0 || strcmp(q, "incoming") == 0 ||
	       strcmp(q, "active") == 0 || strcmp(q, "deferred") == 0;
}

/* queue_argv - the fixed argv for one queue operation */
int
queue_argv(enum queue_op op, const char *postsuper_path,
    const char *postqueue_path, const char *config_dir, const char *queue,
    const char **argv, size_t max)
{
	const char *prog, *flag;
	const char *v[QUEUE_ARGV_MAX];
	size_t      n = 0;

	switch (op) {
	case QUEUE_LIST:
		prog = postqueue_path;
		flag = "-j";
		break;
	case QUEUE_DELETE:
		prog = postsuper_path;
		flag = "-d";
		break;
	case QUEUE_RELEASE:
		prog = postsuper_path;
		flag = "-H";
		break;
	case QUEUE_REQUEUE:
		prog = postsuper_path;
		flag = "-r";
		break;
	case QUEUE_HOLD:
		prog = postsuper_path;
		flag = "-h";
		break;
	default:
		return -1;
	}
	if (argv == NULL || prog == NULL || prog[0] != '/')
		return -1;
	if (config_dir != NULL && config_dir[0] != '/')
		return -1;
	if (queue != NULL && (op == QUEUE_LIST || !queue_ok(queue)))
		return -1;
	v[n++] = prog;
	if (config_dir != NULL) {
		v[n++] = "-c";
		v[n++] = config_dir;
	}
	v[n++] = flag;
	if (op != QUEUE_LIST)
		v[n++] = "-"; /* queue IDs from standard input */
	if (queue != NULL)
		v[n++] = queue;
	v[n] = NULL;
	if (n + 1 > max)
		return -1;
	memcpy(argv, v, (n + 1) * sizeof(v[0]));
	return (int) n;
}

/* queueid_fuzz - fuzzing entry point: queueid_form() on data */
int
queueid_fuzz(const uint8_t *data, size_t size)
{
	return (int) queueid_form((const char *) data, size);
}
