/*
 * journal.c - format and verify the lines of the tamper-evident journal
 *
 * The line format and what a check can and cannot show are in journal.h.
 * The shape is fixed so that the verifier needs no JSON parser: the
 * head ({"ts":"...","seq":N,) and the tail (,"prev":"...","hash":"..."})
 * are at known places, and whatever lies between is covered by the hash.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_journal.c
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "journal.h"

#define HEAD_TS  "{\"ts\":\""
#define HEAD_SEQ "\",\"seq\":"
#define PREV_KEY ",\"prev\":\""
#define HASH_KEY ",\"hash\":\""
#define PREV_LEN (sizeof(PREV_KEY) - 1 + 64 + 1) /* ,"prev":"<hex>" */
#define TS_LEN   (CTL_TIME_BUFSIZE - 1)          /* 2026-11-28T02:57:14Z */
#define ZERO_HASH                                                              \
	"0000000000000000000000000000000000000000000000000000000000000000"

static const char *const event_names[JOURNAL_EVENT_MAX_] = { "hold",
	"would-hold", "flag", "unflag", "delete", "release", "tempfail",
	"disconnect", "reload" };

static const char *const reserved[] = { "ts", "seq", "event", "user", "prev",
	"hash", NULL };

/* seterr - a message into the caller's buffer */
static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void) vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* put - append n bytes at *pos; -1 when they and a NUL do not fit */
static int
put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
	if (n >= len - *pos)
		return -1;
	memcpy(buf + *pos, s, n);
	*pos += n;
	buf[*pos] = '\0';
	return 0;
}

/* puts_ - append the string s */
static int
puts_(char *buf, size_t len, size_t *pos, const char *s)
{
	return put(buf, len, pos, s, strlen(s));
}

/* key_ok - 1 when k is [a-z_0-9]+ and not reserved */
static int
key_ok(const char *k)
{
	size_t i;

	if (k == NULL || k[0] == '\0' || strlen(k) > 64)
		return 0;
	for (i = 0; k[i] != '\0'; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
			(k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	for (i = 0; reserved[i] != NULL; i++)
		if (strcmp(k, reserved[i]) == 0)
			return 0;
	return 1;
}

/* is_hex - 1 when s[0..n) is lower-case hex */
static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* journal_event_name - "hold", "would-hold", ... */
const char *
journal_event_name(enum journal_event ev)
{
	if ((int) ev < 0 || ev >= JOURNAL_EVENT_MAX_)
		return NULL;
	return event_names[ev];
}

/* journal_chain_init - the state before the first line of a chain */
void
journal_chain_init(struct journal_chain *c)
{
	c->seq = 0;
	memcpy(c->last, ZERO_HASH, sizeof(c->last));
}

/* journal_chain_after - the chain state after the line */
void
journal_chain_after(
    struct journal_chain *c, const char *line, size_t len, uint64_t seq)
{
	c->seq = seq;
	sha256_hex(line, len, c->last);
}

/* journal_format - the line that follows chain c, in buf */
int
journal_format(char *buf, size_t len, const struct journal_chain *c, time_t ts,
    enum journal_event ev, const char *user, const struct journal_field *fields,
    size_t nfields, struct journal_chain *next, char *err, size_t errlen)
{
	char        tbuf[CTL_TIME_BUFSIZE], num[32], hash[SHA256_HEX];
	const char *name;
	size_t      pos = 0, i;
	uint64_t    seq;
	int         n;

	if (buf == NULL || len == 0) {
		seterr(err, errlen, "no buffer");
		return -1;
	}
	buf[0] = '\0';
	if (len > JOURNAL_LINE_MAX + 1)
		len = JOURNAL_LINE_MAX + 1;
	if ((name = journal_event_name(ev)) == NULL) {
		seterr(err, errlen, "unknown event %d", (int) ev);
		return -1;
	}
	if (ctl_format_time(tbuf, sizeof(tbuf), ts) == -1) {
		seterr(err, errlen, "time out of range");
		return -1;
	}
	if (c->seq == UINT64_MAX) {
		seterr(err, errlen, "sequence number exhausted");
		return -1;
	}
	seq = c->seq + 1;
	n = snprintf(num, sizeof(num), "%" PRIu64, seq);
	if (n < 0 || (size_t) n >= sizeof(num))
		goto toolong;
	if (puts_(buf, len, &pos, HEAD_TS) == -1 ||
	    puts_(buf, len, &pos, tbuf) == -1 ||
	    puts_(buf, len, &pos, HEAD_SEQ) == -1 ||
	    puts_(buf, len, &pos, num) == -1 ||
	    puts_(buf, len, &pos, ",\"event\":\"") == -1 ||
	    puts_(buf, len, &pos, name) == -1 ||
	    puts_(buf, len, &pos, "\",\"user\":") == -1)
		goto toolong;
	if ((n = ctl_json_str(buf + pos, len - pos, user)) == -1)
		goto toolong;
	pos += (size_t) n;
	for (i = 0; i < nfields; i++) {
		if (!key_ok(fields[i].key)) {
			seterr(err, errlen, "invalid or reserved key \"%s\"",
			    fields[i].key != NULL ? fields[i].key : "(null)");
			buf[0] = '\0';
			return -1;
		}
		if (puts_(buf, len, &pos, ",\"") == -1 ||
		    puts_(buf, len, &pos, fields[i].key) == -1 ||
		    puts_(buf, len, &pos, "\":") == -1)
			goto toolong;
		if (fields[i].str != NULL) {
			n = ctl_json_str(buf + pos, len - pos, fields[i].str);
			if (n == -1)
				goto toolong;
			pos += (size_t) n;
		} else {
			n = snprintf(
			    num, sizeof(num), "%" PRId64, fields[i].num);
			if (n < 0 || (size_t) n >= sizeof(num) ||
			    puts_(buf, len, &pos, num) == -1)
				goto toolong;
		}
	}
	if (puts_(buf, len, &pos, PREV_KEY) == -1 ||
	    puts_(buf, len, &pos, c->last) == -1 ||
	    puts_(buf, len, &pos, "\"") == -1)
		goto toolong;
	sha256_hex(buf, pos, hash);
	if (puts_(buf, len, &pos, HASH_KEY) == -1 ||
	    puts_(buf, len, &pos, hash) == -1 ||
	    puts_(buf, len, &pos, "\"}") == -1)
		goto toolong;
	if (next != NULL)
		journal_chain_after(next, buf, pos, seq);
	if (puts_(buf, len, &pos, "\n") == -1)
		goto toolong;
	return (int) pos;
toolong:
	seterr(err, errlen, "journal line longer than %zu bytes", len - 1);
	buf[0] = '\0';
	return -1;
}

/* journal_line_parse - seq, prev and hash of one line */
int
journal_line_parse(const char *line, size_t len, struct journal_line *out,
    char *err, size_t errlen)
{
	const size_t head = sizeof(HEAD_TS) - 1 + TS_LEN + sizeof(HEAD_SEQ) - 1;
	char         hash[SHA256_HEX];
	const char  *tail, *prev, *p;
	size_t       body;
	uint64_t     seq = 0;

	if (len + 1 > JOURNAL_LINE_MAX) {
		seterr(
		    err, errlen, "line longer than %d bytes", JOURNAL_LINE_MAX);
		return -1;
	}
	if (len < head + 1 + PREV_LEN + JOURNAL_TAIL_LEN ||
	    memcmp(line, HEAD_TS, sizeof(HEAD_TS) - 1) != 0 ||
	    line[sizeof(HEAD_TS) - 1 + TS_LEN - 1] != 'Z' ||
	    memcmp(line + sizeof(HEAD_TS) - 1 + TS_LEN, HEAD_SEQ,
		sizeof(HEAD_SEQ) - 1) != 0) {
		seterr(err, errlen, "not a journal line (bad start)");
		return -1;
	}
	tail = line + len - JOURNAL_TAIL_LEN;
	if (memcmp(tail, HASH_KEY, sizeof(HASH_KEY) - 1) != 0 ||
	    !is_hex(tail + sizeof(HASH_KEY) - 1, 64) ||
	    memcmp(line + len - 2, "\"}", 2) != 0) {
		seterr(err, errlen, "not a journal line (no hash at the end)");
		return -1;
	}
	body = len - JOURNAL_TAIL_LEN;
	prev = line + body - PREV_LEN;
	if (memcmp(prev, PREV_KEY, sizeof(PREV_KEY) - 1) != 0 ||
	    !is_hex(prev + sizeof(PREV_KEY) - 1, 64) ||
	    prev[PREV_LEN - 1] != '"') {
		seterr(err, errlen, "not a journal line (no prev before hash)");
		return -1;
	}
	/* seq: decimal, no leading zero, ends at a ',' */
	p = line + head;
	if (*p < '1' || *p > '9') {
		seterr(err, errlen, "not a journal line (bad seq)");
		return -1;
	}
	for (; p < prev && *p >= '0' && *p <= '9'; p++) {
		if (seq > (UINT64_MAX - (uint64_t) (*p - '0')) / 10) {
			seterr(err, errlen, "not a journal line (seq too big)");
			return -1;
		}
		seq = seq * 10 + (uint64_t) (*p - '0');
	}
	if (p >= prev || *p != ',') {
		seterr(err, errlen, "not a journal line (bad seq)");
		return -1;
	}
	sha256_hex(line, body, hash);
	if (memcmp(hash, tail + sizeof(HASH_KEY) - 1, 64) != 0) {
		seterr(err, errlen,
		    "content does not match its hash: the line was altered");
		return -1;
	}
	out->seq = seq;
	memcpy(out->prev, prev + sizeof(PREV_KEY) - 1, 64);
	out->prev[64] = '\0';
	memcpy(out->hash, hash, sizeof(out->hash));
	return 0;
}

/* journal_verify_init - start checking */
void
journal_verify_init(struct journal_verify *v, int continued)
{
	journal_chain_init(&v->chain);
	v->lines = 0;
	v->continued = continued;
}

/* journal_verify_line - check the next line */
int
journal_verify_line(struct journal_verify *v, const char *line, size_t len,
    char *err, size_t errlen)
{
	struct journal_line l;
	uint64_t            want;

	if (journal_line_parse(line, len, &l, err, errlen) == -1)
		return -1;
	if (v->lines > 0 || !v->continued) {
		want = v->chain.seq + 1;
		if (l.seq > want) {
			seterr(err, errlen,
			    "seq %" PRIu64 " where %" PRIu64 " was expected: "
			    "lines deleted or reordered",
			    l.seq, want);
			return -1;
		}
		if (l.seq < want) {
			seterr(err, errlen,
			    "seq %" PRIu64 " where %" PRIu64 " was expected: "
			    "a line inserted, repeated or reordered",
			    l.seq, want);
			return -1;
		}
		if (strcmp(l.prev, v->chain.last) != 0) {
			if (v->chain.seq == 0)
				seterr(err, errlen,
				    "prev is not zero: the chain does not "
				    "start here");
			else
				seterr(err, errlen,
				    "prev does not match the line before: that "
				    "line was altered, or this one inserted");
			return -1;
		}
	}
	journal_chain_after(&v->chain, line, len, l.seq);
	v->lines++;
	return 0;
}

/* journal_verify_stream - check every line of fp */
int
journal_verify_stream(struct journal_verify *v, FILE *fp, uint64_t *nlines,
    uint64_t *lineno, char *err, size_t errlen)
{
	char    *line = NULL;
	size_t   cap = 0;
	ssize_t  n;
	uint64_t count = 0;
	int      rc = 0;

	*lineno = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		count++;
		if (line[n - 1] != '\n') {
			seterr(err, errlen,
			    "truncated line (no newline at the end)");
			rc = -1;
			break;
		}
		if (journal_verify_line(v, line, (size_t) n - 1, err, errlen) ==
		    -1) {
			rc = -1;
			break;
		}
	}
	if (rc == -1)
		*lineno = count;
	else if (ferror(fp)) {
		seterr(err, errlen, "read error");
		rc = -1;
	}
	free(line);
	*nlines = count;
	return rc;
}
