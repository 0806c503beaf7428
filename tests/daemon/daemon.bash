# SPDX-License-Identifier: ISC
# daemon.bash: what the pdaemon suites share (pdaemon.bats, ready.bats):
# starting a daemon that is tracked for teardown, and looking at it.
# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034 # bats sets $output; $pid is for the suites

# stat_field PID N: field N of /proc/PID/stat counted after the command
# name (1 = state, 2 = ppid, 3 = pgrp, 4 = session, 5 = tty_nr).
stat_field() {
	awk -v n="$2" '{ sub(/.*\) /, ""); print $n }' "/proc/$1/stat"
}

alive() { _pkit_alive "$1"; }
dead() { ! _pkit_alive "$1"; }
gone() { [ ! -e "$1" ]; }

# start ARG...: run pdaemon, which must succeed; the pid in $pid, tracked.
start() {
	run --separate-stderr pdaemon "$@"
	[[ "$output" =~ ^[0-9]+$ ]] && pkit_track "$output"
	assert_success
	[[ "$output" =~ ^[0-9]+$ ]] || fail "pdaemon printed '$output'"
	pid=$output
}

# children PID: the pids of PID's children.
children() {
	ps -o pid= --ppid "$1" | tr -d ' '
}

# n_children_at_least PID N: true once PID has N children or more.
n_children_at_least() {
	[ "$(children "$1" | wc -l)" -ge "$2" ]
}

# one_child PID: wait until the supervisor PID has a child, print it.
one_child() {
	wait_until 5 n_children_at_least "$1" 1 || return 1
	children "$1"
}

# log_count FILE PATTERN: how many lines of FILE match PATTERN.
log_count() {
	grep -c -- "$2" "$1" 2>/dev/null || true
}
