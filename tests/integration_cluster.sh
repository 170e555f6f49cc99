#!/bin/bash
# integration_cluster.sh - three saslguard daemons sharing one Redis
#
# Starts a private redis-server on a free loopback port and three daemons
# with the same redis group (server_id mx1, mx2, mx3), each with its own
# sockets and state, and drives them with the milter protocol directly
# (bench/loadgen).  Shows:
#   - a burst spread evenly over the three daemons is held at the
#     cluster-wide limit: exactly messages.max pass in total, every daemon
#     holds the rest, and the account is flagged on all three
#   - a flag raised by hand on mx1 holds the account's mail on mx2 and mx3
#   - delete/release go to every server, which answers for its own queue
#   - redis-server stopped mid-test: mail still flows (local counters,
#     "redis_fallback" and "cluster: down" in stats, one log line), a flag
#     still holds, a flag raised during the outage is kept; when Redis is
#     back (empty: it saved nothing) the daemons reconnect by themselves,
#     the flags are intact on every daemon and in Redis, the one raised
#     during the outage included, and Redis decides again
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here
# (not root, redis-server missing; a failure when CI=true), 99 setup broke.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILDDIR:-$PWD}
SASLGUARD=${SASLGUARD:-$build/milter/saslguard}
CTL=${SASLGUARDCTL:-$build/tools/saslguardctl}
LOADGEN=${LOADGEN:-$build/bench/loadgen}
PATH=$PATH:/usr/sbin:/sbin

LIMIT=12        # messages.max of the test's policy
PER_DAEMON=10   # burst messages sent to each daemon

FAILS=0
CHECKS=0
PIDS=()
REDIS_PID=

skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $* (a skipped integration test fails when CI=true)" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (the daemons' queue helper)"
for t in redis-server redis-cli ss; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not found"
done
for f in "$SASLGUARD" "$CTL"; do
	[ -x "$f" ] || { echo "FAIL: $f not built" >&2; exit 99; }
done
if [ ! -x "$LOADGEN" ]; then
	make -C "$build" bench/loadgen >/dev/null 2>&1 ||
		{ echo "FAIL: cannot build bench/loadgen" >&2; exit 99; }
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/sg-cluster.XXXXXX") || exit 99
chmod 755 "$DIR"

cleanup() {
	local p
	for p in "${PIDS[@]}" $REDIS_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}" $REDIS_PID; do
		wait "$p" 2>/dev/null
	done
	if [ "$FAILS" -gt 0 ] || [ "${KEEP_BED:-}" = 1 ]; then
		echo "logs kept in $DIR"
	else
		rm -rf "$DIR"
	fi
}
trap cleanup EXIT

log() { echo "--- $*"; }

check() {
	local what=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		FAILS=$((FAILS + 1))
	fi
}

# wait_for - poll a command for up to $1 seconds
wait_for() {
	local t=$(($1 * 10))
	shift
	while [ "$t" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# free_port - a loopback TCP port nobody listens on
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

PORT=$(free_port) || exit 99

start_redis() {
	redis-server --port "$PORT" --bind 127.0.0.1 --save "" \
	    --appendonly no --daemonize no --dir "$DIR" \
	    >>"$DIR/redis.log" 2>&1 &
	REDIS_PID=$!
	wait_for 5 redis-cli -p "$PORT" ping >/dev/null 2>&1 ||
		{ echo "FAIL: redis-server does not start" >&2; exit 99; }
}

stop_redis() {
	kill -TERM "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

rcli() { redis-cli -p "$PORT" "$@"; }

write_conf() {
	local i=$1
	cat >"$DIR/sg$i.conf" <<EOF
milter_socket = "unix:$DIR/sg$i.sock";
milter_socket_mode = "0666";
milter_socket_group = "";
state_db = "$DIR/state$i.db";
control_socket = "$DIR/ctl$i.sock";
hold_queued_on_flag = false;
limits = {
	messages = { max = $LIMIT; window = "1h"; };
	recipients = { max = 1000; window = "1h"; };
	recipients_per_message = 100;
	client_addresses = { max = 5; window = "1h"; };
	sender_mismatch = true;
};
redis = {
	address = "127.0.0.1:$PORT";
	prefix = "sgtest:";
	connect_timeout = "200ms";
	timeout = "200ms";
	server_id = "mx$i";
};
EOF
}

ctl() { local i=$1; shift; "$CTL" -s "$DIR/ctl$i.sock" "$@"; }

stat_of() { ctl "$1" stats | sed -n "s/^$2: //p"; }

# send - loadgen to daemon $1, one message per user; prints its RESULT line
send() {
	local i=$1
	shift
	"$LOADGEN" -s "unix:$DIR/sg$i.sock" --domain example.test "$@" |
	    grep '^RESULT'
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

listed() { ctl "$1" list | grep -q "^$2 "; }

start_redis
for i in 1 2 3; do
	write_conf "$i"
	"$SASLGUARD" -f -c "$DIR/sg$i.conf" >"$DIR/sg$i.log" 2>&1 &
	PIDS+=($!)
done
for i in 1 2 3; do
	wait_for 10 test -S "$DIR/ctl$i.sock" ||
		{ echo "FAIL: daemon $i does not start" >&2; cat "$DIR/sg$i.log"; exit 99; }
	wait_for 5 sh -c "'$CTL' -s '$DIR/ctl$i.sock' stats | grep -q '^cluster: up'" ||
		{ echo "FAIL: daemon $i not in the cluster" >&2; cat "$DIR/sg$i.log"; exit 99; }
done

log "a burst of $((3 * PER_DAEMON)) messages, $PER_DAEMON on each daemon, limit $LIMIT"
for i in 1 2 3; do
	send "$i" -c 2 --distinct -u 1 -b "1x$PER_DAEMON" --prefix c \
	    >"$DIR/burst$i.out" &
done
wait_for 30 sh -c "[ \$(cat '$DIR'/burst?.out | wc -l) -eq 3 ]"
passed=0
held=0
for i in 1 2 3; do
	r=$(cat "$DIR/burst$i.out")
	echo "mx$i: $r"
	# the one normal user of each run ("c0") passes: not part of the burst
	passed=$((passed + $(field "$r" continue) + $(field "$r" accept) - 1))
	held=$((held + $(field "$r" quarantine)))
done
sleep 0.3	# pass lines reach the log in batches, at most 100 ms late
logpass=$(cat "$DIR"/sg?.log | grep -c 'pass: user=cburst0@')
loghold=$(cat "$DIR"/sg?.log | grep -c 'hold: user=cburst0@')
echo "burst: passed $passed (logs $logpass), held $held (logs $loghold)"
check "the cluster passed exactly messages.max of the burst" \
    [ "$passed" -eq "$LIMIT" -a "$logpass" -eq "$LIMIT" ]
check "the rest of the burst was held" \
    [ "$held" -eq $((3 * PER_DAEMON - LIMIT)) -a "$loghold" -eq "$held" ]
for i in 1 2 3; do
	check "the burster is flagged on mx$i" \
	    wait_for 5 listed "$i" cburst0@example.test
done
check "the flag is in Redis" \
    [ -n "$(rcli hget sgtest:flags cburst0@example.test)" ]
check "every transaction was decided in Redis" \
    [ "$(($(stat_of 1 redis_decided) + $(stat_of 2 redis_decided) + $(stat_of 3 redis_decided)))" -eq $((3 * PER_DAEMON + 3)) ]

log "a flag raised by hand on mx1 holds the mail on mx2 and mx3"
ctl 1 flag victim0@example.test "cluster test" >/dev/null
for i in 2 3; do
	check "mx$i lists the flag of mx1" wait_for 5 listed "$i" victim0@example.test
	r=$(send "$i" --distinct -u 1 --prefix victim)
	check "mx$i holds the flagged account's mail" \
	    [ "$(field "$r" quarantine)" -eq 1 ]
done

log "delete and release go to every server"
out=$(ctl 2 --json release victim0@example.test --dry-run)
echo "$out"
for i in 1 2 3; do
	check "mx$i answered the release" \
	    eval 'echo "$out" | grep -q "{\"server\": \"mx$i\", "'
done
check "the release reply says all three answered" \
    eval 'echo "$out" | grep -q "\"servers\": 3, \"missing\": \"\""'
out=$(ctl 2 delete victim0@example.test)
echo "$out"
check "delete prints one row per server" \
    eval '[ "$(echo "$out" | grep -c "^mx[123] ")" -eq 3 ]'

log "unflag on mx3 clears the flag everywhere"
ctl 3 unflag victim0@example.test >/dev/null
for i in 1 2; do
	check "mx$i no longer lists the unflagged account" \
	    wait_for 5 sh -c "! '$CTL' -s '$DIR/ctl$i.sock' list | grep -q '^victim0@'"
done
ctl 1 flag victim0@example.test "cluster test" >/dev/null
wait_for 5 listed 3 victim0@example.test

log "redis-server frozen (SIGSTOP): a slow Redis"
kill -STOP "$REDIS_PID"
r=$(send 2 -c 2 --distinct -u 6 --prefix slow)
kill -CONT "$REDIS_PID"
echo "mx2: $r"
check "mail flows while Redis hangs" \
    [ "$(field "$r" continue)" -eq 6 -a "$(field "$r" error)" -eq 0 ]
check "no transaction waited much longer than redis.timeout (200 ms)" \
    [ "$(field "$r" max)" -lt 600000 ]
check "mx2 is back in the cluster when Redis answers again" \
    wait_for 15 sh -c "'$CTL' -s '$DIR/ctl2.sock' stats | grep -q '^cluster: up'"

log "redis-server stopped"
down0=$(grep -c 'redis: unreachable' "$DIR/sg1.log")
up0=$(grep -c 'redis: .*reachable again' "$DIR/sg1.log")
stop_redis
r=$(send 1 -c 4 --distinct -u 20 --prefix out)
echo "mx1: $r"
check "mail flows without Redis" \
    [ "$(field "$r" continue)" -eq 20 -a "$(field "$r" error)" -eq 0 ]
check "mx1 says it uses its local counters" \
    [ "$(stat_of 1 cluster)" = down -a "$(stat_of 1 redis_fallback)" -ge 20 ]
check "the outage is logged once" \
    [ "$(grep -c 'redis: unreachable' "$DIR/sg1.log")" -eq $((down0 + 1)) ]
r=$(send 2 --distinct -u 1 --prefix victim)
check "a flag still holds mail during the outage" \
    [ "$(field "$r" quarantine)" -eq 1 ]
r=$(send 1 -c 2 --distinct -u 1 -b "1x$((LIMIT + 3))" --prefix local)
check "local counters still enforce the limit" \
    [ "$(field "$r" quarantine)" -eq 3 ]
ctl 2 flag outage0@example.test "raised during the outage" >/dev/null
check "a flag raised during the outage holds on its server" \
    listed 2 outage0@example.test

log "redis-server back (empty)"
start_redis
for i in 1 2 3; do
	check "mx$i reconnects by itself" \
	    wait_for 15 sh -c "'$CTL' -s '$DIR/ctl$i.sock' stats | grep -q '^cluster: up'"
done
check "the recovery is logged once" \
    [ "$(grep -c 'redis: .*reachable again' "$DIR/sg1.log")" -eq $((up0 + 1)) ]
for u in cburst0 victim0 outage0; do
	check "the flag of $u is back in Redis" \
	    wait_for 5 sh -c "[ -n \"\$(redis-cli -p $PORT hget sgtest:flags $u@example.test)\" ]"
	for i in 1 2 3; do
		check "mx$i lists the flag of $u" \
		    wait_for 5 listed "$i" "$u@example.test"
	done
done
before=$(stat_of 3 redis_decided)
r=$(send 3 --distinct -u 1 --prefix outage)
check "mx3 holds the mail of the account flagged during the outage" \
    [ "$(field "$r" quarantine)" -eq 1 ]
check "Redis decides again" [ "$(stat_of 3 redis_decided)" -gt "$before" ]

echo "$((CHECKS - FAILS)) passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
