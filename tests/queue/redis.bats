#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The queue on Redis: what is Redis's own (the suites of shared memory run
# again on Redis through tests/redis-run).  Leases that run out under a
# killed taker and are renewed under a live one, a restart with AOF that
# keeps what was acknowledged, the server lost under a waiter, bad URLs,
# refused authentication, keys that are not ours, and what is refused on
# Redis (LIFO, modes) or on shared memory (-l).  One private redis-server
# serves the file (tests/redis.bash).
# shellcheck disable=SC2154 # output, status, stderr come from bats
# shellcheck disable=SC2016 # $ in single quotes is for the inner shell

load ../helper
load joinable
load ../redis
bats_require_minimum_version 1.5.0

setup_file() {
	redis_start
}

teardown_file() {
	redis_stop
}

# rq PREFIX: a queue name on the private server, unique to this test.
rq() {
	printf 'redis://127.0.0.1:%s/%s\n' "$REDIS_PORT" "$(pkit_name "$1")"
}

@test "pqueue redis: the same commands: put, get, stat, close, join, rm" {
	local q
	q=$(rq r)
	pqueue-create "$q"
	pqueue-put "$q" one two
	printf 'three\nfour\n' | pqueue-put "$q"
	run pqueue-get -c 4 "$q"
	assert_output $'one\ntwo\nthree\nfour'
	run pqueue-join -t 0.2 "$q"
	assert_failure 124
	pqueue-done -c 4 "$q"
	pqueue-join -t 5 "$q"
	pqueue-close "$q"
	run pqueue-get "$q"
	assert_failure 1
	pqueue-rm "$q"
	run --separate-stderr pqueue-stat "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-stat: $q: no such queue"
}

@test "pqueue redis: redis:NAME takes the server from PKIT_REDIS_URL" {
	local n
	n=$(pkit_name u)
	pqueue-create "redis:$n"
	pqueue-put "redis:$n" hello
	run rcli xlen "pkit:queue:{$n}:s"
	assert_output 1
	run pqueue-get "redis://127.0.0.1:$REDIS_PORT/$n"
	assert_output hello
	pqueue-rm "redis:$n"
}

@test "pqueue redis: -l (or PKIT_QUEUE_LEASE) sets the lease time, which stat shows" {
	local q
	q=$(rq l)
	pqueue-create -l 1.5s "$q"
	run pqueue-stat -k "$q"
	assert_line lease_ms=1500
	refute_line --regexp '^mode='
	run pqueue-stat "$q"
	assert_line --regexp '^lease time: +1\.5s '
	q=$(rq l)
	pqueue-create "$q"
	run pqueue-stat -k "$q"
	assert_line lease_ms=30000
	run --separate-stderr pqueue-create -l 50ms "$(rq l)"
	assert_failure 125
	assert_equal "$stderr" "pqueue-create: bad lease time '50ms': from 100ms to 1 day"
	# PKIT_QUEUE_LEASE is the default; -l wins over it.
	q=$(rq l)
	PKIT_QUEUE_LEASE=2s pqueue-create "$q"
	run pqueue-stat -k "$q"
	assert_line lease_ms=2000
	q=$(rq l)
	PKIT_QUEUE_LEASE=2s pqueue-create -l 700ms "$q"
	run pqueue-stat -k "$q"
	assert_line lease_ms=700
	q=$(rq l)
	PKIT_QUEUE_LEASE=soon run --separate-stderr pqueue-create "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-create: $q: bad PKIT_QUEUE_LEASE (100ms to 1 day)"
	run pqueue-stat "$q"
	assert_failure 125
}

@test "pqueue redis: a killed getter's message comes back once its lease runs out" {
	local q p t0 t1
	q=$(rq k)
	# A lease long enough that a loaded machine (an ASan build, a busy
	# CI) still asks for "b" before "a" comes back.
	pqueue-create -l 4s "$q"
	pqueue-put "$q" a b
	# A worker holds "a", then dies of SIGKILL (its CMD with it).
	pqueue-get "$q" sh -c 'echo $$ > "$0"; exec sleep 30' \
		"$BATS_TEST_TMPDIR/cmd" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/cmd"
	pkit_track "$(cat "$BATS_TEST_TMPDIR/cmd")"
	kill -KILL "$p"
	wait "$p" || true
	run pqueue-stat -k "$q"
	assert_line inflight=1
	assert_line size=1
	# Not before the lease runs out; then first in line, attempts 1.
	t0=$(date +%s%N)
	run pqueue-get -i -t 5 "$q"
	t1=$(date +%s%N)
	assert_success
	assert_output $'2\tb'
	run pqueue-get -i -t 10 "$q"
	assert_success
	assert_output $'1\ta'
	[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] || fail "b waited for a's lease"
	run pqueue-stat -k "$q"
	assert_line requeues=1
	assert_line recoveries=1
	assert_line unfinished=2
}

@test "pqueue redis: an expired lease behind ten live ones is still taken back" {
	local n key i
	n=$(pkit_name x)
	key="pkit:queue:{$n}:s"
	pqueue-create -l 1s "redis:$n"
	for i in $(seq 12); do pqueue-put "redis:$n" "m$i"; done
	# Twelve holders take one each; eleven renew (XCLAIM resets the
	# idle time, as a renewal does), the twelfth is dead.  XAUTOCLAIM
	# looks at ten entries per message asked for: a get of one must go
	# on past the first ten, not say "queue empty".
	for i in $(seq 12); do
		rcli xreadgroup group g "c$i" count 1 streams "$key" '>' > /dev/null
	done
	sleep 1.3
	for i in $(seq 11); do
		rcli xclaim "$key" g "c$i" 0 "0-$i" justid > /dev/null
	done
	run --separate-stderr pqueue-get -n "redis:$n"
	assert_success
	assert_output m12
}

@test "pqueue redis: a worker renews its lease while CMD runs past it" {
	local q p
	q=$(rq w)
	pqueue-create -l 300ms "$q"
	pqueue-put "$q" slow
	# CMD runs until told to end, however slow the machine.
	pqueue-get "$q" sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done; cat > "$0"' \
		"$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/go" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c 'pqueue-stat -k "$1" | grep -qx inflight=1' sh "$q"
	# Three lease times later the message is still leased, not redelivered,
	# and its lease was renewed well within its last lease time.
	run pqueue-get -t 1 "$q"
	assert_failure 124
	run pqueue-stat "$q"
	assert_line --regexp '^lease: +pid [0-9]+, 1 message from id 1, 0 earlier attempts, held 0\.[0-9]s$'
	touch "$BATS_TEST_TMPDIR/go"
	wait "$p"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" slow
	pqueue-join -t 5 "$q"
	run pqueue-stat -k "$q"
	assert_line requeues=0
}

@test "pqueue redis: a worker's renewals outlive a server that closes idle connections" {
	local q p st _
	own_server --timeout 1
	q=redis://127.0.0.1:$oport/idle
	pqueue-create -l 6s "$q"
	pqueue-put "$q" slow
	# Renewed every 2 s, the connection sits idle that long, and the
	# server closes it.  The old worker's renewals then failed,
	# unsaid, and a lease time later the message went to another getter
	# while the task still ran.
	pqueue-get "$q" sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done; cat > "$0"' \
		"$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/go" \
		3>&- 2> "$BATS_TEST_TMPDIR/err" &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c 'pqueue-stat -k "$1" | grep -qx inflight=1' sh "$q"
	# Over a lease time and a half, no other getter may have it (fresh
	# connections: a waiting get's own would be closed too).
	for _ in $(seq 18); do
		run pqueue-get -n "$q"
		[ "$status" -eq 124 ] || fail "got it while leased: $status $output"
		_pkit_nap 0.5
	done
	touch "$BATS_TEST_TMPDIR/go"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 0 ] || fail "worker: $st: $(cat "$BATS_TEST_TMPDIR/err")"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" slow
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
	own_stop
}

@test "pqueue redis: a getter whose connection the server closed while it waited gets on" {
	local q p st
	own_server --timeout 1
	q=redis://127.0.0.1:$oport/idle
	pqueue-create "$q"
	# The getter's connection sits idle while it waits on its
	# subscription (which the timeout spares); the server closes it.
	# The old getter, woken by the put, failed on it with 125.
	pqueue-get -f "$q" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_get=1' sh "$q"
	_pkit_nap 3
	pqueue-put "$q" late
	wait_until 10 grep -qx late "$BATS_TEST_TMPDIR/out" ||
		fail "not got: $(cat "$BATS_TEST_TMPDIR/err")"
	pqueue-close "$q"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 0 ] || fail "getter: $st: $(cat "$BATS_TEST_TMPDIR/err")"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
	own_stop
}

@test "pqueue redis: a restart with AOF on loses nothing acknowledged" {
	local q
	own_server --appendonly yes --appendfsync always
	q=redis://127.0.0.1:$oport/aof
	pqueue-create "$q"
	seq 1 100 | pqueue-put "$q"
	run pqueue-get -c 10 "$q"
	assert_output "$(seq 1 10)"
	pqueue-done -c 10 "$q"
	own_stop
	own_server --appendonly yes --appendfsync always
	run pqueue-stat -k "$q"
	assert_line size=90
	assert_line unfinished=90
	assert_line next_id=101
	run pqueue-get -c 90 "$q"
	assert_output "$(seq 11 100)"
	own_stop
}

@test "pqueue redis: a waiter whose server goes away exits 125 in one line" {
	local q w st
	own_server
	q=redis://127.0.0.1:$oport/gone
	pqueue-create "$q"
	pqueue-get -t 30 "$q" 2> "$BATS_TEST_TMPDIR/err" 3>&- &
	w=$!
	pkit_track "$w"
	wait_until 5 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_get=1' sh "$q"
	own_stop
	st=0
	wait "$w" || st=$?
	# The subscription is made again, then the get fails to connect.
	[ "$st" -eq 125 ] || fail "status $st: $(cat "$BATS_TEST_TMPDIR/err")"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp "^pqueue-get: $q: "
	[ "${#lines[@]}" -eq 1 ]
}

@test "pqueue redis: a worker on NAME?replicas=N sets a failed message aside in NAME.dead, the option kept" {
	local q
	q=$(rq dl)
	pqueue-create "$q"
	pqueue-create "$q.dead"
	pqueue-put "$q?replicas=0" m1
	pqueue-close "$q"
	run pqueue-get -r 1 -f "$q?replicas=0" false
	assert_failure 1
	assert_output --partial "failed 1 times: moved to $q.dead?replicas=0"
	run pqueue-get -n "$q.dead"
	assert_output m1
}

# xlen_ge KEY N: the stream KEY on the test's server holds N entries or
# more (one redis-cli every 0.1 s at most: polled while the put streams).
xlen_ge() {
	sleep 0.1
	[ "$(redis-cli -p "$oport" xlen "$1")" -ge "$2" ]
}

# cut_stream HOW: stream 100 000 lines into a queue on a server of this
# test (AOF, fsync always) and cut the connection after line 50 000 is
# stored, while the rest still trickles in: HOW is kill (the server
# SIGKILLed, then started again on its AOF) or client (the server ends
# the client's connection: CLIENT KILL).  The put must exit 125 with one
# line that says how many lines are stored, and the queue must hold
# exactly lines 1..M, M at least that many: nothing reported stored is
# missing, nothing is stored twice or out of order.
cut_stream() {
	local q d=$BATS_TEST_TMPDIR p st n m key
	own_server --appendonly yes --appendfsync always
	q=redis://127.0.0.1:$oport/cut
	key='pkit:queue:{cut}:s'
	pqueue-create -s 16M "$q"
	# The second half trickles until the cut is made (at most ~40 s).
	{
		seq 1 50000
		for i in $(seq 50001 500 99501); do
			seq "$i" $((i + 499))
			[ -e "$d/cut" ] || sleep 0.2
		done
	} 2>/dev/null | pqueue-put "$q" 2> "$d/err" 3>&- &
	p=$!
	pkit_track "$p"
	wait_until 60 xlen_ge "$key" 50000
	if [ "$1" = kill ]; then
		kill -KILL "$opid"
		wait "$opid" 2>/dev/null || true
	else
		redis-cli -p "$oport" client kill type normal > /dev/null
	fi
	touch "$d/cut"
	wait_until 60 sh -c '! kill -0 "$1" 2>/dev/null' sh "$p"
	st=0
	wait "$p" || st=$?
	if [ "$1" = client ] && [ "$st" -eq 0 ]; then
		# Cut between two batches: the put saw the connection closed
		# before sending the next one, made a new one, and went on;
		# nothing was sent twice.
		assert_equal "$(cat "$d/err")" ""
		m=$(redis-cli -p "$oport" xlen "$key")
		echo "# client: cut between batches, made again: $m in the queue" >&3
		[ "$m" -eq 100000 ] || fail "$m in the queue, not 100000"
		pqueue-get -c "$m" "$q" > "$d/got"
		seq 1 "$m" | cmp - "$d/got"
		own_stop
		return
	fi
	[ "$st" -eq 125 ] || fail "status $st: $(cat "$d/err")"
	run cat "$d/err"
	[ "${#lines[@]}" -eq 1 ]
	assert_output --regexp "^pqueue-put: $q: .* \(the first [0-9]+ messages of the input are stored, the rest may or may not be\)$"
	n=$(sed 's/.*the first \([0-9]*\) messages.*/\1/' "$d/err")
	[ "$1" = kill ] && own_server --appendonly yes --appendfsync always
	m=$(redis-cli -p "$oport" xlen "$key")
	echo "# $1: $n lines reported stored, $m in the queue" >&3
	[ "$n" -ge 50000 ] || fail "only $n lines reported stored, fewer than the 50000 in the queue before the cut"
	[ "$n" -lt 100000 ] || fail "$n lines reported stored, the whole input"
	[ "$m" -ge "$n" ]
	pqueue-get -c "$m" "$q" > "$d/got"
	seq 1 "$m" | cmp - "$d/got"
	own_stop
}

@test "pqueue redis: a streaming put whose server is killed halfway: 125, one line, every line it reports stored is kept" {
	cut_stream kill
}

@test "pqueue redis: a streaming put whose connection is cut halfway: 125 and every line it reports stored is kept, or made again between batches" {
	cut_stream client
}

@test "pqueue redis: a getter whose server falls silent (stopped, no reset) exits 125 within the bound" {
	local q w st t0 t1
	own_server
	q=redis://127.0.0.1:$oport/silent
	pqueue-create "$q"
	pqueue-get -t 120 "$q" 2> "$BATS_TEST_TMPDIR/err" 3>&- &
	w=$!
	pkit_track "$w"
	wait_until 20 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_get=1' sh "$q"
	# SIGSTOP: the socket stays open and nothing answers, as in a
	# partition or a host gone without a reset.
	kill -STOP "$opid"
	t0=$(date +%s)
	st=0
	wait "$w" || st=$?
	t1=$(date +%s)
	kill -CONT "$opid"
	own_stop
	# 8 s by design (redis.h); generous for a loaded machine
	[ $((t1 - t0)) -le 30 ] || fail "noticed after $((t1 - t0)) s"
	[ "$st" -eq 125 ] || fail "status $st: $(cat "$BATS_TEST_TMPDIR/err")"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output "pqueue-get: $q: server not answering (no reply to PING in 5 s)"
}

@test "pqueue redis: unreachable servers, bad URLs and refused passwords: 125, one line, no password" {
	local t n
	for t in pqueue-create pqueue-put pqueue-get pqueue-stat pqueue-close pqueue-done pqueue-join pqueue-rm; do
		for n in "redis://u:sekrit@127.0.0.1:$REDIS_PORT/q" \
		    "redis://u:sekrit@127.0.0.1:1/q" \
		    "redis://u:sekrit@127.0.0.1:99999/q" \
		    "redis://u:sekrit@127.0.0.1/bad name"; do
			run --separate-stderr "$t" "$n"
			[ "$status" -eq 125 ] || fail "$t $n: status $status"
			[ "${#stderr_lines[@]}" -eq 1 ] || fail "$t: $stderr"
			[[ "$stderr" != *sekrit* ]] || fail "$t: password shown"
			[ -z "$output" ] || fail "$t: stdout: $output"
		done
	done
	run --separate-stderr pqueue-put "redis://u:sekrit@127.0.0.1:$REDIS_PORT/q" x
	assert_equal "$stderr" "pqueue-put: redis://u:***@127.0.0.1:$REDIS_PORT/q: authentication refused"
	run --separate-stderr pqueue-put "redis://127.0.0.1:1/q" x
	assert_equal "$stderr" "pqueue-put: redis://127.0.0.1:1/q: cannot connect to 127.0.0.1:1: connection refused"
	# redis:NAME does not say where it goes: the message does, not the password.
	PKIT_REDIS_URL='redis://u:sekrit@127.0.0.1:1' run --separate-stderr pqueue-put redis:q x
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: redis:q: cannot connect to 127.0.0.1:1: connection refused"
	PKIT_REDIS_URL='redis://[::1]:1' run --separate-stderr pqueue-stat redis:q
	assert_failure 125
	[[ "$stderr" == "pqueue-stat: redis:q: cannot connect to [::1]:1: "* ]] || fail "$stderr"
	PKIT_REDIS_URL='' run --separate-stderr pqueue-put redis:q x
	assert_failure 125
	[[ "$stderr" == *PKIT_REDIS_URL* ]] || fail "$stderr"
}

@test "pqueue redis: keys that are not a pkit queue are refused, never touched" {
	local n
	n=$(pkit_name x)
	rcli set "pkit:queue:{$n}" mine >/dev/null
	for t in pqueue-put pqueue-get pqueue-stat pqueue-create pqueue-rm; do
		run --separate-stderr "$t" "redis:$n"
		[ "$status" -eq 125 ] || fail "$t: status $status"
		[[ "$stderr" == *"not pkit's"* ]] || fail "$t: $stderr"
	done
	run rcli get "pkit:queue:{$n}"
	assert_output mine
	n=$(pkit_name x)
	rcli hset "pkit:queue:{$n}" magic 'pkit-queue 1' >/dev/null
	run --separate-stderr pqueue-put "redis:$n" x
	assert_failure 125
	[[ "$stderr" == *"not pkit's"* ]] || fail "$stderr"
	# The put goes with the open check (pq_open_lazy): it must not run,
	# even on a hash that has every field a put reads, and no stream.
	rcli hset "pkit:queue:{$n}" closed 0 max_msgs 0 max_bytes 4096 \
		max_msg 100 bytes 0 next_id 0 unfinished 0 lease_ms 1000 >/dev/null
	run --separate-stderr pqueue-put "redis:$n" x
	assert_failure 125
	[[ "$stderr" == *"not pkit's"* ]] || fail "$stderr"
	run rcli exists "pkit:queue:{$n}:s"
	assert_output 0
	run rcli hget "pkit:queue:{$n}" next_id
	assert_output 0
}

@test "pqueue redis: LIFO and modes are refused on redis, a lease time on shared memory" {
	run --separate-stderr pqueue-create -L "$(rq f)"
	assert_failure 125
	[[ "$stderr" == *"LIFO queues are not supported on redis"* ]] || fail "$stderr"
	run --separate-stderr pqueue-create -M 0640 "$(rq f)"
	assert_failure 125
	[[ "$stderr" == *"a mode has no meaning on redis"* ]] || fail "$stderr"
	run --separate-stderr pqueue-create -l 1s "$(pkit_name f)"
	assert_failure 125
	[[ "$stderr" == *"a lease time is for queues on redis"* ]] || fail "$stderr"
}

@test "pqueue redis: stat counts waiters by kind, and they leave when killed" {
	local q g p
	q=$(rq s)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" full
	pqueue-put "$q" more 3>&- &
	p=$!
	pkit_track "$p"
	pqueue-join "$q" 3>&- &
	g=$!
	pkit_track "$g"
	wait_until 5 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_put=1' sh "$q"
	wait_until 5 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_join=1' sh "$q"
	kill -KILL "$p" "$g"
	wait "$p" "$g" || true
	wait_until 5 sh -c 'pqueue-stat -k "$1" | grep -qx waiting_put=0' sh "$q"
	run pqueue-stat -k "$q"
	assert_line waiting_join=0
	assert_line size=1
}

@test "pqueue redis: SIGKILL in a loop on producers and consumers loses nothing acknowledged" {
	# tests/queue/stress_queue on a queue on the private server (lease 500ms):
	# producers log each acknowledged put, stream getters and a worker
	# are killed at random and restarted; then every acknowledged message
	# must have been delivered whole, unfinished must reach 0 and
	# pqueue-join return 0.
	run "$top_builddir/tests/queue/stress_queue" -r "redis://127.0.0.1:$REDIS_PORT" \
		-p 2 -c 3 -n 3000 -k 500 -t 10 -d 30
	echo "$output" | grep '^stress:' >&3
	assert_success
	assert_line --regexp '^stress: lost 0, '
	assert_line --regexp '^stress: SIGKILLs sent [1-9][0-9]+'
}
