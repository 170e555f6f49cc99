/*
 * pqjson.c - one line of "postqueue -j" output into a struct pq_msg
 *
 * A recursive-descent scanner over one buffer: it reads exactly the JSON
 * grammar of RFC 8259 (strings with every escape, numbers, literals,
 * arrays, objects) and decodes only what struct pq_msg keeps.  Values of
 * unknown members are checked and skipped.  Every read is bounds-checked
 * against the length given, so a line without a NUL, a NUL inside a line
 * or a line cut anywhere is an error, never a read past the end.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_pqjson.c
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pqjson.h"
#include "queueid.h"

#define KEY_MAX 32 /* longer member names are unknown ones */

struct scan {
	const unsigned char *p;      /* the line */
	size_t               len;    /* its length */
	size_t               pos;    /* next byte to read */
	char                *err;    /* caller's message buffer */
	size_t               errlen; /* its size */
};

/* Known members, one bit each, to refuse duplicates. */
enum {
	HAVE_QUEUE_NAME = 1 << 0,
	HAVE_QUEUE_ID = 1 << 1,
	HAVE_ARRIVAL = 1 << 2,
	HAVE_SIZE = 1 << 3,
	HAVE_EXPIRE = 1 << 4,
	HAVE_SENDER = 1 << 5,
	HAVE_RCPTS = 1 << 6
};
#define HAVE_REQUIRED                                                          \
	(HAVE_QUEUE_NAME | HAVE_QUEUE_ID | HAVE_ARRIVAL | HAVE_SENDER)

/* fail - record what went wrong at the current offset; returns -1 */
static int
fail(struct scan *s, const char *what)
{
	if (s->err != NULL && s->errlen > 0)
		(void) snprintf(
		    s->err, s->errlen, "offset %zu: %s", s->pos, what);
	return -1;
}

/* skip_ws - step over JSON whitespace */
static void
skip_ws(struct scan *s)
{
	while (s->pos < s->len &&
	       (s->p[s->pos] == ' ' || s->p[s->pos] == '\t' ||
		   s->p[s->pos] == '\n' || s->p[s->pos] == '\r'))
		s->pos++;
}

/* peek - the next byte after whitespace, or -1 at the end */
static int
peek(struct scan *s)
{
	skip_ws(s);
	return s->pos < s->len ? s->p[s->pos] : -1;
}

/* expect - consume byte c after whitespace */
static int
expect(struct scan *s, int c, const char *what)
{
	if (peek(s) != c)
		return fail(s, what);
	s->pos++;
	return 0;
}

/* hex4 - four hex digits at the current position */
static int
hex4(struct scan *s, unsigned *v)
{
	unsigned c, d, i;

	if (s->len - s->pos < 4)
		return fail(s, "truncated \\u escape");
	for (*v = 0, i = 0; i < 4; i++) {
		c = s->p[s->pos + i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return fail(s, "bad hex digit in \\u escape");
		*v = *v << 4 | d;
	}
	s->pos += 4;
	return 0;
}

/* out_byte - store one decoded byte, or note that it did not fit */
static void
out_byte(char *dst, size_t cap, size_t *n, int *toolong, unsigned char c)
{
	if (dst != NULL && *n + 1 < cap)
		dst[*n] = (char) c;
	else
		*toolong = 1;
	(*n)++;
}

/* out_utf8 - store code point cp as UTF-8 */
static void
out_utf8(char *dst, size_t cap, size_t *n, int *toolong, unsigned cp)
{
	if (cp < 0x80) {
		out_byte(dst, cap, n, toolong, (unsigned char) cp);
	} else if (cp < 0x800) {
		out_byte(
		    dst, cap, n, toolong, (unsigned char) (0xc0 | cp >> 6));
		out_byte(
		    dst, cap, n, toolong, (unsigned char) (0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		out_byte(
		    dst, cap, n, toolong, (unsigned char) (0xe0 | cp >> 12));
		out_byte(dst, cap, n, toolong,
		    (unsigned char) (0x80 | (cp >> 6 & 0x3f)));
		out_byte(
		    dst, cap, n, toolong, (unsigned char) (0x80 | (cp & 0x3f)));
	} else {
		out_byte(
		    dst, cap, n, toolong, (unsigned char) (0xf0 | cp >> 18));
		out_byte(dst, cap, n, toolong,
		    (unsigned char) (0x80 | (cp >> 12 & 0x3f)));
		out_byte(dst, cap, n, toolong,
		    (unsigned char) (0x80 | (cp >> 6 & 0x3f)));
		out_byte(
		    dst, cap, n, toolong, (unsigned char) (0x80 | (cp & 0x3f)));
	}
}

/* scan_unicode - the code point of a \uXXXX escape (and its pair) */
static int
scan_unicode(struct scan *s, unsigned *cp)
{
	unsigned lo;

	if (hex4(s, cp) == -1)
		return -1;
	if (*cp == 0)
		return fail(s, "\\u0000 in string");
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail(s, "lone low surrogate in string");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (s->len - s->pos < 2 || s->p[s->pos] != '\\' ||
	    s->p[s->pos + 1] != 'u')
		return fail(s, "lone high surrogate in string");
	s->pos += 2;
	if (hex4(s, &lo) == -1)
		return -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(s, "high surrogate without a low one");
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/*
 * scan_string - one JSON string, decoded into dst (cap bytes) if not NULL
 *
 * Always reads the whole string.  *toolong is set when the decoded value
 * and its NUL do not fit (dst is then not NUL-terminated to be used).
 */
static int
scan_string(struct scan *s, char *dst, size_t cap, int *toolong)
{
	size_t   n = 0;
	unsigned c, cp;

	*toolong = 0;
	if (expect(s, '"', "expected a string") == -1)
		return -1;
	for (;;) {
		if (s->pos >= s->len)
			return fail(s, "unterminated string");
		c = s->p[s->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(s, "control byte in string");
		if (c != '\\') {
			out_byte(dst, cap, &n, toolong, (unsigned char) c);
			continue;
		}
		if (s->pos >= s->len)
			return fail(s, "unterminated string");
		switch (c = s->p[s->pos++]) {
		case '"':
		case '\\':
		case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			if (scan_unicode(s, &cp) == -1)
				return -1;
			out_utf8(dst, cap, &n, toolong, cp);
			continue;
		default:
			s->pos--;
			return fail(s, "bad escape in string");
		}
		out_byte(dst, cap, &n, toolong, (unsigned char) c);
	}
	if (dst != NULL && !*toolong)
		dst[n] = '\0';
	return 0;
}

/* digits - step over [0-9]*; returns how many */
static size_t
digits(struct scan *s)
{
	size_t start = s->pos;

	while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9')
		s->pos++;
	return s->pos - start;
}

/*
 * scan_number - one JSON number; *is_uint and *val when it is an integer
 * without sign, fraction or exponent that fits in 64 bits
 */
static int
scan_number(struct scan *s, int *is_uint, uint64_t *val)
{
	size_t start, i;
	int    neg = 0, frac = 0;

	*is_uint = 0;
	skip_ws(s);
	if (s->pos < s->len && s->p[s->pos] == '-') {
		neg = 1;
		s->pos++;
	}
	start = s->pos;
	if (digits(s) == 0)
		return fail(s, "expected a number");
	if (s->p[start] == '0' && s->pos - start > 1)
		return fail(s, "leading zero in number");
	if (s->pos < s->len && s->p[s->pos] == '.') {
		s->pos++;
		frac = 1;
		if (digits(s) == 0)
			return fail(s, "expected digits after '.'");
	}
	if (s->pos < s->len && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
		s->pos++;
		frac = 1;
		if (s->pos < s->len &&
		    (s->p[s->pos] == '+' || s->p[s->pos] == '-'))
			s->pos++;
		if (digits(s) == 0)
			return fail(s, "expected digits in exponent");
	}
	if (neg || frac)
		return 0;
	*val = 0;
	for (i = start; i < s->pos; i++) {
		unsigned d = s->p[i] - '0';

		if (*val > (UINT64_MAX - d) / 10)
			return 0; /* a number, just not one that fits */
		*val = *val * 10 + d;
	}
	*is_uint = 1;
	return 0;
}

/* scan_word - the literal word w (true, false, null) */
static int
scan_word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if (s->len - s->pos < n || memcmp(s->p + s->pos, w, n) != 0)
		return fail(s, "expected true, false or null");
	s->pos += n;
	return 0;
}

static int skip_value(struct scan *s, int depth);

/* skip_container - check and skip the rest of an array or object */
static int
skip_container(struct scan *s, int depth, int close)
{
	int toolong;

	if (depth > PQ_DEPTH_MAX)
		return fail(s, "nested too deeply");
	s->pos++; /* '[' or '{' */
	if (peek(s) == close) {
		s->pos++;
		return 0;
	}
	for (;;) {
		if (close == '}' && (scan_string(s, NULL, 0, &toolong) == -1 ||
					expect(s, ':', "expected ':'") == -1))
			return -1;
		if (skip_value(s, depth) == -1)
			return -1;
		if (peek(s) == close) {
			s->pos++;
			return 0;
		}
		if (expect(s, ',', "expected ',' or the end of a list") == -1)
			return -1;
	}
}

/* skip_value - check and skip any JSON value */
static int
skip_value(struct scan *s, int depth)
{
	uint64_t v;
	int      toolong, is_uint;

	switch (peek(s)) {
	case '"':
		return scan_string(s, NULL, 0, &toolong);
	case '[':
		return skip_container(s, depth + 1, ']');
	case '{':
		return skip_container(s, depth + 1, '}');
	case 't':
		return scan_word(s, "true");
	case 'f':
		return scan_word(s, "false");
	case 'n':
		return scan_word(s, "null");
	case -1:
		return fail(s, "unexpected end of line");
	default:
		return scan_number(s, &is_uint, &v);
	}
}

/* scan_key - a member name into key (unknown when too long), then ':' */
static int
scan_key(struct scan *s, char *key, size_t cap)
{
	int toolong;

	if (scan_string(s, key, cap, &toolong) == -1)
		return -1;
	if (toolong)
		key[0] = '\0';
	return expect(s, ':', "expected ':'");
}

/* scan_recipient - one recipient object; counts a delay_reason */
static int
scan_recipient(struct scan *s, struct pq_msg *m)
{
	char key[KEY_MAX];
	int  toolong, delayed = 0, address = 0;

	if (expect(s, '{', "expected a recipient object") == -1)
		return -1;
	if (peek(s) != '}') {
		for (;;) {
			if (scan_key(s, key, sizeof(key)) == -1)
				return -1;
			if (strcmp(key, "address") == 0 ||
			    strcmp(key, "delay_reason") == 0) {
				int *seen = key[0] == 'a' ? &address : &delayed;

				if (*seen)
					return fail(s, "duplicate member");
				*seen = 1;
				if (scan_string(s, NULL, 0, &toolong) == -1)
					return -1;
			} else if (skip_value(s, 3) == -1) {
				return -1;
			}
			if (peek(s) == '}')
				break;
			if (expect(s, ',', "expected ',' or '}'") == -1)
				return -1;
		}
	}
	s->pos++;
	if (m->nrcpt < UINT32_MAX)
		m->nrcpt++;
	if (delayed && m->ndelayed < UINT32_MAX)
		m->ndelayed++;
	return 0;
}

/* scan_recipients - the recipients array */
static int
scan_recipients(struct scan *s, struct pq_msg *m)
{
	if (expect(s, '[', "recipients is not an array") == -1)
		return -1;
	if (peek(s) == ']') {
		s->pos++;
		return 0;
	}
	for (;;) {
		if (scan_recipient(s, m) == -1)
			return -1;
		if (peek(s) == ']') {
			s->pos++;
			return 0;
		}
		if (expect(s, ',', "expected ',' or ']'") == -1)
			return -1;
	}
}

/* scan_field - a string member into dst; too long is an error */
static int
scan_field(struct scan *s, char *dst, size_t cap, const char *what)
{
	int toolong;

	if (peek(s) != '"')
		return fail(s, what);
	if (scan_string(s, dst, cap, &toolong) == -1)
		return -1;
	if (toolong)
		return fail(s, what);
	return 0;
}

/* scan_uint - an unsigned integer member */
static int
scan_uint(struct scan *s, uint64_t *v, const char *what)
{
	int c = peek(s), is_uint;

	if (c != '-' && (c < '0' || c > '9'))
		return fail(s, what);
	if (scan_number(s, &is_uint, v) == -1)
		return -1;
	return is_uint ? 0 : fail(s, what);
}

/* The members struct pq_msg keeps. */
static const struct {
	const char *name;
	int         bit;
} known[] = {
	{ "queue_name", HAVE_QUEUE_NAME },
	{ "queue_id", HAVE_QUEUE_ID },
	{ "arrival_time", HAVE_ARRIVAL },
	{ "message_size", HAVE_SIZE },
	{ "forced_expire", HAVE_EXPIRE },
	{ "sender", HAVE_SENDER },
	{ "recipients", HAVE_RCPTS },
};

/* name_ok - 1 when a queue name is [a-z]+ */
static int
name_ok(const char *q)
{
	if (*q == '\0')
		return 0;
	for (; *q != '\0'; q++)
		if (*q < 'a' || *q > 'z')
			return 0;
	return 1;
}

/* scan_member - the value of member key of the message object */
static int
scan_member(struct scan *s, const char *key, struct pq_msg *m, int *have)
{
	uint64_t v;
	size_t   i;
	int      bit = 0;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(key, known[i].name) == 0)
			bit = known[i].bit;
	if (bit == 0)
		return skip_value(s, 1);
	if (*have & bit)
		return fail(s, "duplicate member");
	*have |= bit;
	switch (bit) {
	case HAVE_QUEUE_NAME:
		if (scan_field(s, m->queue_name, sizeof(m->queue_name),
			"bad queue_name") == -1)
			return -1;
		return name_ok(m->queue_name) ? 0 : fail(s, "bad queue_name");
	case HAVE_QUEUE_ID:
		if (scan_field(s, m->queue_id, sizeof(m->queue_id),
			"bad queue_id") == -1)
			return -1;
		return queueid_valid(m->queue_id) ? 0 : fail(s, "bad queue_id");
	case HAVE_ARRIVAL:
		if (scan_uint(s, &v, "bad arrival_time") == -1)
			return -1;
		if (v > (uint64_t) INT64_MAX ||
		    (sizeof(time_t) < 8 && v > (uint64_t) INT32_MAX))
			return fail(s, "bad arrival_time");
		m->arrival = (time_t) v;
		return 0;
	case HAVE_SIZE:
		return scan_uint(s, &m->size, "bad message_size");
	case HAVE_EXPIRE:
		if (peek(s) == 't') {
			m->forced_expire = 1;
			return scan_word(s, "true");
		}
		if (peek(s) == 'f')
			return scan_word(s, "false");
		return fail(s, "bad forced_expire");
	case HAVE_SENDER:
		return scan_field(
		    s, m->sender, sizeof(m->sender), "bad sender");
	default:
		return scan_recipients(s, m);
	}
}

/* pq_parse_line - one JSON object of len bytes */
int
pq_parse_line(
    const char *line, size_t len, struct pq_msg *m, char *err, size_t errlen)
{
	struct scan s = { (const unsigned char *) line, len, 0, err, errlen };
	char        key[KEY_MAX];
	int         have = 0;

	memset(m, 0, sizeof(*m));
	if (line == NULL) {
		s.len = 0;
		return fail(&s, "no line");
	}
	if (expect(&s, '{', "expected '{'") == -1)
		return -1;
	if (peek(&s) != '}') {
		for (;;) {
			if (scan_key(&s, key, sizeof(key)) == -1 ||
			    scan_member(&s, key, m, &have) == -1)
				return -1;
			if (peek(&s) == '}')
				break;
			if (expect(&s, ',', "expected ',' or '}'") == -1)
				return -1;
		}
	}
	s.pos++;
	if (peek(&s) != -1)
		return fail(&s, "garbage after the object");
	if ((have & HAVE_REQUIRED) != HAVE_REQUIRED)
		return fail(
		    &s, "queue_name, queue_id, arrival_time or sender missing");
	return 0;
}

/* pqjson_fuzz - fuzzing entry point: pq_parse_line() on data */
int
pqjson_fuzz(const uint8_t *data, size_t size)
{
	struct pq_msg m;
	char          err[128];

	return pq_parse_line((const char *) data, size, &m, err, sizeof(err));
}
