# pfbed.sh - a private Postfix on loopback with saslguard as its milter
#
# Sourced (never run) by the integration scripts in tests/.  bed_init builds
# a throw-away Postfix instance in a temporary directory $BED_DIR:
#
#   submission smtpd  127.0.0.1:$BED_SUBMISSION_PORT  SASL (PLAIN, LOGIN),
#                     relays for authenticated users only, milter saslguard
#   MX smtpd          127.0.0.1:$BED_MX_PORT  no SASL, accepts mail for
#                     example.test only, milter saslguard
#   relayhost         smtp-sink on 127.0.0.1:$BED_SINK_PORT, "the internet"
#   local users       virtual Maildirs under $BED_DIR/vmail
#
# Nothing outside $BED_DIR is written and no system service is used.
# bed_init installs bed_cleanup as the EXIT trap: it stops every process the
# bed started and removes $BED_DIR unless KEEP_BED=1.
#
# Contract: functions return 0 on success and non-zero on failure, with the
# reason on stderr; functions that measure print one number on stdout.  Waits
# are polls with a bounded timeout, never blind sleeps.  The bed_assert*
# helpers count failures; bed_finish turns the count into the exit status.
#
# Environment: SASLGUARD (daemon binary, default milter/saslguard under the
# current directory, i.e. the build directory "make check" runs in),
# KEEP_BED=1 (keep $BED_DIR), BED_TIMEOUT (seconds before the watchdog
# stops the script, default 300), CI=true (a missing prerequisite fails instead
# of skipping with 77).
#
# Tests: used by tests/integration_*.sh.

PATH=$PATH:/usr/sbin:/sbin
export PATH

BED_DOMAIN=example.test
BED_DIR=
BED_SUBMISSION_PORT=
BED_MX_PORT=
BED_SINK_PORT=
BED_SINK_PID=
BED_SG_PID=
BED_SG_STARTS=0
BED_POSTFIX_UP=0
BED_FAILS=0
BED_CHECKS=0
BED_PORTS=" "
BED_SG_MARK=0
BED_WATCHDOG_PID=
SASLGUARD=${SASLGUARD:-$PWD/milter/saslguard}

# bed_skip - skip the test (exit 77), or fail it when CI=true
bed_skip()
{
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $* (a skipped integration test fails when CI=true)" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

# bed_require - skip unless this machine can run the bed (root, Postfix, tools)
bed_require()
{
	local tool

	[ "$(id -u)" -eq 0 ] || bed_skip "the Postfix test bed needs root"
	for tool in postfix postqueue postsuper postconf smtp-sink swaks \
	    saslpasswd2 sqlite3 ss; do
		command -v "$tool" >/dev/null 2>&1 ||
			bed_skip "$tool not found (install postfix sasl2-bin swaks sqlite3 iproute2)"
	done
	getent passwd postfix >/dev/null || bed_skip "no postfix user"
	getent group postdrop >/dev/null || bed_skip "no postdrop group"
	ls /usr/lib/*/sasl2/liblogin.so* >/dev/null 2>&1 ||
		bed_skip "SASL LOGIN mechanism not found (install libsasl2-modules)"
	if [ ! -x "$SASLGUARD" ]; then
		echo "FAIL: $SASLGUARD not built" >&2
		exit 99
	fi
}

# bed_log - print a progress line (goes to the test's .log file)
bed_log()
{
	printf '%s [%s] %s\n' "${0##*/}" "$(date +%H:%M:%S)" "$*"
}

# bed_die - a broken bed, not a failed assertion: automake's hard error 99
bed_die()
{
	echo "ERROR: $*" >&2
	exit 99
}

# bed_port_free - succeed when nothing listens on 127.0.0.1:$1 (TCP)
bed_port_free()
{
	[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# bed_pick_port - set variable $1 to a random free port not used by the bed
bed_pick_port()
{
	local p i

	for i in $(seq 1 100); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		case $BED_PORTS in
		*" $p "*) continue ;;
		esac
		if bed_port_free "$p"; then
			BED_PORTS="$BED_PORTS$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	echo "no free port found" >&2
	return 1
}

# bed_is_dead - succeed when process $1 is gone or a zombie
bed_is_dead()
{
	local stat

	[ -r "/proc/$1/stat" ] || return 0
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

# bed_wait_for - poll "$2..." every 0.1 s until it succeeds or $1 seconds pass
bed_wait_for()
{
	local timeout=$1 i n
	shift
	n=$((timeout * 10))
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# bed_wait_dead - wait up to $2 seconds for process $1 to die
bed_wait_dead()
{
	bed_wait_for "$2" bed_is_dead "$1"
}

# bed_watchdog - SIGTERM this script after $1 seconds, so no test hangs make
bed_watchdog()
{
	local script_pid=$$

	(
		trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
		sleep "$1" &
		sleeper=$!
		wait "$sleeper"
		echo "ERROR: the test ran longer than $1 s; stopping it" >&2
		kill -TERM "$script_pid"
	) </dev/null &
	BED_WATCHDOG_PID=$!
}

# bed_init - create $BED_DIR, pick ports, write main.cf/master.cf, postfix check
bed_init()
{
	local d

	BED_DIR=$(mktemp -d "${TMPDIR:-/tmp}/saslguard-bed.XXXXXX") ||
		bed_die "mktemp failed"
	trap bed_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	bed_watchdog "${BED_TIMEOUT:-300}"
	d=$BED_DIR
	# a 0700 directory makes master exit 1 without a word
	chmod 0755 "$d"
	mkdir -p "$d/etc/sasl" "$d/spool" "$d/log" "$d/sink" "$d/vmail" ||
		bed_die "cannot create $d"
	chown nobody "$d/sink"
	chown 65534:65534 "$d/vmail"
	: >"$d/etc/vmailbox"
	: >"$d/saslguard.log"

	bed_pick_port BED_SUBMISSION_PORT &&
		bed_pick_port BED_MX_PORT &&
		bed_pick_port BED_SINK_PORT || bed_die "cannot pick ports"

	# "#" starts a comment only at the start of a line in main.cf
	cat >"$d/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
myhostname = mx.$BED_DOMAIN
mydestination =
maillog_file = $d/log/maillog
maillog_file_prefixes = $d
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
relayhost = [127.0.0.1]:$BED_SINK_PORT
virtual_mailbox_domains = $BED_DOMAIN
virtual_mailbox_base = $d/vmail
virtual_mailbox_maps = texthash:$d/etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
alias_maps =
alias_database =
local_recipient_maps =
biff = no
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_authorized_xclient_hosts = 127.0.0.1
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $d/etc/sasl
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 20s
EOF
	# the whole file: the system master.cf would add a listener on port 25
	cat >"$d/etc/master.cf" <<EOF
127.0.0.1:$BED_SUBMISSION_PORT inet n - n - - smtpd -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=no
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o { smtpd_milters = unix:$d/milter.sock }
127.0.0.1:$BED_MX_PORT inet n - n - - smtpd -o syslog_name=postfix/mx
  -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=reject_unauth_destination
  -o { smtpd_milters = unix:$d/milter.sock }
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
local      unix  - n n -  - local
virtual    unix  - n n -  - virtual
lmtp       unix  - - n -  - lmtp
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
	cat >"$d/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $d/etc/sasldb2
EOF
	# postfix(1) prints nothing unless stderr is a tty: use script(1)
	if ! postfix -c "$d/etc" check >/dev/null 2>&1; then
		script -qc "postfix -c '$d/etc' check" /dev/null >&2
		bed_die "postfix check failed for $d/etc"
	fi
	bed_log "bed in $d: submission $BED_SUBMISSION_PORT, mx $BED_MX_PORT, sink $BED_SINK_PORT"
}

# bed_addr - the full address of user $1 (a bare name gets @example.test)
bed_addr()
{
	case $1 in
	*@*) printf '%s\n' "$1" ;;
	*) printf '%s@%s\n' "$1" "$BED_DOMAIN" ;;
	esac
}

# bed_add_user - create SASL user $1 (name or name@example.test) with password $2
bed_add_user()
{
	local addr local_part

	addr=$(bed_addr "$1")
	local_part=${addr%@*}
	printf %s "$2" | saslpasswd2 -f "$BED_DIR/etc/sasldb2" -p -c \
	    -u "${addr#*@}" "$local_part" || return 1
	chown root:postfix "$BED_DIR/etc/sasldb2" &&
		chmod 0640 "$BED_DIR/etc/sasldb2" || return 1
	# also a local mailbox, for inbound mail
	printf '%s %s/%s/\n' "$addr" "${addr#*@}" "$local_part" \
	    >>"$BED_DIR/etc/vmailbox"
	# texthash tables are read when a process starts
	if [ "$BED_POSTFIX_UP" = 1 ]; then
		postfix -c "$BED_DIR/etc" reload >/dev/null 2>&1
	fi
}

# bed_start_sink - start smtp-sink as the relayhost; it dumps each transaction
bed_start_sink()
{
	smtp-sink -u nobody -d "$BED_DIR/sink/%Y%m%d%H%M%S." \
	    "127.0.0.1:$BED_SINK_PORT" 64 </dev/null >>"$BED_DIR/sink.log" 2>&1 &
	BED_SINK_PID=$!
	bed_wait_for 5 bed_tcp_listening "$BED_SINK_PORT" || {
		echo "smtp-sink did not start: $(cat "$BED_DIR/sink.log")" >&2
		return 1
	}
}

# bed_tcp_listening - succeed when something listens on 127.0.0.1:$1
bed_tcp_listening()
{
	! bed_port_free "$1"
}

# bed_stop_sink - stop smtp-sink; deliveries then defer (connection refused)
bed_stop_sink()
{
	[ -n "$BED_SINK_PID" ] || return 0
	kill "$BED_SINK_PID" 2>/dev/null
	bed_wait_dead "$BED_SINK_PID" 5 || kill -9 "$BED_SINK_PID" 2>/dev/null
	wait "$BED_SINK_PID" 2>/dev/null
	BED_SINK_PID=
	return 0
}

# bed_master_pid - print the pid of the bed's Postfix master, if any
bed_master_pid()
{
	local pid

	[ -r "$BED_DIR/spool/pid/master.pid" ] || return 1
	# the pid file is space-padded
	read -r pid <"$BED_DIR/spool/pid/master.pid" || return 1
	[ -n "$pid" ] || return 1
	printf '%s\n' "$pid"
}

# bed_start_postfix - start the bed's Postfix (master -w returns when ready)
bed_start_postfix()
{
	local daemon_dir

	daemon_dir=$(postconf -c "$BED_DIR/etc" -h daemon_directory) ||
		return 1
	if ! "$daemon_dir/master" -c "$BED_DIR/etc" -w; then
		echo "postfix master failed to start; maillog:" >&2
		tail -n 20 "$BED_DIR/log/maillog" >&2 2>/dev/null
		return 1
	fi
	BED_POSTFIX_UP=1
	bed_wait_for 5 bed_tcp_listening "$BED_SUBMISSION_PORT"
}

# bed_stop_postfix - stop the bed's Postfix and wait for its master to exit
bed_stop_postfix()
{
	local pid

	[ "$BED_POSTFIX_UP" = 1 ] || return 0
	BED_POSTFIX_UP=0
	pid=$(bed_master_pid) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	if ! bed_wait_dead "$pid" 5; then
		kill -9 -- "-$pid" 2>/dev/null
		bed_wait_dead "$pid" 3
	fi
}

# bed_sg_listening - succeed when the milter socket accepts connections
bed_sg_listening()
{
	ss -Hxl 2>/dev/null | grep -qF " $BED_DIR/milter.sock "
}

# bed_key - print "KEY = VALUE;" unless the config text $3 sets KEY
bed_key()
{
	grep -qE "^[[:space:]]*$1[[:space:]]*=" <<<"$3" ||
	    printf '%s = %s;\n' "$1" "$2"
}

# bed_start_saslguard - write $BED_DIR/saslguard.conf (fixed keys + $1), start
bed_start_saslguard()
{
	local i

	# the bed's keys, unless the caller's text sets one itself
	{
		bed_key milter_socket "\"unix:$BED_DIR/milter.sock\"" "${1:-}"
		bed_key milter_socket_mode '"0666"' "${1:-}"
		bed_key state_db "\"$BED_DIR/state.db\"" "${1:-}"
		bed_key journal "\"$BED_DIR/journal.jsonl\"" "${1:-}"
		bed_key control_socket "\"$BED_DIR/control.sock\"" "${1:-}"
		bed_key postfix_config_directory "\"$BED_DIR/etc\"" "${1:-}"
		printf '%s\n' "${1:-}"
	} >"$BED_DIR/saslguard.conf"
	# a stale socket left by a killed daemon would look ready
	rm -f "$BED_DIR/milter.sock"
	BED_SG_STARTS=$((BED_SG_STARTS + 1))
	printf '=== start %d\n' "$BED_SG_STARTS" >>"$BED_DIR/saslguard.log"
	"$SASLGUARD" -c "$BED_DIR/saslguard.conf" -f </dev/null \
	    >>"$BED_DIR/saslguard.log" 2>&1 &
	BED_SG_PID=$!
	for ((i = 0; i < 100; i++)); do
		bed_sg_listening && return 0
		if bed_is_dead "$BED_SG_PID"; then
			wait "$BED_SG_PID" 2>/dev/null
			echo "saslguard exited at start (status $?):" >&2
			tail -n 20 "$BED_DIR/saslguard.log" >&2
			BED_SG_PID=
			return 1
		fi
		sleep 0.1
	done
	echo "saslguard did not open $BED_DIR/milter.sock within 10 s" >&2
	return 1
}

# bed_kill_saslguard - kill -9 the daemon and wait until it is really dead
bed_kill_saslguard()
{
	[ -n "$BED_SG_PID" ] || return 0
	kill -9 "$BED_SG_PID" 2>/dev/null
	# kill -0 may see a dead process alive for a while: read /proc
	bed_wait_dead "$BED_SG_PID" 10 || return 1
	wait "$BED_SG_PID" 2>/dev/null
	BED_SG_PID=
	return 0
}

# bed_stop_saslguard - SIGTERM the daemon, wait; return its exit status
bed_stop_saslguard()
{
	local rc

	[ -n "$BED_SG_PID" ] || return 0
	kill -TERM "$BED_SG_PID" 2>/dev/null
	# libmilter takes a few seconds to exit after SIGTERM
	if ! bed_wait_dead "$BED_SG_PID" 15; then
		echo "saslguard ignored SIGTERM for 15 s; killing it" >&2
		kill -9 "$BED_SG_PID" 2>/dev/null
		bed_wait_dead "$BED_SG_PID" 5
	fi
	wait "$BED_SG_PID" 2>/dev/null
	rc=$?
	BED_SG_PID=
	return "$rc"
}

# bed_join - print the arguments joined by commas
bed_join()
{
	local IFS=,
	printf '%s\n' "$*"
}

# bed_send - send one message: bed_send USER PASS FROM RCPT...; swaks' status
bed_send()
{
	local user=$1 pass=$2 from=$3
	shift 3
	swaks --server "127.0.0.1:$BED_SUBMISSION_PORT" --helo client.test \
	    --auth LOGIN --auth-user "$(bed_addr "$user")" \
	    --auth-password "$pass" --from "$from" --to "$(bed_join "$@")" \
	    --timeout 30 --silent 2
}

# bed_send_xclient - bed_send from client address $1 (XCLIENT before AUTH)
bed_send_xclient()
{
	local addr=$1 user=$2 pass=$3 from=$4
	shift 4
	swaks --server "127.0.0.1:$BED_SUBMISSION_PORT" --helo client.test \
	    --xclient-addr "$addr" \
	    --auth LOGIN --auth-user "$(bed_addr "$user")" \
	    --auth-password "$pass" --from "$from" --to "$(bed_join "$@")" \
	    --timeout 30 --silent 2
}

# bed_send_inbound - unauthenticated mail to the MX port: FROM RCPT...
bed_send_inbound()
{
	local from=$1
	shift
	swaks --server "127.0.0.1:$BED_MX_PORT" --helo outside.test \
	    --from "$from" --to "$(bed_join "$@")" --timeout 30 --silent 2
}

# bed_queue_count - print the number of queued messages: [QUEUE|all] [SENDER]
bed_queue_count()
{
	local queue=${1:-all} sender=${2:-} out

	out=$(postqueue -c "$BED_DIR/etc" -j 2>/dev/null) || {
		echo "postqueue -j failed" >&2
		echo -1
		return 1
	}
	if [ "$queue" != all ]; then
		out=$(printf '%s\n' "$out" |
		    grep -F "\"queue_name\": \"$queue\"")
	fi
	if [ -n "$sender" ]; then
		out=$(printf '%s\n' "$out" | grep -F "\"sender\": \"$sender\"")
	fi
	printf '%s\n' "$out" | grep -c '"queue_id"'
}

# bed_queue_settled - succeed when no message is waiting to be delivered
bed_queue_settled()
{
	local out

	out=$(postqueue -c "$BED_DIR/etc" -j 2>/dev/null) || return 1
	! printf '%s\n' "$out" |
	    grep -qE '"queue_name": "(incoming|active|maildrop)"'
}

# bed_wait_queue_settled - wait up to $1 s (10) until only hold/deferred remain
bed_wait_queue_settled()
{
	bed_wait_for "${1:-10}" bed_queue_settled
}

# bed_queue_empty - succeed when the queue holds no message at all
bed_queue_empty()
{
	[ "$(bed_queue_count all)" = 0 ]
}

# bed_wait_queue_empty - wait up to $1 s (10) until the queue is empty
bed_wait_queue_empty()
{
	bed_wait_for "${1:-10}" bed_queue_empty
}

# bed_sink_rcpts - print how many recipients reached the sink [from SENDER]
bed_sink_rcpts()
{
	local sender=${1:-} files=()

	mapfile -t files < <(find "$BED_DIR/sink" -type f 2>/dev/null)
	if [ "${#files[@]}" -gt 0 ] && [ -n "$sender" ]; then
		mapfile -t files < <(grep -liF -- "X-Mail-Args: <$sender>" \
		    "${files[@]}")
	fi
	if [ "${#files[@]}" -eq 0 ]; then
		echo 0
		return 0
	fi
	# one file per SMTP transaction, one X-Rcpt-Args line per recipient
	cat -- "${files[@]}" | grep -c '^X-Rcpt-Args:'
}

# bed_maildir_count - print how many messages local user $1 received
bed_maildir_count()
{
	local addr

	addr=$(bed_addr "$1")
	find "$BED_DIR/vmail/${addr#*@}/${addr%@*}/new" -type f 2>/dev/null |
	    grep -c .
}

# bed_log_grep - grep -E $1 in the Postfix maillog (status of grep)
bed_log_grep()
{
	grep -qE -- "$1" "$BED_DIR/log/maillog" 2>/dev/null
}

# bed_log_count - print how many maillog lines match the regex $1
bed_log_count()
{
	grep -cE -- "$1" "$BED_DIR/log/maillog" 2>/dev/null
}

# bed_sg_settle - wait until saslguard's routine lines are in its log: its
# pass lines go to standard error in batches, at most 100 ms late
bed_sg_settle()
{
	sleep 0.3
}

# bed_sg_grep - grep -E $1 in saslguard's own output (all its runs)
bed_sg_grep()
{
	bed_sg_settle
	grep -qE -- "$1" "$BED_DIR/saslguard.log" 2>/dev/null
}

# bed_sg_mark - remember the end of saslguard's output for bed_sg_grep_new
bed_sg_mark()
{
	bed_sg_settle
	BED_SG_MARK=$(wc -l <"$BED_DIR/saslguard.log")
}

# bed_sg_grep_new - bed_sg_grep over the lines after the last bed_sg_mark
bed_sg_grep_new()
{
	bed_sg_settle
	tail -n "+$((${BED_SG_MARK:-0} + 1))" "$BED_DIR/saslguard.log" |
	    grep -qE -- "$1"
}

# bed_sg_count - print how many lines of saslguard's output match regex $1
bed_sg_count()
{
	bed_sg_settle
	grep -cE -- "$1" "$BED_DIR/saslguard.log" 2>/dev/null
}

# bed_flagged - succeed when user $1 is in the flags table of the state db
bed_flagged()
{
	local addr n

	addr=$(bed_addr "$1")
	n=$(sqlite3 -cmd '.timeout 2000' "$BED_DIR/state.db" \
	    "SELECT count(*) FROM flags WHERE user = '$addr';" 2>/dev/null) ||
		return 1
	[ "${n:-0}" -gt 0 ]
}

# bed_sanitizer_clean - succeed when saslguard's output has no sanitizer report
bed_sanitizer_clean()
{
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$BED_DIR/saslguard.log" 2>/dev/null
}

# bed_ok / bed_not_ok - record one assertion's outcome
bed_ok()
{
	BED_CHECKS=$((BED_CHECKS + 1))
	echo "ok $BED_CHECKS - $1"
}

bed_not_ok()
{
	BED_CHECKS=$((BED_CHECKS + 1))
	BED_FAILS=$((BED_FAILS + 1))
	echo "not ok $BED_CHECKS - $1"
	shift
	[ $# -gt 0 ] && printf '    %s\n' "$@"
	return 0
}

# bed_assert - assert that command "$2..." succeeds; $1 says what it shows
bed_assert()
{
	local what=$1
	shift
	if "$@"; then
		bed_ok "$what"
	else
		bed_not_ok "$what" "command failed: $*"
	fi
}

# bed_assert_eq - assert that $3 (actual) equals $2 (expected)
bed_assert_eq()
{
	if [ "$3" = "$2" ]; then
		bed_ok "$1"
	else
		bed_not_ok "$1" "expected: $2" "actual:   $3"
	fi
}

# bed_eventually_eq - assert that "$4..." prints $2 within $3 seconds
bed_eventually_eq()
{
	local what=$1 expected=$2 timeout=$3 actual i n
	shift 3
	n=$((timeout * 10))
	for ((i = 0; ; i++)); do
		actual=$("$@")
		[ "$actual" = "$expected" ] && break
		[ "$i" -ge "$n" ] && break
		sleep 0.1
	done
	bed_assert_eq "$what" "$expected" "$actual"
}

# bed_finish - print the summary; exit status 0 when every assertion held
bed_finish()
{
	bed_assert "saslguard output has no sanitizer report" bed_sanitizer_clean
	echo "$((BED_CHECKS - BED_FAILS)) of $BED_CHECKS checks passed"
	[ "$BED_FAILS" -eq 0 ]
}

# bed_cleanup - EXIT trap: stop everything the bed started, remove $BED_DIR
bed_cleanup()
{
	local rc=$?

	set +e
	trap - EXIT
	if [ -n "$BED_SG_PID" ]; then
		kill -9 "$BED_SG_PID" 2>/dev/null
		bed_wait_dead "$BED_SG_PID" 5
		wait "$BED_SG_PID" 2>/dev/null
	fi
	bed_stop_postfix
	bed_stop_sink
	if [ -n "$BED_WATCHDOG_PID" ]; then
		kill -TERM "$BED_WATCHDOG_PID" 2>/dev/null
		wait "$BED_WATCHDOG_PID" 2>/dev/null
	fi
	if [ -n "$BED_DIR" ] && [ -d "$BED_DIR" ]; then
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
			echo "--- saslguard output (tail)" >&2
			tail -n 40 "$BED_DIR/saslguard.log" >&2
			echo "--- maillog (tail)" >&2
			tail -n 40 "$BED_DIR/log/maillog" >&2
		fi
		if [ "${KEEP_BED:-0}" = 1 ]; then
			echo "bed kept in $BED_DIR" >&2
		else
			rm -rf "$BED_DIR"
		fi
	fi
	exit "$rc"
}
