/*
 * audit_svg.c - the audit's timeline as a standalone SVG picture
 *
 * Messages per minute (or per a few minutes, so a long period still fits
 * in about 700 columns) for the busiest accounts, one line each; every
 * incident a shaded band; failed logins as red bars in a strip below.
 * The XML is written by hand: every name from a log goes through
 * xml_text(), which escapes markup and replaces bytes XML cannot carry.
 *
 * Thread safety: none (localtime_r, the process time zone).
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

#define MAX_BUCKETS 720
#define MAX_SERIES  5
#define PX          70  /* plot left */
#define PY          50  /* plot top */
#define PW          880 /* plot width */
#define PH          300 /* plot height */
#define STRIP       40  /* failed-login strip height */

static const char *const colors[MAX_SERIES] = { "#1f77b4", "#ff7f0e", "#2ca02c",
	"#9467bd", "#8c564b" };

/* xml_text - s as XML character data or attribute value */
static void
xml_text(FILE *fp, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *) s; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&apos;", fp);
			break;
		default:
			fputc(*p < 0x20 || *p >= 0x7f ? '?' : *p, fp);
		}
	}
}

/* label - "HH:MM" or "MM-DD HH:MM" of epoch minute m */
static void
label(char *buf, size_t len, int64_t m, int with_date)
{
	time_t    t = (time_t) (m * 60);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, with_date ? "%m-%d %H:%M" : "%H:%M", &tm) == 0)
		snprintf(buf, len, "?");
}

/* bucketize - counts of series s in nb buckets of width w from m0 */
static uint64_t *
bucketize(const struct audit_series *s, int64_t m0, int64_t w, size_t nb)
{
	uint64_t *b = calloc(nb, sizeof(*b));
	size_t    i;
	int64_t   k;

	if (b == NULL)
		return NULL;
	for (i = 0; i < s->n; i++) {
		k = (s->pt[i].minute - m0) / w;
		if (k >= 0 && (size_t) k < nb)
			b[k] += s->pt[i].n;
	}
	return b;
}

/* pick - up to MAX_SERIES accounts: with incidents first, then busiest */
static size_t
pick(const struct audit *a, struct audit_user **out)
{
	struct audit_user **v;
	size_t              n, i, j, k = 0;
	int                 pass;

	if ((v = audit_users_sorted(a, &n)) == NULL)
		return 0;
	for (pass = 0; pass < 2 && k < MAX_SERIES; pass++) {
		for (i = 0; i < n && k < MAX_SERIES; i++) {
			int has = 0;

			if (v[i]->series.n == 0 ||
			    (a->opts.user != NULL &&
				strcmp(a->opts.user, v[i]->name) != 0))
				continue;
			for (j = 0; j < a->ninc; j++)
				has |= a->inc[j]->user == v[i];
			if ((pass == 0) != (has != 0))
				continue;
			out[k++] = v[i];
		}
	}
	free(v);
	return k;
}

/* audit_svg - the timeline as an SVG document */
int
audit_svg(const struct audit *a, FILE *fp)
{
	struct audit_user *u[MAX_SERIES];
	uint64_t          *b[MAX_SERIES], *fails = NULL, ymax = 1, fmax = 0;
	size_t             nu, nb, i, j;
	int64_t            m0, m1, w;
	double             bw, x, y;
	int                with_date, rc = -1, height;
	char               t[40];

	memset(b, 0, sizeof(b));
	nu = pick(a, u);
	if (a->first_us > a->last_us) {
		m0 = 0;
		m1 = 1;
	} else {
		m0 = a->first_us / AUDIT_US / 60;
		m1 = a->last_us / AUDIT_US / 60 + 1;
	}
	w = (m1 - m0 + MAX_BUCKETS - 1) / MAX_BUCKETS;
	if (w < 1)
		w = 1;
	nb = (size_t) ((m1 - m0 + w - 1) / w);
	if (nb == 0)
		nb = 1;
	bw = (double) PW / (double) nb;
	with_date = m1 - m0 > 24 * 60;
	for (i = 0; i < nu; i++) {
		if ((b[i] = bucketize(&u[i]->series, m0, w, nb)) == NULL)
			goto out;
		for (j = 0; j < nb; j++)
			if (b[i][j] > ymax)
				ymax = b[i][j];
	}
	if ((fails = bucketize(&a->fails, m0, w, nb)) == NULL)
		goto out;
	for (j = 0; j < nb; j++)
		if (fails[j] > fmax)
			fmax = fails[j];
	height = PY + PH + STRIP + 60 + 18 * (int) (nu + 1);

	fprintf(fp,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
	    "font-size=\"12\">\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	    PX + PW + 60, height, PX + PW + 60, height);
	if (w == 1)
		fprintf(fp,
		    "<text x=\"%d\" y=\"24\" font-size=\"15\">Messages per "
		    "minute per account</text>\n",
		    PX);
	else
		fprintf(fp,
		    "<text x=\"%d\" y=\"24\" font-size=\"15\">Messages per "
		    "%" PRId64 " minutes per account</text>\n",
		    PX, w);
	/* incidents, behind everything */
	for (i = 0; i < a->ninc; i++) {
		const struct audit_incident *inc = a->inc[i];
		double                       x0, x1;

		if (a->opts.user != NULL &&
		    strcmp(a->opts.user, inc->user->name) != 0)
			continue;
		x0 =
		    PX + (double) (inc->start_us / AUDIT_US / 60 - m0) / w * bw;
		x1 = PX +
		     (double) (inc->end_us / AUDIT_US / 60 + 1 - m0) / w * bw;
		if (x1 - x0 < 2)
			x1 = x0 + 2;
		fprintf(fp,
		    "<rect class=\"incident\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		    "height=\"%d\" fill=\"#d62728\" fill-opacity=\"0.15\">"
		    "<title>incident: ",
		    x0, PY, x1 - x0, PH);
		xml_text(fp, inc->user->name);
		fputs("</title></rect>\n", fp);
	}
	/* axes */
	fprintf(fp,
	    "<g stroke=\"#444\" fill=\"none\"><line x1=\"%d\" y1=\"%d\" "
	    "x2=\"%d\" y2=\"%d\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
	    "y2=\"%d\"/></g>\n",
	    PX, PY, PX, PY + PH, PX, PY + PH, PX + PW, PY + PH);
	fprintf(fp,
	    "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRIu64 "</text>\n"
	    "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
	    PX - 6, PY + 4, ymax, PX - 6, PY + PH + 4);
	for (i = 0; i <= 6; i++) {
		int64_t m =
		    m0 + (int64_t) ((double) (m1 - m0) * (double) i / 6);

		label(t, sizeof(t), m, with_date);
		x = PX + (double) PW * (double) i / 6;
		fprintf(fp,
		    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
		    x, PY + PH + STRIP + 22, t);
	}
	/* one line per account */
	for (i = 0; i < nu; i++) {
		fprintf(fp,
		    "<polyline class=\"account\" fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"1.5\" points=\"",
		    colors[i]);
		for (j = 0; j < nb; j++) {
			x = PX + (double) j * bw;
			y = PY + PH - (double) b[i][j] / (double) ymax * PH;
			fprintf(fp, "%s%.1f,%.1f %.1f,%.1f", j > 0 ? " " : "",
			    x, y, x + bw, y);
		}
		fputs("\"/>\n", fp);
	}
	/* failed logins */
	fprintf(fp,
	    "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#d62728\">"
	    "failed</text>\n",
	    PX - 6, PY + PH + STRIP - 4);
	for (j = 0; j < nb && fmax > 0; j++) {
		double hgt;

		if (fails[j] == 0)
			continue;
		hgt = 2 + (double) fails[j] / (double) fmax * (STRIP - 12);
		fprintf(fp,
		    "<rect class=\"failed-login\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\" fill=\"#d62728\">"
		    "<title>%" PRIu64 " failed logins</title></rect>\n",
		    PX + (double) j * bw, PY + PH + STRIP - hgt,
		    bw < 1 ? 1 : bw, hgt, fails[j]);
	}
	/* legend */
	for (i = 0; i < nu; i++) {
		y = PY + PH + STRIP + 44 + 18 * (double) i;
		fprintf(fp,
		    "<rect x=\"%d\" y=\"%.1f\" width=\"14\" height=\"4\" "
		    "fill=\"%s\"/><text x=\"%d\" y=\"%.1f\">",
		    PX, y - 4, colors[i], PX + 20, y);
		xml_text(fp, u[i]->name);
		fprintf(fp, " (%" PRIu64 " message%s)</text>\n",
		    u[i]->c[AC_MESSAGES], u[i]->c[AC_MESSAGES] == 1 ? "" : "s");
	}
	y = PY + PH + STRIP + 44 + 18 * (double) nu;
	fprintf(fp,
	    "<rect x=\"%d\" y=\"%.1f\" width=\"14\" height=\"10\" "
	    "fill=\"#d62728\" fill-opacity=\"0.15\"/><text x=\"%d\" "
	    "y=\"%.1f\">incident</text>\n</svg>\n",
	    PX, y - 9, PX + 20, y);
	rc = ferror(fp) ? -1 : 0;
out:
	for (i = 0; i < nu; i++)
		free(b[i]);
	free(fails);
	return rc;
}
