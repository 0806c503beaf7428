#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# plock on Redis (redis:// names): plock's own assertions again where the
# man page promises the same, then what is Redis's own: leases that are
# renewed and that run out under a stopped holder, fencing tokens, the
# compare-and-delete release, bad URLs, an unreachable server, refused
# authentication and keys of the wrong type.  One private redis-server
# serves the whole file (tests/redis.bash).
# shellcheck disable=SC2154 # top_builddir, output, status come from bats
# shellcheck disable=SC2016 # $ in single quotes is for the inner shell

load ../helper
load ../redis
load lock
bats_require_minimum_version 1.5.0

setup_file() {
	redis_start
}

teardown_file() {
	redis_stop
}

# rname: a lock name on the private server, unique to this test.
rname() {
	printf 'redis://127.0.0.1:%s/%s\n' "$REDIS_PORT" "$(pkit_name l)"
}

# key NAME [SUFFIX]: the Redis key of lock NAME.
key() {
	printf 'pkit:lock:{%s}%s\n' "${1##*/}" "${2:-}"
}

rush() {
	local db=$BATS_TEST_TMPDIR/tickets n=$1 _
	echo 2 > "$db"
	: > "$db.log"
	for _ in 1 2 3 4 5 6 7 8; do
		plock "$n" sh -c '
			n=$(cat "$1"); sleep 0.005
			if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$1"; echo sold >> "$1.log"
			else echo failed >> "$1.log"; fi' sh "$db" 3>&- &
	done
	wait
	echo "$(grep -c sold "$db.log") $(grep -c failed "$db.log") $(cat "$db")"
}

@test "plock redis: runs the command holding the lock, stdout clean, key gone after" {
	local n
	n=$(rname)
	run --separate-stderr plock "$n" sh -c 'echo hello; redis-cli -p "$1" exists "$2"' sh "$REDIS_PORT" "$(key "$n")"
	assert_success
	assert_output "hello
1"
	[ -z "$stderr" ]
	run rcli exists "$(key "$n")"
	assert_output 0
}

@test "plock redis: redis:NAME takes the server from PKIT_REDIS_URL" {
	local n
	n=$(pkit_name l)
	run --separate-stderr plock "redis:$n" sh -c 'redis-cli -p "$1" exists "$2"' sh "$REDIS_PORT" "$(key "$n")"
	assert_success
	assert_output 1
	PKIT_REDIS_URL='' run --separate-stderr plock "redis:$n" true
	assert_failure 125
	[[ "$stderr" == "plock: redis:$n: PKIT_REDIS_URL is not set"* ]]
}

@test "plock redis: the ticket rush sells exactly 2 of 2, 10 runs in a row" {
	local n _
	n=$(rname)
	for _ in $(seq 1 10); do
		run rush "$n"
		assert_output "2 6 0"
	done
}

@test "plock redis: exclusive lets one holder in at a time (probe max 1)" {
	local n _
	make_probe
	n=$(rname)
	for _ in 1 2 3 4 5 6; do
		plock "$n" "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/pr" 3>&- &
	done
	wait
	run max_holders
	assert_output 1
	run wc -l < "$BATS_TEST_TMPDIR/pr/max"
	assert_output 6
}

@test "plock redis: -s lets every shared holder in at once (probe max 6)" {
	local n _
	make_probe
	n=$(rname)
	for _ in 1 2 3 4 5 6; do
		plock -s "$n" "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/pr" 6 3>&- &
	done
	wait
	run max_holders
	assert_output 6
}

@test "plock redis: -c 3 lets exactly 3 of 8 in at once (probe max 3)" {
	local n _
	make_probe
	n=$(rname)
	for _ in 1 2 3 4 5 6 7 8; do
		plock -c 3 "$n" "$BATS_TEST_TMPDIR/probe" "$BATS_TEST_TMPDIR/pr" 3 3>&- &
	done
	wait
	run max_holders
	assert_output 3
	run wc -l < "$BATS_TEST_TMPDIR/pr/max"
	assert_output 8
}

@test "plock redis: -n on a held lock exits 124 at once and names the holder" {
	local n
	n=$(rname)
	hold "$n"
	timed_run --separate-stderr plock -n "$n" echo never
	assert_failure 124
	assert_output ""
	[ "$elapsed" -lt 3000 ]
	[[ "$stderr" == "plock: $n: busy, held by pid $held" ]]
	run --separate-stderr plock -q -n "$n" echo never
	assert_failure 124
	[ -z "$stderr" ]
}

@test "plock redis: the busy line asks on the connection plock already has" {
	local n c0 c1
	own_server
	n=redis://127.0.0.1:$oport/$(pkit_name l)
	hold "$n"
	c0=$(redis-cli -p "$oport" info stats | tr -d '\r' | sed -n 's/^total_connections_received://p')
	run --separate-stderr plock -n "$n" echo never
	assert_failure 124
	[[ "$stderr" == "plock: $n: busy, held by pid $held" ]]
	c1=$(redis-cli -p "$oport" info stats | tr -d '\r' | sed -n 's/^total_connections_received://p')
	# plock's one connection, and the second redis-cli's own.
	[ $((c1 - c0)) -eq 2 ] || fail "connections: $((c1 - c0 - 1)) by plock -n"
}

@test "plock redis: -t 1 on a held lock exits 124 after about 1 s, -t 0 at once" {
	local n
	n=$(rname)
	hold "$n"
	timed_run --separate-stderr plock -t 1 "$n" echo never
	assert_failure 124
	assert_output ""
	[ "$elapsed" -ge 900 ] || fail "returned after $elapsed ms, before the 1 s timeout"
	[ "$elapsed" -lt 3000 ] || fail "returned after $elapsed ms"
	[[ "$stderr" == *"held by pid $held" ]]
	timed_run plock -t 0 "$n" true
	assert_failure 124
	[ "$elapsed" -lt 3000 ]
}

@test "plock redis: a waiter takes the lock as soon as it is released, not when the lease ends" {
	local n
	n=$(rname)
	PKIT_LOCK_LEASE=30s plock "$n" sleep 0.5 3>&- &
	pkit_track $!
	wait_until 5 plock -q "$n"
	timed_run plock -t 10 "$n" echo got
	assert_success
	assert_output got
	[ "$elapsed" -lt 3000 ]
}

@test "plock redis: waiters sleep, they do not poll" {
	local n w t0 t1
	n=$(rname)
	hold "$n"
	plock "$n" true 3>&- &
	w=$!
	pkit_track "$w"
	wait_until 5 waiting "$w"
	t0=$(cpu_ticks "$w")
	sleep 2
	t1=$(cpu_ticks "$w")
	[ $((t1 - t0)) -le 2 ] || fail "waiter used $((t1 - t0)) ticks in 2 s"
	kill "$held"
	wait "$w"
}

@test "plock redis: -s holders share, an exclusive holder keeps them out and waits for them" {
	local n
	n=$(rname)
	hold "$n" -s
	run plock -s -n "$n" echo shared
	assert_success
	assert_output shared
	run plock -n "$n" true
	assert_failure 124
	run plock -c 2 -n "$n" echo counted
	assert_success
	kill "$held"
	wait "$held" || true
	hold "$n"
	run plock -s -n "$n" true
	assert_failure 124
	run plock -c 2 -n "$n" true
	assert_failure 124
}

@test "plock redis: -c COUNT: -n gives 124 while all slots are held, a freed slot is taken" {
	local n a
	n=$(rname)
	hold "$n" -c 2
	a=$held
	hold "$n" -c 2
	run plock -c 2 -n "$n" true
	assert_failure 124
	run plock -n "$n" true
	assert_failure 124
	kill "$a"
	timed_run plock -c 2 -t 5 "$n" echo slot
	assert_success
	assert_output slot
	[ "$elapsed" -lt 3000 ]
}

@test "plock redis: INT, TERM and HUP reach the command, which exits its own way" {
	local n sig
	for sig in INT TERM HUP; do
		n=$(rname)
		run bash -c '
			set -m
			plock "$1" sh -c "trap \"echo got $2; exit 7\" $2; echo ready; while :; do sleep 0.05; done" 3>&- > "$3" &
			p=$!
			i=0
			until grep -q ready "$3" || [ $i -gt 200 ]; do sleep 0.02; i=$((i + 1)); done
			kill -s "$2" "$p"
			wait "$p"' sh "$n" "$sig" "$BATS_TEST_TMPDIR/sig.$sig"
		assert_failure 7
		run cat "$BATS_TEST_TMPDIR/sig.$sig"
		assert_line "got $sig"
		run rcli exists "$(key "$n")"
		assert_output 0
	done
}

@test "plock redis: the command's status passes through, 128+N for a signal; 126/127" {
	run plock "$(rname)" sh -c 'exit 3'
	assert_failure 3
	run plock "$(rname)" sh -c 'kill -KILL $$'
	assert_failure 137
	run plock -c 2 "$(rname)" sh -c 'exit 42'
	assert_failure 42
	run -127 --separate-stderr plock "$(rname)" no-such-command-pkit
	assert_failure 127
	assert_output ""
	[[ "$stderr" == "plock: no-such-command-pkit: "* ]]
	: > "$BATS_TEST_TMPDIR/noexec"
	run --separate-stderr plock "$(rname)" "$BATS_TEST_TMPDIR/noexec"
	assert_failure 126
}

@test "plock redis: a command that cannot run lets go of the lock at once" {
	local n
	n=$(rname)
	run -127 plock "$n" no-such-command-pkit
	run rcli exists "$(key "$n")"
	assert_output 0
}

@test "plock redis: -q on a free lock exits 1 and prints nothing; -q -v gives pid, since-when and host" {
	local n t0
	n=$(rname)
	run --separate-stderr plock -q "$n"
	assert_failure 1
	assert_output ""
	t0=$(date +%s)
	hold "$n"
	run --separate-stderr plock -q -v "$n"
	assert_success
	[[ "$output" =~ ^$held\ ([0-9T:+-]+)\ $(hostname)$ ]] || fail "got: $output"
	[ $(( $(date -d "${BASH_REMATCH[1]}" +%s) - t0 )) -le 2 ]
}

@test "plock redis: each grant gets a fencing token, always larger" {
	local n prev=0 t _ kind
	n=$(rname)
	for _ in 1 2 3; do
		for kind in "" "-s" "-c 2"; do
			# shellcheck disable=SC2086 # kind is words
			t=$(plock $kind "$n" sh -c 'echo $PKIT_LOCK_TOKEN')
			[ "$t" -gt "$prev" ] || fail "token $t after $prev"
			prev=$t
		done
	done
	run rcli get "$(key "$n" :fence)"
	assert_output "$prev"
}

@test "plock redis: a running holder keeps renewing its lease" {
	local n
	n=$(rname)
	PKIT_LOCK_LEASE=300ms plock "$n" sleep 30 3>&- &
	held=$!
	pkit_track "$held"
	wait_until 5 holds "$n" "$held"
	sleep 1.5
	run plock -n "$n" true
	assert_failure 124
	run rcli pttl "$(key "$n")"
	[ "$output" -gt 0 ] && [ "$output" -le 300 ]
}

@test "plock redis: a stopped holder's lease runs out; the next holder gets a larger token and keeps the lock" {
	local n a t1 t2
	n=$(rname)
	PKIT_LOCK_LEASE=500ms plock "$n" sh -c 'echo $PKIT_LOCK_TOKEN > "$1"; sleep 2' sh "$BATS_TEST_TMPDIR/t1" \
		3>&- 2> "$BATS_TEST_TMPDIR/err1" &
	a=$!
	pkit_track "$a"
	wait_until 5 holds "$n" "$a"
	# CMD has run (plock, stopped between its take and its fork, would
	# hold CMD back too: the token file empty, as in a loaded CI run).
	wait_until 5 test -s "$BATS_TEST_TMPDIR/t1"
	kill -STOP "$a"
	timed_run plock -t 10 "$n" sh -c 'echo $PKIT_LOCK_TOKEN; kill -CONT "$1"; sleep 3' sh "$a"
	assert_success
	[ "$elapsed" -lt 5000 ]
	t1=$(cat "$BATS_TEST_TMPDIR/t1")
	t2=$output
	[ "$t2" -gt "$t1" ]
	wait "$a" || true
	run cat "$BATS_TEST_TMPDIR/err1"
	assert_output --partial "$n: lease lost"
}

@test "plock redis: the old holder ending late does not release the new holder's lock" {
	local n a b
	n=$(rname)
	PKIT_LOCK_LEASE=300ms plock "$n" sh -c ': > "$1"; exec sleep 1' sh \
	    "$BATS_TEST_TMPDIR/ran" 3>&- 2>/dev/null &
	a=$!
	pkit_track "$a"
	wait_until 5 holds "$n" "$a"
	# CMD has started: stopped before that (the lock shows held once the
	# server has granted it), plock found its grant gone on SIGCONT and
	# waited its turn again, behind the 30 s of the second holder (an
	# ASan CI run took 31 s here and found the lock free at the end).
	wait_until 5 test -e "$BATS_TEST_TMPDIR/ran"
	kill -STOP "$a"
	plock -t 10 "$n" sleep 30 3>&- &
	b=$!
	pkit_track "$b"
	wait_until 5 holds "$n" "$b"
	kill -CONT "$a"
	wait "$a" || true
	run plock -q "$n"
	assert_output "$b"
}

@test "plock redis: SIGKILL to plock kills the command too; the lease then runs out" {
	local n a c
	n=$(rname)
	PKIT_LOCK_LEASE=1s plock "$n" sh -c 'echo $$ > "$1"; exec sleep 30' sh "$BATS_TEST_TMPDIR/cmd" 3>&- &
	a=$!
	pkit_track "$a"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/cmd"
	c=$(cat "$BATS_TEST_TMPDIR/cmd")
	pkit_track "$c"
	kill -KILL "$a"
	wait_until 3 sh -c '! kill -0 "$1" 2>/dev/null' sh "$c"
	timed_run plock -t 5 "$n" echo free
	assert_success
	assert_output free
	[ "$elapsed" -lt 3000 ]
}

@test "plock redis: bad URLs and a bad lease are one line and 125, never showing a password" {
	local bad
	for bad in "redis://" "redis://127.0.0.1" "redis://127.0.0.1/" \
	    "redis://127.0.0.1:0/x" "redis://127.0.0.1:99999/x" \
	    "redis://127.0.0.1:x/x" "redis://127.0.0.1/y/x" \
	    "redis://127.0.0.1/.hidden" "redis://127.0.0.1/a b" \
	    "redis://u:sekrit@127.0.0.1:1/a b" "redis://u:sekrit@/x" \
	    "redis://u@127.0.0.1/x" "redis:a:b" \
	    "redis://u:sek/rit@127.0.0.1:1/x" "redis://u:sek?rit@127.0.0.1:1/x" \
	    "redis-sentinel://u:sek/rit@127.0.0.1:1/m/x"; do
		run --separate-stderr plock "$bad" true
		[ "$status" -eq 125 ] || fail "plock $bad: status $status"
		[ -z "$output" ] || fail "plock $bad: wrote to stdout"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "plock $bad: $stderr"
		[[ "$stderr" != *sek* ]] || fail "plock $bad: password shown: $stderr"
		run --separate-stderr plock -q "$bad"
		[ "$status" -eq 125 ] || fail "plock -q $bad: status $status"
	done
	PKIT_LOCK_LEASE=1x run --separate-stderr plock "$(rname)" true
	assert_failure 125
	[[ "$stderr" == *"bad PKIT_LOCK_LEASE"* ]]
	PKIT_LOCK_LEASE=10ms run --separate-stderr plock "$(rname)" true
	assert_failure 125
}

@test "plock redis: an unreachable server is 125 at once, in one line" {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	timed_run --separate-stderr plock "redis://127.0.0.1:$port/x" true
	assert_failure 125
	[ "$elapsed" -lt 3000 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "plock: redis://127.0.0.1:$port/x: cannot connect to 127.0.0.1:$port: "* ]]
	timed_run --separate-stderr plock -q "redis://127.0.0.1:$port/x"
	assert_failure 125
}

@test "plock redis: -t bounds the wait for an unreachable Sentinel's master" {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# The old plock waited out a failover for 30 s on opening, before
	# the take's deadline was known.
	timed_run --separate-stderr timeout -k 5 60 plock -t 1 "redis-sentinel://127.0.0.1:$port/m/x" true
	assert_failure 125
	[ "$elapsed" -lt 10000 ] || fail "took $elapsed ms"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "$stderr"
	[[ "$stderr" == "plock: redis-sentinel://127.0.0.1:$port/m/x: "* ]] || fail "$stderr"
}

@test "plock redis: refused authentication is 125 and never shows the password" {
	local n
	rcli acl setuser "pk$$" on '>right-pw' '~*' '&*' '+@all' >/dev/null
	n=$(pkit_name l)
	run --separate-stderr plock "redis://pk$$:sekrit@127.0.0.1:$REDIS_PORT/$n" true
	assert_failure 125
	assert_equal "$stderr" "plock: redis://pk$$:***@127.0.0.1:$REDIS_PORT/$n: authentication refused"
	run --separate-stderr plock "redis://pk$$:right-pw@127.0.0.1:$REDIS_PORT/$n" echo in
	assert_success
	assert_output in
	rcli acl deluser "pk$$" >/dev/null
}

@test "plock redis: a database number selects that database" {
	local n
	n=$(pkit_name l)
	run plock "redis://127.0.0.1:$REDIS_PORT/3/$n" sh -c 'redis-cli -p "$1" -n 3 exists "$2"; redis-cli -p "$1" exists "$2"' sh "$REDIS_PORT" "$(key "$n")"
	assert_success
	assert_output "1
0"
	run --separate-stderr plock "redis://127.0.0.1:$REDIS_PORT/999/$n" true
	assert_failure 125
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "plock redis: a key of the wrong type is 125 in one line, and left alone" {
	local n
	n=$(rname)
	rcli lpush "$(key "$n")" x >/dev/null
	run --separate-stderr plock "$n" true
	assert_failure 125
	assert_equal "$stderr" "plock: $n: wrong type of value at one of its keys (not pkit's?)"
	run --separate-stderr plock -q "$n"
	assert_failure 125
	run rcli type "$(key "$n")"
	assert_output list
	n=$(rname)
	rcli set "$(key "$n" :count)" x >/dev/null
	run --separate-stderr plock -c 2 "$n" true
	assert_failure 125
	[ "${#stderr_lines[@]}" -eq 1 ]
	n=$(rname)
	rcli set "$(key "$n" :fence)" x >/dev/null
	run --separate-stderr plock "$n" true
	assert_failure 125
	[[ "$stderr" == *"wrong value"* ]]
}

@test "plock redis: the server lost under a holder: a warning, the lease lost, CMD's status still" {
	local n
	own_server
	n=redis://127.0.0.1:$oport/gone
	PKIT_LOCK_LEASE=300ms run --separate-stderr plock "$n" sh -c '
		kill "$1"; sleep 1.2; exit 5' sh "$opid"
	assert_failure 5
	assert_output ""
	[[ "$stderr" == *"$n: cannot renew the lease: "* ]] || fail "$stderr"
	[[ "$stderr" == *"$n: lease lost"* ]] || fail "$stderr"
}

@test "plock redis: a server that closes idle connections: the lock is still renewed and let go" {
	local n
	own_server --timeout 1
	n=redis://127.0.0.1:$oport/idle
	# The connection sits idle for 3 s, and the server closes it.  The
	# old plock found that out on the release, warned "cannot release,
	# the lease runs out by itself", and the lock stayed held for 27 s.
	PKIT_LOCK_LEASE=30s run --separate-stderr plock "$n" sleep 3
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(redis-cli -p "$oport" exists "$(key "$n")")" 0
	# Renewals too: a 6 s lease is renewed every 2 s, past the cut.
	PKIT_LOCK_LEASE=6s run --separate-stderr plock "$n" sleep 5
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(redis-cli -p "$oport" exists "$(key "$n")")" 0
}

@test "plock redis: ?replicas=N confirmed only after the lease ran out does not run CMD" {
	local n rport rpid a b st
	own_server
	rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$BATS_TEST_TMPDIR/replica"
	redis-server --bind 127.0.0.1 --port "$rport" --save '' \
		--dir "$BATS_TEST_TMPDIR/replica" --replicaof 127.0.0.1 "$oport" \
		--logfile "$BATS_TEST_TMPDIR/replica/log" </dev/null >/dev/null 2>&1 3>&- &
	rpid=$!
	pkit_track "$rpid"
	wait_until 20 sh -c 'redis-cli -p "$1" info replication | grep -q "^connected_slaves:1"' sh "$oport"
	n=redis://127.0.0.1:$oport/late
	# The replica stopped: A's grant cannot be confirmed.  Its 1 s lease
	# runs out, B takes the lock, then the replica comes back while B is
	# inside.  The old plock went on waiting (its take's 30 s, cut to 5 s
	# by the reply's timeout), got the confirmation then and ran A's CMD
	# beside B's, or said "no answer from the server".
	kill -STOP "$rpid"
	PKIT_LOCK_LEASE=1s plock "$n?replicas=1" sh -c 'echo A' \
		> "$BATS_TEST_TMPDIR/a" 2> "$BATS_TEST_TMPDIR/a.err" 3>&- &
	a=$!
	pkit_track "$a"
	_pkit_nap 1.5
	PKIT_LOCK_LEASE=1s plock -n "$n" sleep 4 3>&- &
	b=$!
	pkit_track "$b"
	_pkit_nap 0.5
	kill -CONT "$rpid"
	st=0
	wait "$a" || st=$?
	wait "$b"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/a")" ""
	assert_equal "$st" 125
	grep -q "only 0 of 1 replicas confirmed" "$BATS_TEST_TMPDIR/a.err"
}

@test "plock redis: a waiter whose server goes away exits 125 in one line" {
	local n w t0 st
	own_server
	n=redis://127.0.0.1:$oport/gone
	plock "$n" sleep 30 3>&- 2>/dev/null &
	pkit_track $!
	wait_until 5 plock -q "$n"
	plock -t 30 "$n" true 3>&- 2> "$BATS_TEST_TMPDIR/err" &
	w=$!
	pkit_track "$w"
	wait_until 5 waiting "$w"
	t0=$(date +%s%N)
	kill "$opid"
	st=0
	wait "$w" || st=$?
	[ "$st" -eq 125 ] || fail "status $st"
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output "plock: $n: the server closed the connection"
}

@test "plock redis: a waiter and a holder whose server falls silent (stopped, no reset) notice within the bound" {
	local n w h st t0 t1
	own_server
	n=redis://127.0.0.1:$oport/silent
	# a long lease: the waiter's next try would come only when it ends
	PKIT_LOCK_LEASE=60s plock "$n" sleep 180 3>&- 2> "$BATS_TEST_TMPDIR/held" &
	h=$!
	pkit_track "$h"
	wait_until 20 plock -q "$n"
	plock -t 120 "$n" true 3>&- 2> "$BATS_TEST_TMPDIR/err" &
	w=$!
	pkit_track "$w"
	wait_until 20 waiting "$w"
	# SIGSTOP: the socket stays open and nothing answers (a partition)
	kill -STOP "$opid"
	t0=$(date +%s)
	st=0
	wait "$w" || st=$?
	t1=$(date +%s)
	# 8 s by design (redis.h); generous for a loaded machine
	[ $((t1 - t0)) -le 30 ] || { kill -CONT "$opid"; fail "after $((t1 - t0)) s"; }
	[ "$st" -eq 125 ] || { kill -CONT "$opid"; fail "status $st"; }
	run cat "$BATS_TEST_TMPDIR/err"
	[ "${#lines[@]}" -eq 1 ] && [[ "$output" == "plock: $n: "* ]] ||
		{ kill -CONT "$opid"; fail "$output"; }
	# the holder renews every third of its 60 s lease, each reply awaited
	# 10 s at most: it says so within 30 s of its last renewal
	wait_until 60 grep -q "$n: cannot renew the lease" "$BATS_TEST_TMPDIR/held" ||
		{ kill -CONT "$opid"; fail "holder: $(cat "$BATS_TEST_TMPDIR/held")"; }
	kill -CONT "$opid"
	own_stop
}

# The script lock on Redis (plock -p PID): a keeper holds the lease for
# the script.  plock.bats checks the common part on both backends.

# find_keeper PID NAME: the pid of the keeper holding NAME for PID in
# $keeper (its command line is the plock -p that left it, word for word).
find_keeper() {
	keeper=$(ps -eo pid=,args= | awk -v want="plock -p $1 $2" '
		{ p = $1; sub(/^ *[0-9]+ /, "") }
		$0 == want { print p; exit }')
	[ -n "$keeper" ]
}

@test "plock redis: -p returns at once inside \$(...), and the keeper renews the lease while the script runs" {
	local n p
	n=$(rname)
	# The keeper keeps none of the caller's pipes: $(...) does not wait
	# for it, which would be for ever (it waits for the script).  The
	# script then runs 8 s more, eight leases.
	PKIT_LOCK_LEASE=1s sh -c 'x=$(plock -p $$ "$1" 2>&1) || exit
		echo "[$x]" > "$2.x"; echo $$ > "$2"; sleep 8' sh "$n" "$BATS_TEST_TMPDIR/pid" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/pid"
	run cat "$BATS_TEST_TMPDIR/pid.x"
	assert_output "[]"
	# Still held after more than a lease: renewed.
	sleep 2.5
	run plock -n -q "$n" true
	assert_failure 124
	run plock -q "$n"
	assert_output "$(cat "$BATS_TEST_TMPDIR/pid")"
	# Once the script has ended, the keeper has let go (no key left).
	run plock -t 20 "$n" true
	assert_success
	wait_until 10 sh -c '[ "$(redis-cli -p "$1" exists "$2")" = 0 ]' sh "$REDIS_PORT" "$(key "$n")"
}

@test "plock redis: a SIGKILLed keeper leaves the lease to run out within PKIT_LOCK_LEASE" {
	local n p keeper
	n=$(rname)
	PKIT_LOCK_LEASE=2s sh -c 'plock -p $$ "$1" || exit; exec sleep 60' sh "$n" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 10 holds "$n" "$p"
	wait_until 10 find_keeper "$p" "$n"
	pkit_track "$keeper"
	kill -KILL "$keeper"
	# Taken once the lease has run out (2 s), while the script still runs.
	timed_run plock -t 20 "$n" echo taken
	assert_success
	assert_output taken
	[ "$elapsed" -lt 15000 ]
	kill -0 "$p"
}

@test "plock redis: a stopped keeper's lost lease is told on the script's stderr" {
	local n p keeper
	n=$(rname)
	PKIT_LOCK_LEASE=1s sh -c 'plock -p $$ "$1" || exit; exec sleep 60' sh "$n" \
		3>&- 2> "$BATS_TEST_TMPDIR/err" &
	p=$!
	pkit_track "$p"
	wait_until 10 holds "$n" "$p"
	wait_until 10 find_keeper "$p" "$n"
	pkit_track "$keeper"
	kill -STOP "$keeper"
	run plock -t 20 "$n" true
	assert_success
	kill -CONT "$keeper"
	wait_until 20 grep -q "$n: lease lost" "$BATS_TEST_TMPDIR/err"
	# Its lease lost, the keeper has nothing left to do.
	wait_until 20 sh -c '! kill -0 "$1" 2>/dev/null' sh "$keeper"
}
