#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-get NAME CMD: worker mode (a JoinableQueue consumer), its exit
# status, poison messages, signals, and a worker killed mid-task.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
load joinable
bats_require_minimum_version 1.5.0

@test "pqueue-get worker: usage errors: -r without CMD, -r 0, -r garbage" {
	run pqueue-get -r 2 q
	assert_failure 125
	run pqueue-get -r 0 q true
	assert_failure 125
	run pqueue-get -r x q true
	assert_failure 125
	run pqueue-get -h
	assert_success
	assert_line --partial "NAME CMD [ARG...]"
}

@test "pqueue-get worker: runs CMD once per message, message on stdin, done on exit 0" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" "a b" c
	run --separate-stderr pqueue-get -c 2 "$q" sh -c \
		'read -r m; echo "[$m] id=$PQUEUE_ID attempts=$PQUEUE_ATTEMPTS"'
	assert_success
	assert_output "$(printf '[a b] id=1 attempts=0\n[c] id=2 attempts=0')"
	[ -z "$stderr" ]
	[ "$(key "$q" unfinished)" = 0 ]
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" inflight)" = 0 ]
	run pqueue-join -t 1 "$q"
	assert_success
}

@test "pqueue-get worker: without -c or -f, one message, and CMD's status" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" a b
	run pqueue-get "$q" sh -c 'cat > /dev/null; exit 5'
	assert_failure 5
	[ "$(key "$q" size)" = 2 ]
	[ "$(key "$q" unfinished)" = 2 ]
	run pqueue-get "$q" cat
	assert_success
	assert_output a
	[ "$(key "$q" size)" = 1 ]
	[ "$(key "$q" unfinished)" = 1 ]
}

@test "pqueue-get worker: -i and -0 shape what CMD reads" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" x y
	run pqueue-get -i "$q" cat
	assert_output "$(printf '1\tx')"
	pqueue-get -0 "$q" od -An -c > "$BATS_TEST_TMPDIR/od"
	run tr -s ' ' < "$BATS_TEST_TMPDIR/od"
	assert_output " y \\0"
}

@test "pqueue-get worker: -f ends 0 when the queue is closed and drained, and join returns" {
	local q p st
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-get -f "$q" sh -c 'cat >> "$0"' "$BATS_TEST_TMPDIR/out" & p=$!
	pkit_track "$p"
	pqueue-put "$q" 1 2 3
	run pqueue-join -t 10 "$q"
	assert_success
	pqueue-close "$q"
	wait "$p"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '1\n2\n3')"
}

@test "pqueue-get worker: a CMD that failed is the status also when the queue then stays empty or closes" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" m
	# -n: the pool ends when the queue is empty (124 by itself)...
	run --separate-stderr pqueue-get -f -n -r 1 "$q" sh -c 'exit 7'
	assert_failure 7
	# ...-c 2 on a queue closed and drained after one (1 by itself).
	pqueue-put "$q" m
	pqueue-close "$q"
	run --separate-stderr pqueue-get -c 2 -r 1 "$q" sh -c 'exit 7'
	assert_failure 7
}

@test "pqueue-get worker: a message the pool gives back itself is no attempt: -r 1 still runs it" {
	local q p st=0
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" hello
	pqueue-close "$q"
	# Stopped by SIGTERM while its command runs: given back untried.
	pqueue-get -r 1 "$q" sh -c 'read m; echo started > "$0"; sleep 30' \
	    "$BATS_TEST_TMPDIR/started" & p=$!
	pkit_track "$p"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/started"
	kill -TERM "$p"
	wait "$p" || st=$?
	[ "$st" = 143 ]
	# A command that cannot run: given back untried too (127).
	run -127 --separate-stderr pqueue-get -r 1 "$q" /nonexistent/cmd
	assert_failure 127
	# With one attempt allowed it must still run, not be set aside
	# unseen with 0 ("failed 2 times: dropped", join returning).
	run --separate-stderr pqueue-get -r 1 -f "$q" sh -c 'read m; echo "ran $m"'
	assert_success
	assert_output "ran hello"
	[ -z "$stderr" ]
}

@test "pqueue-get worker: started with SIGCHLD ignored, it still collects its commands and ends" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" a b
	pqueue-close "$q"
	# A parent that ignores SIGCHLD passes that on through exec; the
	# kernel would then reap the commands itself, and the pool, whose
	# waitid failed with ECHILD, spun for ever at full CPU.
	run --separate-stderr timeout -k 5 20 python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])' pqueue-get -f "$q" sh -c 'read m; echo "got $m"'
	assert_success
	assert_output "$(printf 'got a\ngot b')"
	run pqueue-join -t 1 "$q"
	assert_success
}

@test "pqueue-get worker: a failed CMD gives its message back to the front, attempts+1, count unchanged" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" first second
	run --separate-stderr pqueue-get "$q" sh -c 'cat > /dev/null; exit 3'
	assert_failure 3
	[[ "$stderr" == "pqueue-get: $q: message 1: sh exited 3" ]]
	[ "$(key "$q" requeues)" = 1 ]
	[ "$(key "$q" unfinished)" = 2 ]
	run pqueue-get "$q" sh -c 'read -r m; echo "$m $PQUEUE_ID $PQUEUE_ATTEMPTS"'
	assert_output "first 1 1"
}

@test "pqueue-get worker: with -c, goes on after a failure and exits with the first failing status" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" 0 4
	# 0 succeeds; 4 fails with 4, comes back first, fails with 5.
	run --separate-stderr pqueue-get -c 3 "$q" sh -c \
		'read -r n; [ "$n" = 0 ] || exit $((n + PQUEUE_ATTEMPTS))'
	assert_failure 4
	[ "$(grep -c 'sh exited' <<< "$stderr")" = 2 ]
	[ "$(key "$q" unfinished)" = 1 ]
	[ "$(key "$q" size)" = 1 ]
}

@test "pqueue-get worker: -r moves a poison message to NAME.dead and marks it done" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-create "$q.dead"
	echo "$q.dead" >> "$BATS_TEST_TMPDIR/.pkit-queues"
	pqueue-put "$q" poison good
	pqueue-close "$q"
	run --separate-stderr pqueue-get -f -r 3 "$q" sh -c 'read -r m; [ "$m" = good ]'
	assert_failure 1
	[[ "$stderr" == *"message 1 failed 3 times: moved to $q.dead"* ]]
	[ "$(grep -c 'sh exited 1' <<< "$stderr")" = 3 ]
	[ "$(key "$q" unfinished)" = 0 ]
	run pqueue-join -t 1 "$q"
	assert_success
	run pqueue-get -n "$q.dead"
	assert_output poison
}

@test "pqueue-get worker: -r without NAME.dead drops the message with a line on stderr" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" poison
	run --separate-stderr pqueue-get -r 1 "$q" false
	assert_failure 1
	[[ "$stderr" == *"message 1 failed 1 times: dropped (no open queue $q.dead)"* ]]
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" unfinished)" = 0 ]
}

# full_dead Q: create Q and a NAME.dead for it that holds one message
# ("filler") and has room for no more.
full_dead() {
	pqueue-create "$1"
	pqueue-create -m 1 "$1.dead"
	echo "$1.dead" >> "$BATS_TEST_TMPDIR/.pkit-queues"
	pqueue-put "$1.dead" filler
}

@test "pqueue-get worker: while a full NAME.dead has no room, the pool's -T timers still fire" {
	local q pid st out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err"
	q=$(pkit_name w)
	full_dead "$q"
	pqueue-put "$q" hang poison
	# hang runs first and hangs; poison fails twice and then waits for
	# room in NAME.dead.  The old pool blocked in that put, so hang's
	# -T 1 did not fire until there was room.
	timeout -k 5 60 pqueue-get -j 2 -c 3 -r 2 -T 1 "$q" sh -c \
		'read -r m; [ "$m" = hang ] && exec sleep 30; exit 3' \
		> "$out" 2> "$err" &
	pid=$!
	wait_until 10 grep -q "message 1: sh timed out" "$err"
	wait_until 10 grep -q "waiting for room in $q.dead" "$err"
	[ "$(pqueue-get -n "$q.dead")" = filler ]
	st=0
	wait "$pid" || st=$?
	[ "$st" = 3 ]
	grep -q "message 2 failed 2 times: moved to $q.dead" "$err"
	[ "$(pqueue-get -n "$q.dead")" = poison ]
	[ "$(key "$q" size)" = 1 ]	# hang, back after its timeout
	[ "$(pqueue-get -n "$q")" = hang ]
}

@test "pqueue-get worker: -H with a full NAME.dead starts nothing more while the poison message waits" {
	local q pid st out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err"
	q=$(pkit_name w)
	full_dead "$q"
	pqueue-put "$q" bad a b c
	# bad fails for good and waits for room in NAME.dead; a, started
	# beside it, ends a second later.  -H: b and c must not start.  On a
	# loaded machine bad can fail before the pool has taken a: then a
	# does not start either, and stays in the queue.
	timeout -k 5 60 pqueue-get -f -j 2 -H -r 1 "$q" sh -c \
		'read -r m; [ "$m" = bad ] && exit 3; echo "ran $m"; sleep 1' \
		> "$out" 2> "$err" &
	pid=$!
	wait_until 10 grep -q "waiting for room in $q.dead" "$err"
	_pkit_nap 1.5
	[ "$(pqueue-get -n "$q.dead")" = filler ]
	st=0
	wait "$pid" || st=$?
	[ "$st" = 3 ] || fail "status $st: $(cat "$err")"
	run grep -c "^ran [bc]" "$out"
	assert_output 0
	[ "$(pqueue-get -n "$q.dead")" = bad ]
	if grep -qx "ran a" "$out"; then
		run pqueue-get -c 2 -n "$q"
		assert_output $'b\nc'
	else
		run pqueue-get -c 3 -n "$q"
		assert_output $'a\nb\nc'
	fi
	assert_success
	[ "$(key "$q" size)" = 0 ]
}

@test "pqueue-get worker: a user out of pipe pages: CMD gets a big message whole, and one it does not read stops nothing" {
	shm_only "the backend does not matter; one run is enough"
	not_wrapped "runs the tools as another user"
	command -v setpriv > /dev/null || skip "no setpriv"
	command -v python3 > /dev/null || skip "python3 is needed"
	# A user past fs.pipe-user-pages-soft gets pipes of 8 KiB, which it
	# may not grow.  The old pool wrote a 60000-byte message to such a
	# pipe and blocked until CMD read it: with a CMD that never reads,
	# for ever, its -T 1 unfired.  The uid is one no other test uses:
	# pipe pages are counted per user.
	local script q=pipes$$
	# Its own runtime directory, not the test's (root's).
	local as=(env -u PKIT_DIR -u XDG_RUNTIME_DIR setpriv --reuid=64123
		--regid=64123 --clear-groups)
	script=$(cat <<-'EOT'
	set -u
	q=$1
	pqueue-create "$q" || exit 9
	head -c 60000 /dev/zero | tr '\0' x | pqueue-put -0 "$q"
	head -c 60000 /dev/zero | tr '\0' y | pqueue-put -0 "$q"
	# Hold this user's pipe pages, inherited across exec, then the pool.
	hog() {
		python3 -c 'import os, sys
	p = [os.pipe2(0) for _ in range(int(open("/proc/sys/fs/pipe-user-pages-soft").read()) // 16 + 8)]
	os.execvp(sys.argv[1], sys.argv[1:])' "$@"
	}
	hog pqueue-get -T 1 "$q" sh -c 'exec sleep 30'
	echo "ignored: $?"
	hog pqueue-get "$q" sh -c 'tr -d y | wc -c'
	echo "read: $?"
	pqueue-stat "$q" | grep -E '^(messages|in flight):'
	pqueue-rm "$q"
	EOT
	)
	ulimit -n 4096
	run --separate-stderr timeout -k 2 20 "${as[@]}" bash -c "$script" run "$q"
	"${as[@]}" pqueue-rm "$q" 2> /dev/null || true	# after a failure
	assert_success
	assert_output $'ignored: 124\n60001\nread: 0\nmessages:    1\nin flight:   0 (0 bytes)'
	[[ "$stderr" == *"message 1: sh timed out"* ]]
}

@test "pqueue-get worker: -r sets aside, without running CMD, a message whose workers kept dying" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" killer
	# Two workers die with their CMD (SIGKILL): attempts reaches 2.
	run pqueue-get "$q" sh -c 'kill -9 $PPID; sleep 5'
	assert_failure 137
	run pqueue-get "$q" sh -c 'kill -9 $PPID; sleep 5'
	assert_failure 137
	run --separate-stderr pqueue-get -r 2 "$q" sh -c 'echo ran'
	assert_success
	refute_output ran
	[[ "$stderr" == *"message 1 failed 2 times: dropped"* ]]
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get worker: a CMD that cannot run exits 127/126 and gives the message back" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" a
	run -127 --separate-stderr pqueue-get "$q" /nonexistent/cmd
	assert_failure 127
	[[ "$stderr" == *"/nonexistent/cmd"* ]]
	[ "$(key "$q" size)" = 1 ]
	[ "$(key "$q" inflight)" = 0 ]
	run -126 pqueue-get "$q" "$BATS_TEST_TMPDIR"
	[ "$(key "$q" size)" = 1 ]
	[ "$(key "$q" unfinished)" = 1 ]
}

@test "pqueue-get worker: SIGTERM while waiting exits 143 and leaves nothing behind" {
	local q p st
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-get -f "$q" cat & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	kill -TERM "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 143 ]
	[ "$(key "$q" waiting_get)" = 0 ]
	[ "$(key "$q" inflight)" = 0 ]
}

@test "pqueue-get worker: SIGTERM while CMD runs is forwarded; the message goes back; 143" {
	local q p st
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" a
	# CMD says when its trap is set: a signal before that would kill it.
	pqueue-get "$q" sh -c 'trap "echo term > \"$0\"; exit 9" TERM; cat >/dev/null
		: > "$0.ready"; sleep 30 & wait' "$BATS_TEST_TMPDIR/cmd" & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat $q | grep -q '^lease: *pid $p,'"
	wait_until 5 test -e "$BATS_TEST_TMPDIR/cmd.ready"
	kill -TERM "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 143 ]
	run cat "$BATS_TEST_TMPDIR/cmd"
	assert_output term
	[ "$(key "$q" size)" = 1 ]
	[ "$(key "$q" inflight)" = 0 ]
	[ "$(key "$q" unfinished)" = 1 ]
}

@test "pqueue-get worker: a CMD that still succeeds after the signal has its task done" {
	local q p st
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" a
	pqueue-get "$q" sh -c 'trap "exit 0" TERM; cat >/dev/null; : > "$0"; sleep 30 & wait' \
		"$BATS_TEST_TMPDIR/ready" & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat $q | grep -q '^lease: *pid $p,'"
	wait_until 5 test -e "$BATS_TEST_TMPDIR/ready"
	kill -TERM "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 143 ]
	[ "$(key "$q" size)" = 0 ]
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get worker: SIGKILLed mid-task: CMD dies too, nothing lost, join stays right" {
	shm_only "the kernel tells of a dead worker at once (Redis: after the lease time; tests/queue/redis.bats)"
	local q p cp j st
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" task
	pqueue-get "$q" sh -c 'echo $$ > "$0"; exec sleep 30' "$BATS_TEST_TMPDIR/cmd" & p=$!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/cmd"
	cp=$(cat "$BATS_TEST_TMPDIR/cmd")
	pkit_track "$cp"
	# stat shows the lease: holder pid, attempts, age.
	run pqueue-stat -k "$q"
	assert_line --regexp "^lease=pid:$p messages:1 first_id:1 attempts:0 age_ms:[0-9]+ alive$"
	pqueue-join "$q" & j=$!
	pkit_track "$j"
	kill -KILL "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 137 ]
	wait_until 5 sh -c "! kill -0 $cp 2>/dev/null || grep -q '^State:.*Z' /proc/$cp/status"
	# The blocked joiner's periodic recheck gives the dead lease back.
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx size=1"
	[ "$(key "$q" inflight)" = 0 ]
	[ "$(key "$q" unfinished)" = 1 ]
	_pkit_alive "$j"
	# The next worker gets it back (attempts 1) and completes the task.
	run pqueue-get -t 5 "$q" sh -c 'read -r m; echo "$m $PQUEUE_ATTEMPTS"'
	assert_success
	assert_output "task 1"
	wait "$j"
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-get worker: a worker killed after CMD succeeded, before the commit, runs the task twice at most" {
	fault_build || skip "needs a build configured with --enable-fault-injection"
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" t
	PKIT_FAULT=worker_ran:#1 run pqueue-get "$q" sh -c 'cat >> "$0"' "$BATS_TEST_TMPDIR/out"
	assert_failure 137
	[ "$(key "$q" unfinished)" = 1 ]
	run pqueue-get "$q" sh -c 'cat >> "$0"' "$BATS_TEST_TMPDIR/out"
	assert_success
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf 't\nt')"
	[ "$(key "$q" unfinished)" = 0 ]
}

@test "pqueue-put and requeues: unfinished moves with the put, not with a redelivery" {
	local q
	q=$(pkit_name w)
	pqueue-create "$q"
	pqueue-put "$q" a b c
	[ "$(key "$q" unfinished)" = 3 ]
	run pqueue-get "$q" false
	run pqueue-get "$q" false
	[ "$(key "$q" requeues)" = 2 ]
	[ "$(key "$q" unfinished)" = 3 ]
	pqueue-get -c 3 "$q" true
	[ "$(key "$q" unfinished)" = 0 ]
}
