#!/bin/bash
# integration_signals.sh - the signals beyond fixed limits with a real Postfix
#
# One private Postfix on loopback (tests/lib/pfbed.sh), saslguard as the
# milter of both its submission and its MX smtpd.  Fixed limits are kept
# high, so every hold here comes from a signal.  Histories are seeded into
# the state db with sqlite3 before the daemon starts.  Shows:
#   - backscatter: bounces (null sender) to an account that sent nothing
#     flag it; the bounces are delivered, its next message is held
#   - a steady high-volume sender with a long history is never held
#   - baseline: a modest burst of a normally quiet account is held at the
#     account's bar although the fixed limits would let it pass, and the
#     decision line names the signal
#   - new network: 25 external recipients from a network the account
#     never used are held at the first message; from a known network the
#     same message passes
#   - internal recipients (local_domains) do not count toward the
#     recipients limits
#   - failed logins read from auth_log (also after a rotation), then a
#     success and a burst: held as one story
#   - saslguardctl show prints the baseline; SIGTERM writes the histories
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here
# (not root, no Postfix, no sqlite3; a failure when CI=true), 99 the bed
# broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

CTL=${SASLGUARDCTL:-$PWD/tools/saslguardctl}
[ -x "$CTL" ] || bed_skip "$CTL is not built"
command -v sqlite3 >/dev/null 2>&1 || bed_skip "sqlite3 is not installed"
bed_require
bed_init

PW=secret
USERS="alice bob news quiet roamer office victim victim2 calm"
for u in $USERS; do
	bed_add_user "$u" "$PW-$u" || bed_die "cannot add user $u"
done
: >"$BED_DIR/auth.log"

CONF="control_socket_mode = \"0666\";
hold_queued_on_flag = false;
auth_log = \"$BED_DIR/auth.log\";
local_domains = [ \"example.test\" ];
limits = {
	messages = { max = 100; window = \"1h\"; };
	recipients = { max = 300; window = \"1h\"; };
	recipients_per_message = 50;
	client_addresses = { max = 5; window = \"1h\"; };
	sender_mismatch = true;
	bounces = { max = 5; window = \"1h\"; };
	new_network_recipients = 20;
	failed_logins = { max = 5; window = \"1h\"; recipients = 10; };
};
exceptions = (
	{ user = \"news@example.test\"; messages = { max = 5000; };
	  recipients = { max = 100000; }; recipients_per_message = 1000; },
	{ user = \"bob@example.test\"; recipients_per_message = 3; }
);
baseline = {
	enabled = true;
	min_history = \"3d\";
	messages_floor = 5;
	recipients_floor = 20;
	factor = 10;
	sigmas = 6;
};"

ctl() { "$CTL" -s "$BED_DIR/control.sock" "$@"; }

# send - bed_send for user $1 from its own address; records a failure
send()
{
	local user=$1
	shift
	if ! bed_send "$user" "$PW-$user" "$user@example.test" "$@"; then
		bed_not_ok "Postfix accepts mail of $user"
	fi
}

# ext - print $2 external recipient addresses with prefix $1
ext()
{
	local i
	for ((i = 1; i <= $2; i++)); do
		printf '%s%d@ext.test\n' "$1" "$i"
	done
}

# held - print how many messages of user $1 are on hold
held()
{
	bed_queue_count hold "$1@example.test"
}

# settle - wait until Postfix has delivered or held everything
settle()
{
	bed_wait_queue_settled 15 || bed_not_ok "queue settles within 15 s"
}

# sql - run SQL $1 on the state db
sql()
{
	sqlite3 -cmd '.timeout 2000' "$BED_DIR/state.db" "$1"
}

# seed - a mature history for user $1: messages and recipients per hour
# (mean, variance) $2 $3 $4 $5, a week old
seed()
{
	local u=$1@example.test now hour since

	now=$(date +%s)
	hour=$((now / 3600 * 3600))
	since=$((hour - 7 * 86400))
	sql "INSERT INTO baselines (user, key, value, updated) VALUES
	    ('$u', 'since', $since, $now), ('$u', 'hour', $hour, $now),
	    ('$u', 'messages_mean', $2, $now), ('$u', 'messages_var', $3, $now),
	    ('$u', 'recipients_mean', $4, $now),
	    ('$u', 'recipients_var', $5, $now);"
}

# authfail - append $2 Postfix failed-login lines for user $1 to auth.log
authfail()
{
	local i
	for ((i = 0; i < $2; i++)); do
		printf '%s mx postfix/submission/smtpd[4242]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=%s@example.test\n' \
		    "$(date '+%b %e %H:%M:%S')" "$1" >>"$BED_DIR/auth.log"
	done
}

# not_flagged - succeed when user $1 is not in the flags table
not_flagged()
{
	! bed_flagged "$1"
}

# failures - print the failed logins saslguard counted for user $1
failures()
{
	ctl show "$1@example.test" | sed -n 's/^failed logins: *\([0-9]*\) of.*/\1/p'
}

bed_start_sink || bed_die "cannot start smtp-sink"
bed_start_postfix || bed_die "cannot start Postfix"

# a first start creates the state db; the histories go in while it is down
bed_start_saslguard "$CONF" || bed_die "cannot start saslguard"
bed_stop_saslguard || bed_die "saslguard did not stop cleanly"
seed quiet 0.2 0.2 0.3 0.3
seed news 200 10000 5000 1000000
seed roamer 0.5 0.5 10 25
seed office 0.5 0.5 10 25
NOW=$(date +%s)
# roamer only ever used another network
sql "INSERT INTO baselines (user, key, value, updated) VALUES
    ('roamer@example.test', 'net:c0000200', $NOW, $NOW);"
bed_start_saslguard "$CONF" || bed_die "cannot start saslguard"
bed_assert "saslguard loads the seeded histories" \
    bed_sg_grep 'state: 25 history values loaded'

bed_log "backscatter: bounces to alice, who sent nothing"
for i in 1 2 3 4 5 6; do
	bed_send_inbound '<>' alice@example.test ||
		bed_not_ok "the MX accepts bounce $i"
done
settle
bed_eventually_eq "every bounce reached alice's mailbox" 6 10 \
    bed_maildir_count alice@example.test
bed_assert "the 6th bounce flags alice" bed_flagged alice
bed_assert_eq "the flag names backscatter" backscatter \
    "$(sql "SELECT limit_name FROM flags WHERE user = 'alice@example.test';")"
bed_assert "the flag line names limit=backscatter count=6 max=5" \
    bed_sg_grep 'flag: user=alice@example.test limit=backscatter count=6 max=5 window=1h'
send alice friend@ext.test
settle
bed_assert_eq "alice's own message is held now" 1 "$(held alice)"
bed_assert_eq "unauthenticated mail with a sender is still not counted" 0 \
    "$(bed_send_inbound sender@outside.test bob@example.test >/dev/null;
	bed_sg_count 'user=bob@example.test')"

bed_log "a steady high-volume sender"
for i in $(seq 1 30); do
	# shellcheck disable=SC2046
	send news $(ext "n$i-" 25)
done
settle
bed_assert_eq "news is never held" 0 "$(held news)"
bed_assert "news is not flagged" not_flagged news
bed_assert_eq "news' 30 messages passed" 30 \
    "$(bed_sg_count 'pass: user=news@example.test')"

bed_log "baseline: quiet sends 8 messages in a row"
for i in $(seq 1 8); do
	send quiet "q$i@ext.test"
done
settle
bed_assert_eq "the first 5 messages of quiet pass" 5 \
    "$(bed_sg_count 'pass: user=quiet@example.test')"
bed_assert_eq "the 6th and later are held" 3 "$(held quiet)"
bed_assert "the hold names the baseline and its bar" \
    bed_sg_grep 'hold: user=quiet@example.test .* limit=baseline count=6 max=5 window=1h signals=baseline:6/5'
bed_assert_eq "quiet is flagged for its baseline" baseline \
    "$(sql "SELECT limit_name FROM flags WHERE user = 'quiet@example.test';")"
out=$(ctl show quiet@example.test)
case $out in
*"baseline:                ready, history 7d"*"messages per hour:     mean 0.20"*"bar 5"*)
	bed_ok "saslguardctl show prints the baseline" ;;
*) bed_not_ok "saslguardctl show prints the baseline" "$out" ;;
esac

bed_log "new network: roamer and office send to 25 external recipients"
# shellcheck disable=SC2046
send roamer $(ext r 25)
# shellcheck disable=SC2046
send roamer $(ext s 2)
send office colleague@ext.test
# shellcheck disable=SC2046
send office $(ext o 25)
settle
bed_assert "roamer's first such message is held for new_network" \
    bed_sg_grep 'hold: user=roamer@example.test .*rcpts=25 .*limit=new_network count=25 max=20 signals=new_network:25/20'
bed_assert_eq "roamer's messages are held from the first on" 2 \
    "$(held roamer)"
bed_assert_eq "office, from its known network, is not held" 0 \
    "$(held office)"

bed_log "internal recipients"
send bob alice@example.test news@example.test quiet@example.test \
    office@example.test
# shellcheck disable=SC2046
send bob $(ext b 4)
settle
bed_assert_eq "4 internal recipients pass recipients_per_message = 3" 1 \
    "$(bed_sg_count 'pass: user=bob@example.test .*rcpts=4 ')"
bed_assert "4 external ones do not" \
    bed_sg_grep 'hold: user=bob@example.test .*limit=recipients_per_message count=4 max=3'

bed_log "failed logins, then a success, then a burst"
authfail victim 6
bed_eventually_eq "the reader counts victim's 6 failed logins" 6 10 \
    failures victim
# shellcheck disable=SC2046
send victim $(ext v 12)
# shellcheck disable=SC2046
send calm $(ext c 12)
settle
bed_assert "victim's burst is held as failed_logins" \
    bed_sg_grep 'hold: user=victim@example.test .*limit=failed_logins count=6 max=5 window=1h signals=failed_logins:6/5'
bed_assert_eq "calm, without failures, is not held" 0 "$(held calm)"
mv "$BED_DIR/auth.log" "$BED_DIR/auth.log.1"
authfail victim2 7
bed_eventually_eq "after a rotation the reader counts victim2's failures" 7 \
    10 failures victim2
# shellcheck disable=SC2046
send victim2 $(ext w 12)
settle
bed_assert_eq "victim2's burst is held" 1 "$(held victim2)"

bed_log "histories are written when the daemon stops"
bed_assert "saslguard exits 0 on SIGTERM" bed_stop_saslguard
bed_assert_eq "office's network is in the store" 1 \
    "$(sql "SELECT count(*) FROM baselines
	    WHERE user = 'office@example.test' AND key LIKE 'net:%';")"
# the hour may have turned since: this one's and the last one's
n=$(sql "SELECT CAST(sum(value) AS INTEGER) FROM baselines
    WHERE user = 'news@example.test'
    AND key IN ('messages_cur', 'messages_prev');")
bed_assert_eq "news' messages of the last hours are in the store" 30 "$n"

bed_log "monitor mode"
bed_start_saslguard "mode = \"monitor\"; $CONF" ||
	bed_die "cannot restart saslguard"
ctl unflag quiet@example.test >/dev/null
before=$(held quiet)
for i in $(seq 1 3); do
	send quiet "m$i@ext.test"
done
settle
bed_assert_eq "monitor mode holds nothing" "$before" "$(held quiet)"
bed_assert "monitor mode logs the would-hold with its signal" \
    bed_sg_grep 'would-hold: user=quiet@example.test .*limit=baseline .*signals=baseline:'

bed_finish
