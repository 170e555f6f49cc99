/*
 * test_sha256.c - SHA-256 against the FIPS 180-4 / NIST test vectors
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* the digest of s, in one call */
static void
hex_of(const char *s, char out[SHA256_HEX])
{
	sha256_hex(s, strlen(s), out);
}

Test(sha256, abc_gives_the_fips_example_digest)
{
	char h[SHA256_HEX];

	hex_of("abc", h);
	cr_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223"
			    "b00361a396177a9cb410ff61f20015ad");
}

Test(sha256, empty_message_gives_the_known_digest)
{
	char h[SHA256_HEX];

	hex_of("", h);
	cr_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb924"
			    "27ae41e4649b934ca495991b7852b855");
}

Test(sha256, message_of_448_bits_pads_into_a_second_block)
{
	char h[SHA256_HEX];

	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", h);
	cr_assert_str_eq(h, "248d6a61d20638b8e5c026930c3e6039"
			    "a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, message_of_896_bits_gives_the_known_digest)
{
	char h[SHA256_HEX];

	hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	    h);
	cr_assert_str_eq(h, "cf5b16a778af8380036ce59e7b049237"
			    "0b249b11e8f07a51afac45037afee9d1");
}

Test(sha256, one_million_a_fed_in_uneven_pieces)
{
	struct sha256 c;
	uint8_t       d[SHA256_LEN];
	char          h[SHA256_HEX], *a;
	size_t        done = 0, step = 1;

	a = malloc(1000000);
	cr_assert_not_null(a);
	memset(a, 'a', 1000000);
	sha256_init(&c);
	/* pieces of 1, 2, 3, ... bytes cross every block boundary case */
	while (done < 1000000) {
		size_t n = step < 1000000 - done ? step : 1000000 - done;

		sha256_update(&c, a + done, n);
		done += n;
		step = step % 200 + 1;
	}
	sha256_final(&c, d);
	sha256_tohex(d, h);
	free(a);
	cr_assert_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67"
			    "f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, streaming_equals_one_shot_for_every_split_of_a_message)
{
	const char   *m = "The quick brown fox jumps over the lazy dog, "
			  "then over it again for a second block of input.";
	size_t        len = strlen(m), split;
	struct sha256 c;
	uint8_t       d[SHA256_LEN];
	char          one[SHA256_HEX], two[SHA256_HEX];

	sha256_hex(m, len, one);
	for (split = 0; split <= len; split++) {
		sha256_init(&c);
		sha256_update(&c, m, split);
		sha256_update(&c, m + split, len - split);
		sha256_final(&c, d);
		sha256_tohex(d, two);
		cr_assert_str_eq(two, one, "split at %zu", split);
	}
}

Test(sha256, lengths_around_the_padding_boundary_give_the_reference_digests)
{
	/* sha256 of n bytes 'x', from an independent implementation */
	static const struct {
		size_t      n;
		const char *hex;
	} v[] = {
		{ 55,
		    "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072" },
		{ 56,
		    "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e" },
		{ 63,
		    "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2" },
		{ 64,
		    "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c" },
		{ 65,
		    "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9" },
		{ 119,
		    "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c" },
		{ 120,
		    "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98" },
	};
	char   buf[128], h[SHA256_HEX];
	size_t i;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256_hex(buf, v[i].n, h);
		cr_assert_str_eq(h, v[i].hex, "n = %zu", v[i].n);
	}
}
