/*
 * callbacks.c - libmilter callbacks: facts in, decision out
 *
 * Per transaction the filter needs: the login ({auth_authen} at MAIL),
 * the envelope sender (MAIL), the number of recipients (one RCPT callback
 * each), the client address (connect) and the queue ID (i, at end of
 * message).  It asks Postfix for exactly those macros in negotiate, turns
 * off the stages it does not use, and asks for no replies at RCPT, so a
 * transaction costs as few round trips as libmilter allows.
 *
 * Unauthenticated transactions are accepted at MAIL FROM: no further
 * callbacks for that message, nothing counted.  The one exception is a
 * bounce (null sender) while the backscatter signal is on: its recipients
 * are taken as logins and counted at end of message, and a surge flags
 * the account; the bounce itself always passes.  Everything is decided at
 * end of message, when the recipients Postfix really accepted are known;
 * only a flagged account with flagged_action tempfail/disconnect is refused
 * earlier, at MAIL FROM.
 *
 * Authenticated recipients are canonicalised at RCPT into a small
 * per-message set (signals.h): internal (local_domains) and external ones
 * apart, and the distinct external domains.  With local_domains set, only
 * external recipients count toward the recipients limits.  The signals
 * are this server's own: in cluster mode Redis decides the fixed limits
 * and the signals are not evaluated; a backscatter flag is pushed to the
 * cluster like an operator's.
 *
 * Errors never stop mail by surprise: an internal failure applies the
 * configured fail_action (accept by default) and is logged.
 *
 * Thread safety: each callback runs in the thread of its connection; the
 * shared state is locked inside the modules it calls.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "callbacks.h"
#include "cluster.h"
#include "control.h"
#include "daemon.h"
#include "duration.h"
#include "escape.h"
#include "linebuf.h"
#include "log.h"
#include "notify.h"
#include "policy.h"
#include "session.h"
#include "signals.h"

#define ESC(n) char n[3 * (ADDR_MAX + 1)]

/* fail - the configured answer to an internal error */
static sfsistat
fail(const struct conf *c)
{
	daemon_count(CNT_ERRORS, 1);
	return c != NULL && c->fail_action == FAIL_TEMPFAIL ? SMFIS_TEMPFAIL :
	    SMFIS_CONTINUE;
}

/* session_of - the session of ctx, created on first use; NULL on ENOMEM */
static struct session *
session_of(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);
	struct conf *c;

	if (s != NULL)
		return s;
	c = daemon_conf();
	s = session_create(c);
	conf_unref(c);
	if (s != NULL)
		signals_msg_reset(&s->sig);
	if (s != NULL && smfi_setpriv(ctx, s) != MI_SUCCESS) {
		session_destroy(s);
		s = NULL;
	}
	return s;
}

/* cb_negotiate - ask for what we need and nothing else */
static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH |
	    SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_RCPT;
	struct session *s;

	(void) f2;
	(void) f3;
	if ((f0 & SMFIF_QUARANTINE) == 0)
		log_warnx("negotiate: the MTA does not offer quarantine; "
		    "over-limit mail will be refused with a temporary error");
	*pf0 = f0 & (SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
	*pf1 = (f1 & want) | (f1 & noreply);
	*pf2 = 0;
	*pf3 = 0;
	if ((s = session_of(ctx)) != NULL)
		s->noreply = (unsigned) (f1 & noreply);
	/* headers only where a webmail host's header must be read */
	if (s != NULL && s->conf->nwebmail_hosts > 0) {
		*pf1 &= ~(unsigned long) SMFIP_NOHDRS;
		*pf1 |= f1 & SMFIP_NR_HDR;
		s->noreply |= (unsigned) (f1 & SMFIP_NR_HDR);
	}
	if (f0 & SMFIF_SETSYMLIST) {
		(void) smfi_setsymlist(ctx, SMFIM_CONNECT, (char *) "j");
		(void) smfi_setsymlist(ctx, SMFIM_ENVFROM,
		    (char *) "{auth_authen}");
		(void) smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *) "j");
		(void) smfi_setsymlist(ctx, SMFIM_EOM, (char *) "i");
	}
	return SMFIS_CONTINUE;
}

/* noreply - SMFIS_NOREPLY when the stage was negotiated without reply */
static sfsistat
noreply(const struct session *s, unsigned long flag)
{
	return s != NULL && (s->noreply & flag) ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

/* cb_connect - start a session */
static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s;

	(void) hostname;
	daemon_count(CNT_CONNECTIONS, 1);
	if ((s = session_of(ctx)) == NULL) {
		log_warnx("connect: cannot allocate a session");
		return SMFIS_TEMPFAIL;
	}
	session_set_client(s, hostaddr);
	return noreply(s, SMFIP_NR_CONN);
}

/* refuse_at_mail - answer MAIL FROM of a flagged account */
static sfsistat
refuse_at_mail(SMFICTX *ctx, struct session *s,
    const struct policy_decision *d)
{
	ESC(euser);
	ESC(eclient);

	escape_value(euser, sizeof(euser), s->user);
	escape_value(eclient, sizeof(eclient), s->client);
	if (d->monitor) {
		daemon_count(CNT_WOULD_HOLD, 1);
		log_info("NOQUEUE: would-%s: user=%s client=%s limit=flagged",
		    s->conf->flagged_action == FLAGGED_TEMPFAIL ? "tempfail" :
		    "disconnect", euser, eclient);
		return SMFIS_CONTINUE;
	}
	daemon_count(CNT_REFUSED, 1);
	log_info("NOQUEUE: %s: user=%s client=%s limit=flagged",
	    policy_action_name(d->action), euser, eclient);
	{
		const struct journal_field jf[] = {
			JOURNAL_STR("client", s->client),
			JOURNAL_STR("limit", "flagged"),
		};

		daemon_journal(d->action == ACTION_DISCONNECT ?
		    JOURNAL_DISCONNECT : JOURNAL_TEMPFAIL, s->user, jf, 2);
	}
	if (d->action == ACTION_DISCONNECT)
		(void) smfi_setreply(ctx, (char *) "421", (char *) "4.7.0",
		    (char *) "Account suspended for sending abuse, closing "
		    "connection");
	else
		(void) smfi_setreply(ctx, (char *) "451", (char *) "4.7.1",
		    (char *) "Account suspended for sending abuse, try again "
		    "later");
	return SMFIS_TEMPFAIL;
}

/* null_sender - 1 when MAIL FROM's argument is the null sender "<>" */
static int
null_sender(char **argv)
{
	const char *a = argv != NULL ? argv[0] : NULL;

	return a != NULL && (strcmp(a, "<>") == 0 || a[0] == '\0');
}

/* cb_envfrom - one transaction starts: who is sending? */
static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = smfi_getpriv(ctx);
	struct policy_decision d;
	const char *authen;
	ESC(eauth);

	daemon_count(CNT_TRANSACTIONS, 1);
	if (s == NULL)
		return SMFIS_CONTINUE;
	session_reset(s);
	signals_msg_reset(&s->sig);
	authen = smfi_getsymval(ctx, (char *) "{auth_authen}");
	if (authen == NULL || authen[0] == '\0') {
		/* a bounce: its recipients are counted (backscatter) */
		if (s->conf->limits.bounces.max != 0 && null_sender(argv)) {
			s->sig.bounce = 1;
			return SMFIS_CONTINUE;
		}
		return SMFIS_ACCEPT;	/* not ours to count */
	}
	if (session_set_login(s, authen) == -1) {
		escape_value(eauth, sizeof(eauth), authen);
		log_warnx("NOQUEUE: unusable login=%s", eauth);
		return fail(s->conf);
	}
	daemon_count(CNT_AUTHENTICATED, 1);
	s->auth = 1;
	/* Postfix takes the message's arrival time just after this call */
	s->mail_at = time(NULL);
	session_set_sender(s, argv != NULL && argv[0] != NULL ? argv[0] : "");
	/* with flagged_action hold the flag matters only at end of message */
	if (s->conf->flagged_action == FLAGGED_HOLD)
		return SMFIS_CONTINUE;
	policy_mail(s->conf->mode, s->conf->flagged_action,
	    accounts_flagged_p(sg->accounts, s->user), &d);
	if (d.action != ACTION_PASS || d.monitor)
		return refuse_at_mail(ctx, s, &d);
	return SMFIS_CONTINUE;
}

/* cb_envrcpt - count one accepted recipient */
static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = smfi_getpriv(ctx);
	const char *arg = argv != NULL && argv[0] != NULL ? argv[0] : "";
	char canon[ADDR_MAX + 1];
	int ok;

	if (s == NULL || (!s->auth && !s->sig.bounce))
		return noreply(s, SMFIP_NR_RCPT);
	/* the domain is what counts: no tag stripping */
	ok = addr_canon(arg, s->auth ? NULL : (s->conf->strip_tag ?
	    s->conf->recipient_delimiter : NULL), canon, sizeof(canon)) == 0;
	if (!s->auth) {
		if (ok && (s->conf->nlocal_domains == 0 ||
		    conf_local_domain(s->conf, addr_domain(canon))))
			signals_msg_bounce_rcpt(&s->sig, canon);
		return noreply(s, SMFIP_NR_RCPT);
	}
	if (s->nrcpt < UINT32_MAX)
		s->nrcpt++;
	/* "@": an address that does not parse counts as external */
	signals_msg_rcpt(&s->sig, s->conf, ok ? canon : "@");
	return noreply(s, SMFIP_NR_RCPT);
}

/* copy - src into dst of size bytes, cut to fit (no printf on the way) */
static void
copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* record - the message into the store; held ones wait for the commit */
static void
record(struct session *s, const char *qid, int held, time_t now)
{
	struct store_msg m;

	memset(&m, 0, sizeof(m));
	copy(m.queue_id, sizeof(m.queue_id), qid);
	copy(m.user, sizeof(m.user), s->user);
	copy(m.sender, sizeof(m.sender), s->sender_raw);
	m.nrcpt = s->nrcpt;
	copy(m.client, sizeof(m.client), s->client);
	/* the queue's arrival time, by which the message is found again */
	m.arrival = s->mail_at;
	m.held = held;
	m.state = STORE_QUEUED;
	m.recorded = now;
	if (held)
		(void) storeq_msg_sync(sg->storeq, &m);
	else
		(void) storeq_msg(sg->storeq, &m);
}

/* signal_list - append " signals=name:count/max,..." for the signals of d */
static void
signal_list(const struct policy_decision *d, struct linebuf *lb)
{
	size_t i;

	for (i = 0; i < d->nsig; i++) {
		lb_str(lb, i == 0 ? " signals=" : ",");
		lb_str(lb, policy_limit_name(d->sig[i].limit));
		lb_str(lb, ":");
		lb_u32(lb, d->sig[i].count);
		if (d->sig[i].max != 0) {
			lb_str(lb, "/");
			lb_u32(lb, d->sig[i].max);
		}
	}
}

/*
 * log_decision - the decision line, queue ID first
 *
 * Built piece by piece (linebuf.h), not with printf: it is written for
 * every authenticated message.
 */
static void
log_decision(const char *qid, const char *what, const struct session *s,
    const struct policy_decision *d)
{
	char line[LOG_LINE], win[32];
	struct linebuf lb;

	if (strcmp(what, "pass") != 0) {
		const struct journal_field jf[] = {
			JOURNAL_STR("queue_id", qid),
			JOURNAL_STR("sender", s->sender_raw),
			JOURNAL_NUM("rcpts", s->nrcpt),
			JOURNAL_STR("client", s->client),
			JOURNAL_STR("limit", policy_limit_name(d->limit)),
			JOURNAL_NUM("count", d->count),
			JOURNAL_NUM("max", d->max),
			JOURNAL_NUM("window", d->window),
		};

		daemon_journal(strcmp(what, "hold") == 0 ? JOURNAL_HOLD :
		    strcmp(what, "would-hold") == 0 ? JOURNAL_WOULD_HOLD :
		    JOURNAL_TEMPFAIL, s->user, jf, sizeof(jf) / sizeof(jf[0]));
	}
	lb_init(&lb, line, sizeof(line));
	lb_str(&lb, qid);
	lb_str(&lb, ": ");
	lb_str(&lb, what);
	lb_str(&lb, ": user=");
	lb_esc(&lb, s->user);
	lb_str(&lb, " sender=<");
	lb_esc(&lb, s->sender_raw);
	lb_str(&lb, "> rcpts=");
	lb_u32(&lb, s->nrcpt);
	lb_str(&lb, " client=");
	lb_esc(&lb, s->client);
	if (d->limit != LIMIT_NONE) {
		lb_str(&lb, " limit=");
		lb_str(&lb, policy_limit_name(d->limit));
	}
	if (d->limit != LIMIT_NONE && d->limit != LIMIT_FLAGGED &&
	    d->limit != LIMIT_SENDER_MISMATCH) {
		lb_str(&lb, " count=");
		lb_u32(&lb, d->count);
		lb_str(&lb, " max=");
		lb_u32(&lb, d->max);
		if (d->window) {
			duration_format(d->window, win, sizeof(win));
			lb_str(&lb, " window=");
			lb_str(&lb, win);
		}
	}
	signal_list(d, &lb);
	/* one pass line per message: the routine kind, written in batches */
	if (strcmp(what, "pass") == 0)
		log_info_batch(line);
	else
		log_info_line(line);
}

/*
 * flag_user - user crossed a limit: latch, log, persist; push: also to
 * the cluster (a flag Redis did not raise itself)
 */
static void
flag_user(const char *qid, const struct session *s, const char *user,
    const struct policy_decision *d, time_t now, int push)
{
	struct account_flag f;
	char win[32];
	ESC(euser);
	ESC(eclient);

	f.at = now;
	f.limit = d->limit;
	f.count = d->count;
	f.max = d->max;
	f.window = d->window;
	escape_value(euser, sizeof(euser), user);
	escape_value(eclient, sizeof(eclient), s->client);
	duration_format(d->window, win, sizeof(win));
	daemon_count(CNT_FLAGGED, 1);
	log_info("%s: flag: user=%s limit=%s count=%u max=%u%s%s client=%s",
	    qid, euser, policy_limit_name(d->limit), d->count, d->max,
	    d->window ? " window=" : "", d->window ? win : "", eclient);
	{
		const struct journal_field jf[] = {
			JOURNAL_STR("source", "policy"),
			JOURNAL_STR("queue_id", qid),
			JOURNAL_STR("limit", policy_limit_name(d->limit)),
			JOURNAL_NUM("count", d->count),
			JOURNAL_NUM("max", d->max),
			JOURNAL_NUM("window", d->window),
			JOURNAL_STR("client", s->client),
		};

		daemon_journal(JOURNAL_FLAG, user, jf,
		    sizeof(jf) / sizeof(jf[0]));
	}
	if (push)
		cluster_flag(user, &f, NULL, "policy", s->client, qid);
	(void) daemon_persist_flag(user, &f, NULL, "policy", s->client, qid);
	notify_flag(s->conf, user, &f, NULL, s->client, qid);
	if (s->conf->hold_queued_on_flag)
		control_contain(user);
}

/* flag_now - the account of the session crossed a limit */
static void
flag_now(const char *qid, const struct session *s,
    const struct policy_decision *d, time_t now)
{
	flag_user(qid, s, s->user, d, now, 0);
}

/* bounce_eom - a bounce is complete: count it against each recipient */
static void
bounce_eom(const char *qid, const struct session *s, time_t now)
{
	struct policy_decision d;
	char win[32];
	uint32_t i;
	ESC(euser);
	ESC(eclient);

	for (i = 0; i < s->sig.nbounce; i++) {
		if (accounts_bounce(sg->accounts, s->conf, s->sig.bounce_rcpt[i],
		    now, &d) == -1) {
			log_warnx("%s: cannot count a bounce: out of memory",
			    qid);
			daemon_count(CNT_ERRORS, 1);
			continue;
		}
		if (d.flag) {
			flag_user(qid, s, s->sig.bounce_rcpt[i], &d, now, 1);
		} else if (d.monitor) {
			escape_value(euser, sizeof(euser),
			    s->sig.bounce_rcpt[i]);
			escape_value(eclient, sizeof(eclient), s->client);
			duration_format(d.window, win, sizeof(win));
			log_info("%s: would-flag: user=%s limit=%s count=%u "
			    "max=%u window=%s client=%s", qid, euser,
			    policy_limit_name(d.limit), d.count, d.max, win,
			    eclient);
		}
	}
}

/* cb_eom - the message is complete: decide */
static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);
	struct accounts_txn t;
	struct policy_decision d;
	char qid[64];
	const char *i;
	time_t now;

	if (s == NULL || (!s->auth && !s->sig.bounce))
		return SMFIS_CONTINUE;
	i = smfi_getsymval(ctx, (char *) "i");
	if (i == NULL || escape_value(qid, sizeof(qid), i) >= sizeof(qid))
		snprintf(qid, sizeof(qid), "NOQUEUE");
	now = time(NULL);
	if (!s->auth) {
		bounce_eom(qid, s, now);
		return SMFIS_CONTINUE;
	}
	t.user = s->user;
	t.sender = s->sender;
	t.sender_ok = s->sender_ok;
	/* with local_domains, internal recipients do not count */
	t.nrcpt = s->conf->nlocal_domains > 0 ? s->sig.ext_rcpts : s->nrcpt;
	t.net = s->net;
	t.have_net = s->have_net;
	/* cluster mode: Redis decides; local counters when it cannot */
	if (cluster_eom(s->conf, &t, s->client, qid, &d) != 0 &&
	    accounts_eom_signals(sg->accounts, s->conf, &t, &s->sig, now,
	    &d) == -1) {
		log_warnx("%s: cannot track user: out of memory", qid);
		return fail(s->conf);
	}
	if (d.monitor) {
		daemon_count(CNT_WOULD_HOLD, 1);
		log_decision(qid, "would-hold", s, &d);
	} else if (d.action == ACTION_HOLD) {
		if (smfi_quarantine(ctx, (char *) "saslguard: account over "
		    "limit") != MI_SUCCESS) {
			log_warnx("%s: quarantine failed; refusing the message "
			    "for now", qid);
			(void) smfi_setreply(ctx, (char *) "451",
			    (char *) "4.7.1", (char *) "Try again later");
			log_decision(qid, "tempfail", s, &d);
			if (d.flag)
				flag_now(qid, s, &d, now);
			return SMFIS_TEMPFAIL;
		}
		daemon_count(CNT_HELD, 1);
		log_decision(qid, "hold", s, &d);
		if (d.flag)
			flag_now(qid, s, &d, now);
	} else {
		daemon_count(CNT_PASSED, 1);
		log_decision(qid, "pass", s, &d);
	}
	record(s, i != NULL ? i : "", d.action == ACTION_HOLD, now);
	return SMFIS_CONTINUE;
}

/* cb_header - a webmail host names its user's address in a header */
static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = smfi_getpriv(ctx);
	char ev[3 * SESSION_CLIENT_MAX];

	/* the first such header counts; the rest may come from the user */
	if (s == NULL || !s->webmail || !s->auth || name == NULL ||
	    value == NULL || strcasecmp(name, s->conf->webmail_header) != 0 ||
	    strcmp(s->client, s->conn_client) != 0)
		return noreply(s, SMFIP_NR_HDR);
	if (session_set_origin(s, value) == -1) {
		escape_value(ev, sizeof(ev), value);
		log_warnx("webmail: %s: not an address: %s",
		    s->conf->webmail_header, ev);
	}
	return noreply(s, SMFIP_NR_HDR);
}

/* cb_abort - the transaction was aborted: forget it */
static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL) {
		session_reset(s);
		signals_msg_reset(&s->sig);
	}
	return SMFIS_CONTINUE;
}

/* cb_close - the connection ends */
static sfsistat
cb_close(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL) {
		(void) smfi_setpriv(ctx, NULL);
		session_destroy(s);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
	.xxfi_name = (char *) "saslguard",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	.xxfi_connect = cb_connect,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

/* callbacks_filter - the filter description for smfi_register() */
struct smfiDesc *
callbacks_filter(void)
{
	return &filter;
}
