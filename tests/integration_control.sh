#!/bin/bash
# integration_control.sh - the control socket and saslguardctl with a real
# Postfix: list, queue, delete and release exactly one account's mail
#
# Three accounts; ann and ben both send with the envelope sender
# sales@example.test (allowed for both), carol with her own.  The sink is
# down, so everything they send is deferred.  ann crosses her limit: her
# last messages are held and she is flagged.  Then:
#   - list shows exactly ann, with her held count (also as JSON)
#   - delete --dry-run changes nothing; delete removes exactly ann's mail
#     from hold and deferred, not one message of ben (same sender) or carol
#   - reload turns on retroactive containment; flag ben by hand puts his
#     deferred mail on hold; release ben delivers it to the sink
#   - a uid that is not allowed is refused by the daemon (SO_PEERCRED)
#   - bad user names get clear errors and the daemon keeps serving
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here,
# 99 the bed broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

CTL=${SASLGUARDCTL:-$PWD/tools/saslguardctl}
[ -x "$CTL" ] || bed_skip "$CTL is not built"
bed_require
bed_init

for u in ann ben carol; do
	bed_add_user "$u" "pw-$u" || bed_die "cannot add user $u"
done

# the notify hook: records its arguments, one line per call
cat >"$BED_DIR/hook" <<HOOK
#!/bin/sh
echo "\$*" >>"$BED_DIR/hook.out"
HOOK
chmod 0755 "$BED_DIR/hook"

CONF='control_socket_mode = "0666";
on_flag = { command = [ "'"$BED_DIR"'/hook", "--flag" ]; timeout = "5s"; };
hold_queued_on_flag = false;
limits = {
	messages = { max = 3; window = "1h"; };
	recipients = { max = 100; window = "1h"; };
	recipients_per_message = 10;
	client_addresses = { max = 5; window = "1h"; };
	sender_mismatch = true;
};
exceptions = (
	{ user = "ann@example.test"; senders = [ "sales@example.test" ]; },
	{ user = "ben@example.test"; senders = [ "sales@example.test" ]; }
);'

ctl() { "$CTL" -s "$BED_DIR/control.sock" "$@"; }

# count - queued messages in queue $1 (hold, deferred, all) whose
# recipient matches $2
count()
{
	postqueue -c "$BED_DIR/etc" -j 2>/dev/null |
	    { if [ "$1" = all ]; then cat; else
	      grep -F "\"queue_name\": \"$1\""; fi; } |
	    grep -cF "$2"
}

send()
{
	bed_send "$1" "pw-$1" "$2" "$3" >/dev/null ||
	    bed_log "send $1 $3 failed"
}

bed_start_saslguard "$CONF" || bed_die "saslguard did not start"
bed_start_postfix || bed_die "postfix did not start"
# the sink is not started: every delivery is deferred

send ann sales@example.test ann-1@ext.test
send ann sales@example.test ann-2@ext.test
send ben sales@example.test ben-1@ext.test
send ben sales@example.test ben-2@ext.test
send carol carol@example.test carol-1@ext.test
send ann sales@example.test ann-3@ext.test
send ann sales@example.test ann-4@ext.test
send ann sales@example.test ann-5@ext.test
bed_wait_queue_settled 30

bed_eventually_eq "ann's three passed messages are deferred" 3 20 \
    count deferred ann-
bed_eventually_eq "ann's messages over the limit are held" 2 20 \
    count hold ann-
bed_assert_eq "ben's mail is deferred, none held" 2 "$(count deferred ben-)"
bed_assert_eq "carol's mail is deferred" 1 "$(count deferred carol-)"

bed_eventually_eq "the on_flag hook ran once for ann's incident" 1 10 \
    grep -c '^--flag ann@example.test messages 4 3 1h 127.0.0.1 ' \
    "$BED_DIR/hook.out"

out=$(ctl list)
bed_assert "list names ann" grep -q '^ann@example.test ' <<<"$out"
bed_assert_eq "list shows exactly one account (and a header)" 2 \
    "$(wc -l <<<"$out")"
json=$(ctl --json list)
bed_assert "list --json has user, flagged_at, reason and held" grep -qE \
    '^\[\{"user": "ann@example.test", "flagged_at": "[0-9T:Z-]+", .*"reason": "messages 4 > 3 in 1h".*"held": 2\}\]$' \
    <<<"$json"

out=$(ctl queue ann@example.test)
bed_assert_eq "queue lists ann's five messages" 5 \
    "$(grep -c 'sales@example.test' <<<"$out")"

before=$(count all ext.test)
out=$(ctl --json delete ann@example.test --dry-run)
bed_assert "delete --dry-run says what it would delete" grep -q \
    '"would_delete": 5' <<<"$out"
bed_assert_eq "delete --dry-run deletes nothing" "$before" \
    "$(count all ext.test)"

out=$(ctl --json delete ann@example.test)
bed_assert "delete reports 5 deleted: 2 from hold, 3 deferred" grep -qE \
    '"deleted": 5.*"hold": 2.*"deferred": 3' <<<"$out"
bed_eventually_eq "no message of ann is left" 0 10 count all ann-
bed_assert_eq "ben's messages with the same sender are untouched" 2 \
    "$(count deferred ben-)"
bed_assert_eq "carol's message is untouched" 1 "$(count deferred carol-)"
bed_assert "the delete is logged with the operator's uid" \
    bed_sg_grep 'control: uid=0 action=delete user=ann@example.test deleted=5'

# retroactive containment, switched on by a reload
sed -i 's/^hold_queued_on_flag = false;/hold_queued_on_flag = true;/' \
    "$BED_DIR/saslguard.conf"
bed_assert "reload on the control socket" ctl reload
out=$(ctl flag ben@example.test "false alarm test")
bed_assert "flag ben by hand" grep -q 'ben@example.test: flagged' <<<"$out"
bed_eventually_eq "ben's deferred mail is put on hold at flag time" 2 20 \
    count hold ben-
bed_assert_eq "carol's mail stays deferred" 1 "$(count deferred carol-)"
bed_eventually_eq "the on_flag hook ran for the operator's flag" 1 10 \
    grep -c '^--flag ben@example.test operator ' "$BED_DIR/hook.out"
bed_assert_eq "the hook ran once per incident, not per message" 2 \
    "$(wc -l <"$BED_DIR/hook.out")"

bed_start_sink || bed_die "sink did not start"
out=$(ctl --json release ben@example.test)
bed_assert "release reports 2 released" grep -q '"released": 2' <<<"$out"
bed_eventually_eq "released mail reaches the internet" 2 30 \
    bed_sink_rcpts sales@example.test
bed_eventually_eq "nothing of ben is left in the queue" 0 20 count all ben-
out=$(ctl unflag ben@example.test)
bed_assert "unflag ben" grep -q 'ben@example.test: unflagged' <<<"$out"
out=$(ctl list)
bed_assert "ben is no longer listed" bash -c "! grep -q '^ben@' <<<\"\$1\"" _ "$out"

# flagged_action: refuse a flagged account at MAIL FROM instead of holding
sed -i 's/^hold_queued_on_flag = true;/hold_queued_on_flag = true;\nflagged_action = "tempfail";/' \
    "$BED_DIR/saslguard.conf"
bed_assert "reload with flagged_action tempfail" ctl reload
ctl flag carol@example.test "test" >/dev/null
bed_send carol pw-carol carol@example.test carol-2@ext.test >/dev/null 2>&1
bed_assert "a flagged account's MAIL FROM gets 451 4.7.1 (tempfail)" \
    bed_log_grep 'milter-reject: MAIL from .* 451 4.7.1 Account suspended'
bed_assert "the refusal is logged as tempfail" \
    bed_sg_grep 'NOQUEUE: tempfail: user=carol@example.test .*limit=flagged'
sed -i 's/^flagged_action = "tempfail";/flagged_action = "disconnect";/' \
    "$BED_DIR/saslguard.conf"
bed_assert "reload with flagged_action disconnect" ctl reload
bed_send carol pw-carol carol@example.test carol-3@ext.test >/dev/null 2>&1
bed_assert "with disconnect the session is closed with 421" \
    bed_log_grep 'milter-reject: MAIL from .* 421 4.7.0 Account suspended'
bed_assert_eq "no refused message of carol was queued" 1 \
    "$(count all carol-)"

# a uid that is not allowed: the socket is 0666, the daemon refuses
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$CTL" -s "$BED_DIR/control.sock" list 2>&1)
rc=$?
bed_assert_eq "a non-allowed uid gets exit status 1" 1 "$rc"
bed_assert "a non-allowed uid is told why" grep -q 'denied' <<<"$out"
bed_assert "the refusal is logged" bed_sg_grep 'control: uid=65534 .*refused'

ctl show 'bad user' >/dev/null 2>&1
bed_assert_eq "a bad user name is an error (exit 1)" 1 "$?"
out=$(ctl unflag nobody@example.test 2>&1)
bed_assert "unflag of an unflagged account says so" grep -q 'not flagged' \
    <<<"$out"
bed_assert "the daemon still serves after errors" ctl stats

# the tamper-evident journal: every decision and operator action, chained
J=$BED_DIR/journal.jsonl
for ev in hold flag delete unflag release reload; do
	bed_assert "the journal has a $ev event" grep -q "\"event\":\"$ev\"" "$J"
done
out=$("$CTL" audit --verify "$J" 2>&1)
bed_assert_eq "audit --verify finds the chain intact" 0 "$?"
bed_assert "audit --verify says so" grep -q 'chain intact' <<<"$out"
cp "$J" "$BED_DIR/tampered.jsonl"
sed -i '3s/"rcpts":1/"rcpts":9/' "$BED_DIR/tampered.jsonl"
out=$("$CTL" audit --verify "$BED_DIR/tampered.jsonl" 2>&1)
bed_assert_eq "an edited journal fails verification" 1 "$?"
bed_assert "verification names the edited line" grep -q ':3: chain broken' <<<"$out"

bed_finish
