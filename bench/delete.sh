#!/bin/bash
# bench/delete.sh - "saslguardctl queue" and "delete" of N held messages,
# with a real private Postfix (tests/lib/pfbed.sh)
#
# Sending N messages through SMTP would take far longer than the delete,
# so the hold queue is filled the way Postfix would have filled it, only
# faster:
#   1. an account is flagged with "saslguardctl flag", then sends a few
#      real messages through the bed's submission port: saslguard holds
#      them and records them in its state store;
#   2. saslguard is stopped; one held queue file is cloned into the hold
#      queue directory, each clone named as Postfix names a queue file
#      (enable_long_queue_ids = no: five hex digits of microseconds, then
#      the file's own inode number in hex), with the original's owner,
#      mode and times; the clones carry the original's arrival time and
#      sender, so they are that account's held mail in every respect;
#   3. for each clone, the original's row of the store's messages table is
#      copied with the clone's queue ID (sqlite3, the daemon stopped), so
#      the store holds what the daemon itself would have recorded;
#   4. saslguard is started again; "saslguardctl queue USER" and
#      "saslguardctl delete USER" are timed.
# Before the bulk, a few clones are checked: postqueue -j lists them in
# the hold queue with the original's sender and arrival time, postsuper
# -s (which renames a queue file whose name does not match its inode)
# leaves their names alone, and postsuper -d removes one of them.
#
# Output: progress on stderr; on stdout one line
#   RESULT n=... real=... clone_s=... postqueue_s=... queue_s=... queued=...
#   postsuper_s=... removed=... delete_s=... deleted=... cli_s=... cli_rc=...
#   hold_after=... wait_max=...
# Exit status: 0 measured, 1 a step failed, 77 this machine cannot run the
# bed (not root, Postfix or tools missing).
#
# Usage: bench/delete.sh [-n N] [-w SECONDS]
#   -n  held messages to delete (default 100000)
#   -w  how long to wait for the daemon to finish the delete (default 300)
# Environment: BENCH_BUILDDIR, the build tree (default: the source tree).

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${BENCH_BUILDDIR:-$top}
total=100000
real=3
user=bob
wait_max=300
BED_TIMEOUT=${BED_TIMEOUT:-900}

while [ $# -gt 0 ]; do
	case $1 in
	-n) total=$2; shift ;;
	-w) wait_max=$2; shift ;;
	*) echo "usage: bench/delete.sh [-n N] [-w SECONDS]" >&2; exit 2 ;;
	esac
	shift
done
[ "$total" -gt "$real" ] 2>/dev/null || {
	echo "bench/delete.sh: -n must be more than $real" >&2
	exit 2
}

SASLGUARD=$build/milter/saslguard
CTL=$build/tools/saslguardctl
export SASLGUARD
# shellcheck source=../tests/lib/pfbed.sh
. "$top/tests/lib/pfbed.sh"
[ -x "$CTL" ] || bed_skip "$CTL is not built"
command -v perl >/dev/null 2>&1 || bed_skip "perl not found"
bed_require
bed_init >&2

say() {
	printf 'delete: %s\n' "$*" >&2
}

fail() {
	say "$*"
	exit 1
}

ctl() {
	"$CTL" -s "$BED_DIR/control.sock" "$@"
}

# now - seconds since the epoch, with nanoseconds
now() {
	date +%s.%N
}

# since T0 - seconds elapsed since T0, three decimals
since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'
}

# held - the number of messages in the hold queue
held() {
	bed_queue_count hold
}

addr=$(bed_addr "$user")
CONF='control_socket_mode = "0666";
hold_queued_on_flag = false;'

bed_add_user "$user" "pw-$user" || fail "cannot add user $user"
bed_start_saslguard "$CONF" >&2 || fail "saslguard did not start"
bed_start_postfix >&2 || fail "postfix did not start"

ctl flag "$addr" "delete benchmark" >/dev/null || fail "flag $addr failed"

# a body of about 2 kB, as spam goes
body=$(for i in $(seq 30); do
	printf 'Line %02d of a message that is held and then deleted in bulk.\n' "$i"
done)
for i in $(seq "$real"); do
	swaks --server "127.0.0.1:$BED_SUBMISSION_PORT" --helo client.test \
	    --auth LOGIN --auth-user "$addr" --auth-password "pw-$user" \
	    --from "$addr" --to "victim$i@ext.test" \
	    --header "Subject: offer $i" --body "$body" \
	    --timeout 30 --silent 2 >/dev/null ||
		fail "swaks: message $i not accepted"
done
bed_wait_for 30 bed_queue_settled
[ "$(held)" = "$real" ] || fail "expected $real held messages, found $(held)"
bed_stop_saslguard

# the first held message: its queue ID, arrival time and sender
line=$(postqueue -c "$BED_DIR/etc" -j | grep -F '"queue_name": "hold"' |
    head -1)
src=$(printf '%s\n' "$line" | sed -n 's/.*"queue_id": "\([^"]*\)".*/\1/p')
arrival=$(printf '%s\n' "$line" |
    sed -n 's/.*"arrival_time": \([0-9]*\).*/\1/p')
sender=$(printf '%s\n' "$line" | sed -n 's/.*"sender": "\([^"]*\)".*/\1/p')
hold=$BED_DIR/spool/hold
[ -n "$src" ] && [ -f "$hold/$src" ] || fail "no held queue file found"
rows=$(sqlite3 "$BED_DIR/state.db" \
    "SELECT count(*) FROM messages WHERE queue_id = '$src' AND user = '$addr' AND held = 1;")
[ "$rows" = 1 ] || fail "the store has $rows rows for $src, expected 1"
say "cloning $src (arrival $arrival, sender $sender)"

# clone N - N more copies of $src in the hold queue; their IDs on stdout
clone() {
	perl -e '
	use strict;
	my ($dir, $src, $n, $seed) = @ARGV;
	open(my $in, "<:raw", "$dir/$src") or die "$src: $!\n";
	local $/;
	my $data = <$in>;
	close($in);
	my @st = stat("$dir/$src") or die "$src: $!\n";
	my ($mode, $uid, $gid, $atime, $mtime) = @st[2, 4, 5, 8, 9];
	srand($seed);
	for (my $i = 0; $i < $n; $i++) {
		my $tmp = "$dir/clone.$$";
		open(my $out, ">:raw", $tmp) or die "$tmp: $!\n";
		print $out $data or die "$tmp: $!\n";
		close($out) or die "$tmp: $!\n";
		chown($uid, $gid, $tmp) or die "$tmp: $!\n";
		chmod($mode & 07777, $tmp) or die "$tmp: $!\n";
		utime($atime, $mtime, $tmp) or die "$tmp: $!\n";
		my $ino = (stat($tmp))[1];
		# Postfix short queue ID: microseconds, then the inode number
		my $id = sprintf("%05X%X", int(rand(1000000)), $ino);
		die "$id exists\n" if -e "$dir/$id";
		rename($tmp, "$dir/$id") or die "$id: $!\n";
		print "$id\n";
	}' "$hold" "$src" "$1" "$RANDOM"
}

# first a few, checked one by one against Postfix's own tools
clone 5 >"$BED_DIR/probe.ids" || fail "cloning failed"
pq=$(postqueue -c "$BED_DIR/etc" -j) || fail "postqueue -j failed"
while read -r id; do
	printf '%s\n' "$pq" | grep -F "\"queue_id\": \"$id\"" |
	    grep -F '"queue_name": "hold"' |
	    grep -F "\"arrival_time\": $arrival," |
	    grep -qF "\"sender\": \"$sender\"" ||
		fail "postqueue -j does not list clone $id as held mail of $sender"
done <"$BED_DIR/probe.ids"
# postsuper -s renames a queue file whose name does not match its inode
postsuper -c "$BED_DIR/etc" -s >/dev/null 2>&1 || fail "postsuper -s failed"
while read -r id; do
	[ -f "$hold/$id" ] || fail "postsuper -s renamed clone $id"
done <"$BED_DIR/probe.ids"
probe=$(head -1 "$BED_DIR/probe.ids")
printf '%s\n' "$probe" | postsuper -c "$BED_DIR/etc" -d - >/dev/null 2>&1
[ ! -e "$hold/$probe" ] && bed_wait_for 10 bed_log_grep "$probe: removed" ||
	fail "postsuper -d did not remove clone $probe"
say "probe: postqueue -j lists the clones as held mail, postsuper -s keeps their names, postsuper -d removes them"

t0=$(now)
{
	tail -n +2 "$BED_DIR/probe.ids"
	clone $((total - real - 4))
} >"$BED_DIR/clone.ids" || fail "cloning failed"
clone_s=$(since "$t0")
n=$(wc -l <"$BED_DIR/clone.ids")
[ "$n" = $((total - real)) ] || fail "$n clones made, expected $((total - real))"

# the store: the original's row once more for each clone
sqlite3 "$BED_DIR/state.db" >/dev/null <<EOF || fail "sqlite3 insert failed"
.timeout 5000
CREATE TEMP TABLE clones (queue_id TEXT NOT NULL);
.import $BED_DIR/clone.ids clones
BEGIN;
INSERT INTO messages (queue_id, user, sender, nrcpt, client, arrival, held,
    state, recorded_at)
  SELECT c.queue_id, m.user, m.sender, m.nrcpt, m.client, m.arrival, m.held,
    m.state, m.recorded_at
  FROM clones c, messages m WHERE m.queue_id = '$src';
COMMIT;
EOF
rows=$(sqlite3 "$BED_DIR/state.db" \
    "SELECT count(*) FROM messages WHERE user = '$addr' AND held = 1 AND state = 'queued';")
[ "$rows" = "$total" ] || fail "the store has $rows held rows, expected $total"
[ "$(held)" = "$total" ] || fail "the hold queue has $(held), expected $total"
say "$total held messages of $addr in the queue and the store (cloned in ${clone_s}s)"

bed_start_saslguard "$CONF" >&2 || fail "saslguard did not restart"

t0=$(now)
postqueue -c "$BED_DIR/etc" -j >"$BED_DIR/pq.json" || fail "postqueue -j failed"
postqueue_s=$(since "$t0")

t0=$(now)
ctl --json queue "$addr" >"$BED_DIR/queue.json" || fail "saslguardctl queue failed"
queue_s=$(since "$t0")
queued=$(grep -o '"queue_id"' "$BED_DIR/queue.json" | wc -l)

# the delete runs in the background: saslguardctl gives up after its
# 60 s read timeout, the daemon goes on; the phases are timed from the
# postsuper summary in the maillog and the daemon's own action line
ctl --json delete "$addr" >"$BED_DIR/delete.out" 2>&1 &
cpid=$!
t0=$(now)
postsuper_s=- delete_s=- cli_s=- cli_rc=-
while :; do
	if [ "$postsuper_s" = - ] &&
	    bed_log_grep "postsuper\[[0-9]+\]: Deleted: [0-9]+ messages"; then
		postsuper_s=$(since "$t0")
	fi
	if [ "$cli_s" = - ] && bed_is_dead "$cpid"; then
		cli_s=$(since "$t0")
		wait "$cpid"
		cli_rc=$?
	fi
	if bed_sg_grep "action=delete user=$addr deleted="; then
		delete_s=$(since "$t0")
		break
	fi
	[ "$(since "$t0" | cut -d. -f1)" -ge "$wait_max" ] && break
	sleep 0.1
done
[ "$cli_s" = - ] && { wait "$cpid"; cli_rc=$?; cli_s=$(since "$t0"); }
out=$(cat "$BED_DIR/delete.out")
deleted=$(sed -n 's/.*action=delete user=[^ ]* deleted=\([0-9]*\).*/\1/p' \
    "$BED_DIR/saslguard.log" | tail -1)
removed=$(sed -n 's/.*postsuper\[[0-9]*\]: Deleted: \([0-9]*\) messages.*/\1/p' \
    "$BED_DIR/log/maillog" | tail -1)
after=$(held)
say "queue ${queue_s}s ($queued listed); delete: postsuper done at ${postsuper_s}s ($removed removed), daemon done at ${delete_s}s, saslguardctl exit $cli_rc at ${cli_s}s: $out"

printf 'RESULT n=%s real=%s clone_s=%s postqueue_s=%s queue_s=%s queued=%s postsuper_s=%s removed=%s delete_s=%s deleted=%s cli_s=%s cli_rc=%s hold_after=%s wait_max=%s\n' \
    "$total" "$real" "$clone_s" "$postqueue_s" "$queue_s" "$queued" \
    "$postsuper_s" "${removed:-0}" "$delete_s" "${deleted:-0}" "$cli_s" \
    "$cli_rc" "$after" "$wait_max"
[ "${deleted:-0}" = "$total" ] && [ "$after" = 0 ]
