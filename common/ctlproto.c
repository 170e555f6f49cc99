/*
 * ctlproto.c - the control socket's line protocol (version 1)
 *
 * A line is a kind or command word followed by tokens, each preceded by
 * exactly one space.  A token on the wire is what escape_value() writes:
 * bytes 0x21..0x7e except '"', '\\' and '=' (reply pairs have one '='
 * between key and value), with "%XX" for everything else.  The parsers
 * insist on that form, so a line has exactly one reading: two spaces, a
 * trailing space, a raw control byte or a raw 8-bit byte are errors, not
 * something to guess about.
 *
 * Limits are fixed (see ctlproto.h) so that neither side allocates and a
 * hostile peer cannot make either side hold more than one line.
 *
 * Thread safety: pure functions; no global state.
 * Tests: tests/test_ctlproto.c
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctlproto.h"
#include "escape.h"

#define GREETING_PREFIX "saslguard-control "

static const char hexdigits[] = "0123456789abcdef";

/* seterr - format a message into err when there is one */
static void
seterr(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		(void) snprintf(err, errlen, "%s", msg);
}

/*
 * strip_eol - drop one trailing "\n" or "\r\n" from a line of *len bytes
 *
 * Returns -1 when the line without its "\n" does not leave room for one
 * within max bytes ("\r" counts as content), else 0.
 */
static int
strip_eol(const char *line, size_t *len, size_t max)
{
	int nl = *len > 0 && line[*len - 1] == '\n';

	if (nl)
		(*len)--;
	if (*len + 1 > max)
		return -1;
	if (nl && *len > 0 && line[*len - 1] == '\r')
		(*len)--;
	return 0;
}

/* token_byte - 1 when c may appear unescaped in a token */
static int
token_byte(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\' && c != '=';
}

/* token_ok - 1 when all n bytes at p may appear unescaped in a token */
static int
token_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!token_byte((unsigned char) p[i]))
			return 0;
	return 1;
}

/* word_ok - 1 when the n bytes at p are 1..max-1 of [a-z-] (or _0-9) */
static int
word_ok(const char *p, size_t n, size_t max, int key)
{
	size_t i;

	if (n == 0 || n >= max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char) p[i];

		if (c >= 'a' && c <= 'z')
			continue;
		if (!key && c == '-')
			continue;
		if (key && (c == '_' || (c >= '0' && c <= '9')))
			continue;
		return 0;
	}
	return 1;
}

/* cmd_ok - 1 when s is a valid command word or error code */
static int
cmd_ok(const char *s, size_t max)
{
	return s != NULL && word_ok(s, strlen(s), max, 0);
}

/*
 * unescape_token - decode the n escaped bytes at p into dst
 *
 * Returns the decoded length, or -1 when the token has a bad escape,
 * decodes to NUL, or does not fit in len bytes with its NUL.
 */
static int
unescape_token(char *dst, size_t len, const char *p, size_t n)
{
	char tmp[CTL_REPLY_MAX];

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return unescape_value(dst, len, tmp);
}

/* ctl_greeting_parse - the protocol version from the server's greeting */
int
ctl_greeting_parse(
    const char *line, size_t len, unsigned *version, char *err, size_t errlen)
{
	size_t   plen = sizeof(GREETING_PREFIX) - 1, i;
	unsigned v = 0;

	if (line == NULL) {
		seterr(err, errlen, "no greeting");
		return -1;
	}
	if (strip_eol(line, &len, CTL_LINE_MAX) == -1)
		len = 0;
	if (len <= plen || memcmp(line, GREETING_PREFIX, plen) != 0) {
		seterr(err, errlen, "not a saslguard control socket");
		return -1;
	}
	if (len - plen > 6 || line[plen] == '0') {
		seterr(err, errlen, "bad protocol version in greeting");
		return -1;
	}
	for (i = plen; i < len; i++) {
		if (line[i] < '0' || line[i] > '9') {
			seterr(err, errlen, "bad protocol version in greeting");
			return -1;
		}
		v = v * 10 + (unsigned) (line[i] - '0');
	}
	if (version != NULL)
		*version = v;
	return 0;
}

/* ctl_request_parse - split one request line into command and arguments */
int
ctl_request_parse(const char *line, size_t len, struct ctl_request *r,
    char *err, size_t errlen)
{
	size_t pos, start, used = 0;
	int    n;

	r->cmd[0] = '\0';
	r->argc = 0;
	r->errcode = CTL_E_SYNTAX;
	r->buf[0] = '\0';
	if (line == NULL) {
		seterr(err, errlen, "no request");
		return -1;
	}
	if (strip_eol(line, &len, CTL_LINE_MAX) == -1) {
		r->errcode = CTL_E_TOO_LONG;
		seterr(err, errlen, "request line longer than 4096 bytes");
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		seterr(err, errlen, "NUL byte in request");
		return -1;
	}
	for (pos = 0; pos < len && line[pos] != ' '; pos++)
		;
	if (pos == 0) {
		seterr(err, errlen, "empty command");
		return -1;
	}
	if (!word_ok(line, pos, CTL_CMD_MAX, 0)) {
		seterr(err, errlen, "command must be 1-31 of a-z and '-'");
		return -1;
	}
	memcpy(r->cmd, line, pos);
	r->cmd[pos] = '\0';

	while (pos < len) {
		pos++; /* the one space */
		for (start = pos; pos < len && line[pos] != ' '; pos++)
			;
		if (pos == start) {
			seterr(err, errlen,
			    "empty argument (two spaces, or a trailing space)");
			return -1;
		}
		if (r->argc == CTL_ARGS_MAX) {
			r->errcode = CTL_E_TOO_LONG;
			seterr(err, errlen, "more than 16 arguments");
			return -1;
		}
		if (!token_ok(line + start, pos - start)) {
			seterr(err, errlen,
			    "argument has a byte that must be escaped");
			return -1;
		}
		n = unescape_token(r->buf + used, sizeof(r->buf) - used,
		    line + start, pos - start);
		if (n == -1) {
			seterr(
			    err, errlen, "argument has a bad escape or a NUL");
			return -1;
		}
		r->argv[r->argc++] = r->buf + used;
		used += (size_t) n + 1;
	}
	r->errcode = NULL;
	return 0;
}

/* ctl_request_format - one request line, escaped and ending in "\n" */
int
ctl_request_format(
    char *buf, size_t len, const char *cmd, int argc, const char *const *argv)
{
	size_t pos, need;
	int    i;

	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (!cmd_ok(cmd, CTL_CMD_MAX) || argc < 0 || argc > CTL_ARGS_MAX ||
	    (argc > 0 && argv == NULL))
		return -1;
	pos = strlen(cmd);
	if (pos + 1 >= len)
		return -1;
	memcpy(buf, cmd, pos);
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL || argv[i][0] == '\0')
			goto fail;
		if (pos + 2 >= len)
			goto fail;
		buf[pos++] = ' ';
		need = escape_value(buf + pos, len - pos, argv[i]);
		if (need >= len - pos)
			goto fail;
		pos += need;
	}
	if (pos + 2 > len || pos + 1 > CTL_LINE_MAX)
		goto fail;
	buf[pos++] = '\n';
	buf[pos] = '\0';
	return (int) pos;
fail:
	buf[0] = '\0';
	return -1;
}

/* ctl_line_init - start a "row" or "ok" line */
void
ctl_line_init(struct ctl_line *l, enum ctl_kind kind)
{
	const char *word = kind == CTL_ROW ? "row" : kind == CTL_OK ? "ok" : "";

	l->len = strlen(word);
	memcpy(l->text, word, l->len + 1);
	l->failed = l->len == 0;
}

/* line_put - append n bytes; room is always left for the "\n" */
static int
line_put(struct ctl_line *l, const char *s, size_t n)
{
	if (l->failed || n > CTL_REPLY_MAX - 1 - l->len) {
		l->failed = 1;
		return -1;
	}
	memcpy(l->text + l->len, s, n);
	l->len += n;
	l->text[l->len] = '\0';
	return 0;
}

/* line_key - append " key="; -1 (line failed) for a bad key */
static int
line_key(struct ctl_line *l, const char *key)
{
	if (key == NULL || !word_ok(key, strlen(key), CTL_KEY_MAX, 1)) {
		l->failed = 1;
		return -1;
	}
	if (line_put(l, " ", 1) == -1 || line_put(l, key, strlen(key)) == -1 ||
	    line_put(l, "=", 1) == -1)
		return -1;
	return 0;
}

/* ctl_line_add_str - append " key=value" with value escaped */
int
ctl_line_add_str(struct ctl_line *l, const char *key, const char *value)
{
	size_t mark = l->len, room, need;

	if (line_key(l, key) == -1)
		goto fail;
	room = CTL_REPLY_MAX - l->len; /* content up to MAX - 1, and a NUL */
	need = escape_value(l->text + l->len, room, value);
	if (need >= room)
		goto fail;
	l->len += need;
	return 0;
fail:
	l->len = mark;
	l->text[mark] = '\0';
	l->failed = 1;
	return -1;
}

/* ctl_line_add_u64 - append " key=N" in decimal */
int
ctl_line_add_u64(struct ctl_line *l, const char *key, uint64_t value)
{
	char num[24];

	(void) snprintf(num, sizeof(num), "%" PRIu64, value);
	return ctl_line_add_str(l, key, num);
}

/* ctl_format_time - t as RFC 3339 UTC into buf */
int
ctl_format_time(char *buf, size_t len, time_t t)
{
	struct tm tm;
	int       n;

	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	if (n < 0 || (size_t) n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* ctl_line_add_time - append " key=YYYY-MM-DDTHH:MM:SSZ" */
int
ctl_line_add_time(struct ctl_line *l, const char *key, time_t t)
{
	char ts[CTL_TIME_BUFSIZE];

	if (ctl_format_time(ts, sizeof(ts), t) == -1) {
		l->failed = 1;
		return -1;
	}
	return ctl_line_add_str(l, key, ts);
}

/* ctl_line_end - the finished line with its "\n" */
const char *
ctl_line_end(struct ctl_line *l, size_t *len)
{
	if (l->failed)
		return NULL;
	/* tokens never hold a raw "\n": a trailing one means "ended" */
	if (l->len == 0 || l->text[l->len - 1] != '\n') {
		l->text[l->len++] = '\n';
		l->text[l->len] = '\0';
	}
	if (len != NULL)
		*len = l->len;
	return l->text;
}

/* ctl_line_err - an "err CODE MESSAGE\n" line in l */
const char *
ctl_line_err(
    struct ctl_line *l, const char *code, const char *message, size_t *len)
{
	size_t room;

	if (!cmd_ok(code, CTL_CODE_MAX))
		code = CTL_E_INTERNAL;
	l->len = 0;
	l->failed = 0;
	(void) line_put(l, "err ", 4);
	(void) line_put(l, code, strlen(code));
	if (message != NULL && message[0] != '\0') {
		(void) line_put(l, " ", 1);
		room = CTL_REPLY_MAX - l->len;
		(void) escape_value(l->text + l->len, room, message);
		l->len += strlen(l->text + l->len); /* cut if it must be */
	}
	return ctl_line_end(l, len);
}

/* ctl_reply_parse - one reply line into its kind and fields */
int
ctl_reply_parse(const char *line, size_t len, struct ctl_reply *out, char *err,
    size_t errlen)
{
	size_t pos, start, eq, used = 0;
	int    n;

	out->kind = CTL_ERR;
	out->npairs = 0;
	out->code[0] = '\0';
	out->buf[0] = '\0';
	out->message = out->buf;
	if (line == NULL) {
		seterr(err, errlen, "no reply");
		return -1;
	}
	if (strip_eol(line, &len, CTL_REPLY_MAX) == -1) {
		seterr(err, errlen, "reply line too long");
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		seterr(err, errlen, "NUL byte in reply");
		return -1;
	}
	for (pos = 0; pos < len && line[pos] != ' '; pos++)
		;
	if (pos == 3 && memcmp(line, "row", 3) == 0) {
		out->kind = CTL_ROW;
	} else if (pos == 2 && memcmp(line, "ok", 2) == 0) {
		out->kind = CTL_OK;
	} else if (pos == 3 && memcmp(line, "err", 3) == 0) {
		out->kind = CTL_ERR;
	} else {
		seterr(err, errlen, "reply is not row, ok or err");
		return -1;
	}

	if (out->kind == CTL_ERR) {
		if (pos == len) {
			seterr(err, errlen, "err reply without a code");
			return -1;
		}
		for (start = ++pos; pos < len && line[pos] != ' '; pos++)
			;
		if (!word_ok(line + start, pos - start, CTL_CODE_MAX, 0)) {
			seterr(err, errlen, "bad error code in reply");
			return -1;
		}
		memcpy(out->code, line + start, pos - start);
		out->code[pos - start] = '\0';
		if (pos == len)
			return 0;
		start = ++pos;
		if (start == len || !token_ok(line + start, len - start)) {
			seterr(err, errlen, "bad error message in reply");
			return -1;
		}
		if (unescape_token(out->buf, sizeof(out->buf), line + start,
			len - start) == -1) {
			seterr(err, errlen, "bad escape in error message");
			out->buf[0] = '\0';
			return -1;
		}
		return 0;
	}

	while (pos < len) {
		pos++;
		for (start = pos; pos < len && line[pos] != ' '; pos++)
			;
		if (pos == start) {
			seterr(err, errlen,
			    "empty field (two spaces, or a trailing space)");
			return -1;
		}
		if (out->npairs == CTL_PAIRS_MAX) {
			seterr(err, errlen, "too many fields in reply");
			return -1;
		}
		for (eq = start; eq < pos && line[eq] != '='; eq++)
			;
		if (eq == pos ||
		    !word_ok(line + start, eq - start, CTL_KEY_MAX, 1)) {
			seterr(err, errlen,
			    "field is not key=value with key [a-z_0-9]+");
			return -1;
		}
		if (!token_ok(line + eq + 1, pos - eq - 1)) {
			seterr(err, errlen,
			    "value has a byte that must be escaped");
			return -1;
		}
		if (eq - start + 1 > sizeof(out->buf) - used) {
			seterr(err, errlen, "reply line too long");
			return -1;
		}
		memcpy(out->buf + used, line + start, eq - start);
		out->buf[used + (eq - start)] = '\0';
		out->pair[out->npairs].key = out->buf + used;
		used += eq - start + 1;
		n = unescape_token(out->buf + used, sizeof(out->buf) - used,
		    line + eq + 1, pos - eq - 1);
		if (n == -1) {
			seterr(err, errlen, "value has a bad escape or a NUL");
			return -1;
		}
		out->pair[out->npairs].value = out->buf + used;
		out->npairs++;
		used += (size_t) n + 1;
	}
	out->message = "";
	return 0;
}

/* ctl_reply_get - the value of the first pair named key, or NULL */
const char *
ctl_reply_get(const struct ctl_reply *r, const char *key)
{
	int i;

	if (key == NULL)
		return NULL;
	for (i = 0; i < r->npairs; i++)
		if (strcmp(r->pair[i].key, key) == 0)
			return r->pair[i].value;
	return NULL;
}

/* json_put - append n bytes at *pos; -1 once out of room */
static int
json_put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
	if (n >= len - *pos)
		return -1;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return 0;
}

/*
 * utf8_seq - length of the well-formed UTF-8 sequence at p, or 0
 *
 * When 0, *bad is the length of the maximal ill-formed subpart to replace
 * (at least 1), as the Unicode standard recommends (Table 3-7 ranges).
 */
static size_t
utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t        need, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else {
		*bad = 1;
		return 0;
	}
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

/* ctl_json_strn - ctl_json_str() of n bytes that may include NUL */
int
ctl_json_strn(char *buf, size_t len, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t               pos = 0, i = 0, k, bad;
	char                 esc[6];

	if (buf == NULL || len == 0)
		return -1;
	if (s == NULL)
		n = 0;
	if (json_put(buf, len, &pos, "\"", 1) == -1)
		goto fail;
	while (i < n) {
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char) p[i];
			if (json_put(buf, len, &pos, esc, 2) == -1)
				goto fail;
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hexdigits[p[i] >> 4];
			esc[5] = hexdigits[p[i] & 0x0f];
			if (json_put(buf, len, &pos, esc, 6) == -1)
				goto fail;
			i++;
		} else if (p[i] < 0x80) {
			if (json_put(buf, len, &pos, (const char *) p + i, 1) ==
			    -1)
				goto fail;
			i++;
		} else if ((k = utf8_seq(p + i, n - i, &bad)) > 0) {
			if (json_put(buf, len, &pos, (const char *) p + i, k) ==
			    -1)
				goto fail;
			i += k;
		} else {
			if (json_put(buf, len, &pos, "\\ufffd", 6) == -1)
				goto fail;
			i += bad;
		}
	}
	if (json_put(buf, len, &pos, "\"", 1) == -1)
		goto fail;
	buf[pos] = '\0';
	return (int) pos;
fail:
	buf[0] = '\0';
	return -1;
}

/* ctl_json_str - s as a JSON string literal, quotes included */
int
ctl_json_str(char *buf, size_t len, const char *s)
{
	return ctl_json_strn(buf, len, s, s == NULL ? 0 : strlen(s));
}

/* ctlproto_fuzz - fuzzing entry point: every parser above on data */
int
ctlproto_fuzz(const uint8_t *data, size_t size)
{
	struct ctl_request req;
	struct ctl_reply   rep;
	char               err[128], json[2 * CTL_LINE_MAX];
	const char        *s = (const char *) data;
	unsigned           v;
	int                ok = 0;

	ok += ctl_greeting_parse(s, size, &v, err, sizeof(err)) == 0;
	ok += ctl_request_parse(s, size, &req, err, sizeof(err)) == 0;
	ok += ctl_reply_parse(s, size, &rep, err, sizeof(err)) == 0;
	ok += ctl_json_strn(json, sizeof(json), s, size) >= 0;
	return ok;
}
