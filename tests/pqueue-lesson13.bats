#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Lesson 13 (examples/13-pool.sh): a pool SIGKILLed mid-run and started
# again finishes all 40 tasks, each at least once, and leaves nothing.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load helper
bats_require_minimum_version 1.5.0

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
	run ls /dev/shm
	refute_output --partial "lesson13."
	if [ "${PKIT_TEST_BACKEND:-}" = redis ]; then
		run redis-cli -p "$REDIS_PORT" --scan --pattern 'pkit:queue:{lesson13.*'
		assert_output ""
	fi
}
