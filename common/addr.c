/*
 * addr.c - envelope addresses: validation and canonical form
 *
 * One pass over the hostile input checks every byte (printable ASCII other
 * than space, or a well-formed UTF-8 sequence: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and writes the lower-cased copy.
 * Only ASCII letters are lower-cased; UTF-8 is kept as it came.  The tag
 * is cut afterwards, inside the local part (before the last '@').
 *
 * Thread safety: pure functions.
 * Tests: tests/test_addr.c
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "addr.h"

/* utf8_len - length of the well-formed UTF-8 sequence at p, or 0 */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t        n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	/* the second byte has the narrowed range, the others 80..bf */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * addr_canon - canonical form of in into out (outlen >= ADDR_MAX + 1)
 *
 * Accepts "<addr>" or a bare "addr"; "<>" and "" are the null sender and
 * give "".  Refuses unbalanced or inner angle brackets, spaces, control
 * characters, bytes outside well-formed UTF-8, more than ADDR_MAX bytes
 * inside the brackets, and a result that does not fit outlen.
 */
int
addr_canon(const char *in, const char *delims, char *out, size_t outlen)
{
	const unsigned char *p;
	size_t               len, i, k, at, cut;

	if (in == NULL || out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	len = strnlen(in, ADDR_MAX + 3);
	if (len > 0 && in[0] == '<') {
		if (len < 2 || in[len - 1] != '>')
			return -1;
		in++;
		len -= 2;
	} else if (len > 0 && in[len - 1] == '>') {
		return -1;
	}
	if (len > ADDR_MAX || len >= outlen)
		return -1;

	p = (const unsigned char *) in;
	at = len; /* the last '@', or len when there is none */
	for (i = 0; i < len;) {
		if (p[i] >= 0x80) {
			if ((k = utf8_len(p + i)) == 0 || i + k > len)
				return -1;
			memcpy(out + i, p + i, k);
			i += k;
			continue;
		}
		if (p[i] <= 0x20 || p[i] == 0x7f || p[i] == '<' || p[i] == '>')
			return -1;
		if (p[i] == '@')
			at = i;
		out[i] = (char) (p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
		i++;
	}
	out[len] = '\0';

	/* a tag starts at a delimiter after the first byte of the local part */
	if (delims != NULL && *delims != '\0' && at > 1) {
		for (cut = 1; cut < at; cut++)
			if (strchr(delims, out[cut]) != NULL)
				break;
		if (cut < at)
			memmove(out + cut, out + at, len - at + 1);
	}
	return 0;
}

/* addr_domain - the part after the last '@' of a canonical address, or NULL */
const char *
addr_domain(const char *canon)
{
	const char *at;

	if (canon == NULL || (at = strrchr(canon, '@')) == NULL)
		return NULL;
	return at + 1;
}

/*
 * addr_sender_belongs - 1 when canonical sender belongs to canonical login
 *
 * The null sender "" belongs to nobody, and empty allowed[] entries match
 * nothing.  Comparisons are exact: both sides are canonical already.
 */
int
addr_sender_belongs(const char *sender, const char *login, char *const *allowed,
    size_t nallowed)
{
	const char *at, *dom;
	size_t      i;

	if (sender == NULL || login == NULL || *sender == '\0')
		return 0;
	if (strcmp(sender, login) == 0)
		return 1;
	at = strrchr(sender, '@');
	if (*login != '\0' && strchr(login, '@') == NULL && at != NULL &&
	    (size_t) (at - sender) == strlen(login) &&
	    strncmp(sender, login, (size_t) (at - sender)) == 0)
		return 1;
	dom = at != NULL ? at + 1 : NULL;
	for (i = 0; allowed != NULL && i < nallowed; i++) {
		const char *a = allowed[i];

		if (a == NULL || *a == '\0')
			continue;
		if (a[0] == '@') {
			if (dom != NULL && a[1] != '\0' &&
			    strcmp(dom, a + 1) == 0)
				return 1;
		} else if (strcmp(sender, a) == 0) {
			return 1;
		}
	}
	return 0;
}

/*
 * addr_valid_user - 1 when s is acceptable as an account name on the
 * control socket: 1..ADDR_MAX printable, non-space ASCII or UTF-8 bytes
 */
int
addr_valid_user(const char *s)
{
	const unsigned char *p;
	size_t               len, i, k;

	if (s == NULL)
		return 0;
	len = strnlen(s, ADDR_MAX + 1);
	if (len == 0 || len > ADDR_MAX)
		return 0;
	p = (const unsigned char *) s;
	for (i = 0; i < len;) {
		if (p[i] >= 0x80) {
			if ((k = utf8_len(p + i)) == 0)
				return 0;
			i += k;
		} else if (p[i] <= 0x20 || p[i] == 0x7f) {
			return 0;
		} else {
			i++;
		}
	}
	return 1;
}
