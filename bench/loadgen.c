/*
 * loadgen.c - a milter load generator that talks to a filter like Postfix
 *
 * C threads each open one connection per SMTP session, negotiate the way
 * Postfix 3.7 does (protocol version 6, every action and protocol flag
 * offered), then send macros and connect, helo, mail, rcpt x k, data,
 * headers, end of headers, body and end of message, then abort (Postfix
 * resets the filter after every message) and quit.  Steps the filter asked
 * to skip are not sent; steps it asked not to answer are not waited for;
 * the macro lists it asked for replace the Postfix defaults stage by stage.
 *
 * The traffic comes from a plan: U users drawn with a Zipf-like skew, each
 * kept under the policy limits given on the command line (messages,
 * recipients, recipients per message, at most two client networks, sender
 * equal to login), plus B bursting users who each send a burst of S
 * messages from one address.  From the replies at the end of each message
 * loadgen counts accept / continue / quarantine / tempfail / reject /
 * discard / 421, and checks them against what the policy must decide:
 * normal users are never held, and a bursting user gets exactly
 * messages.max messages through and the rest quarantined.
 *
 * The plan is drawn under one lock (a few hundred nanoseconds per session,
 * far below a milter round trip); everything else is per thread and merged
 * at the end.
 *
 * Thread safety: see above; workers share only the plan.
 * Tests: run against the no-op filters and saslguard by bench/run.
 */
#include "milterproto.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define MAX_PER_CONN 64   /* messages per connection */
#define MAX_RCPT     1000 /* recipients per message */
#define BURST_EVERY  3    /* one session in 3 is a burst while any last */

/* what Postfix 3.7 offers in SMFIC_OPTNEG */
#define OFFER_ACTIONS  SMFI_CURR_ACTS
#define OFFER_PROTOCOL SMFI_CURR_PROT

enum outcome {
	OUT_ACCEPT = 0, /* SMFIR_ACCEPT at any stage */
	OUT_CONTINUE,   /* SMFIR_CONTINUE at end of message */
	OUT_QUARANTINE, /* SMFIR_QUARANTINE, then continue/accept */
	OUT_TEMPFAIL,   /* SMFIR_TEMPFAIL or a 4xx reply code */
	OUT_REJECT,     /* SMFIR_REJECT or a 5xx reply code */
	OUT_DISCARD,
	OUT_421,   /* 421, SMFIR_SHUTDOWN, SMFIR_CONN_FAIL */
	OUT_ERROR, /* I/O or protocol error on our side */
	OUT_MAX
};

static const char *const outcome_name[OUT_MAX] = { "accept", "continue",
	"quarantine", "tempfail", "reject", "discard", "421", "error" };

/* a reply at one stage, before it is turned into an outcome */
enum reply {
	R_CONTINUE,
	R_ACCEPT,
	R_REJECT,
	R_TEMPFAIL,
	R_DISCARD,
	R_421,
	R_SKIP,
	R_ERROR
};

struct rcptdist {
	uint32_t value[32];
	double   cum[32]; /* cumulative weight */
	size_t   n;
};

struct options {
	const char     *socket;
	int             concurrency;
	uint64_t        total;    /* 0 with a duration */
	double          duration; /* seconds, 0 = use total */
	int             per_conn;
	uint32_t        users;
	double          skew;
	uint32_t        nburst;
	uint32_t        burst_size;
	struct rcptdist rcpt;
	uint64_t        seed;
	int             distinct; /* every user sends exactly one message */
	const char     *prefix;
	const char     *domain;
	long            pid;      /* filter process, 0 = none */
	uint32_t        msg_max;  /* policy messages.max, 0 = no policy check */
	uint32_t        rcpt_max; /* policy recipients.max, 0 = none */
	uint32_t rcpt_per_msg;    /* policy recipients_per_message, 0 = none */
	double   window;          /* policy window, seconds, 0 = unknown */
	int      expect_pass;     /* no-op filter: every message must pass */
	int      headers;
	size_t   body_size;
	int      timeout_ms;
	int      verbose;
};

/* one SMTP session as the plan hands it out */
struct session {
	int      burst; /* 1 = a bursting user */
	uint32_t user;  /* index among normal or bursting users */
	uint32_t addr;  /* client IPv4 address, host order */
	int      nmsg;
	uint32_t nrcpt[MAX_PER_CONN];
	uint64_t qid[MAX_PER_CONN];
	uint32_t port;
};

struct plan {
	pthread_mutex_t       lock;
	const struct options *opt;
	uint64_t              rng;
	uint64_t              issued; /* messages handed out */
	uint64_t              sessions;
	struct timespec       deadline;
	int                   exhausted; /* every normal user is at a limit */
	double               *cdf;       /* owned; Zipf cumulative weights */
	uint32_t             *msgs;      /* owned; messages per normal user */
	uint32_t             *rcpts;     /* owned; recipients per normal user */
	uint32_t *burst_sent;            /* owned; messages per bursting user */
	uint64_t  burst_left;
	uint32_t  burst_next;
	uint32_t  next_distinct;
	uint32_t  qid_tag;
	uint64_t  qid_seq;
};

struct stats {
	uint64_t normal[OUT_MAX];
	uint64_t burst[OUT_MAX];
	uint64_t (*per_burst)[OUT_MAX]; /* owned; one row per bursting user */
	uint32_t *lat;                  /* owned; µs per message */
	size_t    nlat, caplat;
	uint64_t  rcpt_rejects;
	char      last_error[256];
	uint64_t  errors;
};

struct worker {
	pthread_t             thread;
	struct plan          *plan;
	const struct options *opt;
	const struct mp_addr *addr;
	struct stats          st;
	uint64_t              rng;
	uint32_t pflags_seen; /* negotiated flags, for the report */
	uint32_t actions_seen;
	int      negotiated;
	char     symlists[512]; /* the filter's macro lists, for -v */
};

/* the shared body text; read only once built */
static char *body_text;

/* die - print a start-up error and exit */
static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* rng_next - splitmix64 */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* rng_unit - uniform in [0, 1) */
static double
rng_unit(uint64_t *s)
{
	return (double) (rng_next(s) >> 11) / 9007199254740992.0;
}

/* now_us - monotonic clock in microseconds */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000;
}

/* parse_u64 - a whole number option, or die */
static uint64_t
parse_u64(const char *opt, const char *s)
{
	char              *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		die("%s: not a number: %s", opt, s);
	return v;
}

/* parse_rcptdist - "3", "1-5" or "1:70,2:20,10:10" */
static void
parse_rcptdist(const char *s, struct rcptdist *d)
{
	const char   *p = s;
	char         *end;
	unsigned long a, b, w;
	double        sum = 0;

	memset(d, 0, sizeof(*d));
	a = strtoul(p, &end, 10);
	if (end != p && *end == '-') {
		b = strtoul(end + 1, &end, 10);
		if (*end != '\0' || a == 0 || b < a || b - a >= 32)
			die("-r %s: range must be a-b, 1 <= a <= b < a+32", s);
		for (; a <= b; a++) {
			d->value[d->n] = (uint32_t) a;
			d->cum[d->n] = (double) (d->n + 1);
			d->n++;
		}
		return;
	}
	for (;;) {
		a = strtoul(p, &end, 10);
		if (end == p || a == 0 || a > MAX_RCPT || d->n == 32)
			die("-r %s: expected N, A-B or N:WEIGHT,...", s);
		w = 1;
		if (*end == ':') {
			p = end + 1;
			w = strtoul(p, &end, 10);
			if (end == p)
				die("-r %s: weight missing", s);
		}
		sum += (double) w;
		d->value[d->n] = (uint32_t) a;
		d->cum[d->n] = sum;
		d->n++;
		if (*end == '\0')
			break;
		if (*end != ',')
			die("-r %s: expected N, A-B or N:WEIGHT,...", s);
		p = end + 1;
	}
	if (sum <= 0)
		die("-r %s: weights sum to zero", s);
}

/* rcpt_draw - one recipient count from the distribution */
static uint32_t
rcpt_draw(const struct rcptdist *d, uint64_t *rng)
{
	double x = rng_unit(rng) * d->cum[d->n - 1];
	size_t i;

	for (i = 0; i + 1 < d->n && d->cum[i] <= x; i++)
		;
	return d->value[i];
}

/* plan_init - the Zipf table and per-user counters */
static void
plan_init(struct plan *p, const struct options *o)
{
	double   sum = 0;
	uint32_t i;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->opt = o;
	p->rng = o->seed;
	if (!o->distinct) {
		if ((p->cdf = malloc(sizeof(*p->cdf) * o->users)) == NULL)
			die("out of memory");
		for (i = 0; i < o->users; i++) {
			sum += 1.0 / pow((double) i + 1.0, o->skew);
			p->cdf[i] = sum;
		}
		p->msgs = calloc(o->users, sizeof(*p->msgs));
		p->rcpts = calloc(o->users, sizeof(*p->rcpts));
		if (p->msgs == NULL || p->rcpts == NULL)
			die("out of memory");
	}
	if (o->nburst > 0 &&
	    (p->burst_sent = calloc(o->nburst, sizeof(uint32_t))) == NULL)
		die("out of memory");
	p->burst_left = (uint64_t) o->nburst * o->burst_size;
	p->qid_tag = (uint32_t) (o->seed ^ (uint64_t) time(NULL) ^
				 (uint64_t) getpid() << 8) &
		     0xfffff;
}

/* plan_start - start the clock of a run given by duration */
static void
plan_start(struct plan *p)
{
	const struct options *o = p->opt;
	double                whole;

	if (o->duration <= 0)
		return;
	whole = floor(o->duration);
	clock_gettime(CLOCK_MONOTONIC, &p->deadline);
	p->deadline.tv_sec += (time_t) whole;
	p->deadline.tv_nsec += (long) ((o->duration - whole) * 1e9);
	if (p->deadline.tv_nsec >= 1000000000L) {
		p->deadline.tv_sec++;
		p->deadline.tv_nsec -= 1000000000L;
	}
}

/* plan_free - release the tables */
static void
plan_free(struct plan *p)
{
	free(p->cdf);
	free(p->msgs);
	free(p->rcpts);
	free(p->burst_sent);
	pthread_mutex_destroy(&p->lock);
}

/* user_room - messages user u may still send; 0 = at a limit */
static uint32_t
user_room(const struct plan *p, uint32_t u)
{
	const struct options *o = p->opt;
	uint32_t              room = MAX_PER_CONN;

	if (o->msg_max > 0)
		room = p->msgs[u] >= o->msg_max ? 0 : o->msg_max - p->msgs[u];
	if (o->rcpt_max > 0 && p->rcpts[u] >= o->rcpt_max)
		room = 0;
	return room;
}

/* pick_user - a Zipf draw that still has room, or -1 */
static int64_t
pick_user(struct plan *p)
{
	uint32_t n = p->opt->users, lo, hi, mid, u, i;
	double   x;
	int      tries;

	for (tries = 0; tries < 8; tries++) {
		x = rng_unit(&p->rng) * p->cdf[n - 1];
		lo = 0;
		hi = n - 1;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (p->cdf[mid] <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (user_room(p, lo) > 0)
			return lo;
	}
	/* the head of the distribution is used up: walk to a user with room */
	u = (uint32_t) (rng_next(&p->rng) % n);
	for (i = 0; i < n; i++, u = (u + 1) % n)
		if (user_room(p, u) > 0)
			return u;
	return -1;
}

/* normal_addr - the client address of a normal user: home or mobile */
static uint32_t
normal_addr(uint32_t u, int mobile)
{
	if (mobile) /* 100.64.0.0/10: a carrier network */
		return 0x64400000u | ((u * 7u) & 0x3fffffu);
	return 0x0a000000u | (u & 0xffffffu); /* 10.0.0.0/8 */
}

/* plan_burst - the next messages of a bursting user, one address each */
static void
plan_burst(struct plan *p, struct session *s, uint32_t room)
{
	const struct options *o = p->opt;
	uint32_t              r, i;

	while (p->burst_sent[p->burst_next] >= o->burst_size)
		p->burst_next = (p->burst_next + 1) % o->nburst;
	s->burst = 1;
	s->user = p->burst_next;
	s->addr = 0xc6336400u | ((s->user % 254) + 1); /* 198.51.100.x */
	r = o->burst_size - p->burst_sent[s->user];
	s->nmsg = (int) (r < room ? r : room);
	p->burst_sent[s->user] += (uint32_t) s->nmsg;
	p->burst_left -= (uint64_t) s->nmsg;
	p->burst_next = (p->burst_next + 1) % o->nburst;
	for (i = 0; i < (uint32_t) s->nmsg; i++)
		s->nrcpt[i] = 1;
}

/* plan_normal - up to room messages of a Zipf-drawn user; 0 = none left */
static int
plan_normal(struct plan *p, struct session *s, uint32_t room)
{
	const struct options *o = p->opt;
	uint32_t              r, i;
	int64_t               u;

	if (p->exhausted || (u = pick_user(p)) < 0)
		return 0;
	s->user = (uint32_t) u;
	s->addr = normal_addr(s->user, rng_next(&p->rng) % 10 == 0);
	r = user_room(p, s->user);
	if (r < room)
		room = r;
	for (i = 0; i < room; i++) {
		r = rcpt_draw(&o->rcpt, &p->rng);
		if (o->rcpt_per_msg > 0 && r > o->rcpt_per_msg)
			r = o->rcpt_per_msg;
		if (o->rcpt_max > 0 && p->rcpts[s->user] + r > o->rcpt_max)
			r = o->rcpt_max - p->rcpts[s->user];
		if (r == 0)
			break;
		s->nrcpt[i] = r;
		p->rcpts[s->user] += r;
		p->msgs[s->user]++;
	}
	s->nmsg = (int) i;
	return s->nmsg > 0;
}

/* plan_over - 1 when the run has reached its duration or total */
static int
plan_over(const struct plan *p)
{
	const struct options *o = p->opt;
	struct timespec       ts;

	if (o->duration <= 0)
		return p->issued >= o->total;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec > p->deadline.tv_sec ||
	       (ts.tv_sec == p->deadline.tv_sec &&
		   ts.tv_nsec >= p->deadline.tv_nsec);
}

/* plan_next - the next session, or 0 when the run is over */
static int
plan_next(struct plan *p, struct session *s)
{
	const struct options *o = p->opt;
	uint32_t              room, i;
	int                   ok = 1;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&p->lock);
	if (plan_over(p)) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	room = (uint32_t) o->per_conn;
	if (o->duration <= 0 && o->total - p->issued < room)
		room = (uint32_t) (o->total - p->issued);
	if (p->burst_left > 0 &&
	    (p->sessions % BURST_EVERY == 0 || o->distinct || p->exhausted))
		plan_burst(p, s, room);
	else if (o->distinct) {
		if ((ok = p->next_distinct < o->users)) {
			s->user = p->next_distinct++;
			s->addr = normal_addr(s->user, 0);
			s->nmsg = 1;
			s->nrcpt[0] = 1;
		}
	} else if (!(ok = plan_normal(p, s, room)))
		p->exhausted = 1;
	if (ok) {
		s->port = 1024 + (uint32_t) (rng_next(&p->rng) % 64000);
		for (i = 0; i < (uint32_t) s->nmsg; i++)
			s->qid[i] = p->qid_seq++;
		p->issued += (uint64_t) s->nmsg;
		p->sessions++;
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/* the strings of one message, for macros and commands */
struct txn {
	const struct session *s;
	char                  login[128];
	char                  addr[16];
	char                  port[8];
	char                  hostname[64];
	char                  underscore[96];
	char                  qid[16];
	int                   qid_known;
	char                  rcpt[128];
};

/* macro_value - what Postfix would send for name (braces stripped) */
static const char *
macro_value(const struct txn *t, const char *name)
{
	if (strcmp(name, "j") == 0 || strcmp(name, "daemon_name") == 0)
		return "mx.bench.example";
	if (strcmp(name, "_") == 0)
		return t->underscore;
	if (strcmp(name, "v") == 0)
		return "Postfix 3.7.11";
	if (strcmp(name, "daemon_addr") == 0)
		return "192.0.2.25";
	if (strcmp(name, "daemon_port") == 0)
		return "587";
	if (strcmp(name, "client_addr") == 0)
		return t->addr;
	if (strcmp(name, "client_port") == 0)
		return t->port;
	if (strcmp(name, "client_name") == 0 || strcmp(name, "client_ptr") == 0)
		return t->hostname;
	if (strcmp(name, "auth_type") == 0)
		return "PLAIN";
	if (strcmp(name, "auth_authen") == 0 || strcmp(name, "mail_addr") == 0)
		return t->login;
	if (strcmp(name, "mail_mailer") == 0 ||
	    strcmp(name, "rcpt_mailer") == 0)
		return "smtp";
	if (strcmp(name, "rcpt_addr") == 0)
		return t->rcpt;
	if (strcmp(name, "i") == 0)
		return t->qid_known ? t->qid : NULL;
	return NULL;
}

/* Postfix 3.7 default macro lists per stage (plus {client_addr}) */
static const char *const default_macros[MP_NSTAGES][8] = {
	[MP_CONNECT] = { "j", "{daemon_name}", "{daemon_addr}", "v", "_",
	    "{client_addr}", NULL },
	[MP_HELO] = { "{tls_version}", "{cipher}", "{cipher_bits}",
	    "{cert_subject}", "{cert_issuer}", NULL },
	[MP_ENVFROM] = { "i", "{auth_type}", "{auth_authen}", "{auth_author}",
	    "{mail_addr}", "{mail_host}", "{mail_mailer}", NULL },
	[MP_ENVRCPT] = { "i", "{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}",
	    NULL },
	[MP_DATA] = { "i", NULL },
	[MP_EOM] = { "i", NULL },
	[MP_EOH] = { "i", NULL },
};

/* stage_cmd - the command byte a macro stage belongs to */
static const char stage_cmd[MP_NSTAGES] = { SMFIC_CONNECT, SMFIC_HELO,
	SMFIC_MAIL, SMFIC_RCPT, SMFIC_DATA, SMFIC_BODYEOB, SMFIC_EOH };

/* append - add a NUL-terminated string to a packet buffer */
static int
append(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t l = strlen(s) + 1;

	if (*len + l > cap)
		return -1;
	memcpy(buf + *len, s, l);
	*len += l;
	return 0;
}

/* put_macros - queue SMFIC_MACRO for a stage with the names in force */
static int
put_macros(struct mp_conn *c, const struct txn *t, enum mp_stage st)
{
	const char *const *names;
	const char        *v, *n;
	char               bare[64], buf[2048];
	size_t             len = 1, nn, i, count;

	if (c->has_symlist[st]) {
		names = (const char *const *) c->symlist[st].names;
		count = c->symlist[st].n;
	} else {
		names = default_macros[st];
		for (count = 0; names[count] != NULL; count++)
			;
	}
	if (count == 0)
		return 0;
	buf[0] = stage_cmd[st];
	for (i = 0; i < count; i++) {
		n = names[i];
		nn = strlen(n);
		if (nn >= 2 && n[0] == '{' && n[nn - 1] == '}') {
			if (nn - 2 >= sizeof(bare))
				continue;
			memcpy(bare, n + 1, nn - 2);
			bare[nn - 2] = '\0';
		} else if (snprintf(bare, sizeof(bare), "%s", n) >=
			   (int) sizeof(bare))
			continue;
		if ((v = macro_value(t, bare)) == NULL)
			continue;
		if (append(buf, sizeof(buf), &len, n) == -1 ||
		    append(buf, sizeof(buf), &len, v) == -1)
			return -1;
	}
	return mp_put(c, SMFIC_MACRO, buf, len);
}

/* await - read replies until one that ends the step */
static enum reply
await(struct worker *w, struct mp_conn *c, int *quarantined)
{
	const unsigned char *d;
	size_t               len;
	int                  cmd;

	for (;;) {
		if (mp_read(c, &cmd, &d, &len, w->st.last_error,
			sizeof(w->st.last_error)) == -1)
			return R_ERROR;
		switch (cmd) {
		case SMFIR_CONTINUE:
			return R_CONTINUE;
		case SMFIR_ACCEPT:
			return R_ACCEPT;
		case SMFIR_REJECT:
			return R_REJECT;
		case SMFIR_TEMPFAIL:
			return R_TEMPFAIL;
		case SMFIR_DISCARD:
			return R_DISCARD;
		case SMFIR_SHUTDOWN:
		case SMFIR_CONN_FAIL:
			return R_421;
		case SMFIR_SKIP:
			return R_SKIP;
		case SMFIR_REPLYCODE:
			if (len >= 3 && memcmp(d, "421", 3) == 0)
				return R_421;
			if (len >= 1 && d[0] == '4')
				return R_TEMPFAIL;
			if (len >= 1 && d[0] == '5')
				return R_REJECT;
			snprintf(w->st.last_error, sizeof(w->st.last_error),
			    "bad reply code %.*s", (int) (len > 16 ? 16 : len),
			    (const char *) d);
			return R_ERROR;
		case SMFIR_QUARANTINE:
			if (quarantined != NULL)
				*quarantined = 1;
			break;
		case SMFIR_PROGRESS:
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
		case SMFIR_ADDRCPT:
		case SMFIR_ADDRCPT_PAR:
		case SMFIR_DELRCPT:
		case SMFIR_CHGFROM:
		case SMFIR_REPLBODY:
			break;
		default:
			snprintf(w->st.last_error, sizeof(w->st.last_error),
			    "unexpected reply '%c' (0x%02x)", cmd, cmd);
			return R_ERROR;
		}
	}
}

/* reply_outcome - the outcome of a reply that ends the message early */
static enum outcome
reply_outcome(enum reply r)
{
	switch (r) {
	case R_ACCEPT:
		return OUT_ACCEPT;
	case R_REJECT:
		return OUT_REJECT;
	case R_TEMPFAIL:
		return OUT_TEMPFAIL;
	case R_DISCARD:
		return OUT_DISCARD;
	case R_421:
		return OUT_421;
	case R_CONTINUE:
	case R_SKIP:
		return OUT_CONTINUE;
	case R_ERROR:
		break;
	}
	return OUT_ERROR;
}

/* step - queue macros and a command; wait for the reply unless told not to */
static enum reply
step(struct worker *w, struct mp_conn *c, const struct txn *t, int st, int cmd,
    const char *const *args, size_t nargs, uint32_t nr_flag)
{
	if ((st >= 0 && put_macros(c, t, (enum mp_stage) st) == -1) ||
	    mp_put_strs(c, cmd, args, nargs) == -1) {
		snprintf(w->st.last_error, sizeof(w->st.last_error),
		    "out of memory");
		return R_ERROR;
	}
	if (c->pflags & nr_flag)
		return R_CONTINUE;
	return await(w, c, NULL);
}

/* fmt_addr - dotted quad */
static void
fmt_addr(char *buf, size_t len, uint32_t a)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255);
}

/* login_name - the SASL login (and sender) of a session's user */
static void
login_name(
    const struct options *o, const struct session *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%u@%s", o->prefix, s->burst ? "burst" : "",
	    s->user, o->domain);
}

/* send_connect - SMFIC_CONNECT: hostname, family, port, address */
static enum reply
send_connect(struct worker *w, struct mp_conn *c, const struct txn *t)
{
	unsigned char buf[256];
	size_t        hl = strlen(t->hostname) + 1, al = strlen(t->addr) + 1;
	uint16_t      port = (uint16_t) t->s->port;

	if (hl + al + 3 > sizeof(buf))
		return R_ERROR;
	memcpy(buf, t->hostname, hl);
	buf[hl] = SMFIA_INET;
	buf[hl + 1] = (unsigned char) (port >> 8);
	buf[hl + 2] = (unsigned char) port;
	memcpy(buf + hl + 3, t->addr, al);
	if (put_macros(c, t, MP_CONNECT) == -1 ||
	    mp_put(c, SMFIC_CONNECT, buf, hl + al + 3) == -1)
		return R_ERROR;
	if (c->pflags & SMFIP_NR_CONN)
		return R_CONTINUE;
	return await(w, c, NULL);
}

/* standard headers of a submitted message */
static const char *const header_names[] = { "Received", "From", "To", "Subject",
	"Date", "Message-ID", "MIME-Version", "Content-Type", "User-Agent",
	"X-Mailer", "Reply-To", "Cc" };

/* run_message - one transaction after connect/helo; returns its outcome */
static enum outcome
run_message(struct worker *w, struct mp_conn *c, struct txn *t, int m)
{
	const struct options *o = w->opt;
	const char           *args[2];
	char                  from[160], to[160], size[32], hv[192];
	uint32_t              k, rejected = 0;
	enum reply            r, last_rej = R_REJECT;
	int    i, q = 0, lead = (c->pflags & SMFIP_HDR_LEADSPC) != 0;
	size_t off, chunk;

	t->qid_known = 0;
	snprintf(t->qid, sizeof(t->qid), "%05X%07" PRIX64, w->plan->qid_tag,
	    t->s->qid[m] & 0xfffffff);
	if (mp_wants(c, SMFIP_NOMAIL)) {
		snprintf(from, sizeof(from), "<%s>", t->login);
		snprintf(size, sizeof(size), "SIZE=%zu", o->body_size + 600);
		args[0] = from;
		args[1] = size;
		r = step(
		    w, c, t, MP_ENVFROM, SMFIC_MAIL, args, 2, SMFIP_NR_MAIL);
		if (r != R_CONTINUE)
			return reply_outcome(r);
	}
	for (k = 0; k < t->s->nrcpt[m]; k++) {
		if (k == 1) /* the queue file exists after the first RCPT */
			t->qid_known = 1;
		snprintf(t->rcpt, sizeof(t->rcpt),
		    "r%" PRIu32 "@dest%u.example", k,
		    (unsigned) ((t->s->qid[m] + k) % 97));
		if (!mp_wants(c, SMFIP_NORCPT))
			continue;
		snprintf(to, sizeof(to), "<%s>", t->rcpt);
		args[0] = to;
		r = step(
		    w, c, t, MP_ENVRCPT, SMFIC_RCPT, args, 1, SMFIP_NR_RCPT);
		if (r == R_REJECT || r == R_TEMPFAIL) {
			rejected++;
			last_rej = r;
			w->st.rcpt_rejects++;
		} else if (r != R_CONTINUE)
			return reply_outcome(r);
	}
	t->qid_known = 1;
	if (rejected == t->s->nrcpt[m])
		return reply_outcome(last_rej);
	if (mp_wants(c, SMFIP_NODATA)) {
		r = step(w, c, t, MP_DATA, SMFIC_DATA, NULL, 0, SMFIP_NR_DATA);
		if (r != R_CONTINUE)
			return reply_outcome(r);
	}
	if (mp_wants(c, SMFIP_NOHDRS)) {
		for (i = 0; i < o->headers; i++) {
			snprintf(hv, sizeof(hv), "%sbench header %d of %s",
			    lead ? " " : "", i, t->qid);
			args[0] =
			    header_names[i % (int) (sizeof(header_names) /
						    sizeof(header_names[0]))];
			args[1] = hv;
			r = step(
			    w, c, t, -1, SMFIC_HEADER, args, 2, SMFIP_NR_HDR);
			if (r != R_CONTINUE)
				return reply_outcome(r);
		}
	}
	if (mp_wants(c, SMFIP_NOEOH)) {
		r = step(w, c, t, MP_EOH, SMFIC_EOH, NULL, 0, SMFIP_NR_EOH);
		if (r != R_CONTINUE)
			return reply_outcome(r);
	}
	if (mp_wants(c, SMFIP_NOBODY)) {
		for (off = 0; off < o->body_size; off += chunk) {
			chunk = o->body_size - off;
			if (chunk > MILTER_CHUNK_SIZE)
				chunk = MILTER_CHUNK_SIZE;
			if (mp_put(c, SMFIC_BODY, body_text + off, chunk) == -1)
				return OUT_ERROR;
			if (c->pflags & SMFIP_NR_BODY)
				continue;
			r = await(w, c, NULL);
			if (r == R_SKIP)
				break;
			if (r != R_CONTINUE)
				return reply_outcome(r);
		}
	}
	if (put_macros(c, t, MP_EOM) == -1 ||
	    mp_put(c, SMFIC_BODYEOB, NULL, 0) == -1)
		return OUT_ERROR;
	r = await(w, c, &q);
	if (r == R_CONTINUE || r == R_ACCEPT)
		return q ? OUT_QUARANTINE
			 : (r == R_ACCEPT ? OUT_ACCEPT : OUT_CONTINUE);
	return reply_outcome(r);
}

/* record - count one message's outcome and latency */
static void
record(struct worker *w, const struct session *s, enum outcome out, uint64_t us)
{
	struct stats *st = &w->st;
	uint32_t     *nl;
	size_t        ncap;

	if (s->burst) {
		st->burst[out]++;
		st->per_burst[s->user][out]++;
	} else
		st->normal[out]++;
	if (out == OUT_ERROR)
		st->errors++;
	if (st->nlat == st->caplat) {
		ncap = st->caplat ? st->caplat * 2 : 65536;
		if ((nl = realloc(st->lat, ncap * sizeof(*nl))) == NULL)
			return;
		st->lat = nl;
		st->caplat = ncap;
	}
	st->lat[st->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}

/* note_negotiation - remember what the filter asked for, once */
static void
note_negotiation(struct worker *w, const struct mp_conn *c)
{
	size_t len = 0, i;
	int    st, n;

	if (w->negotiated)
		return;
	w->negotiated = 1;
	w->pflags_seen = c->pflags;
	w->actions_seen = c->actions;
	w->symlists[0] = '\0';
	for (st = 0; st < MP_NSTAGES; st++) {
		if (!c->has_symlist[st])
			continue;
		n = snprintf(w->symlists + len, sizeof(w->symlists) - len,
		    " [%c]", stage_cmd[st]);
		if (n < 0 || (size_t) n >= sizeof(w->symlists) - len)
			return;
		len += (size_t) n;
		for (i = 0; i < c->symlist[st].n; i++) {
			n = snprintf(w->symlists + len,
			    sizeof(w->symlists) - len, " %s",
			    c->symlist[st].names[i]);
			if (n < 0 || (size_t) n >= sizeof(w->symlists) - len)
				return;
			len += (size_t) n;
		}
	}
}

/* run_session - one connection: negotiate, connect, helo, messages, quit */
static void
run_session(struct worker *w, const struct session *s)
{
	const struct options *o = w->opt;
	struct mp_conn        c;
	struct txn            t;
	const char           *args[1];
	enum outcome          fixed = OUT_MAX, out;
	enum reply            r;
	uint64_t              t0 = now_us(), t1;
	int                   m, accepted = 0;

	memset(&t, 0, sizeof(t));
	t.s = s;
	login_name(o, s, t.login, sizeof(t.login));
	fmt_addr(t.addr, sizeof(t.addr), s->addr);
	snprintf(t.port, sizeof(t.port), "%u", s->port);
	snprintf(t.hostname, sizeof(t.hostname), "host-%u-%u-%u-%u.isp.example",
	    s->addr >> 24, (s->addr >> 16) & 255, (s->addr >> 8) & 255,
	    s->addr & 255);
	snprintf(
	    t.underscore, sizeof(t.underscore), "%s [%s]", t.hostname, t.addr);

	mp_init(&c, o->timeout_ms);
	if (mp_connect(&c, w->addr, w->st.last_error,
		sizeof(w->st.last_error)) == -1 ||
	    mp_negotiate(&c, SMFI_PROT_VERSION, OFFER_ACTIONS, OFFER_PROTOCOL,
		w->st.last_error, sizeof(w->st.last_error)) == -1) {
		fixed = OUT_ERROR;
		goto rest;
	}
	note_negotiation(w, &c);
	if (mp_wants(&c, SMFIP_NOCONNECT)) {
		r = send_connect(w, &c, &t);
		if (r == R_ACCEPT)
			accepted = 1;
		else if (r != R_CONTINUE)
			fixed = reply_outcome(r);
	}
	if (fixed == OUT_MAX && !accepted && mp_wants(&c, SMFIP_NOHELO)) {
		args[0] = "client.isp.example";
		r = step(
		    w, &c, &t, MP_HELO, SMFIC_HELO, args, 1, SMFIP_NR_HELO);
		if (r == R_ACCEPT)
			accepted = 1;
		else if (r != R_CONTINUE)
			fixed = reply_outcome(r);
	}
	for (m = 0; fixed == OUT_MAX && m < s->nmsg; m++) {
		out = accepted ? OUT_ACCEPT : run_message(w, &c, &t, m);
		t1 = now_us();
		record(w, s, out, t1 - t0);
		t0 = t1;
		if (out == OUT_ERROR || out == OUT_421) {
			m++;
			fixed = out == OUT_421 ? OUT_421 : OUT_ERROR;
			break;
		}
		if (!accepted)
			mp_put(&c, SMFIC_ABORT, NULL, 0);
	}
	if (c.fd != -1 && fixed != OUT_ERROR) {
		mp_put(&c, SMFIC_QUIT, NULL, 0);
		mp_flush(&c, w->st.last_error, sizeof(w->st.last_error));
	}
	mp_close(&c);
	if (fixed == OUT_ERROR && w->st.errors > 0 && w->st.errors % 1000 == 0)
		usleep(1000);
	for (; fixed != OUT_MAX && m < s->nmsg; m++) {
		t1 = now_us();
		record(w, s, fixed, t1 - t0);
		t0 = t1;
	}
	return;
rest:
	mp_close(&c);
	usleep(1000); /* the filter is not there: do not spin */
	for (m = 0; m < s->nmsg; m++)
		record(w, s, fixed, now_us() - t0);
}

/* worker_main - take sessions from the plan until it is done */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct session s;

	while (plan_next(w->plan, &s))
		run_session(w, &s);
	return NULL;
}

/* proc_cpu_us - utime + stime of a process in µs, or -1 */
static int64_t
proc_cpu_us(long pid)
{
	char          path[64], buf[1024], *p;
	FILE         *f;
	unsigned long ut, st;
	long          tck = sysconf(_SC_CLK_TCK);
	size_t        n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		&ut, &st) != 2 ||
	    tck <= 0)
		return -1;
	return (int64_t) ((ut + st) * (1000000.0 / (double) tck));
}

/* proc_rss_kb - VmRSS of a process in kB, or -1 */
static long
proc_rss_kb(long pid)
{
	char  path[64], line[256];
	FILE *f;
	long  kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* self_cpu_us - CPU time of this process so far, in µs */
static int64_t
self_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return (int64_t) ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
	       (int64_t) ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

/* cmp_u32 - qsort order */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return x < y ? -1 : x > y;
}

/* check - compare the counts with what the policy must have decided */
static int
check(const struct options *o, const struct stats *tot)
{
	uint64_t bad = 0, sent, pass, held, other;
	uint32_t b, fails = 0, expect_pass;
	int      i;

	for (i = 0; i < OUT_MAX; i++)
		if (i != OUT_ACCEPT && i != OUT_CONTINUE)
			bad += tot->normal[i];
	printf("check: normal users: %" PRIu64 " passed, %" PRIu64
	       " not passed\n",
	    tot->normal[OUT_ACCEPT] + tot->normal[OUT_CONTINUE], bad);
	if (bad > 0)
		fails++;
	for (b = 0; b < o->nburst; b++) {
		pass = tot->per_burst[b][OUT_ACCEPT] +
		       tot->per_burst[b][OUT_CONTINUE];
		held = tot->per_burst[b][OUT_QUARANTINE];
		for (sent = 0, i = 0; i < OUT_MAX; i++)
			sent += tot->per_burst[b][i];
		other = sent - pass - held;
		expect_pass = (uint32_t) sent;
		if (!o->expect_pass && sent > o->msg_max)
			expect_pass = o->msg_max;
		if (pass != expect_pass || held != sent - expect_pass ||
		    other != 0) {
			fails++;
			printf("check: bursting user %u: sent %" PRIu64
			       " passed %" PRIu64 " held %" PRIu64
			       " other %" PRIu64 ", expected %u passed "
			       "%" PRIu64 " held\n",
			    b, sent, pass, held, other, expect_pass,
			    sent - expect_pass);
		}
	}
	if (o->nburst > 0 && fails == (bad > 0))
		printf("check: %u bursting users: each got the expected "
		       "%s\n",
		    o->nburst,
		    o->expect_pass ? "all passed"
				   : "messages.max passed, "
				     "rest held");
	printf("check: %s\n", fails == 0 ? "PASS" : "FAIL");
	return fails == 0 ? 0 : -1;
}

static void
usage(void)
{
	fputs("usage: loadgen -s SOCKET [-c CONC] [-n TOTAL | -d SECONDS] "
	      "[-m PER_CONN]\n"
	      "  [-u USERS] [-z SKEW] [-b BURSTERS[xSIZE]] [-B SIZE] "
	      "[-r RCPTS] [--seed N]\n"
	      "  [--distinct] [--prefix P] [-p PID] [--messages-max M]\n"
	      "  [--recipients-max R] [--recipients-per-message K] "
	      "[--window SECONDS]\n"
	      "  [--expect-pass] [--headers N] [--body-size BYTES] "
	      "[-t TIMEOUT_MS] [-v]\n"
	      "RCPTS: N, A-B, or N:WEIGHT,N:WEIGHT,...\n",
	    stderr);
	exit(2);
}

enum {
	OPT_SEED = 256,
	OPT_DISTINCT,
	OPT_PREFIX,
	OPT_DOMAIN,
	OPT_MSGMAX,
	OPT_RCPTMAX,
	OPT_RCPTPM,
	OPT_WINDOW,
	OPT_EXPECT_PASS,
	OPT_HEADERS,
	OPT_BODY
};

static const struct option longopts[] = {
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "distinct", no_argument, NULL, OPT_DISTINCT },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "messages-max", required_argument, NULL, OPT_MSGMAX },
	{ "recipients-max", required_argument, NULL, OPT_RCPTMAX },
	{ "recipients-per-message", required_argument, NULL, OPT_RCPTPM },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "expect-pass", no_argument, NULL, OPT_EXPECT_PASS },
	{ "headers", required_argument, NULL, OPT_HEADERS },
	{ "body-size", required_argument, NULL, OPT_BODY }, { NULL, 0, NULL, 0 }
};

/* parse_options - command line into o */
static void
parse_options(int argc, char **argv, struct options *o)
{
	char *x;
	int   ch;

	memset(o, 0, sizeof(*o));
	o->concurrency = 1;
	o->per_conn = 1;
	o->users = 10000;
	o->skew = 1.0;
	o->burst_size = 0;
	o->seed = 1;
	o->prefix = "u";
	o->domain = "bench.example";
	o->headers = 8;
	o->body_size = 2048;
	o->timeout_ms = 10000;
	parse_rcptdist("1:70,2:15,3:8,5:5,10:2", &o->rcpt);
	while ((ch = getopt_long(argc, argv, "s:c:n:d:m:u:z:b:B:r:p:t:vh",
		    longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'c':
			o->concurrency = (int) parse_u64("-c", optarg);
			break;
		case 'n':
			o->total = parse_u64("-n", optarg);
			break;
		case 'd':
			o->duration = strtod(optarg, &x);
			if (*x != '\0' || o->duration <= 0)
				die("-d: not a duration: %s", optarg);
			break;
		case 'm':
			o->per_conn = (int) parse_u64("-m", optarg);
			break;
		case 'u':
			o->users = (uint32_t) parse_u64("-u", optarg);
			break;
		case 'z':
			o->skew = strtod(optarg, &x);
			if (*x != '\0' || o->skew < 0)
				die("-z: not a skew: %s", optarg);
			break;
		case 'b':
			if ((x = strchr(optarg, 'x')) != NULL) {
				*x = '\0';
				o->burst_size =
				    (uint32_t) parse_u64("-b", x + 1);
			}
			o->nburst = (uint32_t) parse_u64("-b", optarg);
			break;
		case 'B':
			o->burst_size = (uint32_t) parse_u64("-B", optarg);
			break;
		case 'r':
			parse_rcptdist(optarg, &o->rcpt);
			break;
		case 'p':
			o->pid = (long) parse_u64("-p", optarg);
			break;
		case 't':
			o->timeout_ms = (int) parse_u64("-t", optarg);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_SEED:
			o->seed = parse_u64("--seed", optarg);
			break;
		case OPT_DISTINCT:
			o->distinct = 1;
			break;
		case OPT_PREFIX:
			o->prefix = optarg;
			break;
		case OPT_DOMAIN:
			o->domain = optarg;
			break;
		case OPT_MSGMAX:
			o->msg_max =
			    (uint32_t) parse_u64("--messages-max", optarg);
			break;
		case OPT_RCPTMAX:
			o->rcpt_max =
			    (uint32_t) parse_u64("--recipients-max", optarg);
			break;
		case OPT_RCPTPM:
			o->rcpt_per_msg = (uint32_t) parse_u64(
			    "--recipients-per-message", optarg);
			break;
		case OPT_WINDOW:
			o->window = (double) parse_u64("--window", optarg);
			break;
		case OPT_EXPECT_PASS:
			o->expect_pass = 1;
			break;
		case OPT_HEADERS:
			o->headers = (int) parse_u64("--headers", optarg);
			break;
		case OPT_BODY:
			o->body_size =
			    (size_t) parse_u64("--body-size", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->socket == NULL)
		usage();
	if (o->concurrency < 1 || o->concurrency > 4096)
		die("-c: 1..4096");
	if (o->per_conn < 1 || o->per_conn > MAX_PER_CONN)
		die("-m: 1..%d", MAX_PER_CONN);
	if (o->users < 1)
		die("-u: at least one user");
	if (o->nburst > 0 && o->burst_size == 0)
		die("-b: give the burst size as -b NxSIZE or -B SIZE");
	if (o->distinct)
		o->total =
		    (uint64_t) o->users + (uint64_t) o->nburst * o->burst_size;
	else if (o->total == 0 && o->duration <= 0)
		o->total = 10000;
	if (o->msg_max > 0 && o->expect_pass)
		die("--messages-max and --expect-pass exclude each other");
}

/* make_body - a plain text body of the requested size */
static void
make_body(size_t size)
{
	static const char line[] = "The quick brown fox jumps over the lazy "
				   "dog, again and again, for the bench.\r\n";
	size_t            i;

	if ((body_text = malloc(size + 1)) == NULL)
		die("out of memory");
	for (i = 0; i < size; i++)
		body_text[i] = line[i % (sizeof(line) - 1)];
	body_text[size] = '\0';
}

/* merge - add one worker's counts into the total */
static void
merge(struct stats *tot, const struct stats *st, uint32_t nburst)
{
	uint32_t b;
	int      i;

	for (i = 0; i < OUT_MAX; i++) {
		tot->normal[i] += st->normal[i];
		tot->burst[i] += st->burst[i];
		for (b = 0; b < nburst; b++)
			tot->per_burst[b][i] += st->per_burst[b][i];
	}
	memcpy(tot->lat + tot->nlat, st->lat, st->nlat * sizeof(*st->lat));
	tot->nlat += st->nlat;
	tot->rcpt_rejects += st->rcpt_rejects;
	tot->errors += st->errors;
	if (st->last_error[0] != '\0' && st->errors > 0)
		snprintf(tot->last_error, sizeof(tot->last_error), "%s",
		    st->last_error);
}

/* the figures of one run */
struct result {
	uint64_t n;            /* messages */
	uint64_t all[OUT_MAX]; /* outcomes, normal and bursting users */
	double   secs, tps;
	uint32_t p50, p99, pmax; /* µs */
	double   filter_cpu;     /* µs per message, -1 = unknown */
	double   self_cpu;       /* loadgen's µs per message */
	long     rss_kb;         /* the filter's, -1 = unknown */
};

/* summarize - merge the workers' counts into tot and the figures into res */
static void
summarize(const struct options *o, struct worker *w, struct stats *tot,
    struct result *res)
{
	size_t nlat = 0;
	int    i;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < o->concurrency; i++)
		nlat += w[i].st.nlat;
	if ((tot->lat = malloc((nlat + 1) * sizeof(*tot->lat))) == NULL ||
	    (tot->per_burst = calloc(o->nburst + 1, sizeof(*tot->per_burst))) ==
		NULL)
		die("out of memory");
	for (i = 0; i < o->concurrency; i++)
		merge(tot, &w[i].st, o->nburst);
	res->n = 0;
	for (i = 0; i < OUT_MAX; i++) {
		res->all[i] = tot->normal[i] + tot->burst[i];
		res->n += res->all[i];
	}
	qsort(tot->lat, tot->nlat, sizeof(*tot->lat), cmp_u32);
	res->p50 = res->p99 = res->pmax = 0;
	if (tot->nlat > 0) {
		res->p50 = tot->lat[(tot->nlat - 1) / 2];
		res->p99 = tot->lat[(size_t) ((double) (tot->nlat - 1) * 0.99)];
		res->pmax = tot->lat[tot->nlat - 1];
	}
	res->tps = res->secs > 0 ? (double) res->n / res->secs : 0;
}

/* report - print the figures and the check; returns the exit status */
static int
report(const struct options *o, const struct plan *plan,
    const struct worker *w0, const struct stats *tot, const struct result *res)
{
	const char *verdict = "none";
	int         i, rc = tot->errors > 0;

	printf("loadgen: %s, concurrency %d, %d message%s per connection\n",
	    o->socket, o->concurrency, o->per_conn,
	    o->per_conn == 1 ? "" : "s");
	if (w0->negotiated)
		printf(
		    "negotiated: version %u actions 0x%x protocol 0x%x%s%s\n",
		    SMFI_PROT_VERSION, w0->actions_seen, w0->pflags_seen,
		    w0->symlists[0] ? " macros" : "", w0->symlists);
	printf("transactions: %" PRIu64 " in %.2f s = %.0f tx/s%s\n", res->n,
	    res->secs, res->tps,
	    plan->exhausted ? " (every user at a limit: plan ended)" : "");
	printf("latency us: p50 %u p99 %u max %u\n", res->p50, res->p99,
	    res->pmax);
	printf("replies:");
	for (i = 0; i < OUT_MAX; i++)
		printf(" %s %" PRIu64, outcome_name[i], res->all[i]);
	printf(" (rcpt rejects %" PRIu64 ")\n", tot->rcpt_rejects);
	if (tot->errors > 0)
		printf("last error: %s\n", tot->last_error);
	if (res->filter_cpu >= 0)
		printf("filter cpu: %.1f us/tx (pid %ld)\n", res->filter_cpu,
		    o->pid);
	printf("loadgen cpu: %.1f us/tx\n", res->self_cpu);
	if (o->window > 0 && res->secs >= o->window)
		printf("check: the run (%.0f s) is longer than the policy "
		       "window (%.0f s): counts cannot be checked\n",
		    res->secs, o->window);
	else if (o->msg_max > 0 || o->expect_pass) {
		verdict = check(o, tot) == 0 ? "pass" : "fail";
		if (verdict[0] == 'f')
			rc = 1;
	}
	printf("RESULT tx=%" PRIu64 " secs=%.3f tps=%.0f p50=%u p99=%u max=%u "
	       "cpu_us_tx=%.1f self_us_tx=%.1f rss_kb=%ld check=%s",
	    res->n, res->secs, res->tps, res->p50, res->p99, res->pmax,
	    res->filter_cpu, res->self_cpu, res->rss_kb, verdict);
	for (i = 0; i < OUT_MAX; i++)
		printf(" %s=%" PRIu64, outcome_name[i], res->all[i]);
	printf("\n");
	return rc;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct plan    plan;
	struct mp_addr addr;
	struct worker *w;
	struct stats   tot;
	struct result  res;
	char           err[256];
	uint64_t       t0;
	int64_t        cpu0 = -1, cpu1 = -1, self0;
	int            i, rc;

	parse_options(argc, argv, &o);
	if (mp_parse_addr(o.socket, &addr, err, sizeof(err)) == -1)
		die("%s", err);
	signal(SIGPIPE, SIG_IGN);
	make_body(o.body_size);
	plan_init(&plan, &o);
	if ((w = calloc((size_t) o.concurrency, sizeof(*w))) == NULL)
		die("out of memory");
	for (i = 0; i < o.concurrency; i++) {
		w[i].plan = &plan;
		w[i].opt = &o;
		w[i].addr = &addr;
		if (o.nburst > 0 && (w[i].st.per_burst = calloc(o.nburst,
					 sizeof(*w[i].st.per_burst))) == NULL)
			die("out of memory");
	}
	if (o.pid > 0 && (cpu0 = proc_cpu_us(o.pid)) == -1)
		die("cannot read /proc/%ld/stat", o.pid);
	self0 = self_cpu_us();
	t0 = now_us();
	plan_start(&plan);
	for (i = 0; i < o.concurrency; i++)
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			die("pthread_create failed");
	for (i = 0; i < o.concurrency; i++)
		pthread_join(w[i].thread, NULL);
	res.secs = (double) (now_us() - t0) / 1e6;
	if (o.pid > 0)
		cpu1 = proc_cpu_us(o.pid);

	summarize(&o, w, &tot, &res);
	res.filter_cpu = cpu0 >= 0 && cpu1 >= 0 && res.n > 0
			     ? (double) (cpu1 - cpu0) / (double) res.n
			     : -1;
	res.self_cpu =
	    res.n > 0 ? (double) (self_cpu_us() - self0) / (double) res.n : 0;
	res.rss_kb = o.pid > 0 ? proc_rss_kb(o.pid) : -1;
	rc = report(&o, &plan, &w[0], &tot, &res);

	for (i = 0; i < o.concurrency; i++) {
		free(w[i].st.lat);
		free(w[i].st.per_burst);
	}
	free(w);
	free(tot.lat);
	free(tot.per_burst);
	free(body_text);
	plan_free(&plan);
	return rc;
}
