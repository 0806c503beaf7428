#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The failure table of doc/QUEUE.md, one test per row: a process is
# killed (PKIT_FAULT=point:#N raises SIGKILL there) or stopped at a known
# instant, and the test asserts what the next process sees.  Needs a build
# configured with --enable-fault-injection; elsewhere every test skips.
# Rows 20 (reboot: the queue is gone, by design) and 22 (pid namespaces:
# unsupported) cannot be staged here.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load joinable
bats_require_minimum_version 1.5.0

setup() {
	pkit_setup
	fault_build || skip "needs a build configured with --enable-fault-injection"
	q=$(pkit_name f)
	pqueue-create "$q"
}

# usable: the queue still works end to end (put, get, done, join).
usable() {
	local n
	n=$(key "$q" size)
	pqueue-put "$q" probe
	[ "$(key "$q" size)" = $((n + 1)) ]
	pqueue-get -n -c $((n + 1)) "$q" > "$BATS_TEST_TMPDIR/usable"
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/usable")" = probe ]
	pqueue-done -c "$(key "$q" unfinished)" "$q" 2>/dev/null || true
	pqueue-join -t 1 "$q"
}

@test "faults 1: a producer killed before it takes the lock (blocked while full) puts nothing" {
	local p st=0
	pqueue-rm "$q"
	pqueue-create -m 1 "$q"
	pqueue-put "$q" first
	pqueue-put "$q" second & p=$!
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_put=1"
	kill -KILL "$p"
	wait "$p" || st=$?
	[ "$st" = 137 ]
	run pqueue-get -n "$q"
	assert_output first
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" unfinished)" = 1 ]
	[ "$(key "$q" waiting_put)" = 0 ]
	usable
}

# killed_mid_copy: the last run was a producer killed mid copy; nothing
# of it is in the queue, whose repair was counted, and it still works.
killed_mid_copy() {
	assert_failure 137
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" unfinished)" = 0 ]
	[ "$(key "$q" recoveries)" = 1 ]
	run pqueue-get -n "$q"
	assert_failure 124
	usable
}

@test "faults 2: a producer killed holding the lock, mid copy: not put, no corruption" {
	PKIT_FAULT=mid_copy:#1 run pqueue-put "$q" "a message of some length"
	killed_mid_copy
}

@test "faults 2: a producer killed mid copy of a batch framed in its buffer: none of it put" {
	# 100 short lines are one batch, framed in the write buffer and
	# copied to the ring at once: the copy is cut in its middle.
	PKIT_FAULT=mid_copy:#1 run sh -c 'seq 100 | pqueue-put "$1"' sh "$q"
	killed_mid_copy
	# The next batch lands where the cut one was, whole.
	seq 101 200 | pqueue-put "$q"
	run pqueue-get -n -c 100 "$q"
	assert_output "$(seq 101 200)"
}

@test "faults 2a: a producer killed mid copy of a big batch, copied without the lock: none of it put" {
	# 4096 lines of seq are 128 KiB of records: copied with the mutex
	# let go (doc/QUEUE.md), so nobody's lock owner dies; the flag it
	# left up is found by the next look, and counted as a recovery.
	seq 10000 > "$BATS_TEST_TMPDIR/in"
	PKIT_FAULT=mid_copy:#1 run pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	killed_mid_copy
	seq 10001 20000 | pqueue-put "$q"
	run pqueue-get -n -c 10000 "$q"
	assert_output "$(seq 10001 20000)"
}

@test "faults 2b: a producer stopped mid copy of a big batch: getters go on, other putters wait, -n gives up in 250 ms" {
	local p
	pqueue-put "$q" before
	seq 10000 > "$BATS_TEST_TMPDIR/in"
	PKIT_FAULT=mid_copy:stop#1 pqueue-put "$q" < "$BATS_TEST_TMPDIR/in" &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "grep -q '^State:.*T' /proc/$p/status"
	# The mutex is free: a getter takes what was committed.
	run timeout 5 pqueue-get -n "$q"
	assert_success
	assert_output before
	# A putter may not write where the stopped one writes: -n waits as
	# for a held lock (250 ms), then exits 124 as for a full queue.
	timed_run pqueue-put -n "$q" late
	assert_failure 124
	[ "$elapsed" -ge 200 ]
	pqueue-put "$q" after &
	local w=$!
	sleep 0.3
	kill -0 "$w"
	kill -CONT "$p"
	wait "$p"
	wait "$w"
	run pqueue-get -n -c 10001 "$q"
	assert_output "$(seq 10000; echo after)"
	[ "$(key "$q" recoveries)" = 0 ]
}

@test "faults 2b: a big put with -n whose lock is held by a stopped process when its copy ends gives up with 124" {
	local p st=0
	pqueue-put "$q" before
	seq 10000 > "$BATS_TEST_TMPDIR/in"
	PKIT_FAULT=mid_copy:stop#1 pqueue-put -n "$q" < "$BATS_TEST_TMPDIR/in" &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "grep -q '^State:.*T' /proc/$p/status"
	# Another holder of the mutex, stopped as far as the putter can tell
	# (row 17): segpatch -h holds it for 3 s, setting a field to the
	# value it has.
	"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
	    state.nmsgs 1 3000 > "$BATS_TEST_TMPDIR/held" &
	local h=$!
	pkit_track "$h"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
	local t0=${EPOCHREALTIME//[!0-9]/}
	kill -CONT "$p"
	wait "$p" || st=$?
	local ms=$(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 ))
	# -n's deadline holds for taking the lock back after the copy: 124
	# after the 250 ms grace, not a wait for the holder to let go.
	[ "$st" = 124 ]
	[ "$ms" -lt 2000 ]
	wait "$h"
	# That batch is not put; the flag comes down at the next look.
	run pqueue-get -n -c 20000 "$q"
	assert_output before
	[ "$(key "$q" recoveries)" = 1 ]
	usable
}

@test "faults 2: a producer killed right after taking the lock: not put, queue usable" {
	PKIT_FAULT=after_lock:#1 run pqueue-put "$q" m
	assert_failure 137
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" recoveries)" = 1 ]
	usable
}

@test "faults 3: a producer killed after its commit, before the wake-up: put, and a blocked getter still gets it" {
	local p
	pqueue-get -t 10 "$q" > "$BATS_TEST_TMPDIR/got" & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	# No other process touches the queue: the getter must notice alone.
	PKIT_FAULT=after_commit:#1 run pqueue-put "$q" wake
	assert_failure 137
	wait "$p"
	run cat "$BATS_TEST_TMPDIR/got"
	assert_output wake
	[ "$(key "$q" unfinished)" = 1 ]
	[ "$(key "$q" recoveries)" = 1 ]
	usable
}

@test "faults 4: a producer killed after a put returned: that message is in, once" {
	# It dies in its second put (b), after the first (a) returned.
	run bash -c '{ echo a; sleep 0.3; echo b; } |
		PKIT_FAULT=after_lock:#2 pqueue-put "$1"' _ "$q"
	assert_failure 137
	run pqueue-get -n -c 2 "$q"
	assert_failure 124
	assert_output a
	[ "$(key "$q" unfinished)" = 1 ]
	usable
}

@test "faults 5: a getter killed asleep: its slot and wait are reclaimed, nothing lost" {
	local p st=0
	pqueue-get "$q" & p=$!
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	kill -KILL "$p"
	wait "$p" || st=$?
	[ "$st" = 137 ]
	pqueue-put "$q" m
	run pqueue-get -n "$q"
	assert_output m
	[ "$(key "$q" waiting_get)" = 0 ]
	usable
}

@test "faults 6: a getter killed holding the lock during a take: the message is still at the head" {
	pqueue-put "$q" first second
	PKIT_FAULT=after_lock:#1 run pqueue-get "$q"
	assert_failure 137
	assert_output ""
	[ "$(key "$q" size)" = 2 ]
	[ "$(key "$q" recoveries)" = 1 ]
	run pqueue-get -i "$q"
	assert_output "$(printf '1\tfirst')"
	[ "$(key "$q" requeues)" = 0 ]
	usable
}

@test "faults 7: a getter killed after the take, before writing: requeued at the front once, attempts 1" {
	pqueue-put "$q" first second
	PKIT_FAULT=after_take:#1 run pqueue-get "$q"
	assert_failure 137
	assert_output ""
	# The dead lease is shown, then given back by the next getter.
	run pqueue-stat -k "$q"
	assert_line --regexp '^lease=pid:[0-9]+ messages:1 first_id:1 attempts:0 age_ms:[0-9]+ dead$'
	run pqueue-get -n "$q" sh -c 'read -r m; echo "$m $PQUEUE_ATTEMPTS"'
	assert_output "first 1"
	[ "$(key "$q" requeues)" = 1 ]
	[ "$(key "$q" unfinished)" = 1 ]
	usable
}

@test "faults 7: a getter killed mid write: the output has no terminator; the message comes back whole" {
	pqueue-put "$q" "hello world"
	PKIT_FAULT=mid_write:#1 pqueue-get "$q" > "$BATS_TEST_TMPDIR/out" || true
	run od -An -c "$BATS_TEST_TMPDIR/out"
	refute_output --partial '\n'
	[ "$(wc -c < "$BATS_TEST_TMPDIR/out")" -lt 12 ]
	run pqueue-get -n "$q"
	assert_output "hello world"
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" requeues)" = 1 ]
	usable
}

@test "faults 8: a getter killed after its write, before the commit: a duplicate, told apart by id" {
	pqueue-put "$q" task
	PKIT_FAULT=after_write:#1 pqueue-get -i "$q" > "$BATS_TEST_TMPDIR/out" || true
	pqueue-get -n -i "$q" >> "$BATS_TEST_TMPDIR/out"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '1\ttask\n1\ttask')"
	# Done by id twice: counted once, join right.
	pqueue-done "$q" 1
	pqueue-done "$q" 1
	[ "$(key "$q" unfinished)" = 0 ]
	pqueue-join -t 1 "$q"
	usable
}

@test "faults 8: a worker killed after CMD succeeded, before the commit: the task runs again, done once" {
	pqueue-put "$q" t
	PKIT_FAULT=worker_ran:#1 run pqueue-get "$q" sh -c 'cat >> "$0"' "$BATS_TEST_TMPDIR/out"
	assert_failure 137
	[ "$(key "$q" unfinished)" = 1 ]
	pqueue-get -n "$q" sh -c 'cat >> "$0"' "$BATS_TEST_TMPDIR/out"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" = 2 ]
	[ "$(key "$q" unfinished)" = 0 ]
	usable
}

@test "faults 9: a getter killed holding the lock in its commit: at most a duplicate" {
	pqueue-put "$q" m
	PKIT_FAULT=mid_commit:#1 run pqueue-get "$q"
	assert_failure 137
	assert_output m
	run pqueue-get -n "$q"
	assert_output m
	[ "$(key "$q" recoveries)" = 1 ]
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" inflight)" = 0 ]
	usable
}

@test "faults 9: a worker killed in the commit of its done: the task is not done, and comes back" {
	pqueue-put "$q" m
	PKIT_FAULT=mid_commit:#1 run pqueue-get "$q" cat
	assert_failure 137
	[ "$(key "$q" unfinished)" = 1 ]
	run pqueue-get -n "$q" cat
	assert_output m
	[ "$(key "$q" unfinished)" = 0 ]
	usable
}

@test "faults 10: a getter killed after its commit: delivered once, not redelivered" {
	local p st=0
	pqueue-get -f "$q" > "$BATS_TEST_TMPDIR/out" & p=$!
	pqueue-put "$q" once
	# The next take commits "once"; then it waits again.
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx inflight=0 && pqueue-stat -k $q | grep -qx waiting_get=1"
	kill -KILL "$p"
	wait "$p" || st=$?
	[ "$st" = 137 ]
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output once
	run pqueue-get -n "$q"
	assert_failure 124
	[ "$(key "$q" requeues)" = 0 ]
	[ "$(key "$q" unfinished)" = 1 ]
	usable
}

@test "faults 11: a reclaimer killed mid requeue: the next one redoes it; the message is there once" {
	pqueue-put "$q" first second
	PKIT_FAULT=after_take:#1 run pqueue-get "$q"
	assert_failure 137
	PKIT_FAULT=mid_requeue:#1 run pqueue-get -n "$q"
	assert_failure 137
	[ "$(key "$q" recoveries)" = 1 ]
	run pqueue-get -n -c 3 -i "$q"
	assert_failure 124
	assert_output "$(printf '1\tfirst\n2\tsecond')"
	[ "$(key "$q" requeues)" = 1 ]
	usable
}

@test "faults 12: a process killed in the middle of a repair: the next one repairs again" {
	pqueue-put "$q" kept
	PKIT_FAULT=after_lock:#1 run pqueue-put "$q" lost
	assert_failure 137
	PKIT_FAULT=mid_repair:#1 run pqueue-stat "$q"
	assert_failure 137
	[ "$(key "$q" size)" = 1 ]
	[ "$(key "$q" recoveries)" = 1 ]
	run pqueue-get -n "$q"
	assert_output kept
	usable
}

@test "faults 13: a creator killed before publishing the magic: refused as incomplete, removable" {
	local q2
	q2=$(pkit_name f)
	PKIT_FAULT=mid_create:#1 run pqueue-create "$q2"
	assert_failure 137
	run --separate-stderr pqueue-put "$q2" x
	assert_failure 125
	[[ "$stderr" == *"incomplete queue (its creator died)"* ]]
	pqueue-rm "$q2"
	pqueue-create "$q2"
	pqueue-put "$q2" x
}

@test "faults 14: pqueue-done killed holding the lock: exactly 0 or 1 decrement" {
	pqueue-put "$q" a b
	PKIT_FAULT=in_done:#1 run pqueue-done "$q"
	assert_failure 137
	[ "$(key "$q" unfinished)" = 2 ]
	[ "$(key "$q" recoveries)" = 1 ]
	PKIT_FAULT=in_done:#1 run pqueue-done "$q" 1
	assert_failure 137
	pqueue-done "$q" 1
	pqueue-done "$q" 1
	[ "$(key "$q" unfinished)" = 1 ]
	pqueue-done "$q"
	pqueue-join -t 1 "$q"
}

@test "faults 15: a joiner killed while waiting: its wait is reclaimed" {
	local p st=0
	pqueue-put "$q" a
	pqueue-join "$q" & p=$!
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_join=1"
	kill -KILL "$p"
	wait "$p" || st=$?
	[ "$st" = 137 ]
	run pqueue-get -n "$q"
	assert_output a
	[ "$(key "$q" waiting_join)" = 0 ]
	pqueue-done "$q"
	pqueue-join -t 1 "$q"
}

@test "faults 16: a remover killed between marking and unlinking: waiters fail; a second rm unlinks" {
	local p st=0
	pqueue-get "$q" & p=$!
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	PKIT_FAULT=in_remove:#1 run pqueue-rm "$q"
	assert_failure 137
	wait "$p" || st=$?
	[ "$st" = 125 ]
	pqueue-rm "$q"
	[ ! -e "$PKIT_DIR/queues/$q" ]
	pqueue-create "$q"
	usable
}

@test "faults 17: a process stopped holding the lock: others give up after -t with 124, then go on" {
	local p
	PKIT_FAULT=after_lock:stop#1 pqueue-put "$q" m & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "grep -q '^State:.*T' /proc/$p/status"
	timed_run --separate-stderr pqueue-stat -k "$q"
	assert_failure 124
	[[ "$stderr" == *"queue busy"* ]]
	timed_run pqueue-get -t 1 "$q"
	assert_failure 124
	[ "$elapsed" -ge 900 ] || fail "returned after $elapsed ms, before the 1 s timeout"
	[ "$elapsed" -lt 3000 ] || fail "returned after $elapsed ms"
	kill -CONT "$p"
	wait "$p"
	run pqueue-get -n "$q"
	assert_output m
	usable
}

@test "faults 18: a stopped lease holder keeps its message; stat shows the lease's age" {
	local p
	pqueue-put "$q" held
	pqueue-get "$q" sh -c 'cat > /dev/null; exec sleep 30' & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -q '^lease=pid:$p '"
	kill -STOP "$p"
	sleep 0.3
	run pqueue-get -t 0.5 "$q"
	assert_failure 124
	run pqueue-stat -k "$q"
	assert_line --regexp "^lease=pid:$p messages:1 first_id:1 attempts:0 age_ms:([3-9][0-9][0-9]|[0-9]{4,}) alive$"
	kill -CONT "$p"
}

@test "faults 19: CMD of a worker does not inherit the segment, so it cannot keep a lease alive" {
	local p cp
	pqueue-put "$q" m
	pqueue-get "$q" sh -c 'echo $$ > "$0"; exec sleep 30' "$BATS_TEST_TMPDIR/cmd" & p=$!
	pkit_track "$p"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/cmd"
	cp=$(cat "$BATS_TEST_TMPDIR/cmd")
	pkit_track "$cp"
	run ls -l "/proc/$cp/fd"
	refute_output --partial "queues/$q"
	run ls -l "/proc/$p/fd"
	assert_output --partial "queues/$q"
}

@test "faults 21: a truncated segment is refused at open with 125, never a SIGBUS" {
	truncate -s 8192 "$PKIT_DIR/queues/$q"
	run --separate-stderr pqueue-put "$q" x
	assert_failure 125
	[[ "$stderr" == *"truncated"* ]]
	pqueue-rm "$q"
}
