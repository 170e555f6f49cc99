/*
 * ctlproto.h - the control socket's line protocol (version 1)
 *
 * Shared by the daemon (milter/control.c) and saslguardctl.  The protocol
 * is described for operators in doc/control-protocol.md:
 *
 *   server: saslguard-control 1                          (greeting)
 *   client: COMMAND [ARG ...]                            (one per line)
 *   server: row KEY=VALUE ...                            (zero or more)
 *   server: ok [KEY=VALUE ...] | err CODE [MESSAGE]      (exactly one)
 *
 * Arguments, values and messages are escaped with escape_value(), so a
 * token never contains a space, a newline or a control byte.
 *
 * Requests are parsed into a struct ctl_request whose argv points into
 * its own buf: do not copy the struct by value.  Reply lines are built in
 * a struct ctl_line, a fixed buffer of CTL_REPLY_MAX bytes; nothing here
 * allocates.  A builder that runs out of room fails and stays failed
 * (sticky), so a caller may add every field and check once at the end.
 *
 * Every parser takes a pointer and a length and accepts any bytes: NUL,
 * over-long input and garbage give -1 and a message, never a crash.
 *
 * Thread safety: pure functions; no global state.
 * Tests: tests/test_ctlproto.c
 */
#ifndef SASLGUARD_CTLPROTO_H
#define SASLGUARD_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CTL_VERSION      1
#define CTL_GREETING     "saslguard-control 1"
#define CTL_LINE_MAX     4096 /* request line, including the newline */
#define CTL_REPLY_MAX    8192 /* reply line, including the newline */
#define CTL_ARGS_MAX     16   /* arguments after the command word */
#define CTL_CMD_MAX      32   /* command word, including the NUL */
#define CTL_KEY_MAX      32   /* reply key, including the NUL */
#define CTL_CODE_MAX     32   /* error code, including the NUL */
#define CTL_PAIRS_MAX    32   /* key=value pairs in one reply line */
#define CTL_TIME_BUFSIZE 21   /* "2026-11-28T02:57:14Z" and a NUL */

/* Error codes of "err" lines. */
#define CTL_E_SYNTAX    "syntax"          /* malformed request line */
#define CTL_E_TOO_LONG  "too-long"        /* line or argument list too long */
#define CTL_E_UNKNOWN   "unknown-command" /* no such command */
#define CTL_E_USAGE     "usage"           /* wrong arguments for the command */
#define CTL_E_BAD_USER  "bad-user"        /* not a valid user name */
#define CTL_E_NOT_FOUND "not-found"       /* no such user or message */
#define CTL_E_DENIED    "denied"          /* peer not allowed */
#define CTL_E_BUSY      "busy"            /* try again later */
#define CTL_E_INTERNAL  "internal"        /* the daemon failed */

enum ctl_kind {
	CTL_ROW = 1, /* one record of a listing */
	CTL_OK,      /* success; ends the reply */
	CTL_ERR      /* failure; ends the reply */
};

struct ctl_request {
	char        cmd[CTL_CMD_MAX];   /* command word, [a-z-]+ */
	int         argc;               /* arguments after the command */
	char       *argv[CTL_ARGS_MAX]; /* unescaped; point into buf */
	const char *errcode;            /* CTL_E_* when parsing failed */
	char        buf[CTL_LINE_MAX];  /* storage for argv */
};

struct ctl_line {
	size_t len;                     /* bytes in text, without the NUL */
	int    failed;                  /* sticky: something did not fit */
	char   text[CTL_REPLY_MAX + 1]; /* the line and a NUL */
};

struct ctl_pair {
	const char *key;   /* [a-z_0-9]+; points into the reply's buf */
	const char *value; /* unescaped; points into the reply's buf */
};

struct ctl_reply {
	enum ctl_kind   kind;
	int             npairs;              /* row and ok lines */
	struct ctl_pair pair[CTL_PAIRS_MAX]; /* in the order received */
	char            code[CTL_CODE_MAX];  /* err lines; else "" */
	const char     *message;             /* err lines, unescaped; else "" */
	char            buf[CTL_REPLY_MAX];  /* storage for pairs, message */
};

/*
 * ctl_greeting_parse - the protocol version from the server's greeting
 *
 * Accepts "saslguard-control N" with an optional "\n" (or "\r\n").
 * Returns 0 and stores N, or -1 with a message in err.
 */
int ctl_greeting_parse(
    const char *line, size_t len, unsigned *version, char *err, size_t errlen);

/*
 * ctl_request_parse - split one request line into command and arguments
 *
 * line need not be NUL-terminated; one trailing "\n" or "\r\n" is
 * allowed.  Returns 0, or -1 with r->errcode set to CTL_E_SYNTAX or
 * CTL_E_TOO_LONG and a message in err.
 */
int ctl_request_parse(const char *line, size_t len, struct ctl_request *r,
    char *err, size_t errlen);

/*
 * ctl_request_format - one request line, escaped and ending in "\n"
 *
 * Arguments must be non-empty.  Returns the line's length (without the
 * NUL), or -1 when cmd is not [a-z-]+, an argument is NULL or empty, argc
 * is out of range, or the line does not fit in buf or in CTL_LINE_MAX.
 */
int ctl_request_format(
    char *buf, size_t len, const char *cmd, int argc, const char *const *argv);

/* ctl_line_init - start a "row" or "ok" line (any other kind fails) */
void ctl_line_init(struct ctl_line *l, enum ctl_kind kind);

/*
 * ctl_line_add_str - append " key=value" with value escaped
 *
 * A NULL value is written as empty.  Returns 0, or -1 (and marks the line
 * failed) when key is not [a-z_0-9]+ or the pair does not fit.
 */
int ctl_line_add_str(struct ctl_line *l, const char *key, const char *value);

/* ctl_line_add_u64 - append " key=N" in decimal; 0 or -1 as above */
int ctl_line_add_u64(struct ctl_line *l, const char *key, uint64_t value);

/*
 * ctl_line_add_time - append " key=YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC)
 *
 * Fails like ctl_line_add_str, and for times outside years 0000..9999.
 */
int ctl_line_add_time(struct ctl_line *l, const char *key, time_t t);

/*
 * ctl_line_end - the finished line with its "\n"; length in *len if len
 *
 * Returns NULL when anything added before did not fit (the caller then
 * sends an "err internal" line instead).
 */
const char *ctl_line_end(struct ctl_line *l, size_t *len);

/*
 * ctl_line_err - an "err CODE MESSAGE\n" line in l; length in *len if len
 *
 * Never fails: an invalid code becomes "internal", an over-long message is
 * cut (never inside an escape).
 */
const char *ctl_line_err(
    struct ctl_line *l, const char *code, const char *message, size_t *len);

/*
 * ctl_format_time - t as RFC 3339 UTC into buf (CTL_TIME_BUFSIZE bytes)
 *
 * Returns 0, or -1 when buf is too small or the year is not 0000..9999.
 */
int ctl_format_time(char *buf, size_t len, time_t t);

/*
 * ctl_reply_parse - one reply line into its kind and fields
 *
 * line need not be NUL-terminated; one trailing "\n" or "\r\n" is
 * allowed.  Returns 0, or -1 with a message in err for anything not
 * exactly as this header describes (unknown kind, bad key, bad escape,
 * a value that decodes to NUL, double spaces, too many pairs, too long).
 */
int ctl_reply_parse(const char *line, size_t len, struct ctl_reply *out,
    char *err, size_t errlen);

/* ctl_reply_get - the value of the first pair named key, or NULL */
const char *ctl_reply_get(const struct ctl_reply *r, const char *key);

/*
 * ctl_json_str - s as a JSON string literal, quotes included
 *
 * Escapes '"', '\\', and bytes below 0x20 and 0x7f as \u00XX; replaces
 * each maximal ill-formed UTF-8 subsequence (overlong forms, surrogates,
 * code points past U+10FFFF, truncated sequences) by \ufffd.  A NULL s is
 * written as "".  Returns the length (without the NUL), or -1 when it
 * does not fit (buf then holds "" when len > 0).
 */
int ctl_json_str(char *buf, size_t len, const char *s);

/* ctl_json_strn - ctl_json_str() of n bytes that may include NUL */
int ctl_json_strn(char *buf, size_t len, const char *s, size_t n);

/*
 * ctlproto_fuzz - fuzzing entry point: every parser above on data
 *
 * Returns the number of parsers that accepted the input.
 */
int ctlproto_fuzz(const uint8_t *data, size_t size);

#endif
