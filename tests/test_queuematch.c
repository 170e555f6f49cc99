/*
 * test_queuematch.c - recorded queue IDs against the live queue
 */
#include <criterion/criterion.h>

#include "queuematch.h"

Test(queuematch, message_queued_during_the_transaction_matches)
{
	cr_assert_eq(queuematch(1000, "a@x", 1002, "a@x", 1), 1);
	cr_assert_eq(queuematch(1002, "a@x", 1002, "a@x", 1), 1);
}

Test(queuematch, reused_id_from_a_later_message_does_not_match)
{
	cr_assert_eq(queuematch(1002 + 86400, "a@x", 1002, "a@x", 1), 0);
	cr_assert_eq(queuematch(1002 + QUEUEMATCH_SLACK + 1, "a@x", 1002,
	    "a@x", 1), 0);
}

Test(queuematch, reused_id_from_an_earlier_message_does_not_match)
{
	cr_assert_eq(queuematch(1002 - QUEUEMATCH_MAX_TXN - 1, "a@x", 1002,
	    "a@x", 1), 0);
}

Test(queuematch, sender_compares_without_case)
{
	cr_assert_eq(queuematch(1000, "Alice@X.org", 1000, "alice@x.org", 1),
	    1);
	cr_assert_eq(queuematch(1000, "bob@x.org", 1000, "alice@x.org", 1), 0);
}

Test(queuematch, sender_test_can_be_turned_off)
{
	cr_assert_eq(queuematch(1000, "rewritten@x.org", 1000, "alice@x.org",
	    0), 1);
}
