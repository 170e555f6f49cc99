/*
 * test_clusterproto.c - key names, script arguments, reply decoding, flag
 * records and queue replies of cluster mode
 *
 * The script itself runs in Redis and is exercised by
 * tests/integration_cluster.sh; here the C halves around it are checked:
 * that the arguments carry the limits and the per-message checks in the
 * order of policy_eom(), and that a reply turns into the same decision as
 * local mode would take with the same usage.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "clusterproto.h"

static struct limits
limits_of(uint32_t msgs, uint32_t rcpts, uint32_t rpm, uint32_t nets)
{
	struct limits l;

	memset(&l, 0, sizeof(l));
	l.messages.max = msgs;
	l.messages.window = 3600;
	l.recipients.max = rcpts;
	l.recipients.window = 7200;
	l.recipients_per_message = rpm;
	l.client_addresses.max = nets;
	l.client_addresses.window = 86400;
	l.sender_mismatch = 1;
	return l;
}

/* arg - ARGV[i] (1-based, as the script sees it) of a */
static const char *
arg(const struct cluster_eom_args *a, int i)
{
	return a->argv[2 + 1 + CLUSTER_EOM_KEYS + i - 1];
}

Test(clusterproto, user_keys_share_one_hash_tag)
{
	struct cluster_keys k;

	cr_assert_eq(clusterproto_keys(&k, "sg:", "alice@example.org"), 0);
	cr_assert_str_eq(k.flags, "sg:flags");
	cr_assert_str_eq(k.msgs, "sg:m:{alice@example.org}");
	cr_assert_str_eq(k.rcpts, "sg:r:{alice@example.org}");
	cr_assert_str_eq(k.nets, "sg:n:{alice@example.org}");
}

Test(clusterproto, key_that_does_not_fit_is_refused)
{
	char buf[16];

	cr_assert_eq(clusterproto_key(buf, sizeof(buf),
			 "saslguard:", "m:", "alice@example.org"),
	    -1);
	cr_assert_eq(
	    clusterproto_key(buf, sizeof(buf), "p:", "flags", NULL), 0);
	cr_assert_str_eq(buf, "p:flags");
}

Test(clusterproto, ttl_covers_longest_window_and_one_slot)
{
	struct limits l = limits_of(10, 100, 0, 3);

	/* recipients: 7200 s in slots of ceil(7200 / 7) = 1029 s */
	l.client_addresses.window = 600;
	cr_assert_eq(clusterproto_ttl(&l), 7200 + 1029 + 1);
	l.client_addresses.window = 100000;
	cr_assert_eq(clusterproto_ttl(&l), 100001);
}

Test(clusterproto, eom_args_carry_keys_limits_and_facts)
{
	struct limits           l = limits_of(12, 300, 50, 4);
	struct policy_facts     f = { 3, 1 };
	struct cluster_eom_args a;
	uint64_t                net = 0xc0000201ULL;
	char                    err[128];

	cr_assert_eq(clusterproto_eom_args(&a, "sg:", "bob@example.org", &l,
			 MODE_ENFORCE, &f, &net, "sg:chan:flags",
			 "source=policy", err, sizeof(err)),
	    0);
	cr_assert_eq(a.argc, 3 + CLUSTER_EOM_KEYS + CLUSTER_EOM_ARGS);
	cr_assert_str_eq(a.argv[2], "4");
	cr_assert_str_eq(a.argv[3], "sg:flags");
	cr_assert_str_eq(a.argv[4], "sg:m:{bob@example.org}");
	cr_assert_str_eq(arg(&a, 1), "bob@example.org");
	cr_assert_str_eq(arg(&a, 2), "12");
	cr_assert_str_eq(arg(&a, 3), "3600");
	cr_assert_str_eq(arg(&a, 4), "300");
	cr_assert_str_eq(arg(&a, 5), "7200");
	cr_assert_str_eq(arg(&a, 6), "4");
	cr_assert_str_eq(arg(&a, 7), "86400");
	cr_assert_str_eq(arg(&a, 8), "3");
	cr_assert_str_eq(arg(&a, 9), "00000000c0000201");
	cr_assert_str_eq(arg(&a, 10), "0");
	cr_assert_str_eq(arg(&a, 11), "");
	cr_assert_str_eq(arg(&a, 15), "sg:chan:flags");
	cr_assert_str_eq(arg(&a, 16), "source=policy");
	cr_assert_eq(a.argvlen[3], strlen("sg:flags"));
}

Test(clusterproto, unknown_network_is_an_empty_argument)
{
	struct limits           l = limits_of(12, 300, 50, 4);
	struct policy_facts     f = { 1, 1 };
	struct cluster_eom_args a;
	char                    err[128];

	cr_assert_eq(clusterproto_eom_args(&a, "sg:", "bob@x", &l, MODE_MONITOR,
			 &f, NULL, "c", "", err, sizeof(err)),
	    0);
	cr_assert_str_eq(arg(&a, 9), "");
	cr_assert_str_eq(arg(&a, 10), "1");
}

Test(clusterproto, recipients_per_message_is_checked_before_sender)
{
	struct limits           l = limits_of(12, 300, 5, 4);
	struct policy_facts     f = { 6, 0 };
	struct cluster_eom_args a;
	char                    err[128];

	cr_assert_eq(clusterproto_eom_args(&a, "sg:", "bob@x", &l, MODE_ENFORCE,
			 &f, NULL, "c", "", err, sizeof(err)),
	    0);
	cr_assert_str_eq(arg(&a, 11), "recipients_per_message");
	cr_assert_str_eq(arg(&a, 12), "6");
	cr_assert_str_eq(arg(&a, 13), "5");
}

Test(clusterproto, foreign_sender_is_passed_as_broken_limit)
{
	struct limits           l = limits_of(12, 300, 5, 4);
	struct policy_facts     f = { 1, 0 };
	struct cluster_eom_args a;
	char                    err[128];

	cr_assert_eq(clusterproto_eom_args(&a, "sg:", "bob@x", &l, MODE_ENFORCE,
			 &f, NULL, "c", "", err, sizeof(err)),
	    0);
	cr_assert_str_eq(arg(&a, 11), "sender_mismatch");
	l.sender_mismatch = 0;
	cr_assert_eq(clusterproto_eom_args(&a, "sg:", "bob@x", &l, MODE_ENFORCE,
			 &f, NULL, "c", "", err, sizeof(err)),
	    0);
	cr_assert_str_eq(arg(&a, 11), "");
}

Test(clusterproto, overlong_user_is_refused_with_error)
{
	struct limits           l = limits_of(12, 300, 5, 4);
	struct policy_facts     f = { 1, 1 };
	struct cluster_eom_args a;
	char                    user[600], err[128] = "";

	memset(user, 'a', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	cr_assert_eq(clusterproto_eom_args(&a, "sg:", user, &l, MODE_ENFORCE,
			 &f, NULL, "c", "", err, sizeof(err)),
	    -1);
	cr_assert_neq(err[0], '\0');
}

Test(clusterproto, reply_under_limit_passes_and_was_counted)
{
	struct limits       l = limits_of(12, 300, 0, 4);
	struct policy_facts f = { 1, 1 };
	long long v[CLUSTER_EOM_REPLY] = { 0, 11, 11, 1, 1, 0, 1700000000 };
	struct policy_usage       u;
	struct cluster_eom_result r;
	struct policy_decision    d;
	char                      err[128];

	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_ENFORCE, &f, &u, &r, &d, err, sizeof(err)),
	    0);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(u.messages, 11);
	cr_assert_eq(r.committed, 1);
	cr_assert_eq(r.now, 1700000000);
	cr_assert_eq(r.agree, 1);
}

Test(clusterproto, reply_at_limit_holds_with_local_reason)
{
	struct limits       l = limits_of(12, 300, 0, 4);
	struct policy_facts f = { 1, 1 };
	long long v[CLUSTER_EOM_REPLY] = { 0, 12, 12, 1, 0, 1, 1700000000 };
	struct policy_usage       u;
	struct cluster_eom_result r;
	struct policy_decision    d;
	char                      err[128];

	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_ENFORCE, &f, &u, &r, &d, err, sizeof(err)),
	    0);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_MESSAGES);
	cr_assert_eq(d.count, 13);
	cr_assert_eq(d.max, 12);
	cr_assert_eq(d.window, 3600);
	cr_assert_eq(d.flag, 1);
	cr_assert_eq(r.latched, 1);
	cr_assert_eq(r.agree, 1);
}

Test(clusterproto, flagged_reply_holds_without_new_flag)
{
	struct limits       l = limits_of(12, 300, 0, 4);
	struct policy_facts f = { 1, 1 };
	long long v[CLUSTER_EOM_REPLY] = { 1, 0, 0, 1, 0, 0, 1700000000 };
	struct policy_usage       u;
	struct cluster_eom_result r;
	struct policy_decision    d;
	char                      err[128];

	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_ENFORCE, &f, &u, &r, &d, err, sizeof(err)),
	    0);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(d.limit, LIMIT_FLAGGED);
	cr_assert_eq(d.flag, 0);
	cr_assert_eq(r.agree, 1);
}

Test(clusterproto, script_that_counted_a_held_message_disagrees)
{
	struct limits       l = limits_of(12, 300, 0, 4);
	struct policy_facts f = { 1, 1 };
	long long v[CLUSTER_EOM_REPLY] = { 0, 12, 0, 1, 1, 0, 1700000000 };
	struct policy_usage       u;
	struct cluster_eom_result r;
	struct policy_decision    d;
	char                      err[128];

	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_ENFORCE, &f, &u, &r, &d, err, sizeof(err)),
	    0);
	cr_assert_eq(d.action, ACTION_HOLD);
	cr_assert_eq(r.agree, 0);
}

Test(clusterproto, monitor_reply_passes_and_says_what_it_would_do)
{
	struct limits       l = limits_of(12, 300, 0, 4);
	struct policy_facts f = { 1, 1 };
	long long v[CLUSTER_EOM_REPLY] = { 0, 20, 20, 1, 1, 0, 1700000000 };
	struct policy_usage       u;
	struct cluster_eom_result r;
	struct policy_decision    d;
	char                      err[128];

	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_MONITOR, &f, &u, &r, &d, err, sizeof(err)),
	    0);
	cr_assert_eq(d.action, ACTION_PASS);
	cr_assert_eq(d.monitor, 1);
	cr_assert_eq(d.limit, LIMIT_MESSAGES);
	cr_assert_eq(r.agree, 1);
}

Test(clusterproto, reply_of_wrong_shape_is_refused)
{
	struct limits       l = limits_of(12, 300, 0, 4);
	struct policy_facts f = { 1, 1 };
	long long           v[CLUSTER_EOM_REPLY] = { 0, 1, 1, 1, 2, 0, 1 };
	struct policy_usage u;
	struct cluster_eom_result r;
	struct policy_decision    d;
	char                      err[128];

	cr_assert_eq(clusterproto_eom_decide(v, 5, &l, MODE_ENFORCE, &f, &u, &r,
			 &d, err, sizeof(err)),
	    -1);
	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_ENFORCE, &f, &u, &r, &d, err, sizeof(err)),
	    -1);
	v[4] = 1;
	v[1] = -1;
	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_ENFORCE, &f, &u, &r, &d, err, sizeof(err)),
	    -1);
}

Test(clusterproto, huge_counts_saturate)
{
	struct limits       l = limits_of(0, 0, 0, 0);
	struct policy_facts f = { 1, 1 };
	long long v[CLUSTER_EOM_REPLY] = { 0, 5000000000LL, 1, 1, 1, 0, 1 };
	struct policy_usage       u;
	struct cluster_eom_result r;
	struct policy_decision    d;
	char                      err[128];

	cr_assert_eq(clusterproto_eom_decide(v, CLUSTER_EOM_REPLY, &l,
			 MODE_ENFORCE, &f, &u, &r, &d, err, sizeof(err)),
	    0);
	cr_assert_eq(u.messages, UINT32_MAX);
}

Test(clusterproto, flag_record_round_trips_with_escaped_values)
{
	struct cluster_flag f, g;
	char                buf[CLUSTER_RECORD_MAX], err[128];

	memset(&f, 0, sizeof(f));
	f.at = 1700000123;
	f.limit = LIMIT_RECIPIENTS;
	f.count = 301;
	f.max = 300;
	f.window = 3600;
	snprintf(f.source, sizeof(f.source), "policy");
	snprintf(f.server, sizeof(f.server), "mx1");
	snprintf(f.client, sizeof(f.client), "2001:db8::1");
	snprintf(f.queue_id, sizeof(f.queue_id), "4Xk2Lm0ZzQz9vK");
	snprintf(f.reason, sizeof(f.reason), "spam run = bad %%");
	cr_assert_gt(clusterproto_flag_format(buf, sizeof(buf), &f), 0);
	cr_assert_null(strstr(buf, "spam run"));
	cr_assert_eq(clusterproto_flag_parse(buf, &g, err, sizeof(err)), 0);
	cr_assert_eq(g.at, f.at);
	cr_assert_eq(g.limit, LIMIT_RECIPIENTS);
	cr_assert_eq(g.count, 301);
	cr_assert_eq(g.max, 300);
	cr_assert_eq(g.window, 3600);
	cr_assert_str_eq(g.server, "mx1");
	cr_assert_str_eq(g.client, "2001:db8::1");
	cr_assert_str_eq(g.reason, "spam run = bad %");
}

Test(clusterproto, record_written_by_script_parses)
{
	struct cluster_flag g;
	char                tail[512], rec[1024], err[128];

	/* the script writes the numbers, then the tail the daemon passed */
	cr_assert_eq(clusterproto_tail(tail, sizeof(tail), "policy", "mx2",
			 "192.0.2.7", "ABC123", NULL),
	    0);
	snprintf(rec, sizeof(rec),
	    "at=1700000000 limit=messages count=13 max=12 window=3600 %s",
	    tail);
	cr_assert_eq(clusterproto_flag_parse(rec, &g, err, sizeof(err)), 0);
	cr_assert_eq(g.limit, LIMIT_MESSAGES);
	cr_assert_eq(g.count, 13);
	cr_assert_str_eq(g.source, "policy");
	cr_assert_str_eq(g.queue_id, "ABC123");
	cr_assert_str_eq(g.reason, "");
}

Test(clusterproto, flag_record_without_time_is_refused)
{
	struct cluster_flag g;
	char                err[128];

	cr_assert_eq(clusterproto_flag_parse(
			 "limit=messages count=1", &g, err, sizeof(err)),
	    -1);
	cr_assert_eq(clusterproto_flag_parse(
			 "at=12x limit=messages", &g, err, sizeof(err)),
	    -1);
	cr_assert_eq(clusterproto_flag_parse(
			 "at=1 limit=messages count=%ZZ", &g, err, sizeof(err)),
	    -1);
}

Test(clusterproto, unknown_limit_name_reads_as_operator)
{
	struct cluster_flag g;
	char                err[128];

	cr_assert_eq(clusterproto_flag_parse("at=5 limit=future_thing extra=1",
			 &g, err, sizeof(err)),
	    0);
	cr_assert_eq(g.limit, LIMIT_OPERATOR);
	cr_assert_eq(g.at, 5);
}

Test(clusterproto, kv_get_matches_whole_keys_only)
{
	char out[64];

	cr_assert_eq(clusterproto_kv_get("type=flag user=a%20b users=x", "user",
			 out, sizeof(out)),
	    1);
	cr_assert_str_eq(out, "a b");
	cr_assert_eq(
	    clusterproto_kv_get("type=flag", "typ", out, sizeof(out)), 0);
	cr_assert_eq(clusterproto_kv_get("a=1 b=", "b", out, sizeof(out)), 1);
	cr_assert_str_eq(out, "");
}

Test(clusterproto, queue_result_round_trips)
{
	struct cluster_result r, s;
	char                  buf[1024], err[128];

	memset(&r, 0, sizeof(r));
	snprintf(r.server, sizeof(r.server), "mx-2");
	r.done = 3;
	r.hold = 2;
	r.deferred = 1;
	snprintf(r.error, sizeof(r.error), "postsuper: exit 1");
	cr_assert_gt(clusterproto_result_format(buf, sizeof(buf), &r), 0);
	cr_assert_eq(clusterproto_result_parse(buf, &s, err, sizeof(err)), 0);
	cr_assert_str_eq(s.server, "mx-2");
	cr_assert_eq(s.done, 3);
	cr_assert_eq(s.hold, 2);
	cr_assert_eq(s.deferred, 1);
	cr_assert_eq(s.incoming, 0);
	cr_assert_str_eq(s.error, "postsuper: exit 1");
}

Test(clusterproto, queue_result_without_server_is_refused)
{
	struct cluster_result s;
	char                  err[128];

	cr_assert_eq(
	    clusterproto_result_parse("done=1 hold=1", &s, err, sizeof(err)),
	    -1);
	cr_assert_eq(
	    clusterproto_result_parse("server=a done=-1", &s, err, sizeof(err)),
	    -1);
}

Test(clusterproto, op_names_round_trip)
{
	enum cluster_queue_op op;

	cr_assert_eq(clusterproto_op_parse("release", &op), 0);
	cr_assert_eq(op, CLUSTER_OP_RELEASE);
	cr_assert_str_eq(clusterproto_op_name(op), "release");
	cr_assert_eq(clusterproto_op_parse("delete", &op), 0);
	cr_assert_str_eq(clusterproto_op_name(op), "delete");
	cr_assert_eq(clusterproto_op_parse("purge", &op), -1);
}

Test(clusterproto, script_names_the_limits_as_policy_does)
{
	cr_assert_not_null(
	    strstr(clusterproto_eom_script, policy_limit_name(LIMIT_MESSAGES)));
	cr_assert_not_null(strstr(
	    clusterproto_eom_script, policy_limit_name(LIMIT_RECIPIENTS)));
	cr_assert_not_null(strstr(clusterproto_eom_script,
	    policy_limit_name(LIMIT_CLIENT_ADDRESSES)));
	cr_assert_not_null(
	    strstr(clusterproto_eom_script, policy_limit_name(LIMIT_FLAGGED)));
}
