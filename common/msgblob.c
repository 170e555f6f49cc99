/*
 * msgblob.c - passed messages packed side by side into one byte string
 *
 * Fixed-width little-endian fields, written and read a byte at a time, so
 * the format is the same on every host and no read is ever unaligned.
 *
 * Thread safety: none; see msgblob.h.
 * Tests: tests/test_msgblob.c; fuzz/fuzz_msgblob.c
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msgblob.h"

/* msgblob_init - an empty blob */
void
msgblob_init(struct msgblob *b)
{
	memset(b, 0, sizeof(*b));
}

/* msgblob_reset - empty b, keeping its buffer */
void
msgblob_reset(struct msgblob *b)
{
	b->len = 0;
	b->n = 0;
	b->arrival = 0;
	b->recorded = 0;
}

/* msgblob_free - release b's buffer; b is empty again */
void
msgblob_free(struct msgblob *b)
{
	free(b->buf);
	msgblob_init(b);
}

/* put_uint - the low size bytes of v at p, least significant first */
static unsigned char *
put_uint(unsigned char *p, uint64_t v, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++, v >>= 8)
		*p++ = (unsigned char) (v & 0xff);
	return p;
}

/* put_text - a length of lsize bytes, then the len bytes of s */
static unsigned char *
put_text(unsigned char *p, const char *s, size_t len, size_t lsize)
{
	p = put_uint(p, len, lsize);
	memcpy(p, s, len);
	return p + len;
}

/* room - make room for need more bytes; -1 on ENOMEM */
static int
room(struct msgblob *b, size_t need)
{
	unsigned char *nb;
	size_t         cap;

	if (b->cap - b->len >= need)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < need)
		cap *= 2;
	if ((nb = realloc(b->buf, cap)) == NULL)
		return -1;
	b->buf = nb;
	b->cap = cap;
	return 0;
}

/* msgblob_add - append the passed message m */
int
msgblob_add(struct msgblob *b, const struct store_msg *m)
{
	size_t         lq, lu, ls, lc;
	unsigned char *p;

	lq = strnlen(m->queue_id, sizeof(m->queue_id));
	lu = strnlen(m->user, sizeof(m->user));
	ls = strnlen(m->sender, sizeof(m->sender));
	lc = strnlen(m->client, sizeof(m->client));
	if (m->held || m->state != STORE_QUEUED || lq == 0 ||
	    lq == sizeof(m->queue_id) || lu == 0 || lu == sizeof(m->user) ||
	    ls == sizeof(m->sender) || lc == sizeof(m->client)) {
		errno = EINVAL;
		return -1;
	}
	if (room(b, MSGBLOB_RECORD_MAX) == -1)
		return -1;
	p = b->buf + b->len;
	p = put_text(p, m->queue_id, lq, 1);
	p = put_text(p, m->user, lu, 2);
	p = put_text(p, m->sender, ls, 2);
	p = put_text(p, m->client, lc, 1);
	p = put_uint(p, m->nrcpt, 4);
	p = put_uint(p, (uint64_t) (int64_t) m->arrival, 8);
	p = put_uint(p, (uint64_t) (int64_t) m->recorded, 8);
	b->len = (size_t) (p - b->buf);
	if (b->n++ == 0)
		b->arrival = m->arrival;
	if (m->recorded > b->recorded)
		b->recorded = m->recorded;
	return 0;
}

/* a reading position in a blob */
struct reader {
	const unsigned char *p;
	size_t               len;
	size_t               off;
};

/* get_uint - size bytes, least significant first; -1 past the end */
static int
get_uint(struct reader *r, size_t size, uint64_t *v)
{
	size_t i;

	if (r->len - r->off < size)
		return -1;
	*v = 0;
	for (i = size; i-- > 0;)
		*v = (*v << 8) | r->p[r->off + i];
	r->off += size;
	return 0;
}

/*
 * get_text - a length of lsize bytes, then that many bytes of text into
 * dst of size bytes; -1 when cut short, too long for dst, shorter than
 * min, or holding a NUL
 */
static int
get_text(struct reader *r, size_t lsize, char *dst, size_t size, size_t min)
{
	uint64_t len;

	if (get_uint(r, lsize, &len) == -1 || len >= size || len < min ||
	    r->len - r->off < len ||
	    memchr(r->p + r->off, '\0', (size_t) len) != NULL)
		return -1;
	memcpy(dst, r->p + r->off, (size_t) len);
	dst[len] = '\0';
	r->off += (size_t) len;
	return 0;
}

/* msgblob_next - decode the record at *off */
int
msgblob_next(const unsigned char *p, size_t len, size_t *off,
    struct store_msg *m)
{
	struct reader r = { p, len, *off };
	uint64_t      nrcpt, arrival, recorded;

	if (r.off >= len)
		return 0;
	memset(m, 0, sizeof(*m));
	if (get_text(&r, 1, m->queue_id, sizeof(m->queue_id), 1) == -1 ||
	    get_text(&r, 2, m->user, sizeof(m->user), 1) == -1 ||
	    get_text(&r, 2, m->sender, sizeof(m->sender), 0) == -1 ||
	    get_text(&r, 1, m->client, sizeof(m->client), 0) == -1 ||
	    get_uint(&r, 4, &nrcpt) == -1 || get_uint(&r, 8, &arrival) == -1 ||
	    get_uint(&r, 8, &recorded) == -1)
		return -1;
	m->nrcpt = (uint32_t) nrcpt;
	m->arrival = (time_t) (int64_t) arrival;
	m->recorded = (time_t) (int64_t) recorded;
	m->held = 0;
	m->state = STORE_QUEUED;
	*off = r.off;
	return 1;
}
