/*
 * escape.h - make hostile strings safe for logs, terminals and the
 * control protocol
 *
 * escape_value() percent-encodes every byte outside 0x21..0x7e and the
 * bytes '%', '"', '\\' and '=' ("%0A", "%20"), so a value can never break a
 * key=value log line, forge a second line, or carry a terminal escape.
 * unescape_value() reverses it.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_escape.c
 */
#ifndef SASLGUARD_ESCAPE_H
#define SASLGUARD_ESCAPE_H

#include <stddef.h>

/*
 * escape_value - escaped src into dst (always NUL-terminated when len > 0)
 *
 * Returns the length the full result needs (excluding the NUL), like
 * snprintf: a value >= len means it was truncated (never inside a %XX).
 */
size_t	escape_value(char *dst, size_t len, const char *src);

/*
 * unescape_value - decode %XX sequences of src into dst
 *
 * Returns the decoded length, or -1 when src has a malformed escape, decodes
 * to a NUL byte, or does not fit.
 */
int	unescape_value(char *dst, size_t len, const char *src);

#endif
