# SPDX-License-Identifier: ISC
# joinable.bash: helpers of the worker, fault-injection and crash suites.
# shellcheck shell=bash

# fault_build: true if the tools under test were built with
# --enable-fault-injection (config.h of the build says so).
fault_build() {
	grep -q '^#define PKIT_FAULTS 1' "${top_builddir:?}/config.h" 2>/dev/null
}

# key NAME KEY: the value of KEY in pqueue-stat -k NAME.
key() {
	pqueue-stat -k "$1" | sed -n "s/^$2=//p"
}

# stress_check MINKILLS [ARG...]: run tests/queue/stress_queue ARGs, show
# its summary on the TAP stream, and fail unless it passed, lost
# nothing and sent at least MINKILLS SIGKILLs.
# shellcheck disable=SC2154 # output is set by bats' run
stress_check() {
	local min=$1 kills
	shift
	run "${top_builddir:?}/tests/queue/stress_queue" "$@"
	echo "$output" | grep '^stress:' >&3
	assert_success
	assert_line --regexp '^stress: lost 0, '
	kills=$(sed -n 's/^stress: SIGKILLs sent \([0-9]*\).*/\1/p' <<< "$output")
	[ "$kills" -ge "$min" ] || fail "only $kills SIGKILLs"
}
