#!/bin/bash
# integration_privsep.sh - least privilege with a real Postfix
#
# The daemon starts as root, forks its queue helper, opens the milter
# socket and becomes the configured user (here nobody).  Shows:
#   - the process that parses SMTP input runs as nobody, with no root uid
#     left (real, effective, saved) and no supplementary root group
#   - the queue helper is the only root process, and it is the daemon's
#     child
#   - mail is still decided (a burst held, the account flagged), and the
#     operator's delete still works: the helper runs postsuper as root
#   - the state database and journal are private to that user (mode 0600)
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here,
# 99 the bed broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

CTL=${SASLGUARDCTL:-$PWD/tools/saslguardctl}
[ -x "$CTL" ] || bed_skip "$CTL is not built"
bed_require
bed_init
bed_add_user alice pw-alice || bed_die "cannot add user alice"

# the daemon's own files live where the unprivileged user may write
mkdir -p "$BED_DIR/state" && chown nobody "$BED_DIR/state" ||
	bed_die "cannot create the state directory"
bed_start_sink || bed_die "sink did not start"
bed_start_saslguard "user = \"nobody\";
state_db = \"$BED_DIR/state/state.db\";
journal = \"$BED_DIR/state/journal.jsonl\";
control_socket = \"$BED_DIR/state/control.sock\";
limits = { messages = { max = 2; window = \"1h\"; }; };" ||
	bed_die "saslguard did not start"
bed_start_postfix || bed_die "postfix did not start"
ctl() { "$CTL" -s "$BED_DIR/state/control.sock" "$@"; }

# ids PID - "real effective saved" uids of a process
ids() { awk '/^Uid:/ { print $2, $3, $4 }' "/proc/$1/status"; }

nobody=$(id -u nobody)
bed_assert_eq "the daemon runs as nobody (real, effective, saved)" \
    "$nobody $nobody $nobody" "$(ids "$BED_SG_PID")"
bed_assert "the daemon has no root group left" bash -c \
    "! awk '/^Groups:/ { for (i = 2; i <= NF; i++) if (\$i == 0) f = 1 } END { exit !f }' /proc/$BED_SG_PID/status"
# the daemon's child (no procps on a minimal system: read /proc)
helper=
for st in /proc/[0-9]*/stat; do
	if [ "$(awk '{ print $4 }' "$st" 2>/dev/null)" = "$BED_SG_PID" ]; then
		helper=${st#/proc/}
		helper=${helper%/stat}
		break
	fi
done
bed_assert "the queue helper is a child of the daemon" [ -n "$helper" ]
bed_assert_eq "the queue helper keeps root" "0 0 0" "$(ids "${helper:-0}")"

for i in 1 2 3 4; do
	bed_send alice pw-alice alice@example.test "r$i@ext.test" >/dev/null
done
bed_wait_queue_settled 20
bed_eventually_eq "the burst past the limit is held" 2 10 bed_queue_count hold
out=$(ctl list)
bed_assert "the account is flagged" grep -q '^alice@example.test ' <<<"$out"
out=$(ctl --json delete alice@example.test)
bed_assert "delete works through the root helper" grep -q '"deleted": 2' \
    <<<"$out"
bed_eventually_eq "the held mail is gone" 0 10 bed_queue_count hold

bed_assert_eq "the state database is private to its user" \
    "600 nobody" "$(stat -c '%a %U' "$BED_DIR/state/state.db")"
bed_assert_eq "the journal is private to its user" \
    "600 nobody" "$(stat -c '%a %U' "$BED_DIR/state/journal.jsonl")"

bed_finish
