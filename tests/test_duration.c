/*
 * test_duration.c - duration_format
 */
#include <criterion/criterion.h>

#include "duration.h"

static const char *
fmt(uint32_t s, char *buf, size_t len)
{
	duration_format(s, buf, len);
	return buf;
}

Test(duration, whole_hours_print_as_hours)
{
	char b[32];

	cr_assert_str_eq(fmt(3600, b, sizeof(b)), "1h");
	cr_assert_str_eq(fmt(7200, b, sizeof(b)), "2h");
}

Test(duration, mixed_units_fall_back_to_the_largest_exact_unit)
{
	char b[32];

	cr_assert_str_eq(fmt(5400, b, sizeof(b)), "90m");
	cr_assert_str_eq(fmt(90, b, sizeof(b)), "90s");
	cr_assert_str_eq(fmt(86400, b, sizeof(b)), "1d");
	cr_assert_str_eq(fmt(604800, b, sizeof(b)), "1w");
}

Test(duration, zero_is_zero_seconds)
{
	char b[32];

	cr_assert_str_eq(fmt(0, b, sizeof(b)), "0s");
}

Test(duration, short_buffer_reports_needed_length)
{
	char b[3];

	cr_assert_eq(duration_format(86399, b, sizeof(b)), 6);
	cr_assert_str_eq(b, "86");
}
