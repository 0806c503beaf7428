#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Queues and locks through Redis Sentinel (redis-sentinel:// names) and
# ?replicas=N: on a private topology per test (tests/sentinel.bash: one
# master, two replicas, three sentinels on loopback, every pid tracked).
# The master is killed with SIGKILL under 5 producers and 5 workers: with
# replicas=1 nothing acknowledged is lost; without, the test counts what
# was lost (the weaker promise, shown, not hidden).  A master the
# sentinels replace while it still runs does not keep its waiters.
# Figures go to fd 3.
# shellcheck disable=SC2154 # output, status, stderr come from bats
# shellcheck disable=SC2016 # $ in single quotes is for the inner shell

load ../helper
load ../sentinel
bats_require_minimum_version 1.5.0

@test "sentinel: bad names say why in one line, never the password" {
	run -125 pqueue-create 'redis-sentinel://127.0.0.1/m/q'
	assert_output --partial 'a sentinel is HOST:PORT'
	run -125 pqueue-create 'redis-sentinel://u:s3cret@127.0.0.1:1/m'
	assert_output --partial 'no /MASTER/NAME'
	refute_output --partial s3cret
	run -125 pqueue-create 'redis-sentinel://127.0.0.1:1/m/q?replicas=x'
	assert_output --partial 'bad replicas=N'
	run -125 pqueue-create 'redis://127.0.0.1:1/q?copies=1'
	assert_output --partial "unknown option after '?'"
	[ "${#lines[@]}" -le 1 ]
	# redis:NAME with the sentinels in PKIT_REDIS_URL
	PKIT_REDIS_URL='redis-sentinel://127.0.0.1/m' run -125 pqueue-create redis:q
	assert_output --partial 'redis:q: PKIT_REDIS_URL: a sentinel is HOST:PORT'
	PKIT_REDIS_URL='redis-sentinel://u:s3cret@127.0.0.1:1/m?replicas=1' \
		run -125 pqueue-create redis:q
	assert_output --partial 'PKIT_REDIS_URL: no ?option there'
	PKIT_REDIS_URL='redis-sentinel://u:s3cret@127.0.0.1:1/m' \
		run -125 pqueue-create 'redis:q?replicas=99'
	assert_output --partial 'bad replicas=N'
	refute_output --partial s3cret
}

@test "sentinel: -t bounds a failover met when the queue is opened, not a fixed 30 s" {
	local port n c
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	n="redis-sentinel://127.0.0.1:$port/m/x"
	# No sentinel answers: a failover that never ends.  The old tools
	# waited it out for 30 s on opening, before their deadline was known.
	for c in "pqueue-put -t 1 $n a" "pqueue-get -t 1 $n" \
	    "pqueue-get -t 1 $n true" "pqueue-join -t 1 $n"; do
		# shellcheck disable=SC2086 # the words of c
		timed_run --separate-stderr timeout -k 5 60 $c
		assert_failure 125
		[ "$elapsed" -lt 10000 ] || fail "$c took $elapsed ms"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "$c: $stderr"
		[[ "$stderr" == *": $n: no master m: "* ]] || fail "$c: $stderr"
	done
}

@test "sentinel: the master is found, replicas=N is confirmed by WAIT, a shortfall is 125" {
	sentinel_start
	q="$SNAME/$(pkit_name s)"
	pqueue-create "$q?replicas=1"
	pqueue-put "$q?replicas=2" one two
	run pqueue-get -c 2 "$q?replicas=1"
	assert_success
	assert_output $'one\ntwo'
	# The data is on the master the sentinels named.
	run redis-cli -p "$RPORT1" role
	assert_line --index 0 slave
	# Three replicas asked, two exist: 125, one line, at the deadline.
	run -125 pqueue-put -t 1 "$q?replicas=3" three
	assert_output --partial 'only 2 of 3 replicas confirmed'
	[ "${#lines[@]}" -eq 1 ]
	# The same on a plain redis:// name.
	run -125 pqueue-put -t 1 "redis://127.0.0.1:$MPORT/${q##*/}?replicas=3" four
	assert_output --partial 'only 2 of 3 replicas confirmed'
	pqueue-put "redis://127.0.0.1:$MPORT/${q##*/}?replicas=2" five
	# redis:NAME through the sentinels of PKIT_REDIS_URL.  The puts that
	# exited 125 were made on the master: "not known to be replicated",
	# not "not stored".
	PKIT_REDIS_URL=$SNAME run pqueue-get -c 3 "redis:${q##*/}?replicas=2"
	assert_success
	assert_output $'three\nfour\nfive'
}

# failover_run REPLICAS: 5 producers (one pqueue-put per message, when it
# started and when it was acknowledged recorded) and 5 workers; the
# master is killed with SIGKILL once 25 messages are acknowledged.  Sets
# lost, dups, acked, failover_ms; pqueue-join must return 0.  Every wait
# is bounded: a process still running at its bound fails the test, and
# teardown ends it by pid.
failover_run() {
	local q d=$BATS_TEST_TMPDIR k pids=() wpids=() t0 first
	q=$SNAME/$(pkit_name fo)$1
	# A lease of 3 s: a delivery or a commit that the failover loses (the
	# old master acknowledged it, its replicas never had it) is delivered
	# again within seconds, not after the default 30.
	pqueue-create -l 3s "$q"
	for k in 1 2 3 4 5; do
		# -r 1000000: a lease lost at the failover counts as an attempt
		# of its message, and these workers must deliver every message,
		# never set one aside as failed.
		pqueue-get -r 1000000 -f "$q" echo {} > "$d/out.$k" \
			2> "$d/werr.$k" 3>&- &
		pkit_track "$!"
		wpids+=("$!")
	done
	for k in 1 2 3 4 5; do
		(
			for i in $(seq 1 16); do
				s=$EPOCHREALTIME
				if pqueue-put -t 20 "$q" "p$k-$i" 2>> "$d/perr.$k"; then
					echo "p$k-$i $s $EPOCHREALTIME" >> "$d/acked.$k"
				fi
			done
		) 3>&- &
		pkit_track "$!"
		pids+=("$!")
	done
	wait_until 90 acked_ge 25
	kill -KILL "$MPID"
	t0=$EPOCHREALTIME
	# A put waits out the failover within its -t 20: 16 puts each, most
	# of them quick.
	wait_pids 150 "${pids[@]}" || fail "producers still running: $(cat "$d"/perr.*)"
	wait_until 40 master_moved || true
	pqueue-close "$q"
	# Closed: each worker ends once the queue is drained (a lost lease
	# comes back within its 3 s).
	wait_pids 90 "${wpids[@]}" || fail "workers still running: $(pqueue-stat "$q" 2>&1; cat "$d"/werr.*; where_are "${wpids[@]}")"
	run pqueue-join -t 30 "$q"
	assert_success
	# No tool crashed or tripped a sanitizer on the way (a put that did
	# would only count as not acknowledged).
	run grep -h -e Sanitizer -e 'runtime error' "$d"/perr.* "$d"/werr.*
	assert_failure 1
	cut -d' ' -f1 "$d"/acked.* | sort > "$d/acked"
	cat "$d"/out.* | sort > "$d/got"
	acked=$(wc -l < "$d/acked")
	lost=$(sort -u "$d/got" | comm -23 "$d/acked" - | wc -l)
	dups=$(( $(wc -l < "$d/got") - $(sort -u "$d/got" | wc -l) ))
	# Failover time: kill -> the first acknowledgement of a put started
	# after the kill (the old master is dead by then: the new one's).
	first=$(cat "$d"/acked.* | awk -v t="$t0" '$2 > t { print $3 }' | sort -n | head -n 1)
	failover_ms=$(awk -v a="$t0" -v b="$first" 'BEGIN { printf "%d", (b - a) * 1000 }')
	echo "# ${1:-no replicas}: acked $acked, lost $lost, duplicates $dups, failover ${failover_ms} ms" >&3
}

# acked_ge N: at least N puts acknowledged (read by bash itself: this is
# polled while the producers run).
acked_ge() {
	local f n=0 a
	for f in "$BATS_TEST_TMPDIR"/acked.*; do
		[ -e "$f" ] || continue
		mapfile -t a < "$f"
		n=$((n + ${#a[@]}))
	done
	[ "$n" -ge "$1" ]
}

master_moved() {
	[ "$(sentinel_master)" != "$MPORT" ]
}

# where_are PID...: the master the sentinels name, each server's role,
# and the ports the connections of each PID still running go to: what a
# worker that never ended is diagnosed from.
where_are() {
	local p
	printf 'master now %s (was %s); roles:' "$(sentinel_master)" "$MPORT"
	for p in "$MPORT" "$RPORT1" "$RPORT2"; do
		printf ' %s=%s' "$p" "$(redis-cli -p "$p" role 2>/dev/null | head -n 1)"
	done
	echo
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null || continue
		echo "worker $p connected to: $(ss -Htnp 2>/dev/null |
			awk -v p="pid=$p," 'index($0, p) { sub(/.*:/, "", $5); printf "%s ", $5 }')"
	done
}

@test "sentinel: master killed under 5 producers and 5 workers, replicas=1: nothing acknowledged is lost" {
	sentinel_start
	failover_run '?replicas=1'
	[ "$acked" -ge 25 ]
	[ "$lost" -eq 0 ]
	[ "$(sentinel_master)" != "$MPORT" ]
}

@test "sentinel: the same without replicas: what can be lost is counted (the weaker promise)" {
	sentinel_start
	failover_run ''
	[ "$acked" -ge 25 ]
	# No bound on $lost below $acked: an asynchronous replica may miss
	# the last writes the master acknowledged; the figure goes to the
	# report.  What is counted lost was acknowledged, and there was a
	# failover to lose it in.
	[ "$lost" -le "$acked" ] || fail "lost $lost, more than the $acked acknowledged"
	[ "$(sentinel_master)" != "$MPORT" ] || fail "no failover: the master is still $MPORT"
}

@test "sentinel: fencing tokens keep increasing across a failover (replicas=1)" {
	local l t1 t2
	sentinel_start
	l="$SNAME/$(pkit_name lk)?replicas=1"
	plock "$l" true
	plock "$l" true
	t1=$(plock "$l" sh -c 'echo "$PKIT_LOCK_TOKEN"')
	kill -KILL "$MPID"
	t2=$(plock -t 40 "$l" sh -c 'echo "$PKIT_LOCK_TOKEN"')
	echo "# token before the failover $t1, after $t2" >&3
	[ "$t1" -eq 3 ]
	[ "$t2" -gt "$t1" ]
	[ "$(sentinel_master)" != "$MPORT" ]
}

@test "sentinel: a counted pqueue-done is not sent again when the WAIT after it is cut" {
	local q p id st=0
	sentinel_start
	q="$SNAME/$(pkit_name s)"
	pqueue-create "$q"
	pqueue-put "$q" 1 2 3 4 5
	# Three replicas asked, two exist: it waits; its connection is cut
	# while it does.  The script has run on the master: sending it again
	# counted the task done twice (unfinished 5 -> 3), and pqueue-join
	# could return while tasks still ran.
	pqueue-done "$q?replicas=3" 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	# The cut lands on its WAIT: its connection is seen in one, and is
	# gone after the kill.
	wait_until 10 sh -c 'redis-cli -p "$1" CLIENT LIST | grep -q " cmd=wait "' sh "$MPORT" ||
		fail "pqueue-done never waited on the master: $(redis-cli -p "$MPORT" CLIENT LIST)"
	id=$(redis-cli -p "$MPORT" CLIENT LIST | sed -n 's/^id=\([0-9]*\) .* cmd=wait .*/\1/p')
	[ -n "$id" ] || fail "no connection in WAIT"
	redis-cli -p "$MPORT" CLIENT KILL TYPE normal SKIPME yes > /dev/null
	if redis-cli -p "$MPORT" CLIENT LIST | grep -q "^id=$id "; then
		fail "the connection in WAIT (id $id) was not cut"
	fi
	sleep 0.6
	redis-cli -p "$MPORT" CLIENT KILL TYPE normal SKIPME yes > /dev/null
	timeout 40 tail --pid="$p" -f /dev/null
	wait "$p" || st=$?
	[ "$st" = 125 ]
	run pqueue-stat -k "$q"
	assert_line unfinished=4
}

@test "sentinel: a pool whose tasks run through a failover waits it out (replicas=1)" {
	local q d=$BATS_TEST_TMPDIR p st=0
	sentinel_start
	q="$SNAME/$(pkit_name s)?replicas=1"
	pqueue-create "$q"
	pqueue-put "$q" a b
	# Three slots, two messages: the idle slot gets with a deadline of
	# one slice (20 ms) while the tasks run, so that the pool sees them
	# end.  Such a slice meeting the failover is no deadline of the
	# user's: the pool must wait the failover out, slice after slice,
	# not give up with 125 (it did).
	pqueue-get -j 3 -f "$q" sh -c 'echo "$1" >> "$2/started"; sleep 4; echo "$1"' \
		sh {} "$d" > "$d/out" 2> "$d/err" 3>&- & p=$!
	pkit_track "$p"
	wait_until 20 sh -c '[ "$(wc -l 2>/dev/null < "$1/started")" = 2 ]' sh "$d" ||
		fail "the tasks never started: $(cat "$d/err")"
	kill -KILL "$MPID"
	wait_until 40 master_moved || fail "no failover"
	# The tasks end after the failover: their commits go to the new master.
	wait_until 40 sh -c '[ "$(wc -l < "$1/out")" = 2 ]' sh "$d" ||
		fail "the tasks never ended: $(cat "$d/err")"
	pqueue-close "$q"
	timeout 40 tail --pid="$p" -f /dev/null
	wait "$p" || st=$?
	[ "$st" = 0 ] || fail "the pool exited $st: $(cat "$d/err")"
	run sort "$d/out"
	assert_output $'a\nb'
	run pqueue-stat -k "$q"
	assert_line unfinished=0
	run cat "$d/err"
	assert_output ''
}

# new_wait PORT ID: a client other than ID is in WAIT on the server at PORT.
new_wait() {
	local i
	i=$(redis-cli -p "$1" CLIENT LIST | sed -n 's/^id=\([0-9]*\) .* cmd=wait .*/\1/p')
	[ -n "$i" ] && [ "$i" != "$2" ]
}

@test "sentinel: a counted give-back sent again after its WAIT is cut counts the attempt once" {
	local q d=$BATS_TEST_TMPDIR p id m
	sentinel_start
	q="$SNAME/$(pkit_name s)"
	pqueue-create "$q"
	pqueue-put "$q" a
	# The CMD fails: after its backoff the pool gives the message back
	# with attempts+1, a write, which on ?replicas=3 (two exist) waits in
	# WAIT.  Its connection is cut there: the script has run, the reply
	# is lost, and the pool sends it again on a new connection.  Counted
	# twice, the attempt brought -r's end a failure nearer.
	pqueue-get -r 100 -f "$q?replicas=3" false 2> "$d/err" 3>&- & p=$!
	pkit_track "$p"
	# The master the sentinels name: on a loaded machine they may have
	# replaced the first (down-after-milliseconds is 1000).
	wait_until 20 eval 'm=$(sentinel_master) && new_wait "$m" none' ||
		fail "the give-back never waited on the master: $(cat "$d/err")"
	id=$(redis-cli -p "$m" CLIENT LIST | sed -n 's/^id=\([0-9]*\) .* cmd=wait .*/\1/p')
	redis-cli -p "$m" CLIENT KILL ID "$id" > /dev/null
	# Sent again: another connection waits (the script ran before it).
	wait_until 20 new_wait "$m" "$id" ||
		fail "the give-back was not sent again: $(cat "$d/err")"
	run pqueue-stat -l "$q"
	assert_output $'1\tqueued\t1\t1\ta'
	kill -TERM "$p"
	timeout 40 tail --pid="$p" -f /dev/null
}

# subscribers N PORT CHANNEL: at least N subscribers on PORT's CHANNEL.
subscribers() {
	[ "$(redis-cli -p "$2" pubsub numsub "$3" | sed -n 2p)" -ge "$1" ]
}

@test "sentinel: a worker waiting on a master the sentinels have replaced moves to the new one" {
	local q n d=$BATS_TEST_TMPDIR k p wpids=() t0
	sentinel_start
	n=$(pkit_name mv)
	q=$SNAME/$n
	pqueue-create "$q"
	wait_until 10 sh -c '[ "$(redis-cli -p "$1" exists "$2")" = 1 ]' sh \
		"$RPORT1" "pkit:queue:{$n}"
	for k in 1 2; do
		pqueue-get -f "$q" echo {} > "$d/out.$k" 2> "$d/werr.$k" 3>&- &
		pkit_track "$!"
		wpids+=("$!")
	done
	wait_until 10 subscribers 2 "$MPORT" "pkit:queue:{$n}:ev:get"
	# The sentinels are made to name the first replica, promoted; the
	# old master is not told and still says it is one: as a master cut
	# off from the sentinels and not yet reconfigured.  It answers its
	# waiters' PINGs, and they hear nothing the new master publishes:
	# only the sentinels can tell them where the master went.
	redis-cli -p "$RPORT1" replicaof no one > /dev/null
	for p in $SPORTS; do
		redis-cli -p "$p" sentinel remove m > /dev/null
		redis-cli -p "$p" sentinel monitor m 127.0.0.1 "$RPORT1" 2 > /dev/null
	done
	[ "$(sentinel_master)" = "$RPORT1" ]
	run redis-cli -p "$MPORT" role
	assert_line --index 0 master
	t0=$EPOCHREALTIME
	pqueue-put "$q" one
	pqueue-close "$q"
	# REDIS_RECHECK_NS (5 s) and a margin: never the 90 s of a hang.
	wait_pids 20 "${wpids[@]}" || fail "workers still running: $(where_are "${wpids[@]}")"
	echo "# moved and closed in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }') ms" >&3
	run cat "$d"/out.1 "$d"/out.2
	assert_output one
	run cat "$d"/werr.1 "$d"/werr.2
	assert_output ''
}
