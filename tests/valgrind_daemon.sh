#!/bin/bash
# valgrind_daemon.sh - the daemon under valgrind memcheck over a test run
#
# Runs saslguard as the milter of the private Postfix (tests/lib/pfbed.sh)
# under "valgrind --leak-check=full --errors-for-leak-kinds=definite
# --error-exitcode=1", drives it with bench/loadgen (normal and bursting
# users, so accounts get flagged), real Postfix mail, hostile milter peers
# (tests/hostile_milter) and every control command, stops it with SIGTERM
# and checks: exit status 0, no memcheck error and no definite leak in any
# process of the daemon (the privileged queue helper is a fork of it and
# gets its own report).
#
# A binary built with a sanitizer cannot run under valgrind: the test is
# skipped (77) there, even when CI=true, since that build has its own
# checks.
#
# Exit status: 0 clean, 1 a check failed, 77 cannot run here, 99 the bed
# broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

CTL=${SASLGUARDCTL:-$PWD/tools/saslguardctl}
HOSTILE=${HOSTILE_MILTER:-$PWD/tests/hostile_milter}
LOADGEN=${LOADGEN:-$PWD/bench/loadgen}
REAL_SASLGUARD=$SASLGUARD

if [ -x "$REAL_SASLGUARD" ] &&
    grep -qaE '__(asan|tsan|msan)_init' "$REAL_SASLGUARD"; then
	echo "SKIP: $REAL_SASLGUARD is built with a sanitizer; valgrind cannot run it"
	exit 77
fi
command -v valgrind >/dev/null 2>&1 || bed_skip "valgrind not found"
for prog in "$CTL" "$HOSTILE" "$LOADGEN"; do
	[ -x "$prog" ] || bed_skip "$prog is not built"
done
bed_require
BED_TIMEOUT=${BED_TIMEOUT:-400}
bed_init

# the bed starts "$SASLGUARD": a wrapper that execs valgrind (same pid)
cat >"$BED_DIR/saslguard-vg" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \\
    --errors-for-leak-kinds=definite --error-exitcode=1 --num-callers=30 \\
    --log-file="$BED_DIR/valgrind.%p.log" "$REAL_SASLGUARD" "\$@"
EOF
chmod 0755 "$BED_DIR/saslguard-vg"
SASLGUARD=$BED_DIR/saslguard-vg

for u in alice bob; do
	bed_add_user "$u" "pw-$u" || bed_die "cannot add user $u"
done

CONF="mode = \"enforce\";
limits = {
	messages = { max = 20; window = \"1h\"; };
	recipients = { max = 1000; window = \"1h\"; };
	recipients_per_message = 50;
	client_addresses = { max = 5; window = \"1h\"; };
	sender_mismatch = true;
};"

ctl() { "$CTL" -s "$BED_DIR/control.sock" "$@"; }

bed_start_sink || bed_die "cannot start smtp-sink"
bed_start_postfix || bed_die "cannot start Postfix"
bed_start_saslguard "$CONF" || bed_die "saslguard did not start under valgrind"
vg_pid=$BED_SG_PID

bed_log "loadgen: normal and bursting users"
out=$("$LOADGEN" -s "unix:$BED_DIR/milter.sock" -c 8 -n 1500 -u 300 \
    -b 3x30 --seed 5 --messages-max 20 --recipients-max 1000 \
    --recipients-per-message 50 --window 3600 -t 20000 2>&1)
rc=$?
bed_log "$(printf '%s\n' "$out" | grep -E '^(transactions|replies|RESULT)')"
bed_assert_eq "loadgen's policy check passes under valgrind" 0 "$rc"

bed_log "real mail through Postfix"
for i in 1 2 3; do
	bed_send alice pw-alice alice@example.test "a$i@ext.test" ||
		bed_not_ok "Postfix accepts alice's message $i"
done
for i in $(seq 1 22); do
	bed_send bob pw-bob bob@example.test "b$i@ext.test" >/dev/null 2>&1
done
bed_assert "bob is flagged" bed_wait_for 5 bed_flagged bob

bed_log "hostile milter peers"
for sc in short-data huge-length big-macro long-values nul-bytes \
    unknown-cmd; do
	"$HOSTILE" "unix:$BED_DIR/milter.sock" "$sc" >/dev/null 2>&1 ||
		bed_not_ok "hostile peer '$sc' sees the expected reaction"
done
"$HOSTILE" "unix:$BED_DIR/milter.sock" rcpts 300 carol@example.test \
    >/dev/null 2>&1 || bed_not_ok "300 recipients are held"

bed_log "control commands"
bed_assert "stats" ctl stats
bed_assert "list" ctl list
bed_assert "show" ctl show bob@example.test
bed_assert "queue" ctl queue bob@example.test
bed_assert "flag" ctl flag alice@example.test "valgrind run"
bed_assert "unflag" ctl unflag alice@example.test
bed_assert "release --dry-run" ctl release bob@example.test --dry-run
bed_assert "delete --dry-run" ctl delete bob@example.test --dry-run
bed_assert "release" ctl release bob@example.test
bed_assert "reload" ctl reload
kill -USR1 "$vg_pid"
"$HOSTILE" "$BED_DIR/control.sock" ctl-binary >/dev/null 2>&1 ||
	bed_not_ok "the control socket answers after garbage"
"$HOSTILE" "$BED_DIR/control.sock" ctl-long >/dev/null 2>&1 ||
	bed_not_ok "the control socket answers after a long line"
bed_assert "stats after everything" ctl stats
settle_ok=0
bed_wait_queue_settled 20 && settle_ok=1
bed_assert_eq "the queue settles" 1 "$settle_ok"

# SIGTERM; libmilter and valgrind's leak check need their time
bed_log "stopping saslguard"
kill -TERM "$vg_pid"
if bed_wait_dead "$vg_pid" 90; then
	wait "$vg_pid"
	stop_rc=$?
else
	kill -9 "$vg_pid" 2>/dev/null
	stop_rc=timeout
fi
BED_SG_PID=
bed_assert_eq "saslguard under valgrind exits 0 on SIGTERM" 0 "$stop_rc"

# a child that ran a Postfix tool left a log that stops at its exec
bed_assert "valgrind reported on the daemon (pid $vg_pid)" \
    grep -q 'ERROR SUMMARY' "$BED_DIR/valgrind.$vg_pid.log"
bad=
n=0
for f in "$BED_DIR"/valgrind.*.log; do
	grep -q 'ERROR SUMMARY' "$f" || continue
	n=$((n + 1))
	bed_log "$f: $(grep -E 'definitely lost|ERROR SUMMARY' "$f" |
	    sed 's/^==[0-9]*== *//' | tr '\n' ' ')"
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$f" ||
	    grep -qE 'definitely lost: [1-9]' "$f"; then
		bad="$bad $f"
	fi
done
if [ -z "$bad" ]; then
	bed_ok "no memcheck error and no definite leak in $n process(es)"
else
	bed_not_ok "no memcheck error and no definite leak" \
	    "$(for f in $bad; do echo "== $f"; head -c 20000 "$f"; done)"
fi
bed_finish
