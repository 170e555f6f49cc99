/*
 * journal.h - the tamper-evident journal: one JSON object a line, each
 * line chained to the one before by SHA-256
 *
 * Besides syslog, the daemon appends every decision and every operator
 * action to its journal (milter/journal_writer.c).  A line looks like
 * (on one line, no spaces):
 *
 *   {"ts":"2026-11-28T02:57:14Z","seq":42,"event":"hold",
 *    "user":"alice@example.org","queue_id":"4Xk2Lm0ZzQz9vK","count":301,
 *    "prev":"<64 hex digits>","hash":"<64 hex digits>"}
 *
 * Exactly:
 *   - members in this order: ts, seq, event, user, the event's fields in
 *     the caller's order, prev, hash; no white space; "\n" ends the line;
 *   - ts: the time in RFC 3339, UTC, whole seconds;
 *   - seq: 1 for the first line of a chain, then one more on each line;
 *   - event: one of the names of enum journal_event;
 *   - user: the account ("" when none, e.g. a reload);
 *   - fields: "key":"string" or "key":integer; keys are [a-z_0-9]+ and
 *     none of the six reserved names; strings are escaped as
 *     ctl_json_str() does (quotes, backslash and control bytes escaped,
 *     ill-formed UTF-8 replaced by U+FFFD), so no value can end the line;
 *   - prev: lower-case hex SHA-256 of the previous line, all its bytes
 *     from '{' to '}' (without the "\n"); 64 zeros on the first line of
 *     a chain;
 *   - hash: lower-case hex SHA-256 of this line's bytes from '{' up to
 *     and including the '"' that closes prev, i.e. the line without its
 *     last 75 bytes (,"hash":"<64 hex>"}).
 *
 * So "sed -n 5p journal | tr -d '\n' | sha256sum" gives line 6's prev.
 * The verifier checks, line by line: the shape above and the line's own
 * hash (an edited line), seq one more than the line before (deleted,
 * reordered or inserted lines), and prev against the line before (an
 * edited line whose hash was recomputed, or an inserted one).  The
 * first break is reported with its line number.  What a chain without a
 * key cannot show: lines cut off the end, or a whole tail rewritten by
 * someone who recomputes every hash; keep a copy of the last hash
 * elsewhere (saslguardctl audit --verify prints nothing secret) when that
 * matters.  A rotated journal verifies as its files in order, oldest
 * first; a file whose chain began in an older file that is gone needs
 * "continued" (its first line then starts the check, whatever its seq).
 *
 * Thread safety: pure functions; a struct journal_chain or
 * journal_verify belongs to its caller.
 * Tests: tests/test_journal.c
 */
#ifndef SASLGUARD_JOURNAL_H
#define SASLGUARD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "sha256.h"

#define JOURNAL_LINE_MAX 16384 /* bytes of a line with its "\n" */
#define JOURNAL_TAIL_LEN 75    /* ,"hash":"<64 hex>"} */

enum journal_event {
	JOURNAL_HOLD = 0,   /* a message quarantined */
	JOURNAL_WOULD_HOLD, /* monitor mode: it would have been */
	JOURNAL_FLAG,       /* an account flagged (policy or operator) */
	JOURNAL_UNFLAG,     /* an operator cleared a flag */
	JOURNAL_DELETE,     /* an operator deleted an account's mail */
	JOURNAL_RELEASE,    /* an operator released held mail */
	JOURNAL_TEMPFAIL,   /* a message refused with 4xx */
	JOURNAL_DISCONNECT, /* a session ended with 421 */
	JOURNAL_RELOAD,     /* the configuration was reloaded */
	JOURNAL_EVENT_MAX_
};

/* one event field: a string, or an integer when str is NULL */
struct journal_field {
	const char *key; /* [a-z_0-9]+, not a reserved name */
	const char *str; /* NULL: num is written instead */
	int64_t     num;
};

#define JOURNAL_STR(k, v)                                                      \
	{                                                                      \
		(k), ((v) != NULL ? (v) : ""), 0                               \
	}
#define JOURNAL_NUM(k, n)                                                      \
	{                                                                      \
		(k), NULL, (int64_t) (n)                                       \
	}

/* where a chain stands: its last line */
struct journal_chain {
	uint64_t seq;              /* of the last line; 0 before the first */
	char     last[SHA256_HEX]; /* SHA-256 of the last line; zeros first */
};

/* the parts of one line that the chain is made of */
struct journal_line {
	uint64_t seq;
	char     prev[SHA256_HEX];
	char     hash[SHA256_HEX];
};

struct journal_verify {
	struct journal_chain chain;
	uint64_t             lines;     /* lines checked so far */
	int                  continued; /* the first line need not be seq 1 */
};

/* journal_event_name - "hold", "would-hold", ...; NULL when out of range */
const char *journal_event_name(enum journal_event ev);

/* journal_chain_init - the state before the first line of a chain */
void journal_chain_init(struct journal_chain *c);

/*
 * journal_format - the line that follows chain c, with its "\n", in buf
 *
 * user may be NULL (written as "").  Returns the line's length, and the
 * chain after it in *next (which may be c itself: the caller then
 * advances only when it keeps the line).  Returns -1 with a message in
 * err when a key is invalid or reserved, the event or the time is out of
 * range, or the line would be longer than len or JOURNAL_LINE_MAX.
 */
int journal_format(char *buf, size_t len, const struct journal_chain *c,
    time_t ts, enum journal_event ev, const char *user,
    const struct journal_field *fields, size_t nfields,
    struct journal_chain *next, char *err, size_t errlen);

/*
 * journal_line_parse - seq, prev and hash of one line (no "\n")
 *
 * Checks the line's shape and that hash is the SHA-256 of its content.
 * Returns 0, or -1 with the reason in err.
 */
int journal_line_parse(const char *line, size_t len, struct journal_line *out,
    char *err, size_t errlen);

/* journal_chain_after - the chain state after the line (no "\n") */
void journal_chain_after(
    struct journal_chain *c, const char *line, size_t len, uint64_t seq);

/* journal_verify_init - start checking; continued: see the top comment */
void journal_verify_init(struct journal_verify *v, int continued);

/*
 * journal_verify_line - check the next line (without its "\n")
 *
 * Returns 0, or -1 with why the chain breaks at this line in err; the
 * state then stays at the line before.
 */
int journal_verify_line(struct journal_verify *v, const char *line, size_t len,
    char *err, size_t errlen);

/*
 * journal_verify_stream - check every line of fp, continuing v
 *
 * Returns 0 with the number of lines of fp in *nlines, or -1 with the
 * number of the breaking line of fp in *lineno (0 for a read error) and
 * why in err.  A last line without "\n" is a break: a truncated line.
 */
int journal_verify_stream(struct journal_verify *v, FILE *fp, uint64_t *nlines,
    uint64_t *lineno, char *err, size_t errlen);

#endif
