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
	assert_line --index 0 "usage: pjoin [-a] [-p] [-v] [-t DURATION [-k]] PID..."
	assert_line --index 1 "       pjoin -l"
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
	(sleep 2; exit 3) &
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

@test "pjoin: a record still running for a gone process: lost, 125, one line" {
	mkdir -m 700 "$PKIT_DIR" "$PKIT_DIR/jobs"
	echo "12345 running" > "$PKIT_DIR/jobs/99999.job"
	run --separate-stderr pjoin -v 99999
	assert_failure 125
	assert_output "99999 lost"
	assert_equal "$stderr" "pjoin: pid 99999: status lost: it ended unrecorded (its keeper was killed)"
	run --separate-stderr pjoin 99999
	assert_failure 125
	assert_output ""
}

# two_tasks PID: PID has a thread besides its main one.
two_tasks() {
	local t=("/proc/$1/task"/*)
	[ "${#t[@]}" -ge 2 ] && [ -e "${t[1]}" ]
}

@test "pjoin: a thread's id is no process: 127, as a pid that is gone" {
	local py tid='' t
	command -v python3 > /dev/null || skip "no python3"
	python3 -c 'import threading, time
t = threading.Thread(target=time.sleep, args=(30,), daemon=True)
t.start()
time.sleep(30)' &
	py=$!
	pkit_track "$py"
	wait_until 5 two_tasks "$py"
	for t in "/proc/$py/task"/*; do
		[ "${t##*/}" = "$py" ] || tid=${t##*/}
	done
	[ -n "$tid" ]
	# pidfd_open on a thread says ENOENT since Linux 6.9 (EINVAL before):
	# that was 125 and "pidfd_open: No such file or directory"
	run --separate-stderr pjoin -t 5 "$tid"
	assert_failure 127
	assert_equal "$stderr" "pjoin: pid $tid: no such process"
	kill "$py"
}

@test "pjoin: its own pid is refused (125, one line), never waited for" {
	# pjoin could only end before it: without -t it would wait for ever.
	# exec: the shell's pid becomes pjoin's.  timeout only ends a hang.
	run --separate-stderr timeout 20 sh -c 'exec pjoin "$$"'
	assert_failure 125
	assert_output ""
	[[ "$stderr" =~ ^pjoin:\ pid\ [0-9]+:\ is\ pjoin\ itself$ ]] ||
		fail "stderr: $stderr"
	# Also among others, and with -t: nothing is waited for.
	run --separate-stderr timeout 20 sh -c 'exec pjoin -a -t 10 1 "$$"'
	assert_failure 125
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
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
	[ "$elapsed" -lt 3000 ]
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
	run head -1 "$PKIT_DIR/jobs/$p.job"
	assert_output --regexp '^[0-9]+ running +[0-9a-f]{8}$'
}

@test "pjoin: jobs killed with their process group keep their real status" {
	local f=$BATS_TEST_TMPDIR/p p
	# timeout(1) signals its own process group: sh, pjoin, the keeper
	# and the jobs.  The keeper stays and records 143.
	run timeout 1 sh -c 'pspawn -n 2 sleep 10 > "$1"; pjoin $(cat "$1")' _ "$f"
	assert_failure 124
	for p in $(cat "$f"); do pkit_track "$p"; done
	# shellcheck disable=SC2046 # one pid a word
	run --separate-stderr pjoin -v $(cat "$f")
	assert_failure 143
	assert_equal "${#lines[@]}" 2
	for p in $(cat "$f"); do assert_line "$p 143"; done
}

@test "pjoin: HUP, INT and QUIT sent to the group: 129, 130, 131 recorded" {
	local f=$BATS_TEST_TMPDIR/p sig code
	for sig in HUP:129 INT:130 QUIT:131; do
		code=${sig#*:}
		sig=${sig%:*}
		run timeout -k 5 -s "$sig" 1 sh -c 'pspawn sleep 10 > "$1"; exec sleep 10' _ "$f"
		pkit_track "$(cat "$f")"
		run --separate-stderr timeout 10 pjoin -v "$(cat "$f")"
		assert_failure "$code"
		assert_output "$(cat "$f") $code"
	done
}

@test "pjoin: a job whose keeper was SIGKILLed before it recorded: lost, 125, never 0" {
	local p k
	p=$(pspawn sleep 100)
	pkit_track "$p"
	k=$(ps -o ppid= -p "$p" | tr -d ' ')
	assert_equal "$(keepers)" "$k"
	[ "$k" -gt 1 ] && kill -KILL "$k"
	wait_until 10 eval '! kill -0 '"$k"' 2>/dev/null'
	kill -TERM "$p"
	# its new parent reaps it: it is gone, unrecorded
	wait_until 10 test ! -e "/proc/$p"
	run --separate-stderr pjoin -v "$p"
	assert_failure 125
	assert_output "$p lost"
	assert_equal "$stderr" "pjoin: pid $p: status lost: it ended unrecorded (its keeper was killed)"
	run --separate-stderr pjoin "$p"
	assert_failure 125
	run pjoin -l
	assert_line --regexp "^$p	lost	"
}

@test "pjoin: a full runtime directory still gets the final status" {
	local mnt=$BATS_TEST_TMPDIR/rt p
	mkdir -p "$mnt"
	mount -t tmpfs -o size=128k,mode=700 pkit-test "$mnt" 2>/dev/null ||
		skip "cannot mount a tmpfs"
	printf '%s\n' "$mnt" > "$BATS_TEST_TMPDIR/.pkit-mount"
	PKIT_DIR=$mnt/pkit
	p=$(pspawn sh -c 'until [ -e "$1" ]; do sleep 0.05; done; exit 7' _ "$BATS_TEST_TMPDIR/go")
	pkit_track "$p"
	# fill it: no block is left for a new record
	dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null || true
	run sh -c 'echo x > "$1/y"' _ "$mnt"
	assert_failure
	touch "$BATS_TEST_TMPDIR/go"
	# the keeper has recorded and reaped it
	wait_until 10 test ! -e "/proc/$p"
	run --separate-stderr pjoin -v "$p"
	assert_failure 7
	assert_output "$p 7"
}

@test "pjoin: -k needs -t; -l takes no pid; each says so on one line" {
	local o
	run --separate-stderr pjoin -k 1
	assert_failure 125
	assert_equal "$stderr" "pjoin: -k needs -t"
	run --separate-stderr pjoin -l 1
	assert_failure 125
	assert_equal "$stderr" "pjoin: -l takes no PID"
	for o in -a -k -p -v "-t 1"; do
		# shellcheck disable=SC2086 # "-t 1" is two words
		run --separate-stderr pjoin -l $o
		assert_failure 125
		assert_equal "$stderr" "pjoin: -l and ${o% *} cannot be used together"
	done
	assert_output ""
}

@test "pjoin -k: TERM at the deadline to the group of a pspawn -g job, its status returned" {
	local p g f=$BATS_TEST_TMPDIR/g
	p=$(pspawn -g sh -c 'sleep 100 & echo $! > "$1"; wait' _ "$f")
	pkit_track "$p"
	wait_until 10 test -s "$f"
	g=$(cat "$f")
	pkit_track "$g"
	assert_equal "$(ps -o pgid= -p "$p" | tr -d ' ')" "$p"
	assert_equal "$(ps -o pgid= -p "$g" | tr -d ' ')" "$p"
	timed_run --separate-stderr pjoin -v -k -t 0.5 "$p"
	assert_failure 143
	assert_output "$p 143"
	[ "$elapsed" -ge 400 ] && [ "$elapsed" -lt 5000 ] || fail "took $elapsed ms"
	# the whole group: the grandchild too
	wait_until 10 eval '! alive '"$g"
}

@test "pjoin -k: KILL after the grace period for a job that ignores TERM" {
	local p
	p=$(pspawn -g sh -c 'trap "" TERM; sleep 100')
	pkit_track "$p"
	timed_run --separate-stderr pjoin -v -k -t 0.3 "$p"
	assert_failure 137
	assert_output "$p 137"
	[ "$elapsed" -ge 2000 ] && [ "$elapsed" -lt 9000 ] || fail "took $elapsed ms"
}

@test "pjoin -k: a job that leads no group is ended alone; a job that ends in time is not touched" {
	local p g f=$BATS_TEST_TMPDIR/g
	p=$(pspawn sh -c 'sleep 100 & echo $! > "$1"; wait' _ "$f")
	pkit_track "$p"
	wait_until 10 test -s "$f"
	g=$(cat "$f")
	pkit_track "$g"
	run --separate-stderr pjoin -v -k -t 0.3 "$p"
	assert_failure 143
	assert_output "$p 143"
	# not its group: that is ours (the test's) too
	alive "$g"
	kill "$g"
	p=$(pspawn sh -c 'sleep 0.2; exit 4')
	run pjoin -k -t 10 "$p"
	assert_failure 4
}

@test "pjoin -a -k: every job is ended, also one that ignores TERM; the pid printed had ended" {
	local s a b f=$BATS_TEST_TMPDIR/trapped
	sleep 100 &
	s=$!
	pkit_track "$s"
	a=$(pspawn sleep 100)
	pkit_track "$a"
	b=$(pspawn sh -c 'trap "" TERM; echo > "$1"; while :; do sleep 0.1; done' _ "$f")
	pkit_track "$b"
	wait_until 10 test -s "$f"
	# pjoin printed the pid of the process it did not end, exited 124
	# at once, and left the job that ignored TERM running.
	run --separate-stderr pjoin -a -v -k -t 0.3 "$s" "$a" "$b"
	assert_failure 143
	assert_output "$a 143"
	assert_equal "$stderr" "pjoin: pid $s: not a pspawn job of ours: not ended"
	alive "$s"
	run pjoin -v -t 0 "$b"
	assert_failure 137
	assert_output "$b 137"
	kill "$s"
}

@test "pjoin -k: a process that is not a pspawn job of ours is never signalled" {
	local s
	sleep 100 &
	s=$!
	pkit_track "$s"
	timed_run --separate-stderr pjoin -k -t 0.3 "$s"
	assert_failure 124
	assert_equal "$stderr" "pjoin: pid $s: not a pspawn job of ours: not ended"
	alive "$s"
	# a record that names another process (another start time) is not ours
	mkdir -p "$PKIT_DIR/jobs"
	echo "1 running" > "$PKIT_DIR/jobs/$s.job"
	run --separate-stderr pjoin -k -t 0.3 "$s"
	assert_failure 124
	alive "$s"
	kill "$s"
	run --separate-stderr pjoin -k -t 0 1
	assert_failure 124
	assert_equal "$stderr" "pjoin: pid 1: not a pspawn job of ours: not ended"
}

@test "pjoin -l: this user's jobs, oldest first: pid, state, start time, command" {
	local r e s
	r=$(pspawn sleep 100)
	pkit_track "$r"
	e=$(pspawn sh -c 'exit 3')
	run pjoin "$e"
	s=$(pspawn sleep 101)
	kill -KILL "$s"
	run pjoin "$s"
	# a record of version 1 (no command) is still read
	echo "$(field22 $$) exit 2" > "$PKIT_DIR/jobs/99996.job"
	run --separate-stderr pjoin -l
	assert_success
	assert_equal "$stderr" ""
	local t='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'
	assert_line --regexp "^$r	running	$t	sleep 100\$"
	assert_line --regexp "^$e	exit 3	$t	sh -c exit 3\$"
	assert_line --regexp "^$s	signal 9	$t	sleep 101\$"
	assert_line --regexp "^99996	exit 2	$t	\$"
	# oldest first: the test shell, then the three in their order
	assert_equal "$(cut -f1 <<< "$output" | tr '\n' ' ')" "99996 $r $e $s "
	kill "$r"
}

@test "pjoin -p: progress on stderr, never on stdout; plain lines off a terminal" {
	local pids
	pids=$(pspawn -n 4 sh -c 'sleep 1.5; exit 0')
	# shellcheck disable=SC2086 # one pid per word
	run --separate-stderr pjoin -p $pids
	assert_success
	assert_output ""
	[[ "$stderr" != *$'\r'* ]] || fail "a carriage return off a terminal"
	[[ "${stderr##*$'\n'}" =~ ^4/4\ \(100%\),\ .*ETA\ 0s$ ]] || fail "last line: $stderr"
	[[ "$stderr" =~ ^0/4\ \(0%\) ]] || fail "first line: $stderr"
	# shellcheck disable=SC2086
	run --separate-stderr pjoin -v -p $pids
	assert_equal "${#lines[@]}" 4
}

@test "pjoin -p: one line redrawn on a terminal" {
	local p
	command -v script > /dev/null || skip "no script(1)"
	p=$(pspawn sleep 1)
	run script -qec "pjoin -p $p" /dev/null
	assert_success
	[[ "$output" == *$'\r'"1/1 (100%)"* ]] || fail "no redrawn line: $output"
}
