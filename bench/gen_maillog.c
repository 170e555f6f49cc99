/*
 * gen_maillog.c - write a realistic Postfix/Dovecot mail log for
 * benchmarking the audit
 *
 * usage: gen_maillog [-m MEGABYTES] [-s SEED] > mail.log
 *
 * The mix follows a busy submission and MX host: inbound mail with
 * connect/disconnect chatter, authenticated submissions from a few
 * hundred accounts, content going out through smtp, Dovecot logins,
 * failed-login noise, cron and kernel lines, and one incident in the
 * middle (an account sending a burst that saslguard holds).  Queue IDs
 * are short hex IDs; lines are in classic syslog form, one second apart
 * at most.  Output is deterministic for a seed.
 *
 * Thread safety: single-threaded program.
 * Tests: none (a benchmark tool); bench/run uses it.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USERS 400

static uint64_t rng_state = 88172645463325252ULL;

/* rnd - the next pseudo-random number (xorshift64) */
static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* pick - a number in [0, n) */
static unsigned
pick(unsigned n)
{
	return (unsigned) (rnd() % n);
}

struct gen {
	FILE    *fp;
	time_t   t;     /* current log second */
	uint64_t qid;   /* next queue ID */
	uint64_t bytes; /* written so far */
	unsigned pid;
	char     ts[32]; /* "Nov 28 02:57:14" of t */
	time_t   ts_for;
};

/* stamp - the syslog timestamp of the current second */
static const char *
stamp(struct gen *g)
{
	struct tm tm;

	if (g->ts_for != g->t) {
		gmtime_r(&g->t, &tm);
		if (strftime(g->ts, sizeof(g->ts), "%b %e %H:%M:%S", &tm) == 0)
			g->ts[0] = '\0';
		g->ts_for = g->t;
	}
	return g->ts;
}

/* out - one log line "TS mx PROG: TEXT" */
static void out(struct gen *g, const char *prog, unsigned pid, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
out(struct gen *g, const char *prog, unsigned pid, const char *fmt, ...)
{
	va_list ap;
	int     n;

	n = fprintf(g->fp, "%s mx %s[%u]: ", stamp(g), prog, pid);
	va_start(ap, fmt);
	n += vfprintf(g->fp, fmt, ap);
	va_end(ap);
	fputc('\n', g->fp);
	if (n > 0)
		g->bytes += (uint64_t) n + 1;
}

/* tick - let time pass now and then */
static void
tick(struct gen *g)
{
	if (pick(4) == 0)
		g->t++;
}

/* inbound - one message from the internet to a local mailbox */
static void
inbound(struct gen *g)
{
	uint64_t q = g->qid++;
	unsigned pid = 10000 + pick(500), a = pick(250) + 1, b = pick(250) + 1;

	out(g, "postfix/smtpd", pid,
	    "connect from mail%u.sender%u.test[198.18.%u.%u]", a, b, a, b);
	out(g, "postfix/smtpd", pid,
	    "%010" PRIX64 ": client=mail%u.sender%u.test[198.18.%u.%u]", q, a,
	    b, a, b);
	out(g, "postfix/cleanup", pid + 1,
	    "%010" PRIX64 ": message-id=<%" PRIx64 ".%u@sender%u.test>", q,
	    rnd(), a, b);
	tick(g);
	out(g, "postfix/qmgr", 900,
	    "%010" PRIX64 ": from=<news%u@sender%u.test>, size=%u, nrcpt=1 "
	    "(queue active)",
	    q, a, b, 2000 + pick(90000));
	out(g, "postfix/smtpd", pid,
	    "disconnect from mail%u.sender%u.test[198.18.%u.%u] ehlo=1 mail=1 "
	    "rcpt=1 data=1 quit=1 commands=5",
	    a, b, a, b);
	out(g, "postfix/lmtp", pid + 2,
	    "%010" PRIX64 ": to=<user%u@example.test>, "
	    "relay=mail.example.test[private/dovecot-lmtp], delay=0.%u, "
	    "delays=0.1/0/0.01/0.05, dsn=2.0.0, status=sent (250 2.0.0 "
	    "<user%u@example.test> Saved)",
	    q, pick(USERS), pick(9) + 1, pick(USERS));
	out(g, "postfix/qmgr", 900, "%010" PRIX64 ": removed", q);
	tick(g);
}

/* submit - one authenticated message going out */
static void
submit(struct gen *g, unsigned user, unsigned nrcpt, int held)
{
	uint64_t q = g->qid++;
	unsigned pid = 20000 + pick(500), i, ip = user % 200 + 1;

	out(g, "postfix/submission/smtpd", pid,
	    "connect from unknown[192.0.2.%u]", ip);
	out(g, "postfix/submission/smtpd", pid,
	    "%010" PRIX64 ": client=unknown[192.0.2.%u], sasl_method=PLAIN, "
	    "sasl_username=user%u@example.test",
	    q, ip, user);
	out(g, "saslguard", 700,
	    "%010" PRIX64 ": %s: user=user%u@example.test "
	    "sender=<user%u@example.test> rcpts=%u client=192.0.2.%u%s",
	    q, held ? "hold" : "pass", user, user, nrcpt, ip,
	    held ? " limit=flagged" : "");
	out(g, "postfix/cleanup", pid + 1,
	    "%010" PRIX64 ": message-id=<%" PRIx64 "@example.test>", q, rnd());
	if (held) {
		out(g, "postfix/cleanup", pid + 1,
		    "%010" PRIX64 ": milter-hold: END-OF-MESSAGE from "
		    "unknown[192.0.2.%u]: milter triggers HOLD action; "
		    "from=<user%u@example.test> to=<x@dest.test> proto=ESMTP "
		    "helo=<pc>",
		    q, ip, user);
		return;
	}
	out(g, "postfix/qmgr", 900,
	    "%010" PRIX64 ": from=<user%u@example.test>, size=%u, nrcpt=%u "
	    "(queue active)",
	    q, user, 1000 + pick(50000), nrcpt);
	tick(g);
	for (i = 0; i < nrcpt; i++)
		out(g, "postfix/smtp", pid + 2,
		    "%010" PRIX64 ": to=<r%u@dest%u.test>, "
		    "relay=mx.dest%u.test[203.0.113.%u]:25, delay=0.%u, "
		    "delays=0.1/0/0.2/0.1, dsn=2.0.0, status=sent (250 2.0.0 "
		    "Ok: queued as %" PRIX64 ")",
		    q, pick(1000), i, i, i % 250 + 1, pick(9) + 1, rnd() >> 24);
	out(g, "postfix/qmgr", 900, "%010" PRIX64 ": removed", q);
	out(g, "postfix/submission/smtpd", pid,
	    "disconnect from unknown[192.0.2.%u] ehlo=2 starttls=1 auth=1 "
	    "mail=1 rcpt=%u data=1 quit=1 commands=%u",
	    ip, nrcpt, 7 + nrcpt);
}

/* noise - lines an audit reads but does not use */
static void
noise(struct gen *g)
{
	switch (pick(6)) {
	case 0:
		out(g, "postfix/submission/smtpd", 30000 + pick(100),
		    "warning: unknown[203.0.113.%u]: SASL LOGIN authentication "
		    "failed: UGFzc3dvcmQ6, sasl_username=user%u@example.test",
		    pick(250) + 1, pick(USERS));
		break;
	case 1:
		out(g, "dovecot", 800,
		    "imap-login: Login: user=<user%u@example.test>, "
		    "method=PLAIN, rip=192.0.2.%u, lip=192.0.2.1, mpid=%u, "
		    "TLS, session=<%" PRIx64 ">",
		    pick(USERS), pick(200) + 1, pick(60000), rnd());
		break;
	case 2:
		out(g, "postfix/anvil", 901,
		    "statistics: max connection rate 3/60s for "
		    "(smtp:198.18.%u.%u) at %s",
		    pick(250), pick(250), stamp(g));
		break;
	case 3:
		out(g, "CRON", 40000 + pick(1000),
		    "(root) CMD (command -v debian-sa1 > /dev/null && "
		    "debian-sa1 1 1)");
		break;
	case 4:
		out(g, "postfix/smtpd", 10000 + pick(500),
		    "NOQUEUE: reject: RCPT from unknown[198.51.100.%u]: 554 "
		    "5.7.1 <x@example.test>: Relay access denied; "
		    "from=<spam@spam.test> to=<x@elsewhere.test> proto=ESMTP "
		    "helo=<spam>",
		    pick(250));
		break;
	default:
		out(g, "kernel", 0,
		    "[UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.%u DST=192.0.2.1 "
		    "LEN=60 PROTO=TCP SPT=%u DPT=23",
		    pick(250), 1024 + pick(60000));
		break;
	}
}

int
main(int argc, char *argv[])
{
	struct gen g;
	uint64_t   target = 200, i, burst_at;
	int        c;

	while ((c = getopt(argc, argv, "m:s:")) != -1) {
		switch (c) {
		case 'm':
			target = strtoull(optarg, NULL, 10);
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 10) | 1;
			break;
		default:
			fprintf(
			    stderr, "usage: gen_maillog [-m MB] [-s SEED]\n");
			return 2;
		}
	}
	memset(&g, 0, sizeof(g));
	g.fp = stdout;
	g.t = 1795830000; /* 2026-11-28 */
	g.qid = 0x1000000000ULL;
	g.ts_for = -1;
	target *= 1024 * 1024;
	burst_at = target / 2;
	for (i = 0; g.bytes < target; i++) {
		unsigned r = pick(100);

		if (g.bytes >= burst_at && burst_at != 0) {
			unsigned k;

			for (k = 0; k < 400; k++) {
				submit(&g, 7, 40, k >= 200);
				g.t++;
			}
			burst_at = 0;
		}
		if (r < 45)
			inbound(&g);
		else if (r < 70)
			submit(&g, pick(USERS), 1 + pick(3), 0);
		else
			noise(&g);
	}
	return fflush(stdout) == EOF ? 1 : 0;
}
