#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-close and pqueue-rm: end of stream, removal, waking waiters.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-close: no operand is a usage error" {
	run pqueue-close
	assert_failure 125
	run pqueue-rm
	assert_failure 125
}

@test "pqueue-close: puts fail with 1, gets drain, then 1" {
	local q
	q=$(pkit_name x)
	pqueue-create "$q"
	pqueue-put "$q" a
	run --separate-stderr pqueue-close "$q"
	assert_success
	assert_output ""
	run pqueue-put "$q" b
	assert_failure 1
	run pqueue-get "$q"
	assert_success
	assert_output a
	run pqueue-get "$q"
	assert_failure 1
	# Closing twice is fine.
	run pqueue-close "$q"
	assert_success
}

@test "pqueue-close: every blocked getter wakes and exits 1" {
	local q p1 p2 s1 s2
	q=$(pkit_name x)
	pqueue-create "$q"
	pqueue-get "$q" & p1=$!
	pqueue-get -f "$q" & p2=$!
	pkit_track "$p1" "$p2"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=2"
	pqueue-close "$q"
	wait "$p1" && s1=0 || s1=$?
	wait "$p2" && s2=0 || s2=$?
	assert_equal "$s1" 1
	assert_equal "$s2" 0
}

@test "pqueue-close: a blocked putter wakes and exits 1" {
	local q p s
	q=$(pkit_name x)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" a
	pqueue-put "$q" b & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_put=1"
	pqueue-close "$q"
	wait "$p" && s=0 || s=$?
	assert_equal "$s" 1
}

@test "pqueue-close: a refused put with stderr closed leaves the queue sound" {
	not_wrapped "valgrind cannot start with its stderr closed"
	local q
	q=$(pkit_name c)
	pqueue-create "$q"
	pqueue-put "$q" kept
	pqueue-close "$q"
	# The old pqueue-put opened the segment on descriptor 2 and wrote
	# its "queue closed" line over the header.
	run sh -c 'pqueue-put "$1" x 2>&-' _ "$q"
	assert_failure 1
	run pqueue-get -n "$q"
	assert_success
	assert_output kept
}

@test "pqueue-rm: removes the queue; later opens say no such queue" {
	local q
	q=$(pkit_name x)
	pqueue-create "$q"
	run --separate-stderr pqueue-rm "$q"
	assert_success
	assert_output ""
	assert_file_not_exists "$PKIT_DIR/queues/$q"
	run --separate-stderr pqueue-get -n "$q"
	assert_failure 125
	[[ "$stderr" == *"no such queue"* ]]
	run pqueue-rm "$q"
	assert_failure 125
}

@test "pqueue-rm: removes every NAME it can, 125 if one failed" {
	local a b
	a=$(pkit_name x)
	b=$(pkit_name x)
	pqueue-create "$a"
	pqueue-create "$b"
	run --separate-stderr pqueue-rm "$a" missing-one "$b"
	assert_failure 125
	[[ "$stderr" == *"missing-one: no such queue"* ]]
	assert_file_not_exists "$PKIT_DIR/queues/$a"
	assert_file_not_exists "$PKIT_DIR/queues/$b"
}

@test "pqueue-rm: blocked waiters wake with 'queue removed' and 125" {
	local q p s
	q=$(pkit_name x)
	pqueue-create "$q"
	pqueue-get "$q" 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	wait_until 5 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	pqueue-rm "$q"
	wait "$p" && s=0 || s=$?
	assert_equal "$s" 125
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output "pqueue-get: $q: queue removed"
}

@test "pqueue-rm: a corrupt or half-made segment of ours is removed" {
	shm_only "segments (Redis: a key not ours is refused; tests/queue/redis.bats)"
	local q
	q=$(pkit_name x)
	pqueue-create "$q"
	head -c 8192 /dev/urandom | dd of="$PKIT_DIR/queues/$q" conv=notrunc status=none
	run pqueue-stat "$q"
	assert_failure 125
	run pqueue-rm "$q"
	assert_success
	assert_file_not_exists "$PKIT_DIR/queues/$q"
	: > "$PKIT_DIR/queues/$q"
	chmod 600 "$PKIT_DIR/queues/$q"
	run pqueue-rm "$q"
	assert_success
	assert_file_not_exists "$PKIT_DIR/queues/$q"
}

@test "pqueue-rm: a path that names no queue is refused and left alone" {
	shm_only "files named by a path"
	local d="$BATS_TEST_TMPDIR/q"
	mkdir "$d"
	echo important > "$d/notes.txt"
	head -c 65536 /dev/zero > "$d/zeros"
	# The old pqueue-rm unlinked any regular file of ours, with exit 0.
	run --separate-stderr pqueue-rm "$d/notes.txt"
	assert_failure 125
	assert_equal "$stderr" "pqueue-rm: $d/notes.txt: not a pqueue segment; refused"
	assert_equal "$(cat "$d/notes.txt")" important
	run pqueue-rm "$d/zeros"
	assert_failure 125
	assert_file_exists "$d/zeros"
	run --separate-stderr pqueue-put "$d/notes.txt" x
	assert_failure 125
	assert_equal "$stderr" "pqueue-put: $d/notes.txt: not a pqueue segment"
	# What a path's queue can be left as is still removed: corrupt past
	# its magic, its magic not yet written (creator killed), or empty.
	pqueue-create "$d/bad"
	head -c 4000 /dev/urandom | dd of="$d/bad" bs=1 seek=64 conv=notrunc status=none
	pqueue-create "$d/half"
	dd if=/dev/zero of="$d/half" bs=8 count=1 conv=notrunc status=none
	run --separate-stderr pqueue-stat "$d/half"
	assert_failure 125
	[[ "$stderr" == *"incomplete queue (its creator died); remove it with pqueue-rm" ]]
	: > "$d/empty"
	pqueue-create "$d/short"
	truncate -s 1000 "$d/short"
	run pqueue-rm "$d/bad" "$d/half" "$d/empty" "$d/short"
	assert_success
	assert_file_not_exists "$d/bad"
	assert_file_not_exists "$d/half"
	assert_file_not_exists "$d/empty"
	assert_file_not_exists "$d/short"
}
