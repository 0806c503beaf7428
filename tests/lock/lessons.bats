#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Lesson 7 (examples/07-mutex.sh) teaches that without a lock the ticket
# rush oversells, and that under plock exactly two of eight buyers get the
# two tickets, every time.
# shellcheck disable=SC2154 # top_srcdir, output, lines come from bats

load ../helper
bats_require_minimum_version 1.5.0

lesson() {
	sh "$top_srcdir/examples/07-mutex.sh"
}

@test "lesson 7: with plock exactly 2 sold, 6 sold out, 0 left, every run" {
	local _
	for _ in 1 2 3 4 5; do
		run --separate-stderr lesson
		assert_success
		assert_line --index 0 --partial "Lesson 7"
		assert_line --index 3 "with plock tickets:"
		assert_line --index 4 "sold: 2, sold out: 6, left: 0"
	done
}

@test "lesson 7: without a lock the two tickets are oversold" {
	local sold
	# The buyers' half-second of thinking is what opens the race.
	PKIT_DEMO_DELAY=1 run --separate-stderr lesson
	assert_success
	assert_line --index 1 "without a lock:"
	sold=$(echo "${lines[2]}" | sed -n 's/^sold: \([0-9]*\),.*/\1/p')
	[ "$sold" -gt 2 ] || fail "not oversold: ${lines[2]}"
	assert_line --index 4 "sold: 2, sold out: 6, left: 0"
}

@test "lesson 7: each buyer says how it went" {
	run --separate-stderr lesson
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -c 'got a ticket')" -ge 4 ]
	[ "$(printf '%s\n' "$stderr" | grep -c 'sold out')" -ge 6 ]
}
