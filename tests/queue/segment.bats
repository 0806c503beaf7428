#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The shared-memory segment: permissions, foreign, corrupt, truncated,
# half-created and symlinked segments are refused with one line and 125.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

# refused Q TEXT: every tool that opens Q fails with 125 (not a crash:
# < 128), one line on stderr containing TEXT.
refused() {
	local t
	for t in "pqueue-put -n $1 x" "pqueue-get -n $1" "pqueue-stat $1" \
	    "pqueue-close $1" "pqueue-done $1" "pqueue-join -t 1 $1"; do
		run --separate-stderr $t
		[ "$status" -eq 125 ] || fail "$t: exit $status, not 125: $stderr"
		[ -z "$output" ] || fail "$t wrote to stdout"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "$t: not one line: $stderr"
		[[ "$stderr" == *"$2"* ]] || fail "$t: '$stderr' lacks '$2'"
	done
}

@test "segment: created 0600, owned by us, fully allocated" {
	local q
	q=$(pkit_name seg)
	pqueue-create "$q"
	run stat -c '%a %u %s' "$PKIT_DIR/queues/$q"
	assert_output --regexp "^600 $(id -u) [0-9]+$"
	# Allocated, not sparse: blocks cover the size.
	run sh -c "stat -c '%b %B %s' $PKIT_DIR/queues/$q | awk '{ exit !(\$1 * \$2 >= \$3) }'"
	assert_success
}

@test "segment: one owned by another user is refused" {
	local q
	q=$(pkit_name seg)
	pqueue-create "$q"
	chown nobody "$PKIT_DIR/queues/$q"
	refused "$q" "owned by uid $(id -u nobody)"
	run pqueue-rm "$q"
	assert_failure 125
	rm -f "$PKIT_DIR/queues/$q"
}

@test "segment: a chown is refused as tampering, even where the mode grants the group" {
	local q
	q=$(pkit_name seg)
	pqueue-create -M 0660 "$q"
	chown nobody:root "$PKIT_DIR/queues/$q"
	# We are in group root and the mode grants it; the header's owner no
	# longer matches the file's, which is refused: chown is tampering.
	# (Group access itself: "-M 0660 shares a queue with its group,
	# 0600 does not", below.)
	refused "$q" "owner changed"
	rm -f "$PKIT_DIR/queues/$q"
}

@test "segment: a world-writable one is refused" {
	local q
	q=$(pkit_name seg)
	pqueue-create "$q"
	chmod 666 "$PKIT_DIR/queues/$q"
	refused "$q" "world-writable"
}

@test "segment: a foreign file of ours under the name is not a queue" {
	local q
	q=$(pkit_name seg)
	queues_dir
	head -c 65536 /dev/urandom > "$PKIT_DIR/queues/$q"
	chmod 600 "$PKIT_DIR/queues/$q"
	refused "$q" "not a pqueue segment"
}

@test "segment: a corrupt header or control block is refused" {
	local q
	q=$(pkit_name seg)
	pqueue-create "$q"
	pqueue-put "$q" a
	# A byte of the header (its checksum catches it).
	printf '\377' | dd of="$PKIT_DIR/queues/$q" bs=1 seek=40 conv=notrunc status=none
	refused "$q" "checksum"
	pqueue-rm "$q"
	pqueue-create "$q"
	pqueue-put "$q" a
	# The control block's state: garbage over both copies.
	head -c 1024 /dev/urandom | dd of="$PKIT_DIR/queues/$q" bs=1 seek=4352 conv=notrunc status=none
	refused "$q" "corrupt"
}

@test "segment: a state that looks corrupt while the lock holder writes it is not refused" {
	local q
	q=$(pkit_name s)
	pqueue-create "$q"
	pqueue-put "$q" m1
	# segpatch -h holds the queue's mutex, makes the current state
	# invalid and puts it back after 500 ms: what a reader without the
	# mutex can see while commits go on (a torn read).  A tool opening
	# the queue must then look again with the mutex, not call it corrupt.
	"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
	    state.inflight_bytes 4611686018427387904 500 > "$BATS_TEST_TMPDIR/held" &
	pkit_track $!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
	run --separate-stderr pqueue-get -n "$q"
	assert_success
	assert_output m1
	wait
	run pqueue-stat -k "$q"
	assert_line "recoveries=0"
}

@test "segment: a corrupt state is refused even while its lock is held" {
	local q
	q=$(pkit_name s)
	pqueue-create "$q"
	pqueue-put "$q" m1
	"$top_builddir/tests/queue/segpatch" "$PKIT_DIR/queues/$q" \
	    state.inflight_bytes 4611686018427387904
	# The lock is held (segpatch -h, setting the field to the value it
	# has) for longer than the open waits for it: the open cannot
	# confirm the state under the lock, and must not take it for sound.
	# The state still reads invalid a second later, so it is refused.
	"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
	    state.inflight_bytes 4611686018427387904 4000 > "$BATS_TEST_TMPDIR/held" &
	pkit_track $!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
	timed_run --separate-stderr pqueue-get -n "$q"
	assert_failure 125
	[[ "$stderr" == *"queue segment corrupt: "* ]]
	[ "$elapsed" -lt 3500 ]
	wait
}

@test "segment: a put or get waiting for a held lock without -t still ends on SIGTERM" {
	local q p t0 st
	q=$(pkit_name s)
	pqueue-create "$q"
	pqueue-put "$q" m1
	# segpatch -h holds the mutex for 4 s (the field set to the value it
	# has).  The old tools slept in pthread_mutex_lock, which goes back
	# to sleep after a signal: the put went in when the lock came free,
	# and exited 0.
	"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
	    state.nmsgs 1 4000 > "$BATS_TEST_TMPDIR/held" &
	pkit_track $!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
	for cmd in "pqueue-put $q m2" "pqueue-get -c 2 $q"; do
		# shellcheck disable=SC2086 # the words of cmd
		$cmd > /dev/null 2>&1 &
		p=$!
		pkit_track "$p"
		_pkit_nap 0.3
		t0=${EPOCHREALTIME//[!0-9]/}
		kill -TERM "$p"
		st=0
		wait "$p" || st=$?
		[ "$st" -eq 143 ] || fail "$cmd: status $st"
		[ $(( ${EPOCHREALTIME//[!0-9]/} - t0 )) -lt 1500000 ] ||
			fail "$cmd: took $(( ${EPOCHREALTIME//[!0-9]/} - t0 )) us"
	done
	wait
	run pqueue-get -c 2 -n "$q"
	assert_failure 124
	assert_output m1
}

@test "segment: a getter signalled while its next get waits to commit the last batch still commits it" {
	shm_only "segpatch holds a segment's mutex"
	strace_ready
	local q s p st
	q=$(pkit_name s)
	pqueue-create "$q"
	pqueue-put "$q" m1 m2
	# strace stops pqueue-get -c 3 right after it wrote m1 and m2; the
	# mutex is then held (segpatch -h, 3 s), and the getter, continued,
	# waits for it to commit them before asking for a third.  SIGTERM
	# then must not drop that commit: the reader has m1 and m2, and a
	# requeue would deliver them twice.
	strace -qq -o /dev/null -e trace=writev -e inject=writev:signal=STOP \
		pqueue-get -c 3 "$q" > "$BATS_TEST_TMPDIR/out" &
	s=$!
	pkit_track "$s"
	wait_until 10 sh -c 'ps -o pid= --ppid "$1" | grep -q .' sh "$s"
	p=$(ps -o pid= --ppid "$s" | head -n 1)
	p=${p// /}
	pkit_track "$p"
	wait_until 10 sh -c 'grep -Eq "^State:[[:space:]]+[tT]" "/proc/$1/status"' sh "$p"
	"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
	    state.nmsgs 0 3000 > "$BATS_TEST_TMPDIR/held" &
	pkit_track $!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
	kill -CONT "$p"
	_pkit_nap 0.3
	kill -TERM "$p"
	st=0
	wait "$s" || st=$?
	[ "$st" -eq 143 ] || fail "status $st"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" $'m1\nm2'
	wait
	run pqueue-stat -k "$q"
	assert_line "size=0"
	assert_line "inflight=0"
}

@test "segment: pqueue-rm while the state looks corrupt still wakes the waiters" {
	local q p st
	q=$(pkit_name s)
	pqueue-create "$q"
	pqueue-get "$q" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	# pqueue-rm reads the state while segpatch holds the mutex with the
	# state made invalid (a torn read): it must still mark the queue
	# removed and wake the getter, which would otherwise wait for ever
	# on a segment no name leads to.
	"$top_builddir/tests/queue/segpatch" -h "$PKIT_DIR/queues/$q" \
	    state.inflight_bytes 4611686018427387904 500 > "$BATS_TEST_TMPDIR/held" &
	pkit_track $!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/held"
	pqueue-rm "$q"
	[ ! -e "$PKIT_DIR/queues/$q" ]
	st=0
	timeout 10 tail --pid="$p" -f /dev/null || st=$?
	[ "$st" -eq 0 ]
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 125 ]
	grep -q "queue removed" "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "segment: a truncated one is refused, not a SIGBUS" {
	local q
	q=$(pkit_name seg)
	pqueue-create "$q"
	truncate -s 65536 "$PKIT_DIR/queues/$q"
	refused "$q" "truncated"
	truncate -s 100 "$PKIT_DIR/queues/$q"
	refused "$q" "truncated"
	truncate -s 0 "$PKIT_DIR/queues/$q"
	refused "$q" "truncated"
}

@test "segment: a half-created one (magic never stored) is refused at once" {
	local q
	q=$(pkit_name seg)
	pqueue-create "$q"
	printf '\0\0\0\0\0\0\0\0' | dd of="$PKIT_DIR/queues/$q" bs=1 seek=0 conv=notrunc status=none
	timed_run --separate-stderr pqueue-get -n "$q"
	assert_failure 125
	[[ "$stderr" == *"incomplete queue"* ]]
	[ "$elapsed" -lt 2000 ]
}

@test "segment: a symbolic link under the name is refused" {
	local q
	q=$(pkit_name seg)
	pqueue-create "$q"
	mv "$PKIT_DIR/queues/$q" "$PKIT_DIR/queues/$q.real"
	ln -s "$q.real" "$PKIT_DIR/queues/$q"
	refused "$q" "symbolic link"
	rm -f "$PKIT_DIR/queues/$q" "$PKIT_DIR/queues/$q.real"
}

@test "segment: -M 0660 shares a queue with its group, 0600 does not" {
	local q r as_member grp
	command -v setpriv > /dev/null || skip "no setpriv"
	# shared by path, in a directory the group can reach (names are
	# per user, in a 0700 runtime directory)
	grp=$(mktemp -d /dev/shm/pkit-grp.XXXXXX)
	chmod 0770 "$grp"
	q=$grp/$(pkit_name seg)
	r=$grp/$(pkit_name seg)
	# Another user whose group is the segment's group (root's).
	as_member="setpriv --reuid=nobody --regid=0 --clear-groups"
	pqueue-create -M 0660 "$q"
	pqueue-create "$r"
	pqueue-put "$q" shared
	run $as_member "$(command -v pqueue-get)" -n "$q"
	assert_success
	assert_output shared
	run $as_member "$(command -v pqueue-put)" "$q" back
	assert_success
	run --separate-stderr $as_member "$(command -v pqueue-get)" -n "$r"
	assert_failure 125
	[[ "$stderr" == *"$r: Permission denied"* ]]
	# Only the owner removes it.
	run $as_member "$(command -v pqueue-rm)" "$q"
	assert_failure 125
	run pqueue-get -n "$q"
	assert_output back
	rm -rf "$grp"
}
