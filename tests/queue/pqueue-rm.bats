#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# pqueue-rm: usage, removal of one or many queues, exit statuses (man
# pqueue-rm(1)), and what happens to processes waiting on a removed queue.
# shellcheck disable=SC2154 # top_srcdir and the like come from helper.bash

load ../helper
bats_require_minimum_version 1.5.0

@test "pqueue-rm: no operand or an unknown option is a usage error, 125" {
	run --separate-stderr pqueue-rm
	assert_failure 125
	[[ "$stderr" == *"usage: pqueue-rm NAME..."* ]]
	[ -z "$output" ]
	run --separate-stderr pqueue-rm -x q
	assert_failure 125
	[[ "$stderr" == *"usage: pqueue-rm NAME..."* ]]
}

@test "pqueue-rm: -h prints the usage on stdout and exits 0" {
	run --separate-stderr pqueue-rm -h
	assert_success
	assert_line --index 0 "usage: pqueue-rm NAME..."
	assert_line "see pqueue-rm(1)"
}

@test "pqueue-rm: removes a queue and its messages, silently; the name is free again" {
	local q
	q=$(pkit_name r)
	pqueue-create "$q"
	pqueue-put "$q" a b c
	run --separate-stderr pqueue-rm "$q"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	run --separate-stderr pqueue-stat "$q"
	assert_failure 125
	[[ "$stderr" == *"$q: no such queue"* ]]
	# A new queue under the same name is a different, empty queue.
	pqueue-create "$q"
	run pqueue-stat -k "$q"
	assert_line "size=0"
	assert_line "puts=0"
}

@test "pqueue-rm: several names; a missing one is 125, named, and the rest are removed" {
	local a b missing
	a=$(pkit_name r)
	b=$(pkit_name r)
	missing=$(pkit_name r)
	pqueue-create "$a"
	pqueue-create "$b"
	run --separate-stderr pqueue-rm "$a" "$missing" "$b"
	assert_failure 125
	[ -z "$output" ]
	[[ "$stderr" == "pqueue-rm: $missing: no such queue" ]]
	run pqueue-stat "$a"
	assert_failure 125
	run pqueue-stat "$b"
	assert_failure 125
}

@test "pqueue-rm: removing a queue twice: the second is 125" {
	local q
	q=$(pkit_name r)
	pqueue-create "$q"
	pqueue-rm "$q"
	run --separate-stderr pqueue-rm "$q"
	assert_failure 125
	[[ "$stderr" == "pqueue-rm: $q: no such queue" ]]
}

@test "pqueue-rm: a getter waiting on the queue wakes and fails with 'queue removed'" {
	local q p st t0 t1
	q=$(pkit_name r)
	pqueue-create "$q"
	pqueue-get "$q" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx waiting_get=1"
	t0=$(date +%s%N)
	pqueue-rm "$q"
	st=0
	wait "$p" || st=$?
	t1=$(date +%s%N)
	[ "$st" -eq 125 ]
	grep -q "queue removed" "$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	# It wakes on the removal, not at some timeout of its own.
	[ $(( (t1 - t0) / 1000000 )) -lt 5000 ]
}

@test "pqueue-rm: a putter waiting on a full queue wakes and fails with 'queue removed'" {
	local q p st
	q=$(pkit_name r)
	pqueue-create -m 1 "$q"
	pqueue-put "$q" a
	pqueue-put "$q" b 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx waiting_put=1"
	pqueue-rm "$q"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 125 ]
	grep -q "queue removed" "$BATS_TEST_TMPDIR/err"
}

@test "pqueue-rm: a joiner waiting on the queue wakes and fails, 125" {
	local q p st
	q=$(pkit_name r)
	pqueue-create "$q"
	pqueue-put "$q" a
	pqueue-join "$q" 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx waiting_join=1"
	pqueue-rm "$q"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 125 ]
	grep -q "queue removed" "$BATS_TEST_TMPDIR/err"
}

@test "pqueue-rm: a getter of a removed queue fails at its commit, though one of the same name was made; the new one keeps its message" {
	local q p st
	q=$(pkit_name r)
	pqueue-create "$q"
	pqueue-put "$q" old
	pqueue-get "$q" sh -c 'cat > /dev/null
		while [ ! -e "$1" ]; do sleep 0.02; done' sh \
	    "$BATS_TEST_TMPDIR/go" 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx inflight=1"
	pqueue-rm "$q"
	pqueue-create "$q"
	pqueue-put "$q" NEW
	touch "$BATS_TEST_TMPDIR/go"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 125 ]
	grep -q "queue removed" "$BATS_TEST_TMPDIR/err"
	run pqueue-stat -k "$q"
	assert_line size=1
	assert_line unfinished=1
	run pqueue-get -n "$q"
	assert_output NEW
}

@test "pqueue-rm: a streaming put into a removed queue fails, though one of the same name was made" {
	local q p st
	q=$(pkit_name r)
	pqueue-create "$q"
	{
		echo a
		while [ ! -e "$BATS_TEST_TMPDIR/go" ]; do sleep 0.02; done
		echo b
	} | pqueue-put "$q" 2> "$BATS_TEST_TMPDIR/err" & p=$!
	pkit_track "$p"
	wait_until 10 sh -c "pqueue-stat -k $q | grep -qx size=1"
	pqueue-rm "$q"
	pqueue-create "$q"
	touch "$BATS_TEST_TMPDIR/go"
	st=0
	wait "$p" || st=$?
	[ "$st" -eq 125 ]
	grep -q "queue removed" "$BATS_TEST_TMPDIR/err"
	run pqueue-stat -k "$q"
	assert_line size=0
	assert_line unfinished=0
}
