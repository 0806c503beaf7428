#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-put: operands and stdin streams, -0, blocking, limits, closed.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-put: no operand is a usage error" {
	run --separate-stderr pqueue-put
	assert_failure 125
	[[ "$stderr" == *"usage: pqueue-put"* ]]
}

@test "pqueue-put: each MSG operand is one message, in order" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	run --separate-stderr pqueue-put "$q" "one two" "" three
	assert_success
	assert_output ""
	run pqueue-get -c 3 "$q"
	assert_output "$(printf 'one two\n\nthree')"
}

@test "pqueue-put: each stdin line is a message, the last even without newline" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	printf 'a\n\nb c\nlast' | pqueue-put "$q"
	run pqueue-stat -k "$q"
	assert_line "size=4"
	run pqueue-get -c 4 "$q"
	assert_output "$(printf 'a\n\nb c\nlast')"
}

@test "pqueue-put: empty stdin puts nothing" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	run pqueue-put "$q" < /dev/null
	assert_success
	run pqueue-stat -k "$q"
	assert_line "size=0"
}

@test "pqueue-put: -0 takes NUL-terminated messages with newlines and spaces" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	printf 'line one\nline two\0 spaced  out \0\0tail' | pqueue-put -0 "$q"
	run pqueue-stat -k "$q"
	assert_line "size=4"
	pqueue-get -0 -c 4 "$q" > "$BATS_TEST_TMPDIR/out"
	printf 'line one\nline two\0 spaced  out \0\0tail\0' > "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/want"
}

@test "pqueue-put: 10000 lines stream in and come out equal" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	seq 10000 | sed 's/$/ some payload/' > "$BATS_TEST_TMPDIR/in"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	pqueue-get -c 10000 "$q" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	run pqueue-get -n "$q"
	assert_failure 124
}

@test "pqueue-put: lines of every length, across blocks and reads, split right; -0 too" {
	local q
	q=$(pkit_name p)
	pqueue-create -s 16777216 "$q"
	# 600 KB: three 256 KiB reads, lines of 0 to 300 bytes (empty ones
	# too), so that ends fall at every place of a 64-byte block and of a
	# read; the last line has no newline.
	python3 -c '
import random, sys
random.seed(20)
out = []
for i in range(13000):
    n = random.choice((0, 1, 15, 16, 63, 64, 65, random.randrange(300)))
    out.append(("%d:" % i + "x" * n)[:n] if n else "")
sys.stdout.write("\n".join(out))' > "$BATS_TEST_TMPDIR/in"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	pqueue-get -c 13000 "$q" > "$BATS_TEST_TMPDIR/out"
	printf '\n' >> "$BATS_TEST_TMPDIR/in"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	tr '\n' '\0' < "$BATS_TEST_TMPDIR/in" | pqueue-put -0 "$q"
	pqueue-get -0 -c 13000 "$q" | tr '\0' '\n' > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	run pqueue-get -n "$q"
	assert_failure 124
}

@test "pqueue-put: a stream much larger than the queue flows through it" {
	local q p
	q=$(pkit_name p)
	pqueue-create -s 4096 "$q"
	seq 200000 > "$BATS_TEST_TMPDIR/in"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in" & p=$!
	pkit_track "$p"
	pqueue-get -c 200000 "$q" > "$BATS_TEST_TMPDIR/out"
	wait "$p" || fail "pqueue-put exited $?"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "pqueue-put: a stream's pipe is grown to 256 KiB, a file is left alone" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	# The producer reports the size of its pipe once pqueue-put has grown
	# it (F_GETPIPE_SZ is 1032), or after 5 s the size it still has.
	python3 -c '
import fcntl, time
end = time.time() + 5
while fcntl.fcntl(1, 1032) < 262144 and time.time() < end:
    time.sleep(0.01)
print(fcntl.fcntl(1, 1032))' | pqueue-put "$q"
	run pqueue-get "$q"
	assert_output 262144
	echo file > "$BATS_TEST_TMPDIR/in"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	run pqueue-get "$q"
	assert_output file
}

@test "pqueue-put: -n on a full queue exits 124 at once and puts nothing" {
	local q
	q=$(pkit_name p)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" first
	timed_run --separate-stderr pqueue-put -n "$q" second
	assert_failure 124
	[ "$elapsed" -lt 3000 ]
	run pqueue-get -c 1 "$q"
	assert_output first
	run pqueue-stat -e "$q"
	assert_success
}

@test "pqueue-put: -t 1 on a full queue waits about a second, then 124" {
	local q
	q=$(pkit_name p)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" first
	timed_run pqueue-put -t 1 "$q" second
	assert_failure 124
	[ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 3000 ]
}

@test "pqueue-put: -t bounds each wait for room, not a whole stream" {
	local q
	q=$(pkit_name p)
	pqueue-create -m 1 "$q"
	(for _ in 1 2 3 4; do sleep 0.5; pqueue-get "$q" > /dev/null; done) &
	pkit_track $!
	timed_run pqueue-put -t 1.5 "$q" 0 1 2 3 4
	assert_success
	[ "$elapsed" -ge 1900 ]
	seq 4 > "$BATS_TEST_TMPDIR/in"
	(for _ in 1 2 3 4; do sleep 0.5; pqueue-get "$q" > /dev/null; done) &
	pkit_track $!
	timed_run pqueue-put -t 1.5 "$q" < "$BATS_TEST_TMPDIR/in"
	assert_success
	[ "$elapsed" -ge 1900 ]
}

@test "pqueue-put: a blocked put goes in as soon as a get makes room" {
	local q p
	q=$(pkit_name p)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" first
	pqueue-put "$q" second &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_put=1"
	run pqueue-get "$q"
	assert_output first
	wait "$p"
	run pqueue-get -n "$q"
	assert_output second
}

@test "pqueue-put: a blocked put goes in as soon as a get drops a done copy" {
	shm_only "Redis drops only a copy delivered before (its get script wakes putters for it)"
	not_wrapped "a bound of 500 ms on a woken put"
	local q p t st t1
	q=$(pkit_name p)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" a
	pqueue-done "$q" 1
	(
		st=0
		pqueue-put -t 5 "$q" b || st=$?
		echo "$st ${EPOCHREALTIME//[!0-9]/}" > "$BATS_TEST_TMPDIR/put"
	) &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_put=1"
	# The get drops the copy of a, done (124: nothing to deliver), and
	# so frees the room the putter waits for.  Before the fix nothing
	# woke it: it went in on its recheck, a second after it began to
	# wait.  500 ms is far from both.
	run pqueue-get -n "$q"
	t=${EPOCHREALTIME//[!0-9]/}
	assert_failure 124
	wait "$p"
	read -r st t1 < "$BATS_TEST_TMPDIR/put"
	[ "$st" -eq 0 ]
	[ $(( t1 - t )) -lt 500000 ] || fail "the put took $(( (t1 - t) / 1000 )) ms more"
	run pqueue-get -n "$q"
	assert_output b
}

@test "pqueue-put: an oversize MSG fails with 125 naming its size; earlier ones stay" {
	local q big
	q=$(pkit_name p)
	pqueue-create -s 256 "$q"
	big=$(printf '%0300d' 0)
	run --separate-stderr pqueue-put "$q" ok "$big" never
	assert_failure 125
	[[ "$stderr" == *"$q: message of 300 bytes is over the limit of 232 bytes"* ]]
	run pqueue-get -c 5 -n "$q"
	assert_failure 124
	assert_output ok
}

@test "pqueue-put: an oversize stdin line fails at once, earlier lines stay" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	{ echo a; echo b; head -c 100000 /dev/zero | tr '\0' x; echo; echo c; } \
		> "$BATS_TEST_TMPDIR/in"
	run --separate-stderr pqueue-put "$q" < "$BATS_TEST_TMPDIR/in"
	assert_failure 125
	[[ "$stderr" == *"message of 100000 bytes is over the limit of 65512 bytes"* ]]
	run pqueue-get -c 3 -n "$q"
	assert_failure 124
	assert_output "$(printf 'a\nb')"
}

@test "pqueue-put: a stream's oversize line says how many messages are stored" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	# Shorter and longer than the tool's 256 KiB read: both ways out.
	{ printf 'a\nb\n'; head -c 100000 /dev/zero | tr '\0' x; } \
		> "$BATS_TEST_TMPDIR/short"
	{ printf 'c\n'; head -c 1500000 /dev/zero | tr '\0' x; } \
		> "$BATS_TEST_TMPDIR/long"
	run --separate-stderr pqueue-put "$q" < "$BATS_TEST_TMPDIR/short"
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: $q: message of 100000 bytes is over \
the limit of 65512 bytes (the first 2 messages of the input are stored, \
the rest may or may not be)"
	run --separate-stderr pqueue-put "$q" < "$BATS_TEST_TMPDIR/long"
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: $q: message of 1500000 bytes is over \
the limit of 65512 bytes (the first 1 messages of the input are stored, \
the rest may or may not be)"
	run pqueue-get -c 4 -n "$q"
	assert_failure 124
	assert_output "$(printf 'a\nb\nc')"
}

@test "pqueue-put: an oversize record that never ends is refused at once; a signal ends the count" {
	local q p st
	q=$(pkit_name p)
	pqueue-create "$q"
	# No delimiter ever: the old pqueue-put counted for ever, and
	# ignored SIGTERM meanwhile.
	run --separate-stderr timeout -k 2 10 pqueue-put "$q" < /dev/zero
	assert_failure 125
	[[ "$stderr" == *"message of more than 67108864 bytes is over the limit of"* ]] || fail "$stderr"
	# A producer that stops mid-record: SIGTERM ends the count with 143
	# (the old one: 125, "message of 70000 bytes").
	{ head -c 70000 /dev/zero; sleep 3; echo; } | pqueue-put "$q" 2> "$BATS_TEST_TMPDIR/err" &
	p=$!
	pkit_track "$p"
	_pkit_nap 0.5
	kill -TERM "$p"		# $!: the pipeline's last, pqueue-put
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 143 ] || fail "status $st: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "pqueue-put: a stdin read error says how many messages are stored" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	run --separate-stderr pqueue-put "$q" < /
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: stdin: Is a directory (the first 0 messages of the input are stored, the rest may or may not be)"
}

@test "pqueue-put: a signal that lands while a stream is copied, not read, ends it" {
	shm_only "the read(2) calls strace counts (on Redis, replies are read too)"
	strace_ready
	local q s p st k
	q=$(pkit_name p)
	pqueue-create "$q"
	# A dry run counts the read(2) calls before the first of stdin (the
	# loader's, a sanitizer's): the one that returns "b" comes two later.
	echo x | strace -o "$BATS_TEST_TMPDIR/dry" -e trace=read pqueue-put "$q"
	pqueue-get "$q" > /dev/null
	k=$(awk '/^read\(0,/ { print NR + 1; exit }' "$BATS_TEST_TMPDIR/dry")
	[ -n "$k" ] || fail "no read of stdin in: $(cat "$BATS_TEST_TMPDIR/dry")"
	mkfifo "$BATS_TEST_TMPDIR/in"
	{ echo a; _pkit_nap 0.3; echo b; exec sleep 30; } > "$BATS_TEST_TMPDIR/in" &
	pkit_track $!
	# That read returns "b" a second late, and SIGTERM comes during that
	# second: the handler runs as the read returns with data, not EINTR.
	# The old pqueue-put put b and went back to an idle producer's pipe,
	# for ever.
	strace -o /dev/null -e trace=read -e inject=read:delay_exit=1000000:when="$k" \
		pqueue-put "$q" < "$BATS_TEST_TMPDIR/in" &
	s=$!
	pkit_track "$s"
	wait_until 5 sh -c 'ps -o pid= --ppid "$1" | grep -q .' sh "$s"
	p=$(ps -o pid= --ppid "$s" | head -n 1)
	pkit_track "$p"
	wait_until 5 sh -c '[ "$(pqueue-stat -k "$1" | sed -n "s/^size=//p")" = 1 ]' sh "$q"
	_pkit_nap 0.5
	kill -TERM "$p"
	st=0
	timeout -k 2 10 tail --pid="$p" -f /dev/null || st=$?
	[ "$st" -eq 0 ] || fail "pqueue-put still runs after SIGTERM"
	wait "$s" || true
	run pqueue-get -c 2 -n "$q"
	assert_failure 124
	assert_output a
}

@test "pqueue-put: a closed queue refuses puts with 1" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	pqueue-close "$q"
	run --separate-stderr pqueue-put "$q" x
	assert_failure 1
	assert_equal "$stderr" "pqueue-put: $q: queue closed"
	run --separate-stderr sh -c "echo x | pqueue-put $q"
	assert_failure 1
	assert_equal "$stderr" "pqueue-put: $q: queue closed (the first 0 \
messages of the input are stored, the rest are not)"
	run pqueue-stat -k "$q"
	assert_line "size=0"
}

@test "pqueue-put: a stream cut short by pqueue-close says how many messages are stored" {
	local q p
	q=$(pkit_name p)
	pqueue-create -m 2 "$q"
	# a and b go in; c waits for room until the close refuses it.
	printf 'a\nb\nc\nd\n' > "$BATS_TEST_TMPDIR/in"
	pqueue-put "$q" < "$BATS_TEST_TMPDIR/in" 2> "$BATS_TEST_TMPDIR/err" &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_put=1"
	pqueue-close "$q"
	# here, not in run's subshell: a put still running when that forks
	# is no child of it (the CI's ASan run read 255)
	local st=0
	wait "$p" || st=$?
	[ "$st" -eq 1 ] || fail "pqueue-put exited $st, not 1"
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output "pqueue-put: $q: queue closed (the first 2 messages of \
the input are stored, the rest are not)"
	run pqueue-get -c 3 "$q"
	assert_failure 1
	assert_output "$(printf 'a\nb')"
}

@test "pqueue-put: a missing queue and bad options fail with 125" {
	local q
	q=$(pkit_name p)
	run --separate-stderr pqueue-put "$q" x
	assert_failure 125
	[[ "$stderr" == *"$q: no such queue"* ]]
	pqueue-create "$q"
	run pqueue-put -t soon "$q" x
	assert_failure 125
	run pqueue-put -Z "$q" x
	assert_failure 125
}

@test "pqueue-put: -n with -t names the conflict on one line, in either order" {
	local q
	q=$(pkit_name p)
	pqueue-create "$q"
	run --separate-stderr pqueue-put -n -t 1 "$q" x
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: -n and -t cannot be used together"
	run --separate-stderr sh -c "echo y | pqueue-put -t 0 -n $q"
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: -n and -t cannot be used together"
	run pqueue-stat -k "$q"
	assert_line "size=0"
}

@test "pqueue-put: SIGTERM while blocked exits 143 and leaves no waiter" {
	local q p s
	q=$(pkit_name p)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" first
	pqueue-put "$q" second &
	p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_put=1"
	kill -TERM "$p"
	wait "$p" && s=0 || s=$?
	assert_equal "$s" 143
	run pqueue-stat -k "$q"
	assert_line "waiting_put=0"
	assert_line "size=1"
}
