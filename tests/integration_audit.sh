#!/bin/bash
# integration_audit.sh - saslguardctl audit on logs written by a real Postfix
#
# One private Postfix on loopback (tests/lib/pfbed.sh) with saslguard as
# its milter.  Two users send normal mail; then an incident is played:
# failed logins for the victim's account from three client addresses
# (XCLIENT), then a burst from the account from two other addresses that
# crosses the limit, so saslguard holds the rest and flags it; the
# operator releases one held message and deletes the others with
# saslguardctl.  The audit of the Postfix maillog and saslguard's own log
# (classic syslog lines too, named first) must show:
#   - one incident, naming the account, starting within a minute of the
#     first message of the burst, listing both client addresses
#   - the held, released and deleted counts, and the post-mortem sentence
#   - the failed logins before it, counted by client address
#   - the normal users' mail, nothing held for them
#   - nothing on standard error when it is not a terminal (no progress)
# and audit --suggest-limits must catch the incident with a snippet that
# saslguard -t accepts.
#
# Exit status: 0 all checks held, 1 a check failed, 77 cannot run here
# (not root, no Postfix; a failure when CI=true), 99 the bed broke.

set -u

. "$(dirname "$0")/lib/pfbed.sh"

CTL=${SASLGUARDCTL:-$PWD/tools/saslguardctl}
[ -x "$CTL" ] || bed_skip "$CTL is not built"
bed_require
bed_init

PW=secret
for u in alice bob victim; do
	bed_add_user "$u" "$PW-$u" || bed_die "cannot add user $u"
done

CONF='control_socket_mode = "0666";
mode = "enforce";
flagged_action = "hold";
limits = {
	messages = { max = 5; window = "1h"; };
	recipients = { max = 100; window = "1h"; };
	recipients_per_message = 10;
	client_addresses = { max = 5; window = "1h"; };
	sender_mismatch = true;
};'

VICTIM=victim@example.test
FAIL_ADDRS="192.0.2.10 192.0.2.11 192.0.2.11 198.51.100.50 198.51.100.50 198.51.100.50"
BURST_ADDRS="203.0.113.7 198.51.100.23"
BURST=9 # messages; max 5, so 4 are held

ctl() { "$CTL" -s "$BED_DIR/control.sock" "$@"; }

# send - bed_send for user $1 from its own address
send()
{
	local user=$1
	shift
	bed_send "$user" "$PW-$user" "$user@example.test" "$@" ||
		bed_not_ok "Postfix accepts mail of $user"
}

# fail_login - a failed SASL login for the victim from client address $1
fail_login()
{
	swaks --server "127.0.0.1:$BED_SUBMISSION_PORT" --helo client.test \
	    --xclient-addr "$1" --auth LOGIN --auth-user "$VICTIM" \
	    --auth-password wrong-password --from "$VICTIM" \
	    --to nobody@ext.test --timeout 30 --silent 2 >/dev/null 2>&1
}

# settle - wait until Postfix has delivered or held everything
settle()
{
	bed_wait_queue_settled 15 || bed_not_ok "queue settles within 15 s" \
	    "$(postqueue -c "$BED_DIR/etc" -j)"
}

# held - print how many of the victim's messages are on hold
held()
{
	bed_queue_count hold "$VICTIM"
}

bed_start_sink || bed_die "cannot start smtp-sink"
bed_start_postfix || bed_die "cannot start Postfix"
bed_start_saslguard "$CONF" || bed_die "cannot start saslguard"

bed_log "normal mail: alice and bob"
for i in 1 2; do
	send alice "a$i-1@ext.test" "a$i-2@ext.test"
	send bob "b$i@ext.test"
done
settle

bed_log "failed logins for $VICTIM"
for addr in $FAIL_ADDRS; do
	if fail_login "$addr"; then
		bed_not_ok "a wrong password is refused (client $addr)"
	fi
done
bed_assert_eq "Postfix logged each failed login" 6 \
    "$(bed_log_count 'SASL LOGIN authentication failed')"

bed_log "burst of $VICTIM from $BURST_ADDRS"
# when the first message of the burst is sent
burst_epoch=$(date +%s)
set -- $BURST_ADDRS
for ((i = 1; i <= BURST; i++)); do
	if [ $((i % 2)) = 1 ]; then addr=$1; else addr=$2; fi
	bed_send_xclient "$addr" victim "$PW-victim" "$VICTIM" \
	    "spam$i-1@ext.test" "spam$i-2@ext.test" ||
		bed_not_ok "Postfix accepts burst message $i"
done
settle
held_n=$(held)
bed_assert_eq "the messages over the limit are held" $((BURST - 5)) "$held_n"
bed_assert "saslguard flagged $VICTIM" \
    bed_sg_grep ": flag: user=victim@example\\.test "

bed_log "the operator releases one held message, deletes the rest"
first_held=$(postqueue -c "$BED_DIR/etc" -j |
    grep -F '"queue_name": "hold"' | head -n 1 |
    sed -E 's/.*"queue_id": "([0-9A-F]+)".*/\1/')
bed_assert "postsuper -H releases held message $first_held" \
    postsuper -c "$BED_DIR/etc" -H "$first_held"
# a released message waits in the deferred queue: deliver it now
postqueue -c "$BED_DIR/etc" -i "$first_held"
bed_eventually_eq "the released message is delivered" 0 10 \
    bed_queue_count deferred
bed_assert "saslguardctl delete succeeds" ctl delete "$VICTIM"
bed_eventually_eq "the held mail is gone" 0 10 held
bed_eventually_eq "postsuper logged the deletions" $((held_n - 1)) 10 \
    bed_log_count 'postsuper\[[0-9]+\]: [0-9A-F]+: removed'

bed_log "audit"
bed_sg_settle
# a second (classic syslog) file, named first: the audit merges by time
"$CTL" audit --json "$BED_DIR/saslguard.log" "$BED_DIR/log/maillog" \
    >"$BED_DIR/audit.json" 2>"$BED_DIR/audit.err"
bed_assert_eq "audit --json exits 0" 0 "$?"
bed_assert_eq "audit writes nothing on stderr when it is not a terminal" "" \
    "$(cat "$BED_DIR/audit.err")"

# section - the lines of JSON array $1 (one object per line)
section()
{
	sed -n "/^  \"$1\": \\[/,/^  \\]/p" "$BED_DIR/audit.json" |
	    grep '^    {'
}

# field - the value of key $2 (a number or a string) in JSON line $1
field()
{
	printf '%s\n' "$1" | sed -nE "s/^[^{]*\\{\"user\": \"[^\"]*\"(, [^{]*)?, \"$2\": \"?([^\",]*)\"?,.*/\\2/p"
}

incidents=$(section incidents)
bed_assert_eq "the audit finds one incident" 1 \
    "$(printf '%s\n' "$incidents" | grep -c .)"
inc=$(printf '%s\n' "$incidents" | grep -F "{\"user\": \"$VICTIM\"")
bed_assert "the incident names $VICTIM" test -n "$inc"
start=$(printf '%s\n' "$inc" | sed -nE 's/.*"start": "([^"]+)".*/\1/p')
start_epoch=$(date -d "$start" +%s 2>/dev/null || echo 0)
delta=$((start_epoch - burst_epoch))
bed_assert "the incident starts within a minute of the first burst message ($start, $delta s)" \
    test "${delta#-}" -le 60
addrs=$(printf '%s\n' "$inc" |
    sed -nE 's/.*"domains": [0-9]+, "client_addresses": \[([^]]*)\].*/\1/p')
for addr in $BURST_ADDRS; do
	bed_assert "the incident lists client address $addr" \
	    grep -qF "\"$addr\"" <<<"$addrs"
done
bed_assert_eq "the incident lists exactly the burst's 2 addresses" 2 \
    "$(grep -o '"[^"]*"' <<<"$addrs" | grep -c .)"
bed_assert_eq "the incident counts $BURST messages" "$BURST" \
    "$(field "$inc" messages)"
bed_assert_eq "the incident counts the held messages" "$held_n" \
    "$(field "$inc" held)"
bed_assert_eq "the incident counts the released message" 1 \
    "$(field "$inc" released)"
bed_assert_eq "the incident counts the deleted messages" $((held_n - 1)) \
    "$(field "$inc" deleted)"
bed_assert_eq "the incident counts 5 escaped messages plus the released one" \
    6 "$(field "$inc" messages_delivered)"
before=$(printf '%s\n' "$inc" |
    sed -nE 's/.*"failed_logins_before": \{([^}]*(\}[^}]*)*)\]\}.*/\1/p')
bed_assert "6 failed logins are counted before the incident" \
    grep -qF '"hour": 6, "day": 6' <<<"$before"
for want in 198.51.100.50:3 192.0.2.11:2 192.0.2.10:1; do
	bed_assert "failed logins before it from ${want%:*}: ${want#*:}" \
	    grep -qF "{\"client_address\": \"${want%:*}\", \"count\": ${want#*:}}" <<<"$before"
	bed_assert "failed logins by address: ${want%:*} ${want#*:}" \
	    grep -qE "^    \\{\"client_address\": \"${want%:*}\", \"count\": ${want#*:}," \
	    "$BED_DIR/audit.json"
done
users=$(section users)
for u in alice:2 bob:2 victim:$BURST; do
	line=$(grep -F "{\"user\": \"${u%:*}@example.test\"" <<<"$users")
	bed_assert_eq "${u%:*} sent ${u#*:} messages" "${u#*:}" \
	    "$(field "$line" messages)"
done
bed_assert_eq "the victim account shows the held messages" "$held_n" \
    "$(field "$(grep -F "\"$VICTIM\"" <<<"$users")" held)"
bed_assert_eq "normal users have nothing held" "0 0" \
    "$(field "$(grep -F alice@ <<<"$users")" held) $(field "$(grep -F bob@ <<<"$users")" held)"
bed_assert "the logs' every line is accounted for (none malformed but the bed's marker)" \
    grep -qE '"malformed": 1,' "$BED_DIR/audit.json"

"$CTL" audit "$BED_DIR/log/maillog" "$BED_DIR/saslguard.log" \
    >"$BED_DIR/audit.txt" 2>&1
bed_assert "the text report has the post-mortem sentence" \
    grep -qE "^      $VICTIM: 6 messages to 12 recipients in 1 domain escaped between [0-9:]+ and [0-9:]+; $held_n held, 1 released, $((held_n - 1)) deleted\\.\$" \
    "$BED_DIR/audit.txt"

"$CTL" audit --suggest-limits "$BED_DIR/log/maillog" \
    "$BED_DIR/saslguard.log" >"$BED_DIR/suggest.txt" 2>&1
bed_assert_eq "audit --suggest-limits exits 0" 0 "$?"
# alice and bob sent 2 messages; the burst 9: the default floor of 10
# would miss it, so the limit goes just below its peak
bed_assert "the suggestion catches the incident with the messages limit" \
    grep -qE "caught by messages" "$BED_DIR/suggest.txt"
bed_assert "the snippet sets messages just below the burst's $BURST" \
    grep -qF "messages = { max = $((BURST - 1)); window = \"1h\"; };" \
    "$BED_DIR/suggest.txt"
printf '%s\n' "milter_socket = \"unix:$BED_DIR/x.sock\";" \
    >"$BED_DIR/suggested.conf"
sed -n '/^limits = {/,$p' "$BED_DIR/suggest.txt" >>"$BED_DIR/suggested.conf"
bed_assert "saslguard -t accepts the suggested snippet" \
    "$SASLGUARD" -c "$BED_DIR/suggested.conf" -t

stop_rc=0
bed_stop_saslguard || stop_rc=$?
bed_assert_eq "saslguard exits 0 on SIGTERM" 0 "$stop_rc"
bed_finish
