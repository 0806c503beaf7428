#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Lessons 9 to 12 (examples/): each teaches what it says.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

# The lessons' children write to stderr (pspawn's): merge it in.
lesson() {
	run timeout 60 sh -c 'sh "$1" 2>&1' sh "$(lesson_path "$1")"
}

@test "lesson 9: FIFO 1 2 3, full then empty, put_nowait at once, timeout ~3 s, LIFO 3 2 1" {
	local t
	shm_only "LIFO (refused on Redis)"
	timed_run --separate-stderr timeout 60 sh "$top_srcdir/examples/09-queue.sh"
	assert_success
	assert_line "full? yes"
	assert_line "put_nowait 4: the queue is full (exit 124)"
	assert_line --regexp '^put 4 with timeout=3: gave up after [0-9.]+s \(exit 124\)$'
	t=$(printf '%s\n' "${lines[@]}" | sed -n 's/.*gave up after \([0-9.]*\)s.*/\1/p')
	awk -v t="$t" 'BEGIN { exit !(t >= 2.9 && t < 6) }'
	[ "$(printf '%s\n' "${lines[@]}" | grep '^get: ' | tr '\n' ' ')" = "get: 1 get: 2 get: 3 " ]
	assert_line "empty? yes"
	assert_line "get_nowait: the queue is empty (exit 124)"
	assert_line "LIFO gets: 3 2 1 "
	# put_nowait came back at once: the whole lesson is the 3 s timeout
	# and a little more.
	[ "$elapsed" -lt 8000 ]
	run ls "$PKIT_DIR/queues"
	refute_output --partial "lesson9."
}

@test "lesson 10: the message arrives intact with the writer's pid" {
	local w r
	lesson 10-ipc.sh
	assert_success
	w=$(printf '%s\n' "${lines[@]}" | sed -n 's/^the writer was pid \([0-9]*\), the reader pid \([0-9]*\)$/\1/p')
	r=$(printf '%s\n' "${lines[@]}" | sed -n 's/^the writer was pid \([0-9]*\), the reader pid \([0-9]*\)$/\2/p')
	[ -n "$w" ] || fail "no writer pid"
	[ -n "$r" ] || fail "no reader pid"
	[ "$w" != "$r" ] || fail "the writer and the reader are the same pid $w"
	assert_line "reader $r got: hello from pid $w"
	assert_line "writer $w sends its greeting"
}

@test "lesson 11: all 20 dishes eaten exactly once; both eaters go home by themselves" {
	local eaten
	lesson 11-producer-consumer.sh
	assert_success
	eaten=$(printf '%s\n' "${lines[@]}" | sed -n "s/^eater [AB] ate \(.*'s dish [0-9]*\)$/\1/p")
	[ "$(printf '%s\n' "$eaten" | wc -l)" -eq 20 ]
	[ "$(printf '%s\n' "$eaten" | sort -u | wc -l)" -eq 20 ]
	[ "$(printf '%s\n' "$eaten" | grep -c "^alice's")" -eq 10 ]
	[ "$(printf '%s\n' "$eaten" | grep -c "^bob's")" -eq 10 ]
	assert_line "eater A: the kitchen is closed, going home"
	assert_line "eater B: the kitchen is closed, going home"
	# Going home comes after the close, and after the last dish.
	[ "$(printf '%s\n' "${lines[@]}" | grep -n 'closing the counter' | cut -d: -f1)" -lt \
	  "$(printf '%s\n' "${lines[@]}" | grep -n 'going home' | head -n 1 | cut -d: -f1)" ]
	assert_line "(sentinel way) eater A got STOP"
	assert_line "(sentinel way) eater B got STOP"
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^(sentinel way) eater [AB] ate ')" -eq 2 ]
}

@test "lesson 12: join returns after all 20 tasks are done, once each; no consumer is left" {
	local did joined w ws
	run --separate-stderr timeout 60 sh "$(lesson_path 12-joinable.sh)"
	assert_success
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^consumer [AB] did task [12]\.')" = 20 ]
	# Each of the 20 tasks exactly once.
	[ "$(printf '%s\n' "${lines[@]}" | sed -n 's/^consumer [AB] did //p' | sort -u | wc -l)" = 20 ]
	# Join came after the last task was done.
	did=$(printf '%s\n' "${lines[@]}" | grep -n ' did ' | tail -n 1 | cut -d: -f1)
	joined=$(printf '%s\n' "${lines[@]}" | grep -n '^join returned: all 20 tasks done$' | cut -d: -f1)
	[ -n "$joined" ] || fail "no line 'join returned: all 20 tasks done'"
	[ "$joined" -gt "$did" ] || fail "join returned (line $joined) before the last task was done (line $did)"
	assert_line "consumers gone"
	# No consumer is left running: both pids are named, and neither lives.
	assert_line --regexp '^consumers: [0-9]+ [0-9]+$'
	ws=$(printf '%s\n' "${lines[@]}" | sed -n 's/^consumers: //p')
	[ -n "$ws" ] || fail "no consumer pids in the output"
	for w in $ws; do
		run _pkit_alive "$w"
		assert_failure
	done
	run ls "$PKIT_DIR/queues"
	refute_output --partial "lesson12."
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		run redis-cli -p "$REDIS_PORT" --scan --pattern 'pkit:queue:{lesson12.*'
		assert_output ""
	fi
}

@test "lesson 13: a pool killed with SIGKILL and started again does all 40 tasks" {
	local ndone twice
	PKIT_DEMO_DELAY=0.5 run --separate-stderr timeout 120 sh "$(lesson_path 13-pool.sh)"
	assert_success
	[ -z "$stderr" ]
	assert_line "40 tasks queued"
	assert_line --regexp '^pool killed \(status 137\) with [0-9]+ tasks done$'
	assert_line --regexp '^left: [0-9]+ tasks unfinished$'
	ndone=$(printf '%s\n' "${lines[@]}" | sed -n 's/^pool done: \([0-9]*\) of 40 tasks done,.*/\1/p')
	[ "$ndone" = 40 ]
	# Only the tasks in flight at the kill ran twice: at most 4.
	twice=$(printf '%s\n' "${lines[@]}" | sed -n 's/.* \([0-9]*\) run twice$/\1/p')
	[ "$twice" -le 4 ]
	run ls "$PKIT_DIR/queues"
	refute_output --partial "lesson13."
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		run redis-cli -p "$REDIS_PORT" --scan --pattern 'pkit:queue:{lesson13.*'
		assert_output ""
	fi
}
