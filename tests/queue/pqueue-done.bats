#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-done and pqueue-join: task_done by count and by id, join.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-done: usage errors: no operand, -c with ID, bad numbers" {
	run pqueue-done
	assert_failure 125
	run pqueue-done -c 2 q 5
	assert_failure 125
	run pqueue-done -c 0 q
	assert_failure 125
	run pqueue-done q x
	assert_failure 125
	run pqueue-join
	assert_failure 125
	run pqueue-join -t never q
	assert_failure 125
}

@test "pqueue-join: returns at once when nothing is unfinished" {
	local q
	q=$(pkit_name d)
	pqueue-create "$q"
	timed_run pqueue-join "$q"
	assert_success
	[ "$elapsed" -lt 3000 ]
}

@test "pqueue-join: -t 1 with unfinished tasks waits about a second, 124" {
	local q
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a
	pqueue-get "$q" > /dev/null
	timed_run pqueue-join -t 1 "$q"
	assert_failure 124
	[ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 3000 ]
}

@test "pqueue-done: counts down; join returns when the last is done" {
	local q p
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a b c
	pqueue-join "$q" & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_join=1"
	pqueue-done -c 2 "$q"
	run pqueue-stat -k "$q"
	assert_line "unfinished=1"
	_pkit_alive "$p"
	pqueue-done "$q"
	wait "$p"
	run pqueue-stat -k "$q"
	assert_line "unfinished=0"
}

@test "pqueue-done: below zero exits 1, says so, and leaves the count at 0" {
	local q
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a
	run --separate-stderr pqueue-done -c 3 "$q"
	assert_failure 1
	[[ "$stderr" == "pqueue-done: $q: task_done called too many times" ]]
	run pqueue-stat -k "$q"
	assert_line "unfinished=0"
	run pqueue-done "$q"
	assert_failure 1
}

@test "pqueue-done: ID marks a message done at most once" {
	local q id
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a b
	id=$(pqueue-get -i "$q" | cut -f1)
	pqueue-done "$q" "$id"
	pqueue-done "$q" "$id"
	run pqueue-stat -k "$q"
	assert_line "unfinished=1"
	run --separate-stderr pqueue-done "$q" 99
	assert_failure 125
	[[ "$stderr" == *"no message with id 99"* ]]
}

@test "pqueue-done: a requeued copy of a message done by ID is not delivered" {
	local q
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a b
	# The reader is gone: message 1 goes back to the queue...
	bash -c "{ sleep 1; pqueue-get $q; } | true" || true
	# ...but its id was done meanwhile (say, by a worker that saw it).
	pqueue-done "$q" 1
	run pqueue-get -i "$q"
	assert_output "$(printf '2\tb')"
	run pqueue-stat -k "$q"
	assert_line "dropped=1"
	assert_line "size=0"
}

@test "pqueue-done: a queue whose lock stays held is 124, queue busy, and nothing is marked" {
	shm_only "segpatch holds a segment's mutex"
	# Under valgrind a loaded machine starts pqueue-done in more than the
	# 3 s the lock is held: it then finds the lock free (the CI saw it).
	not_wrapped "its start can outlast the held lock"
	local q args sp
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a b
	for args in "" "2"; do
		# segpatch -h holds the mutex for 3 s (the field set to the
		# value it has), longer than pqueue-done waits for it (a
		# second); a hold for each, so that a slow start (valgrind)
		# of the first does not use up the second's.
		rm -f "$BATS_TEST_TMPDIR/held"
		"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
		    state.nmsgs 2 3000 > "$BATS_TEST_TMPDIR/held" &
		sp=$!
		pkit_track "$sp"
		wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
		# shellcheck disable=SC2086 # the words are the point
		timed_run --separate-stderr pqueue-done "$q" $args
		assert_failure 124
		[ -z "$output" ]
		assert_equal "$stderr" "pqueue-done: $q: queue busy: its lock is held (by a stopped process?)"
		[ "$elapsed" -ge 900 ] || fail "pqueue-done $args: $elapsed ms"
		wait "$sp"
	done
	run pqueue-stat -k "$q"
	assert_line "unfinished=2"
}

@test "pqueue-join: -t on a queue whose lock stays held is 124 at the deadline" {
	shm_only "segpatch holds a segment's mutex"
	not_wrapped "its start can outlast the held lock"
	local q
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a
	"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
	    state.nmsgs 1 3000 > "$BATS_TEST_TMPDIR/held" &
	pkit_track $!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
	# As at its deadline with tasks unfinished: 124, and quiet.
	timed_run --separate-stderr pqueue-join -t 500ms "$q"
	assert_failure 124
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$elapsed" -ge 400 ]
	[ "$elapsed" -lt 2500 ]
	wait
}

@test "pqueue-done: a message done by ID before it was ever delivered is dropped, not delivered" {
	local q
	q=$(pkit_name d)
	pqueue-create "$q"
	pqueue-put "$q" a b
	pqueue-done "$q" 1
	run pqueue-get -n -i "$q"
	assert_output "$(printf '2\tb')"
	run pqueue-stat -k "$q"
	assert_line "dropped=1"
	assert_line "size=0"
	assert_line "unfinished=1"
}
