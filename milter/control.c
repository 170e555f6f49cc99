/*
 * control.c - the control socket: peer check, dispatch table, commands
 *
 * Commands (doc/control-protocol.md):
 *   list                      flagged accounts
 *   show USER                 flag, window counts against limits, networks,
 *                             senders, queued mail
 *   flag USER [REASON]        flag by hand (and hold its queued mail)
 *   unflag USER
 *   queue USER                the account's mail in any Postfix queue
 *   delete USER [--dry-run]   delete all of it, in every queue
 *   release USER [--dry-run]  release its held mail for delivery
 *   stats                     counters
 *   reload                    read the config file again
 *
 * Every command that changes something is logged with the peer's uid.
 *
 * Thread safety: one thread per client; shared state is locked by the
 * modules it lives in.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cluster.h"
#include "control.h"
#include "ctlproto.h"
#include "daemon.h"
#include "duration.h"
#include "escape.h"
#include "fdio.h"
#include "log.h"
#include "netaddr.h"
#include "notify.h"
#include "policy.h"
#include "queuetool.h"
#include "usermail.h"

struct client {
	int   fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

struct command {
	const char *name;
	int         minargs;
	int         maxargs;
	int (*fn)(struct client *, const struct ctl_request *);
};

#define DELETE_CHUNK 10000	/* queue IDs per postsuper run */

static int ctl_fd = -1;
static char *ctl_path;		/* owned */
static pthread_t ctl_thread;
static int ctl_running;
static pthread_mutex_t ctl_slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uid_t    uid;
	unsigned n;		/* 0 = free slot */
} ctl_slots[CONTROL_CLIENTS];	/* clients per uid; under ctl_slots_lock */
static unsigned ctl_clients;	/* under ctl_slots_lock */

/* slot_take - count a client of uid; 0, or -1 when a cap is reached */
static int
slot_take(uid_t uid)
{
	size_t i, fr = CONTROL_CLIENTS;
	int rc = -1;

	pthread_mutex_lock(&ctl_slots_lock);
	if (ctl_clients < CONTROL_CLIENTS) {
		for (i = 0; i < CONTROL_CLIENTS; i++) {
			if (ctl_slots[i].n > 0 && ctl_slots[i].uid == uid)
				break;
			if (ctl_slots[i].n == 0 && fr == CONTROL_CLIENTS)
				fr = i;
		}
		if (i == CONTROL_CLIENTS)
			i = fr;
		if (i < CONTROL_CLIENTS && ctl_slots[i].n < CONTROL_PER_UID) {
			ctl_slots[i].uid = uid;
			ctl_slots[i].n++;
			ctl_clients++;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&ctl_slots_lock);
	return rc;
}

/* slot_give - a client of uid is gone */
static void
slot_give(uid_t uid)
{
	size_t i;

	pthread_mutex_lock(&ctl_slots_lock);
	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (ctl_slots[i].n > 0 && ctl_slots[i].uid == uid) {
			ctl_slots[i].n--;
			ctl_clients--;
			break;
		}
	pthread_mutex_unlock(&ctl_slots_lock);
}

/* reply_line - finish l and send it */
static int
reply_line(struct client *cl, struct ctl_line *l)
{
	const char *t;
	size_t n;

	t = ctl_line_end(l, &n);
	return fd_send_all(cl->fd, t, n);
}

/* reply_err - an err line */
static int
reply_err(struct client *cl, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
reply_err(struct client *cl, const char *code, const char *fmt, ...)
{
	struct ctl_line l;
	char msg[1024];
	const char *t;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t = ctl_line_err(&l, code, msg, &n);
	return fd_send_all(cl->fd, t, n);
}

/* reply_ok - an ok line without fields */
static int
reply_ok(struct client *cl)
{
	struct ctl_line l;

	ctl_line_init(&l, CTL_OK);
	return reply_line(cl, &l);
}

/* canon_user - a user argument, lower-cased, or -1 with a reply sent */
static int
canon_user(struct client *cl, const char *arg, char *out, size_t len)
{
	size_t i;

	if (!addr_valid_user(arg) || strlen(arg) >= len) {
		reply_err(cl, CTL_E_BAD_USER, "not a valid user name");
		return -1;
	}
	for (i = 0; arg[i] != '\0'; i++)
		out[i] = (arg[i] >= 'A' && arg[i] <= 'Z') ? (char) (arg[i] + 32) :
		    arg[i];
	out[i] = '\0';
	return 0;
}

/* log_action - one line per operator action, for the audit */
static void
log_action(const struct client *cl, const char *action, const char *user,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
log_action(const struct client *cl, const char *action, const char *user,
    const char *fmt, ...)
{
	static const struct {
		const char *action;
		enum journal_event ev;
	} evs[] = {
		{ "flag", JOURNAL_FLAG }, { "unflag", JOURNAL_UNFLAG },
		{ "delete", JOURNAL_DELETE }, { "release", JOURNAL_RELEASE },
	};	/* reload is journaled by daemon_reload(), whoever asked */
	char euser[3 * 321], rest[512] = "";
	va_list ap;
	size_t i;

	escape_value(euser, sizeof(euser), user);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(rest, sizeof(rest), fmt, ap);
		va_end(ap);
	}
	log_info("control: uid=%lu action=%s user=%s%s%s",
	    (unsigned long) cl->uid, action, euser, rest[0] ? " " : "", rest);
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (strcmp(action, evs[i].action) == 0) {
			const struct journal_field jf[] = {
				JOURNAL_NUM("uid", cl->uid),
				JOURNAL_STR("detail", rest),
			};

			daemon_journal(evs[i].ev, strcmp(user, "-") == 0 ? "" :
			    user, jf, 2);
		}
}

/* held_now - the account's messages in the hold queue now; -1 on error */
static long
held_now(const char *user)
{
	struct usermail um;
	char err[256];
	size_t i;
	long n = 0;

	if (usermail_collect(user, &um, err, sizeof(err)) == -1)
		return -1;
	for (i = 0; i < um.n; i++)
		if (strcmp(um.msgs[i].queue_name, "hold") == 0)
			n++;
	usermail_free(&um);
	return n;
}

/* flag_row - the fields of one flagged account */
static void
flag_fields(struct ctl_line *l, const char *user, const struct account_flag *f,
    int with_user)
{
	struct store_flag sf;
	char err[256], win[32], reason[512];
	int have;

	pthread_mutex_lock(&sg->reader_lock);
	have = store_flag_get(sg->reader, user, &sf, err, sizeof(err)) == 1;
	pthread_mutex_unlock(&sg->reader_lock);
	if (with_user)
		ctl_line_add_str(l, "user", user);
	ctl_line_add_time(l, "flagged_at", f->at);
	ctl_line_add_str(l, "limit", policy_limit_name(f->limit));
	ctl_line_add_u64(l, "count", f->count);
	ctl_line_add_u64(l, "max", f->max);
	duration_format(f->window, win, sizeof(win));
	ctl_line_add_str(l, "window", f->window ? win : "");
	if (have && sf.reason[0] != '\0')
		snprintf(reason, sizeof(reason), "%s", sf.reason);
	else if (f->limit == LIMIT_SENDER_MISMATCH)
		snprintf(reason, sizeof(reason), "sender_mismatch");
	else if (f->window)
		snprintf(reason, sizeof(reason), "%s %u > %u in %s",
		    policy_limit_name(f->limit), f->count, f->max, win);
	else if (f->max)
		snprintf(reason, sizeof(reason), "%s %u > %u",
		    policy_limit_name(f->limit), f->count, f->max);
	else
		snprintf(reason, sizeof(reason), "%s", policy_limit_name(f->limit));
	ctl_line_add_str(l, "reason", reason);
	ctl_line_add_str(l, "source", have ? sf.source : "");
	ctl_line_add_str(l, "client", have ? sf.client : "");
}

static int
cmd_list(struct client *cl, const struct ctl_request *r)
{
	struct account_flagged *v;
	struct ctl_line l;
	size_t n, i;
	long held;

	(void) r;
	if (accounts_list_flagged(sg->accounts, &v, &n) == -1)
		return reply_err(cl, CTL_E_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		ctl_line_init(&l, CTL_ROW);
		flag_fields(&l, v[i].user, &v[i].flag, 1);
		held = held_now(v[i].user);
		if (held >= 0)
			ctl_line_add_u64(&l, "held", (uint64_t) held);
		else
			ctl_line_add_str(&l, "held", "unknown");
		if (reply_line(cl, &l) == -1) {
			free(v);
			return -1;
		}
	}
	free(v);
	ctl_line_init(&l, CTL_OK);
	ctl_line_add_u64(&l, "flagged", n);
	return reply_line(cl, &l);
}

/* limit_fields - used/max/window of one limit */
static void
limit_fields(struct ctl_line *l, const char *name, uint32_t used,
    const struct limit *lim)
{
	char key[64], win[32];

	snprintf(key, sizeof(key), "%s", name);
	ctl_line_add_u64(l, key, used);
	snprintf(key, sizeof(key), "%s_max", name);
	ctl_line_add_u64(l, key, lim->max);
	snprintf(key, sizeof(key), "%s_window", name);
	duration_format(lim->window, win, sizeof(win));
	ctl_line_add_str(l, key, win);
}

/* add_rate - " key=N.NN" for a per-hour figure */
static void
add_rate(struct ctl_line *l, const char *key, double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.2f", v);
	ctl_line_add_str(l, key, buf);
}

/* signal_fields - the signals' state of an account: baseline and counts */
static void
signal_fields(struct ctl_line *l, const struct conf *c,
    const struct limits *lim, const struct account_view *v)
{
	char win[32];

	ctl_line_init(l, CTL_ROW);
	ctl_line_add_str(l, "type", "signals");
	limit_fields(l, "recipient_domains", v->domains,
	    &lim->recipient_domains);
	limit_fields(l, "distinct_recipients", v->distinct,
	    &lim->distinct_recipients);
	limit_fields(l, "bounces", v->bounces, &lim->bounces);
	limit_fields(l, "failed_logins", v->failures, &lim->failed_logins);
	ctl_line_add_u64(l, "new_network_recipients",
	    lim->new_network_recipients);
	ctl_line_add_u64(l, "known_networks", v->known_networks);
	if (!c->baseline.enabled)
		ctl_line_add_str(l, "baseline", "off");
	else if (!v->has_history)
		ctl_line_add_str(l, "baseline", "none");
	else
		ctl_line_add_str(l, "baseline",
		    v->baseline_ready ? "ready" : "learning");
	if (!v->has_history)
		return;
	/* whole days and hours: the exact seconds say nothing more */
	if (v->history >= 86400)
		snprintf(win, sizeof(win), "%ud%uh", v->history / 86400,
		    v->history % 86400 / 3600);
	else
		snprintf(win, sizeof(win), "%uh", v->history / 3600);
	ctl_line_add_str(l, "baseline_history", win);
	add_rate(l, "baseline_messages_mean", v->mean[BASELINE_MESSAGES]);
	add_rate(l, "baseline_messages_sd", v->sd[BASELINE_MESSAGES]);
	add_rate(l, "baseline_recipients_mean", v->mean[BASELINE_RECIPIENTS]);
	add_rate(l, "baseline_recipients_sd", v->sd[BASELINE_RECIPIENTS]);
	ctl_line_add_u64(l, "baseline_messages_last_hour",
	    v->recent[BASELINE_MESSAGES]);
	ctl_line_add_u64(l, "baseline_recipients_last_hour",
	    v->recent[BASELINE_RECIPIENTS]);
	if (v->baseline_ready && c->baseline.enabled) {
		ctl_line_add_u64(l, "baseline_messages_bar",
		    v->bar[BASELINE_MESSAGES]);
		ctl_line_add_u64(l, "baseline_recipients_bar",
		    v->bar[BASELINE_RECIPIENTS]);
	}
}

/* queue_rows - one row per queued message */
static int
queue_rows(struct client *cl, const struct usermail *um)
{
	struct ctl_line l;
	size_t i;

	for (i = 0; i < um->n; i++) {
		ctl_line_init(&l, CTL_ROW);
		ctl_line_add_str(&l, "type", "message");
		ctl_line_add_str(&l, "queue_id", um->msgs[i].queue_id);
		ctl_line_add_str(&l, "queue", um->msgs[i].queue_name);
		ctl_line_add_str(&l, "sender", um->msgs[i].sender);
		ctl_line_add_u64(&l, "recipients", um->msgs[i].nrcpt);
		ctl_line_add_time(&l, "arrival", um->msgs[i].arrival);
		ctl_line_add_u64(&l, "size", um->msgs[i].size);
		if (reply_line(cl, &l) == -1)
			return -1;
	}
	return 0;
}

static int
cmd_show(struct client *cl, const struct ctl_request *r)
{
	struct account_view v;
	struct usermail um;
	const struct limits *lim;
	char *const *senders;
	struct ctl_line l;
	struct conf *c;
	char user[ADDR_MAX + 1], net[64], err[256];
	size_t nsenders, i;
	uint32_t held = 0;
	int rc = 0;

	if (canon_user(cl, r->argv[0], user, sizeof(user)) == -1)
		return 0;
	c = daemon_conf();
	accounts_view(sg->accounts, c, user, time(NULL), &v);
	lim = conf_account(c, user, &senders, &nsenders);
	ctl_line_init(&l, CTL_ROW);
	ctl_line_add_str(&l, "type", "account");
	ctl_line_add_str(&l, "user", user);
	ctl_line_add_str(&l, "flagged", v.flagged ? "yes" : "no");
	if (v.flagged)
		flag_fields(&l, user, &v.flag, 0);
	limit_fields(&l, "messages", v.messages, &lim->messages);
	limit_fields(&l, "recipients", v.recipients, &lim->recipients);
	limit_fields(&l, "client_addresses", v.networks,
	    &lim->client_addresses);
	ctl_line_add_u64(&l, "recipients_per_message_max",
	    lim->recipients_per_message);
	ctl_line_add_str(&l, "sender_mismatch",
	    lim->sender_mismatch ? "on" : "off");
	if (v.known)
		ctl_line_add_time(&l, "last_seen", v.last_seen);
	pthread_mutex_lock(&sg->reader_lock);
	(void) store_held_count(sg->reader, user, &held, err, sizeof(err));
	pthread_mutex_unlock(&sg->reader_lock);
	ctl_line_add_u64(&l, "held_recorded", held);
	if (reply_line(cl, &l) == -1) {
		conf_unref(c);
		return -1;
	}
	signal_fields(&l, c, lim, &v);
	rc = reply_line(cl, &l);
	for (i = 0; i < v.nnets && rc == 0; i++) {
		netaddr_format(v.nets[i].key, c->ipv4_prefix, c->ipv6_prefix,
		    net, sizeof(net));
		ctl_line_init(&l, CTL_ROW);
		ctl_line_add_str(&l, "type", "network");
		ctl_line_add_str(&l, "network", net);
		ctl_line_add_time(&l, "last_seen", (time_t) v.nets[i].seen);
		rc = reply_line(cl, &l);
	}
	for (i = 0; i < v.nsenders && rc == 0; i++) {
		ctl_line_init(&l, CTL_ROW);
		ctl_line_add_str(&l, "type", "sender");
		ctl_line_add_str(&l, "sender", v.senders[i]);
		rc = reply_line(cl, &l);
	}
	conf_unref(c);
	if (rc == -1)
		return -1;
	if (usermail_collect(user, &um, err, sizeof(err)) == -1)
		return reply_err(cl, CTL_E_INTERNAL, "queue: %s", err);
	rc = queue_rows(cl, &um);
	usermail_free(&um);
	return rc == -1 ? -1 : reply_ok(cl);
}

/* contain_thread - hold the queued mail of one user */
static void *
contain_thread(void *arg)
{
	char *user = arg, euser[3 * 321], err[256];
	const char **ids;
	struct usermail um;
	unsigned long done = 0;
	size_t i, n = 0;

	escape_value(euser, sizeof(euser), user);
	if (usermail_collect(user, &um, err, sizeof(err)) == -1) {
		log_warnx("contain: user=%s: %s", euser, err);
		free(user);
		return NULL;
	}
	if ((ids = calloc(um.n + 1, sizeof(*ids))) != NULL) {
		for (i = 0; i < um.n; i++)
			if (strcmp(um.msgs[i].queue_name, "hold") != 0)
				ids[n++] = um.msgs[i].queue_id;
		if (n > 0 && queuetool_apply(QUEUE_HOLD, NULL, ids, n, &done,
		    err, sizeof(err)) == -1)
			log_warnx("contain: user=%s: %s", euser, err);
		else if (n > 0)
			log_info("contain: user=%s action=hold held=%lu", euser,
			    done);
		free(ids);
	}
	usermail_free(&um);
	free(user);
	return NULL;
}

/* control_contain - hold the queued mail of user, in the background */
void
control_contain(const char *user)
{
	pthread_t t;
	char *u;

	if ((u = strdup(user)) == NULL)
		return;
	if (pthread_create(&t, NULL, contain_thread, u) != 0) {
		free(u);
		return;
	}
	pthread_detach(t);
}

static int
cmd_flag(struct client *cl, const struct ctl_request *r)
{
	struct account_flag f;
	struct conf *c;
	char user[ADDR_MAX + 1], reason[256] = "flagged by operator";
	int rc;

	if (canon_user(cl, r->argv[0], user, sizeof(user)) == -1)
		return 0;
	if (r->argc > 1)
		snprintf(reason, sizeof(reason), "%s", r->argv[1]);
	memset(&f, 0, sizeof(f));
	f.at = time(NULL);
	f.limit = LIMIT_OPERATOR;
	rc = daemon_flag(user, &f, reason, "operator", NULL, NULL);
	if (rc == -1 && !accounts_flagged_p(sg->accounts, user))
		return reply_err(cl, CTL_E_INTERNAL, "cannot flag");
	log_action(cl, "flag", user, "new=%s", rc == 0 ? "no" : "yes");
	c = daemon_conf();
	if (rc != 0 && c->hold_queued_on_flag)
		control_contain(user);
	if (rc != 0)
		notify_flag(c, user, &f, reason, NULL, NULL);
	conf_unref(c);
	{
		struct ctl_line l;

		ctl_line_init(&l, CTL_OK);
		ctl_line_add_str(&l, "user", user);
		ctl_line_add_str(&l, "already", rc == 0 ? "yes" : "no");
		if (rc == -1)
			ctl_line_add_str(&l, "stored", "later");
		return reply_line(cl, &l);
	}
}

static int
cmd_unflag(struct client *cl, const struct ctl_request *r)
{
	char user[ADDR_MAX + 1];
	struct ctl_line l;
	int rc;

	if (canon_user(cl, r->argv[0], user, sizeof(user)) == -1)
		return 0;
	if (!accounts_flagged_p(sg->accounts, user))
		return reply_err(cl, CTL_E_NOT_FOUND, "%s is not flagged", user);
	if ((rc = daemon_unflag(user)) == -1)
		return reply_err(cl, CTL_E_INTERNAL, "the store failed; the "
		    "flag is cleared in memory but may return after a restart");
	log_action(cl, "unflag", user, NULL);
	ctl_line_init(&l, CTL_OK);
	ctl_line_add_str(&l, "user", user);
	return reply_line(cl, &l);
}

static int
cmd_queue(struct client *cl, const struct ctl_request *r)
{
	struct usermail um;
	struct ctl_line l;
	char user[ADDR_MAX + 1], err[256];

	if (canon_user(cl, r->argv[0], user, sizeof(user)) == -1)
		return 0;
	if (usermail_collect(user, &um, err, sizeof(err)) == -1)
		return reply_err(cl, CTL_E_INTERNAL, "queue: %s", err);
	if (queue_rows(cl, &um) == -1) {
		usermail_free(&um);
		return -1;
	}
	ctl_line_init(&l, CTL_OK);
	ctl_line_add_str(&l, "user", user);
	ctl_line_add_u64(&l, "messages", um.n);
	ctl_line_add_u64(&l, "stale_ids", um.stale);
	usermail_free(&um);
	return reply_line(cl, &l);
}

/* count_queue - one more message of the op in queue q */
static void
count_queue(struct cluster_result *pq, const char *q)
{
	if (strcmp(q, "hold") == 0)
		pq->hold++;
	else if (strcmp(q, "incoming") == 0)
		pq->incoming++;
	else if (strcmp(q, "active") == 0)
		pq->active++;
	else if (strcmp(q, "deferred") == 0)
		pq->deferred++;
	else
		pq->other++;
}

static void
add_per_queue(struct ctl_line *l, const struct cluster_result *pq)
{
	ctl_line_add_u64(l, "hold", pq->hold);
	ctl_line_add_u64(l, "incoming", pq->incoming);
	ctl_line_add_u64(l, "active", pq->active);
	ctl_line_add_u64(l, "deferred", pq->deferred);
	if (pq->other)
		ctl_line_add_u64(l, "other", pq->other);
}

/* dry_run - 1 when the optional second argument asks for it */
static int
dry_run(const struct ctl_request *r, int *bad)
{
	*bad = 0;
	if (r->argc < 2)
		return 0;
	if (strcmp(r->argv[1], "--dry-run") == 0 ||
	    strcmp(r->argv[1], "-n") == 0)
		return 1;
	*bad = 1;
	return 0;
}

/* mark - record the new state of the n messages under keys in the store */
static void
mark(const char *user, const struct store_key *keys, size_t n, int state)
{
	char err[256], euser[3 * 321];
	uint32_t changed;
	int rc;

	if (n == 0)
		return;
	pthread_mutex_lock(&sg->reader_lock);
	rc = store_msgs_mark(sg->reader, user, keys, n, state, &changed, err,
	    sizeof(err));
	pthread_mutex_unlock(&sg->reader_lock);
	if (rc == -1) {
		escape_value(euser, sizeof(euser), user);
		log_warnx("store: user=%s: %zu messages %s but not marked so: "
		    "%s", euser, n, store_state_name(state), err);
	}
}

/* key_of - the store's key of a queued message */
static struct store_key
key_of(const struct pq_msg *m)
{
	struct store_key k = { m->queue_id, m->arrival };

	return k;
}

/*
 * delete_local - delete (dry: count) user's mail in this server's queue;
 * um gets the messages (the caller frees it), r the counts; 0, or -1
 * with r->error
 */
static int
delete_local(const char *user, int dry, struct usermail *um,
    struct cluster_result *r, struct client *progress)
{
	const char **ids;
	struct store_key *keys;
	char err[256];
	unsigned long done;
	size_t i, off, n;

	memset(r, 0, sizeof(*r));
	if (usermail_collect(user, um, err, sizeof(err)) == -1) {
		snprintf(r->error, sizeof(r->error), "queue: %s", err);
		return -1;
	}
	ids = calloc(um->n + 1, sizeof(*ids));
	keys = calloc(um->n + 1, sizeof(*keys));
	if (ids == NULL || keys == NULL) {
		free(ids);
		free(keys);
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -1;
	}
	for (i = 0; i < um->n; i++) {
		ids[i] = um->msgs[i].queue_id;
		keys[i] = key_of(&um->msgs[i]);
		count_queue(r, um->msgs[i].queue_name);
	}
	if (dry)
		r->done = um->n;
	else {
		/*
		 * One postsuper per DELETE_CHUNK IDs: still a handful of
		 * processes for 100,000 messages, and a progress row after
		 * each for the operator waiting at the terminal.
		 */
		for (off = 0; off < um->n; off += n) {
			n = um->n - off < DELETE_CHUNK ? um->n - off :
			    DELETE_CHUNK;
			if (queuetool_apply(QUEUE_DELETE, NULL, ids + off, n,
			    &done, err, sizeof(err)) == -1) {
				free(ids);
				free(keys);
				snprintf(r->error, sizeof(r->error),
				    "postsuper: %s", err);
				return -1;
			}
			r->done += done;
			mark(user, keys + off, n, STORE_DELETED);
			if (progress != NULL && um->n > DELETE_CHUNK) {
				struct ctl_line l;

				ctl_line_init(&l, CTL_ROW);
				ctl_line_add_str(&l, "type", "progress");
				ctl_line_add_u64(&l, "done", off + n);
				ctl_line_add_u64(&l, "total", um->n);
				(void) reply_line(progress, &l);
			}
		}
	}
	free(ids);
	free(keys);
	return 0;
}

/*
 * release_local - release (dry: count) user's held mail in this server's
 * queue; long-held mail is requeued, or it would bounce at once.  um and
 * r as for delete_local; r->done counts the requeued ones too.
 */
static int
release_local(const char *user, int dry, struct usermail *um,
    struct cluster_result *r)
{
	struct conf *c;
	const char **fresh, **old;
	struct store_key *fresh_k, *old_k;
	char err[256];
	unsigned long d1 = 0, d2 = 0, d3 = 0;
	size_t i, nf = 0, no = 0;
	time_t now = time(NULL), age;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (usermail_collect(user, um, err, sizeof(err)) == -1) {
		snprintf(r->error, sizeof(r->error), "queue: %s", err);
		return -1;
	}
	fresh = calloc(um->n + 1, sizeof(*fresh));
	old = calloc(um->n + 1, sizeof(*old));
	fresh_k = calloc(um->n + 1, sizeof(*fresh_k));
	old_k = calloc(um->n + 1, sizeof(*old_k));
	if (fresh == NULL || old == NULL || fresh_k == NULL || old_k == NULL) {
		free(fresh);
		free(old);
		free(fresh_k);
		free(old_k);
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -1;
	}
	c = daemon_conf();
	age = (time_t) c->release_requeue_age;
	conf_unref(c);
	for (i = 0; i < um->n; i++) {
		count_queue(r, um->msgs[i].queue_name);
		if (strcmp(um->msgs[i].queue_name, "hold") != 0)
			continue;
		if (now - um->msgs[i].arrival > age) {
			old_k[no] = key_of(&um->msgs[i]);
			old[no++] = um->msgs[i].queue_id;
		} else {
			fresh_k[nf] = key_of(&um->msgs[i]);
			fresh[nf++] = um->msgs[i].queue_id;
		}
	}
	if (dry) {
		r->done = nf + no;
		r->requeued = no;
	} else {
		if (nf > 0 && queuetool_apply(QUEUE_RELEASE, "hold", fresh, nf,
		    &d1, err, sizeof(err)) == -1)
			rc = -1;
		if (rc == 0 && no > 0 && queuetool_apply(QUEUE_REQUEUE, "hold",
		    old, no, &d2, err, sizeof(err)) == -1)
			rc = -1;
		if (rc == -1)
			snprintf(r->error, sizeof(r->error), "postsuper: %s",
			    err);
		/* released mail waits for the next queue run: not this one */
		if (rc == 0 && nf > 0 && queuetool_schedule(fresh, nf, &d3,
		    err, sizeof(err)) == -1)
			log_warnx("release: %s", err);
		if (d1 + d2 > 0 || rc == 0) {
			mark(user, fresh_k, nf, STORE_RELEASED);
			mark(user, old_k, no, STORE_RELEASED);
		}
		r->done = d1 + d2;
		r->requeued = d2;
	}
	free(fresh);
	free(old);
	free(fresh_k);
	free(old_k);
	return rc;
}

/* control_queue_local - delete or release user's mail in this queue */
int
control_queue_local(enum cluster_queue_op op, const char *user, int dry,
    struct cluster_result *r)
{
	struct usermail um;
	int rc;

	if (op == CLUSTER_OP_DELETE)
		rc = delete_local(user, dry, &um, r, NULL);
	else
		rc = release_local(user, dry, &um, r);
	usermail_free(&um);
	return rc;
}

/* emit_line - send a line built by the cluster module */
static int
emit_line(struct ctl_line *l, void *arg)
{
	return reply_line(arg, l);
}

static int
cmd_delete(struct client *cl, const struct ctl_request *r)
{
	struct cluster_result res;
	struct usermail um;
	struct ctl_line l;
	char user[ADDR_MAX + 1];
	int dry, bad;

	if (canon_user(cl, r->argv[0], user, sizeof(user)) == -1)
		return 0;
	dry = dry_run(r, &bad);
	if (bad)
		return reply_err(cl, CTL_E_USAGE, "usage: delete USER [--dry-run]");
	if (cluster_enabled()) {	/* cluster: each server, its own queue */
		if (!dry)
			log_action(cl, "delete", user, "cluster=yes");
		return cluster_queue_cmd(CLUSTER_OP_DELETE, user, dry,
		    emit_line, cl);
	}
	if (delete_local(user, dry, &um, &res, cl) == -1) {
		usermail_free(&um);
		return reply_err(cl, CTL_E_INTERNAL, "%s", res.error);
	}
	if (dry && queue_rows(cl, &um) == -1) {
		usermail_free(&um);
		return -1;
	}
	if (!dry && um.n > 0)
		log_action(cl, "delete", user, "deleted=%lu hold=%lu "
		    "incoming=%lu active=%lu deferred=%lu", res.done, res.hold,
		    res.incoming, res.active, res.deferred);
	ctl_line_init(&l, CTL_OK);
	ctl_line_add_str(&l, "user", user);
	ctl_line_add_u64(&l, dry ? "would_delete" : "deleted", res.done);
	add_per_queue(&l, &res);
	ctl_line_add_str(&l, "dry_run", dry ? "yes" : "no");
	usermail_free(&um);
	return reply_line(cl, &l);
}

static int
cmd_release(struct client *cl, const struct ctl_request *r)
{
	struct cluster_result res;
	struct usermail um;
	struct ctl_line l;
	struct conf *c;
	char user[ADDR_MAX + 1];
	size_t i;
	time_t now = time(NULL), age;
	int dry, bad, rc;

	if (canon_user(cl, r->argv[0], user, sizeof(user)) == -1)
		return 0;
	dry = dry_run(r, &bad);
	if (bad)
		return reply_err(cl, CTL_E_USAGE,
		    "usage: release USER [--dry-run]");
	if (cluster_enabled()) {	/* cluster: each server, its own queue */
		if (!dry)
			log_action(cl, "release", user, "cluster=yes");
		return cluster_queue_cmd(CLUSTER_OP_RELEASE, user, dry,
		    emit_line, cl);
	}
	rc = release_local(user, dry, &um, &res);
	if (!dry && (res.done > 0 || rc == 0))
		log_action(cl, "release", user, "released=%lu requeued=%lu",
		    res.done - res.requeued, res.requeued);
	if (rc == -1) {
		usermail_free(&um);
		return reply_err(cl, CTL_E_INTERNAL, "%s", res.error);
	}
	c = daemon_conf();
	age = (time_t) c->release_requeue_age;
	conf_unref(c);
	for (i = 0; dry && i < um.n && rc == 0; i++)
		if (strcmp(um.msgs[i].queue_name, "hold") == 0) {
			ctl_line_init(&l, CTL_ROW);
			ctl_line_add_str(&l, "queue_id", um.msgs[i].queue_id);
			ctl_line_add_str(&l, "method",
			    now - um.msgs[i].arrival > age ? "requeue" :
			    "release");
			rc = reply_line(cl, &l);
		}
	usermail_free(&um);
	if (rc == -1)
		return -1;
	ctl_line_init(&l, CTL_OK);
	ctl_line_add_str(&l, "user", user);
	ctl_line_add_u64(&l, dry ? "would_release" : "released", res.done);
	ctl_line_add_u64(&l, "requeued", res.requeued);
	ctl_line_add_str(&l, "dry_run", dry ? "yes" : "no");
	return reply_line(cl, &l);
}

static int
cmd_stats(struct client *cl, const struct ctl_request *r)
{
	struct ctl_line l;
	struct conf *c;
	uint64_t pending, written, failed, dropped;
	size_t tracked, flagged;
	int k;

	(void) r;
	accounts_count(sg->accounts, &tracked, &flagged);
	storeq_stats(sg->storeq, &pending, &written, &failed, &dropped);
	c = daemon_conf();
	ctl_line_init(&l, CTL_OK);
	ctl_line_add_str(&l, "version", PACKAGE_VERSION);
	ctl_line_add_str(&l, "mode", c->mode == MODE_MONITOR ? "monitor" :
	    "enforce");
	ctl_line_add_str(&l, "cluster", cluster_state());
	conf_unref(c);
	ctl_line_add_u64(&l, "uptime", (uint64_t) (time(NULL) - sg->started));
	for (k = 0; k < CNT_MAX_; k++)
		ctl_line_add_u64(&l, daemon_counter_name(k),
		    daemon_counter(k));
	ctl_line_add_u64(&l, "tracked_users", tracked);
	ctl_line_add_u64(&l, "flagged_accounts", flagged);
	ctl_line_add_u64(&l, "store_pending", pending);
	ctl_line_add_u64(&l, "store_written", written);
	ctl_line_add_u64(&l, "store_failed", failed);
	ctl_line_add_u64(&l, "store_dropped", dropped);
	return reply_line(cl, &l);
}

static int
cmd_reload(struct client *cl, const struct ctl_request *r)
{
	char err[4096];

	(void) r;
	if (daemon_reload(err, sizeof(err)) == -1) {
		log_warnx("reload: keeping the running configuration: %s", err);
		return reply_err(cl, CTL_E_INTERNAL, "%s", err);
	}
	log_action(cl, "reload", "-", NULL);
	return reply_ok(cl);
}

static const struct command commands[] = {
	{ "list", 0, 0, cmd_list },
	{ "show", 1, 1, cmd_show },
	{ "flag", 1, 2, cmd_flag },
	{ "unflag", 1, 1, cmd_unflag },
	{ "queue", 1, 1, cmd_queue },
	{ "delete", 1, 2, cmd_delete },
	{ "release", 1, 2, cmd_release },
	{ "stats", 0, 0, cmd_stats },
	{ "reload", 0, 0, cmd_reload },
};

/* dispatch - run one request; -1 when the client is gone */
static int
dispatch(struct client *cl, const struct ctl_request *r)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(r->cmd, commands[i].name) != 0)
			continue;
		if (r->argc < commands[i].minargs ||
		    r->argc > commands[i].maxargs)
			return reply_err(cl, CTL_E_USAGE,
			    "wrong number of arguments for %s", r->cmd);
		return commands[i].fn(cl, r);
	}
	return reply_err(cl, CTL_E_UNKNOWN, "unknown command");
}

/* allowed - may this peer use the socket? */
static int
allowed(const struct client *cl, const struct conf *c)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t groups[256];
	int ngroups = 256, i;
	size_t k;

	if (cl->uid == 0)
		return 1;
	for (k = 0; k < c->ncontrol_uids; k++)
		if (c->control_uids[k] == cl->uid)
			return 1;
	for (k = 0; k < c->ncontrol_gids; k++)
		if (c->control_gids[k] == cl->gid)
			return 1;
	if (c->ncontrol_gids == 0 ||
	    getpwuid_r(cl->uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return 0;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) == -1)
		return 0;
	for (i = 0; i < ngroups; i++)
		for (k = 0; k < c->ncontrol_gids; k++)
			if (groups[i] == c->control_gids[k])
				return 1;
	return 0;
}

/* client_thread - serve one client until it leaves or idles out */
static void *
client_thread(void *arg)
{
	struct client *cl = arg;
	struct ctl_request *req;
	struct conf *c;
	char buf[CTL_LINE_MAX], err[256], *nl;
	size_t have = 0;
	ssize_t n;
	int overlong = 0, served = 0;

	c = daemon_conf();
	if (!allowed(cl, c)) {
		log_warnx("control: uid=%lu pid=%ld refused: not allowed",
		    (unsigned long) cl->uid, (long) cl->pid);
		reply_err(cl, CTL_E_DENIED, "uid %lu is not allowed to use "
		    "the control socket", (unsigned long) cl->uid);
		conf_unref(c);
		goto out;
	}
	conf_unref(c);
	if (fd_send_all(cl->fd, CTL_GREETING "\n", sizeof(CTL_GREETING)) == -1 ||
	    (req = malloc(sizeof(*req))) == NULL)
		goto out;
	for (;;) {
		if ((nl = memchr(buf, '\n', have)) != NULL) {
			size_t len = (size_t) (nl - buf) + 1;

			if (overlong) {
				overlong = 0;
				reply_err(cl, CTL_E_TOO_LONG, "request line "
				    "longer than %d bytes", CTL_LINE_MAX);
			} else if (ctl_request_parse(buf, len, req, err,
			    sizeof(err)) == -1) {
				if (reply_err(cl, req->errcode ? req->errcode :
				    CTL_E_SYNTAX, "%s", err) == -1)
					break;
			} else if (dispatch(cl, req) == -1)
				break;
			if (!served) {
				/* a client that talks gets the longer timeout */
				struct timeval tv = { CONTROL_IDLE, 0 };

				(void) setsockopt(cl->fd, SOL_SOCKET,
				    SO_RCVTIMEO, &tv, sizeof(tv));
				served = 1;
			}
			memmove(buf, buf + len, have - len);
			have -= len;
			continue;
		}
		if (have == sizeof(buf)) {
			overlong = 1;	/* drop until the next newline */
			have = 0;
		}
		n = recv(cl->fd, buf + have, sizeof(buf) - have, 0);
		if (n <= 0)
			break;		/* gone, error, or idle timeout */
		have += (size_t) n;
	}
	free(req);
out:
	close(cl->fd);
	slot_give(cl->uid);
	free(cl);
	return NULL;
}

/* accept_thread - accept clients, check credentials, hand each a thread */
static void *
accept_thread(void *arg)
{
	struct pollfd p;
	struct ucred cred;
	struct timeval tv = { CONTROL_FIRST, 0 };
	socklen_t sl;
	struct client *cl;
	pthread_t t;
	int fd;

	(void) arg;
	p.fd = ctl_fd;
	p.events = POLLIN;
	while (__atomic_load_n(&ctl_running, __ATOMIC_RELAXED)) {
		if (poll(&p, 1, 500) <= 0)
			continue;
		if ((fd = accept4(ctl_fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		sl = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) == -1) {
			close(fd);
			continue;
		}
		(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (slot_take(cred.uid) == -1) {
			static const char busy[] = "err busy too%20many%20clients\n";

			(void) send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		if ((cl = malloc(sizeof(*cl))) == NULL) {
			close(fd);
			slot_give(cred.uid);
			continue;
		}
		cl->fd = fd;
		cl->uid = cred.uid;
		cl->gid = cred.gid;
		cl->pid = cred.pid;
		if (pthread_create(&t, NULL, client_thread, cl) != 0) {
			close(fd);
			free(cl);
			slot_give(cred.uid);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

/* control_start - open the socket and start the accept thread */
int
control_start(const struct conf *c, char *err, size_t len)
{
	struct sockaddr_un sun;
	mode_t old;

	if (c->control_socket == NULL)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    c->control_socket) >= (int) sizeof(sun.sun_path)) {
		snprintf(err, len, "control_socket %s: path too long",
		    c->control_socket);
		return -1;
	}
	if ((ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, len, "control socket: %s", strerror(errno));
		return -1;
	}
	(void) unlink(c->control_socket);
	old = umask(0777 & ~c->control_socket_mode);
	if (bind(ctl_fd, (struct sockaddr *) &sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, len, "bind %s: %s", c->control_socket,
		    strerror(errno));
		close(ctl_fd);
		ctl_fd = -1;
		return -1;
	}
	umask(old);
	if (chmod(c->control_socket, c->control_socket_mode) == -1 ||
	    listen(ctl_fd, 16) == -1) {
		snprintf(err, len, "control socket %s: %s", c->control_socket,
		    strerror(errno));
		close(ctl_fd);
		ctl_fd = -1;
		return -1;
	}
	if ((ctl_path = strdup(c->control_socket)) == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	ctl_running = 1;
	if (pthread_create(&ctl_thread, NULL, accept_thread, NULL) != 0) {
		snprintf(err, len, "cannot start the control thread");
		return -1;
	}
	return 0;
}

/* control_stop - stop accepting and remove the socket */
void
control_stop(void)
{
	if (ctl_fd == -1)
		return;
	__atomic_store_n(&ctl_running, 0, __ATOMIC_RELAXED);
	pthread_join(ctl_thread, NULL);
	close(ctl_fd);
	ctl_fd = -1;
	if (ctl_path != NULL)
		(void) unlink(ctl_path);
	free(ctl_path);
	ctl_path = NULL;
}
