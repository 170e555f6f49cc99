/*
 * test_addr.c - tests for common/addr.c
 */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>

#include "addr.h"

/* canon_ok - canonicalise in, asserting success, into out */
static void
canon_ok(const char *in, const char *delims, const char *want)
{
	char out[ADDR_MAX + 1];

	cr_assert_eq(
	    addr_canon(in, delims, out, sizeof(out)), 0, "refused %s", in);
	cr_assert_str_eq(out, want, "%s", in);
}

/* canon_bad - assert that in is refused */
static void
canon_bad(const char *in)
{
	char out[ADDR_MAX + 1];

	cr_assert_eq(
	    addr_canon(in, "+", out, sizeof(out)), -1, "accepted %s", in);
}

Test(addr_canon, strips_brackets_and_lower_cases)
{
	canon_ok("<Alice@Example.ORG>", NULL, "alice@example.org");
	canon_ok("BOB@EXAMPLE.ORG", NULL, "bob@example.org");
}

Test(addr_canon, removes_tag_with_delimiter)
{
	canon_ok("<Alice+News@Example.ORG>", "+", "alice@example.org");
	canon_ok("alice+a+b@example.org", "+", "alice@example.org");
	canon_ok("alice-list@example.org", "+-", "alice@example.org");
	canon_ok("alice+@example.org", "+", "alice@example.org");
}

Test(addr_canon, keeps_tag_without_delimiters)
{
	canon_ok("<Alice+News@Example.ORG>", NULL, "alice+news@example.org");
	canon_ok("<Alice+News@Example.ORG>", "", "alice+news@example.org");
	canon_ok("alice-list@example.org", "+", "alice-list@example.org");
}

Test(addr_canon, tag_never_removes_whole_local_part)
{
	canon_ok("+x@d.example", "+", "+x@d.example");
	canon_ok("+x+y@d.example", "+", "+x@d.example");
	canon_ok("x@d.example", "+", "x@d.example");
}

Test(addr_canon, delimiter_in_domain_is_kept)
{
	canon_ok("alice@mail-1.example.org", "+-", "alice@mail-1.example.org");
	canon_ok("a@b@c+d.example", "+", "a@b@c+d.example");
}

Test(addr_canon, bare_login_keeps_form_and_loses_tag)
{
	canon_ok("Alice", "+", "alice");
	canon_ok("Alice+x", "+", "alice");
}

Test(addr_canon, null_sender_is_empty)
{
	canon_ok("<>", "+", "");
	canon_ok("", "+", "");
}

Test(addr_canon, utf8_is_accepted_and_not_folded)
{
	canon_ok("<J\xc3\x96rg@B\xc3\xbc"
		 "cher.Example>",
	    NULL,
	    "j\xc3\x96rg@b\xc3\xbc"
	    "cher.example");
	canon_ok("\xe2\x82\xac@x.example", NULL, "\xe2\x82\xac@x.example");
	canon_ok(
	    "\xf0\x9f\x93\xa7@x.example", NULL, "\xf0\x9f\x93\xa7@x.example");
}

Test(addr_canon, refuses_control_characters_and_space)
{
	canon_bad("alice\n@example.org");
	canon_bad("alice@example.org\r");
	canon_bad("\x1b[2Jalice@example.org");
	canon_bad("alice\x7f@example.org");
	canon_bad("alice @example.org");
	canon_bad(" <alice@example.org>");
	canon_bad("alice\t@example.org");
}

Test(addr_canon, refuses_bytes_outside_utf8)
{
	canon_bad("j\xf6rg@example.org");          /* Latin-1 */
	canon_bad("\xc3@example.org");             /* truncated */
	canon_bad("x\xc3");                        /* truncated at the end */
	canon_bad("<x\xc3>");                      /* truncated before '>' */
	canon_bad("\xc0\xaf@example.org");         /* overlong '/' */
	canon_bad("\xe0\x80\xaf@example.org");     /* overlong */
	canon_bad("\xed\xa0\x80@example.org");     /* surrogate */
	canon_bad("\xf4\x90\x80\x80@example.org"); /* above U+10FFFF */
	canon_bad("\xf8\x88\x80\x80\x80@example.org"); /* 5-byte form */
	canon_bad("\x80@example.org");                 /* lone continuation */
}

Test(addr_canon, refuses_unbalanced_or_nested_brackets)
{
	canon_bad("<alice@example.org");
	canon_bad("alice@example.org>");
	canon_bad("<");
	canon_bad(">");
	canon_bad("<<alice@example.org>>");
	canon_bad("<a<b@example.org>");
}

Test(addr_canon, accepts_max_length_and_refuses_longer)
{
	char in[ADDR_MAX + 4], out[ADDR_MAX + 1];

	memset(in, 'a', ADDR_MAX);
	in[ADDR_MAX] = '\0';
	cr_assert_eq(addr_canon(in, NULL, out, sizeof(out)), 0);
	cr_assert_eq(strlen(out), ADDR_MAX);

	in[0] = '<';
	memset(in + 1, 'a', ADDR_MAX);
	in[ADDR_MAX + 1] = '>';
	in[ADDR_MAX + 2] = '\0';
	cr_assert_eq(addr_canon(in, NULL, out, sizeof(out)), 0);

	memset(in, 'a', ADDR_MAX + 1);
	in[ADDR_MAX + 1] = '\0';
	cr_assert_eq(addr_canon(in, NULL, out, sizeof(out)), -1);
	cr_assert_str_eq(out, "");
}

Test(addr_canon, refuses_result_longer_than_out_buffer)
{
	char out[8];

	cr_assert_eq(addr_canon("a@b.example", NULL, out, sizeof(out)), -1);
	cr_assert_eq(addr_canon("a@b.ex", NULL, out, sizeof(out)), 0);
	cr_assert_eq(addr_canon("a@b", NULL, out, 0), -1);
	cr_assert_eq(addr_canon(NULL, NULL, out, sizeof(out)), -1);
}

Test(addr_domain, returns_part_after_last_at)
{
	cr_assert_str_eq(addr_domain("alice@example.org"), "example.org");
	cr_assert_str_eq(addr_domain("a@b@c.example"), "c.example");
	cr_assert_str_eq(addr_domain("alice@"), "");
	cr_assert_null(addr_domain("alice"));
	cr_assert_null(addr_domain(""));
}

Test(addr_sender_belongs, sender_equal_to_login_belongs)
{
	cr_assert_eq(addr_sender_belongs(
			 "alice@example.org", "alice@example.org", NULL, 0),
	    1);
	cr_assert_eq(addr_sender_belongs(
			 "bob@example.org", "alice@example.org", NULL, 0),
	    0);
}

Test(addr_sender_belongs, other_domain_does_not_belong_to_full_login)
{
	cr_assert_eq(addr_sender_belongs(
			 "alice@other.example", "alice@example.org", NULL, 0),
	    0);
}

Test(addr_sender_belongs, bare_login_owns_its_local_part)
{
	cr_assert_eq(
	    addr_sender_belongs("alice@example.org", "alice", NULL, 0), 1);
	cr_assert_eq(addr_sender_belongs("alice", "alice", NULL, 0), 1);
	cr_assert_eq(
	    addr_sender_belongs("alicex@example.org", "alice", NULL, 0), 0);
	cr_assert_eq(
	    addr_sender_belongs("alic@example.org", "alice", NULL, 0), 0);
	cr_assert_eq(
	    addr_sender_belongs("bob@example.org", "alice", NULL, 0), 0);
	cr_assert_eq(addr_sender_belongs("@example.org", "", NULL, 0), 0);
}

Test(addr_sender_belongs, allowed_address_and_domain_entries_match)
{
	char *allowed[] = { "info@example.org", "@example.net", "", NULL };

	cr_assert_eq(addr_sender_belongs(
			 "info@example.org", "alice@example.org", allowed, 4),
	    1);
	cr_assert_eq(addr_sender_belongs(
			 "anyone@example.net", "alice@example.org", allowed, 4),
	    1);
	cr_assert_eq(addr_sender_belongs(
			 "sales@example.org", "alice@example.org", allowed, 4),
	    0);
	cr_assert_eq(addr_sender_belongs(
			 "x@sub.example.net", "alice@example.org", allowed, 4),
	    0);
	cr_assert_eq(
	    addr_sender_belongs("example.net", "alice@example.org", allowed, 4),
	    0);
	/* entries past nallowed are not looked at */
	cr_assert_eq(addr_sender_belongs(
			 "anyone@example.net", "alice@example.org", allowed, 1),
	    0);
}

Test(addr_sender_belongs, null_sender_belongs_to_nobody)
{
	char *allowed[] = { "@example.org", "" };

	cr_assert_eq(
	    addr_sender_belongs("", "alice@example.org", allowed, 2), 0);
	cr_assert_eq(addr_sender_belongs("", "", NULL, 0), 0);
}

Test(addr_valid_user, accepts_printable_and_utf8_names)
{
	cr_assert_eq(addr_valid_user("alice@example.org"), 1);
	cr_assert_eq(addr_valid_user("alice"), 1);
	cr_assert_eq(addr_valid_user("j\xc3\xb6rg"), 1);
}

Test(addr_valid_user, refuses_empty_space_control_and_bad_utf8)
{
	cr_assert_eq(addr_valid_user(""), 0);
	cr_assert_eq(addr_valid_user(NULL), 0);
	cr_assert_eq(addr_valid_user("alice bob"), 0);
	cr_assert_eq(addr_valid_user("alice\n"), 0);
	cr_assert_eq(addr_valid_user("alice\x7f"), 0);
	cr_assert_eq(addr_valid_user("j\xf6rg"), 0);
	cr_assert_eq(addr_valid_user("x\xc3"), 0);
}

Test(addr_valid_user, refuses_names_longer_than_addr_max)
{
	char s[ADDR_MAX + 2];

	memset(s, 'a', ADDR_MAX);
	s[ADDR_MAX] = '\0';
	cr_assert_eq(addr_valid_user(s), 1);
	s[ADDR_MAX] = 'a';
	s[ADDR_MAX + 1] = '\0';
	cr_assert_eq(addr_valid_user(s), 0);
}
