/*
 * fnv.h - FNV-1a hashes of C strings, for in-memory hash tables
 *
 * Fast and well spread for short keys (logins, domains, queue IDs); not
 * for anything an attacker must not be able to collide on purpose: the
 * tables that use it bound their chains by growing, not by the hash.
 *
 * Thread safety: pure functions.
 */
#ifndef SASLGUARD_FNV_H
#define SASLGUARD_FNV_H

#include <stdint.h>

/* fnv1a32 - 32-bit FNV-1a of s */
static inline uint32_t
fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char) *s;
		h *= 16777619u;
	}
	return h;
}

/* fnv1a64 - 64-bit FNV-1a of s */
static inline uint64_t
fnv1a64(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char) *s;
		h *= 1099511628211ull;
	}
	return h;
}

#endif
