/*
 * audit.h - saslguardctl audit: reconstruct incidents from mail logs
 *
 * audit_main() is the command.  The rest is the in-memory model shared by
 * the audit_*.c modules and the tests:
 *   audit_map.c     hash map, string interning, arena
 *   audit_input.c   files (plain, gzip, "-"), time order, dedupe
 *   audit_model.c   events -> messages, accounts, incidents
 *   audit_fail.c    failed logins
 *   audit_report.c  text and JSON reports
 *   audit_svg.c     the --svg timeline
 *   audit_suggest.c --suggest-limits: limits from past traffic
 * Memory is bounded by open queue IDs, accounts, client addresses and the
 * last minutes of messages per account, not by the size of the logs.
 *
 * Thread safety: none; one audit per thread.
 * Tests: tests/test_audit.c
 */
#ifndef SASLGUARD_AUDIT_H
#define SASLGUARD_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "logparse.h"

#define AUDIT_US     1000000LL
#define AUDIT_NO_MIN INT64_MIN
#define AUDIT_NO_MAX INT64_MAX

/* ---- audit_map.c ---- */

/* one slot of a map; key is owned by whoever owns val (or interned) */
struct amap_slot {
	uint64_t    hash; /* 0 = empty */
	const char *key;
	size_t      klen;
	void       *val;
};

/* open addressing, linear probing, backward-shift deletion */
struct amap {
	struct amap_slot *slot;
	size_t            cap; /* a power of two, or 0 */
	size_t            used;
};

/* a set of 64-bit hashes (distinct recipient domains) */
struct aset {
	uint64_t *v;
	size_t    cap, used;
};

/* bump allocator for strings that live as long as the audit */
struct arena {
	struct arena_chunk *head;
};

uint64_t amap_hash(const char *key, size_t n);
void    *amap_get(const struct amap *m, const char *key, size_t n, uint64_t h);
int  amap_put(struct amap *m, const char *key, size_t n, uint64_t h, void *val);
void amap_del(struct amap *m, const char *key, size_t n, uint64_t h);
void amap_free(struct amap *m);
int  aset_add(struct aset *s, uint64_t h);
void aset_free(struct aset *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void  arena_free(struct arena *a);
/* a value taken from a log line, NUL-terminated (long ones truncated) */
struct audit_value {
	char   s[512];
	size_t n;
};

/* audit_value - span s as a C string, percent-decoded when escaped */
void audit_value(struct audit_value *v, struct lp_span s, int escaped);

/* intern - the one arena copy of s[0..n), found or made; NULL on ENOMEM */
const char *intern(struct amap *m, struct arena *a, const char *s, size_t n);

/* ---- the model ---- */

enum audit_counter {
	AC_MESSAGES,   /* messages accepted (first hop only) */
	AC_RECIPIENTS, /* their recipients */
	AC_DELIVERED,  /* recipients delivered (not a hand-over) */
	AC_ESCAPED,    /* messages with at least one recipient delivered */
	AC_BOUNCED,    /* recipients bounced */
	AC_DEFERRED,   /* messages deferred at least once */
	AC_EXPIRED,    /* messages returned after the queue lifetime */
	AC_HELD,       /* messages put on hold */
	AC_RELEASED,   /* messages released from hold */
	AC_DELETED,    /* messages deleted from the queue */
	AC_REJECTED,   /* messages rejected or discarded by cleanup */
	AC_NCOUNTERS
};

/* messages per minute, sparse, in minute order */
struct audit_point {
	int64_t  minute; /* epoch minute */
	uint32_t n;
};

struct audit_series {
	struct audit_point *pt;
	size_t              n, cap;
};

#define AUDIT_SLOTS 10 /* the burst window: ten one-minute slots */

struct amsg;
struct audit_incident;
struct suggest;
struct suggest_account;

struct audit_user {
	const char *name; /* interned */
	uint64_t    c[AC_NCOUNTERS];
	uint64_t    logins;  /* successful IMAP/POP3 logins */
	uint64_t    sg_hold; /* saslguard hold decisions */
	uint64_t    sg_flag; /* saslguard flagged the account */
	uint64_t    ctl_deleted, ctl_released, ctl_held; /* control */
	int64_t     first_us, last_us;
	struct amap addrs;   /* interned address -> (uintptr_t) count */
	struct amap senders; /* interned sender -> (uintptr_t) count */
	int         flagged; /* saslguard says flagged, until unflag */
	/* burst detection */
	int64_t  slot_min[AUDIT_SLOTS];
	int64_t  slot_first[AUDIT_SLOTS];
	uint32_t slot_msgs[AUDIT_SLOTS];
	uint32_t slot_rcpts[AUDIT_SLOTS];
	int64_t  block;   /* 10-minute block being counted */
	uint32_t block_n; /* messages in it */
	double   typical; /* messages per busy 10 minutes, smoothed */
	struct audit_incident  *open; /* the incident still open, or NULL */
	struct amsg            *mhead, *mtail; /* its messages, oldest first */
	struct audit_series     series;        /* only with --svg */
	struct suggest_account *sg; /* --suggest-limits; owned by the suggest */
};

/* one account name tried, or one client address, of failed logins */
struct audit_fail {
	const char   *key;  /* interned */
	uint64_t      n[3]; /* by enum lp_authsrc */
	int64_t       first_us, last_us;
	struct afrun *run; /* recent runs, a ring; accounts only */
	size_t        nrun, caprun, headrun;
};

/* failed logins from one address in one minute ("before the incident") */
struct afrun {
	const char *addr; /* interned; "" when the line had none */
	int64_t     first_us, last_us;
	uint64_t    n;
	int         src;
};

struct audit_tally {
	const char *key;
	uint64_t    n;
};

struct audit_incident {
	struct audit_user  *user;
	int64_t             start_us, end_us;
	char                why[96]; /* what opened it */
	uint64_t            c[AC_NCOUNTERS];
	struct amap         addrs;   /* interned address -> count */
	struct aset         domains; /* delivered recipient domains */
	uint64_t            fail_hour, fail_day; /* failed logins before */
	struct audit_tally *fail_addrs;          /* in the day before */
	size_t              nfail_addrs;
};

struct audit_stats {
	uint64_t bytes;
	uint64_t read;
	uint64_t used;
	uint64_t ignored;   /* well-formed, not relevant */
	uint64_t unmatched; /* queue ID seen before the logs start */
	uint64_t malformed;
	uint64_t too_long;
	uint64_t truncated;
	uint64_t duplicate;
	uint64_t out_of_range;
};

struct audit_opts {
	int         json;
	const char *svg;         /* --svg FILE, or NULL */
	const char *user;        /* --user, or NULL */
	int64_t     since_us;    /* AUDIT_NO_MIN when unset */
	int64_t     until_us;    /* AUDIT_NO_MAX when unset */
	int64_t     now;         /* year inference reference; 0 = mtime */
	unsigned    burst;       /* messages per 10 minutes; 0 = default */
	size_t      bufsize;     /* read buffer; 0 = default */
	int         progress;    /* show progress on standard error */
	int64_t     progress_us; /* least time between updates; 0 = 250 ms */
};

/* progress of the reading, for the display on a terminal */
struct audit_progress {
	uint64_t total;   /* bytes of all files; 0 when one size is unknown */
	uint64_t done;    /* bytes of the files read to their end */
	int64_t  start;   /* monotonic microseconds */
	int64_t  last;    /* of the last update */
	int      shown;   /* something is on the line, to be cleared */
	unsigned pending; /* lines since the clock was read */
};

struct audit {
	struct audit_opts       opts;
	struct audit_stats      st;
	struct arena            arena;
	struct amap             strings;   /* interned strings */
	struct amap             users;     /* name -> struct audit_user */
	struct amap             msgs;      /* queue ID -> struct amsg */
	struct amsg            *lastmsg;   /* of the last find_msg(), or NULL */
	struct amap             fail_addr; /* address -> struct audit_fail */
	struct amap             fail_user; /* name tried -> struct audit_fail */
	struct audit_incident **inc;
	size_t                  ninc, capinc;
	struct amsg          *rhead, *rtail; /* ended messages, oldest first */
	int64_t               now_us;        /* newest line time seen */
	int64_t               first_us, last_us; /* of lines used */
	unsigned              nfiles;
	struct audit_series   fails; /* failed logins per minute (--svg) */
	int                   nomem; /* an allocation failed */
	struct audit_progress pg;
	struct suggest       *sg; /* --suggest-limits replay, or NULL */
};

/*
 * akey_eq - 1 when a[0..n) equals b[0..n)
 *
 * Queue IDs are 10 to 15 bytes: two overlapping eight-byte loads compare
 * them without a call to memcmp.
 */
static inline int
akey_eq(const char *a, const char *b, size_t n)
{
	uint64_t w, x, y, z;

	if (n < 8 || n > 16)
		return memcmp(a, b, n) == 0;
	memcpy(&w, a, 8);
	memcpy(&x, b, 8);
	memcpy(&y, a + n - 8, 8);
	memcpy(&z, b + n - 8, 8);
	return ((w ^ x) | (y ^ z)) == 0;
}

/* ---- audit_model.c ---- */

/* audit_init - an empty audit with options o */
void audit_init(struct audit *a, const struct audit_opts *o);

/* audit_free - everything an audit holds */
void audit_free(struct audit *a);

/* audit_line - apply one parsed line at time us; 1 used, 0 not, -1 ENOMEM */
int audit_line(struct audit *a, const struct lp_head *h, int64_t us);

/* audit_find_user - the account named name, or NULL */
struct audit_user *audit_find_user(const struct audit *a, const char *name);

/* ---- audit_fail.c ---- */

/* audit_fail_line - a failed login; 1 used, -1 ENOMEM */
int audit_fail_line(struct audit *a, const struct lp_event *ev, int64_t us);

/* audit_fails_before - failed logins for inc's account before its start */
int audit_fails_before(struct audit *a, struct audit_incident *inc);

/* audit_fails_free - the records of a failure map, and the map */
void audit_fails_free(struct amap *m);

/* audit_fail_count - failed logins of f, one per attempt */
uint64_t audit_fail_count(const struct audit_fail *f);

/* audit_fails_sorted - failure records of map m, most first */
struct audit_fail **audit_fails_sorted(const struct amap *m, size_t *n);

/* ---- audit_model.c, results ---- */

/* audit_tallies - the entries of an interned-key count map, sorted */
struct audit_tally *audit_tallies(const struct amap *m, size_t *n);

/* audit_users_sorted - the accounts, most messages first */
struct audit_user **audit_users_sorted(const struct audit *a, size_t *n);

/* audit_series_add - count n at epoch minute m */
int audit_series_add(struct audit_series *s, int64_t m, uint32_t n);

/* ---- audit_input.c ---- */

/*
 * audit_run - read files ("-" is standard input) in time order into a
 *
 * Returns 0, or -1 with a message in err (a file could not be opened or
 * read, or memory ran out).
 */
int audit_run(
    struct audit *a, char *const files[], int nfiles, char *err, size_t errlen);

/* audit_local_epoch - epoch seconds of local civil seconds c */
int64_t audit_local_epoch(int64_t c);

/* ---- audit_report.c ---- */

/* audit_fmt_time - RFC 3339 local time of us into buf */
void audit_fmt_time(char *buf, size_t len, int64_t us);

/* audit_summary - the one-sentence post-mortem of incident i */
void audit_summary(char *buf, size_t len, const struct audit_incident *i);

/* audit_report_text - the report for people */
int audit_report_text(const struct audit *a, FILE *fp);

/* audit_report_json - the report as one JSON object */
int audit_report_json(const struct audit *a, FILE *fp);

/* ---- audit_svg.c ---- */

/* audit_svg - the timeline as an SVG document */
int audit_svg(const struct audit *a, FILE *fp);

/* ---- audit_suggest.c ---- */

enum sg_limit {
	SG_MESSAGES,   /* limits.messages: messages per hour */
	SG_RECIPIENTS, /* limits.recipients: recipients per hour */
	SG_RPM,        /* limits.recipients_per_message */
	SG_NETWORKS,   /* limits.client_addresses: networks per hour */
	SG_NLIMITS
};

struct sg_minute;
struct sg_net;

/* one account: its traffic outside incidents and what is suggested */
struct suggest_account {
	const char *name;                  /* in the suggest's arena */
	uint32_t    normal[SG_NLIMITS];    /* busiest hour outside incidents */
	uint32_t    exception[SG_NLIMITS]; /* suggested; 0 = the global one */
	uint64_t    messages;              /* outside incidents */
	uint32_t    hours;                 /* clock hours with such mail */
	uint32_t   *inc;                   /* owned; its incidents (indices) */
	size_t      ninc;
	/* the last hour, while replaying; all owned */
	struct sg_minute *win; /* minutes with mail, oldest first */
	size_t            nwin, capwin;
	struct sg_net    *net; /* client networks and when last seen */
	size_t            nnet, capnet;
	int64_t           hour; /* clock hour being counted */
	uint32_t          hour_msgs, hour_rcpts;
};

/* one incident found by the audit, and its busiest hour */
struct suggest_incident {
	const char *user; /* in the suggest's arena */
	int64_t     start_us, end_us;
	uint32_t    peak[SG_NLIMITS]; /* all of the account's mail */
	unsigned    caught;           /* bit 1 << limit: that limit holds it */
};

#define SG_HIST 4096 /* exact hourly counts up to this; more share a bin */

struct suggest {
	struct arena             arena;
	struct amap              accounts; /* name -> struct suggest_account */
	struct suggest_incident *inc;      /* owned */
	size_t                   ninc;
	uint32_t                 global[SG_NLIMITS]; /* suggested limits */
	char                     why[SG_NLIMITS][160];
	uint32_t hist[2][SG_HIST + 1]; /* account-hours: messages, rcpts */
	uint32_t hist_max[2];
	uint64_t nhours;
	int64_t  first_us, last_us;
	unsigned nfiles;
};

/*
 * suggest_run - replay files twice: find the incidents, then measure
 *
 * The first pass is the audit itself; the second measures every account's
 * sliding hours outside its incidents and each incident's busiest hour.
 * Standard input cannot be read twice.  Returns 0 with *out set, or -1
 * with a message in err.
 */
int suggest_run(const struct audit_opts *o, char *const files[], int nfiles,
    struct suggest **out, char *err, size_t errlen);

/* suggest_message - a message of u accepted at us (model hook); -1 ENOMEM */
int suggest_message(struct suggest *s, struct audit_user *u, int64_t us,
    const char *client, uint32_t rcpts);

/* suggest_rcpts - n recipients of u's message accepted at us (model hook) */
int suggest_rcpts(
    struct suggest *s, struct audit_user *u, int64_t us, uint32_t n);

/* suggest_compute - the limits and exceptions from the measurements */
void suggest_compute(struct suggest *s);

/* suggest_find - the account named name, or NULL */
const struct suggest_account *suggest_find(
    const struct suggest *s, const char *name);

/* suggest_snippet - the limits group and exceptions, in libconfig */
int suggest_snippet(const struct suggest *s, FILE *fp);

/* suggest_report - the figures, the reasons and the snippet */
int suggest_report(const struct suggest *s, FILE *fp);

/* suggest_free - everything a suggest holds, and itself; NULL is fine */
void suggest_free(struct suggest *s);

/* ---- audit.c ---- */

/* audit_parse_time - "2026-11-28T02:57:14+01:00" or "2026-11-28 02:00" */
int audit_parse_time(const char *s, int64_t *us);

/* audit_main - "saslguardctl audit ..."; returns 0, 1 error, 2 usage */
int audit_main(int argc, char *argv[]);

#endif
