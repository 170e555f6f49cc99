/*
 * test_linebuf.c - tests for common/linebuf.c
 */
#include <string.h>

#include <criterion/criterion.h>

#include "linebuf.h"

Test(linebuf, pieces_make_the_line)
{
	char           b[128];
	struct linebuf lb;

	lb_init(&lb, b, sizeof(b));
	lb_str(&lb, "Q1: pass: user=");
	lb_esc(&lb, "alice@example.org");
	lb_str(&lb, " sender=<");
	lb_esc(&lb, "a b=c%");
	lb_str(&lb, "> rcpts=");
	lb_u32(&lb, 0);
	lb_str(&lb, " max=");
	lb_u32(&lb, 4294967295u);
	lb_esc(&lb, NULL);
	cr_assert_str_eq(b, "Q1: pass: user=alice@example.org "
			    "sender=<a%20b%3Dc%25> rcpts=0 max=4294967295");
	cr_assert_eq(lb.len, strlen(b));
	cr_assert_eq(lb.cut, 0);
}

Test(linebuf, a_line_that_does_not_fit_is_cut_and_stays_cut)
{
	char           b[8];
	struct linebuf lb;

	lb_init(&lb, b, sizeof(b));
	lb_str(&lb, "abcdefghij");
	cr_assert_str_eq(b, "abcdefg");
	cr_assert_eq(lb.cut, 1);
	lb_str(&lb, "x");
	lb_u32(&lb, 7);
	cr_assert_str_eq(b, "abcdefg");
}

Test(linebuf, an_escape_is_never_cut_in_half)
{
	char           b[8];
	struct linebuf lb;

	lb_init(&lb, b, sizeof(b));
	lb_str(&lb, "ab");
	lb_esc(&lb, "cd\n\n"); /* "cd%0A%0A": room for "cd%0A" only */
	cr_assert_str_eq(b, "abcd%0A");
	cr_assert_eq(lb.len, 7);
	cr_assert_eq(lb.cut, 1);
	lb_init(&lb, b, sizeof(b));
	lb_str(&lb, "abcde");
	lb_esc(&lb, "\n"); /* "%0A" would need 3 of the 2 left */
	cr_assert_str_eq(b, "abcde");
	cr_assert_eq(lb.cut, 1);
}

Test(linebuf, a_number_is_whole_or_absent)
{
	char           b[6];
	struct linebuf lb;

	lb_init(&lb, b, sizeof(b));
	lb_str(&lb, "n=");
	lb_u32(&lb, 12345);
	cr_assert_str_eq(b, "n=");
	cr_assert_eq(lb.cut, 1);
	lb_init(&lb, b, sizeof(b));
	lb_str(&lb, "n=");
	lb_u32(&lb, 123);
	cr_assert_str_eq(b, "n=123");
	cr_assert_eq(lb.cut, 0);
}
