/*
 * audit.c - "saslguardctl audit": options, then read, then report
 *
 * saslguardctl audit [--json] [--svg FILE] [--since T] [--until T]
 *     [--user U] [--now T] [--burst N] FILE...
 * saslguardctl audit --suggest-limits [--since T] [--until T] [--now T]
 *     [--burst N] FILE...
 *
 * FILE may be plain or gzip-compressed, "-" is standard input; they are
 * read in time order whatever order they are named in.  T is RFC 3339
 * ("2026-11-28T02:57:14+01:00") or local "2026-11-28 02:00" or
 * "2026-11-28".  The report goes to standard output; errors, and the
 * progress while reading when standard error is a terminal, to standard
 * error.  Exit status: 0 done, 1 error, 2 usage.  ("audit --verify" is
 * dispatched to verify.c by saslguardctl.c.)
 *
 * Thread safety: none (getopt).
 * Tests: tests/test_audit.c
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "logtime.h"

/* usage - the synopsis on fp */
static void
usage(FILE *fp)
{
	fputs(
	    "usage: saslguardctl audit [--json] [--svg FILE] [--since TIME] "
	    "[--until TIME]\n"
	    "           [--user ACCOUNT] [--now TIME] [--burst N] FILE...\n"
	    "       saslguardctl audit --suggest-limits [--since TIME] "
	    "[--until TIME]\n"
	    "           [--now TIME] [--burst N] FILE...\n"
	    "       saslguardctl audit --verify [--continued] JOURNAL...\n"
	    "\n"
	    "Reconstructs accounts, failed logins and incidents from mail "
	    "logs.\n"
	    "  FILE              a mail log, plain or gzip, named in any "
	    "order; \"-\" is\n"
	    "                    standard input\n"
	    "  --json            the report as one JSON object\n"
	    "  --svg FILE        also draw the timeline (messages per minute, "
	    "incidents,\n"
	    "                    failed logins) into FILE\n"
	    "  --since TIME      leave out lines before TIME\n"
	    "  --until TIME      leave out lines after TIME\n"
	    "  --user ACCOUNT    report this account only\n"
	    "  --now TIME        when the logs were last written, for lines "
	    "without a year\n"
	    "                    (default: each file's modification time)\n"
	    "  --burst N         messages per 10 minutes that open an incident "
	    "(default 50)\n"
	    "  --suggest-limits  propose limits and exceptions that flag none "
	    "of the normal\n"
	    "                    traffic and catch every incident, with the "
	    "figures behind\n"
	    "                    them and a saslguard.conf snippet; reads the "
	    "files twice\n"
	    "                    (not \"-\")\n"
	    "  --verify          check the hash chain of saslguard's journal "
	    "files, oldest\n"
	    "                    first (--continued: the oldest ones are "
	    "gone)\n"
	    "  --progress, --no-progress\n"
	    "                    show the progress on standard error, or not "
	    "(default:\n"
	    "                    when it is a terminal)\n"
	    "  -h, --help        this text\n"
	    "  TIME              2026-11-28T02:57:14+01:00, \"2026-11-28 "
	    "02:00\" (local time),\n"
	    "                    2026-11-28\n"
	    "\n"
	    "Exit status: 0 done; 1 error (a file cannot be read, no memory, "
	    "a report cannot\n"
	    "be written, or --verify found a broken chain); 2 usage.\n",
	    fp);
}

/* audit_parse_time - "2026-11-28T02:57:14+01:00" or "2026-11-28 02:00" */
int
audit_parse_time(const char *s, int64_t *us)
{
	struct logtime t;
	char           buf[64];
	size_t         len = strlen(s);
	int64_t        c;
	int            n;

	if (len == 10) { /* a date alone: its midnight */
		n = snprintf(buf, sizeof(buf), "%s 00:00", s);
		if (n < 0 || (size_t) n >= sizeof(buf))
			return -1;
		s = buf;
		len = (size_t) n;
	}
	if (logtime_parse(s, len, &t) != len || t.year == 0)
		return -1;
	c = logtime_civil(&t);
	c = t.has_zone ? c - t.tzoff : audit_local_epoch(c);
	*us = c * AUDIT_US + t.usec;
	return 0;
}

/* report - write the reports asked for */
static int
report(const struct audit *a)
{
	FILE *fp;
	int   rc = 0;

	if (a->opts.svg != NULL) {
		if ((fp = fopen(a->opts.svg, "w")) == NULL) {
			fprintf(stderr,
			    "saslguardctl audit: %s: cannot create\n",
			    a->opts.svg);
			return -1;
		}
		if (audit_svg(a, fp) == -1)
			rc = -1;
		if (fclose(fp) == EOF)
			rc = -1;
		if (rc == -1) {
			fprintf(stderr, "saslguardctl audit: %s: write error\n",
			    a->opts.svg);
			return -1;
		}
	}
	if (a->opts.json)
		rc = audit_report_json(a, stdout);
	else
		rc = audit_report_text(a, stdout);
	if (fflush(stdout) == EOF)
		rc = -1;
	if (rc == -1)
		fprintf(
		    stderr, "saslguardctl audit: cannot write the report\n");
	return rc;
}

/* suggest - "audit --suggest-limits": replay, then the suggestion */
static int
suggest(const struct audit_opts *o, char *const files[], int nfiles)
{
	struct suggest *s;
	char            err[512];
	int             rc;

	if (suggest_run(o, files, nfiles, &s, err, sizeof(err)) == -1) {
		fprintf(stderr, "saslguardctl audit: %s\n", err);
		return 1;
	}
	rc = suggest_report(s, stdout);
	if (fflush(stdout) == EOF)
		rc = -1;
	if (rc == -1)
		fprintf(
		    stderr, "saslguardctl audit: cannot write the report\n");
	suggest_free(s);
	return rc == -1 ? 1 : 0;
}

/* audit_main - "saslguardctl audit ..."; returns 0, 1 error, 2 usage */
int
audit_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "svg", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "user", required_argument, NULL, 'u' },
		{ "now", required_argument, NULL, 'n' },
		{ "burst", required_argument, NULL, 'b' },
		{ "suggest-limits", no_argument, NULL, 'L' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_opts o;
	struct audit      a;
	char              err[512], *end;
	int64_t           us;
	unsigned long     v;
	int               c, rc, limits = 0, i;

	memset(&o, 0, sizeof(o));
	o.since_us = AUDIT_NO_MIN;
	o.until_us = AUDIT_NO_MAX;
	o.progress = isatty(STDERR_FILENO);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = 1;
			break;
		case 's':
			o.svg = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'S':
		case 'U':
		case 'n':
			if (audit_parse_time(optarg, &us) == -1) {
				fprintf(stderr,
				    "saslguardctl audit: bad time \"%s\"\n",
				    optarg);
				return 2;
			}
			if (c == 'S')
				o.since_us = us;
			else if (c == 'U')
				o.until_us = us;
			else
				o.now = us / AUDIT_US;
			break;
		case 'b':
			v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v == 0 ||
			    v > UINT_MAX / 16) {
				fprintf(stderr,
				    "saslguardctl audit: bad --burst \"%s\"\n",
				    optarg);
				return 2;
			}
			o.burst = (unsigned) v;
			break;
		case 'L':
			limits = 1;
			break;
		case 'P':
		case 'Q':
			o.progress = c == 'P';
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (limits) {
		if (o.json || o.svg != NULL || o.user != NULL) {
			fprintf(stderr, "saslguardctl audit: --suggest-limits "
					"takes no --json, --svg or --user\n");
			return 2;
		}
		for (i = optind; i < argc; i++)
			if (strcmp(argv[i], "-") == 0) {
				fprintf(stderr,
				    "saslguardctl audit: --suggest-limits "
				    "reads the logs twice: name files, not "
				    "\"-\"\n");
				return 2;
			}
		return suggest(&o, argv + optind, argc - optind);
	}
	audit_init(&a, &o);
	if (audit_run(&a, argv + optind, argc - optind, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "saslguardctl audit: %s\n", err);
		audit_free(&a);
		return 1;
	}
	rc = report(&a) == -1 ? 1 : 0;
	audit_free(&a);
	return rc;
}
