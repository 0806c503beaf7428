#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-get: one, -c, -f, -0, -i, waiting, closed, EPIPE, wrap-around.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-get: no operand is a usage error" {
	run --separate-stderr pqueue-get
	assert_failure 125
	[[ "$stderr" == *"usage: pqueue-get"* ]]
}

@test "pqueue-get: -c and -f together, or a bad count, are usage errors" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	run pqueue-get -c 2 -f "$q"
	assert_failure 125
	run pqueue-get -c 0 "$q"
	assert_failure 125
	run pqueue-get -c x "$q"
	assert_failure 125
}

@test "pqueue-get: prints one message and a newline, oldest first" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" "first one" second
	run --separate-stderr pqueue-get "$q"
	assert_success
	assert_output "first one"
	[ -z "$stderr" ]
	run pqueue-stat -k "$q"
	assert_line "size=1"
}

@test "pqueue-get: -0 ends each message with a NUL instead" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" "$(printf 'two\nlines')"
	pqueue-get -0 "$q" > "$BATS_TEST_TMPDIR/out"
	printf 'two\nlines\0' | cmp - "$BATS_TEST_TMPDIR/out"
}

@test "pqueue-get: -i prints the message id, a tab, then the message" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" a b c
	run pqueue-get -i -c 2 "$q"
	assert_output "$(printf '1\ta\n2\tb')"
	run pqueue-get -i "$q"
	assert_output "$(printf '3\tc')"
}

@test "pqueue-get: -c COUNT prints COUNT messages and leaves the rest" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" 1 2 3 4 5
	run pqueue-get -c 3 "$q"
	assert_output "$(printf '1\n2\n3')"
	run pqueue-stat -k "$q"
	assert_line "size=2"
	assert_line "gets=3"
}

@test "pqueue-get: a stream grows a stdout pipe to 256 KiB; one message leaves it" {
	local q def
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" a b c
	# The reader prints the size of its pipe (F_GETPIPE_SZ is 1032) once
	# it has read everything; a new pipe's size is the system's default.
	def=$(python3 -c 'import fcntl, os; print(fcntl.fcntl(os.pipe()[0], 1032))')
	[ "$def" -lt 262144 ] || skip "pipes hold $def bytes here already"
	run sh -c 'pqueue-get -c 2 "$1" | python3 -c "
import fcntl, sys
sys.stdin.read()
print(fcntl.fcntl(0, 1032))"' sh "$q"
	assert_output 262144
	run sh -c 'pqueue-get "$1" | python3 -c "
import fcntl, sys
sys.stdin.read()
print(fcntl.fcntl(0, 1032))"' sh "$q"
	assert_output "$def"
}

@test "pqueue-get: -n on an empty queue exits 124 at once" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	timed_run --separate-stderr pqueue-get -n "$q"
	assert_failure 124
	assert_output ""
	[ "$elapsed" -lt 3000 ]
}

@test "pqueue-get: -t 1 on an empty queue waits about a second, then 124" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	timed_run pqueue-get -t 1 "$q"
	assert_failure 124
	[ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 3000 ]
}

@test "pqueue-get: -t bounds the wait for each message, not the whole run" {
	# Under check-valgrind (PKIT_TIME_FACTOR=10) each put starts slower:
	# the gaps and the bound grow with it.
	local q f=${PKIT_TIME_FACTOR:-1}
	q=$(pkit_name g)
	pqueue-create "$q"
	(for i in 1 2 3 4; do sleep "$((500 * f))e-3"; pqueue-put "$q" "$i"; done) &
	pkit_track $!
	timed_run pqueue-get -t "$((1500 * f))ms" -c 4 "$q"
	assert_success
	assert_output "$(printf '1\n2\n3\n4')"
	[ "$elapsed" -ge $((1900 * f)) ]
}

@test "pqueue-get: -c COUNT with -n prints what there is, then 124" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" a b
	run pqueue-get -n -c 5 "$q"
	assert_failure 124
	assert_output "$(printf 'a\nb')"
	run pqueue-stat -k "$q"
	assert_line "inflight=0"
	assert_line "gets=2"
}

@test "pqueue-get: a blocked get returns the next message put" {
	local q p
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-get -t 10 "$q" > "$BATS_TEST_TMPDIR/out" &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	pqueue-put "$q" hello
	wait "$p"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output hello
}

@test "pqueue-get: closed and drained exits 1; -f ends with 0 there" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" a b
	pqueue-close "$q"
	run pqueue-get -f "$q"
	assert_success
	assert_output "$(printf 'a\nb')"
	run --separate-stderr pqueue-get "$q"
	assert_failure 1
	assert_output ""
	run pqueue-get -f "$q"
	assert_success
	assert_output ""
}

@test "pqueue-get: -f follows a stream until pqueue-close" {
	local q p
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-get -f "$q" > "$BATS_TEST_TMPDIR/out" &
	p=$!
	pkit_track "$p"
	pqueue-put "$q" one
	seq 2 500 | pqueue-put "$q"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx gets=500"
	_pkit_alive "$p"
	pqueue-close "$q"
	wait "$p"
	{ echo one; seq 2 500; } | cmp - "$BATS_TEST_TMPDIR/out"
}

@test "pqueue-get: EPIPE gives every unwritten message back, in order" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" 1 2 3 4 5 6
	# The reader is gone before the write: nothing reaches it.
	run bash -c "{ sleep 1; pqueue-get -c 5 $q; echo \$? >&2; } | true"
	assert_output "141"
	run pqueue-stat -k "$q"
	assert_line "size=6"
	assert_line "inflight=0"
	assert_line "requeues=5"
	run pqueue-get -c 6 -i "$q"
	assert_output "$(printf '1\t1\n2\t2\n3\t3\n4\t4\n5\t5\n6\t6')"
}

@test "pqueue-get: EPIPE from head -c 2 loses no message" {
	local q n big
	q=$(pkit_name g)
	pqueue-create "$q"
	big=$(head -c 30000 /dev/zero | tr '\0' m)
	# 600 KB: more than the pipe holds, even grown to 256 KiB.
	for n in $(seq -w 20); do pqueue-put "$q" "$n$big"; done
	run bash -c "pqueue-get -c 20 $q | head -c 2"
	assert_output 01
	# Whatever went into the pipe in full counts as delivered; the rest
	# is back in the queue, intact.
	run pqueue-stat -k "$q"
	assert_line "inflight=0"
	n=$(pqueue-stat -k "$q" | sed -n 's/^size=//p')
	[ "$n" -ge 1 ] || fail "size=$n: nothing left"
	[ "$n" -le 19 ] || fail "size=$n: more than 19 left"
	pqueue-get -c "$n" "$q" > "$BATS_TEST_TMPDIR/rest"
	run awk '{ print length($0) }' "$BATS_TEST_TMPDIR/rest"
	for l in "${lines[@]}"; do [ "$l" -eq 30002 ]; done
	run sh -c "cut -c1-2 $BATS_TEST_TMPDIR/rest | tr -d '\n'"
	assert_output "$(seq -w $((21 - n)) 20 | tr -d '\n')"
}

@test "pqueue-get: mixed sizes wrap around a small ring intact" {
	local q p
	q=$(pkit_name g)
	pqueue-create -s 1024 "$q"
	awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) {
		n = int(rand() * 200); s = ""
		for (j = 0; j < n; j++) s = s sprintf("%c", 97 + (i + j) % 26)
		print i ":" s } }' > "$BATS_TEST_TMPDIR/in"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in" & p=$!
	pkit_track "$p"
	pqueue-get -c 3000 "$q" > "$BATS_TEST_TMPDIR/out"
	wait "$p" || fail "pqueue-put exited $?"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "pqueue-get: a batch of every length from 0 to 300 bytes comes out whole; -i, -0 too" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	# Short messages are copied out in 16-byte blocks where the backend
	# allows it (pq_read_blocks): every length around a block's edge,
	# each message's bytes its own, so that a block too many or too few,
	# or a terminator in the wrong place, shows.
	awk 'BEGIN { for (r = 0; r < 2; r++) for (n = 0; n <= 300; n++) {
		s = ""; for (j = 0; j < n; j++) s = s sprintf("%c", 97 + (n + j) % 26)
		print s } }' > "$BATS_TEST_TMPDIR/in"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	pqueue-get -c 602 "$q" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	pqueue-get -0 -c 602 "$q" | tr '\0' '\n' > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	pqueue-get -i -c 602 "$q" | cut -f 2- > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	run pqueue-get -n "$q"
	assert_failure 124
}

@test "pqueue-get: a LIFO queue gives the newest first" {
	shm_only "LIFO (refused on Redis)"
	local q
	q=$(pkit_name g)
	pqueue-create -L "$q"
	pqueue-put "$q" 1 2 3
	run pqueue-get "$q"
	assert_output 3
	pqueue-put "$q" 4
	run pqueue-get -c 3 "$q"
	assert_output "$(printf '4\n2\n1')"
}

@test "pqueue-get: a getter killed while holding a lease gives it back" {
	shm_only "the kernel tells of a dead getter at once (Redis: after the lease time; tests/queue/redis.bats)"
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	lease_stuck "$q"
	run pqueue-stat "$q"
	assert_output --partial "lease:       pid $getter, 1 message from id $stuck, 0 earlier attempts"
	getter_dies
	run pqueue-stat -k "$q"
	assert_line --regexp "^lease=pid:$getter .* dead$"
	run pqueue-get -i "$q"
	assert_output "$stuck	$stuck_msg"
	run pqueue-stat -k "$q"
	assert_line "requeues=1"
	assert_line "inflight=0"
}

@test "pqueue-get: SIGTERM while waiting exits 143 and leaves nothing behind" {
	local q p s
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-get "$q" &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	kill -TERM "$p"
	wait "$p" && s=0 || s=$?
	assert_equal "$s" 143
	run pqueue-stat -k "$q"
	assert_line "waiting_get=0"
	assert_line "inflight=0"
}

@test "pqueue-get: a signal just before the write, to a reader that stopped reading, exits 143 and gives the message back" {
	local q p s
	strace_ready
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" a b
	# The reader holds the FIFO open (fd 7) and never reads; 64 KiB fill
	# its pipe (-c 1 does not grow it), so the getter's write must wait.
	# strace sends SIGTERM at each getpid(), which both backends make
	# in pq_get before it returns the message: the signal is caught
	# between the get and the write.  Before the fix the write blocked
	# for ever.
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	{
		head -c 65536 /dev/zero
		exec strace -qq -o /dev/null -e trace=getpid \
			-e inject=getpid:signal=TERM pqueue-get -c 1 "$q"
	} > "$BATS_TEST_TMPDIR/fifo" &
	p=$!
	pkit_track "$p"
	exec 7< "$BATS_TEST_TMPDIR/fifo"
	wait_until 10 eval '! _pkit_alive '"$p" || { exec 7<&-; false; }
	wait "$p" && s=0 || s=$?
	exec 7<&-
	assert_equal "$s" 143
	# Given back at the front, no attempt counted.
	run pqueue-stat -l "$q"
	assert_output "$(printf '1\tqueued\t0\t1\ta\n2\tqueued\t0\t1\tb')"
}

@test "pqueue-get: a missing queue fails with 125" {
	local q
	q=$(pkit_name g)
	run --separate-stderr pqueue-get -n "$q"
	assert_failure 125
	[[ "$stderr" == *"$q: no such queue"* ]]
}

# closed_out CMD...: CMD with its standard output closed.
closed_out() {
	"$@" >&-
}

@test "pqueue-get: stdout closed: 125, the message stays, the queue stays sound" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" one two three
	# The old tools opened the segment on descriptor 1 and wrote the
	# message over its header: exit 0, the queue "corrupt", all lost.
	run --separate-stderr closed_out pqueue-get "$q"
	assert_failure 125
	[[ "$stderr" == *"stdout: Bad file descriptor"* ]]
	run pqueue-get -c 3 "$q"
	assert_success
	assert_output $'one\ntwo\nthree'
}

@test "pqueue-get: -c with -f names the conflict on one line" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	run --separate-stderr pqueue-get -c 2 -f "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-get: -c and -f cannot be used together"
	assert_equal "$output" ""
	run --separate-stderr pqueue-get -r 2 "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-get: -r needs a command"
}

@test "pqueue-get: -n with -t names the conflict on one line, in either order" {
	local q
	q=$(pkit_name g)
	pqueue-create "$q"
	pqueue-put "$q" a
	run --separate-stderr pqueue-get -n -t 1 "$q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-get: -n and -t cannot be used together"
	assert_equal "$output" ""
	run --separate-stderr pqueue-get -t 0 -n "$q" true
	assert_failure 125
	assert_equal "$stderr" "pqueue-get: -n and -t cannot be used together"
	run pqueue-stat -k "$q"
	assert_line "size=1"
}

@test "pqueue-get: a batch holds at most 64 KiB: messages of 30 KB are leased two at a time" {
	local q m p
	q=$(pkit_name g)
	pqueue-create "$q"
	m=$(head -c 30000 /dev/zero | tr '\0' x)
	pqueue-put "$q" "$m" "$m" "$m" "$m" "$m" "$m" "$m" "$m" "$m" "$m" "$m" "$m"
	# A reader that never reads: the getter blocks on a full pipe with
	# its batch leased.
	mkfifo "$BATS_TEST_TMPDIR/f"
	exec 7<> "$BATS_TEST_TMPDIR/f"
	pqueue-get -c 12 "$q" > "$BATS_TEST_TMPDIR/f" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx inflight=2"
	run pqueue-stat -k "$q"
	assert_line inflight=2
	exec 7<&-
}
