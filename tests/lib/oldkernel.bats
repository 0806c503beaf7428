#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The tools on a kernel without pidfds or close_range (Linux before 5.3,
# or valgrind 3.19): tests/oldkernel runs each command with those system
# calls failing ENOSYS, as such a kernel answers.  Every tool must fall
# back to what it does without them (the pid and its start time, looked
# at now and then; closing descriptors one by one) and still give the
# right answer: before, pjoin exited 125 ("pidfd_open: Function not
# implemented"), pspawn -D refused to start, and plock -p's keeper kept
# the caller's descriptors open.
# shellcheck disable=SC2154 # top_builddir and the like come from helper.bash

load ../helper
load ../redis
bats_require_minimum_version 1.5.0

old() {
	"$top_builddir/tests/oldkernel" "$@"
}

# Under old: pjoin gives a pspawn job's real status.
job_status_is_real() {
	run --separate-stderr old bash -c 'set -o pipefail
		p=$(pspawn sh -c "sleep 0.3; exit 3") || exit
		pjoin -v "$p" | sed "s/^$p /PID /"'
	assert_failure 3
	assert_output "PID 3"
	[ -z "$stderr" ]
}

# Under old: pspawn -D ends the command when the shell that ran it exits.
watched_command_ends() {
	timed_run --separate-stderr old bash -c 'pspawn -D sleep 100; sleep 0.2'
	assert_success
	[ -z "$stderr" ]
	local p=$output
	pkit_track "$p"
	timed_run old pjoin -t 5 "$p"
	assert_failure 143
	[ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
}

teardown() {
	redis_stop
	pkit_teardown
}

@test "oldkernel: pidfd_open and close_range fail with ENOSYS under it, and only under it" {
	local probe='import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
try:
    os.close(os.pidfd_open(os.getpid())); p = "ok"
except OSError as e:
    p = errno.errorcode[e.errno]
r = libc.syscall(436, 1000, 1001, 0)   # close_range
print(p, "ok" if r == 0 else errno.errorcode[ctypes.get_errno()])'
	run python3 -c "$probe"
	assert_output "ok ok"
	run old python3 -c "$probe"
	assert_output "ENOSYS ENOSYS"
}

@test "oldkernel: with OLDKERNEL_ERRNO=EPERM they fail with EPERM (a container's seccomp)" {
	local probe='import errno, os
try:
    os.close(os.pidfd_open(os.getpid())); print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])'
	OLDKERNEL_ERRNO=EPERM run old python3 -c "$probe"
	assert_output "EPERM"
}

@test "oldkernel: EPERM from a seccomp filter is taken as no pidfds: pjoin, pspawn -D, pdaemon" {
	# Such a filter (some container runtimes') answers EPERM, which
	# pidfd_open never does by itself: the tools must fall back as on an
	# old kernel, not fail (pjoin exited 125 "pidfd_open: Operation not
	# permitted").
	export OLDKERNEL_ERRNO=EPERM
	job_status_is_real
	watched_command_ends
	# pdaemon -s and -k (125 "Operation not permitted" before).
	local p pf="$BATS_TEST_TMPDIR/d.pid"
	run --separate-stderr old pdaemon -p "$pf" sleep 100
	assert_success
	p=$output
	pkit_track "$p"
	run --separate-stderr old pdaemon -s "$pf"
	assert_success
	assert_output "$p"
	run --separate-stderr old pdaemon -k "$pf"
	assert_success
	[ ! -e "$pf" ]
}

@test "oldkernel: pjoin gives a pspawn job's real status" {
	job_status_is_real
}

@test "oldkernel: pjoin waits until a process it did not start has ended" {
	local t0
	t0=${EPOCHREALTIME//[!0-9]/}
	run --separate-stderr old sh -c 'sleep 0.6 & p=$!; pjoin -v "$p" | sed "s/^$p /PID /"'
	assert_success
	assert_output "PID unknown"
	[ $(( (${EPOCHREALTIME//[!0-9]/} - t0) / 1000 )) -ge 500 ]
	[ -z "$stderr" ]
}

@test "oldkernel: pjoin -t times out on a running job; -k ends it with its recorded status" {
	run --separate-stderr old sh -c 'p=$(pspawn sleep 30) || exit
		pjoin -t 0.2 "$p"; echo "t=$?"
		pjoin -k -t 0.2 "$p"; echo "k=$?"'
	assert_success
	assert_output "t=124
k=143"
}

@test "oldkernel: pspawn -D ends the command when the shell that ran it exits" {
	watched_command_ends
}

@test "oldkernel: pqueue-get -T ends a task that runs too long" {
	local q
	q=$(pkit_name okq)
	pqueue-create "$q"
	pqueue-put "$q" t
	timed_run --separate-stderr old pqueue-get -T 0.3 "$q" sleep 30
	assert_failure 124
	[ "$elapsed" -lt 5000 ] || fail "took $elapsed ms"
	[[ "$stderr" == *"message 1: sleep timed out"* ]]
	pqueue-rm "$q"
}

@test "oldkernel: plock -p's keeper keeps none of the caller's descriptors" {
	local n
	redis_start
	n="redis://127.0.0.1:$REDIS_PORT/$(pkit_name l)"
	# Inside $(...) with the pipe also on fd 5: were it left open in the
	# keeper, $(...) would wait for the keeper, which waits for the
	# script: timeout ends it with 124.
	run --separate-stderr timeout 10 "$top_builddir/tests/oldkernel" sh -c '
		x=$(plock -p $$ "$1" 5>&1) || exit; echo "[$x]"' sh "$n" 3>&-
	assert_success
	assert_output "[]"
}
