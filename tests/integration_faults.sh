#!/bin/bash
# integration_faults.sh - fault drills against saslguard and a real Postfix
#
# One private Postfix on loopback (tests/lib/pfbed.sh) with saslguard as its
# milter.  Each drill breaks something on purpose and checks that mail keeps
# flowing, that no flag is lost and that nothing is delivered unchecked:
#
#  1. kill -9 of the daemon in the middle of a burst.  The bed runs Postfix
#     with milter_default_action = tempfail, the choice documented for
#     saslguard (it is Postfix 3.7's default; 3.11's "shutdown" also
#     refuses with a 4xx code): while the milter is down every
#     authenticated client gets a 4xx reply and retries later, so nothing
#     passes unchecked.  "accept" would let a compromised account's spam
#     out for as long as the outage lasts.  Checked: the flag raised before
#     the kill is still there after the restart and holds the account's
#     next message; the account got exactly messages.max messages out;
#     mail sent during the outage got a 4xx; after the restart mail flows.
#  2. The state store's file system is full (a small tmpfs, filled up):
#     mail keeps flowing, the store error is logged once per report
#     interval (not per message) while the failed attempts go on, a flag
#     raised meanwhile holds the account's next message from memory and
#     reaches the flags table once space is back.
#  3. A hostile milter peer (tests/hostile_milter): short packets, lying
#     and 1 GB length fields, 1 MB macros, 60 kB values, NUL bytes,
#     unknown and out-of-order commands, 10,000 recipients (held by
#     recipients_per_message), peers that stall mid-packet.  After each
#     the same daemon process is alive and a real message still passes.
#  4. Control socket clients that send garbage, over-long lines, thousands
#     of requests, or connect and stall: saslguardctl and mail keep
#     working meanwhile (only "not blocked" is measured, not the 30 s idle
#     timeout, to keep the test short).
#  5. Reload of a broken configuration (SIGUSR1 and saslguardctl reload):
#     the running configuration stays in force and the error names the
#     file and the line, in the log and in the reply.
#
# Drill 2 needs to mount a tmpfs; where that is not permitted it is left
# out with a message (a failure when CI=true).
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here
# (not root, no Postfix; a failure when CI=true), 99 the bed broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

CTL=${SASLGUARDCTL:-$PWD/tools/saslguardctl}
HOSTILE=${HOSTILE_MILTER:-$PWD/tests/hostile_milter}
LOADGEN=${LOADGEN:-$PWD/bench/loadgen}
for prog in "$CTL" "$HOSTILE" "$LOADGEN"; do
	[ -x "$prog" ] || bed_skip "$prog is not built"
done
bed_require
bed_init

TINY=
# faults_cleanup - EXIT trap: detach the tmpfs, then the bed's own cleanup
faults_cleanup()
{
	local rc=$?

	if [ -n "$TINY" ]; then
		umount -l "$TINY" 2>/dev/null
	fi
	(exit "$rc")
	bed_cleanup
}
trap faults_cleanup EXIT

PW=secret
USERS="alice bob carol burst dora norm1 norm2 norm3 norm4 rita sam"
for u in $USERS; do
	bed_add_user "$u" "$PW-$u" || bed_die "cannot add user $u"
done

CONF="mode = \"enforce\";
flagged_action = \"hold\";
milter_timeout = \"5s\";
limits = {
	messages = { max = 5; window = \"1h\"; };
	recipients = { max = 100; window = \"1h\"; };
	recipients_per_message = 20;
	client_addresses = { max = 5; window = \"1h\"; };
	sender_mismatch = true;
};
exceptions = (
	{ user = \"carol@example.test\"; messages = { max = 1000; window = \"1h\"; };
	  recipients = { max = 1000; window = \"1h\"; }; }
);"

MSOCK="unix:$BED_DIR/milter.sock"
CSOCK="$BED_DIR/control.sock"

ctl() { "$CTL" -s "$CSOCK" "$@"; }

# send - user $1 sends one message from its own address to $2...; swaks' rc
send()
{
	local user=$1
	shift
	bed_send "$user" "$PW-$user" "$user@example.test" "$@"
}

# held / sunk - messages of user $1 on hold / recipients at the sink
held() { bed_queue_count hold "$1@example.test"; }
sunk() { bed_sink_rcpts "$1@example.test"; }

# settle - wait until Postfix has delivered or held everything
settle()
{
	bed_wait_queue_settled 20 || bed_not_ok "queue settles within 20 s" \
	    "$(postqueue -c "$BED_DIR/etc" -j)"
}

# burst_held - Postfix holds mail of user burst
burst_held()
{
	[ "$(held burst)" -ge 1 ]
}

# sg_alive - the daemon started last is still running
sg_alive()
{
	[ -n "$BED_SG_PID" ] && ! bed_is_dead "$BED_SG_PID"
}

# count_new - lines of saslguard's output since the last mark matching $1
count_new()
{
	bed_sg_settle
	tail -n "+$((${BED_SG_MARK:-0} + 1))" "$BED_DIR/saslguard.log" |
	    grep -cE -- "$1"
}

# stat_field - one counter of "saslguardctl stats" ("key: value" lines)
stat_field()
{
	ctl stats 2>/dev/null | sed -n "s/^$1: //p"
}

# state db on a small tmpfs, so that drill 2 can fill it up
mkdir -p "$BED_DIR/tiny"
if mount -t tmpfs -o size=4m,mode=0755 tmpfs "$BED_DIR/tiny" 2>/dev/null; then
	TINY=$BED_DIR/tiny
	ln -s "$TINY/state.db" "$BED_DIR/state.db"
else
	bed_log "cannot mount a tmpfs here: drill 2 (store disk full) is left out"
	[ "${CI:-}" = true ] && bed_not_ok "mount a tmpfs for drill 2 (CI=true)"
fi

bed_start_sink || bed_die "cannot start smtp-sink"
bed_start_postfix || bed_die "cannot start Postfix"
bed_start_saslguard "$CONF" || bed_die "cannot start saslguard"

# --- 1. kill -9 in the middle of a burst ---------------------------------
bed_log "drill 1: kill -9 during a burst of 30 messages (max 5)"
# an outside reader of the state db (an operator's sqlite3, a backup) must
# not make the flags written after it volatile
bed_assert "the state db is readable from outside" \
    sqlite3 "$BED_DIR/state.db" 'SELECT count(*) FROM flags;'
(
	for i in $(seq 1 30); do
		send burst "b$i@ext.test" >"$BED_DIR/burst.$i" 2>&1
		echo "$i $?"
	done >"$BED_DIR/burst.rc"
) &
burst_pid=$!
# kill once Postfix holds the account's mail: its flag was committed
# before the daemon answered the end of that message
bed_wait_for 60 burst_held || bed_not_ok "burst's mail is held during the burst"
bed_assert "saslguard dies of kill -9 during the burst" bed_kill_saslguard
down_at=$(wc -l <"$BED_DIR/burst.rc")
bed_log "killed after $down_at messages of the burst"
wait "$burst_pid"
out=$(send alice during-outage@ext.test 2>&1)
rc=$?
bed_assert "mail sent while saslguard is down is refused" test "$rc" -ne 0
case $out in
*"<** 4"[0-9][0-9]" "*) bed_ok "the refusal is temporary (4xx)" ;;
*) bed_not_ok "the refusal is temporary (4xx)" "swaks said: $out" ;;
esac
refused=$(awk '$2 != 0' "$BED_DIR/burst.rc" | wc -l)
accepted=$(awk '$2 == 0' "$BED_DIR/burst.rc" | wc -l)
bed_log "burst: $accepted accepted, $refused refused"
bed_assert "burst messages after the kill were refused" test "$refused" -gt 0
if grep -qE '<\*\* 5[0-9][0-9] ' "$BED_DIR"/burst.[0-9]*; then
	bed_not_ok "no burst message got a permanent (5xx) error" \
	    "$(grep -hE '<\*\* 5' "$BED_DIR"/burst.[0-9]* | head -n 3)"
else
	bed_ok "no burst message got a permanent (5xx) error"
fi
bed_assert "Postfix logged that the milter was unreachable" \
    bed_log_grep 'warning: connect to Milter service unix:.*milter\.sock'
settle
bed_assert_eq "the burst got exactly messages.max (5) messages out" 5 \
    "$(sunk burst)"
bed_assert_eq "every other accepted burst message is on hold" \
    $((accepted - 5)) "$(held burst)"
bed_assert_eq "nothing of alice's went out during the outage" 0 \
    "$(($(sunk alice) + $(bed_queue_count all alice@example.test)))"

bed_sg_mark
bed_start_saslguard "$CONF" || bed_die "cannot restart saslguard"
sg_pid=$BED_SG_PID
bed_assert "the flag of burst survived kill -9" bed_flagged burst
before=$(held burst)
send burst after-restart@ext.test >/dev/null 2>&1
bed_assert_eq "after the restart burst's next message is held" \
    $((before + 1)) "$(held burst)"
bed_assert "the hold names limit=flagged" \
    bed_sg_grep_new ': hold: user=burst@example\.test .*limit=flagged'
bed_assert "after the restart alice's mail is accepted" \
    send alice after-restart@ext.test
settle
bed_assert_eq "after the restart alice's mail is delivered" 1 "$(sunk alice)"

# --- 2. state store disk full ---------------------------------------------
if [ -n "$TINY" ]; then
	bed_log "drill 2: the state store's file system is full"
	bed_sg_mark
	failed0=$(stat_field store_failed)
	# dd stops at ENOSPC: the file system is then full to the last page
	dd if=/dev/zero of="$TINY/filler" bs=64k >/dev/null 2>&1
	dd if=/dev/zero of="$TINY/filler2" bs=4k >/dev/null 2>&1
	bed_log "tmpfs: $(df -k "$TINY" | awk 'NR == 2 { print $4 }') kB free"
	for u in norm1 norm2 norm3 norm4; do
		for i in 1 2; do
			send "$u" "$u-$i@ext.test" >/dev/null 2>&1 ||
				bed_not_ok "Postfix accepts mail of $u while the store is full"
		done
	done
	bed_assert "saslguard logs the store failure" \
	    bed_wait_for 5 bed_sg_grep_new 'store: store write failed'
	for i in 1 2 3 4 5 6; do
		send dora "dora-$i@ext.test" >/dev/null 2>&1 ||
			bed_not_ok "Postfix accepts message $i of dora"
	done
	bed_assert_eq "dora's 6th message is held while the store is full" 1 \
	    "$(held dora)"
	bed_assert "saslguard logs that dora's flag waits in memory" \
	    bed_sg_grep_new 'flag of user=dora@example\.test not yet written'
	if bed_flagged dora; then
		bed_not_ok "dora's flag is not in the (full) store yet"
	else
		bed_ok "dora's flag is not in the (full) store yet"
	fi
	send dora dora-7@ext.test >/dev/null 2>&1
	bed_assert_eq "dora's next message is held from the flag in memory" 2 \
	    "$(held dora)"
	for u in norm1 norm2 norm3 norm4; do
		send "$u" "$u-3@ext.test" >/dev/null 2>&1
	done
	settle
	for u in norm1 norm2 norm3 norm4; do
		bed_assert_eq "all 3 messages of $u were delivered" 3 "$(sunk $u)"
	done
	# the writer retries every 100 ms: many failures, one report a minute
	failed1=$(stat_field store_failed)
	bed_log "store_failed: $failed0 before, $failed1 now"
	bed_assert "the store failed many times" \
	    test "$((${failed1:-0} - ${failed0:-0}))" -ge 5
	bed_assert_eq "the store failure was logged once, not per message" 1 \
	    "$(count_new 'store: store write failed')"
	rm -f "$TINY/filler" "$TINY/filler2"
	bed_assert "dora's flag is written once space is back" \
	    bed_wait_for 5 bed_flagged dora
	bed_assert "saslguard logs that the store recovered" \
	    bed_wait_for 5 bed_sg_grep_new 'store: store writes recovered'
	bed_eventually_eq "no store record is pending after the recovery" 0 5 \
	    stat_field store_pending
fi

# --- 3. a hostile milter peer ---------------------------------------------
bed_log "drill 3: hostile milter peers"
carol_sent=0

# normal_mail_ok WHAT - a real message through Postfix still passes
normal_mail_ok()
{
	if send carol "carol-$carol_sent@ext.test" >/dev/null 2>&1; then
		carol_sent=$((carol_sent + 1))
		bed_ok "after $1 a real message is accepted"
	else
		bed_not_ok "after $1 a real message is accepted"
	fi
}

# hostile SCENARIO ARG... - play it; the daemon must survive it
hostile()
{
	local out rc

	out=$("$HOSTILE" "$MSOCK" "$@" 2>&1)
	rc=$?
	bed_log "$out"
	if [ "$rc" -eq 0 ]; then
		bed_ok "hostile peer '$1': $(printf '%s' "$out" | tail -n 1)"
	else
		bed_not_ok "hostile peer '$1' sees the expected reaction" "$out"
	fi
	bed_assert "saslguard survives '$1'" sg_alive
}

for sc in short-header zero-length short-data huge-length big-macro \
    long-values nul-bytes unknown-cmd; do
	hostile "$sc"
	normal_mail_ok "'$sc'"
done
bed_sg_mark
out=$("$HOSTILE" "$MSOCK" rcpts 10000 bomber@example.test 2>&1)
bed_assert_eq "10,000 recipients in one transaction: the message is held" \
    "rcpts: quarantine" "$out"
bed_assert "the hold counts all 10,000 recipients" \
    bed_sg_grep_new ': hold: user=bomber@example\.test .*rcpts=10000 '\
'.*limit=recipients_per_message count=10000 max=20'
normal_mail_ok "10,000 recipients"

bed_log "10 peers stall mid-packet; meanwhile mail and loadgen run"
stall_pids=
for i in $(seq 1 10); do
	"$HOSTILE" "$MSOCK" stall 20 >"$BED_DIR/stall.$i" 2>&1 &
	stall_pids="$stall_pids $!"
done
sleep 0.5
normal_mail_ok "10 stalled peers (while they stall)"
lg=$("$LOADGEN" -s "$MSOCK" -c 8 -n 300 -u 100 --seed 3 --prefix lg- \
    --messages-max 5 --recipients-max 100 --recipients-per-message 20 \
    --window 3600 -t 10000 2>&1)
lg_rc=$?
bed_log "$(printf '%s\n' "$lg" | grep -E '^(transactions|replies|RESULT)')"
bed_assert_eq "loadgen passes its policy check while peers stall" 0 "$lg_rc"
stalled_ok=0
for p in $stall_pids; do
	wait "$p" && stalled_ok=$((stalled_ok + 1))
done
bed_assert_eq "each stalled peer is dropped after milter_timeout (5 s)" 10 \
    "$stalled_ok"
bed_log "$(cat "$BED_DIR/stall.1")"
bed_assert_eq "one and the same daemon process survived drill 3" "$sg_pid" \
    "$BED_SG_PID"
bed_assert "saslguard is alive after drill 3" sg_alive
bed_assert_eq "saslguard logged no crash" 0 \
    "$(bed_sg_count 'Segmentation|Aborted|assert|fatal|panic')"
settle
bed_assert_eq "carol's messages were all delivered" "$carol_sent" \
    "$(sunk carol)"

# --- 4. control socket: garbage and stalls --------------------------------
bed_log "drill 4: hostile and stalled control clients"
ctl_pids=
for i in 1 2 3 4 5; do
	"$HOSTILE" "$CSOCK" ctl-stall 15 >/dev/null 2>&1 &
	ctl_pids="$ctl_pids $!"
	"$HOSTILE" "$CSOCK" ctl-half 15 >/dev/null 2>&1 &
	ctl_pids="$ctl_pids $!"
done
sleep 0.5
t0=$(date +%s%N)
bed_assert "saslguardctl stats works while 10 clients stall" ctl stats
t1=$(date +%s%N)
bed_assert "stats answered within 2 s" test $(((t1 - t0) / 1000000)) -lt 2000
normal_mail_ok "10 stalled control clients"
for sc in ctl-binary ctl-long "ctl-flood 5000" "ctl-conns 1000"; do
	# shellcheck disable=SC2086
	out=$("$HOSTILE" "$CSOCK" $sc 2>&1)
	rc=$?
	bed_log "$out"
	bed_assert_eq "control client '$sc' is answered properly" 0 "$rc"
	bed_assert "saslguardctl stats works after '$sc'" ctl stats
done
normal_mail_ok "control socket garbage"
for p in $ctl_pids; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
bed_assert "saslguard is alive after drill 4" sg_alive

# --- 5. reload with a broken configuration ---------------------------------
bed_log "drill 5: reload with a broken configuration"
conf=$BED_DIR/saslguard.conf
cp "$conf" "$BED_DIR/good.conf"
# the broken file would raise messages.max to 100, if it were loaded
sed 's/messages = { max = 5;/messages = { max = 100;/' "$BED_DIR/good.conf" \
    >"$conf"
echo 'limits_typo = ;' >>"$conf"
badline=$(wc -l <"$conf")
bed_sg_mark
kill -USR1 "$BED_SG_PID"
bed_assert "SIGUSR1: the error names the file and line $badline" \
    bed_wait_for 5 bed_sg_grep_new "reload: .*saslguard\.conf:$badline"
bed_assert "SIGUSR1: the log says the running configuration stays" \
    bed_sg_grep_new 'keeping the running configuration'
out=$(ctl reload 2>&1)
rc=$?
bed_assert_eq "saslguardctl reload fails on the broken file" 1 "$rc"
case $out in
*saslguard.conf:$badline*) bed_ok "the reload reply names file and line" ;;
*) bed_not_ok "the reload reply names file and line" "reply: $out" ;;
esac
# an unknown key is reported with its line too
sed 's/messages = { max = 5;/messages = { max = 100;/' "$BED_DIR/good.conf" \
    >"$conf"
echo 'limts = 3;' >>"$conf"
badline=$(wc -l <"$conf")
out=$(ctl reload 2>&1)
case $out in
*saslguard.conf:$badline*) bed_ok "an unknown key is reported with its line" ;;
*) bed_not_ok "an unknown key is reported with its line" "reply: $out" ;;
esac
for i in 1 2 3 4 5 6; do
	send rita "rita-$i@ext.test" >/dev/null 2>&1
done
bed_assert_eq "the old limit (5 messages) still holds rita's 6th" 1 \
    "$(held rita)"
bed_assert "the hold says max=5" \
    bed_sg_grep_new ': hold: user=rita@example\.test .*'\
'limit=messages count=6 max=5'
sed 's/messages = { max = 5;/messages = { max = 100;/' "$BED_DIR/good.conf" \
    >"$conf"
bed_assert "saslguardctl reload accepts the repaired file" ctl reload
for i in 1 2 3 4 5 6; do
	send sam "sam-$i@ext.test" >/dev/null 2>&1
done
bed_assert_eq "the repaired file is in force: sam's 6th is not held" 0 \
    "$(held sam)"

bed_assert_eq "one and the same daemon process ran drills 2 to 5" "$sg_pid" \
    "$BED_SG_PID"
stop_rc=0
bed_stop_saslguard || stop_rc=$?
bed_assert_eq "saslguard exits 0 on SIGTERM after the drills" 0 "$stop_rc"
bed_finish
