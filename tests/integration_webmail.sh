#!/bin/bash
# integration_webmail.sh - a webmail host's originating-address header
#
# A webmail front end relays every user from one address (here 127.0.0.1,
# the bed's own).  With webmail = { hosts; header; } saslguard takes the
# user's real address from that header, so the distinct-networks signal
# works for webmail users too; the header is trusted from the webmail
# hosts only.  Shows:
#   - three messages naming three /24s through the webmail host: the third
#     breaks client_addresses max 2 and is held, logged with the user's
#     address from the header
#   - the same header sent from another client (XCLIENT) is ignored
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here,
# 99 the bed broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

bed_require
bed_init
for u in web1 web2; do
	bed_add_user "$u" "pw-$u" || bed_die "cannot add user $u"
done
bed_start_sink || bed_die "sink did not start"
bed_start_saslguard 'webmail = { hosts = [ "127.0.0.1" ]; header = "X-Originating-IP"; };
limits = {
	messages = { max = 50; window = "1h"; };
	client_addresses = { max = 2; window = "1h"; };
};' || bed_die "saslguard did not start"
bed_start_postfix || bed_die "postfix did not start"

# webmail USER ORIGIN RCPT - one message through the webmail host
webmail()
{
	swaks --server "127.0.0.1:$BED_SUBMISSION_PORT" --helo webmail.test \
	    --auth LOGIN --auth-user "$1@example.test" --auth-password "pw-$1" \
	    --from "$1@example.test" --to "$3" \
	    --add-header "X-Originating-IP: [$2]" --timeout 20 --silent 2 \
	    >/dev/null || bed_log "send failed"
}

webmail web1 198.51.100.7 a@ext.test
webmail web1 198.51.100.99 b@ext.test	# same /24: one network
webmail web1 203.0.113.5 c@ext.test
bed_wait_queue_settled 20
bed_assert_eq "two networks through the webmail host: nothing held" 0 \
    "$(bed_queue_count hold)"
bed_assert "the user's own address is logged, not the webmail host's" \
    bed_sg_grep 'pass: user=web1@example.test .*client=198.51.100.7( |$)'

webmail web1 192.0.2.44 d@ext.test
bed_wait_queue_settled 20
bed_eventually_eq "a third network through the webmail host is held" 1 10 \
    bed_queue_count hold
bed_assert "the hold names the limit and the user's address" bed_sg_grep \
    'hold: user=web1@example.test .*client=192.0.2.44 limit=client_addresses count=3 max=2'

# the header from any other client is not trusted
swaks --server "127.0.0.1:$BED_SUBMISSION_PORT" --helo other.test \
    --xclient-addr 198.18.0.9 --auth LOGIN --auth-user web2@example.test \
    --auth-password pw-web2 --from web2@example.test --to e@ext.test \
    --add-header "X-Originating-IP: [192.0.2.200]" --timeout 20 --silent 2 \
    >/dev/null || bed_log "send failed"
bed_wait_queue_settled 20
bed_assert "a header from a non-webmail client is ignored" bed_sg_grep \
    'pass: user=web2@example.test .*client=198.18.0.9( |$)'

bed_finish
