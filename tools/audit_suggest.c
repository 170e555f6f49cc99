/*
 * audit_suggest.c - "saslguardctl audit --suggest-limits": the limits
 * that past traffic asks for
 *
 * Replays the logs twice.  The first pass is the ordinary audit, which
 * finds the incidents.  The second feeds the same model with a hook that
 * measures, for every account, the busiest sliding hour of its mail
 * outside its incidents (messages, recipients, distinct client networks),
 * its largest message, and for every incident the busiest hour of the
 * account's mail while it lasted: what the daemon would have counted.
 *
 * Why two passes: whether a message belongs to an incident is known only
 * minutes after it was sent, when the burst shows; measuring in the first
 * pass would count the start of every burst as normal traffic.  Memory is
 * per account, not per message: the minutes of its last hour that had
 * mail, the networks of its last hour, and its maxima.
 *
 * The suggestion, for each limit: accounts whose busiest hour is far above
 * the others' (four times the median, and above a floor) get an exception
 * of their own busiest hour plus a quarter; the global limit is the
 * busiest hour of all the other accounts plus a quarter.  An incident is
 * caught when its peak is above the limit that applies to its account,
 * for at least one limit.  An incident that none catches lowers the first
 * limit by which it stands out from normal traffic to just below its
 * peak (never below that normal traffic, so nothing normal is flagged).
 *
 * Thread safety: none.
 * Tests: tests/test_audit_suggest.c
 */
#include "config.h"

#include <arpa/inet.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define MINUTE_US   (60 * AUDIT_US)
#define HOUR_US     (60 * MINUTE_US)
#define NETS_MAX    64 /* the daemon's client_addresses max is below this */
#define MAX_EXCEPT  10 /* exceptions at least allowed, else 1 in 50 */
#define HEAVY_RATIO 4  /* times the median busiest hour that is heavy */

/* one minute of an account's last hour */
struct sg_minute {
	int64_t  minute;
	uint32_t msgs, rcpts;   /* all of its mail */
	uint32_t nmsgs, nrcpts; /* outside incidents */
};

/* one client network of an account's last hour */
struct sg_net {
	uint64_t key;
	int64_t  last_us;        /* any mail */
	int64_t  last_normal_us; /* mail outside incidents; 0 = none */
};

static const char *const sg_key[SG_NLIMITS] = { "messages", "recipients",
	"recipients_per_message", "client_addresses" };
static const uint32_t    sg_floor[SG_NLIMITS] = { 20, 100, 20, 4 };
static const uint32_t    sg_least[SG_NLIMITS] = { 10, 20, 5, 3 };

/* net_key - the /24 (IPv4) or /64 (IPv6) network of address s; 0 if none */
static uint64_t
net_key(const char *s)
{
	unsigned char b[16];
	uint64_t      k = 0;
	int           i;

	if (inet_pton(AF_INET, s, b) == 1)
		return (1ULL << 40) | ((uint64_t) b[0] << 16) |
		       ((uint64_t) b[1] << 8) | b[2];
	if (inet_pton(AF_INET6, s, b) != 1)
		return 0;
	for (i = 0; i < 8; i++)
		k = (k << 8) | b[i];
	return k == 0 ? 1 : k;
}

/* account - the record of the account named name; NULL on ENOMEM */
static struct suggest_account *
account(struct suggest *s, const char *name)
{
	size_t                  n = strlen(name);
	uint64_t                h = amap_hash(name, n);
	struct suggest_account *sa;

	if ((sa = amap_get(&s->accounts, name, n, h)) != NULL)
		return sa;
	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return NULL;
	if ((sa->name = arena_strndup(&s->arena, name, n)) == NULL ||
	    amap_put(&s->accounts, sa->name, n, h, sa) == -1) {
		free(sa);
		return NULL;
	}
	sa->hour = -1;
	return sa;
}

/* of_user - the record of audit account u, cached on it */
static struct suggest_account *
of_user(struct suggest *s, struct audit_user *u)
{
	if (u->sg == NULL)
		u->sg = account(s, u->name);
	return u->sg;
}

/* incident_at - the incident of sa at us, or NULL */
static struct suggest_incident *
incident_at(struct suggest *s, const struct suggest_account *sa, int64_t us)
{
	struct suggest_incident *i;
	size_t                   k;

	for (k = 0; k < sa->ninc; k++) {
		i = &s->inc[sa->inc[k]];
		if (us >= i->start_us && us <= i->end_us)
			return i;
	}
	return NULL;
}

/* raise_to - v = max(v, x) */
static void
raise_to(uint32_t *v, uint32_t x)
{
	if (x > *v)
		*v = x;
}

/* hist_add - one account-hour of msgs messages and rcpts recipients */
static void
hist_add(struct suggest *s, uint32_t msgs, uint32_t rcpts)
{
	s->hist[0][msgs < SG_HIST ? msgs : SG_HIST]++;
	s->hist[1][rcpts < SG_HIST ? rcpts : SG_HIST]++;
	raise_to(&s->hist_max[0], msgs);
	raise_to(&s->hist_max[1], rcpts);
	s->nhours++;
}

/* hour_flush - count the clock hour of sa being counted, if any */
static void
hour_flush(struct suggest *s, struct suggest_account *sa)
{
	if (sa->hour_msgs > 0) {
		hist_add(s, sa->hour_msgs, sa->hour_rcpts);
		sa->hours++;
	}
	sa->hour_msgs = sa->hour_rcpts = 0;
}

/* window_add - count msgs, rcpts at minute m; -1 ENOMEM */
static int
window_add(struct suggest_account *sa, int64_t m, uint32_t msgs, uint32_t rcpts,
    int normal)
{
	struct sg_minute *w;
	size_t            i, k;

	/* the newest minute is the usual case; lines may be a bit late */
	for (i = sa->nwin; i > 0 && sa->win[i - 1].minute > m; i--)
		;
	if (i == 0 || sa->win[i - 1].minute != m) {
		if (sa->nwin > 0 && m <= sa->win[sa->nwin - 1].minute - 60)
			return 0; /* older than the window */
		if (sa->nwin == sa->capwin) {
			size_t cap = sa->capwin == 0 ? 4 : sa->capwin * 2;

			if ((w = realloc(sa->win, cap * sizeof(*w))) == NULL)
				return -1;
			sa->win = w;
			sa->capwin = cap;
		}
		memmove(sa->win + i + 1, sa->win + i,
		    (sa->nwin - i) * sizeof(*sa->win));
		memset(&sa->win[i], 0, sizeof(sa->win[i]));
		sa->win[i].minute = m;
		sa->nwin++;
		i++;
	}
	w = &sa->win[i - 1];
	w->msgs += msgs;
	w->rcpts += rcpts;
	if (normal) {
		w->nmsgs += msgs;
		w->nrcpts += rcpts;
	}
	/* forget the minutes that left the hour */
	m = sa->win[sa->nwin - 1].minute;
	for (k = 0; k < sa->nwin && sa->win[k].minute <= m - 60; k++)
		;
	if (k > 0) {
		memmove(
		    sa->win, sa->win + k, (sa->nwin - k) * sizeof(*sa->win));
		sa->nwin -= k;
	}
	return 0;
}

/* window_sum - the hour's totals of sa: all mail (v[0..1]), normal [2..3] */
static void
window_sum(const struct suggest_account *sa, uint32_t v[4])
{
	size_t i;

	v[0] = v[1] = v[2] = v[3] = 0;
	for (i = 0; i < sa->nwin; i++) {
		v[0] += sa->win[i].msgs;
		v[1] += sa->win[i].rcpts;
		v[2] += sa->win[i].nmsgs;
		v[3] += sa->win[i].nrcpts;
	}
}

/* nets_add - the network of client at us; counts of the hour into v */
static int
nets_add(struct suggest_account *sa, const char *client, int64_t us, int normal,
    uint32_t v[2])
{
	uint64_t       key = client != NULL ? net_key(client) : 0;
	struct sg_net *n;
	size_t         i, k;

	v[0] = v[1] = 0;
	for (i = k = 0; i < sa->nnet; i++) /* forget the networks of old */
		if (sa->net[i].last_us > us - HOUR_US)
			sa->net[k++] = sa->net[i];
	sa->nnet = k;
	if (key != 0) {
		for (i = 0; i < sa->nnet && sa->net[i].key != key; i++)
			;
		if (i == sa->nnet && sa->nnet < NETS_MAX) {
			if (sa->nnet == sa->capnet) {
				size_t cap =
				    sa->capnet == 0 ? 2 : sa->capnet * 2;

				if ((n = realloc(sa->net, cap * sizeof(*n))) ==
				    NULL)
					return -1;
				sa->net = n;
				sa->capnet = cap;
			}
			memset(&sa->net[i], 0, sizeof(sa->net[i]));
			sa->net[i].key = key;
			sa->nnet++;
		}
		if (i < sa->nnet) {
			if (us > sa->net[i].last_us)
				sa->net[i].last_us = us;
			if (normal && us > sa->net[i].last_normal_us)
				sa->net[i].last_normal_us = us;
		}
	}
	for (i = 0; i < sa->nnet; i++) {
		v[0]++;
		if (sa->net[i].last_normal_us > us - HOUR_US)
			v[1]++;
	}
	return 0;
}

/* suggest_message - a message of u accepted at us (model hook); -1 ENOMEM */
int
suggest_message(struct suggest *s, struct audit_user *u, int64_t us,
    const char *client, uint32_t rcpts)
{
	struct suggest_account  *sa;
	struct suggest_incident *inc;
	uint32_t                 v[4], nv[2];
	int64_t                  hour = us / HOUR_US;

	if ((sa = of_user(s, u)) == NULL)
		return -1;
	inc = incident_at(s, sa, us);
	if (window_add(sa, us / MINUTE_US, 1, rcpts, inc == NULL) == -1 ||
	    nets_add(sa, client, us, inc == NULL, nv) == -1)
		return -1;
	window_sum(sa, v);
	if (inc != NULL) {
		raise_to(&inc->peak[SG_MESSAGES], v[0]);
		raise_to(&inc->peak[SG_RECIPIENTS], v[1]);
		raise_to(&inc->peak[SG_RPM], rcpts);
		raise_to(&inc->peak[SG_NETWORKS], nv[0]);
		return 0;
	}
	raise_to(&sa->normal[SG_MESSAGES], v[2]);
	raise_to(&sa->normal[SG_RECIPIENTS], v[3]);
	raise_to(&sa->normal[SG_RPM], rcpts);
	raise_to(&sa->normal[SG_NETWORKS], nv[1]);
	sa->messages++;
	if (hour != sa->hour) {
		hour_flush(s, sa);
		sa->hour = hour;
	}
	sa->hour_msgs++;
	sa->hour_rcpts += rcpts;
	return 0;
}

/* suggest_rcpts - n recipients of u's message accepted at us (model hook) */
int
suggest_rcpts(struct suggest *s, struct audit_user *u, int64_t us, uint32_t n)
{
	struct suggest_account  *sa;
	struct suggest_incident *inc;
	uint32_t                 v[4];

	if ((sa = of_user(s, u)) == NULL)
		return -1;
	inc = incident_at(s, sa, us);
	if (window_add(sa, us / MINUTE_US, 0, n, inc == NULL) == -1)
		return -1;
	window_sum(sa, v);
	if (inc != NULL) {
		raise_to(&inc->peak[SG_RECIPIENTS], v[1]);
		raise_to(&inc->peak[SG_RPM], n);
		return 0;
	}
	raise_to(&sa->normal[SG_RECIPIENTS], v[3]);
	raise_to(&sa->normal[SG_RPM], n);
	sa->hour_rcpts += n; /* its clock hour, or the next one */
	return 0;
}

/* headroom - a limit over a busiest hour of x */
static uint32_t
headroom(uint32_t x, int k)
{
	uint32_t v = x + (x + 3) / 4;

	if (v == x)
		v++;
	if (v < sg_least[k])
		v = sg_least[k];
	if (k == SG_NETWORKS && v > NETS_MAX - 1)
		v = NETS_MAX - 1;
	return v;
}

/* by_value - ascending uint32_t */
static int
by_value(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *) x, b = *(const uint32_t *) y;

	return a < b ? -1 : a > b;
}

/* accounts_list - the accounts with mail outside incidents, or all */
static struct suggest_account **
accounts_list(const struct suggest *s, size_t *n, int all)
{
	struct suggest_account **v;
	size_t                   i, k = 0;

	if ((v = calloc(s->accounts.used + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < s->accounts.cap; i++)
		if (s->accounts.slot[i].hash != 0) {
			struct suggest_account *sa = s->accounts.slot[i].val;

			if (all || sa->messages > 0)
				v[k++] = sa;
		}
	*n = k;
	return v;
}

/* limit_for - the suggested limit k of the account named user */
static uint32_t
limit_for(const struct suggest *s, const char *user, int k)
{
	const struct suggest_account *sa = suggest_find(s, user);

	return sa != NULL && sa->exception[k] != 0 ? sa->exception[k]
						   : s->global[k];
}

/* catches - the limits (bits) that hold incident i */
static unsigned
catches(const struct suggest *s, const struct suggest_incident *i)
{
	unsigned c = 0;
	int      k;

	for (k = 0; k < SG_NLIMITS; k++)
		if (i->peak[k] > limit_for(s, i->user, k))
			c |= 1u << k;
	return c;
}

/* exceptions_over - an exception for every account over global limit k */
static void
exceptions_over(struct suggest *s, struct suggest_account **v, size_t n, int k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i]->exception[k] == 0 && v[i]->normal[k] > s->global[k])
			v[i]->exception[k] = headroom(v[i]->normal[k], k);
}

/*
 * lower_for - lower one limit just below the peak of incident i, which
 * no limit catches: the first limit by which its peak stands above the
 * normal traffic of the accounts that limit applies to
 */
static void
lower_for(struct suggest *s, struct suggest_account **v, size_t n,
    const uint32_t *ordinary, size_t idx)
{
	struct suggest_incident *i = &s->inc[idx];
	struct suggest_account  *sa;
	int                      k;

	sa = amap_get(&s->accounts, i->user, strlen(i->user),
	    amap_hash(i->user, strlen(i->user)));
	for (k = 0; k < SG_NLIMITS; k++) {
		if (sa != NULL && sa->exception[k] != 0) {
			if (i->peak[k] <= sa->normal[k])
				continue;
			sa->exception[k] = i->peak[k] - 1;
		} else {
			if (i->peak[k] <= ordinary[k] ||
			    (sa != NULL && i->peak[k] <= sa->normal[k]))
				continue;
			s->global[k] = i->peak[k] - 1;
			exceptions_over(s, v, n, k);
		}
		snprintf(s->why[k], sizeof(s->why[k]),
		    "lowered just below the peak of incident #%zu (%" PRIu32
		    "), which nothing else catches; the other accounts' "
		    "busiest hour is %" PRIu32,
		    idx + 1, i->peak[k], ordinary[k]);
		return;
	}
}

/* suggest_compute - the limits and exceptions from the measurements */
void
suggest_compute(struct suggest *s)
{
	struct suggest_account **v;
	uint32_t                *x, heavy, ordinary[SG_NLIMITS];
	size_t                   n, i, j, kmax, nheavy;
	int                      k;

	if ((v = accounts_list(s, &n, 1)) == NULL)
		return;
	if ((x = calloc(n + 1, sizeof(*x))) == NULL) {
		free(v);
		return;
	}
	for (k = 0; k < SG_NLIMITS; k++) {
		for (i = j = 0; i < n; i++) {
			v[i]->exception[k] = 0;
			if (v[i]->messages > 0)
				x[j++] = v[i]->normal[k];
		}
		qsort(x, j, sizeof(*x), by_value);
		heavy = j > 0 ? HEAVY_RATIO * x[(j - 1) / 2] : 0;
		if (heavy < sg_floor[k])
			heavy = sg_floor[k];
		/* too many heavy accounts: raise the bar, exceptions stay few */
		kmax = j / 50 > MAX_EXCEPT ? j / 50 : MAX_EXCEPT;
		for (i = 0, nheavy = 0; i < j; i++)
			nheavy += x[i] > heavy;
		if (nheavy > kmax)
			heavy = x[j - 1 - kmax];
		for (i = 0, ordinary[k] = 0; i < j; i++)
			if (x[i] <= heavy)
				ordinary[k] = x[i];
		s->global[k] = headroom(ordinary[k], k);
		snprintf(s->why[k], sizeof(s->why[k]),
		    "the other accounts' busiest hour (%" PRIu32
		    ") plus a quarter, at least %" PRIu32,
		    ordinary[k], sg_least[k]);
		exceptions_over(s, v, n, k);
	}
	for (j = 0; j < s->ninc; j++)
		if (catches(s, &s->inc[j]) == 0)
			lower_for(s, v, n, ordinary, j);
	for (j = 0; j < s->ninc; j++)
		s->inc[j].caught = catches(s, &s->inc[j]);
	free(x);
	free(v);
}

/* suggest_find - the account named name, or NULL */
const struct suggest_account *
suggest_find(const struct suggest *s, const char *name)
{
	size_t n = strlen(name);

	return amap_get(&s->accounts, name, n, amap_hash(name, n));
}

/* plain - 1 when name can be written in a libconfig string as is */
static int
plain(const char *name)
{
	const unsigned char *p;

	for (p = (const unsigned char *) name; *p != '\0'; p++)
		if (*p < 0x21 || *p >= 0x7f || *p == '"' || *p == '\\')
			return 0;
	return *name != '\0';
}

/* by_name - accounts by name */
static int
by_name(const void *x, const void *y)
{
	const struct suggest_account *a = *(struct suggest_account *const *) x;
	const struct suggest_account *b = *(struct suggest_account *const *) y;

	return strcmp(a->name, b->name);
}

/* has_exception - 1 when sa has an exception for a limit */
static int
has_exception(const struct suggest_account *sa)
{
	int k;

	for (k = 0; k < SG_NLIMITS; k++)
		if (sa->exception[k] != 0)
			return 1;
	return 0;
}

/* put_limit - "key = ...;" of limit k with max m */
static void
put_limit(FILE *fp, int k, uint32_t m)
{
	if (k == SG_RPM)
		fprintf(fp, "%s = %" PRIu32 ";", sg_key[k], m);
	else
		fprintf(fp, "%s = { max = %" PRIu32 "; window = \"1h\"; };",
		    sg_key[k], m);
}

/* suggest_snippet - the limits group and exceptions, in libconfig */
int
suggest_snippet(const struct suggest *s, FILE *fp)
{
	struct suggest_account **v;
	size_t                   n, i, k = 0;
	int                      l;

	if ((v = accounts_list(s, &n, 1)) == NULL)
		return -1;
	qsort(v, n, sizeof(*v), by_name);
	fputs("limits = {\n", fp);
	for (l = 0; l < SG_NLIMITS; l++) {
		fputc('\t', fp);
		put_limit(fp, l, s->global[l]);
		fputc('\n', fp);
	}
	fputs("\tsender_mismatch = true;\n};\n", fp);
	for (i = 0; i < n; i++) {
		if (!has_exception(v[i]))
			continue;
		if (!plain(v[i]->name)) {
			fputs("# an account whose name cannot be written here "
			      "needs an exception too\n",
			    fp);
			continue;
		}
		fputs(k++ == 0 ? "exceptions = (\n" : ",\n", fp);
		fprintf(fp, "\t{ user = \"%s\";", v[i]->name);
		for (l = 0; l < SG_NLIMITS; l++)
			if (v[i]->exception[l] != 0) {
				fputc(' ', fp);
				put_limit(fp, l, v[i]->exception[l]);
			}
		fputs(" }", fp);
	}
	if (k > 0)
		fputs("\n);\n", fp);
	free(v);
	return ferror(fp) ? -1 : 0;
}

/* percentile - the value below or at which q of the hours are */
static uint32_t
percentile(const struct suggest *s, int h, double q)
{
	uint64_t need = (uint64_t) (q * (double) s->nhours + 0.999999), c = 0;
	uint32_t i;

	if (need == 0)
		need = 1;
	for (i = 0; i <= SG_HIST; i++) {
		c += s->hist[h][i];
		if (c >= need)
			return i < SG_HIST ? i : s->hist_max[h];
	}
	return s->hist_max[h];
}

/* by_busiest - most messages in an hour first, then by name */
static int
by_busiest(const void *x, const void *y)
{
	const struct suggest_account *a = *(struct suggest_account *const *) x;
	const struct suggest_account *b = *(struct suggest_account *const *) y;

	if (a->normal[SG_MESSAGES] != b->normal[SG_MESSAGES])
		return a->normal[SG_MESSAGES] > b->normal[SG_MESSAGES] ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* printable - name with bytes outside printable ASCII as '?' */
static void
printable(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
}

/* suggest_report - the figures, the reasons and the snippet */
int
suggest_report(const struct suggest *s, FILE *fp)
{
	struct suggest_account **v;
	size_t                   n, i, w = 7;
	char                     name[256], t1[40], t2[40];
	int                      k, first;

	if ((v = accounts_list(s, &n, 0)) == NULL)
		return -1;
	qsort(v, n, sizeof(*v), by_busiest);
	for (i = 0; i < n; i++)
		if (strlen(v[i]->name) > w)
			w = strlen(v[i]->name);
	if (w > 40)
		w = 40;
	audit_fmt_time(t1, sizeof(t1), s->first_us);
	audit_fmt_time(t2, sizeof(t2), s->last_us);
	fprintf(fp,
	    "saslguard audit --suggest-limits: %u file%s, %s .. %s\n"
	    "Hours are sliding hours to the minute; client networks are /24 "
	    "(IPv4) and /64 (IPv6).\n\n"
	    "Normal traffic: the busiest hour of each account outside "
	    "incidents (%zu)\n",
	    s->nfiles, s->nfiles == 1 ? "" : "s", t1, t2, n);
	if (n > 0)
		fprintf(fp, "  %-*s %7s %8s %9s %6s %6s %9s\n", (int) w,
		    "ACCOUNT", "MSGS/H", "RCPTS/H", "RCPTS/MSG", "NETS/H",
		    "HOURS", "MESSAGES");
	for (i = 0; i < n; i++) {
		printable(name, sizeof(name), v[i]->name);
		fprintf(fp,
		    "  %-*s %7" PRIu32 " %8" PRIu32 " %9" PRIu32 " %6" PRIu32
		    " %6" PRIu32 " %9" PRIu64 "%s\n",
		    (int) w, name, v[i]->normal[SG_MESSAGES],
		    v[i]->normal[SG_RECIPIENTS], v[i]->normal[SG_RPM],
		    v[i]->normal[SG_NETWORKS], v[i]->hours, v[i]->messages,
		    has_exception(v[i]) ? "  (exception)" : "");
	}
	if (s->nhours > 0)
		fprintf(fp,
		    "  Per account and clock hour with mail (%" PRIu64
		    " hours): messages p50 %" PRIu32 ", p99 %" PRIu32
		    ", max %" PRIu32 "; recipients p50 %" PRIu32
		    ", p99 %" PRIu32 ", max %" PRIu32 "\n",
		    s->nhours, percentile(s, 0, 0.5), percentile(s, 0, 0.99),
		    s->hist_max[0], percentile(s, 1, 0.5),
		    percentile(s, 1, 0.99), s->hist_max[1]);
	fprintf(fp,
	    "\nIncidents: the busiest hour of the account's mail (%zu)\n",
	    s->ninc);
	for (i = 0; i < s->ninc; i++) {
		const struct suggest_incident *inc = &s->inc[i];

		printable(name, sizeof(name), inc->user);
		audit_fmt_time(t1, sizeof(t1), inc->start_us);
		audit_fmt_time(t2, sizeof(t2), inc->end_us);
		fprintf(fp,
		    "  #%zu %s  %s .. %s\n      msgs/h %" PRIu32
		    ", rcpts/h %" PRIu32 ", rcpts/msg %" PRIu32
		    ", nets/h %" PRIu32 "; ",
		    i + 1, name, t1, t2, inc->peak[SG_MESSAGES],
		    inc->peak[SG_RECIPIENTS], inc->peak[SG_RPM],
		    inc->peak[SG_NETWORKS]);
		if (inc->caught == 0)
			fputs("NOT caught by any suggested limit: the burst "
			      "looks like normal traffic\n",
			    fp);
		else {
			fputs("caught by", fp);
			for (k = 0, first = 1; k < SG_NLIMITS; k++)
				if (inc->caught & (1u << k)) {
					fprintf(fp, "%s %s", first ? "" : ",",
					    sg_key[k]);
					first = 0;
				}
			fputc('\n', fp);
		}
	}
	fputs("\nSuggested limits\n", fp);
	for (k = 0; k < SG_NLIMITS; k++)
		fprintf(fp, "  %-22s %6" PRIu32 "  %s\n", sg_key[k],
		    s->global[k], s->why[k]);
	fputs("  Exceptions go to accounts whose busiest hour is over "
	      "the limit; each gets its own\n  busiest hour plus a quarter.\n"
	      "\n# saslguard.conf: limits that flag none of the normal "
	      "traffic above\n",
	    fp);
	free(v);
	return suggest_snippet(s, fp) == -1 || ferror(fp) ? -1 : 0;
}

/* suggest_free - everything a suggest holds, and itself; NULL is fine */
void
suggest_free(struct suggest *s)
{
	struct suggest_account *sa;
	size_t                  i;

	if (s == NULL)
		return;
	for (i = 0; i < s->accounts.cap; i++)
		if (s->accounts.slot[i].hash != 0) {
			sa = s->accounts.slot[i].val;
			free(sa->inc);
			free(sa->win);
			free(sa->net);
			free(sa);
		}
	amap_free(&s->accounts);
	free(s->inc);
	arena_free(&s->arena);
	free(s);
}

/* take_incidents - copy the incidents of audit a into s */
static int
take_incidents(struct suggest *s, const struct audit *a)
{
	struct suggest_account *sa;
	uint32_t               *v;
	size_t                  i;

	if (a->ninc == 0)
		return 0;
	if ((s->inc = calloc(a->ninc, sizeof(*s->inc))) == NULL)
		return -1;
	for (i = 0; i < a->ninc; i++) {
		if ((sa = account(s, a->inc[i]->user->name)) == NULL)
			return -1;
		s->inc[i].user = sa->name;
		s->inc[i].start_us = a->inc[i]->start_us;
		s->inc[i].end_us = a->inc[i]->end_us;
		if ((v = realloc(sa->inc, (sa->ninc + 1) * sizeof(*v))) == NULL)
			return -1;
		sa->inc = v;
		sa->inc[sa->ninc++] = (uint32_t) i;
		s->ninc++;
	}
	return 0;
}

/*
 * suggest_run - replay files twice: find the incidents, then measure
 *
 * Returns 0 with *out set, or -1 with a message in err.
 */
int
suggest_run(const struct audit_opts *o, char *const files[], int nfiles,
    struct suggest **out, char *err, size_t errlen)
{
	struct suggest *s;
	struct audit    a;
	size_t          i;
	int             j;

	*out = NULL;
	for (j = 0; j < nfiles; j++)
		if (strcmp(files[j], "-") == 0) {
			snprintf(err, errlen,
			    "--suggest-limits reads the logs twice: name files, "
			    "not standard input");
			return -1;
		}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	audit_init(&a, o);
	if (audit_run(&a, files, nfiles, err, errlen) == -1)
		goto fail;
	if (take_incidents(s, &a) == -1) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	audit_free(&a);
	audit_init(&a, o);
	a.sg = s;
	if (audit_run(&a, files, nfiles, err, errlen) == -1)
		goto fail;
	s->first_us = a.first_us;
	s->last_us = a.last_us;
	s->nfiles = a.nfiles;
	audit_free(&a);
	for (i = 0; i < s->accounts.cap; i++)
		if (s->accounts.slot[i].hash != 0)
			hour_flush(s, s->accounts.slot[i].val);
	suggest_compute(s);
	*out = s;
	return 0;
fail:
	audit_free(&a);
	suggest_free(s);
	return -1;
}
