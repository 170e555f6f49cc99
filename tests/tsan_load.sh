#!/bin/bash
# tsan_load.sh - saslguard under ThreadSanitizer with concurrent load
#
# Builds milter/saslguard, tools/saslguardctl and bench/loadgen with
# -fsanitize=thread in a build directory of its own, runs the daemon as the
# milter of the private Postfix (tests/lib/pfbed.sh), drives it with
# bench/loadgen at concurrency 32 with bursting users (so accounts are
# flagged and their queued mail contained while mail flows) and, at the
# same time, a loop of control commands (stats, list, show, flag, unflag,
# reload) and SIGUSR1 reloads.  Fails on any ThreadSanitizer report whose
# stack runs through saslguard's own code (common/, milter/); reports
# that lie wholly inside libraries are printed but do not fail the run.
# libmilter and ld.so are not instrumented: tests/tsan.supp
# suppresses what TSan cannot see through in it.
#
# Not part of "make check" (the build takes minutes).  Run as root from the
# source tree or a build tree:
#   tests/tsan_load.sh            build in a temporary directory
#   TSAN_BUILDDIR=DIR tests/tsan_load.sh   build (or reuse) DIR
#   TSAN_SECONDS=N                length of the load (default 20)
# A source tree configured in place cannot host another build: its
# sources are then copied first.
#
# Exit status: 0 no report in saslguard's code, 1 reports or a failed
# check, 77 cannot run here, 99 the build or the bed broke.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
seconds=${TSAN_SECONDS:-20}
build=${TSAN_BUILDDIR:-}
scratch=

say() { printf 'tsan_load.sh: %s\n' "$*"; }

if [ -z "$build" ]; then
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/saslguard-tsan.XXXXXX") || exit 99
	build=$scratch/build
fi
mkdir -p "$build" || exit 99
build=$(cd "$build" && pwd)

if [ ! -x "$build/milter/saslguard" ]; then
	src=$top
	if [ -f "$top/config.status" ]; then
		say "the source tree is configured in place: copying it"
		src=$build/../tsan-src
		rm -rf "$src"
		mkdir -p "$src" &&
			tar -C "$top" --exclude=./.git --exclude=./build \
			    --exclude=./build-asan --exclude=./build-tsan -cf - . |
			tar -C "$src" -xf - &&
			(cd "$src" && make -s distclean >/dev/null 2>&1; true) ||
			exit 99
		src=$(cd "$src" && pwd)
	fi
	say "building with -fsanitize=thread in $build"
	(cd "$build" &&
		"$src/configure" CFLAGS="-fsanitize=thread -g -O1" \
		    LDFLAGS=-fsanitize=thread >configure.log 2>&1 &&
		make -j2 milter/saslguard tools/saslguardctl bench/loadgen \
		    >make.log 2>&1) || {
		say "the TSan build failed; see $build/configure.log, make.log"
		tail -n 20 "$build/make.log" 2>/dev/null
		exit 99
	}
fi

SASLGUARD=$build/milter/saslguard
CTL=$build/tools/saslguardctl
LOADGEN=$build/bench/loadgen

. "$here/lib/pfbed.sh"

bed_require
BED_TIMEOUT=${BED_TIMEOUT:-$((seconds * 4 + 120))}
bed_init
if [ -n "$scratch" ]; then
	# remove the build with the bed, unless the bed is kept
	tsan_cleanup()
	{
		local rc=$?

		[ "${KEEP_BED:-0}" = 1 ] || rm -rf "$scratch"
		(exit "$rc")
		bed_cleanup
	}
	trap tsan_cleanup EXIT
fi

TSAN_OPTIONS="halt_on_error=0 exitcode=0 second_deadlock_stack=1 history_size=4"
TSAN_OPTIONS="$TSAN_OPTIONS suppressions=$here/tsan.supp"
TSAN_OPTIONS="$TSAN_OPTIONS log_path=$BED_DIR/tsan"
export TSAN_OPTIONS

CONF='mode = "enforce";
limits = {
	messages = { max = 100; window = "1h"; };
	recipients = { max = 3000; window = "1h"; };
	recipients_per_message = 100;
	client_addresses = { max = 5; window = "1h"; };
	sender_mismatch = true;
};'

ctl() { "$CTL" -s "$BED_DIR/control.sock" "$@"; }

bed_start_sink || bed_die "cannot start smtp-sink"
bed_start_postfix || bed_die "cannot start Postfix"
bed_start_saslguard "$CONF" || bed_die "saslguard (TSan) did not start"

# control_loop - control commands and reloads until the file stop exists
control_loop()
{
	local i=0

	while [ ! -e "$BED_DIR/stop" ]; do
		i=$((i + 1))
		ctl stats >/dev/null 2>&1
		ctl list >/dev/null 2>&1
		ctl show "ts$((i % 50))@bench.example" >/dev/null 2>&1
		ctl flag "op$((i % 7))@example.test" "tsan run" >/dev/null 2>&1
		ctl unflag "op$(((i + 3) % 7))@example.test" >/dev/null 2>&1
		if [ $((i % 5)) -eq 0 ]; then
			ctl reload >/dev/null 2>&1
			kill -USR1 "$BED_SG_PID" 2>/dev/null
		fi
		sleep 0.05
	done
	echo "$i" >"$BED_DIR/control.rounds"
}

control_loop &
loop_pid=$!
bed_log "loadgen: concurrency 32, $seconds s, 8 bursting users"
out=$("$LOADGEN" -s "unix:$BED_DIR/milter.sock" -c 32 -d "$seconds" \
    -u 5000 -b 8x150 --prefix ts --seed 11 --messages-max 100 \
    --recipients-max 3000 --recipients-per-message 100 --window 3600 \
    -t 30000 2>&1)
rc=$?
: >"$BED_DIR/stop"
wait "$loop_pid"
bed_log "$(printf '%s\n' "$out" |
    grep -E '^(transactions|replies|RESULT|last error)')"
bed_assert_eq "loadgen's policy check passes under TSan" 0 "$rc"
bed_log "control rounds: $(cat "$BED_DIR/control.rounds" 2>/dev/null)"
bed_assert "the daemon answers after the load" ctl stats

stop_rc=0
bed_stop_saslguard || stop_rc=$?
bed_assert_eq "saslguard exits 0 on SIGTERM" 0 "$stop_rc"

# one report per "WARNING: ThreadSanitizer" block, in files tsan.PID
reports=$(cat "$BED_DIR"/tsan.* 2>/dev/null)
total=$(printf '%s\n' "$reports" | grep -c 'WARNING: ThreadSanitizer')
ours=$(printf '%s\n' "$reports" | awk '
	/WARNING: ThreadSanitizer/ { inrep = 1; mine = 0; next }
	inrep && /(^|[ \/])(common|milter)\/[a-z_]+\.c:[0-9]+/ { mine = 1 }
	inrep && /^SUMMARY: ThreadSanitizer/ { n += mine; inrep = 0 }
	END { print n + 0 }')
bed_log "ThreadSanitizer: $total report(s), $ours in saslguard's code"
if [ "$total" -gt 0 ]; then
	printf '%s\n' "$reports" | head -c 60000
fi
bed_assert_eq "no ThreadSanitizer report in saslguard's code" 0 "$ours"
bed_finish
