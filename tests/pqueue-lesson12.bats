#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Lesson 12 (examples/12-joinable.sh): it returns only after all 20 tasks
# are done, each once, and leaves no consumer running.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load helper
bats_require_minimum_version 1.5.0

@test "lesson 12: join returns after all 20 tasks are done, once each; no consumer is left" {
	local did joined w
	run --separate-stderr timeout 60 sh "$(lesson_path 12-joinable.sh)"
	assert_success
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^consumer [AB] did task [12]\.')" = 20 ]
	# Each of the 20 tasks exactly once.
	[ "$(printf '%s\n' "${lines[@]}" | sed -n 's/^consumer [AB] did //p' | sort -u | wc -l)" = 20 ]
	# Join came after the last task was done.
	did=$(printf '%s\n' "${lines[@]}" | grep -n ' did ' | tail -n 1 | cut -d: -f1)
	joined=$(printf '%s\n' "${lines[@]}" | grep -n '^join returned: all 20 tasks done$' | cut -d: -f1)
	[ -n "$joined" ] && [ "$joined" -gt "$did" ]
	assert_line "consumers gone"
	# No consumer is left running.
	for w in $(printf '%s\n' "${lines[@]}" | sed -n 's/^consumers: //p'); do
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
