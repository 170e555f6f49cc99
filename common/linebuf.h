/*
 * linebuf.h - build one log line in a fixed buffer, piece by piece
 *
 * For the lines written for every message: appending the pieces directly
 * costs a fraction of a printf-family call with a dozen conversions, and
 * escaped values go straight into the line (no buffer per value).  The
 * line is cut at the buffer's end, never inside an escape, and is always
 * NUL-terminated.
 *
 * Thread safety: pure functions on caller-owned buffers.
 * Tests: tests/test_linebuf.c
 */
#ifndef SASLGUARD_LINEBUF_H
#define SASLGUARD_LINEBUF_H

#include <stddef.h>
#include <stdint.h>

struct linebuf {
	char  *buf;
	size_t size; /* of buf, >= 1 */
	size_t len;  /* used, < size */
	int    cut;  /* something did not fit */
};

/* lb_init - an empty line in buf[0..size), size >= 1 */
void lb_init(struct linebuf *lb, char *buf, size_t size);

/* lb_str - append s as it is */
void lb_str(struct linebuf *lb, const char *s);

/* lb_esc - append s escaped as escape_value() does (NULL: nothing) */
void lb_esc(struct linebuf *lb, const char *s);

/* lb_u32 - append v in decimal */
void lb_u32(struct linebuf *lb, uint32_t v);

#endif
