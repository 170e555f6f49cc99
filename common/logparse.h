/*
 * logparse.h - one mail log line -> one event (for the audit)
 *
 * Two steps, so a reader can drop uninteresting lines early:
 * lp_head_parse() splits "TIMESTAMP [HOST] TAG[PID]: TEXT" (classic syslog
 * or RFC 3339, with or without host, "prog[pid]:", "prog(pid):" or
 * "prog:") and names the program; lp_event_parse() reads TEXT of the
 * programs an audit cares about (Postfix, saslguard, Dovecot, saslauthd)
 * into an event.  Every string in the result is a span into the caller's
 * line: nothing is allocated or copied and the line must outlive them.
 *
 * Postfix program tags are "instance/[service/]daemon" (postfix/smtpd,
 * postfix/submission/smtpd, postfix-out/smtp): the daemon is the last
 * component, the instance the first.  Values of saslguard's own lines are
 * percent-escaped (see escape.h); ev->escaped says so and the caller
 * decodes them.  No span ever covers a password that a line may carry
 * (Dovecot's "given password: ...").
 *
 * Thread safety: pure functions.
 * Tests: tests/test_logparse.c
 */
#ifndef SASLGUARD_LOGPARSE_H
#define SASLGUARD_LOGPARSE_H

#include <stddef.h>

#include "logtime.h"

/* a piece of the caller's line; n == 0 means absent */
struct lp_span {
	const char *p;
	size_t      n;
};

enum lp_prog {
	LP_PROG_OTHER = 0,
	LP_PROG_POSTFIX,   /* first tag component starts with "postfix" */
	LP_PROG_SASLGUARD, /* this project's daemon */
	LP_PROG_DOVECOT,   /* dovecot, auth, auth-worker, *-login, ... */
	LP_PROG_SASLAUTHD
};

enum lp_daemon {
	LP_D_OTHER = 0,
	LP_D_SMTPD,
	LP_D_CLEANUP,
	LP_D_QMGR,
	LP_D_DELIVERY, /* smtp, lmtp, local, virtual, pipe, error, ... */
	LP_D_POSTSUPER,
	LP_D_BOUNCE,
	LP_D_PICKUP
};

struct lp_head {
	struct logtime ts;
	struct lp_span host;     /* absent in Dovecot's own files */
	struct lp_span tag;      /* "postfix/submission/smtpd" */
	struct lp_span instance; /* first tag component: "postfix" */
	struct lp_span daemon;   /* last tag component: "smtpd" */
	struct lp_span body;     /* all after the timestamp (for dedupe) */
	struct lp_span text;     /* the message after "TAG: " */
	struct lp_span pid;      /* as written, "2101"; absent when none */
	enum lp_prog   prog;
	enum lp_daemon daemon_id; /* Postfix lines only */
};

enum lp_kind {
	LP_IGNORED = 0, /* well-formed, nothing an audit uses */
	LP_SUBMIT,      /* smtpd "QID: client=..., sasl_username=..." */
	LP_PICKUP,      /* pickup "QID: uid=N from=<s>" */
	LP_MSGID,       /* cleanup "QID: message-id=<...>" */
	LP_HOLD,        /* cleanup milter-hold or "hold:" action */
	LP_REJECT,      /* cleanup milter-reject, reject, discard */
	LP_QUEUED,      /* qmgr "QID: from=<s>, size=N, nrcpt=N" */
	LP_EXPIRED,     /* qmgr "QID: from=<s>, status=expired" */
	LP_REMOVED,     /* qmgr "QID: removed": end of a lifecycle */
	LP_DELIVERY,    /* "QID: to=<r>, ... status=sent|bounced|..." */
	LP_DELETED,     /* postsuper "QID: removed" */
	LP_RELEASED,    /* postsuper "QID: released from hold" */
	LP_HELD,        /* postsuper "QID: placed on hold" */
	LP_REQUEUED,    /* postsuper "QID: requeued" */
	LP_NOTIFY,      /* bounce "QID: sender ... notification: NEWID" */
	LP_AUTH_FAIL,   /* a failed login */
	LP_LOGIN,       /* a successful login (Dovecot "Login:") */
	LP_SG_DECISION, /* saslguard "QID: hold: ..." and friends */
	LP_SG_CONTROL   /* saslguard "control: uid=N action=..." */
};

enum lp_status {
	LP_ST_NONE = 0,
	LP_ST_SENT,
	LP_ST_BOUNCED,
	LP_ST_DEFERRED,
	LP_ST_EXPIRED
};

/* who reported a failed login; one attempt may be reported by two */
enum lp_authsrc {
	LP_AUTH_FRONT = 0, /* Postfix smtpd warning, Dovecot login process */
	LP_AUTH_BACKEND,   /* Dovecot auth process, saslauthd do_auth */
	LP_AUTH_PAM        /* pam_unix "authentication failure" */
};

enum lp_sg {
	LP_SG_NONE = 0,
	LP_SG_PASS,
	LP_SG_HOLD,
	LP_SG_WOULD_HOLD,
	LP_SG_FLAG,
	LP_SG_TEMPFAIL,
	LP_SG_DISCONNECT
};

struct lp_event {
	enum lp_kind   kind;
	struct lp_span qid;    /* absent for NOQUEUE */
	struct lp_span newqid; /* queued as / orig_queue_id / NDR ID */
	struct lp_span user;   /* account (for failures: the name tried) */
	struct lp_span realm;  /* saslauthd realm, to be appended */
	struct lp_span client; /* address only: "203.0.113.66", "2001:db8::1" */
	struct lp_span sender; /* envelope sender, without <> */
	struct lp_span rcpt;   /* recipient, without <> */
	struct lp_span limit;  /* saslguard limit name */
	struct lp_span window; /* saslguard window, "1h" */
	struct lp_span action; /* saslguard control action */
	enum lp_status status;
	enum lp_authsrc authsrc;
	enum lp_sg      sg;
	int             escaped;  /* user, sender, client... percent-escaped */
	int             has_orig; /* newqid is an orig_queue_id */
	long            nrcpt;    /* -1 when absent (also saslguard rcpts) */
	long            size;
	long            count;                   /* attempts; saslguard count */
	long            max;                     /* saslguard max */
	long            uid;                     /* control uid */
	long            deleted, released, held; /* control counts */
};

/*
 * lp_head_parse - split line[0..len) (no newline) into its header parts
 *
 * Returns 0, or -1 when the line has no valid timestamp or program tag.
 */
int lp_head_parse(const char *line, size_t len, struct lp_head *h);

/*
 * lp_event_parse - read the text of a parsed line into ev
 *
 * Returns ev->kind; LP_IGNORED for lines the audit has no use for.
 */
enum lp_kind lp_event_parse(const struct lp_head *h, struct lp_event *ev);

/* lp_span_eq - 1 when span s equals the C string c */
int lp_span_eq(struct lp_span s, const char *c);

#endif
