/*
 * netaddr.h - client addresses reduced to networks
 *
 * A client address is reduced to its network (an IPv4 /ipv4_prefix or an
 * IPv6 /ipv6_prefix, at most /64) and packed into a 64-bit key, so that
 * "the same place" compares equal: a phone rotating IPv6 privacy addresses
 * inside its /64 is one network.  The key of an IPv6 network is the high
 * 64 bits of its address.  IPv4 keys are 0x0000ffff in the high 32 bits and
 * the masked address in the low 32, which is the space of 0:ffff::/32: no
 * global IPv6 /64 uses it.  IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
 * treated as IPv4.  Prefixes outside 0..32 (IPv4) or 0..64 (IPv6) are
 * refused with -1.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_netaddr.c
 */
#ifndef SASLGUARD_NETADDR_H
#define SASLGUARD_NETADDR_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

/*
 * netaddr_key - parse a textual address into a network key
 *
 * Accepts "203.0.113.9", "2001:db8::1", "IPv6:2001:db8::1" (as Postfix and
 * sendmail macros write it) and either inside "[...]".  Returns 0, or -1 for
 * anything else (the key is then untouched).
 */
int	netaddr_key(const char *addr, int v4prefix, int v6prefix, uint64_t *key);

/* netaddr_key_sa - the same from a sockaddr (AF_INET/AF_INET6); -1 otherwise */
int	netaddr_key_sa(const struct sockaddr *sa, int v4prefix, int v6prefix,
	    uint64_t *key);

/*
 * netaddr_ntop - the printable address of a sockaddr (AF_INET/AF_INET6)
 * into buf, as inet_ntop writes it; -1 for another family or a buf too
 * small (46 bytes always suffice)
 */
int	netaddr_ntop(const struct sockaddr *sa, char *buf, size_t len);

/*
 * netaddr_format - "203.0.113.0/24" or "2001:db8:1:2::/64" into buf
 *
 * Returns 0, or -1 for a prefix out of range or a buf too small (64 bytes
 * always suffice).
 */
int	netaddr_format(uint64_t key, int v4prefix, int v6prefix, char *buf,
	    size_t len);

#endif
