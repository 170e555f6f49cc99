/*
 * addr.h - envelope addresses: validation and canonical form
 *
 * Input comes from the SMTP peer and is hostile: addr_canon() refuses
 * control characters, spaces, 8-bit bytes outside UTF-8, and anything longer
 * than ADDR_MAX.  The canonical form drops the angle brackets, lower-cases the
 * whole address (ASCII letters; UTF-8 is kept as it is), and (when delims is not NULL) removes a "+tag" from the
 * local part: "<Alice+News@Example.ORG>" -> "alice@example.org".
 * The null sender "<>" canonicalises to "", and so does "" (the null sender
 * as the {mail_addr} macro gives it).
 *
 * Thread safety: pure functions.
 * Tests: tests/test_addr.c
 */
#ifndef SASLGUARD_ADDR_H
#define SASLGUARD_ADDR_H

#include <stddef.h>

#define ADDR_MAX 320		/* 64 local + @ + 255 domain */

/*
 * addr_canon - canonical form of in into out (outlen >= ADDR_MAX + 1)
 *
 * delims: characters that start a tag in the local part ("+", "+-"), or NULL
 * to keep tags.  A tag never removes the whole local part ("+x@d" stays).
 * Returns 0, or -1 when in is not an acceptable address.
 */
int	addr_canon(const char *in, const char *delims, char *out, size_t outlen);

/* addr_domain - the part after the last '@' of a canonical address, or NULL */
const char *addr_domain(const char *canon);

/*
 * addr_sender_belongs - 1 when canonical sender belongs to canonical login
 *
 * It belongs when it equals the login; when the login has no domain
 * (a bare "alice") and the sender's local part equals it; or when it equals
 * one of allowed[] entries ("addr@dom" exactly, "@dom" any address in dom).
 */
int	addr_sender_belongs(const char *sender, const char *login,
	    char *const *allowed, size_t nallowed);

/*
 * addr_valid_user - 1 when s is acceptable as an account name on the
 * control socket: 1..ADDR_MAX printable, non-space ASCII or UTF-8 bytes
 */
int	addr_valid_user(const char *s);

#endif
