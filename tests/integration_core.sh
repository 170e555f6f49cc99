#!/bin/bash
# integration_core.sh - saslguard as the milter of a real Postfix
#
# One private Postfix on loopback (tests/lib/pfbed.sh) with SASL users,
# saslguard as its milter and smtp-sink as the outside world.  Shows, by
# counting what reached the sink, the hold queue, the maillog, saslguard's
# decision lines and its state db:
#   - normal mail of several users is delivered, none held
#   - a burst is held from the message that crosses the limit on, every
#     later message of the account is held too, and the account is flagged
#   - recipients per message, recipients per window, client networks per
#     window and a forged sender each hold the message that breaks them
#   - a per-user exception raises the limits of one account
#   - unauthenticated inbound mail passes and is not counted
#   - the flag survives kill -9 and a restart
#   - monitor mode holds nothing and logs what it would have held
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here
# (not root, no Postfix; a failure when CI=true), 99 the bed broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

bed_require
bed_init

PW=secret
for u in alice bob carol mallory erin frank dave oscar news grace; do
	bed_add_user "$u" "$PW-$u" || bed_die "cannot add user $u"
done

LIMITS='
limits = {
	messages = { max = 5; window = "1h"; };
	recipients = { max = 30; window = "1h"; };
	recipients_per_message = 10;
	client_addresses = { max = 2; window = "1h"; };
	sender_mismatch = true;
};
exceptions = (
	{ user = "news@example.test"; messages = { max = 50; window = "1h"; }; },
	{ user = "oscar@example.test"; senders = [ "sales@example.test" ]; }
);'
ENFORCE="mode = \"enforce\";
flagged_action = \"hold\";
$LIMITS"
MONITOR="mode = \"monitor\";
flagged_action = \"hold\";
$LIMITS"

# send - bed_send for user $1 from its own address; records a failure
send()
{
	local user=$1
	shift
	send_as "$user" "$user@example.test" "$@"
}

# send_as - bed_send for user $1 with envelope sender $2
send_as()
{
	local user=$1 from=$2
	shift 2
	if ! bed_send "$user" "$PW-$user" "$from" "$@"; then
		bed_not_ok "Postfix accepts mail of $user from <$from>"
	fi
}

# rcpts - print recipient addresses $2..$3 of prefix $1 at ext.test
rcpts()
{
	local i
	for ((i = $2; i <= $3; i++)); do
		printf '%s%d@ext.test\n' "$1" "$i"
	done
}

# held - print how many messages of user $1 are on hold
held()
{
	bed_queue_count hold "$1@example.test"
}

# sunk - print how many recipients of user $1 reached the sink
sunk()
{
	bed_sink_rcpts "$1@example.test"
}

# settle - wait until Postfix has delivered or held everything
settle()
{
	bed_wait_queue_settled 15 || bed_not_ok "queue settles within 15 s" \
	    "$(postqueue -c "$BED_DIR/etc" -j)"
}

bed_start_sink || bed_die "cannot start smtp-sink"
bed_start_postfix || bed_die "cannot start Postfix"

# -t checks a configuration without starting
printf '%s\n' "milter_socket = \"unix:$BED_DIR/x.sock\";" "$ENFORCE" \
    >"$BED_DIR/good.conf"
bed_assert "saslguard -t accepts a valid configuration" \
    "$SASLGUARD" -c "$BED_DIR/good.conf" -t
printf '%s\n' 'mode = "enforce";' 'limits = {' \
    '	messages = { max = 5 5; window = "1h"; };' \
    '	recipients_per_message = 10;' '};' >"$BED_DIR/bad.conf"
out=$("$SASLGUARD" -c "$BED_DIR/bad.conf" -t 2>&1)
bed_assert_eq "saslguard -t exits 1 on a broken configuration" 1 "$?"
case $out in
*bad.conf:[0-9]*) bed_ok "the -t error names file and line" ;;
*) bed_not_ok "the -t error names file and line" "output: $out" ;;
esac

bed_start_saslguard "$ENFORCE" || bed_die "cannot start saslguard"

bed_log "normal mail: 3 users, 3 messages each, 3 recipients each"
for round in 1 2 3; do
	for u in alice bob carol; do
		send "$u" $(rcpts "$u-r$round-" 1 3)
	done
done
settle
for u in alice bob carol; do
	bed_assert_eq "all 9 recipients of $u reached the sink" 9 "$(sunk $u)"
done
bed_assert_eq "no message is on hold after normal mail" 0 \
    "$(bed_queue_count hold)"
bed_assert_eq "saslguard logged no hold for normal mail" 0 \
    "$(bed_sg_count ': hold: user=(alice|bob|carol)@')"
bed_assert_eq "Postfix logged no milter-hold for normal mail" 0 \
    "$(bed_log_count 'milter-hold')"

bed_log "burst: mallory, messages max 5 in 1h"
for i in 1 2 3 4 5; do
	send mallory "victim$i@ext.test"
done
# settle first: a flag also holds the account's mail still in the queue
settle
bed_assert_eq "messages 1..5 of mallory are not held" 0 "$(held mallory)"
bed_assert_eq "messages 1..5 of mallory reached the sink" 5 "$(sunk mallory)"
send mallory victim6@ext.test
bed_assert_eq "the 6th message of mallory is held" 1 "$(held mallory)"
bed_assert "saslguard logs the hold with limit=messages count=6 max=5" \
    bed_sg_grep ': hold: user=mallory@example\.test .*limit=messages count=6 max=5'
bed_assert "saslguard logs the flag of mallory" \
    bed_sg_grep ': flag: user=mallory@example\.test '
bed_assert "mallory is in the flags table of the state db" \
    bed_wait_for 3 bed_flagged mallory
send mallory victim7@ext.test victim8@ext.test
send mallory friend@ext.test
bed_assert_eq "every later message of mallory is held, one recipient too" \
    3 "$(held mallory)"
bed_assert_eq "saslguard logs later holds with limit=flagged" 2 \
    "$(bed_sg_count ': hold: user=mallory@example\.test .*limit=flagged')"
settle
bed_assert_eq "only mallory's first 5 recipients reached the sink" 5 \
    "$(sunk mallory)"
bed_eventually_eq "Postfix logged milter-hold for each held message" 3 3 \
    bed_log_count 'milter-hold: .*from=<mallory@example\.test>'

bed_log "recipients per message: max 10"
send erin $(rcpts erin 1 10)
bed_assert_eq "a message with 10 recipients passes" 0 "$(held erin)"
settle
send erin $(rcpts erin 11 21)
bed_assert_eq "a message with 11 recipients is held" 1 "$(held erin)"
bed_assert "saslguard logs limit=recipients_per_message count=11" \
    bed_sg_grep ': hold: user=erin@example\.test .*rcpts=11 .*limit=recipients_per_message count=11 max=10'

bed_log "recipients per window: max 30 in 1h"
for i in 1 2 3; do
	send frank $(rcpts "frank$i-" 1 9)
done
bed_assert_eq "27 recipients in 3 messages pass" 0 "$(held frank)"
settle
send frank $(rcpts frank4- 1 9)
bed_assert_eq "the message that takes frank to 36 recipients is held" 1 \
    "$(held frank)"
bed_assert "saslguard logs limit=recipients count=36 max=30" \
    bed_sg_grep ': hold: user=frank@example\.test .*limit=recipients count=36 max=30'

bed_log "client networks: max 2 in 1h (XCLIENT ADDR)"
for addr in 198.51.100.7 198.51.100.99 203.0.113.7; do
	bed_send_xclient "$addr" dave "$PW-dave" dave@example.test \
	    "from-$addr@ext.test" ||
		bed_not_ok "Postfix accepts mail of dave from client $addr"
done
bed_assert_eq "mail from 2 /24 networks (3 addresses) passes" 0 \
    "$(held dave)"
settle
bed_send_xclient 192.0.2.7 dave "$PW-dave" dave@example.test x@ext.test ||
	bed_not_ok "Postfix accepts mail of dave from client 192.0.2.7"
bed_assert_eq "mail from a 3rd network is held" 1 "$(held dave)"
bed_assert "saslguard logs limit=client_addresses client=192.0.2.7" \
    bed_sg_grep ': hold: user=dave@example\.test .*client=192\.0\.2\.7 .*limit=client_addresses count=3 max=2'

bed_log "sender mismatch"
send_as oscar oscar@example.test o1@ext.test
send_as oscar OSCAR@Example.Test o2@ext.test
send_as oscar sales@example.test o3@ext.test
bed_assert_eq "own address, its other case and an allowed sender pass" 0 \
    "$(held oscar)"
settle
send_as oscar ceo@example.test o4@ext.test
bed_assert_eq "a forged sender is held" 1 \
    "$(bed_queue_count hold ceo@example.test)"
bed_assert "saslguard logs limit=sender_mismatch for the forged sender" \
    bed_sg_grep ': hold: user=oscar@example\.test sender=[^ ]*ceo@example\.test[^ ]* .*limit=sender_mismatch'

bed_log "exception: news may send 50 messages"
for i in 1 2 3 4 5 6 7; do
	send news "subscriber$i@ext.test"
done
bed_assert_eq "7 messages of the excepted account pass" 0 "$(held news)"

bed_log "unauthenticated inbound mail"
for i in 1 2 3 4 5 6 7; do
	bed_send_inbound stranger@outside.test alice@example.test ||
		bed_not_ok "Postfix accepts inbound message $i"
done
bed_send_inbound mallory@example.test bob@example.test ||
	bed_not_ok "Postfix accepts inbound mail with a flagged user's address"
settle
bed_assert_eq "7 inbound messages reached alice's mailbox" 7 \
    "$(bed_maildir_count alice)"
bed_assert_eq "inbound mail from a flagged user's address is not held" 1 \
    "$(bed_maildir_count bob)"
bed_assert_eq "nothing inbound is on hold" 0 \
    "$(bed_queue_count hold stranger@outside.test)"

settle
bed_assert_eq "the sink got everything that was not held" \
    $((27 + 5 + 10 + 27 + 3 + 3 + 7)) "$(bed_sink_rcpts)"
holds_before=$(bed_queue_count hold)
bed_assert_eq "the hold queue holds exactly the 7 held messages" 7 \
    "$holds_before"

bed_log "kill -9 and restart"
bed_assert "saslguard dies of kill -9" bed_kill_saslguard
bed_sg_mark
bed_start_saslguard "$ENFORCE" || bed_die "cannot restart saslguard"
bed_assert "mallory is still in the flags table after kill -9" \
    bed_flagged mallory
mallory_held=$(held mallory)
send mallory after-restart@ext.test
bed_assert_eq "after kill -9 and restart mallory's mail is still held" \
    $((mallory_held + 1)) "$(held mallory)"
bed_assert "the hold after the restart names limit=flagged" \
    bed_sg_grep_new ': hold: user=mallory@example\.test .*limit=flagged'
send alice after-restart@ext.test
settle
bed_assert_eq "after the restart alice's mail is delivered" 10 "$(sunk alice)"

bed_log "monitor mode"
holds_before=$(bed_queue_count hold)
stop_rc=0
bed_stop_saslguard || stop_rc=$?
bed_assert_eq "saslguard exits 0 on SIGTERM" 0 "$stop_rc"
bed_sg_mark
bed_start_saslguard "$MONITOR" || bed_die "cannot start saslguard (monitor)"
mallory_sunk=$(sunk mallory)
for i in 1 2 3 4 5 6 7; do
	send grace "g$i@ext.test"
done
send mallory monitored@ext.test
settle
bed_assert_eq "monitor mode holds no new message" "$holds_before" \
    "$(bed_queue_count hold)"
bed_assert_eq "all 7 messages of grace were delivered" 7 "$(sunk grace)"
bed_assert_eq "the flagged account's message was delivered too" \
    $((mallory_sunk + 1)) "$(sunk mallory)"
bed_assert "monitor mode logs would-hold for grace's 6th message" \
    bed_sg_grep_new ': would-hold: user=grace@example\.test .*limit=messages count=6 max=5'
bed_assert "monitor mode logs would-hold for the flagged account" \
    bed_sg_grep_new ': would-hold: user=mallory@example\.test .*limit=flagged'

stop_rc=0
bed_stop_saslguard || stop_rc=$?
bed_assert_eq "saslguard exits 0 on SIGTERM in monitor mode" 0 "$stop_rc"
bed_finish
