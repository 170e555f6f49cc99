/*
 * audit_report.c - the audit's text and JSON reports
 *
 * Text is for an operator's terminal: aligned columns, the largest
 * numbers first, long lists cut to the top entries, and every name taken
 * from a log escaped (escape_value) so a hostile account name cannot
 * move the cursor or forge a line.  JSON carries everything, with the
 * keys documented in doc/ and the issue: users, auth_failures, incidents
 * (times in RFC 3339, local time with its offset).
 *
 * Thread safety: none (localtime_r is, the process time zone is not).
 * Tests: tests/test_audit.c
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "escape.h"

#define TOP     20 /* entries of a long list in text */
#define COL_MAX 40 /* widest name column in text */

/* audit_fmt_time - RFC 3339 local time of us into buf */
void
audit_fmt_time(char *buf, size_t len, int64_t us)
{
	time_t    t = (time_t) (us / AUDIT_US);
	struct tm tm;
	long      off;
	int       n;

	if (us == AUDIT_NO_MIN || us == AUDIT_NO_MAX ||
	    localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	off = tm.tm_gmtoff / 60;
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	if (n < 0 || (size_t) n >= len)
		snprintf(buf, len, "-");
}

/* grouped - n with thousands separators ("1,204") */
static void
grouped(char *buf, size_t len, uint64_t n)
{
	char   d[32];
	size_t k, i, o = 0;

	k = (size_t) snprintf(d, sizeof(d), "%" PRIu64, n);
	for (i = 0; i < k && o + 2 < len; i++) {
		if (i > 0 && (k - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = '\0';
}

/* hhmm - "02:57", or "2026-11-28 02:57" when with_date */
static void
hhmm(char *buf, size_t len, int64_t us, int with_date)
{
	time_t    t = (time_t) (us / AUDIT_US);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, with_date ? "%Y-%m-%d %H:%M" : "%H:%M", &tm) ==
		0)
		snprintf(buf, len, "-");
}

/* plural - "s" unless n is one */
static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* audit_summary - the one-sentence post-mortem of incident i */
void
audit_summary(char *buf, size_t len, const struct audit_incident *i)
{
	char user[256], msgs[32], rcpts[32], doms[32], held[32], rel[32],
	    del[32], from[32], to[32];
	time_t    a = (time_t) (i->start_us / AUDIT_US);
	time_t    b = (time_t) (i->end_us / AUDIT_US);
	struct tm ta, tb;
	int       same = 0, n;

	if (localtime_r(&a, &ta) != NULL && localtime_r(&b, &tb) != NULL)
		same = ta.tm_year == tb.tm_year && ta.tm_yday == tb.tm_yday;
	escape_value(user, sizeof(user), i->user->name);
	grouped(msgs, sizeof(msgs), i->c[AC_ESCAPED]);
	grouped(rcpts, sizeof(rcpts), i->c[AC_DELIVERED]);
	grouped(doms, sizeof(doms), i->domains.used);
	grouped(held, sizeof(held), i->c[AC_HELD]);
	grouped(rel, sizeof(rel), i->c[AC_RELEASED]);
	grouped(del, sizeof(del), i->c[AC_DELETED]);
	hhmm(from, sizeof(from), i->start_us, !same);
	hhmm(to, sizeof(to), i->end_us, !same);
	n = snprintf(buf, len,
	    "%s: %s message%s to %s recipient%s in %s domain%s escaped "
	    "between %s and %s; %s held, %s released, %s deleted.",
	    user, msgs, plural(i->c[AC_ESCAPED]), rcpts,
	    plural(i->c[AC_DELIVERED]), doms, plural(i->domains.used), from, to,
	    held, rel, del);
	if (n < 0)
		snprintf(buf, len, "%s: (summary unavailable)", user);
}

/* printable - s with every byte outside printable ASCII as '?' */
static void
printable(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
}

/* shown - 1 when account u belongs in the report */
static int
shown(const struct audit *a, const struct audit_user *u)
{
	if (a->opts.user != NULL)
		return strcmp(a->opts.user, u->name) == 0;
	return u->c[AC_MESSAGES] > 0 || u->c[AC_HELD] > 0 || u->sg_hold > 0 ||
	       u->sg_flag > 0 || u->ctl_deleted > 0 || u->ctl_released > 0;
}

/* ---- text ---- */

/* put_list - "a (3), b (1)" of up to TOP entries of a count map */
static int
put_list(FILE *fp, const char *label, const struct amap *m)
{
	struct audit_tally *t;
	size_t              n, i;
	char                s[256];

	if (m->used == 0)
		return 0;
	if ((t = audit_tallies(m, &n)) == NULL)
		return -1;
	fprintf(fp, "      %s ", label);
	for (i = 0; i < n && i < TOP; i++) {
		escape_value(s, sizeof(s), t[i].key);
		fprintf(fp, "%s%s (%" PRIu64 ")", i > 0 ? ", " : "", s, t[i].n);
	}
	if (n > TOP)
		fprintf(fp, ", and %zu more", n - TOP);
	fputc('\n', fp);
	free(t);
	return 0;
}

/* text_users - the accounts table */
static int
text_users(const struct audit *a, FILE *fp)
{
	struct audit_user **v, *u;
	size_t              n, i, k = 0, w = 7;
	char                name[256], t1[40], t2[40];

	if ((v = audit_users_sorted(a, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (shown(a, v[i])) {
			k++;
			if (strlen(v[i]->name) > w)
				w = strlen(v[i]->name);
		}
	if (w > COL_MAX)
		w = COL_MAX;
	fprintf(fp, "Accounts (%zu)\n", k);
	if (k > 0)
		fprintf(fp,
		    "  %-*s %7s %7s %7s %6s %6s %6s %6s %6s  %-25s  %s\n",
		    (int) w, "ACCOUNT", "MSGS", "RCPTS", "DELIV", "BOUNCE",
		    "DEFER", "HELD", "REL", "DEL", "FIRST SEEN", "LAST SEEN");
	for (i = 0; i < n; i++) {
		u = v[i];
		if (!shown(a, u))
			continue;
		escape_value(name, sizeof(name), u->name);
		audit_fmt_time(t1, sizeof(t1), u->first_us);
		audit_fmt_time(t2, sizeof(t2), u->last_us);
		fprintf(fp,
		    "  %-*s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %6" PRIu64
		    " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		    "  %-25s  %s\n",
		    (int) w, name, u->c[AC_MESSAGES], u->c[AC_RECIPIENTS],
		    u->c[AC_DELIVERED], u->c[AC_BOUNCED], u->c[AC_DEFERRED],
		    u->c[AC_HELD], u->c[AC_RELEASED], u->c[AC_DELETED], t1, t2);
		if (put_list(fp, "from   ", &u->addrs) == -1 ||
		    put_list(fp, "senders", &u->senders) == -1)
			goto fail;
		if (u->sg_hold + u->sg_flag + u->ctl_deleted + u->ctl_released +
			u->ctl_held >
		    0)
			fprintf(fp,
			    "      saslguard: flagged %" PRIu64
			    "x, held %" PRIu64
			    "; by operators: deleted %" PRIu64
			    ", released %" PRIu64 ", held %" PRIu64 "\n",
			    u->sg_flag, u->sg_hold, u->ctl_deleted,
			    u->ctl_released, u->ctl_held);
	}
	free(v);
	return 0;
fail:
	free(v);
	return -1;
}

/* fail_wanted - 1 when failure record f belongs in the report */
static int
fail_wanted(const struct audit *a, const struct audit_fail *f, int by_user)
{
	size_t i;

	if (a->opts.user == NULL)
		return 1;
	if (by_user)
		return strcmp(f->key, a->opts.user) == 0;
	/* by address: addresses that tried the account asked for */
	{
		size_t                   n = strlen(a->opts.user);
		const struct audit_fail *uf = amap_get(
		    &a->fail_user, a->opts.user, n, amap_hash(a->opts.user, n));

		if (uf == NULL)
			return 0;
		for (i = 0; i < uf->nrun; i++)
			if (strcmp(uf->run[(uf->headrun + i) % uf->caprun].addr,
				f->key) == 0)
				return 1;
	}
	return 0;
}

/* text_fails - failed logins of map m */
static int
text_fails(const struct audit *a, FILE *fp, const struct amap *m,
    const char *title, const char *col, int by_user)
{
	struct audit_fail **v;
	size_t              n, i, k = 0, shown_n = 0;
	char                key[256], t1[40], t2[40];

	if ((v = audit_fails_sorted(m, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		k += fail_wanted(a, v[i], by_user);
	fprintf(fp, "\n%s (%zu)\n", title, k);
	if (k > 0)
		fprintf(fp, "  %-*s %8s  %-25s  %s\n", COL_MAX, col, "COUNT",
		    "FIRST", "LAST");
	for (i = 0; i < n && shown_n < TOP; i++) {
		if (!fail_wanted(a, v[i], by_user))
			continue;
		shown_n++;
		escape_value(key, sizeof(key), v[i]->key);
		audit_fmt_time(t1, sizeof(t1), v[i]->first_us);
		audit_fmt_time(t2, sizeof(t2), v[i]->last_us);
		fprintf(fp, "  %-*s %8" PRIu64 "  %-25s  %s\n", COL_MAX, key,
		    audit_fail_count(v[i]), t1, t2);
	}
	if (k > shown_n)
		fprintf(fp, "  ... and %zu more\n", k - shown_n);
	free(v);
	return 0;
}

/* text_incidents - the incidents and their post-mortems */
static int
text_incidents(const struct audit *a, FILE *fp)
{
	const struct audit_incident *inc;
	size_t                       i, j, k = 0;
	char                         name[256], t1[40], t2[40], s[1024];

	for (i = 0; i < a->ninc; i++)
		k += a->opts.user == NULL ||
		     strcmp(a->opts.user, a->inc[i]->user->name) == 0;
	fprintf(fp, "\nIncidents (%zu)\n", k);
	for (i = 0, k = 0; i < a->ninc; i++) {
		inc = a->inc[i];
		if (a->opts.user != NULL &&
		    strcmp(a->opts.user, inc->user->name) != 0)
			continue;
		escape_value(name, sizeof(name), inc->user->name);
		audit_fmt_time(t1, sizeof(t1), inc->start_us);
		audit_fmt_time(t2, sizeof(t2), inc->end_us);
		fprintf(fp, "  #%zu %s  %s .. %s\n", ++k, name, t1, t2);
		printable(s, sizeof(s), inc->why);
		fprintf(fp, "      opened by: %s\n", s);
		fprintf(fp,
		    "      %" PRIu64 " messages to %" PRIu64
		    " recipients accepted; %" PRIu64 " delivered, %" PRIu64
		    " bounced, %" PRIu64 " deferred, %" PRIu64 " held, %" PRIu64
		    " released, %" PRIu64 " deleted\n",
		    inc->c[AC_MESSAGES], inc->c[AC_RECIPIENTS],
		    inc->c[AC_DELIVERED], inc->c[AC_BOUNCED],
		    inc->c[AC_DEFERRED], inc->c[AC_HELD], inc->c[AC_RELEASED],
		    inc->c[AC_DELETED]);
		if (put_list(fp, "from", &inc->addrs) == -1)
			return -1;
		fprintf(fp,
		    "      failed logins before: %" PRIu64
		    " in the hour, %" PRIu64 " in the day",
		    inc->fail_hour, inc->fail_day);
		for (j = 0; j < inc->nfail_addrs && j < TOP; j++) {
			escape_value(s, sizeof(s), inc->fail_addrs[j].key);
			fprintf(fp, "%s%s (%" PRIu64 ")",
			    j == 0 ? "; from " : ", ", s, inc->fail_addrs[j].n);
		}
		fputc('\n', fp);
		audit_summary(s, sizeof(s), inc);
		fprintf(fp, "      %s\n", s);
	}
	return 0;
}

/* audit_report_text - the report for people */
int
audit_report_text(const struct audit *a, FILE *fp)
{
	char                      t1[40], t2[40];
	const struct audit_stats *st = &a->st;

	audit_fmt_time(t1, sizeof(t1), a->first_us);
	audit_fmt_time(t2, sizeof(t2), a->last_us);
	fprintf(fp, "saslguard audit: %u file%s, %s .. %s\n\n", a->nfiles,
	    plural(a->nfiles), t1, t2);
	if (text_users(a, fp) == -1 ||
	    text_fails(a, fp, &a->fail_addr, "Failed logins by client address",
		"CLIENT ADDRESS", 0) == -1 ||
	    text_fails(a, fp, &a->fail_user, "Failed logins by account tried",
		"ACCOUNT TRIED", 1) == -1 ||
	    text_incidents(a, fp) == -1)
		return -1;
	fprintf(fp,
	    "\nLines: %" PRIu64 " read, %" PRIu64 " used, %" PRIu64
	    " skipped (%" PRIu64 " not relevant, %" PRIu64
	    " of queue IDs seen before the logs start, %" PRIu64
	    " malformed, %" PRIu64 " too long, %" PRIu64 " truncated, %" PRIu64
	    " duplicate, %" PRIu64 " outside the time range)\n",
	    st->read, st->used, st->read - st->used, st->ignored, st->unmatched,
	    st->malformed, st->too_long, st->truncated, st->duplicate,
	    st->out_of_range);
	return ferror(fp) ? -1 : 0;
}

/* ---- JSON ---- */

/* json_str - s as a JSON string; bytes >= 0x80 as \u00XX (Latin-1) */
static void
json_str(FILE *fp, const char *s)
{
	const unsigned char *p;

	fputc('"', fp);
	for (p = (const unsigned char *) s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* json_time - an RFC 3339 time, or null */
static void
json_time(FILE *fp, int64_t us)
{
	char t[40];

	if (us == AUDIT_NO_MIN || us == AUDIT_NO_MAX) {
		fputs("null", fp);
		return;
	}
	audit_fmt_time(t, sizeof(t), us);
	json_str(fp, t);
}

/* json_keys - the keys of a count map, most first, as a string array */
static int
json_keys(FILE *fp, const struct amap *m)
{
	struct audit_tally *t;
	size_t              n, i;

	if ((t = audit_tallies(m, &n)) == NULL)
		return -1;
	fputc('[', fp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", fp);
		json_str(fp, t[i].key);
	}
	fputc(']', fp);
	free(t);
	return 0;
}

/* json_counts - the counters of c as "key": n members */
static void
json_counts(FILE *fp, const uint64_t *c)
{
	fprintf(fp,
	    "\"messages\": %" PRIu64 ", \"recipients\": %" PRIu64
	    ", \"delivered\": %" PRIu64 ", \"messages_delivered\": %" PRIu64
	    ", \"bounced\": %" PRIu64 ", \"deferred\": %" PRIu64
	    ", \"expired\": %" PRIu64 ", \"held\": %" PRIu64
	    ", \"released\": %" PRIu64 ", \"deleted\": %" PRIu64
	    ", \"rejected\": %" PRIu64,
	    c[AC_MESSAGES], c[AC_RECIPIENTS], c[AC_DELIVERED], c[AC_ESCAPED],
	    c[AC_BOUNCED], c[AC_DEFERRED], c[AC_EXPIRED], c[AC_HELD],
	    c[AC_RELEASED], c[AC_DELETED], c[AC_REJECTED]);
}

/* json_users - the "users" array */
static int
json_users(const struct audit *a, FILE *fp)
{
	struct audit_user **v, *u;
	size_t              n, i, k = 0;

	if ((v = audit_users_sorted(a, &n)) == NULL)
		return -1;
	fputs("  \"users\": [", fp);
	for (i = 0; i < n; i++) {
		u = v[i];
		if (!shown(a, u))
			continue;
		fputs(k++ > 0 ? ",\n    {" : "\n    {", fp);
		fputs("\"user\": ", fp);
		json_str(fp, u->name);
		fputs(", ", fp);
		json_counts(fp, u->c);
		fputs(", \"client_addresses\": ", fp);
		if (json_keys(fp, &u->addrs) == -1)
			goto fail;
		fputs(", \"senders\": ", fp);
		if (json_keys(fp, &u->senders) == -1)
			goto fail;
		fprintf(fp,
		    ", \"saslguard_holds\": %" PRIu64
		    ", \"saslguard_flags\": %" PRIu64
		    ", \"operator_deleted\": %" PRIu64
		    ", \"operator_released\": %" PRIu64
		    ", \"logins\": %" PRIu64,
		    u->sg_hold, u->sg_flag, u->ctl_deleted, u->ctl_released,
		    u->logins);
		fputs(", \"first_seen\": ", fp);
		json_time(fp, u->first_us);
		fputs(", \"last_seen\": ", fp);
		json_time(fp, u->last_us);
		fputc('}', fp);
	}
	fputs(k > 0 ? "\n  ],\n" : "],\n", fp);
	free(v);
	return 0;
fail:
	free(v);
	return -1;
}

/* json_fails - an array of failure records of m under name */
static int
json_fails(const struct audit *a, FILE *fp, const struct amap *m,
    const char *name, const char *key, int by_user)
{
	struct audit_fail **v;
	size_t              n, i, k = 0;

	if ((v = audit_fails_sorted(m, &n)) == NULL)
		return -1;
	fprintf(fp, "  \"%s\": [", name);
	for (i = 0; i < n; i++) {
		if (!fail_wanted(a, v[i], by_user))
			continue;
		fprintf(fp, "%s{\"%s\": ", k++ > 0 ? ",\n    " : "\n    ", key);
		json_str(fp, v[i]->key);
		fprintf(fp, ", \"count\": %" PRIu64 ", \"first\": ",
		    audit_fail_count(v[i]));
		json_time(fp, v[i]->first_us);
		fputs(", \"last\": ", fp);
		json_time(fp, v[i]->last_us);
		fputc('}', fp);
	}
	fputs(k > 0 ? "\n  ],\n" : "],\n", fp);
	free(v);
	return 0;
}

/* json_incidents - the "incidents" array */
static int
json_incidents(const struct audit *a, FILE *fp)
{
	const struct audit_incident *inc;
	size_t                       i, j, k = 0;
	char                         s[1024];

	fputs("  \"incidents\": [", fp);
	for (i = 0; i < a->ninc; i++) {
		inc = a->inc[i];
		if (a->opts.user != NULL &&
		    strcmp(a->opts.user, inc->user->name) != 0)
			continue;
		fputs(k++ > 0 ? ",\n    {" : "\n    {", fp);
		fputs("\"user\": ", fp);
		json_str(fp, inc->user->name);
		fputs(", \"start\": ", fp);
		json_time(fp, inc->start_us);
		fputs(", \"end\": ", fp);
		json_time(fp, inc->end_us);
		fputs(", ", fp);
		json_counts(fp, inc->c);
		fprintf(fp, ", \"domains\": %zu, \"client_addresses\": ",
		    inc->domains.used);
		if (json_keys(fp, &inc->addrs) == -1)
			return -1;
		fputs(", \"reason\": ", fp);
		json_str(fp, inc->why);
		fprintf(fp,
		    ", \"failed_logins_before\": {\"hour\": %" PRIu64
		    ", \"day\": %" PRIu64 ", \"client_addresses\": [",
		    inc->fail_hour, inc->fail_day);
		for (j = 0; j < inc->nfail_addrs; j++) {
			fputs(j > 0 ? ", {\"client_address\": "
				    : "{\"client_address\": ",
			    fp);
			json_str(fp, inc->fail_addrs[j].key);
			fprintf(fp, ", \"count\": %" PRIu64 "}",
			    inc->fail_addrs[j].n);
		}
		fputs("]}, \"summary\": ", fp);
		audit_summary(s, sizeof(s), inc);
		json_str(fp, s);
		fputc('}', fp);
	}
	fputs(k > 0 ? "\n  ],\n" : "],\n", fp);
	return 0;
}

/* audit_report_json - the report as one JSON object */
int
audit_report_json(const struct audit *a, FILE *fp)
{
	const struct audit_stats *st = &a->st;

	fputs("{\n  \"period\": {\"start\": ", fp);
	json_time(fp, a->first_us);
	fputs(", \"end\": ", fp);
	json_time(fp, a->last_us);
	fputs("},\n", fp);
	if (json_users(a, fp) == -1 ||
	    json_fails(a, fp, &a->fail_addr, "auth_failures", "client_address",
		0) == -1 ||
	    json_fails(a, fp, &a->fail_user, "auth_failures_by_account", "user",
		1) == -1 ||
	    json_incidents(a, fp) == -1)
		return -1;
	fprintf(fp,
	    "  \"lines\": {\"read\": %" PRIu64 ", \"used\": %" PRIu64
	    ", \"skipped\": %" PRIu64 ", \"not_relevant\": %" PRIu64
	    ", \"unmatched\": %" PRIu64 ", \"malformed\": %" PRIu64
	    ", \"too_long\": %" PRIu64 ", \"truncated\": %" PRIu64
	    ", \"duplicate\": %" PRIu64 ", \"out_of_range\": %" PRIu64
	    ", \"bytes\": %" PRIu64 "}\n}\n",
	    st->read, st->used, st->read - st->used, st->ignored, st->unmatched,
	    st->malformed, st->too_long, st->truncated, st->duplicate,
	    st->out_of_range, st->bytes);
	return ferror(fp) ? -1 : 0;
}
