#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-get -j N NAME CMD: the worker pool (lib/pqworker.h): {} arguments,
# per-task timeouts and process groups, bounded retries with backoff,
# NAME.dead, SIGPIPE, joblog, halt, and a pool SIGKILLed over and over.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load joinable
bats_require_minimum_version 1.5.0

# no_sleeps TAG: true when no process runs "sleep TAG".
no_sleeps() {
	! pgrep -f "^sleep $1\$" > /dev/null
}

@test "pqueue-get pool: usage errors: -j 0, -j 33, -T garbage, -j/-T/-H/-L without CMD" {
	run pqueue-get -j 0 q true
	assert_failure 125
	run pqueue-get -j 33 q true
	assert_failure 125
	run pqueue-get -T x q true
	assert_failure 125
	run pqueue-get -j 2 q
	assert_failure 125
	run pqueue-get -T 1 q
	assert_failure 125
	run pqueue-get -H q
	assert_failure 125
	run pqueue-get -L log q
	assert_failure 125
	run pqueue-get -h
	assert_line --partial "[-j JOBS] [-T DURATION]"
}

@test "pqueue-get pool: the one-liner: seq 100 | pqueue-put; pqueue-get -j 4 -f q gzip -k file{}.txt" {
	local q i
	q=$(pkit_name pool)
	pqueue-create "$q"
	cd "$BATS_TEST_TMPDIR"
	for i in $(seq 100); do echo "$i" > "file$i.txt"; done
	seq 100 | pqueue-put "$q"
	pqueue-close "$q"
	run --separate-stderr timeout 60 pqueue-get -j 4 -f "$q" gzip -k 'file{}.txt'
	assert_success
	[ -z "$stderr" ]
	[ "$(find . -name 'file*.txt.gz' | wc -l)" = 100 ]
	[ "$(zcat file57.txt.gz)" = 57 ]
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get pool: -j 4 runs four tasks at once" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" 1 2 3 4
	pqueue-close "$q"
	# Each task waits until all four have started: only a pool of 4 ends.
	run timeout 20 pqueue-get -j 4 -f "$q" sh -c \
		': > "$0/started.$1"; while [ "$(ls "$0" | grep -c started)" -lt 4 ]; do sleep 0.05; done' \
		"$BATS_TEST_TMPDIR" '{}'
	assert_success
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get pool: {} inside a word, one argument whatever the spaces; no {}: the message on stdin" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" "a b" "c"
	run --separate-stderr pqueue-get -c 2 "$q" printf '[%s] [%s]\n' 'x{}y' '{}{}'
	assert_success
	assert_output "$(printf '[xa by] [a ba b]\n[xcy] [cc]')"
	pqueue-put "$q" "on stdin"
	run pqueue-get "$q" sh -c 'read -r m; echo "got $m"'
	assert_output "got on stdin"
}

@test "pqueue-get pool: a message holding a NUL cannot be {}: one line, set aside at once, the rest run" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	# A newline-ended record may hold a NUL: message 1 is "x<NUL>y".
	printf 'x\0y\nok\n' | pqueue-put "$q"
	run --separate-stderr pqueue-get -c 2 "$q" echo '{}'
	assert_failure 125
	assert_output ok
	[[ "$stderr" == *"message 1: holds a NUL byte: cannot be an argument"* ]]
	[[ "$stderr" == *"message 1 failed 1 times: dropped"* ]]
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get pool: a message too long to be {} is set aside at once, not left to stop every pool" {
	local q big
	q=$(pkit_name pool)
	pqueue-create "$q"
	# Three copies of 60000 bytes make one argument over the kernel's
	# 128 KiB (MAX_ARG_STRLEN): execve fails with E2BIG for this
	# message, every time, and for no other.
	big=$(printf '%060000d' 0)
	printf '%s\nok\n' "$big" | pqueue-put "$q"
	pqueue-close "$q"
	run --separate-stderr pqueue-get -f "$q" sh -c 'echo "${#1}"' sh '{}{}{}'
	assert_failure 126
	assert_output 6
	[[ "$stderr" == *"message 1: too long to be an argument"* ]]
	[[ "$stderr" == *"message 1 failed 1 times: dropped"* ]]
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get pool: -H halts on a message set aside for its NUL byte too" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	printf 'x\0y\nc\nafter\n' | pqueue-put "$q"
	# Set aside "as after its last attempt": a final failure, so -H
	# stops there; "c" and "after" are not run and stay queued.
	run --separate-stderr pqueue-get -H -c 3 "$q" echo '{}'
	assert_failure 125
	assert_output ""
	[[ "$stderr" == *"message 1: holds a NUL byte: cannot be an argument"* ]]
	[ "$(key "$q" size)" = 2 ]
}

@test "pqueue-get pool: -T ends the task's whole process group: status 124, no sleep left" {
	local q tag
	q=$(pkit_name pool)
	tag="41.$$$RANDOM"
	pqueue-create "$q"
	pqueue-put "$q" t
	timed_run --separate-stderr pqueue-get -T 0.5 "$q" sh -c "sleep $tag & sleep $tag; wait"
	assert_failure 124
	[ "$elapsed" -lt 5000 ]
	[[ "$stderr" == *"message 1: sh timed out"* ]]
	wait_until 5 no_sleeps "$tag"
	[ "$(key "$q" size)" = 1 ]
	[ "$(key "$q" unfinished)" = 1 ]
}

@test "pqueue-get pool: -T: a task that ignores SIGTERM is killed after the grace period" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" t
	timed_run pqueue-get -T 0.3 "$q" sh -c 'trap "" TERM; while :; do sleep 0.1; done'
	assert_failure 124
	[ "$elapsed" -ge 2000 ]
	[ "$elapsed" -lt 8000 ]
}

@test "pqueue-get pool: SIGTERM to the pool ends every task's group, gives the messages back, 143" {
	local q p st tag
	q=$(pkit_name pool)
	tag="42.$$$RANDOM"
	pqueue-create "$q"
	seq 5 | pqueue-put "$q"
	pqueue-get -j 3 -f "$q" sh -c "sleep $tag & sleep $tag; wait" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "[ \$(pgrep -fc '^sleep $tag\$') = 6 ]"
	kill -TERM "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 143 ]
	wait_until 5 no_sleeps "$tag"
	[ "$(key "$q" size)" = 5 ]
	[ "$(key "$q" inflight)" = 0 ]
	[ "$(key "$q" unfinished)" = 5 ]
}

@test "pqueue-get pool: a failing CMD never spins: 3 attempts with backoff, then dropped" {
	local q n
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" x
	# The issue's repro gave 211 lines: now 3 failures and one drop.
	n=$(timeout 2 pqueue-get -f "$q" false 2>&1 | wc -l)
	[ "$n" = 4 ]
	[ "$(key "$q" unfinished)" = 0 ]
	pqueue-put "$q" y
	timed_run --separate-stderr pqueue-get -c 3 "$q" false
	assert_failure 1
	# Backoff between attempts: 100 ms, then 200 ms.
	[ "$elapsed" -ge 300 ]
	[[ "$stderr" == *"message 2 failed 3 times: dropped"* ]]
}

@test "pqueue-get pool: NAME.dead closed: the message is kept in the queue, said so, 125" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-create "$q.dead"
	echo "$q.dead" >> "$BATS_TEST_TMPDIR/.pkit-queues"
	pqueue-close "$q.dead"
	pqueue-put "$q" poison
	run --separate-stderr timeout 10 pqueue-get -f -r 1 "$q" false
	assert_failure 125
	[[ "$stderr" == *"message 1 failed 1 times: kept ($q.dead is closed)"* ]]
	[ "$(key "$q" size)" = 1 ]
	[ "$(key "$q" unfinished)" = 1 ]
	# Its failure counted: the next worker sets it aside unrun.
	run pqueue-stat -l "$q"
	assert_output --regexp $'^1\tqueued\t1\t'
}

@test "pqueue-get pool: stdout's reader gone: the message goes back, the worker dies of SIGPIPE, once" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	seq 5 | pqueue-put "$q"
	# Task 2 writes only once the reader has closed the pipe (it made
	# the flag after), so that its write is the one that meets EPIPE.
	# The message comes on stdin, which workers have always had, so the
	# test runs as it is on 0.1.0, where it fails: the worker never ends.
	export FLAG=$BATS_TEST_TMPDIR/flag
	printf '%s\n' 'read -r m' \
		'[ "$m" = 1 ] || while [ ! -e "$FLAG" ]; do sleep 0.01; done' \
		'echo "$m"' > "$BATS_TEST_TMPDIR/task"
	run --separate-stderr timeout 10 bash -c \
		'pqueue-get -f "$1" sh "$2" |
		 { head -n 1; exec 0<&-; : > "$FLAG"; }
		 echo "${PIPESTATUS[0]}"' _ "$q" "$BATS_TEST_TMPDIR/task"
	assert_success
	assert_output "$(printf '1\n141')"
	[ -z "$stderr" ]
	[ "$(key "$q" unfinished)" = 4 ]
	[ "$(key "$q" size)" = 4 ]
}

@test "pqueue-get pool: a CMD killed by SIGPIPE, stdout's reader still there: the worker exits 141, it is not killed" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" x
	pqueue-close "$q"
	# The pool's stdout is a file: its own reader never went away, so
	# 141 is only the status of the CMD that failed, to exit with.
	run --separate-stderr perl -e '
		my $r = system(@ARGV);
		printf "signal %d exit %d\n", $r & 127, $r >> 8;' \
		pqueue-get -r 1 -f "$q" sh -c 'kill -PIPE $$'
	assert_success
	assert_output "signal 0 exit 141"
	[[ "$stderr" == *"message 1: sh killed by signal 13"* ]]
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get pool: -L writes GNU parallel's joblog: a header once, one line per attempt" {
	local q log p1 p2
	q=$(pkit_name pool)
	log=$BATS_TEST_TMPDIR/joblog
	pqueue-create "$q"
	seq 20 | pqueue-put "$q"
	pqueue-put "$q" bad
	pqueue-close "$q"
	pqueue-get -j 2 -f -L "$log" "$q" sh -c '[ "$0" != bad ]' '{}' 2>/dev/null & p1=$!
	pqueue-get -j 2 -f -L "$log" "$q" sh -c '[ "$0" != bad ]' '{}' 2>/dev/null & p2=$!
	pkit_track "$p1" "$p2"
	wait "$p1" || true
	wait "$p2" || true
	run head -n 1 "$log"
	assert_output "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')"
	[ "$(grep -c '^Seq' "$log")" = 1 ]
	# 20 successes and 3 attempts of "bad", every field as documented.
	[ "$(wc -l < "$log")" = 24 ]
	run awk -F '\t' 'NR > 1 && !($1 ~ /^[0-9]+$/ && $2 == ":" &&
		$3 ~ /^[0-9]+\.[0-9][0-9][0-9]$/ && $4 ~ /^[0-9]+\.[0-9][0-9][0-9]$/ &&
		$5 == 0 && $6 == 0 && $7 ~ /^[0-9]+$/ && $8 == 0 && NF == 9) { print }' "$log"
	assert_output ""
	[ "$(awk -F '\t' '$1 == 21 && $7 == 1 && $9 == "sh -c [ \"$0\" != bad ] bad"' "$log" | wc -l)" = 3 ]
	[ "$(awk -F '\t' 'NR > 1 && $7 == 0' "$log" | cut -f1 | sort -n | uniq | wc -l)" = 20 ]
}

@test "pqueue-get pool: -L refuses a symlink or another user's file planted at the joblog" {
	local q d
	command -v setpriv > /dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to become nobody"
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" a
	# A world-writable sticky directory (like /tmp) where nobody linked
	# the joblog's path to a file of root's.
	d=$(planted_dir log)
	run --separate-stderr pqueue-get -c 1 -L "$d/log" "$q" true
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pqueue-get: $d/log: a symbolic link; refused"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim")" precious
	# A file nobody planted would have them read every command we ran.
	rm -f "$d/log"
	setpriv --reuid=nobody --regid=nogroup --clear-groups touch "$d/log"
	run --separate-stderr pqueue-get -c 1 -L "$d/log" "$q" true
	assert_failure 125
	assert_equal "$stderr" "pqueue-get: $d/log: not ours, in a directory others may write; refused"
	assert_file_empty "$d/log"
	# Ours, in the sticky directory, is fine; nothing was taken before.
	run pqueue-get -c 1 -L "$d/mine" "$q" true
	assert_success
	[ "$(wc -l < "$d/mine")" = 2 ]
}

@test "pqueue-get pool: -L: a timeout reads Exitval 124, Signal 15" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" t
	run pqueue-get -r 1 -T 0.2 -L "$BATS_TEST_TMPDIR/log" "$q" sleep 5
	assert_failure 124
	run awk -F '\t' 'NR == 2 { print $1, $7, $8, $9 }' "$BATS_TEST_TMPDIR/log"
	assert_output "1 124 15 sleep 5"
}

@test "pqueue-get pool: -L on a full disk: every task still runs and is done, one warning, 125" {
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" a b c d
	run --separate-stderr pqueue-get -j 2 -n -c 3 -L /dev/full "$q" \
		sh -c 'echo "$0" >> "$1"' '{}' "$BATS_TEST_TMPDIR/ran"
	assert_failure 125
	assert_output ""
	assert_equal "$stderr" "pqueue-get: /dev/full: No space left on device"
	run sort "$BATS_TEST_TMPDIR/ran"
	assert_output "$(printf 'a\nb\nc')"
	[ "$(key "$q" unfinished)" = 1 ]
	# A CMD that failed still gives its own status, not 125.
	run --separate-stderr pqueue-get -r 1 -c 1 -L /dev/full "$q" false
	assert_failure 1
	[[ "${stderr_lines[0]}" == "pqueue-get: /dev/full: No space left on device" ]]
}

@test "pqueue-get pool: -H stops at the first final failure: running tasks ended, the rest left queued" {
	local q tag
	q=$(pkit_name pool)
	tag="43.$$$RANDOM"
	pqueue-create "$q"
	pqueue-put "$q" fail slow1 slow2 later1 later2
	timed_run --separate-stderr pqueue-get -j 3 -H -r 1 -f "$q" sh -c \
		"case \$0 in fail) sleep 0.3; exit 7;; *) sleep $tag;; esac" '{}'
	assert_failure 7
	[ "$elapsed" -lt 10000 ]
	wait_until 5 no_sleeps "$tag"
	# fail is dropped (final); slow1 and slow2 given back; later* untouched.
	[ "$(key "$q" unfinished)" = 4 ]
	[ "$(key "$q" size)" = 4 ]
	# Each given back goes to the front: the two slow ones first.
	run pqueue-get -c 4 "$q"
	[ "$(printf '%s\n' "${lines[@]:0:2}" | sort | tr '\n' ' ')" = "slow1 slow2 " ]
	[ "$(printf '%s\n' "${lines[@]:2:2}" | tr '\n' ' ')" = "later1 later2 " ]
}

@test "pqueue-get pool: SIGKILLed 10 times over 500 tasks: every task done at least once, the joblog accounts for every attempt" {
	local q d log k p before st runs lines
	q=$(pkit_name pool)
	d=$BATS_TEST_TMPDIR
	log=$d/joblog
	pqueue-create "$q"
	seq 500 | pqueue-put "$q"
	pqueue-close "$q"
	: > "$d/runs"
	: > "$d/done"
	# Kills count as deliveries: -r 50 so that none is set aside here.
	for k in 1 2 3 4 5 6 7 8 9 10; do
		echo "# kill $k" > "$d/round"
		before=$(wc -l < "$d/done")
		pqueue-get -j 4 -f -r 50 -L "$log" "$q" sh -c \
			'echo "$PQUEUE_ID" >> "$0/runs"; sleep 0.01; echo "$PQUEUE_ID" >> "$0/done"' \
			"$d" & p=$!
		pkit_track "$p"
		wait_until 30 sh -c "[ \$(wc -l < '$d/done') -ge $((before + 25)) ]"
		kill -KILL "$p"
		st=0
		wait "$p" || st=$?
		[ "$st" = 137 ]
	done
	# Started again, the pool finishes the rest and ends by itself.
	run timeout 120 pqueue-get -j 4 -f -r 50 -L "$log" "$q" sh -c \
		'echo "$PQUEUE_ID" >> "$0/runs"; sleep 0.01; echo "$PQUEUE_ID" >> "$0/done"' "$d"
	assert_success
	[ "$(key "$q" unfinished)" = 0 ]
	# Every task completed at least once.
	[ "$(sort -un "$d/done" | wc -l)" = 500 ]
	[ "$(sort -un "$d/done" | head -n 1)" = 1 ]
	[ "$(sort -un "$d/done" | tail -n 1)" = 500 ]
	# The joblog: one header, a line with Exitval 0 for every task ...
	[ "$(grep -c '^Seq' "$log")" = 1 ]
	[ "$(awk -F '\t' 'NR > 1 && $7 == 0 { print $1 }' "$log" | sort -un | wc -l)" = 500 ]
	# ... and a line for every attempt but those in flight when the
	# worker was SIGKILLed (at most 4 per kill), which no one can log.
	runs=$(wc -l < "$d/runs")
	lines=$(($(wc -l < "$log") - 1))
	[ "$lines" -le "$runs" ]
	[ $((runs - lines)) -le 40 ]
	# Resume: tasks done before a kill were not run again; only the
	# ones in flight at a kill were.
	[ "$(sort -n "$d/runs" | uniq -d | wc -l)" -le 40 ]
}

@test "pqueue-join -p: done/total, rate and ETA on stderr, plain lines when not a terminal, stdout clean" {
	local q p
	q=$(pkit_name pool)
	pqueue-create "$q"
	seq 12 | pqueue-put "$q"
	pqueue-get -j 2 -f "$q" sleep 0.2 & p=$!
	pkit_track "$p"
	run --separate-stderr timeout 30 pqueue-join -p "$q"
	assert_success
	[ -z "$output" ]
	[[ "$stderr" != *$'\r'* ]]
	[ "${#stderr_lines[@]}" -ge 2 ]
	[[ "${stderr_lines[0]}" =~ ^[0-9]+/12\ \([0-9]+%\),\ ([0-9.]+|\?)/s,\ ETA\ [0-9a-z?]+$ ]]
	[[ "${stderr_lines[-1]}" =~ ^12/12\ \(100%\),\ [0-9.]+/s,\ ETA\ 0s$ ]]
	pqueue-close "$q"
	wait "$p"
}

@test "pqueue-join -p: one line redrawn with \\r on a terminal" {
	command -v script > /dev/null || skip "needs script(1) for a terminal"
	local q
	q=$(pkit_name pool)
	pqueue-create "$q"
	pqueue-put "$q" a
	pqueue-get -c 1 "$q" true
	run timeout 10 script -qec "pqueue-join -p '$q'" /dev/null
	assert_success
	[[ "$output" == $'\r'"1/1 (100%), "*"ETA 0s"$'\e[K'* ]]
}

@test "pqueue-stat -l: lists queued and leased messages, ids, attempts, sizes, escaped previews, without taking them" {
	local q p long
	q=$(pkit_name pool)
	pqueue-create "$q"
	long=$(printf '%060d' 0)
	pqueue-put "$q" "hello world" "$(printf 'tab\there\\x')" "$long"
	pqueue-get "$q" sh -c 'cat > /dev/null; : > "$0"; sleep 30' "$BATS_TEST_TMPDIR/ready" & p=$!
	pkit_track "$p"
	wait_until 10 test -e "$BATS_TEST_TMPDIR/ready"
	run --separate-stderr pqueue-stat -l "$q"
	assert_success
	[ "${#lines[@]}" = 3 ]
	assert_line "$(printf '2\tqueued\t0\t10\ttab\\x09here\\x5cx')"
	assert_line "$(printf '3\tqueued\t0\t60\t%048d...' 0)"
	assert_line --regexp "^1	leased:[0-9]+	0	11	hello world\$"
	# Nothing was taken.
	[ "$(key "$q" size)" = 2 ]
	[ "$(key "$q" inflight)" = 1 ]
	run pqueue-stat -l
	assert_failure 125
	run pqueue-stat -l -k "$q"
	assert_failure 125
}
