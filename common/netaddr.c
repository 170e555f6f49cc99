/*
 * netaddr.c - client addresses reduced to networks
 *
 * Parsing is inet_pton() on a stack copy with the "[...]" and "IPv6:"
 * decorations removed; nothing is allocated.  An IPv4 key is
 * NETADDR_V4_TAG << 32 | masked address, an IPv6 key the masked high 64
 * bits of the address.
 *
 * Thread safety: pure functions.
 * Tests: tests/test_netaddr.c
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"

#define NETADDR_V4_TAG 0x0000ffffULL

/* prefixes_ok - 1 when both prefixes are in range */
static int
prefixes_ok(int v4prefix, int v6prefix)
{
	return v4prefix >= 0 && v4prefix <= 32 && v6prefix >= 0 &&
	       v6prefix <= 64;
}

/* key_v4 - key of the IPv4 address a (host order) */
static uint64_t
key_v4(uint32_t a, int prefix)
{
	uint32_t mask = prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);

	return NETADDR_V4_TAG << 32 | (a & mask);
}

/* key_v6 - key of the IPv6 address in6, or of its IPv4 when mapped */
static uint64_t
key_v6(const struct in6_addr *in6, int v4prefix, int v6prefix)
{
	const uint8_t *b = in6->s6_addr;
	uint64_t       hi = 0, mask;
	size_t         i;

	if (IN6_IS_ADDR_V4MAPPED(in6))
		return key_v4((uint32_t) b[12] << 24 | (uint32_t) b[13] << 16 |
				  (uint32_t) b[14] << 8 | b[15],
		    v4prefix);
	for (i = 0; i < 8; i++)
		hi = hi << 8 | b[i];
	mask = v6prefix == 0 ? 0 : UINT64_MAX << (64 - v6prefix);
	return hi & mask;
}

/*
 * netaddr_key - parse a textual address into a network key
 *
 * The "IPv6:" tag is matched without regard to case and then requires an
 * IPv6 address.  Zone suffixes ("%eth0") are refused.
 */
int
netaddr_key(const char *addr, int v4prefix, int v6prefix, uint64_t *key)
{
	char            buf[INET6_ADDRSTRLEN + 1];
	size_t          len;
	int             v6only = 0;
	struct in_addr  in4;
	struct in6_addr in6;

	if (addr == NULL || key == NULL || !prefixes_ok(v4prefix, v6prefix))
		return -1;
	len = strnlen(addr, sizeof(buf) + 8);
	if (len > 0 && addr[0] == '[') {
		if (len < 2 || addr[len - 1] != ']')
			return -1;
		addr++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(addr, "IPv6:", 5) == 0) {
		v6only = 1;
		addr += 5;
		len -= 5;
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, addr, len);
	buf[len] = '\0';

	if (!v6only && inet_pton(AF_INET, buf, &in4) == 1) {
		*key = key_v4(ntohl(in4.s_addr), v4prefix);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &in6) == 1) {
		*key = key_v6(&in6, v4prefix, v6prefix);
		return 0;
	}
	return -1;
}

/* netaddr_key_sa - the same from a sockaddr (AF_INET/AF_INET6); -1 otherwise */
int
netaddr_key_sa(
    const struct sockaddr *sa, int v4prefix, int v6prefix, uint64_t *key)
{
	struct sockaddr_in  sin;
	struct sockaddr_in6 sin6;

	if (sa == NULL || key == NULL || !prefixes_ok(v4prefix, v6prefix))
		return -1;
	/* copy out: the caller's sockaddr need not be aligned for the type */
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		*key = key_v4(ntohl(sin.sin_addr.s_addr), v4prefix);
		return 0;
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		*key = key_v6(&sin6.sin6_addr, v4prefix, v6prefix);
		return 0;
	default:
		return -1;
	}
}

/*
 * netaddr_ntop - the printable address of sa into buf
 *
 * IPv4 is written here: glibc's inet_ntop goes through sprintf, and the
 * milter formats the client address of every connection.
 */
int
netaddr_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	struct sockaddr_in  sin;
	struct sockaddr_in6 sin6;
	unsigned char       b[4];
	char                out[16], *p = out;
	int                 i;

	if (sa == NULL || buf == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		memcpy(b, &sin.sin_addr.s_addr, 4);
		for (i = 0; i < 4; i++) {
			if (b[i] >= 100)
				*p++ = (char) ('0' + b[i] / 100);
			if (b[i] >= 10)
				*p++ = (char) ('0' + b[i] / 10 % 10);
			*p++ = (char) ('0' + b[i] % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		if ((size_t) (p - out) > len)
			return -1;
		memcpy(buf, out, (size_t) (p - out));
		return 0;
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		return inet_ntop(AF_INET6, &sin6.sin6_addr, buf,
			   (socklen_t) len) != NULL ? 0 : -1;
	default:
		return -1;
	}
}

/*
 * netaddr_format - "203.0.113.0/24" or "2001:db8:1:2::/64" into buf
 *
 * Returns 0, or -1 for a bad prefix or when buf is too small (buf then
 * holds a truncated string when len > 0).  64 bytes are always enough.
 */
int
netaddr_format(uint64_t key, int v4prefix, int v6prefix, char *buf, size_t len)
{
	char            host[INET6_ADDRSTRLEN];
	struct in_addr  in4;
	struct in6_addr in6;
	int             prefix, n;
	size_t          i;

	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (!prefixes_ok(v4prefix, v6prefix))
		return -1;
	if (key >> 32 == NETADDR_V4_TAG) {
		in4.s_addr = htonl((uint32_t) key_v4((uint32_t) key, v4prefix));
		if (inet_ntop(AF_INET, &in4, host, sizeof(host)) == NULL)
			return -1;
		prefix = v4prefix;
	} else {
		if (v6prefix < 64)
			key &=
			    v6prefix == 0 ? 0 : UINT64_MAX << (64 - v6prefix);
		memset(&in6, 0, sizeof(in6));
		for (i = 0; i < 8; i++)
			in6.s6_addr[i] = (uint8_t) (key >> (56 - 8 * i));
		if (inet_ntop(AF_INET6, &in6, host, sizeof(host)) == NULL)
			return -1;
		prefix = v6prefix;
	}
	n = snprintf(buf, len, "%s/%d", host, prefix);
	if (n < 0 || (size_t) n >= len)
		return -1;
	return 0;
}
