/*
 * test_audit_suggest.c - tests for tools/audit_suggest.c
 * ("saslguardctl audit --suggest-limits")
 *
 * The logs are generated: three weeks (from Monday 2026-03-02, UTC) of
 * steady office mail of alice, bob and carol, a newsletter account that
 * sends 150 messages to 5 recipients every morning, and one Sunday night
 * burst of bob's account from two foreign networks.  The test computes the
 * busiest sliding hour of each account itself, from what it generated,
 * and checks the suggestion against it; the snippet is loaded with the
 * daemon's own configuration loader.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "audit.h"
#include "conf.h"

#define T0    1772409600LL /* 2026-03-02T00:00:00Z, a Monday */
#define DAY   86400LL
#define NMAX  8192
#define BURST (T0 + 13 * DAY + 3 * 3600) /* Sunday 2026-03-15 03:00 */

static void
utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

TestSuite(suggest, .init = utc);

/* one generated message */
struct gmsg {
	int64_t     t;
	const char *user;
	const char *client;
	int         nrcpt;
	int         hold; /* saslguard held it */
};

struct gen {
	struct gmsg m[NMAX];
	int         n;
};

static void
add(struct gen *g, int64_t t, const char *user, const char *client, int nrcpt,
    int hold)
{
	cr_assert_lt(g->n, NMAX);
	g->m[g->n].t = t;
	g->m[g->n].user = user;
	g->m[g->n].client = client;
	g->m[g->n].nrcpt = nrcpt;
	g->m[g->n].hold = hold;
	g->n++;
}

static int
by_time(const void *x, const void *y)
{
	const struct gmsg *a = x, *b = y;

	return a->t < b->t ? -1 : a->t > b->t;
}

/* stamp - RFC 3339 time t */
static void
stamp(char *buf, size_t len, int64_t t)
{
	time_t    tt = (time_t) t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	cr_assert_neq(strftime(buf, len, "%Y-%m-%dT%H:%M:%S+00:00", &tm), 0);
}

/* write_log - the messages of g as Postfix and saslguard lines; a path */
static char *
write_log(struct gen *g)
{
	char *path = strdup("/tmp/test_suggest.XXXXXX"), ts[40], qid[16];
	int   fd = mkstemp(path), i;
	FILE *fp;

	cr_assert_neq(fd, -1);
	fp = fdopen(fd, "w");
	cr_assert_not_null(fp);
	qsort(g->m, (size_t) g->n, sizeof(g->m[0]), by_time);
	for (i = 0; i < g->n; i++) {
		const struct gmsg *m = &g->m[i];

		stamp(ts, sizeof(ts), m->t);
		snprintf(qid, sizeof(qid), "%010X", 0x200000 + i);
		fprintf(fp,
		    "%s mx postfix/submission/smtpd[1]: %s: "
		    "client=unknown[%s], sasl_method=PLAIN, sasl_username=%s\n",
		    ts, qid, m->client, m->user);
		if (m->hold)
			fprintf(fp,
			    "%s mx saslguard[9]: %s: hold: user=%s "
			    "sender=<%s> rcpts=%d client=%s limit=messages "
			    "count=13 max=12 window=1h\n",
			    ts, qid, m->user, m->user, m->nrcpt, m->client);
		fprintf(fp,
		    "%s mx postfix/qmgr[2]: %s: from=<%s>, size=900, nrcpt=%d "
		    "(queue active)\n",
		    ts, qid, m->user, m->nrcpt);
		if (!m->hold)
			fprintf(fp, "%s mx postfix/qmgr[2]: %s: removed\n", ts,
			    qid);
	}
	cr_assert_eq(fclose(fp), 0);
	return path;
}

/* busiest - the most messages (or recipients) of user in a sliding hour
 * (to the minute), among messages at t < skip_from or t >= skip_to */
static uint32_t
busiest(const struct gen *g, const char *user, int rcpts, int64_t skip_from,
    int64_t skip_to)
{
	uint32_t best = 0, sum;
	int      i, j;

	for (i = 0; i < g->n; i++) {
		if (strcmp(g->m[i].user, user) != 0)
			continue;
		sum = 0;
		for (j = 0; j < g->n; j++) {
			const struct gmsg *m = &g->m[j];

			if (strcmp(m->user, user) != 0 ||
			    (m->t >= skip_from && m->t < skip_to) ||
			    m->t / 60 > g->m[i].t / 60 ||
			    m->t / 60 <= g->m[i].t / 60 - 60)
				continue;
			sum += rcpts ? (uint32_t) m->nrcpt : 1;
		}
		if (sum > best)
			best = sum;
	}
	return best;
}

/* three_weeks - the office users, the newsletter and bob's burst */
static void
three_weeks(struct gen *g)
{
	static const char *const users[] = { "alice@example.test",
		"bob@example.test", "carol@example.test" };
	static const char *const office[] = { "192.0.2.1", "192.0.2.2",
		"192.0.2.3" };
	int64_t                  day, t;
	int                      d, h, u, i, n;

	g->n = 0;
	for (d = 0; d < 21; d++) {
		day = T0 + d * DAY;
		for (i = 0; i < 150; i++)
			add(g, day + 10 * 3600 + i * 20, "news@example.test",
			    "192.0.2.50", 5, 0);
		if (d % 7 >= 5)
			continue; /* the office is closed at weekends */
		for (h = 8; h < 18; h++)
			for (u = 0; u < 3; u++) {
				n = (d * 7 + h * 3 + u * 5) % 5; /* 0..4 */
				for (i = 0; i < n; i++) {
					t = day + h * 3600 +
					    ((i * 13 + u * 7 + d) % 60) * 60;
					add(g, t, users[u], office[u],
					    1 + (i + u + h) % 3, 0);
				}
			}
	}
	for (i = 0; i < 240; i++)
		add(g, BURST + i * 5, "bob@example.test",
		    i % 2 ? "198.51.100.77" : "203.0.113.9", 10, 0);
}

/* run - suggest from the one log at path */
static struct suggest *
run(char *path)
{
	struct audit_opts o;
	struct suggest   *s;
	char              err[256];

	memset(&o, 0, sizeof(o));
	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.now = T0 + 30 * DAY;
	cr_assert_eq(
	    suggest_run(&o, &path, 1, &s, err, sizeof(err)), 0, "%s", err);
	return s;
}

static struct gen G;

Test(suggest, global_limit_is_above_every_normal_hour_and_below_the_burst)
{
	static const char *const      office[] = { "alice@example.test",
		     "bob@example.test", "carol@example.test" };
	char                         *path;
	struct suggest               *s;
	const struct suggest_account *sa;
	uint32_t                      want;
	int                           u;

	three_weeks(&G);
	path = write_log(&G);
	s = run(path);
	cr_assert_eq(s->ninc, 1);
	cr_assert_str_eq(s->inc[0].user, "bob@example.test");
	cr_assert_eq(s->inc[0].start_us, BURST * AUDIT_US);
	cr_assert_eq(s->inc[0].peak[SG_MESSAGES], 240);
	cr_assert_eq(s->inc[0].peak[SG_RECIPIENTS], 2400);
	cr_assert_eq(s->inc[0].peak[SG_RPM], 10);
	cr_assert_eq(s->inc[0].peak[SG_NETWORKS], 2);
	for (u = 0; u < 3; u++) {
		sa = suggest_find(s, office[u]);
		cr_assert_not_null(sa);
		/* the burst is not normal traffic */
		want = busiest(&G, office[u], 0, BURST, BURST + DAY);
		cr_assert_eq(sa->normal[SG_MESSAGES], want, "%s: %u != %u",
		    office[u], sa->normal[SG_MESSAGES], want);
		cr_assert_eq(sa->normal[SG_RECIPIENTS],
		    busiest(&G, office[u], 1, BURST, BURST + DAY));
		cr_assert_eq(sa->normal[SG_NETWORKS], 1);
		cr_assert_gt(s->global[SG_MESSAGES], sa->normal[SG_MESSAGES]);
		cr_assert_gt(
		    s->global[SG_RECIPIENTS], sa->normal[SG_RECIPIENTS]);
		cr_assert_geq(s->global[SG_RPM], sa->normal[SG_RPM]);
		cr_assert_eq(sa->exception[SG_MESSAGES], 0);
	}
	cr_assert_lt(s->global[SG_MESSAGES], 240);
	cr_assert_lt(s->global[SG_RECIPIENTS], 2400);
	cr_assert_lt(s->global[SG_RPM], 10);
	cr_assert(s->inc[0].caught & (1u << SG_MESSAGES));
	cr_assert(s->inc[0].caught & (1u << SG_RECIPIENTS));
	cr_assert(s->inc[0].caught & (1u << SG_RPM));
	suggest_free(s);
	unlink(path);
	free(path);
}

Test(suggest, newsletter_gets_an_exception_above_its_busiest_hour)
{
	char                         *path;
	struct suggest               *s;
	const struct suggest_account *news;

	three_weeks(&G);
	path = write_log(&G);
	s = run(path);
	news = suggest_find(s, "news@example.test");
	cr_assert_not_null(news);
	cr_assert_eq(news->normal[SG_MESSAGES], 150);
	cr_assert_eq(news->normal[SG_RECIPIENTS], 750);
	cr_assert_eq(news->hours, 21);
	cr_assert_lt(s->global[SG_MESSAGES], 150);
	cr_assert_gt(news->exception[SG_MESSAGES], 150);
	cr_assert_gt(news->exception[SG_RECIPIENTS], 750);
	/* its 5 recipients per message fit the global limit */
	cr_assert_eq(news->exception[SG_RPM], 0);
	cr_assert_geq(s->global[SG_RPM], 5);
	/* memory: only the minutes of the last hour are kept */
	cr_assert_leq(news->nwin, 60);
	suggest_free(s);
	unlink(path);
	free(path);
}

Test(suggest, snippet_loads_as_configuration_with_the_same_limits)
{
	char                *path, *buf = NULL, err[1024];
	char                 conf_path[] = "/tmp/test_suggest_conf.XXXXXX";
	size_t               len = 0;
	FILE                *fp;
	struct suggest      *s;
	struct conf         *c;
	const struct limits *l;
	const struct suggest_account *news;
	char *const                  *senders;
	size_t                        nsenders;
	int                           fd;

	three_weeks(&G);
	path = write_log(&G);
	s = run(path);
	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	cr_assert_eq(suggest_report(s, fp), 0);
	fclose(fp);
	cr_assert_not_null(strstr(buf, "news@example.test"));
	cr_assert_not_null(strstr(buf, "caught by messages"));
	cr_assert_not_null(strstr(buf, "p99"));
	free(buf);
	buf = NULL;
	fd = mkstemp(conf_path);
	cr_assert_neq(fd, -1);
	fp = fdopen(fd, "w");
	fprintf(fp, "milter_socket = \"unix:/tmp/test_suggest.sock\";\n");
	cr_assert_eq(suggest_snippet(s, fp), 0);
	fclose(fp);
	cr_assert_eq(conf_load(conf_path, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c->limits.messages.max, s->global[SG_MESSAGES]);
	cr_assert_eq(c->limits.messages.window, 3600);
	cr_assert_eq(c->limits.recipients.max, s->global[SG_RECIPIENTS]);
	cr_assert_eq(c->limits.recipients_per_message, s->global[SG_RPM]);
	cr_assert_eq(c->limits.client_addresses.max, s->global[SG_NETWORKS]);
	cr_assert_eq(c->nexceptions, 1);
	news = suggest_find(s, "news@example.test");
	l = conf_account(c, "news@example.test", &senders, &nsenders);
	cr_assert_not_null(l);
	cr_assert_eq(l->messages.max, news->exception[SG_MESSAGES]);
	cr_assert_eq(l->recipients.max, news->exception[SG_RECIPIENTS]);
	cr_assert_eq(l->recipients_per_message, s->global[SG_RPM]);
	conf_unref(c);
	unlink(conf_path);
	suggest_free(s);
	unlink(path);
	free(path);
}

Test(suggest, limit_is_lowered_under_an_incident_close_to_normal_traffic)
{
	char           *path;
	struct suggest *s;
	int             d, i;

	/* zed: 12 messages in an hour every day; then 14, the last two held */
	G.n = 0;
	for (d = 0; d < 5; d++)
		for (i = 0; i < 12; i++)
			add(&G, T0 + d * DAY + 10 * 3600 + i * 300,
			    "zed@example.test", "192.0.2.5", 1, 0);
	for (i = 0; i < 14; i++)
		add(&G, T0 + 5 * DAY + 10 * 3600 + i * 60, "zed@example.test",
		    "192.0.2.5", 1, i >= 12);
	path = write_log(&G);
	s = run(path);
	cr_assert_eq(s->ninc, 1);
	cr_assert_eq(
	    suggest_find(s, "zed@example.test")->normal[SG_MESSAGES], 12);
	cr_assert_eq(s->inc[0].peak[SG_MESSAGES], 14);
	/* 12 + a quarter would miss it: just below the peak instead */
	cr_assert_eq(s->global[SG_MESSAGES], 13);
	cr_assert(s->inc[0].caught & (1u << SG_MESSAGES));
	suggest_free(s);
	unlink(path);
	free(path);
}

Test(suggest, standard_input_is_refused)
{
	struct audit_opts o;
	struct suggest   *s = (struct suggest *) &o;
	char             *files[] = { "-" }, err[256];
	char             *argv[] = { "audit", "--suggest-limits", "-", NULL };

	memset(&o, 0, sizeof(o));
	cr_assert_eq(suggest_run(&o, files, 1, &s, err, sizeof(err)), -1);
	cr_assert_null(s);
	cr_assert_not_null(strstr(err, "standard input"));
	cr_assert(freopen("/dev/null", "w", stderr) != NULL);
	cr_assert_eq(audit_main(3, argv), 2);
}
