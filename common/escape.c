/*
 * escape.c - make hostile strings safe for logs, terminals and the
 * control protocol
 *
 * Every byte outside 0x21..0x7e, and the bytes that carry meaning in a
 * key=value line ('%', '"', '\\', '='), becomes "%XX" with upper-case hex.
 * The output is truncated like snprintf, but never in the middle of an
 * escape, so a truncated value still decodes.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_escape.c
 */
#include "config.h"

#include <limits.h>
#include <stddef.h>

#include "escape.h"

static const char hexdigits[] = "0123456789ABCDEF";

/*
 * 1 for the bytes not written as themselves: outside 0x21..0x7e, and
 * % " \\ = (a table: every logged value of every message passes here)
 */
static const unsigned char escaped[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* must_escape - 1 when byte c is not written as itself */
static int
must_escape(unsigned char c)
{
	return escaped[c];
}

/* hexval - value of hex digit c, or -1 */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * escape_value - escaped src into dst (always NUL-terminated when len > 0)
 *
 * Returns the length the full result needs; a value >= len means the
 * output was cut before the first piece that did not fit.  A NULL src is
 * treated as "".
 */
size_t
escape_value(char *dst, size_t len, const char *src)
{
	const unsigned char *p;
	size_t               need = 0, pos = 0;
	int                  full = 0;

	if (src == NULL)
		src = "";
	for (p = (const unsigned char *) src; *p != '\0'; p++) {
		size_t k = must_escape(*p) ? 3 : 1;

		need += k;
		if (full || pos + k >= len) {
			full = 1; /* keep the output a prefix: no later piece */
			continue;
		}
		if (k == 1) {
			dst[pos++] = (char) *p;
		} else {
			dst[pos++] = '%';
			dst[pos++] = hexdigits[*p >> 4];
			dst[pos++] = hexdigits[*p & 0x0f];
		}
	}
	if (len > 0)
		dst[pos] = '\0';
	return need;
}

/*
 * unescape_value - decode %XX sequences of src into dst
 *
 * Bytes other than '%' are copied as they are.  Returns the decoded
 * length, or -1 (dst then holds "" when len > 0) when src has a malformed
 * escape, decodes to a NUL byte, or the result and its NUL do not fit.
 */
int
unescape_value(char *dst, size_t len, const char *src)
{
	const unsigned char *p;
	size_t               pos = 0;
	int                  hi, lo;
	unsigned char        c;

	if (src == NULL || len == 0)
		goto fail;
	for (p = (const unsigned char *) src; *p != '\0'; p++) {
		c = *p;
		if (c == '%') {
			if ((hi = hexval(p[1])) == -1 ||
			    (lo = hexval(p[2])) == -1)
				goto fail;
			c = (unsigned char) (hi << 4 | lo);
			if (c == '\0')
				goto fail;
			p += 2;
		}
		if (pos + 1 >= len || pos >= INT_MAX)
			goto fail;
		dst[pos++] = (char) c;
	}
	dst[pos] = '\0';
	return (int) pos;
fail:
	if (len > 0)
		dst[0] = '\0';
	return -1;
}
