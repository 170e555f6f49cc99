/*
 * sha256.h - SHA-256 (FIPS 180-4)
 *
 * A small streaming implementation for the journal's hash chain, so that
 * no crypto library is needed.  Feed any number of bytes with
 * sha256_update() and take the 32-byte digest with sha256_final();
 * sha256_hex() does all three for one buffer and writes 64 lower-case
 * hex digits.  Messages up to 2^61 - 1 bytes.
 *
 * Thread safety: pure functions; a context belongs to its caller.
 * Tests: tests/test_sha256.c
 */
#ifndef SASLGUARD_SHA256_H
#define SASLGUARD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32 /* bytes of a digest */
#define SHA256_HEX 65 /* hex digits of a digest and a NUL */

struct sha256 {
	uint32_t h[8];    /* chaining state */
	uint64_t nbytes;  /* message length so far */
	uint8_t  buf[64]; /* a partial block */
	size_t   buflen;  /* bytes in buf */
};

/* sha256_init - start a new digest */
void sha256_init(struct sha256 *c);

/* sha256_update - add len bytes of data */
void sha256_update(struct sha256 *c, const void *data, size_t len);

/* sha256_final - the digest into out; c must be initialised again after */
void sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN]);

/* sha256_hex - the digest of len bytes as 64 hex digits and a NUL */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX]);

/* sha256_tohex - a digest as 64 lower-case hex digits and a NUL */
void sha256_tohex(const uint8_t digest[SHA256_LEN], char out[SHA256_HEX]);

#endif
