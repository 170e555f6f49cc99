/*
 * linebuf.c - build one log line in a fixed buffer, piece by piece
 *
 * Thread safety: pure functions on caller-owned buffers.
 * Tests: tests/test_linebuf.c
 */
#include <string.h>

#include "escape.h"
#include "linebuf.h"

/* lb_init - an empty line in buf[0..size), size >= 1 */
void
lb_init(struct linebuf *lb, char *buf, size_t size)
{
	lb->buf = buf;
	lb->size = size;
	lb->len = 0;
	lb->cut = 0;
	buf[0] = '\0';
}

/* lb_str - append s as it is */
void
lb_str(struct linebuf *lb, const char *s)
{
	size_t n = strlen(s), room = lb->size - 1 - lb->len;

	if (lb->cut)
		return;
	if (n > room) {
		n = room;
		lb->cut = 1;
	}
	memcpy(lb->buf + lb->len, s, n);
	lb->len += n;
	lb->buf[lb->len] = '\0';
}

/* lb_esc - append s escaped as escape_value() does (NULL: nothing) */
void
lb_esc(struct linebuf *lb, const char *s)
{
	size_t room = lb->size - lb->len, need;

	if (lb->cut || s == NULL)
		return;
	need = escape_value(lb->buf + lb->len, room, s);
	if (need >= room) {
		/* escape_value kept a whole prefix: find where it ended */
		lb->len += strlen(lb->buf + lb->len);
		lb->cut = 1;
		return;
	}
	lb->len += need;
}

/* lb_u32 - append v in decimal */
void
lb_u32(struct linebuf *lb, uint32_t v)
{
	char   d[10];
	size_t n = 0, i;

	do {
		d[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (lb->cut)
		return;
	if (n > lb->size - 1 - lb->len) {
		lb->cut = 1; /* a number is whole or absent */
		return;
	}
	for (i = 0; i < n; i++)
		lb->buf[lb->len + i] = d[n - 1 - i];
	lb->len += n;
	lb->buf[lb->len] = '\0';
}
