#!/bin/bash
# bench/cluster.sh - saslguard in cluster mode (Redis) against local mode
#
# In the same run and on the same machine: a private redis-server on a
# free loopback port, then for each round and each concurrency, saslguard
# started fresh in local mode (saslguard-bench.conf) and in cluster mode
# (the same file plus a redis group), alternating, each driven by loadgen
# for --seconds with the traffic of bench/run (10,000 Zipf users under the
# limits, five bursting users checked to get exactly messages.max through).
# Every cluster cell uses its own key prefix, so no cell inherits another's
# counters.  The table shows the median of the rounds and the ratio
# cluster / local; the cluster rows also say how many transactions fell
# back to local counters (none, when Redis keeps up).
#
# Everything started here is stopped on exit.
#
# Usage: bench/cluster.sh [--quick] [--rounds N] [--seconds S]
#                         [--conc "1 8 32"] [--no-build]
# Environment: BENCH_BUILDDIR, the build tree (default: the source tree).

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=${BENCH_BUILDDIR:-$top}

rounds=3
seconds=4
concs="1 8 32"
do_build=1

# the policy of saslguard-bench.conf, as loadgen must know it
msg_max=100
rcpt_max=3000
rcpt_per_msg=100
window=3600
users=10000
bursters=5
burst_size=150

usage() {
	sed -n '/^# Usage:/,/^# Environment/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) rounds=1; seconds=2 ;;
	--rounds) rounds=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--conc) concs=$2; shift ;;
	--no-build) do_build=0 ;;
	-h|--help) usage ;;
	*) echo "bench/cluster.sh: unknown option $1" >&2; usage ;;
	esac
	shift
done

say() {
	printf '%s\n' "$*" >&2
}

for t in redis-server redis-cli python3; do
	command -v "$t" >/dev/null 2>&1 || { say "bench/cluster.sh: $t not found"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/saslguard-cluster.XXXXXX") || exit 1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$do_build" = 1 ]; then
	make -C "$build" bench/loadgen milter/saslguard >"$tmp/build.log" 2>&1 || {
		cat "$tmp/build.log" >&2
		exit 1
	}
fi
for p in bench/loadgen milter/saslguard; do
	[ -x "$build/$p" ] || { say "bench/cluster.sh: $build/$p missing"; exit 1; }
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
rpid=$!
pids+=("$rpid")
for _ in $(seq 50); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$port" ping >/dev/null 2>&1 || { say "bench/cluster.sh: redis-server does not start"; exit 1; }

fpid=
fsock=

# start_sg MODE DIR PREFIX - saslguard in local or cluster mode
start_sg() {
	local mode=$1 dir=$2 prefix=$3
	mkdir -p "$dir"
	fsock="$dir/saslguard.sock"
	sed "s|@DIR@|$dir|g" "$here/saslguard-bench.conf" >"$dir/saslguard.conf"
	if [ "$mode" = cluster ]; then
		cat >>"$dir/saslguard.conf" <<EOF
redis = {
	address = "127.0.0.1:$port";
	prefix = "$prefix";
	timeout = "200ms";
	server_id = "bench";
};
EOF
	fi
	"$build/milter/saslguard" -c "$dir/saslguard.conf" -f \
	    >"$dir/saslguard.log" 2>&1 &
	fpid=$!
	pids+=("$fpid")
	for _ in $(seq 100); do
		[ -S "$fsock" ] && return 0
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.05
	done
	say "bench/cluster.sh: saslguard ($mode) did not open $fsock:"
	tail -5 "$dir/saslguard.log" >&2
	return 1
}

stop_sg() {
	kill -TERM "$fpid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	local keep=() p
	for p in "${pids[@]}"; do
		[ "$p" = "$fpid" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

field() {
	local kv
	for kv in $2; do
		case $kv in "$1="*) printf '%s' "${kv#*=}"; return ;; esac
	done
}

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

col() {
	local l
	printf '%s\n' "$2" | while read -r l; do
		field "$1" "$l"
		echo
	done | median
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
printf 'machine: %s CPUs, %s, Linux %s, %s\n' "$(nproc)" \
    "${cpu:-unknown CPU}" "$(uname -r)" "$(redis-server --version | cut -d' ' -f1-3)"
say "cluster vs local: $rounds round(s) x ${seconds}s per cell, alternating"

for round in $(seq "$rounds"); do
	for c in $concs; do
		for mode in local cluster; do
			dir="$tmp/r$round-$mode-c$c"
			start_sg "$mode" "$dir" "b${round}c$c:" || exit 1
			out=$("$build/bench/loadgen" -s "unix:$fsock" -c "$c" \
			    -d "$seconds" -p "$fpid" -u "$users" \
			    -b "${bursters}x$burst_size" --seed "$round" \
			    --prefix "r${round}c$c-" --messages-max "$msg_max" \
			    --recipients-max "$rcpt_max" \
			    --recipients-per-message "$rcpt_per_msg" \
			    --window "$window" 2>&1)
			fb=0
			if [ "$mode" = cluster ]; then
				fb=$("$build/tools/saslguardctl" -s "$dir/control.sock" \
				    stats 2>/dev/null | sed -n 's/^redis_fallback: //p')
			fi
			stop_sg
			res=$(printf '%s\n' "$out" | grep '^RESULT ')
			if [ -z "$res" ]; then
				say "bench/cluster.sh: loadgen failed ($mode c=$c):"
				say "$out"
				exit 1
			fi
			[ "$(field check "$res")" = fail ] && say "$out"
			say "  round $round  $mode  c=$c  $(field tps "$res") tx/s  check $(field check "$res")  fallback ${fb:-?}"
			printf '%s %s %s fallback=%s\n' "$mode" "$c" "$res" "${fb:-0}" \
			    >>"$tmp/results"
		done
	done
done

printf '\n%-8s %5s %8s %7s %7s %7s %10s %9s %6s\n' mode conc tx/s p50_us \
    p99_us max_us cpu_us/tx fallback check
for c in $concs; do
	for mode in local cluster; do
		rows=$(awk -v m="$mode" -v c="$c" '$1 == m && $2 == c' "$tmp/results")
		chk=pass
		printf '%s\n' "$rows" | grep -q 'check=fail' && chk=FAIL
		printf '%s\n' "$rows" | grep -qv ' error=0\b' && chk=ERROR
		printf '%-8s %5s %8.0f %7.0f %7.0f %7.0f %10.1f %9.0f %6s\n' \
		    "$mode" "$c" "$(col tps "$rows")" "$(col p50 "$rows")" \
		    "$(col p99 "$rows")" "$(col max "$rows")" \
		    "$(col cpu_us_tx "$rows")" "$(col fallback "$rows")" "$chk"
	done
	l=$(awk -v c="$c" '$1 == "local" && $2 == c' "$tmp/results")
	k=$(awk -v c="$c" '$1 == "cluster" && $2 == c' "$tmp/results")
	awk -v a="$(col tps "$k")" -v b="$(col tps "$l")" -v c="$c" \
	    'BEGIN { if (b > 0) printf "%-8s %5s %7.0f%%  (cluster tx/s as a share of local)\n", "ratio", c, 100 * a / b }'
done
