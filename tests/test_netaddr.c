/*
 * test_netaddr.c - tests for common/netaddr.c
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "netaddr.h"

/* key_of - key of addr with the given prefixes, asserting success */
static uint64_t
key_of(const char *addr, int v4prefix, int v6prefix)
{
	uint64_t key = 0;

	cr_assert_eq(
	    netaddr_key(addr, v4prefix, v6prefix, &key), 0, "refused %s", addr);
	return key;
}

Test(netaddr_key, ipv4_default_prefix_groups_a_slash_24)
{
	cr_assert_eq(
	    key_of("203.0.113.9", 24, 64), key_of("203.0.113.200", 24, 64));
	cr_assert_neq(
	    key_of("203.0.113.9", 24, 64), key_of("203.0.114.9", 24, 64));
}

Test(netaddr_key, ipv4_key_has_tag_in_high_bits_and_masked_address)
{
	uint64_t key = key_of("203.0.113.9", 24, 64);

	cr_assert_eq(key >> 32, 0x0000ffffULL);
	cr_assert_eq((uint32_t) key, 0xcb007100u);
	cr_assert_eq((uint32_t) key_of("203.0.113.9", 32, 64), 0xcb007109u);
	cr_assert_eq((uint32_t) key_of("203.0.113.9", 0, 64), 0u);
	cr_assert_eq((uint32_t) key_of("203.0.113.9", 1, 64), 0x80000000u);
}

Test(netaddr_key, ipv6_privacy_addresses_in_one_slash_64_are_one_network)
{
	cr_assert_eq(key_of("2001:db8:1:2:a1b2:c3d4:e5f6:1", 24, 64),
	    key_of("2001:db8:1:2::99", 24, 64));
	cr_assert_neq(key_of("2001:db8:1:2::1", 24, 64),
	    key_of("2001:db8:1:3::1", 24, 64));
	cr_assert_eq(key_of("2001:db8:1:2::1", 24, 64), 0x20010db800010002ULL);
}

Test(netaddr_key, shorter_ipv6_prefix_groups_more)
{
	cr_assert_eq(key_of("2001:db8:1:2::1", 24, 48),
	    key_of("2001:db8:1:ffff::1", 24, 48));
	cr_assert_eq(key_of("2001:db8:1:2::1", 24, 48), 0x20010db800010000ULL);
	cr_assert_eq(key_of("2001:db8:1:2::1", 24, 0), 0);
	cr_assert_eq(key_of("2001:db8:1:2::1", 24, 63),
	    key_of("2001:db8:1:3::1", 24, 63));
}

Test(netaddr_key, ipv6_tag_and_brackets_are_accepted)
{
	uint64_t plain = key_of("2001:db8::1", 24, 64);

	cr_assert_eq(key_of("IPv6:2001:db8::1", 24, 64), plain);
	cr_assert_eq(key_of("ipv6:2001:db8::1", 24, 64), plain);
	cr_assert_eq(key_of("[IPv6:2001:db8::1]", 24, 64), plain);
	cr_assert_eq(key_of("[2001:db8::1]", 24, 64), plain);
	cr_assert_eq(
	    key_of("[203.0.113.9]", 24, 64), key_of("203.0.113.9", 24, 64));
}

Test(netaddr_key, ipv4_mapped_ipv6_is_ipv4)
{
	uint64_t v4 = key_of("203.0.113.9", 24, 64);

	cr_assert_eq(key_of("::ffff:203.0.113.9", 24, 64), v4);
	cr_assert_eq(key_of("IPv6:::ffff:203.0.113.77", 24, 64), v4);
	cr_assert_eq(key_of("[::ffff:cb00:7109]", 24, 64), v4);
}

Test(netaddr_key, refuses_anything_else_and_leaves_key_untouched)
{
	static const char *bad[] = { "", "[]", "[", "]", "[203.0.113.9",
		"203.0.113.9]", "IPv6:", "IPv6:203.0.113.9", "203.0.113",
		"256.0.113.9", "203.0.113.9 ", " 203.0.113.9", "fe80::1%eth0",
		"mail.example.org", "2001:db8::1::2", "unknown",
		"[IPv6:2001:db8::1", "2001:db8:0:0:0:0:0:0:1",
		"0000000000000000000000000000000000000000000000000001.2.3.4" };
	size_t             i;
	uint64_t           key = 42;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(
		    netaddr_key(bad[i], 24, 64, &key), -1, "%s", bad[i]);
		cr_assert_eq(key, 42, "%s", bad[i]);
	}
	cr_assert_eq(netaddr_key(NULL, 24, 64, &key), -1);
}

Test(netaddr_key, refuses_prefix_out_of_range)
{
	uint64_t key = 42;

	cr_assert_eq(netaddr_key("203.0.113.9", 33, 64, &key), -1);
	cr_assert_eq(netaddr_key("203.0.113.9", -1, 64, &key), -1);
	cr_assert_eq(netaddr_key("2001:db8::1", 24, 65, &key), -1);
	cr_assert_eq(netaddr_key("2001:db8::1", 24, 128, &key), -1);
	cr_assert_eq(netaddr_key("2001:db8::1", 24, -1, &key), -1);
	cr_assert_eq(key, 42);
	cr_assert_eq(netaddr_key("203.0.113.9", 32, 64, &key), 0);
	cr_assert_eq(netaddr_key("2001:db8::1", 0, 0, &key), 0);
}

Test(netaddr_key_sa, ipv4_and_ipv6_sockaddrs_match_text)
{
	struct sockaddr_in  sin;
	struct sockaddr_in6 sin6;
	uint64_t            key = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, "203.0.113.9", &sin.sin_addr), 1);
	cr_assert_eq(netaddr_key_sa((struct sockaddr *) &sin, 24, 64, &key), 0);
	cr_assert_eq(key, key_of("203.0.113.1", 24, 64));

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	cr_assert_eq(
	    inet_pton(AF_INET6, "2001:db8:1:2::5", &sin6.sin6_addr), 1);
	cr_assert_eq(
	    netaddr_key_sa((struct sockaddr *) &sin6, 24, 64, &key), 0);
	cr_assert_eq(key, key_of("2001:db8:1:2::1", 24, 64));

	cr_assert_eq(
	    inet_pton(AF_INET6, "::ffff:203.0.113.50", &sin6.sin6_addr), 1);
	cr_assert_eq(
	    netaddr_key_sa((struct sockaddr *) &sin6, 24, 64, &key), 0);
	cr_assert_eq(key, key_of("203.0.113.1", 24, 64));
}

Test(netaddr_key_sa, refuses_other_families)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	uint64_t           key = 42;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	cr_assert_eq(
	    netaddr_key_sa((struct sockaddr *) &sun, 24, 64, &key), -1);
	cr_assert_eq(netaddr_key_sa(NULL, 24, 64, &key), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	cr_assert_eq(
	    netaddr_key_sa((struct sockaddr *) &sin, 40, 64, &key), -1);
	cr_assert_eq(key, 42);
}

Test(netaddr_ntop, ipv4_is_written_as_inet_ntop_writes_it)
{
	struct sockaddr_in sin;
	char               want[INET_ADDRSTRLEN], got[INET_ADDRSTRLEN];
	uint32_t           a, i;
	/* every digit count in every position, then a spread of the rest */
	static const uint32_t fixed[] = { 0x00000000, 0xffffffff, 0x0a000001,
		0x7f000001, 0xc0a80a63, 0x09630a64, 0x64096309, 0xcb007109 };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	for (i = 0; i < 100000; i++) {
		a = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i] :
		    i * 2654435761u;
		sin.sin_addr.s_addr = htonl(a);
		cr_assert_not_null(
		    inet_ntop(AF_INET, &sin.sin_addr, want, sizeof(want)));
		memset(got, 'x', sizeof(got));
		cr_assert_eq(netaddr_ntop((struct sockaddr *) &sin, got,
				 sizeof(got)), 0);
		cr_assert_str_eq(got, want);
	}
}

Test(netaddr_ntop, ipv6_other_families_and_small_buffers)
{
	struct sockaddr_in  sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un  sun;
	char                buf[INET6_ADDRSTRLEN];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr), 1);
	cr_assert_eq(
	    netaddr_ntop((struct sockaddr *) &sin6, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2001:db8::5");
	cr_assert_eq(netaddr_ntop((struct sockaddr *) &sin6, buf, 5), -1);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xcb007109);
	/* "203.0.113.9" and its NUL: 12 bytes */
	cr_assert_eq(netaddr_ntop((struct sockaddr *) &sin, buf, 12), 0);
	cr_assert_str_eq(buf, "203.0.113.9");
	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(netaddr_ntop((struct sockaddr *) &sin, buf, 11), -1);
	cr_assert_eq(buf[0], 'x', "nothing written when it does not fit");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	cr_assert_eq(
	    netaddr_ntop((struct sockaddr *) &sun, buf, sizeof(buf)), -1);
	cr_assert_eq(netaddr_ntop(NULL, buf, sizeof(buf)), -1);
}

Test(netaddr_format, formats_ipv4_network)
{
	char buf[64];

	cr_assert_eq(netaddr_format(key_of("203.0.113.9", 24, 64), 24, 64, buf,
			 sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "203.0.113.0/24");
	cr_assert_eq(netaddr_format(key_of("203.0.113.9", 32, 64), 32, 64, buf,
			 sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "203.0.113.9/32");
	cr_assert_eq(netaddr_format(
			 key_of("203.0.113.9", 0, 64), 0, 64, buf, sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "0.0.0.0/0");
}

Test(netaddr_format, formats_ipv6_network)
{
	char buf[64];

	cr_assert_eq(netaddr_format(key_of("2001:db8:1:2:a:b:c:d", 24, 64), 24,
			 64, buf, sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "2001:db8:1:2::/64");
	cr_assert_eq(netaddr_format(key_of("2001:db8:1:2::1", 24, 48), 24, 48,
			 buf, sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "2001:db8:1::/48");
	cr_assert_eq(netaddr_format(key_of("2001:db8:1:2::1", 24, 0), 24, 0,
			 buf, sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "::/0");
}

Test(netaddr_format, longest_output_fits_in_64_bytes)
{
	char buf[64];

	cr_assert_eq(netaddr_format(key_of("ffff:ffff:ffff:ffff::", 24, 64), 24,
			 64, buf, sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "ffff:ffff:ffff:ffff::/64");
	cr_assert_eq(netaddr_format(key_of("255.255.255.255", 32, 64), 32, 64,
			 buf, sizeof(buf)),
	    0);
	cr_assert_str_eq(buf, "255.255.255.255/32");
}

Test(netaddr_format, formatted_network_parses_back_to_same_key)
{
	static const char *addrs[] = { "198.51.100.77", "2001:db8:abcd:12::9",
		"::ffff:192.0.2.1", "fe80::1" };
	char               buf[64];
	size_t             i;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		uint64_t key = key_of(addrs[i], 24, 64);
		char    *slash;

		cr_assert_eq(netaddr_format(key, 24, 64, buf, sizeof(buf)), 0);
		slash = strchr(buf, '/');
		cr_assert_not_null(slash);
		*slash = '\0';
		cr_assert_eq(key_of(buf, 24, 64), key, "%s", addrs[i]);
	}
}

Test(netaddr_format, refuses_small_buffer_and_bad_prefix)
{
	char     buf[64];
	uint64_t key = key_of("203.0.113.9", 24, 64);

	cr_assert_eq(netaddr_format(key, 24, 64, buf, 14), -1);
	cr_assert_eq(netaddr_format(key, 24, 64, buf, 15), 0);
	cr_assert_str_eq(buf, "203.0.113.0/24");
	cr_assert_eq(netaddr_format(key, 24, 64, buf, 0), -1);
	cr_assert_eq(netaddr_format(key, 33, 64, buf, sizeof(buf)), -1);
	cr_assert_eq(netaddr_format(key, 24, 65, buf, sizeof(buf)), -1);
}
