#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Lessons 1-6 (examples/01..06): each script runs, and shows what it
# teaches.  Run with PKIT_DEMO_DELAY=0, under tests/subreaper.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper

lesson() {
	run --separate-stderr timeout 30 sh "$top_srcdir/examples/$1"
}

lesson_merged() {
	run timeout 30 sh -c 'sh "$1" 2>&1' sh "$top_srcdir/examples/$1"
}

@test "lesson 1: the child's parent is the script, and its pid is the one printed" {
	lesson_merged 01-process.sh
	assert_success
	local script child parent started
	script=$(sed -n 's/^script: my pid is //p' <<< "$output")
	child=$(sed -n 's/^child: my pid is \([0-9]*\),.*/\1/p' <<< "$output")
	parent=$(sed -n 's/^child: .*my parent is //p' <<< "$output")
	started=$(sed -n 's/^script: pspawn started pid //p' <<< "$output")
	[ -n "$script" ] || fail "no line 'script: my pid is PID'"
	[ -n "$child" ] || fail "no line 'child: my pid is PID, ...'"
	assert_equal "$parent" "$script"
	assert_equal "$started" "$child"
}

@test "lesson 2: without join the script's line comes first, with join the child's" {
	lesson_merged 02-join.sh
	assert_success
	local without with
	without=$(sed -n '/^-- without/,/^-- with pjoin/p' <<< "$output" | grep -v '^--')
	with=$(sed -n '/^-- with pjoin/,$p' <<< "$output" | grep -v '^--')
	# The child's "start" may come before or after: its "done" comes last.
	assert_equal "$(sort <<< "$without")" "child 1: done
child 1: start
script: end (without join)"
	assert_equal "$(tail -n 1 <<< "$without")" "child 1: done"
	assert_equal "$with" "child 1: start
child 1: done
script: end (with join)"
}

@test "lesson 3: a parent that never waits leaves a zombie, pspawn leaves none" {
	lesson 03-zombie.sh
	assert_success
	local counts
	counts=$(sed -n 's/^zombies under [0-9]*: //p' <<< "$output")
	assert_equal "$counts" "1
0"
	assert_line --regexp '^ +[0-9]+ Z'
}

@test "lesson 4: the orphan's parent changes and it still completes" {
	lesson_merged 04-orphan.sh
	assert_success
	local before after
	before=$(sed -n 's/^orphan: my parent is //p' <<< "$output")
	after=$(sed -n 's/^orphan: my parent exited; my new parent is //p' <<< "$output")
	[ -n "$before" ] || fail "no line 'orphan: my parent is PID'"
	[ -n "$after" ] || fail "no line 'orphan: my parent exited; my new parent is PID'"
	[ "$before" != "$after" ] || fail "parent did not change: $before"
	assert_line "orphan: done"
	# The last two lines: the orphan ended before pjoin returned.
	assert_equal "$(tail -n 2 <<< "$output")" "orphan: done
script: the orphan finished"
}

@test "lesson 5: the -D worker ends with its script, even a SIGKILLed one" {
	lesson_merged 05-daemon.sh
	assert_success
	refute_line --partial "never printed"
	# Twice terminated: once when the script exits, once when it is killed.
	run grep -c '^[0-9]* 143$' <<< "$output"
	assert_output 2
	lesson_merged 05-daemon.sh
	assert_line "no worker left: 0 process"
}

@test "lesson 6: the workers do some work even at PKIT_DEMO_DELAY=0" {
	PKIT_DEMO_DELAY=0 lesson 06-concurrency.sh
	assert_success
	assert_line --regexp '^worker 1 sum [1-9][0-9]*$'
	refute_line --regexp '^worker [0-9]+ sum 0$'
}

@test "lesson 6: N workers give the same results one by one and at once" {
	PKIT_DEMO_DELAY=0.01 lesson 06-concurrency.sh
	assert_success
	local serial parallel
	serial=$(sed -n '/^-- one by one/,/^-- at once/p' <<< "$output" | grep '^worker')
	parallel=$(sed -n '/^-- at once/,$p' <<< "$output" | grep '^worker')
	[ "$(wc -l <<< "$serial")" -ge 2 ]
	assert_equal "$parallel" "$serial"
	assert_output --regexp 'workers: one by one [0-9]+ ms, at once [0-9]+ ms'
}
