#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Crowds of jobs for pjoin: hundreds of pids at once, and more pids than
# a hard descriptor limit allows pidfds.  Part of make check-long (minutes
# on a small machine); .ci/run runs it on every change.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load spawn
bats_require_minimum_version 1.5.0

@test "pjoin: many pids at once (pspawn -n 300)" {
	run bash -c 'pjoin -v $(pspawn -n 300 sh -c "exit \$((PKIT_INDEX % 3))")'
	assert_failure 1
	assert_equal "${#lines[@]}" 300
	assert_equal "$(grep -c ' 2$' <<< "$output")" 100
}

@test "pjoin: any number of pids under a hard limit of 64 descriptors" {
	local pids
	command -v prlimit > /dev/null || skip "no prlimit"
	pids=$(pspawn -n 100 sh -c 'sleep 3; exit $((PKIT_INDEX % 3))')
	# shellcheck disable=SC2086 # one pid per word
	run --separate-stderr prlimit --nofile=64:64 pjoin -v $pids
	assert_failure 1
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 100
	assert_equal "$(grep -c ' 2$' <<< "$output")" 33
	assert_equal "$(grep -c ' 0$' <<< "$output")" 33
}
