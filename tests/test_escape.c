/*
 * test_escape.c - tests for common/escape.c
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "escape.h"

Test(escape, printable_ascii_is_kept)
{
	char   buf[64];
	size_t n;

	n = escape_value(buf, sizeof(buf), "alice@example.org+x-y_z!#$&'()");
	cr_assert_str_eq(buf, "alice@example.org+x-y_z!#$&'()");
	cr_assert_eq(n, strlen(buf));
}

Test(escape, line_breaks_and_separators_are_encoded)
{
	char buf[64];

	escape_value(buf, sizeof(buf), "a\nb=c d\r\"e\\f%g");
	cr_assert_str_eq(buf, "a%0Ab%3Dc%20d%0D%22e%5Cf%25g");
}

Test(escape, control_del_and_eight_bit_bytes_are_encoded)
{
	char buf[64];

	escape_value(buf, sizeof(buf), "\x1b[31m\x7f\xc3\xa9\t");
	cr_assert_str_eq(buf, "%1B[31m%7F%C3%A9%09");
}

Test(escape, each_byte_is_kept_exactly_when_the_rule_says_so)
{
	char src[2], buf[8];
	int  c, keep;

	for (c = 1; c < 256; c++) {
		src[0] = (char) c;
		src[1] = '\0';
		keep = c >= 0x21 && c <= 0x7e && c != '%' && c != '"' &&
		    c != '\\' && c != '=';
		escape_value(buf, sizeof(buf), src);
		if (keep)
			cr_assert_eq((unsigned char) buf[0], c, "0x%02x", c);
		else
			cr_assert_eq(buf[0], '%', "0x%02x", c);
		cr_assert_eq(strlen(buf), keep ? 1u : 3u, "0x%02x", c);
	}
}

Test(escape, every_byte_encodes_to_safe_characters_and_decodes_back)
{
	char   src[256], enc[3 * 256 + 1], dec[256];
	size_t i, n;

	for (i = 0; i < 255; i++)
		src[i] = (char) (i + 1);
	src[255] = '\0';
	n = escape_value(enc, sizeof(enc), src);
	cr_assert_eq(n, strlen(enc));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char) enc[i];

		cr_assert(c >= 0x21 && c <= 0x7e, "byte %zu is 0x%02x", i, c);
		cr_assert(c != '"' && c != '\\' && c != '=', "byte %zu", i);
	}
	cr_assert_eq(unescape_value(dec, sizeof(dec), enc), 255);
	cr_assert_eq(memcmp(dec, src, 256), 0);
}

Test(escape, returns_needed_length_like_snprintf)
{
	char buf[4];

	cr_assert_eq(escape_value(NULL, 0, "a b"), 5);
	cr_assert_eq(escape_value(buf, sizeof(buf), "abcdef"), 6);
	cr_assert_str_eq(buf, "abc");
}

Test(escape, truncation_never_splits_an_escape)
{
	char   buf[6];
	size_t n;

	/* "ab%20cd" needs 7; only "ab" fits before the escape */
	n = escape_value(buf, 5, "ab cd");
	cr_assert_eq(n, 7);
	cr_assert_str_eq(buf, "ab");
	n = escape_value(buf, 6, "ab cd");
	cr_assert_str_eq(buf, "ab%20");
	/* a later short piece is not written after a dropped escape */
	n = escape_value(buf, 4, "a bc");
	cr_assert_eq(n, 6);
	cr_assert_str_eq(buf, "a");
}

Test(escape, one_byte_buffer_gets_empty_string)
{
	char buf[1] = { 'x' };

	cr_assert_eq(escape_value(buf, sizeof(buf), "abc"), 3);
	cr_assert_str_eq(buf, "");
}

Test(escape, empty_and_null_source_give_empty_string)
{
	char buf[8];

	cr_assert_eq(escape_value(buf, sizeof(buf), ""), 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(escape_value(buf, sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "");
}

Test(unescape, decodes_upper_and_lower_case_hex)
{
	char buf[32];

	cr_assert_eq(unescape_value(buf, sizeof(buf), "a%0ab%3D%3dc"), 6);
	cr_assert_str_eq(buf, "a\nb==c");
}

Test(unescape, refuses_malformed_escapes)
{
	static const char *bad[] = { "%", "a%", "%4", "a%4", "%G1", "%1G",
		"%%41", "% 41" };
	char               buf[32];
	size_t             i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(
		    unescape_value(buf, sizeof(buf), bad[i]), -1, "%s", bad[i]);
		cr_assert_str_eq(buf, "");
	}
}

Test(unescape, refuses_encoded_nul)
{
	char buf[32];

	cr_assert_eq(unescape_value(buf, sizeof(buf), "ab%00cd"), -1);
}

Test(unescape, refuses_result_that_does_not_fit)
{
	char buf[4];

	cr_assert_eq(unescape_value(buf, sizeof(buf), "abc"), 3);
	cr_assert_str_eq(buf, "abc");
	cr_assert_eq(unescape_value(buf, sizeof(buf), "abcd"), -1);
	cr_assert_eq(unescape_value(buf, sizeof(buf), "%41%42%43%44"), -1);
	cr_assert_eq(unescape_value(buf, 0, ""), -1);
}

Test(unescape, round_trips_pseudo_random_strings)
{
	uint32_t x = 2463534242u;
	char     src[128], enc[3 * 128 + 1], dec[128];
	int      round;
	size_t   i, n;

	for (round = 0; round < 1000; round++) {
		n = (size_t) (round % 127);
		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			src[i] = (char) (x % 255 + 1);
		}
		src[n] = '\0';
		cr_assert_lt(escape_value(enc, sizeof(enc), src), sizeof(enc));
		cr_assert_eq(unescape_value(dec, sizeof(dec), enc), (int) n);
		cr_assert_str_eq(dec, src);
	}
}
