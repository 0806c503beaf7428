#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-join: usage, the wait for every task to be done, -t deadlines
# with elapsed-time bounds, exit statuses (man pqueue-join(1)), and joins
# that meet concurrent pqueue-done and workers.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-join: no operand, two operands or an unknown option: the usage, 125" {
	local args
	for args in "" "a b" "-x q"; do
		# shellcheck disable=SC2086 # the words are the point
		run --separate-stderr pqueue-join $args
		assert_failure 125
		[ -z "$output" ]
		[[ "$stderr" == *"usage: pqueue-join [-p] [-t DURATION] NAME"* ]] ||
			fail "no usage for '$args': $stderr"
	done
}

@test "pqueue-join: a bad -t is 125 and says which duration" {
	local d
	for d in never -1 1x; do
		run --separate-stderr pqueue-join -t "$d" q
		assert_failure 125
		[ -z "$output" ]
		[[ "$stderr" == *"'$d'"* ]] || fail "-t $d: $stderr"
	done
}

@test "pqueue-join: -h prints the usage on stdout and exits 0" {
	run --separate-stderr pqueue-join -h
	assert_success
	assert_line --index 0 "usage: pqueue-join [-p] [-t DURATION] NAME"
	assert_line --partial -- "-t DURATION"
	assert_line "see pqueue-join(1)"
}

@test "pqueue-join: no such queue is 125, named on stderr" {
	local q
	q=$(pkit_name j)
	run --separate-stderr pqueue-join "$q"
	assert_failure 125
	[ -z "$output" ]
	[[ "$stderr" == "pqueue-join: $q: no such queue" ]]
}

@test "pqueue-join: nothing unfinished returns 0 at once, with nothing on stdout" {
	local q
	q=$(pkit_name j)
	pqueue-create "$q"
	timed_run --separate-stderr pqueue-join -t 10 "$q"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	[ "$elapsed" -lt 2000 ]
}

@test "pqueue-join: -t 0 with an unfinished task answers 124 at once" {
	local q
	q=$(pkit_name j)
	pqueue-create "$q"
	pqueue-put "$q" a
	timed_run --separate-stderr pqueue-join -t 0 "$q"
	assert_failure 124
	[ -z "$output" ]
	[ "$elapsed" -lt 2000 ]
}

@test "pqueue-join: -t 500ms waits about half a second, 124; the task is still unfinished" {
	local q
	q=$(pkit_name j)
	pqueue-create "$q"
	pqueue-put "$q" a
	pqueue-get "$q" > /dev/null
	timed_run --separate-stderr pqueue-join -t 500ms "$q"
	assert_failure 124
	[ -z "$output" ]
	[ "$elapsed" -ge 450 ] || fail "returned after $elapsed ms, before the 500 ms timeout"
	[ "$elapsed" -lt 2500 ] || fail "returned after $elapsed ms"
	run pqueue-stat -k "$q"
	assert_line "unfinished=1"
}

@test "pqueue-join: a task not yet taken keeps join waiting too" {
	local q
	q=$(pkit_name j)
	pqueue-create "$q"
	pqueue-put "$q" a
	run pqueue-join -t 200ms "$q"
	assert_failure 124
	pqueue-get "$q" > /dev/null
	pqueue-done "$q"
	run pqueue-join -t 200ms "$q"
	assert_success
}

@test "pqueue-join: returns 0 when a concurrent pqueue-done finishes the last task" {
	local q p st t0 t1
	q=$(pkit_name j)
	pqueue-create "$q"
	pqueue-put "$q" a b
	pqueue-get -c 2 "$q" > /dev/null
	pqueue-join -t 30 "$q" > "$BATS_TEST_TMPDIR/out" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx waiting_join=1"
	pqueue-done "$q"
	_pkit_alive "$p"
	t0=$(date +%s%N)
	pqueue-done "$q"
	st=0
	wait "$p" || st=$?
	t1=$(date +%s%N)
	[ "$st" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	# It wakes on the done, well before its 30 s deadline.
	[ $(( (t1 - t0) / 1000000 )) -lt 5000 ]
}

@test "pqueue-join: waits for two workers to do every task, as in the man page" {
	local q w1 w2
	q=$(pkit_name j)
	pqueue-create "$q"
	pqueue-get -f "$q" sh -c 'read -r n; echo "did $n"' > "$BATS_TEST_TMPDIR/w1" & w1=$!
	pqueue-get -f "$q" sh -c 'read -r n; echo "did $n"' > "$BATS_TEST_TMPDIR/w2" & w2=$!
	pkit_track "$w1" "$w2"
	pqueue-put "$q" 1 2 3 4 5 6
	run --separate-stderr pqueue-join -t 30 "$q"
	assert_success
	[ -z "$output" ]
	run pqueue-stat -k "$q"
	assert_line "unfinished=0"
	pqueue-close "$q"
	wait "$w1" || fail "worker 1 exited $?"
	wait "$w2" || fail "worker 2 exited $?"
	[ "$(sort "$BATS_TEST_TMPDIR/w1" "$BATS_TEST_TMPDIR/w2" | tr '\n' ' ')" = "did 1 did 2 did 3 did 4 did 5 did 6 " ]
}

@test "pqueue-join: a signal ends the wait with 128+N" {
	local q p st
	q=$(pkit_name j)
	pqueue-create "$q"
	pqueue-put "$q" a
	pqueue-join "$q" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx waiting_join=1"
	kill -TERM "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 143 ]
}

@test "pqueue-join: -p with every task already done prints one line, not the same twice" {
	local q
	q=$(pkit_name j)
	pqueue-create "$q"
	run --separate-stderr pqueue-join -p "$q"
	assert_success
	[ -z "$output" ]
	assert_equal "$stderr" "0/0 (100%), ?/s, ETA 0s"
	pqueue-put "$q" a
	pqueue-done "$q" 1
	run --separate-stderr pqueue-join -p "$q"
	assert_success
	assert_equal "$stderr" "1/1 (100%), ?/s, ETA 0s"
}
