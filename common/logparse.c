/*
 * logparse.c - one mail log line -> one event (for the audit)
 *
 * Why it is shaped like this: the audit reads gigabytes, most of it lines
 * it does not need, so the header is split with a handful of byte
 * compares and the text is only read for programs an audit cares about.
 * Each recogniser anchors on the fixed words Postfix, Dovecot, saslauthd
 * and saslguard write ("client=", "status=", "auth failed, N attempts")
 * and takes the values between them as spans, never copying.  Anything
 * that does not match exactly is LP_IGNORED: a surprise in the log must
 * never turn into a wrong fact.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_logparse.c
 */
#include "config.h"

#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "logparse.h"

#define SPAN(s)                                                                \
	{                                                                      \
		(s), sizeof(s) - 1                                             \
	}

/* mkspan - the span p[0..n) */
static struct lp_span
mkspan(const char *p, size_t n)
{
	struct lp_span s;

	s.p = p;
	s.n = n;
	return s;
}

/* lp_span_eq - 1 when span s equals the C string c */
int
lp_span_eq(struct lp_span s, const char *c)
{
	size_t n = strlen(c);

	return s.n == n && memcmp(s.p, c, n) == 0;
}

/* starts - 1 when s begins with the literal c of length n */
static int
starts(struct lp_span s, const char *c, size_t n)
{
	return s.n >= n && memcmp(s.p, c, n) == 0;
}

#define STARTS(s, lit) starts((s), (lit), sizeof(lit) - 1)
#define EQ(s, lit)     ((s).n == sizeof(lit) - 1 && STARTS((s), (lit)))

/* skip - s without its first n bytes */
static struct lp_span
skip(struct lp_span s, size_t n)
{
	return mkspan(s.p + n, s.n - n);
}

/*
 * find - position of literal c (n >= 1) in s, or NULL
 *
 * The needles are short words ("status=", ", sasl_username=") and the
 * haystacks one line, where memmem's set-up and a memchr call per comma
 * cost more than the search.  With SSE2 (every x86-64) sixteen starting
 * places are tested at once on the needle's first two bytes, and only
 * those that match both are compared; elsewhere, and for the last few
 * places, one byte at a time.
 */
static const char *
find(struct lp_span s, const char *c, size_t n)
{
	const char *p, *last;
	size_t      i;

	if (s.n < n) /* also keeps NULL + 0 of an absent span away */
		return NULL;
	p = s.p;
	last = s.p + s.n - n; /* the last place the needle fits */
#ifdef __SSE2__
	if (n >= 2) {
		const __m128i b0 = _mm_set1_epi8(c[0]),
			      b1 = _mm_set1_epi8(c[1]);
		unsigned m;

		/* p + 17 <= last + n: both loads stay inside s */
		while (last - p >= 16) {
			m = (unsigned) _mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *) p), b0),
			    _mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *) (p + 1)),
				b1)));
			for (; m != 0; m &= m - 1) {
				const char *q = p + __builtin_ctz(m);

				for (i = 2; i < n && q[i] == c[i]; i++)
					;
				if (i == n)
					return q;
			}
			p += 16;
		}
	}
#endif
	for (; p <= last; p++) {
		if (*p != c[0])
			continue;
		for (i = 1; i < n && p[i] == c[i]; i++)
			;
		if (i == n)
			return p;
	}
	return NULL;
}

#define FIND(s, lit) find((s), (lit), sizeof(lit) - 1)

/* after - the rest of s after the first literal c, or an empty span */
static struct lp_span
after(struct lp_span s, const char *c, size_t n)
{
	const char *p = find(s, c, n);

	if (p == NULL)
		return mkspan(NULL, 0);
	p += n;
	return mkspan(p, (size_t) (s.p + s.n - p));
}

#define AFTER(s, lit) after((s), (lit), sizeof(lit) - 1)

/* upto - the prefix of s before byte c (all of s when absent) */
static struct lp_span
upto(struct lp_span s, char c)
{
	const char *p;

	if (s.n == 0) /* an absent span may have p == NULL */
		return s;
	p = memchr(s.p, c, s.n);
	return mkspan(s.p, p == NULL ? s.n : (size_t) (p - s.p));
}

/* upto_sep - the prefix of s before ", " (all of s when absent) */
static struct lp_span
upto_sep(struct lp_span s)
{
	const char *p = FIND(s, ", ");

	return mkspan(s.p, p == NULL ? s.n : (size_t) (p - s.p));
}

/* number - the decimal number at the start of s, or -1 */
static long
number(struct lp_span s)
{
	long   v = 0;
	size_t i;

	for (i = 0; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
		if (v > 100000000000L)
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	return i == 0 ? -1 : v;
}

/* unangle - "<x>" as "x"; other values as they are */
static struct lp_span
unangle(struct lp_span s)
{
	if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
		return mkspan(s.p + 1, s.n - 2);
	return s;
}

/* bracket_addr - "name[addr]" (and "name[addr]:port") -> "addr" */
static struct lp_span
bracket_addr(struct lp_span s)
{
	const char *l = memchr(s.p, '[', s.n), *r;

	if (l == NULL)
		return mkspan(NULL, 0);
	l++;
	r = memchr(l, ']', (size_t) (s.p + s.n - l));
	if (r == NULL || r == l)
		return mkspan(NULL, 0);
	return mkspan(l, (size_t) (r - l));
}

/* is_hex_id - Postfix short queue ID: upper-case hex */
static int
is_hex_id(struct lp_span s)
{
	size_t i;

	if (s.n < 5 || s.n > 16)
		return 0;
	for (i = 0; i < s.n; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') ||
			(s.p[i] >= 'A' && s.p[i] <= 'F')))
			return 0;
	return 1;
}

/* a, e, i, o and u as bits of a letter's place in the alphabet */
#define VOWELS                                                                 \
	((1ul << 0) | (1ul << 4) | (1ul << 8) | (1ul << 14) | (1ul << 20))

/* is_long_id - Postfix long queue ID: base-52 digits, no vowels, a 'z' */
static int
is_long_id(struct lp_span s)
{
	size_t i;
	int    z = 0;
	char   c;

	if (s.n < 12 || s.n > 24)
		return 0;
	for (i = 0; i < s.n; i++) {
		c = s.p[i];
		if (c >= '0' && c <= '9')
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return 0;
		if ((VOWELS >> ((c | 0x20) - 'a')) & 1)
			return 0;
		z |= c == 'z';
	}
	return z;
}

/* is_qid - 1 when s looks like a Postfix queue ID */
static int
is_qid(struct lp_span s)
{
	return is_hex_id(s) || is_long_id(s);
}

/*
 * split_qid - "QID: rest" -> qid and rest
 *
 * Returns 0, or -1 when text does not start with a queue ID (or, when
 * noqueue is set, "NOQUEUE") and ": ".
 */
static int
split_qid(
    struct lp_span text, int noqueue, struct lp_span *qid, struct lp_span *rest)
{
	size_t        i;
	unsigned char c;
	int           hex = 1;

#ifdef __SSE2__
	/* the common case, a short ID of upper-case hex and ": " within the
	 * first sixteen bytes, tested on all sixteen at once */
	if (text.n >= 17) {
		const __m128i v = _mm_loadu_si128((const __m128i *) text.p);
		unsigned      colon, space, ishex;

		colon = (unsigned) _mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(':')));
		space = (unsigned) _mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
		/* a word before a space ("connect from"): no ID has one */
		if (space != 0 &&
		    (colon == 0 || __builtin_ctz(space) < __builtin_ctz(colon)))
			return -1;
		ishex = (unsigned) _mm_movemask_epi8(_mm_or_si128(
		    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
			_mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v)),
		    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
			_mm_cmpgt_epi8(_mm_set1_epi8('F' + 1), v))));
		if (colon != 0) {
			i = (size_t) __builtin_ctz(colon);
			if (i >= 5 && text.p[i + 1] == ' ' &&
			    (ishex & ((1u << i) - 1)) == (1u << i) - 1) {
				*qid = mkspan(text.p, i);
				*rest = skip(text, i + 2);
				return 0;
			}
		}
	}
#endif
	/* one pass finds the ':' and checks for the common short form */
	for (i = 0; i < text.n && i < 26; i++) {
		c = (unsigned char) text.p[i];
		if (c == ':')
			break;
		hex &= (unsigned) (c - '0') < 10 || (unsigned) (c - 'A') < 6;
	}
	if (i >= text.n || i + 1 >= text.n || text.p[i + 1] != ' ')
		return -1;
	*qid = mkspan(text.p, i);
	*rest = skip(text, i + 2);
	if (hex && i >= 5 && i <= 16)
		return 0;
	if (noqueue && EQ(*qid, "NOQUEUE")) {
		qid->n = 0;
		return 0;
	}
	return is_qid(*qid) ? 0 : -1;
}

/* ---- the header ---- */

/* classify - program and daemon of a parsed tag */
static void
classify(struct lp_head *h)
{
	struct lp_span in = h->instance, d = h->daemon;

	h->prog = LP_PROG_OTHER;
	h->daemon_id = LP_D_OTHER;
	switch (in.p[0]) { /* most lines are nothing of ours: cheap no */
	case 'p':
	case 's':
	case 'd':
	case 'a':
		break;
	default:
		if (in.n > 6 && memcmp(in.p + in.n - 6, "-login", 6) == 0)
			h->prog = LP_PROG_DOVECOT;
		return;
	}
	if (STARTS(in, "postfix")) {
		h->prog = LP_PROG_POSTFIX;
		if (d.n < 4)
			return;
		if (EQ(d, "smtpd"))
			h->daemon_id = LP_D_SMTPD;
		else if (EQ(d, "cleanup"))
			h->daemon_id = LP_D_CLEANUP;
		else if (EQ(d, "qmgr") || EQ(d, "nqmgr"))
			h->daemon_id = LP_D_QMGR;
		else if (EQ(d, "smtp") || EQ(d, "lmtp") || EQ(d, "local") ||
			 EQ(d, "virtual") || EQ(d, "pipe") || EQ(d, "error") ||
			 EQ(d, "discard"))
			h->daemon_id = LP_D_DELIVERY;
		else if (EQ(d, "postsuper"))
			h->daemon_id = LP_D_POSTSUPER;
		else if (EQ(d, "bounce"))
			h->daemon_id = LP_D_BOUNCE;
		else if (EQ(d, "pickup"))
			h->daemon_id = LP_D_PICKUP;
	} else if (EQ(h->tag, "saslguard")) {
		h->prog = LP_PROG_SASLGUARD;
	} else if (EQ(h->tag, "saslauthd")) {
		h->prog = LP_PROG_SASLAUTHD;
	} else if (EQ(h->tag, "dovecot") || EQ(h->tag, "auth") ||
		   EQ(h->tag, "auth-worker") ||
		   (h->tag.n > 6 &&
		       memcmp(h->tag.p + h->tag.n - 6, "-login", 6) == 0)) {
		h->prog = LP_PROG_DOVECOT;
	}
}

/*
 * name_scan - check the bytes of a program name and find its first and
 * last '/'; -1 for a byte no name has (space, control, ':', non-ASCII)
 *
 * avail is how many bytes may be read from t.p (the rest of the line):
 * with SSE2 a name of up to sixteen bytes is checked in one go.
 */
static int
name_scan(struct lp_span t, size_t avail, size_t *first, size_t *last)
{
	size_t i;
	int    l = -1;

	*first = t.n;
#ifdef __SSE2__
	if (t.n <= 16 && avail >= 16) {
		const __m128i v = _mm_loadu_si128((const __m128i *) t.p);
		unsigned      in = (1u << t.n) - 1, bad, slash;

		bad = (unsigned) _mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpgt_epi8(_mm_set1_epi8(0x21), v),
			_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(':'))));
		/* a signed compare: "below '!'" takes in 0x80..0xff too */
		if ((bad & in) != 0)
			return -1;
		slash = (unsigned) _mm_movemask_epi8(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('/'))) &
			in;
		if (slash != 0) {
			*first = (size_t) __builtin_ctz(slash);
			*last = (size_t) (31 - __builtin_clz(slash));
		} else {
			*last = t.n;
		}
		return 0;
	}
#endif
	for (i = 0; i < t.n; i++) {
		if ((unsigned char) t.p[i] <= ' ' || t.p[i] == ':' ||
		    (unsigned char) t.p[i] >= 0x7f)
			return -1;
		if (t.p[i] == '/') {
			if (*first == t.n)
				*first = i;
			l = (int) i;
		}
	}
	*last = l < 0 ? t.n : (size_t) l;
	return 0;
}

/*
 * split_tag - "tag[pid]", "tag(pid)" or "tag" into h; avail bytes may be
 * read from t.p
 */
static int
split_tag(struct lp_span t, size_t avail, struct lp_head *h)
{
	const char *o;
	char        close;
	size_t      first, last;

	h->pid = mkspan(NULL, 0);
	if (t.n == 0)
		return -1;
	close = t.p[t.n - 1];
	if (close == ']' || close == ')') {
		o = memchr(t.p, close == ']' ? '[' : '(', t.n);
		if (o == NULL || o == t.p)
			return -1;
		h->pid = mkspan(o + 1, (size_t) (t.p + t.n - o - 2));
		t.n = (size_t) (o - t.p);
	}
	if (name_scan(t, avail, &first, &last) == -1)
		return -1;
	h->tag = t;
	h->instance = mkspan(t.p, first);
	h->daemon = last == t.n ? t : skip(t, last + 1);
	if (h->instance.n == 0 || h->daemon.n == 0)
		return -1;
	classify(h);
	return 0;
}

/*
 * lp_head_parse - split line[0..len) (no newline) into its header parts
 *
 * "TS HOST TAG: TEXT" or, without a host, "TS TAG: TEXT": a first word
 * that ends in ':' is the tag.  Returns 0, or -1 for anything else.
 */
int
lp_head_parse(const char *line, size_t len, struct lp_head *h)
{
	struct lp_span rest, w1, w2;
	size_t         n;

	if ((n = logtime_parse(line, len, &h->ts)) == 0 || n + 1 >= len)
		return -1;
	rest = mkspan(line + n + 1, len - n - 1);
	h->body = rest;
	w1 = upto(rest, ' ');
	if (w1.n >= 2 && w1.p[w1.n - 1] == ':') {
		h->host = mkspan(NULL, 0);
		w2 = w1;
	} else {
		if (w1.n == 0 || w1.n + 1 >= rest.n)
			return -1;
		h->host = w1;
		w2 = upto(skip(rest, w1.n + 1), ' ');
		if (w2.n < 2 || w2.p[w2.n - 1] != ':')
			return -1;
	}
	if (split_tag(
		mkspan(w2.p, w2.n - 1), (size_t) (line + len - w2.p), h) == -1)
		return -1;
	n = (size_t) (w2.p + w2.n - line);
	if (n < len && line[n] == ' ')
		n++;
	h->text = mkspan(line + n, len - n);
	return 0;
}

/* ---- Postfix ---- */

/* reset - an empty event */
static void
reset(struct lp_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->nrcpt = ev->size = ev->count = ev->max = ev->uid = -1;
	ev->deleted = ev->released = ev->held = -1;
}

/* field - the value of ", key=" (or "key=" at the start) in s */
static struct lp_span
field(struct lp_span s, const char *key, size_t n)
{
	struct lp_span v;

	if (starts(s, key + 2, n - 2))
		return upto_sep(skip(s, n - 2));
	v = after(s, key, n);
	if (v.p == NULL)
		return v;
	return upto_sep(v);
}

#define FIELD(s, lit) field((s), (lit), sizeof(lit) - 1)

/* pf_submit - smtpd "client=name[addr], sasl_method=M, sasl_username=U" */
static enum lp_kind
pf_submit(struct lp_span r, struct lp_event *ev)
{
	struct lp_span v;

	ev->client = bracket_addr(upto_sep(skip(r, 7)));
	ev->user = FIELD(r, ", sasl_username=");
	if ((v = FIELD(r, ", orig_queue_id=")).n > 0 && is_qid(v)) {
		ev->newqid = v;
		ev->has_orig = 1;
	}
	return ev->kind = LP_SUBMIT;
}

/* pf_authfail - "warning: name[addr]: SASL X authentication failed: ..." */
static enum lp_kind
pf_authfail(struct lp_span text, struct lp_event *ev)
{
	struct lp_span w = skip(text, 9), who, r;
	const char    *p, *u;

	who = upto(w, ' ');
	if (who.n < 4 || who.p[who.n - 1] != ':' || who.p[who.n - 2] != ']')
		return LP_IGNORED;
	r = skip(w, who.n + (who.n < w.n));
	if (!STARTS(r, "SASL ") ||
	    (p = FIND(r, " authentication failed")) == NULL || p - r.p > 40)
		return LP_IGNORED;
	ev->client = bracket_addr(who);
	ev->authsrc = LP_AUTH_FRONT;
	ev->count = 1;
	/* the last ", sasl_username=" ends the line; the name tried */
	u = NULL;
	while ((p = FIND(r, ", sasl_username=")) != NULL) {
		u = p + 16;
		r = mkspan(u, (size_t) (r.p + r.n - u));
	}
	if (u != NULL)
		ev->user = r;
	return ev->kind = LP_AUTH_FAIL;
}

/* pf_delivery - "to=<r>, [orig_to=<o>, ]relay=..., status=S (reply)" */
static enum lp_kind
pf_delivery(struct lp_span r, struct lp_event *ev)
{
	struct lp_span st, q;
	size_t         i;

	ev->rcpt = unangle(upto_sep(skip(r, 3)));
	st = AFTER(r, ", status=");
	if (st.p == NULL)
		return LP_IGNORED;
	if (STARTS(st, "sent"))
		ev->status = LP_ST_SENT;
	else if (STARTS(st, "bounced"))
		ev->status = LP_ST_BOUNCED;
	else if (STARTS(st, "deferred"))
		ev->status = LP_ST_DEFERRED;
	else if (STARTS(st, "expired"))
		ev->status = LP_ST_EXPIRED;
	else
		return LP_IGNORED;
	q = AFTER(st, "queued as ");
	if (q.p != NULL) {
		for (i = 0; i < q.n && ((q.p[i] >= '0' && q.p[i] <= '9') ||
					   (q.p[i] >= 'A' && q.p[i] <= 'Z') ||
					   (q.p[i] >= 'a' && q.p[i] <= 'z'));
		     i++)
			;
		if (is_qid(mkspan(q.p, i)))
			ev->newqid = mkspan(q.p, i);
	}
	return ev->kind = LP_DELIVERY;
}

/* pf_qmgr - qmgr "from=<s>, size=N, nrcpt=N" or "..., status=expired" */
static enum lp_kind
pf_qmgr(struct lp_span r, struct lp_event *ev)
{
	ev->sender = unangle(upto_sep(skip(r, 5)));
	if (FIND(r, ", status=expired") != NULL) {
		ev->status = LP_ST_EXPIRED;
		return ev->kind = LP_EXPIRED;
	}
	ev->size = number(FIELD(r, ", size="));
	ev->nrcpt = number(FIELD(r, ", nrcpt="));
	return ev->kind = LP_QUEUED;
}

/* pf_text - the part of a Postfix line after "QID: " */
static enum lp_kind
pf_text(const struct lp_head *h, struct lp_span r, struct lp_event *ev)
{
	switch (h->daemon_id) {
	case LP_D_SMTPD:
		if (STARTS(r, "client="))
			return pf_submit(r, ev);
		return LP_IGNORED;
	case LP_D_CLEANUP:
		if (STARTS(r, "message-id="))
			return ev->kind = LP_MSGID;
		if (STARTS(r, "milter-hold: ") || STARTS(r, "hold: "))
			return ev->kind = LP_HOLD;
		if (STARTS(r, "milter-reject: ") || STARTS(r, "reject: ") ||
		    STARTS(r, "milter-discard: ") || STARTS(r, "discard: "))
			return ev->kind = LP_REJECT;
		return LP_IGNORED;
	case LP_D_POSTSUPER:
		if (EQ(r, "removed"))
			return ev->kind = LP_DELETED;
		if (EQ(r, "released from hold"))
			return ev->kind = LP_RELEASED;
		if (EQ(r, "placed on hold"))
			return ev->kind = LP_HELD;
		if (EQ(r, "requeued"))
			return ev->kind = LP_REQUEUED;
		return LP_IGNORED;
	case LP_D_BOUNCE:
		if (FIND(r, "notification: ") != NULL) {
			ev->newqid = AFTER(r, "notification: ");
			if (!is_qid(ev->newqid))
				return LP_IGNORED;
			return ev->kind = LP_NOTIFY;
		}
		return LP_IGNORED;
	case LP_D_PICKUP:
		if (STARTS(r, "uid=")) {
			ev->uid = number(skip(r, 4));
			ev->sender = unangle(upto(AFTER(r, " from="), ' '));
			return ev->kind = LP_PICKUP;
		}
		return LP_IGNORED;
	case LP_D_QMGR:
		if (EQ(r, "removed"))
			return ev->kind = LP_REMOVED;
		if (STARTS(r, "from=<"))
			return pf_qmgr(r, ev);
		break;
	default:
		break;
	}
	if (STARTS(r, "to=<"))
		return pf_delivery(r, ev);
	return LP_IGNORED;
}

/* pf_event - a Postfix line */
static enum lp_kind
pf_event(const struct lp_head *h, struct lp_event *ev)
{
	struct lp_span r;

	if (split_qid(h->text, 0, &ev->qid, &r) == 0)
		return pf_text(h, r, ev);
	ev->qid.n = 0;
	if (h->daemon_id == LP_D_SMTPD && STARTS(h->text, "warning: "))
		return pf_authfail(h->text, ev);
	return LP_IGNORED;
}

/* ---- saslguard ---- */

/* sg_pairs - the key=value words of a saslguard line into ev */
static void
sg_pairs(struct lp_span r, struct lp_event *ev)
{
	struct lp_span w, k, v;

	while (r.n > 0) {
		w = upto(r, ' ');
		r = skip(r, w.n + (w.n < r.n));
		k = upto(w, '=');
		if (k.n == w.n)
			continue;
		v = skip(w, k.n + 1);
		if (EQ(k, "user"))
			ev->user = v;
		else if (EQ(k, "sender"))
			ev->sender = unangle(v);
		else if (EQ(k, "rcpts"))
			ev->nrcpt = number(v);
		else if (EQ(k, "client"))
			ev->client = v;
		else if (EQ(k, "limit"))
			ev->limit = v;
		else if (EQ(k, "count"))
			ev->count = number(v);
		else if (EQ(k, "max"))
			ev->max = number(v);
		else if (EQ(k, "window"))
			ev->window = v;
		else if (EQ(k, "uid"))
			ev->uid = number(v);
		else if (EQ(k, "action"))
			ev->action = v;
		else if (EQ(k, "deleted"))
			ev->deleted = number(v);
		else if (EQ(k, "released"))
			ev->released = number(v);
		else if (EQ(k, "held"))
			ev->held = number(v);
	}
}

/* sg_event - a saslguard decision or control line */
static enum lp_kind
sg_event(const struct lp_head *h, struct lp_event *ev)
{
	static const struct {
		struct lp_span word;
		enum lp_sg     sg;
	} verbs[] = {
		{ SPAN("pass: "), LP_SG_PASS },
		{ SPAN("hold: "), LP_SG_HOLD },
		{ SPAN("would-hold: "), LP_SG_WOULD_HOLD },
		{ SPAN("flag: "), LP_SG_FLAG },
		{ SPAN("tempfail: "), LP_SG_TEMPFAIL },
		{ SPAN("disconnect: "), LP_SG_DISCONNECT },
	};
	struct lp_span r;
	size_t         i;

	ev->escaped = 1;
	if (STARTS(h->text, "control: ")) {
		sg_pairs(skip(h->text, 9), ev);
		return ev->kind = LP_SG_CONTROL;
	}
	if (split_qid(h->text, 1, &ev->qid, &r) == -1)
		return LP_IGNORED;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (starts(r, verbs[i].word.p, verbs[i].word.n)) {
			ev->sg = verbs[i].sg;
			sg_pairs(skip(r, verbs[i].word.n), ev);
			return ev->kind = LP_SG_DECISION;
		}
	}
	return LP_IGNORED;
}

/* ---- Dovecot and saslauthd ---- */

/* strip_word - s without a leading "word: " when word is one of list */
static struct lp_span
strip_level(struct lp_span s)
{
	static const struct lp_span levels[] = { SPAN("Info: "),
		SPAN("Warning: "), SPAN("Error: "), SPAN("Debug: "),
		SPAN("Fatal: "), SPAN("Panic: ") };
	size_t                      i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (starts(s, levels[i].p, levels[i].n))
			return skip(s, levels[i].n);
	return s;
}

/* strip_service - s without a leading "imap-login: " or "auth(3): " */
static struct lp_span
strip_service(struct lp_span s)
{
	size_t i;

	for (i = 0; i < s.n && i < 40; i++) {
		char c = s.p[i];

		if (c == ':')
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '(' || c == ')'))
			return s;
	}
	if (i == 0 || i + 1 >= s.n || s.p[i] != ':' || s.p[i + 1] != ' ')
		return s;
	/* "imap-login", "auth", "auth-worker(12)": not a capitalised verb */
	return skip(s, i + 2);
}

/* pam_fail - "pam_unix(svc:auth): authentication failure; ... user=U" */
static enum lp_kind
pam_fail(struct lp_span t, struct lp_event *ev)
{
	struct lp_span v;

	if (FIND(t, "pam_unix(") == NULL ||
	    FIND(t, "): authentication failure; ") == NULL)
		return LP_IGNORED;
	v = AFTER(t, " rhost=");
	if (v.p != NULL)
		ev->client = upto(v, ' ');
	v = AFTER(t, " user=");
	if (v.p == NULL)
		return LP_IGNORED;
	ev->user = upto(v, ' ');
	ev->authsrc = LP_AUTH_PAM;
	ev->count = 1;
	return ev->kind = LP_AUTH_FAIL;
}

/* dc_userip - "driver(user,ip[,<session>]): OUTCOME" before outcome */
static enum lp_kind
dc_userip(struct lp_span t, const char *outcome, struct lp_event *ev)
{
	const char    *o, *c;
	struct lp_span in;

	if (outcome - t.p < 4 || outcome[-1] != ' ' || outcome[-2] != ':' ||
	    outcome[-3] != ')')
		return LP_IGNORED;
	c = outcome - 3;
	for (o = c; o > t.p && o[-1] != '('; o--)
		;
	if (o == t.p)
		return LP_IGNORED;
	in = mkspan(o, (size_t) (c - o));
	ev->user = upto(in, ',');
	if (ev->user.n < in.n)
		ev->client = upto(skip(in, ev->user.n + 1), ',');
	ev->authsrc = LP_AUTH_BACKEND;
	ev->count = 1;
	return ev->kind = LP_AUTH_FAIL;
}

/* dc_event - a Dovecot line */
static enum lp_kind
dc_event(const struct lp_head *h, struct lp_event *ev)
{
	struct lp_span t = h->text, v;
	const char    *p;

	if (EQ(h->tag, "dovecot"))
		t = strip_service(t);
	if (STARTS(t, "Debug: "))
		return LP_IGNORED; /* repeats Info lines, may hold secrets */
	t = strip_level(t);
	if (STARTS(t, "Login: ")) {
		ev->user = unangle(upto_sep(AFTER(t, "user=")));
		ev->client = upto_sep(AFTER(t, ", rip="));
		if (ev->user.n == 0)
			return LP_IGNORED;
		return ev->kind = LP_LOGIN;
	}
	if ((v = AFTER(t, "(auth failed, ")).p != NULL) {
		ev->count = number(v);
		if (ev->count < 1)
			ev->count = 1;
		ev->user = unangle(upto_sep(AFTER(t, "): user=")));
		ev->client = upto_sep(AFTER(t, ", rip="));
		ev->authsrc = LP_AUTH_FRONT;
		return ev->kind = LP_AUTH_FAIL;
	}
	if ((p = FIND(t, "Password mismatch")) != NULL ||
	    (p = FIND(t, "unknown user")) != NULL ||
	    (p = FIND(t, "pam_authenticate() failed")) != NULL)
		return dc_userip(t, p, ev);
	return pam_fail(t, ev);
}

/* sa_event - a saslauthd line */
static enum lp_kind
sa_event(const struct lp_head *h, struct lp_event *ev)
{
	struct lp_span t = h->text, v;

	if (FIND(t, ": auth failure: [user=") != NULL) {
		v = AFTER(t, "[user=");
		ev->user = upto(v, ']');
		v = AFTER(t, "] [realm=");
		if (v.p != NULL)
			ev->realm = upto(v, ']');
		ev->authsrc = LP_AUTH_BACKEND;
		ev->count = 1;
		return ev->kind = LP_AUTH_FAIL;
	}
	return pam_fail(t, ev);
}

/*
 * lp_event_parse - read the text of a parsed line into ev
 *
 * Returns ev->kind; LP_IGNORED for lines the audit has no use for.
 */
enum lp_kind
lp_event_parse(const struct lp_head *h, struct lp_event *ev)
{
	if (h->prog == LP_PROG_OTHER) {
		ev->kind = LP_IGNORED;
		return LP_IGNORED;
	}
	reset(ev);
	switch (h->prog) {
	case LP_PROG_POSTFIX:
		return ev->kind = pf_event(h, ev);
	case LP_PROG_SASLGUARD:
		return ev->kind = sg_event(h, ev);
	case LP_PROG_DOVECOT:
		return ev->kind = dc_event(h, ev);
	case LP_PROG_SASLAUTHD:
		return ev->kind = sa_event(h, ev);
	default:
		return LP_IGNORED;
	}
}
