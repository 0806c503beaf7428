#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pjoin: wait for processes, children or not; real statuses from pspawn's
# records and from the kernel; -a, -t, -v; exit codes; recycled pids.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load spawn

@test "pjoin: no pid is a usage error (125)" {
	run --separate-stderr pjoin
	assert_failure 125
	assert_output ""
	[[ "$stderr" == *"usage: pjoin"* ]]
}

@test "pjoin: -h prints usage on stdout" {
	run --separate-stderr pjoin -h
	assert_success
	assert_line --index 0 "usage: pjoin [-a] [-t DURATION] [-v] PID..."
	assert_line "see pjoin(1)"
}

@test "pjoin: a bad pid or duration exits 125" {
	local bad
	for bad in abc 0 1x " 12" 99999999999; do
		run --separate-stderr pjoin "$bad"
		assert_failure 125
		assert_output ""
	done
	run --separate-stderr pjoin -t 1y 1
	assert_failure 125
}

@test "pjoin: the real status of pspawned commands: 0, 1, 42, 128+N" {
	local p
	p=$(pspawn true); run pjoin "$p"; assert_success
	p=$(pspawn false); run pjoin "$p"; assert_failure 1
	p=$(pspawn sh -c 'exit 42'); run pjoin "$p"; assert_failure 42
	p=$(pspawn sh -c 'kill -KILL $$'); run pjoin "$p"; assert_failure 137
	p=$(pspawn sleep 100); kill -TERM "$p"; run pjoin "$p"; assert_failure 143
}

@test "pjoin: waits for a running pspawned command, then gives its status" {
	local p
	p=$(pspawn sh -c 'sleep 0.5; exit 5')
	timed_run --separate-stderr pjoin "$p"
	assert_failure 5
	assert_output ""
	[ "$elapsed" -ge 400 ] && [ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
}

@test "pjoin: right after the command ends, the status is already there (20 times)" {
	local p _
	for _ in $(seq 20); do
		p=$(pspawn sh -c 'exit 7')
		run pjoin "$p"
		assert_failure 7
		p=$(pspawn sh -c 'exit 9')
		run bash -c 'pjoin "$1"' _ "$p"
		assert_failure 9
	done
}

@test "pjoin: from another shell, long after the command ended" {
	run bash -c 'pspawn sh -c "exit 33"'
	local p=$output
	sleep 0.5
	run bash -c 'pjoin "$1"' _ "$p"
	assert_failure 33
	run pjoin -v "$p"
	assert_failure 33
	assert_output "$p 33"
}

@test "pjoin: the real status of a process that is not pspawned (PIDFD_INFO_EXIT)" {
	(sleep 0.3; exit 3) &
	local p=$!
	pkit_track "$p"
	run --separate-stderr pjoin -v "$p"
	assert_failure 3
	assert_output "$p 3"
}

@test "pjoin: a zombie nobody reaps counts as ended, status unknown, -v says so" {
	bash -c 'sh -c "until grep -qx sleep /proc/\$PPID/comm; do sleep 0.01; done" & echo $! > "$1"; exec sleep 30' _ "$BATS_TEST_TMPDIR/z" &
	local parent=$!
	pkit_track "$parent"
	wait_until 3 test -s "$BATS_TEST_TMPDIR/z"
	local z
	z=$(cat "$BATS_TEST_TMPDIR/z")
	timed_run --separate-stderr pjoin -v "$z"
	assert_success
	assert_output "$z unknown"
	[ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 4000 ] || fail "took $elapsed ms"
	kill "$parent"
}

@test "pjoin: a record still running for a gone process gives unknown, 0" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/jobs"
	echo "12345 running" > "$PKIT_DIR/jobs/99999.job"
	run --separate-stderr pjoin -v 99999
	assert_success
	assert_output "99999 unknown"
}

@test "pjoin: no process and no record exits 127 with one line on stderr" {
	run --separate-stderr pjoin 99998
	assert_failure 127
	assert_output ""
	assert_equal "$stderr" "pjoin: pid 99998: no such process"
}

@test "pjoin: a record with the wrong start time is not used for a live pid" {
	(sleep 0.3; exit 4) &
	local p=$!
	pkit_track "$p"
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/jobs"
	echo "1 exit 42" > "$PKIT_DIR/jobs/$p.job"
	run pjoin "$p"
	assert_failure 4
}

@test "pjoin: for a gone pid its record is used; a foreign file is not a record" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/jobs"
	echo "200 exit 2" > "$PKIT_DIR/jobs/99997.job"
	run pjoin 99997
	assert_failure 2
	echo "200 signal 15" > "$PKIT_DIR/jobs/99997.job"
	run pjoin -v 99997
	assert_failure 143
	assert_output "99997 143"
	echo "exit 2" > "$PKIT_DIR/jobs/99997.job"
	run --separate-stderr pjoin 99997
	assert_failure 127
}

@test "pjoin: several pids: the first non-zero status in argument order" {
	local a b c
	a=$(pspawn sh -c 'sleep 0.4; exit 3')
	b=$(pspawn sh -c 'exit 5')
	c=$(pspawn true)
	run pjoin "$c" "$a" "$b"
	assert_failure 3
	run pjoin "$c" "$b" "$a"
	assert_failure 5
	run pjoin "$c" "$c"
	assert_success
}

@test "pjoin: -v prints PID STATUS as each ends" {
	local slow fast
	# 3 s: the second pspawn may take a second under load
	slow=$(pspawn sh -c 'sleep 3; exit 2')
	fast=$(pspawn sh -c 'sleep 0.1; exit 1')
	run --separate-stderr pjoin -v "$slow" "$fast"
	assert_failure 2
	assert_equal "$output" "$fast 1
$slow 2"
}

@test "pjoin: -a returns when the first ends, prints it, exits with its status" {
	local slow fast
	slow=$(pspawn sleep 100)
	pkit_track "$slow"
	fast=$(pspawn sh -c 'sleep 0.2; exit 6')
	timed_run --separate-stderr pjoin -a "$slow" "$fast"
	assert_failure 6
	assert_output "$fast"
	[ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
	alive "$slow"
	run pjoin -a -v "$slow" "$fast"
	assert_failure 6
	assert_output "$fast 6"
}

@test "pjoin: -t times out with 124 and signals nothing" {
	local p
	p=$(pspawn sleep 100)
	pkit_track "$p"
	timed_run --separate-stderr pjoin -t 0.5 "$p"
	assert_failure 124
	assert_output ""
	[ "$elapsed" -ge 400 ] && [ "$elapsed" -lt 3000 ] || fail "took $elapsed ms"
	alive "$p"
	timed_run pjoin -t 0 "$p"
	assert_failure 124
	[ "$elapsed" -lt 1000 ]
	alive "$p"
	run pjoin -a -t 0.2 "$p"
	assert_failure 124
	kill "$p"
	run pjoin -t 0 "$(pspawn true)" 
	[ "$status" -eq 0 ] || [ "$status" -eq 124 ]
}

@test "pjoin: -t 0 on an ended process gives its status" {
	local p
	p=$(pspawn sh -c 'exit 8')
	run pjoin "$p"
	run pjoin -t 0 "$p"
	assert_failure 8
}

@test "pjoin: many pids at once (pspawn -n 300)" {
	run bash -c 'pjoin -v $(pspawn -n 300 sh -c "exit \$((PKIT_INDEX % 3))")'
	assert_failure 1
	assert_equal "${#lines[@]}" 300
	assert_equal "$(grep -c ' 2$' <<< "$output")" 100
}

@test "pjoin: a live process that is ours or not can be waited for with -t" {
	run pjoin -t 0.1 $$
	assert_failure 124
}

@test "pjoin: with its keeper killed, a command's status still comes from the kernel" {
	local p k
	# 5 s: the keeper must still be there when it is looked for, under load
	p=$(pspawn sh -c 'sleep 5; exit 5')
	k=$(ps -o ppid= -p "$p" | tr -d ' ')
	assert_equal "$(keepers)" "$k"
	[ "$k" -gt 1 ] && kill -KILL "$k"
	timed_run pjoin -v "$p"
	assert_failure 5
	assert_output "$p 5"
	[ "$elapsed" -lt 9000 ] || fail "took $elapsed ms"
	assert_output --regexp "^$p 5\$"
	run cat "$PKIT_DIR/jobs/$p.job"
	assert_output --regexp '^[0-9]+ running$'
}
